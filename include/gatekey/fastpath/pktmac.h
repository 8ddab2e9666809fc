/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace side of the gk-mac trailer: sealing outgoing datagrams and verifying incoming ones
 * with the 64-entry sliding replay window. The XDP program (bpf/) makes the same decision.
 */
#ifndef GATEKEY_PKTMAC_H
#define GATEKEY_PKTMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/reason.h"
#include "gatekey/fastpath/trailer.h"

struct gk_replay_window {
	uint64_t top;    /* highest sequence accepted so far; 0 = none yet */
	uint64_t bitmap; /* bit i set: sequence top - i was accepted */
};

/* Append a trailer for (index, seq) under key. buf must have GK_TRAILER_LEN spare bytes after
 * len. Returns the new length or a negative errno. */
int gk_pkt_seal(const uint8_t key[GK_SIPKEY_LEN], uint32_t index, uint64_t seq, uint8_t *buf,
                size_t len, size_t cap);

/*
 * Seal with the next sequence number after *seq (updated), skipping any whose trailer would hold
 * an empty line (two line ends in a row): text readers of MGCP and SIP take what follows an
 * empty line for a body (SDP), so a random tag could make a monitor such as tshark misread a
 * protected datagram. Sequence numbers need only increase; about 1 trailer in 700 is skipped,
 * at most 7 in a row before sealing anyway.
 */
int gk_pkt_seal_next(const uint8_t key[GK_SIPKEY_LEN], uint32_t index, uint64_t *seq, uint8_t *buf,
                     size_t len, size_t cap);
/* The trailer ending buf[0..len) holds no empty line. */
bool gk_pkt_trailer_text_safe(const uint8_t *buf, size_t len);
/* An index whose four bytes hold no empty line (see gk_pkt_seal_next); the registrar never hands
 * out the others (2570, 2573, 3341, ...), since no sequence number could make their trailers
 * safe. */
bool gk_pkt_index_text_safe(uint32_t index);

/* The terminal index from the verified tail XDP leaves on a datagram (trailer.h); -EBADMSG when
 * the last GK_VERIFIED_TAIL_LEN bytes are not one. */
int gk_pkt_peek_tail(const uint8_t *buf, size_t len, uint32_t *index);

/* Read the trailer fields without verifying: for finding the terminal by index. */
int gk_pkt_peek(const uint8_t *buf, size_t len, uint32_t *index, uint64_t *seq);

/* Verify the trailer's tag of buf[0..len) under key, with no replay window: the payload length
 * and the trailer's sequence number in *seq, or -1 with *reason GK_R_BAD_TRAILER or GK_R_BAD_TAG.
 * For receivers whose window is not the fast path's (the core leg's, coreleg.h). */
long gk_pkt_verify(const uint8_t key[GK_SIPKEY_LEN], const uint8_t *buf, size_t len, uint64_t *seq,
                   enum gk_reason *reason);

/* Verify the trailer of buf[0..len) under key against the window; on success updates the window
 * and returns the payload length (trailer stripped). On failure returns -1 and sets *reason to
 * GK_R_BAD_TRAILER, GK_R_BAD_TAG, GK_R_REPLAY_SEQ or GK_R_OLD_SEQ; the window is unchanged. */
long gk_pkt_open(const uint8_t key[GK_SIPKEY_LEN], struct gk_replay_window *w, const uint8_t *buf,
                 size_t len, enum gk_reason *reason);

/* The window check alone (used by gk_pkt_open and mirrored by the XDP program). */
enum gk_reason gk_replay_check(const struct gk_replay_window *w, uint64_t seq);
void gk_replay_update(struct gk_replay_window *w, uint64_t seq);

#endif
