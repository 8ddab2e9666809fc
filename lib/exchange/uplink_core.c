// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch's end of the core leg (uplink_core.h): SBCs' requests into the core, and its
 * verdicts back out of the relay slot that waited for them.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/siphash.h"
#include "gatekey/exchange/uplink.h"
#include "gatekey/exchange/uplink_core.h"

int gk_uplink_core_init(struct gk_uplink_core *u, struct gk_core *core, struct gk_loop *loop,
                        uint32_t slots, uint32_t ttl_ms,
                        void (*send)(void *user, struct gk_msg *m,
                                     const struct sockaddr_storage *to),
                        void *user)
{
	memset(u, 0, sizeof(*u));
	u->core = core;
	u->send = send;
	u->user = user;
	u->retry_after_s = GK_RETRY_AFTER_DEFAULT_S;
	u->retry_jitter_s = GK_RETRY_JITTER_DEFAULT_S;
	u->loop = loop;
	u->relay = gk_relay_new(loop, slots, ttl_ms, "sbc_relay");
	/* calloc'ed pages cost nothing until a deregistration lands on them */
	u->dereg_seen = calloc(GK_UPLINK_DEREG_SEEN, sizeof(*u->dereg_seen));
	if (!u->relay || !u->dereg_seen || gk_random(u->name_key, sizeof(u->name_key)) < 0) {
		gk_uplink_core_fini(u);
		return -1;
	}
	return 0;
}

void gk_uplink_core_fini(struct gk_uplink_core *u)
{
	gk_relay_free(u->relay);
	u->relay = NULL;
	free(u->dereg_seen);
	u->dereg_seen = NULL;
}

/* The SBC's family, port and address into in[0..20), zero-padded: what the keys below start
 * with. */
enum { PEER_LEN = 20 };
static void put_peer(uint8_t *in, const struct sockaddr_storage *from)
{
	memset(in, 0, PEER_LEN);
	in[0] = (uint8_t)from->ss_family;
	if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
		memcpy(in + 2, &a->sin6_port, 2);
		memcpy(in + 4, &a->sin6_addr, 16);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;
		memcpy(in + 2, &a->sin_port, 2);
		memcpy(in + 4, &a->sin_addr, 4);
	}
}

/* The core's name for the SBC's attempt m belongs to (gk_core_register): the SBC and its
 * core-leg Call-ID, which names the attempt there (its front's reference) and is the same on
 * every copy it sends again. 0 without a Call-ID: every copy is then an attempt of its own. */
static uint64_t attempt_of(const struct gk_uplink_core *u, const struct gk_msg *m,
                           const struct sockaddr_storage *from)
{
	const char *call_id = gk_sip_get(&m->wire.sip, GK_SIP_CALL_ID);
	size_t clen = strnlen(call_id, GK_TXT_SHORT);
	uint8_t in[PEER_LEN + GK_TXT_SHORT];

	if (!clen)
		return 0;
	put_peer(in, from);
	memcpy(in + PEER_LEN, call_id, clen);
	return gk_siphash64(u->name_key, in, PEER_LEN + clen) | 1;
}

/* True when this deregistration (same SBC, same core-leg transaction) was acknowledged lately;
 * else it is remembered now. */
static bool dereg_repeat(struct gk_uplink_core *u, const struct gk_msg *m,
                         const struct sockaddr_storage *from)
{
	const char *call_id = gk_sip_get(&m->wire.sip, GK_SIP_CALL_ID);
	/* the SBC, then what the notice says: a collision of transaction names can only ever
	 * swallow an identical notice */
	uint8_t in[PEER_LEN + GK_RAND_LEN + GK_ID_MAX + 1 + GK_TXT_SHORT];
	size_t n = 0, idlen = strnlen(m->idc, GK_ID_MAX), clen = strnlen(call_id, GK_TXT_SHORT);
	uint64_t now = gk_loop_now(u->loop);

	if (!clen)
		return false; /* nothing names the transaction: every copy goes to the core */
	memset(in, 0, sizeof(in));
	put_peer(in, from);
	n = PEER_LEN;
	if (m->fields & GK_F_RAND)
		memcpy(in + n, m->rand, GK_RAND_LEN);
	n += GK_RAND_LEN;
	memcpy(in + n, m->idc, idlen);
	n += idlen + 1;
	memcpy(in + n, call_id, clen);
	n += clen;
	uint64_t key = gk_siphash64(u->name_key, in, n) | 1;
	struct gk_uplink_dereg_seen *e = &u->dereg_seen[key % GK_UPLINK_DEREG_SEEN];
	if (e->key == key && e->until_ms > now)
		return true;
	e->key = key;
	e->until_ms = now + GK_UPLINK_DEREG_SEEN_MS;
	return false;
}

