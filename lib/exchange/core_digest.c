// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core's check of plain RFC 7616 / RFC 8760 Digest answers, for SIP terminals without GK1
 * (DESIGN §5, mechanism `digest`). Challenges are stateless (a nonce the core can verify, see
 * digest.h); an answer waits in a transaction slot while the AuC supplies HA1, and a wrong one
 * counts towards the same lockout as a wrong GK1 AUTH. No key is delivered: the front pins the
 * terminal to the address it registered from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core_priv.h"
#include "gatekey/runtime/log.h"

#define ALG_LIST_MAX 24

int gk_core_digest_algorithms(const char *list, char out[ALG_LIST_MAX], char *err, size_t errlen)
{
	char buf[128], acc[ALG_LIST_MAX] = "";
	char *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "algorithm list too long");
		return -1;
	}
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		enum gk_digest_alg alg;
		bool sess;
		if (gk_digest_alg_parse(tok, strlen(tok), &alg, &sess) < 0 ||
		    alg == GK_DIGEST_SHA512_256 || !gk_digest_alg_available(alg)) {
			snprintf(err, errlen,
			         "\"%s\": expected MD5, MD5-sess, SHA-256 or SHA-256-sess", tok);
			return -1;
		}
		const char *name = gk_digest_alg_name(alg, sess);
		size_t have = strlen(acc);
		if (snprintf(acc + have, sizeof(acc) - have, "%s%s", have ? "," : "", name) >=
		    (int)(sizeof(acc) - have)) {
			snprintf(err, errlen, "too many algorithms");
			return -1;
		}
	}
	if (!acc[0]) {
		snprintf(err, errlen, "expected at least one algorithm");
		return -1;
	}
	memcpy(out, acc, ALG_LIST_MAX);
	return 0;
}

/* The clock of this core's nonces: milliseconds, so that nonces issued one after the other are
 * told apart by when they were issued (dg_remember's floor), not only by their random part. */
static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Is (alg, sess) one of the algorithms this core offers? */
static bool offered(const struct gk_core *c, enum gk_digest_alg alg, bool sess)
{
	char buf[ALG_LIST_MAX];
	char *save = NULL;

	memcpy(buf, c->cfg.digest_algorithms, sizeof(buf));
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum gk_digest_alg a;
		bool s;
		if (gk_digest_alg_parse(tok, strlen(tok), &a, &s) == 0 && a == alg && s == sess)
			return true;
	}
	return false;
}

static void challenge(struct gk_core *c, uint64_t ref, const char *realm, bool stale)
{
	struct gk_digest ch;

	memset(&ch, 0, sizeof(ch));
	snprintf(ch.realm, sizeof(ch.realm), "%s", realm);
	if (gk_digest_nonce_make(c->nonce_key, wall_ms(), ch.nonce) < 0)
		return core_reject(c, ref, GK_R_INTERNAL);
	strcpy(ch.qop, "auth");
	memcpy(ch.algorithm, c->cfg.digest_algorithms, sizeof(c->cfg.digest_algorithms));
	ch.stale = stale;
	c->st.digest_challenges++;
	c->ops.digest_challenge(c->user, ref, &ch);
}

/* Refused before the AuC is asked: counted, and answered with a fresh challenge. */
static void rechallenge(struct gk_core *c, uint64_t ref, const char *realm, enum gk_reason why)
{
	c->st.reasons.n[why]++;
	challenge(c, ref, realm, false);
}

static uint32_t nc_value(const char *hex)
{
	return hex[0] ? (uint32_t)strtoul(hex, NULL, 16) : 0;
}

/*
 * Replay of Digest answers. Every nonce under which an answer was accepted is remembered with
 * its highest nc for as long as it may be answered, so an answer captured under an older nonce,
 * still valid, cannot be played again from anywhere: under a remembered nonce the count must go
 * up (qop=auth), and without qop a nonce answers once. Room is CORE_DG_NONCES per IDc; the
 * oldest is forgotten, and with it every nonce issued no later (dg_floor_ms), so forgetting never
 * reopens a replay: at worst a UA juggling more nonces at once is challenged again.
 */
