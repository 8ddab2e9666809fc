// SPDX-License-Identifier: GPL-2.0-only
/*
 * The terminal's state machine (terminal.h), with no protocol in it: gkterm drives it with
 * decoded messages and encodes what it returns. It trusts nothing it did not ask for: a challenge
 * must echo its latest N1, and a SUCCESS must carry a MAC over the IDs it expects and echo its
 * mechanism list exactly, so a downgraded or redirected registration fails here.
 */
#include <string.h>
#include <time.h>

#include "gatekey/codec/codec.h"
#include "gatekey/exchange/terminal.h"

static uint64_t term_now(const struct gk_terminal *t)
{
	return (uint64_t)((int64_t)time(NULL) + t->ts_offset);
}

void gk_terminal_reset(struct gk_terminal *t)
{
	gk_wipe(&t->keys, sizeof(t->keys));
	gk_wipe(t->k, sizeof(t->k));
	t->state = GK_TERM_IDLE;
	t->reason = GK_R_OK;
	t->retry_after = 0;
	t->challenges = 0;
	t->chosen = GK_MECH_NONE;
	memset(&t->ipsec_net, 0, sizeof(t->ipsec_net));
	t->index = 0;
	t->seq_up = 0;
	memset(&t->win_down, 0, sizeof(t->win_down));
	t->fpr[0] = '\0';
}

static void base(struct gk_terminal *t, struct gk_msg *out, enum gk_msg_type type)
{
	memset(out, 0, offsetof(struct gk_msg, wire));
	out->type = (uint8_t)type;
	memcpy(out->idc, t->idc, sizeof(out->idc));
	memcpy(out->idsp, t->idsp, sizeof(out->idsp));
	out->ts = term_now(t);
	out->fields = GK_F_TS;
}

void gk_terminal_register(struct gk_terminal *t, struct gk_msg *out)
{
	gk_terminal_reset(t);
	base(t, out, GK_MSG_REGISTER);
	gk_random(t->n1, GK_NONCE_LEN);
	memcpy(out->n1, t->n1, GK_NONCE_LEN);
	out->fields |= GK_F_N1;
	if (t->expires) {
		out->expires = t->expires;
		out->fields |= GK_F_EXPIRES;
	}
	t->state = GK_TERM_WAIT_CHALLENGE;
}

void gk_terminal_deregister(struct gk_terminal *t, struct gk_msg *out)
{
	base(t, out, GK_MSG_DEREGISTER);
	out->expires = 0;
	out->fields |= GK_F_EXPIRES;
	t->state = GK_TERM_WAIT_DEREG;
}

static int fail(struct gk_terminal *t, enum gk_reason why)
{
	t->state = GK_TERM_FAILED;
	t->reason = (uint16_t)why;
	gk_wipe(&t->keys, sizeof(t->keys));
	gk_wipe(t->k, sizeof(t->k));
	return -1;
}

/* Whether the offer names ipsec-3gpp (with a preference above 0) and we have an end that can
 * carry SAs: the answer then carries our end, and the SUCCESS must echo it. Offered without one,
 * it is only a name the element passes over. */
static bool offers_ipsec(const struct gk_terminal *t)
{
	if (!gk_ipsec_end_ok(&t->ipsec_own))
		return false;
	for (unsigned i = 0; i < t->n_offer && i < GK_MECH_MAX; i++)
		if (t->offer[i].mech == GK_MECH_IPSEC && t->offer[i].q > 0)
			return true;
	return false;
}

static int on_challenge(struct gk_terminal *t, const struct gk_msg *in, struct gk_msg *out)
{
	const uint32_t need = GK_F_N1 | GK_F_N2 | GK_F_RAND;

	if ((in->fields & need) != need)
		return -2;
	/* The challenge must answer our latest request; anything else is stale or forged. */
	if (!gk_ct_equal(in->n1, t->n1, GK_NONCE_LEN))
		return -2;
	if (++t->challenges > 8)
		return fail(t, GK_R_REFUSED);
	memcpy(t->rand, in->rand, GK_RAND_LEN);
	memcpy(t->n2, in->n2, GK_NONCE_LEN);

	base(t, out, GK_MSG_ANSWER);
	gk_random(t->n1, GK_NONCE_LEN); /* N1' */
	memcpy(out->n1, t->n1, GK_NONCE_LEN);
	memcpy(out->n2, t->n2, GK_NONCE_LEN);
	memcpy(out->rand, t->rand, GK_RAND_LEN);
	if (gk_auth_compute(t->kc, t->rand, t->idc, out->auth) < 0)
		return fail(t, GK_R_INTERNAL);
	memcpy(out->mechs, t->offer, sizeof(out->mechs));
	out->n_mechs = t->n_offer;
	out->fields |= GK_F_N1 | GK_F_N2 | GK_F_RAND | GK_F_AUTH | GK_F_MECHS;
	if (offers_ipsec(t)) {
		out->ipsec_term = t->ipsec_own;
		out->fields |= GK_F_IPSEC_TERM;
	}
	if (t->expires) {
		out->expires = t->expires;
		out->fields |= GK_F_EXPIRES;
	}
	t->state = GK_TERM_WAIT_SUCCESS;
	return 1;
}