/* The slot waiting under ref, with the verdict of `type` on its request built in resp; NULL when
 * the reference is stale (answered already, or expired). */
static struct gk_relay_txn *verdict(struct gk_uplink_core *u, uint64_t ref, enum gk_msg_type type,
                                    const uint8_t *rand, const uint8_t *bt, const uint8_t *be,
                                    struct gk_msg *resp)
{
	struct gk_relay_txn *t = gk_relay_take(u->relay, ref);
	if (t)
		gk_uplink_verdict(resp, &t->req, type, rand, bt, be);
	return t;
}

/* Sends the verdict back to the SBC the request came from; the slot is free after. */
static void send_verdict(struct gk_uplink_core *u, struct gk_relay_txn *t, struct gk_msg *resp)
{
	u->send(u->user, resp, &t->from);
	gk_wipe(resp, offsetof(struct gk_msg, wire));
	gk_relay_release(u->relay, t);
}

/* The terminal of a successful registration is reached through the SBC that asked. */
static void located(struct gk_uplink_core *u, const struct gk_relay_txn *t)
{
	if (u->where)
		gk_locations_set(u->where, t->req.idc, &t->from);
}

void gk_uplink_core_challenge(struct gk_uplink_core *u, uint64_t ref,
                              const uint8_t rand[GK_RAND_LEN])
{
	struct gk_msg resp;
	struct gk_relay_txn *t = verdict(u, ref, GK_MSG_CHALLENGE, rand, NULL, NULL, &resp);
	if (t)
		send_verdict(u, t, &resp);
}

void gk_uplink_core_success(struct gk_uplink_core *u, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                            const uint8_t blob_terminal[GK_BLOB_LEN],
                            const uint8_t blob_element[GK_BLOB_LEN])
{
	struct gk_msg resp;
	struct gk_relay_txn *t =
	    verdict(u, ref, GK_MSG_SUCCESS, rand, blob_terminal, blob_element, &resp);
	if (t) {
		located(u, t);
		send_verdict(u, t, &resp);
	}
}

/* Makes resp the overload refusal, which the SBC passes on to its terminal as its protocol's
 * (gk_uplink_refusal). */
static void overload(const struct gk_uplink_core *u, struct gk_msg *resp)
{
	resp->reason = GK_R_OVERLOAD;
	resp->retry_after = gk_retry_after_pick(u->retry_after_s, u->retry_jitter_s);
}

/* Whether t is an earlier copy of the request being handed to the core now: the same SBC, the
 * same core-leg transaction (its Call-ID carries the SBC front's reference). */
static bool earlier_copy(const struct gk_uplink_core *u, const struct gk_relay_txn *t)
{
	const struct gk_relay_txn *now = u->current;
	const char *id = now ? gk_sip_get(&now->req.wire.sip, GK_SIP_CALL_ID) : "";

	return now && now != t && id[0] && gk_sockaddr_equal(&now->from, &t->from) &&
	       strcmp(id, gk_sip_get(&t->req.wire.sip, GK_SIP_CALL_ID)) == 0;
}

void gk_uplink_core_reject(struct gk_uplink_core *u, uint64_t ref, enum gk_reason why)
{
	struct gk_msg resp;
	struct gk_relay_txn *t = verdict(u, ref, GK_MSG_REJECT, NULL, NULL, NULL, &resp);
	if (!t)
		return;
	if (why == GK_R_SUPERSEDED && earlier_copy(u, t)) {
		/* The SBC sent the request again, because its terminal retransmitted while the
		 * verdict was lost or not there yet: the new copy answers the same registration
		 * there, so the first is let go without a word, where a refusal would refuse it. */
		u->st.resent++;
		gk_wipe(&resp, offsetof(struct gk_msg, wire));
		gk_relay_release(u->relay, t);
		return;
	}
	/* counted by the core; the wire says only "forbidden", or that the core cannot decide now
	 * (overloaded, or the AuC did not answer): come back later */
	if (gk_reason_is_temporary(why))
		overload(u, &resp);
	send_verdict(u, t, &resp);
}