static bool dg_replayed(const struct core_rec *rc, const char *nonce, uint32_t nc, bool qop)
{
	uint64_t issued;

	for (unsigned i = 0; i < CORE_DG_NONCES; i++)
		if (strcmp(rc->dg_seen[i].nonce, nonce) == 0)
			return !qop || nc <= rc->dg_seen[i].nc;
	return gk_digest_nonce_issued(nonce, &issued) < 0 || issued < rc->dg_floor_ms;
}

static void dg_remember(struct core_rec *rc, const char *nonce, uint32_t nc)
{
	struct core_dg_seen *slot = NULL;
	uint64_t issued = 0;

	gk_digest_nonce_issued(nonce, &issued);
	for (unsigned i = 0; i < CORE_DG_NONCES && !slot; i++)
		if (strcmp(rc->dg_seen[i].nonce, nonce) == 0)
			slot = &rc->dg_seen[i];
	for (unsigned i = 0; i < CORE_DG_NONCES && !slot; i++)
		if (!rc->dg_seen[i].nonce[0])
			slot = &rc->dg_seen[i];
	if (!slot) {
		slot = &rc->dg_seen[0];
		for (unsigned i = 1; i < CORE_DG_NONCES; i++)
			if (rc->dg_seen[i].issued_ms < slot->issued_ms)
				slot = &rc->dg_seen[i];
		if (slot->issued_ms + 1 > rc->dg_floor_ms)
			rc->dg_floor_ms = slot->issued_ms + 1;
	}
	snprintf(slot->nonce, sizeof(slot->nonce), "%s", nonce);
	slot->nc = nc;
	slot->issued_ms = issued;
}

/* The same credentials as the answer the AuC is being asked about: a retransmission, or a
 * replay racing the original. Either way the first decides; the second must not supersede it. */
static bool same_answer_in_check(struct gk_core *c, const char *idc, const struct gk_digest *cred)
{
	for (struct core_txn *t = core_txn_first(c, idc); t; t = core_txn_next(c, t)) {
		const struct core_dg *d = &c->dgs[t - c->txns];

		if (t->digest && t->state == T_WAIT_VECTOR && strcmp(d->nonce, cred->nonce) == 0 &&
		    strcmp(d->nc_hex, cred->nc) == 0 && strcmp(d->response, cred->response) == 0)
			return true;
	}
	return false;
}

void gk_core_digest(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                    const struct gk_digest *cred, const char *method, const char *address)
{
	uint32_t slot;
	const struct core_rec *rc;
	enum gk_digest_alg alg;
	bool sess;

	if (!c->ops.digest_challenge || !c->ops.digest_success || !c->ops.auc_digest)
		return core_reject(c, ref, GK_R_NO_MECH);
	if (cred && same_answer_in_check(c, idc, cred)) {
		c->st.reasons.n[GK_R_REPLAY_N1]++;
		return; /* the reference is the front's to time out */
	}
	if (!core_admit(c, ref, idc, idsp, address, false)) /* Digest has no key to seal with */
		return;
	/* No record for an IDc until its answers count (core_rec_get): nothing replayed then. */
	slot = gk_idmap_find(c->ids, idc);
	rc = slot ? &c->recs[slot] : NULL;
	if (!cred)
		return challenge(c, ref, idsp, false);
	/* Credentials for another user or realm would be checked against the wrong HA1. */
	if (strcmp(cred->username, idc) != 0 || strcmp(cred->realm, idsp) != 0)
		return rechallenge(c, ref, idsp, GK_R_PARSE_BAD_VALUE);
	const char *a = cred->algorithm[0] ? cred->algorithm : NULL;
	if (gk_digest_alg_parse(a, a ? strlen(a) : 0, &alg, &sess) < 0 || !offered(c, alg, sess))
		return rechallenge(c, ref, idsp, GK_R_NO_MECH);
	if (cred->qop[0] && strcasecmp(cred->qop, "auth") != 0)
		return rechallenge(c, ref, idsp, GK_R_NO_MECH);
	if (!method || !method[0] || strlen(method) >= sizeof(c->dgs[0].method))
		return core_reject(c, ref, GK_R_PARSE_BAD_VALUE);
	int nr = gk_digest_nonce_check(c->nonce_key, cred->nonce, wall_ms(),
	                               (uint64_t)c->cfg.digest_nonce_ttl_s * 1000);
	if (nr < 0 && nr != -ESTALE)
		return rechallenge(c, ref, idsp, GK_R_NO_CHALLENGE); /* not a nonce of ours */
	uint32_t nc = nc_value(cred->nc);
	if (rc && dg_replayed(rc, cred->nonce, nc, cred->qop[0] != 0))
		return rechallenge(c, ref, idsp, GK_R_REPLAY_N1);

	struct core_txn *t = core_txn_alloc(c, idc, address);
	if (!t)
		return core_reject(c, ref, GK_R_OVERLOAD);
	struct core_dg *d = &c->dgs[t - c->txns];
	memset(d, 0, sizeof(*d));
	d->alg = alg;
	d->sess = sess;
	d->stale = nr == -ESTALE;
	d->nc = nc;
	snprintf(d->nonce, sizeof(d->nonce), "%s", cred->nonce);
	snprintf(d->nc_hex, sizeof(d->nc_hex), "%s", cred->nc);
	snprintf(d->cnonce, sizeof(d->cnonce), "%s", cred->cnonce);
	snprintf(d->qop, sizeof(d->qop), "%s", cred->qop);
	snprintf(d->uri, sizeof(d->uri), "%s", cred->uri);
	snprintf(d->response, sizeof(d->response), "%s", cred->response);
	snprintf(d->method, sizeof(d->method), "%s", method);
	snprintf(d->address, sizeof(d->address), "%s", address ? address : "");
	strcpy(t->idsp, idsp);
	t->digest = true;
	t->state = T_WAIT_VECTOR;
	t->ref = ref;
	gk_timer_arm(c->loop, &t->timer, c->cfg.auc_timeout_ms);
	c->ops.auc_digest(c->user, core_txn_handle(c, t), idc, idsp, idsp);
}

