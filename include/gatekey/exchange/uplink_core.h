/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The softswitch's end of the core leg (uplink.h), serving SBCs (claims 9-16): an SBC's request
 * (s2, s8, a Digest REGISTER, a deregistration, a terminal's verified request) is checked, given
 * a relay slot (relay.h) whose reference the core's verdict quotes, and handed to the core; the
 * verdict (challenge, success, reject) goes back to the SBC from that slot, which is then free.
 *
 * The core gives every request it accepts exactly one verdict, also when it drops the request
 * (the AuC timed out, a newer request for the same IDc superseded it); should a verdict not come
 * all the same, the slot expires after ttl_ms and is counted, so that no sequence of requests
 * can hold the slots, and the SBCs' registrations with them, until softswitchd restarts.
 * Lives in lib/ (not softswitchd/) so that the unit tests run the SBCs' requests through the
 * real core.
 */
#ifndef GATEKEY_UPLINK_CORE_H
#define GATEKEY_UPLINK_CORE_H

#include "gatekey/exchange/core.h"
#include "gatekey/exchange/locations.h"
#include "gatekey/exchange/relay.h"

struct gk_uplink_core_stats {
	uint64_t requests; /* from SBCs */
	uint64_t refused;  /* refused before the core saw them: wrong IDsp, incomplete, no slot */
	uint64_t shed;     /* of refused: no slot, answered as overload (sbc_shed in stats) */
	uint64_t resent;   /* requests an SBC sent again, superseding their first copy */
	/* deregistrations an SBC sent again (its acknowledgement lost) or the network
	 * duplicated: acknowledged again, the session not ended twice */
	uint64_t dereg_repeats;
};

/* Deregistrations acknowledged lately, by SBC and core-leg transaction, so that a repeat is
 * acknowledged without reaching the core: a second Stop for one session, or worse, after a
 * refresh, the end of the session that replaced it. Kept longer than an SBC retries one
 * (sbcd: 15.5 s); a direct-mapped cache, where a collision forgets the older entry. */
#define GK_UPLINK_DEREG_SEEN    65536
#define GK_UPLINK_DEREG_SEEN_MS 32000
struct gk_uplink_dereg_seen {
	uint64_t key;      /* SipHash of the SBC's address and the Call-ID; 0: empty */
	uint64_t until_ms; /* loop clock */
};

struct gk_uplink_core {
	struct gk_core *core;
	struct gk_relay *relay;
	/* Sends a verdict (its wire context answers the request) to the SBC at `to`. */
	void (*send)(void *user, struct gk_msg *m, const struct sockaddr_storage *to);
	void *user;
	/* When set, each success verdict records which SBC now holds the terminal (the location
	 * service of requests routed to it, sip_route.h). */
	struct gk_locations *where;
	/* An overload refusal, the core's or for want of a slot, tells the SBC to have its terminal
	 * wait retry_after_s plus 0..retry_jitter_s seconds (registrar.retry_after and
	 * registrar.retry_jitter; init sets the defaults of msg.h). */
	uint32_t retry_after_s, retry_jitter_s;
	struct gk_uplink_core_stats st;
	/* The request being handed to the core, and where from, while it is (see reject). */
	const struct gk_relay_txn *current;
	struct gk_loop *loop;
	struct gk_uplink_dereg_seen *dereg_seen; /* GK_UPLINK_DEREG_SEEN */
	uint8_t name_key[16];
};

/* slots: requests of all SBCs that may wait for the core at once; ttl_ms: how long one may wait
 * (the core decides within its auc_timeout_ms, so a little more than that). 0, or -1 when out
 * of memory. */
int gk_uplink_core_init(struct gk_uplink_core *u, struct gk_core *core, struct gk_loop *loop,
                        uint32_t slots, uint32_t ttl_ms,
                        void (*send)(void *user, struct gk_msg *m,
                                     const struct sockaddr_storage *to),
                        void *user);
void gk_uplink_core_fini(struct gk_uplink_core *u);

/* A request from the SBC whose ID is sbc_id (fixed by the address it sends from): an SBC
 * speaks only for itself. */
void gk_uplink_core_request(struct gk_uplink_core *u, const char *sbc_id, const struct gk_msg *m,
                            const struct sockaddr_storage *from);

/* The core's verdicts on references with GK_REF_PEER (gk_direct_ops' peer_* callbacks). */
void gk_uplink_core_challenge(struct gk_uplink_core *u, uint64_t ref,
                              const uint8_t rand[GK_RAND_LEN]);
void gk_uplink_core_success(struct gk_uplink_core *u, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                            const uint8_t blob_terminal[GK_BLOB_LEN],
                            const uint8_t blob_element[GK_BLOB_LEN]);
/* Any refusal, superseded requests included: the SBC hears "forbidden", the core counted why;
 * but an overload (GK_R_OVERLOAD) is said as such, with a Retry-After for the terminal. */
void gk_uplink_core_reject(struct gk_uplink_core *u, uint64_t ref, enum gk_reason why);
void gk_uplink_core_digest_challenge(struct gk_uplink_core *u, uint64_t ref,
                                     const struct gk_digest *chal);
void gk_uplink_core_digest_success(struct gk_uplink_core *u, uint64_t ref);

#endif