static int on_success(struct gk_terminal *t, const struct gk_msg *in)
{
	const uint32_t need =
	    GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_CHOSEN | GK_F_MECHS | GK_F_MAC;
	uint8_t k[GK_KEY_LEN], canon[GK_CANON_MAX];
	struct gk_msg copy;
	int n;

	if ((in->fields & need) != need)
		return fail(t, GK_R_PARSE_MISSING);
	if (!gk_ct_equal(in->n1, t->n1, GK_NONCE_LEN))
		return -2;
	if (gk_key_unwrap(t->kc, in->blob, t->idc, t->idsp, t->rand, GK_ROLE_TERMINAL, k) < 0)
		return fail(t, GK_R_UNWRAP_FAILED);

	/* The MAC covers what we received, but with the IDs we expect: a success for another
	 * terminal or element must not verify. */
	gk_msg_copy(&copy, in); /* the wire context too: RAS MACs the received bytes */
	memcpy(copy.idc, t->idc, sizeof(copy.idc));
	memcpy(copy.idsp, t->idsp, sizeof(copy.idsp));
	n = gk_codec_success_canonical(&copy, canon, sizeof(canon));
	if (n < 0 || gk_response_mac_verify(k, canon, (size_t)n, in->mac) < 0) {
		gk_wipe(k, sizeof(k));
		return fail(t, GK_R_BAD_RESPONSE_MAC);
	}
	/* Downgrade check: the network must echo exactly the list we offered, and must have
	 * picked one of our mechanisms. */
	bool same = in->n_mechs == t->n_offer;
	for (unsigned i = 0; same && i < t->n_offer; i++)
		same = in->mechs[i].mech == t->offer[i].mech && in->mechs[i].q == t->offer[i].q;
	bool offered = false;
	for (unsigned i = 0; i < t->n_offer; i++)
		offered |= t->offer[i].mech == in->chosen && t->offer[i].q > 0;
	if (!same || !offered) {
		gk_wipe(k, sizeof(k));
		return fail(t, GK_R_MECH_DOWNGRADE);
	}
	/* Our ipsec-3gpp end must come back as we sent it: rewritten or removed on the way up, it
	 * would have set up SAs we do not have, or taken ipsec-3gpp out of the element's choice
	 * while the list still named it. */
	if (offers_ipsec(t) && !((in->fields & GK_F_IPSEC_TERM) &&
	                         gk_ipsec_end_equal(&in->ipsec_term, &t->ipsec_own))) {
		gk_wipe(k, sizeof(k));
		return fail(t, GK_R_MECH_DOWNGRADE);
	}
	/* Nor one that nothing enforces (tls), though we may offer it: registered under it, our
	 * signalling would travel unprotected while we believed otherwise. ipsec-3gpp we enforce
	 * ourselves, with the SAs the two ends set up: the element's end must be one. */
	bool ipsec = in->chosen == GK_MECH_IPSEC && (in->fields & GK_F_IPSEC_NET) &&
	             gk_ipsec_end_ok(&in->ipsec_net);
	if (!gk_mech_enforced(in->chosen) && !ipsec) {
		gk_wipe(k, sizeof(k));
		return fail(t, GK_R_NO_MECH);
	}
	if (in->chosen == GK_MECH_GKMAC && !(in->fields & GK_F_INDEX && in->index)) {
		gk_wipe(k, sizeof(k));
		return fail(t, GK_R_PARSE_MISSING);
	}

	t->chosen = in->chosen;
	t->index = in->index;
	if (ipsec)
		t->ipsec_net = in->ipsec_net;
	t->granted_expires = (in->fields & GK_F_EXPIRES) ? in->expires : 0;
	gk_pkt_keys_derive(k, &t->keys);
	gk_fingerprint(k, t->fpr);
	memcpy(t->k, k, sizeof(t->k));
	gk_wipe(k, sizeof(k));
	t->seq_up = 0;
	memset(&t->win_down, 0, sizeof(t->win_down));
	t->state = GK_TERM_REGISTERED;
	return 0;
}

/* The network's refusal: "forbidden", or overloaded with the wait it asks for. */
static int refused(struct gk_terminal *t, const struct gk_msg *in)
{
	if (in->reason != GK_R_OVERLOAD)
		return fail(t, GK_R_REFUSED);
	fail(t, GK_R_OVERLOAD);
	t->retry_after = in->retry_after;
	return -1;
}

int gk_terminal_on_message(struct gk_terminal *t, const struct gk_msg *in, struct gk_msg *out)
{
	switch (t->state) {
	case GK_TERM_WAIT_CHALLENGE:
		if (in->type == GK_MSG_CHALLENGE)
			return on_challenge(t, in, out);
		if (in->type == GK_MSG_REJECT)
			return refused(t, in);
		return -2;
	case GK_TERM_WAIT_SUCCESS:
		if (in->type == GK_MSG_CHALLENGE)
			return on_challenge(t, in,
			                    out); /* our answer was wrong: a fresh challenge */
		if (in->type == GK_MSG_SUCCESS)
			return on_success(t, in);
		if (in->type == GK_MSG_REJECT)
			return refused(t, in);
		return -2;
	case GK_TERM_WAIT_DEREG:
		if (in->type == GK_MSG_DEREG_OK) {
			gk_terminal_reset(t);
			return 0;
		}
		return -2;
	default:
		return -2;
	}
}

void gk_terminal_wipe(struct gk_terminal *t)
{
	gk_wipe(t, sizeof(*t));
}