void gk_core_auc_ha1(struct gk_core *c, uint32_t handle, const struct gk_auc_ha1 *h)
{
	struct core_txn *t = core_txn_from_handle(c, handle);
	if (!t || t->state != T_WAIT_VECTOR || !t->digest)
		return; /* late: timed out or superseded */
	struct core_dg *d = &c->dgs[t - c->txns];
	uint64_t ref = t->ref;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1];

	/* Copies: freeing the transaction may forget the IDc's group, and its name with it. */
	snprintf(idc, sizeof(idc), "%s", core_txn_idc(c, t));
	strcpy(idsp, t->idsp);
	if (strcmp(h->idc, idc) != 0 || strcmp(h->idsp, idsp) != 0 || strcmp(h->realm, idsp) != 0) {
		core_txn_free(c, t);
		return core_reject(c, ref, GK_R_AUC_REJECT);
	}
	/* The AuC knows the IDc (it gave its HA1): from here on its answers are counted. */
	struct core_rec *rc = core_rec_get(c, idc);
	if (!rc) {
		core_txn_free(c, t);
		return core_reject(c, ref, GK_R_TABLE_FULL);
	}
	const char *ha1 = d->alg == GK_DIGEST_MD5 ? h->md5 : h->sha256;
	bool ok = gk_digest_verify(d->alg, d->sess, ha1, d->nonce, d->nc_hex, d->cnonce,
	                           d->qop[0] ? d->qop : NULL, d->method, d->uri, d->response);
	if (!ok) {
		bool locked = core_failure(c, rc, idc, d->address);
		core_txn_free(c, t);
		if (locked)
			return core_reject(c, ref, GK_R_LOCKED_OUT);
		return challenge(c, ref, idsp, false);
	}
	if (d->stale) {
		/* Right password, old nonce: RFC 7616 §3.3 lets the UA retry without its user. */
		c->st.digest_stale++;
		core_txn_free(c, t);
		return challenge(c, ref, idsp, true);
	}
	/* Checked again now: another answer under this nonce may have won meanwhile. */
	if (dg_replayed(rc, d->nonce, d->nc, d->qop[0] != 0)) {
		c->st.reasons.n[GK_R_REPLAY_N1]++;
		core_txn_free(c, t);
		return challenge(c, ref, idsp, false);
	}
	core_success(c, rc, d->address);
	dg_remember(rc, d->nonce, d->nc);
	char address[GK_TXT_SHORT];
	memcpy(address, d->address, sizeof(address));
	c->st.digest_successes++;
	core_txn_free(c, t);
	core_session_start(c, rc, idc, idsp, address, NULL);
	c->ops.digest_success(c->user, ref);
}
