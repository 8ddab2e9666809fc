/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Admission of new registrations that follows the SBC's queue depth. Under overload a
 * registration sbcd takes in but cannot finish in time costs everybody: it is parsed, relayed,
 * and then retransmitted by its terminal on top of the new ones, until nothing completes. So
 * sbcd measures, every GK_ADMISSION_TICK_MS, how full its queues are (the access sockets'
 * receive queues, registrations in progress, relayed requests waiting) and sets the share of
 * strangers' registration-class datagrams the fast path drops before they cost it anything
 * (gk_fp_shed in fastpath.h, in XDP and in userspace alike): it raises the share quickly while
 * the queues are deep and gives it back slowly once they drain, which keeps what is admitted
 * near what the elements complete. Refreshes of registered addresses are never shed; a shed
 * terminal retransmits, and the ones sbcd does take in and cannot keep still hear its
 * protocol's overload answer with a Retry-After.
 */
#ifndef GATEKEY_ADMISSION_H
#define GATEKEY_ADMISSION_H

#include <stdint.h>

#define GK_ADMISSION_TICK_MS 20
/* Depths in permille of a queue's capacity. HIGH is half: an access socket's 8 MiB holds some
 * 4,000 datagrams, so half of it is about a tenth of a second of sbcd's work, well inside the
 * half second after which terminals retransmit (SIP T1), and a closed-loop burst of a few
 * thousand registrations in flight stays below it. At HIGH and above the share shed rises (by a
 * quarter of the way to MAX, at least STEP_UP); below LOW it falls by STEP_DOWN a tick, so
 * from MAX to nothing in about two seconds. MAX stays short of all: some strangers always
 * reach sbcd, which answers what it cannot serve with a Retry-After. */
#define GK_ADMISSION_HIGH      500
#define GK_ADMISSION_LOW       150
#define GK_ADMISSION_MAX       950
#define GK_ADMISSION_STEP_UP   50
#define GK_ADMISSION_STEP_DOWN 10

struct gk_admission {
	uint32_t shed;  /* permille of strangers' registrations dropped now (gk_fp_config.shed) */
	uint32_t depth; /* the deepest queue at the last tick, permille */
	uint64_t raised, lowered; /* ticks that changed shed */
};

/* used of capacity, in permille (1000 when full or over; 0 for capacity 0). */
uint32_t gk_admission_depth(uint64_t used, uint64_t capacity);
/* One tick with the deepest of the queues at depth permille: returns the new a->shed. */
uint32_t gk_admission_step(struct gk_admission *a, uint32_t depth);

#endif
