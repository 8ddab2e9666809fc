/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tables that grow in steps up to their configured maximum (issue 16: memory that fits the load).
 *
 * A table sized from the configuration (max_terminals, max_pending, ...) used to be allocated and
 * made resident whole at start-up, so an idle softswitchd held 1.7 GiB. A gk_steps table reserves
 * address space for its maximum at once (MAP_NORESERVE: no memory, no commit charge under the
 * default overcommit policy) and makes it resident in steps: a first step at creation, then each
 * step doubles what is resident, until the maximum. So:
 * - Entries never move. A pointer to an entry, or its index, stays valid across growth; a lookup
 *   is the same array index as before, O(1), with no check on the hot path.
 * - A table grows at most log2(max / first) times, each step in one madvise(MADV_POPULATE_WRITE)
 *   over the new part (runtime/resident.h): the pages a step adds are resident before the entry
 *   that needed them is used, so a registration pays no page fault, as when the whole table was
 *   resident from the start. A step costs what zeroing its pages costs: 1-2 ms per 8 MiB for
 *   steps up to 80 MiB on the benchmark machine, more per MiB for larger ones
 *   (docs/performance.md). Growth happens when the table's owner runs out of room (a free list is
 *   empty, an index is past what is resident), never per message.
 * - A step is prepared before it is needed: once a table is half full, the loop that owns it
 *   makes the next step's pages resident a little at a time (gk_steps_prepare, about 1 MiB every
 *   10 ms), so that the step itself, when the table fills, finds them resident and takes no
 *   time. Taking a whole step at once held the loop for the time it takes to zero it: 100-300 ms
 *   for the 79-156 MiB steps of sbcd's and softswitchd's records and registrations in progress
 *   at 12,600 registrations/s (docs/performance.md), every request queued behind it.
 * - Growth stops at the maximum: past it the owner refuses as it always did (its reason code and
 *   counter). Memory the kernel cannot give is a refusal too, counted here (failed) and logged
 *   once per table, instead of an out-of-memory kill in the middle of a registration storm.
 * - Everything outside the resident part reads as zeros, as calloc'ed memory did: a stray read
 *   past it finds an empty entry.
 * - gk_steps_free wipes what was resident before unmapping it: tables hold session keys.
 *
 * A table over memory mapped by someone else (the binding store's tmpfs file) uses
 * gk_steps_attach: the same steps, without the reservation or the unmapping. A table of buffers of
 * which only the start is used as a rule (the loop's datagram buffers, runtime/loop.c) makes only
 * the first resident_size bytes of each entry resident (gk_steps_init_opts).
 *
 * The growth is accounted for (issue 16's soak tells a table's step towards its maximum from a
 * leak): every live table of the process is listed (gk_steps_each) under a stable snake_case key,
 * with what is resident, its maximum, the steps taken and its peak: the most entries its owner
 * needed at once (gk_steps_need; gk_steps_reach counts as needing what it reaches). A step is
 * explained when the peak is past what was resident before it; each daemon's "stats" prints them
 * as tables.<key>.* (gk_ctl_tables, runtime/control.h).
 */
#ifndef GATEKEY_STEPS_H
#define GATEKEY_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key's room: lower-case letters, digits and '_', at most GK_STEPS_KEY_MAX - 1 of them. */
#define GK_STEPS_KEY_MAX 48

struct gk_steps {
	uint8_t *base;        /* entry i at base + i * size, for i < max */
	size_t size;          /* bytes per entry */
	size_t resident_size; /* bytes of each entry a step makes resident, from its start */
	size_t map_len;       /* bytes reserved (0 when attached) */
	uint32_t max;         /* entries that may ever be resident */
	uint32_t cap;         /* entries [0, cap) are in use by the owner, and resident */
	uint32_t ready;       /* entries [0, ready) are resident: cap, or past it when prepared */
	uint32_t first;       /* entries of the first step */
	uint32_t grows;       /* steps taken after the first */
	uint32_t failed;      /* steps refused for want of memory */
	uint32_t peak;        /* most entries needed at once: gk_steps_need, gk_steps_reach */
	bool populate; /* each step made resident at once (false: pages fault in on first use) */
	bool live;     /* listed for gk_steps_each */
	char key[GK_STEPS_KEY_MAX]; /* the stats' name, and what the log says */
	const void *thread;         /* the thread that made it: only it prepares its steps */
	struct gk_steps *live_prev, *live_next;
};

/* How a table of buffers is made resident. */
struct gk_steps_opts {
	size_t resident_size; /* bytes of each entry made resident, from its start; 0: all */
	bool lazy;            /* steps are not populated: pages fault in on first use */
};

/* Reserves max entries of size bytes and makes the first step resident (first is clamped to
 * 1..max). key (copied) names the table in the stats and the log. Returns 0, -EINVAL for no
 * entries, a size that overflows or a key that is not snake_case, -ENOMEM when the reservation or
 * the first step fails. */
int gk_steps_init(struct gk_steps *t, const char *key, uint32_t max, size_t size, uint32_t first);

/* The same, made resident as opts says (NULL: as gk_steps_init). A table whose entries are
 * resident in part is not wiped when freed: its buffers hold datagrams, not state, and the wipe
 * would fault in every page of them. */
int gk_steps_init_opts(struct gk_steps *t, const char *key, uint32_t max, size_t size,
                       uint32_t first, const struct gk_steps_opts *opts);

/* The same over [base, base + max * size), mapped and unmapped by the caller: the steps make its
 * pages resident, freeing only wipes what they made resident. */
int gk_steps_attach(struct gk_steps *t, const char *key, void *base, uint32_t max, size_t size,
                    uint32_t first);

/* One step: doubles what is resident, up to max. Returns the index of the first entry it added
 * (the old cap, never 0), or 0 when the table is at max or the memory cannot be had. */
uint32_t gk_steps_grow(struct gk_steps *t);

/* Grows until entries [0, n) are resident, and counts n as needed (peak). 0, or -ENOSPC when n is
 * over max (nothing grows), or -ENOMEM (what did grow stays). */
int gk_steps_reach(struct gk_steps *t, uint32_t n);

/* Wipes the resident part, unmaps the reservation (not an attached mapping), zeroes *t. */
void gk_steps_free(struct gk_steps *t);

/* Ends an attached table without the wipe, zeroes *t: the mapping and what it holds stay its
 * owner's (the binding store's file keeps its bindings for the next run). */
void gk_steps_detach(struct gk_steps *t);

/* Makes part of the next step of this thread's half-full tables resident, at most about budget
 * bytes in all (at least one entry of one table). Returns the bytes made resident; 0 when
 * nothing was due. The loop calls it between batches (runtime/loop.c). */
size_t gk_steps_prepare(size_t budget);

/* Calls fn for every live table of the process, oldest first, under a lock that init and free
 * take too: fn must not create or free a table. */
void gk_steps_each(void (*fn)(const struct gk_steps *t, void *arg), void *arg);

/* The owner needed entries [0, n) at once: n entries in use (counting any it never hands out,
 * such as entry 0), or an index n - 1 to hold. The peak of it is what justifies the steps. */
static inline void gk_steps_need(struct gk_steps *t, uint32_t n)
{
	if (n > t->peak)
		t->peak = n > t->max ? t->max : n;
}

static inline void *gk_steps_at(const struct gk_steps *t, uint32_t i)
{
	return t->base + (size_t)i * t->size;
}

/* What cap becomes with the next step: for a table that grows alongside another. */
static inline uint32_t gk_steps_next(const struct gk_steps *t)
{
	return t->cap > t->max - t->cap ? t->max : 2 * t->cap;
}

/* Bytes resident now (ready entries: the steps taken and what is prepared of the next), and at
 * the maximum. */
static inline uint64_t gk_steps_bytes(const struct gk_steps *t)
{
	return (uint64_t)t->ready * t->resident_size;
}
static inline uint64_t gk_steps_max_bytes(const struct gk_steps *t)
{
	return (uint64_t)t->max * t->resident_size;
}

#endif
