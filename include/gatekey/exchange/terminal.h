/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The terminal side of the exchange (used by gkterm): builds REGISTER and ANSWER, checks the
 * challenge, and on SUCCESS unwraps K with Kc, verifies the response MAC and the echoed
 * mechanism list. Protocol-free, like the registrar.
 */
#ifndef GATEKEY_TERMINAL_H
#define GATEKEY_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>

#include "gatekey/codec/msg.h"
#include "gatekey/fastpath/pktmac.h"

enum gk_term_state {
	GK_TERM_IDLE = 0,
	GK_TERM_WAIT_CHALLENGE,
	GK_TERM_WAIT_SUCCESS,
	GK_TERM_REGISTERED,
	GK_TERM_WAIT_DEREG,
	GK_TERM_FAILED,
};

struct gk_terminal {
	char idc[GK_ID_MAX + 1];
	char idsp[GK_ID_MAX + 1];
	uint8_t kc[GK_KEY_LEN];
	struct gk_mech_offer offer[GK_MECH_MAX];
	uint8_t n_offer;
	uint32_t expires;
	int64_t ts_offset; /* added to the clock: to test skew handling */
	/* With ipsec-3gpp in the offer: this terminal's end (its protected ports, the SPIs it
	 * receives on), sent with the offer. The SUCCESS must echo it unchanged. */
	struct gk_ipsec_end ipsec_own;

	uint8_t state; /* enum gk_term_state */
	uint8_t n1[GK_NONCE_LEN];
	uint8_t n2[GK_NONCE_LEN];
	uint8_t rand[GK_RAND_LEN];
	uint16_t reason;      /* enum gk_reason of a failure */
	uint32_t retry_after; /* reason OVERLOAD: the seconds the network asked to wait, 0: none */
	uint8_t challenges;   /* challenges seen in this attempt */

	/* Once registered. */
	uint8_t chosen;
	uint32_t index;
	uint32_t granted_expires;
	uint8_t k[GK_KEY_LEN];         /* the session key itself, for mechanisms that key from it */
	struct gk_ipsec_end ipsec_net; /* chosen ipsec-3gpp: the element's end, from the SUCCESS */
	struct gk_pkt_keys keys;
	uint64_t seq_up;
	struct gk_replay_window win_down;
	char fpr[GK_FPR_HEX_LEN + 1];
};

/* idc, idsp, kc and offer must be set (and ipsec_own, when the offer names ipsec-3gpp); resets
 * everything else. */
void gk_terminal_reset(struct gk_terminal *t);
/* Fills out (type, fields) for a REGISTER; the caller adds the wire context. */
void gk_terminal_register(struct gk_terminal *t, struct gk_msg *out);
void gk_terminal_deregister(struct gk_terminal *t, struct gk_msg *out);
/*
 * Feeds a response. Returns 1 when out holds the next request to send (ANSWER), 0 when the
 * exchange finished (state REGISTERED, or IDLE after a DEREG_OK), -1 on failure (state FAILED,
 * t->reason says why: a 'forbidden' from the network is REFUSED, its overload refusal
 * OVERLOAD with t->retry_after, a bad MAC BAD_RESPONSE_MAC, a changed list MECH_DOWNGRADE), -2
 * when the message does not belong to the current exchange (ignored). After an OVERLOAD the
 * terminal may start again (gk_terminal_register) once the wait is over (gk_retry_wait_ms).
 */
int gk_terminal_on_message(struct gk_terminal *t, const struct gk_msg *in, struct gk_msg *out);
void gk_terminal_wipe(struct gk_terminal *t);

#endif