void gk_uplink_core_digest_challenge(struct gk_uplink_core *u, uint64_t ref,
                                     const struct gk_digest *chal)
{
	struct gk_msg resp;
	struct gk_relay_txn *t = verdict(u, ref, GK_MSG_CHALLENGE, NULL, NULL, NULL, &resp);
	if (!t)
		return;
	resp.digest = *chal;
	resp.fields |= GK_F_DIGEST_CHAL;
	send_verdict(u, t, &resp);
}

void gk_uplink_core_digest_success(struct gk_uplink_core *u, uint64_t ref)
{
	struct gk_msg resp;
	struct gk_relay_txn *t = verdict(u, ref, GK_MSG_SUCCESS, NULL, NULL, NULL, &resp);
	if (!t)
		return;
	resp.chosen = GK_MECH_DIGEST;
	resp.fields |= GK_F_CHOSEN;
	located(u, t);
	send_verdict(u, t, &resp);
}

/* Answers m at once, without the core; an overload refusal when shed. */
static void answer_now(struct gk_uplink_core *u, const struct gk_msg *m,
                       const struct sockaddr_storage *to, enum gk_msg_type type, bool shed)
{
	struct gk_msg resp;
	gk_uplink_verdict(&resp, m, type, NULL, NULL, NULL);
	if (shed)
		overload(u, &resp);
	u->send(u->user, &resp, to);
}

void gk_uplink_core_request(struct gk_uplink_core *u, const char *sbc_id, const struct gk_msg *m,
                            const struct sockaddr_storage *from)
{
	const char *addr = (m->fields & GK_F_ADDR) ? m->address : "-";
	/* The SBC's word that it verified the terminal's gk-mac trailer: an authenticated peer's
	 * (the core leg is MACed per datagram), never a terminal's, which reaches the core only
	 * through its front. */
	bool sealed = (m->fields & GK_F_SEALED) != 0;
	uint64_t ref;

	u->st.requests++;
	/* An SBC speaks only for itself: its IDsp is fixed by where it sends from. */
	if (strcmp(m->idsp, sbc_id) != 0 ||
	    (m->type == GK_MSG_ANSWER &&
	     (m->fields & (GK_F_RAND | GK_F_AUTH)) != (GK_F_RAND | GK_F_AUTH))) {
		u->st.refused++;
		answer_now(u, m, from, GK_MSG_REJECT, false);
		return;
	}
	if (m->type == GK_MSG_DEREGISTER) {
		if (dereg_repeat(u, m, from))
			u->st.dereg_repeats++;
		else
			gk_core_unbound(u->core, m->idc, m->idsp, addr,
			                (m->fields & GK_F_RAND) ? m->rand : NULL);
		answer_now(u, m, from, GK_MSG_DEREG_OK, false);
		return;
	}
	if (m->type == GK_MSG_OTHER) {
		/* A request of a terminal the SBC verified (gk-mac) or pinned. The SBC relays only
		 * the bindings' probes (OPTIONS, and the keep-alives NTFY, Notify and RRQ under
		 * their own names), which the softswitch answers; it has no call control yet, so
		 * anything else is refused, never answered 200. */
		static const char *const probes[] = {"OPTIONS", "NTFY", "Notify", "RRQ"};
		bool probe = false;

		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			probe |= strcmp(m->wire.sip.method, probes[i]) == 0;
		if (!probe)
			u->st.refused++;
		answer_now(u, m, from, probe ? GK_MSG_OTHER_OK : GK_MSG_REJECT, false);
		return;
	}
	/* No slot: shed before the core or the AuC does any work for it, and say so. */
	struct gk_relay_txn *t = gk_relay_alloc(u->relay, &ref);
	if (!t) {
		u->st.refused++;
		u->st.shed++;
		answer_now(u, m, from, GK_MSG_REJECT, true);
		return;
	}
	gk_msg_copy(&t->req, m);
	t->from = *from;
	t->index = 0;
	u->current = t;
	/* The core may answer inside these calls: t is not touched after them. */
	if (gk_uplink_is_digest(m))
		gk_core_digest(u->core, ref, m->idc, m->idsp,
		               (m->fields & GK_F_DIGEST) ? &m->digest : NULL, "REGISTER", addr);
	else if (m->type == GK_MSG_REGISTER)
		gk_core_register(u->core, ref, m->idc, m->idsp,
		                 (m->fields & GK_F_ADDR) ? m->address : "-", sealed,
		                 attempt_of(u, m, from));
	else
		gk_core_answer(u->core, ref, m->idc, m->idsp, m->rand, m->auth, addr, sealed,
		               attempt_of(u, m, from));
	u->current = NULL;
}
