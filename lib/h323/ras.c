// SPDX-License-Identifier: GPL-2.0-only
/*
 * H.225.0 RAS PDUs in X.691 ALIGNED PER (see include/gatekey/h323/ras.h, docs/bindings-h323.md).
 * The ASN.1 is H323-MESSAGES (H.225.0 v7, 12/2009) and H235-SECURITY-MESSAGES (H.235.0, 09/2005);
 * the comments name the components in their order.
 */
#include <errno.h>
#include <string.h>

#include "gatekey/h323/ras.h"

#define RAS_ROOT  25 /* RasMessage root alternatives */
#define LIST_MAX  32 /* SEQUENCE OF elements we accept */
#define DEPTH_MAX 8  /* nesting of recursive types (AliasAddress in Content, ...) */

/*
 * Extension additions. The bitmap of an extensible SEQUENCE has one bit for every extension
 * addition of the type, present or not (X.691 18.7, 18.8), so the encoder needs the number each
 * type has in the version we follow: here they are counted after the "..." of H323-MESSAGES
 * (H.225.0 v7) and H235-SECURITY-MESSAGES (H.235.0 09/2005), neither of which has an extension
 * addition group; the comments list them in order, (*) where gatekey writes or reads them. A
 * decoder takes any number (gk_per_ext_next): an addition past these is a later version's.
 */
#define EXT_MAX 32 /* the encoder's ext[]: at least the most any type below has */
static const struct {
	uint8_t n;   /* extension additions */
	uint8_t tok; /* tokens; cryptoTokens follows it */
} pdu_ext[GK_RAS_UCF + 1] = {
    /* alternateEndpoints tokens* cryptoTokens* authenticationCapability algorithmOIDs integrity
     * integrityCheckValue supportsAltGK featureSet genericData supportsAssignedGK*
     * assignedGatekeeper */
    [GK_RAS_GRQ] = {12, 1},
    /* alternateGatekeeper authenticationMode tokens* cryptoTokens* algorithmOID integrity
     * integrityCheckValue featureSet genericData assignedGatekeeper rehomingModel */
    [GK_RAS_GCF] = {11, 2},
    /* altGKInfo tokens* cryptoTokens* integrityCheckValue featureSet genericData */
    [GK_RAS_GRJ] = {6, 1},
    /* alternateEndpoints timeToLive* tokens* cryptoTokens* integrityCheckValue keepAlive*
     * endpointIdentifier* willSupplyUUIEs* maintainConnection* alternateTransportAddresses
     * additiveRegistration terminalAliasPattern supportsAltGK usageReportingCapability
     * multipleCalls supportedH248Packages callCreditCapability capacityReportingCapability
     * capacity featureSet genericData restart supportsACFSequences supportsAssignedGK*
     * assignedGatekeeper transportQOS language */
    [GK_RAS_RRQ] = {27, 2},
    /* alternateGatekeeper timeToLive* tokens* cryptoTokens* integrityCheckValue
     * willRespondToIRR* preGrantedARQ maintainConnection* serviceControl
     * supportsAdditiveRegistration terminalAliasPattern supportedPrefixes usageSpec
     * featureServerAlias capacityReportingSpec featureSet genericData assignedGatekeeper
     * rehomingModel transportQOS */
    [GK_RAS_RCF] = {20, 2},
    /* altGKInfo tokens* cryptoTokens* integrityCheckValue featureSet genericData
     * assignedGatekeeper */
    [GK_RAS_RRJ] = {7, 1},
    /* alternateEndpoints gatekeeperIdentifier* tokens* cryptoTokens* integrityCheckValue reason
     * endpointAliasPattern supportedPrefixes alternateGatekeeper genericData assignedGatekeeper */
    [GK_RAS_URQ] = {11, 2},
    /* tokens* cryptoTokens* integrityCheckValue genericData assignedGatekeeper */
    [GK_RAS_UCF] = {5, 0},
};
/* The other additions gatekey writes or reads, by index (the BOOLEANs without OPTIONAL are
 * mandatory: present whenever the extension bit is set). */
enum {
	GRQ_ASSIGNED_GK = 10,
	RRQ_TTL = 1,
	RRQ_KEEP_ALIVE = 5,
	RRQ_EPID = 6,
	RRQ_UUIES = 7,
	RRQ_MAINTAIN = 8,
	RRQ_ASSIGNED_GK = 23,
	RCF_TTL = 1,
	RCF_IRR = 5,
	RCF_MAINTAIN = 7,
	URQ_GKID = 1,
};
/* ClearToken: eckasdhkey sendersID* h235Key* profileInfo*; Params: iv16* iv* clearSalt */
#define TOKEN_EXT  4
#define PARAMS_EXT 3

/* ================================ encoder ================================================== */

static void put_taddr(struct gk_per_w *w, const struct gk_ras_taddr *a)
{
	if (a->family == 6) {
		gk_per_put_choice(w, 3, 7, true); /* ip6Address */
		gk_per_put_bool(w, false);        /* extension bit */
		gk_per_put_octets(w, a->ip, 16, 16, 16);
		gk_per_put_cons(w, a->port, 0, 65535);
	} else if (a->family == 4) {
		gk_per_put_choice(w, 0, 7, true); /* ipAddress */
		gk_per_put_octets(w, a->ip, 4, 4, 4);
		gk_per_put_cons(w, a->port, 0, 65535);
	} else {
		w->err = w->err ? w->err : -EINVAL;
	}
}

static void put_taddr_list(struct gk_per_w *w, const struct gk_ras_taddr *a)
{
	gk_per_put_len(w, a->family ? 1 : 0, 0, GK_PER_UNBOUNDED);
	if (a->family)
		put_taddr(w, a);
}

static void put_alias_list(struct gk_per_w *w, const char *h323id)
{
	gk_per_put_len(w, 1, 0, GK_PER_UNBOUNDED);
	gk_per_put_choice(w, 1, 2, true); /* h323-ID */
	gk_per_put_bmp(w, h323id, 1, 256);
}

/* EndpointType of a terminal: {terminal {}, mc FALSE, undefinedNode FALSE}. */
static void put_endpoint_type(struct gk_per_w *w)
{
	gk_per_put_bool(w, false);   /* extension bit */
	gk_per_put_bits(w, 0x01, 6); /* nonStandardData vendor gatekeeper gateway mcu TERMINAL */
	gk_per_put_bool(w, false);   /* terminal: extension bit */
	gk_per_put_bool(w, false);   /* terminal: nonStandardData absent */
	gk_per_put_bool(w, false);   /* mc */
	gk_per_put_bool(w, false);   /* undefinedNode */
}

static void put_vendor(struct gk_per_w *w)
{
	gk_per_put_bool(w, false);           /* extension bit */
	gk_per_put_bits(w, 0x3, 2);          /* productId, versionId present */
	gk_per_put_bool(w, false);           /* H221NonStandard extension bit */
	gk_per_put_cons(w, 0xb5, 0, 255);    /* t35CountryCode: 181, United States (the vendor of */
	gk_per_put_cons(w, 0, 0, 255);       /* t35Extension      documentation examples)        */
	gk_per_put_cons(w, 32473, 0, 65535); /* manufacturerCode: the documentation PEN */
	gk_per_put_octets(w, (const uint8_t *)"gatekey", 7, 1, 256);
	gk_per_put_octets(w, (const uint8_t *)"gk1", 3, 1, 256);
}

static void put_empty_params(struct gk_per_w *w)
{
	gk_per_put_bool(w, false); /* extension bit */
	gk_per_put_bits(w, 0, 2);  /* ranInt, iv8 absent */
}

static void put_token(struct gk_per_w *w, const struct gk_ras_token *t)
{
	bool ext[TOKEN_EXT] = {false, !!(t->has & GK_RAS_T_SENDERS), !!(t->has & GK_RAS_T_KEY),
	                       !!(t->has & GK_RAS_T_PROFILE)};
	bool has_ext = ext[1] || ext[2] || ext[3];

	gk_per_put_bool(w, has_ext);
	/* timeStamp password dhkey challenge random certificate generalID nonStandard */
	gk_per_put_bool(w, t->has & GK_RAS_T_TS);
	gk_per_put_bits(w, 0, 2);
	gk_per_put_bool(w, t->has & GK_RAS_T_CHALLENGE);
	gk_per_put_bool(w, t->has & GK_RAS_T_RANDOM);
	gk_per_put_bool(w, false);
	gk_per_put_bool(w, t->has & GK_RAS_T_GENERAL);
	gk_per_put_bool(w, false);
	gk_per_put_oid(w, &t->oid);
	if (t->has & GK_RAS_T_TS)
		gk_per_put_cons(w, t->ts, 1, 4294967295u);
	if (t->has & GK_RAS_T_CHALLENGE)
		gk_per_put_octets(w, t->challenge, t->challenge_len, 8, 128);
	if (t->has & GK_RAS_T_RANDOM)
		gk_per_put_int(w, t->random);
	if (t->has & GK_RAS_T_GENERAL)
		gk_per_put_bmp(w, t->general, 1, 128);
	if (!has_ext)
		return;
	gk_per_put_ext_bitmap(w, ext, TOKEN_EXT); /* eckasdhkey sendersID h235Key profileInfo */
	if (ext[1]) {
		size_t m = gk_per_open_begin(w);
		gk_per_put_bmp(w, t->senders, 1, 128);
		gk_per_open_end(w, m);
	}
	if (ext[2]) {
		size_t m = gk_per_open_begin(w);
		gk_per_put_choice_ext(w, 0); /* H235Key: secureSharedSecret */
		size_t m2 = gk_per_open_begin(w);
		/* V3KeySyncMaterial: extension bit; generalID algorithmOID encryptedSessionKey
		 * encryptedSaltingKey clearSaltingKey paramSsalt keyDerivationOID */
		gk_per_put_bool(w, false);
		gk_per_put_bool(w, t->key_gid[0] != '\0');
		gk_per_put_bool(w, true);
		gk_per_put_bool(w, true);
		gk_per_put_bits(w, 0, 4);
		if (t->key_gid[0])
			gk_per_put_bmp(w, t->key_gid, 1, 128);
		gk_per_put_oid(w, &t->key_alg);
		/* paramS: Params {extension bit 1; ranInt, iv8 absent; additions: iv} */
		gk_per_put_bool(w, true);
		gk_per_put_bits(w, 0, 2);
		gk_per_put_ext_bitmap(w, (const bool[PARAMS_EXT]){false, true, false}, PARAMS_EXT);
		size_t m3 = gk_per_open_begin(w);
		gk_per_put_octets(w, t->key_iv, t->key_iv_len, 0, GK_PER_UNBOUNDED);
		gk_per_open_end(w, m3);
		gk_per_put_octets(w, t->key_ct, t->key_ct_len, 0, GK_PER_UNBOUNDED);
		gk_per_open_end(w, m2);
		gk_per_open_end(w, m);
	}
	if (ext[3]) {
		size_t m = gk_per_open_begin(w);
		gk_per_put_len(w, t->n_prof, 0, GK_PER_UNBOUNDED);
		for (unsigned i = 0; i < t->n_prof; i++) {
			gk_per_put_bool(w, false);              /* extension bit */
			gk_per_put_bool(w, false);              /* paramS */
			gk_per_put_bool(w, t->prof[i].has_int); /* element */
			gk_per_put_cons(w, t->prof[i].id, 0, 255);
			if (t->prof[i].has_int) {
				gk_per_put_choice(w, 1, 5, true); /* Element: integer */
				gk_per_put_int(w, t->prof[i].v);
			}
		}
		gk_per_open_end(w, m);
	}
}

static void put_tokens(struct gk_per_w *w, const struct gk_ras_pdu *p)
{
	size_t m = gk_per_open_begin(w);
	gk_per_put_len(w, p->n_tokens, 0, GK_PER_UNBOUNDED);
	for (unsigned i = 0; i < p->n_tokens; i++)
		put_token(w, &p->tokens[i]);
	gk_per_open_end(w, m);
}

static void put_hashed(struct gk_per_w *w, const struct gk_ras_pdu *p)
{
	size_t m = gk_per_open_begin(w);
	gk_per_put_len(w, p->n_hashed, 0, GK_PER_UNBOUNDED);
	for (unsigned i = 0; i < p->n_hashed; i++) {
		const struct gk_ras_hashed *h = &p->hashed[i];
		struct gk_ras_token vals = {.oid = h->oid};
		gk_per_put_choice(w, 7, 8, true); /* CryptoH323Token: nestedcryptoToken */
		gk_per_put_choice(w, 2, 4, true); /* CryptoToken: cryptoHashedToken */
		gk_per_put_oid(w, &h->oid);       /* tokenOID */
		put_token(w, &vals);              /* hashedVals */
		gk_per_put_oid(w, &h->alg);       /* token HASHED: algorithmOID, paramS, hash */
		put_empty_params(w);
		gk_per_put_bitstr(w, h->hash, h->hash_bits, 0, GK_PER_UNBOUNDED);
	}
	gk_per_open_end(w, m);
}

static void put_bool_open(struct gk_per_w *w, bool v)
{
	size_t m = gk_per_open_begin(w);
	gk_per_put_bool(w, v);
	gk_per_open_end(w, m);
}

static void put_reason(struct gk_per_w *w, unsigned reason, unsigned n_root)
{
	if (reason < n_root) {
		gk_per_put_choice(w, reason, n_root, true);
	} else {
		gk_per_put_choice_ext(w, reason - n_root);
		size_t m = gk_per_open_begin(w); /* NULL: an empty encoding */
		gk_per_open_end(w, m);
	}
}

static bool any(const bool *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (b[i])
			return true;
	return false;
}

int gk_ras_pdu_encode(const struct gk_ras_pdu *p, uint8_t *buf, size_t cap)
{
	struct gk_per_w w;
	bool ext[EXT_MAX] = {false};
	unsigned n, tok;

	gk_per_w_init(&w, buf, cap);
	if (p->n_tokens > GK_RAS_TOKEN_MAX || p->n_hashed > GK_RAS_HASHED_MAX)
		return -EINVAL;
	if (p->type > GK_RAS_UCF)
		return -EINVAL;
	n = pdu_ext[p->type].n, tok = pdu_ext[p->type].tok;
	ext[tok] = p->n_tokens, ext[tok + 1] = p->n_hashed;
	switch (p->type) {
	case GK_RAS_GRQ:
		ext[GRQ_ASSIGNED_GK] = true; /* mandatory */
		break;
	case GK_RAS_RRQ:
		ext[RRQ_TTL] = p->has_ttl, ext[RRQ_EPID] = p->has_epid;
		ext[RRQ_KEEP_ALIVE] = ext[RRQ_UUIES] = ext[RRQ_MAINTAIN] = ext[RRQ_ASSIGNED_GK] =
		    true; /* mandatory */
		break;
	case GK_RAS_RCF:
		ext[RCF_TTL] = p->has_ttl;
		ext[RCF_IRR] = ext[RCF_MAINTAIN] = true; /* mandatory */
		break;
	case GK_RAS_URQ:
		ext[URQ_GKID] = p->has_gkid;
		break;
	}
	gk_per_put_choice(&w, p->type, RAS_ROOT, true);
	gk_per_put_bool(&w, any(ext, n)); /* extension bit */

	switch (p->type) {
	case GK_RAS_GRQ:
		/* nonStandardData gatekeeperIdentifier callServices endpointAlias */
		gk_per_put_bits(&w, (p->has_gkid ? 4 : 0) | (p->has_alias ? 1 : 0), 4);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		put_taddr(&w, &p->ras);
		put_endpoint_type(&w);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		if (p->has_alias)
			put_alias_list(&w, p->alias);
		break;
	case GK_RAS_GCF:
		gk_per_put_bits(&w, p->has_gkid ? 1 : 0,
		                2); /* nonStandardData gatekeeperIdentifier */
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		put_taddr(&w, &p->ras);
		break;
	case GK_RAS_GRJ:
		gk_per_put_bits(&w, p->has_gkid ? 1 : 0, 2);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		if (p->reason == 7)
			return -EINVAL; /* securityError carries a value we do not send */
		put_reason(&w, p->reason, 4);
		break;
	case GK_RAS_RRQ:
		/* nonStandardData terminalAlias gatekeeperIdentifier */
		gk_per_put_bits(&w, (p->has_alias ? 2 : 0) | (p->has_gkid ? 1 : 0), 3);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		gk_per_put_bool(&w, true); /* discoveryComplete */
		put_taddr_list(&w, &p->csa);
		put_taddr_list(&w, &p->ras);
		put_endpoint_type(&w);
		if (p->has_alias)
			put_alias_list(&w, p->alias);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		put_vendor(&w);
		break;
	case GK_RAS_RCF:
		gk_per_put_bits(&w, (p->has_alias ? 2 : 0) | (p->has_gkid ? 1 : 0), 3);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		put_taddr_list(&w, &p->csa);
		if (p->has_alias)
			put_alias_list(&w, p->alias);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		gk_per_put_bmp(&w, p->has_epid ? p->epid : "", 1, 128);
		break;
	case GK_RAS_RRJ:
		gk_per_put_bits(&w, p->has_gkid ? 1 : 0, 2);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		gk_per_put_oid(&w, &p->proto);
		/* duplicateAlias, invalidTerminalAliases, securityError: alternatives with values
		 * we do not send (every other one is NULL) */
		if (p->reason == 4 || p->reason == 14 || p->reason == 17)
			return -EINVAL;
		put_reason(&w, p->reason, 8);
		if (p->has_gkid)
			gk_per_put_bmp(&w, p->gkid, 1, 128);
		break;
	case GK_RAS_URQ:
		/* endpointAlias nonStandardData endpointIdentifier */
		gk_per_put_bits(&w, (p->has_alias ? 4 : 0) | (p->has_epid ? 1 : 0), 3);
		gk_per_put_cons(&w, p->seq, 1, 65535);
		put_taddr_list(&w, &p->csa);
		if (p->has_alias)
			put_alias_list(&w, p->alias);
		if (p->has_epid)
			gk_per_put_bmp(&w, p->epid, 1, 128);
		break;
	case GK_RAS_UCF:
		gk_per_put_bool(&w, false); /* nonStandardData */
		gk_per_put_cons(&w, p->seq, 1, 65535);
		break;
	}

	if (any(ext, n)) {
		gk_per_put_ext_bitmap(&w, ext, n);
		for (unsigned i = 0; i < n; i++) {
			if (!ext[i])
				continue;
			if (i == tok) {
				put_tokens(&w, p);
			} else if (i == tok + 1) {
				put_hashed(&w, p);
			} else if ((p->type == GK_RAS_RRQ && i == RRQ_TTL) ||
			           (p->type == GK_RAS_RCF && i == RCF_TTL)) {
				size_t m = gk_per_open_begin(&w);
				gk_per_put_cons(&w, p->ttl, 1, 4294967295u);
				gk_per_open_end(&w, m);
			} else if (p->type == GK_RAS_RRQ && i == RRQ_KEEP_ALIVE) {
				put_bool_open(&w, p->keep_alive);
			} else if ((p->type == GK_RAS_RRQ && i == RRQ_EPID) ||
			           (p->type == GK_RAS_URQ && i == URQ_GKID)) {
				size_t m = gk_per_open_begin(&w);
				gk_per_put_bmp(&w, p->type == GK_RAS_RRQ ? p->epid : p->gkid, 1,
				               128);
				gk_per_open_end(&w, m);
			} else {
				put_bool_open(&w, false); /* the other mandatory BOOLEANs */
			}
		}
	}
	gk_per_align(&w);
	if (w.err)
		return w.err;
	if (w.bit == 0)
		return -EINVAL;
	return (int)gk_per_w_octets(&w);
}

/* ================================ decoder ================================================== */

static void sub_done(struct gk_per_r *r, const struct gk_per_r *sub)
{
	if (sub->err)
		gk_per_fail(r, (enum gk_reason)sub->err);
}

static void skip_h221(struct gk_per_r *r)
{
	bool ext = gk_per_get_bool(r);
	gk_per_get_cons(r, 0, 255);
	gk_per_get_cons(r, 0, 255);
	gk_per_get_cons(r, 0, 65535);
	gk_per_skip_ext(r, ext);
}

/* H.225 NonStandardParameter {NonStandardIdentifier CHOICE {object, h221NonStandard, ...},
 * data OCTET STRING} */
static void skip_nsp(struct gk_per_r *r)
{
	struct gk_oid o;
	unsigned c = gk_per_get_choice(r, 2, true);
	if (c == 0)
		gk_per_get_oid(r, &o);
	else if (c == 1)
		skip_h221(r);
	else
		gk_per_skip_open(r);
	gk_per_get_octets(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
}

static size_t get_count(struct gk_per_r *r)
{
	size_t n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
	if (n > LIST_MAX)
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
	return r->err ? 0 : n;
}

static void get_taddr(struct gk_per_r *r, struct gk_ras_taddr *a)
{
	struct gk_ras_taddr t = {0};
	unsigned c = gk_per_get_choice(r, 7, true);
	bool ext;

	switch (c) {
	case 0: /* ipAddress {ip OCTET STRING (4), port} */
		t.family = 4;
		gk_per_get_octets(r, t.ip, 4, 4, 4, NULL);
		t.port = (uint16_t)gk_per_get_cons(r, 0, 65535);
		break;
	case 1: /* ipSourceRoute {ip, port, route SEQUENCE OF (4), routing CHOICE, ...} */
		ext = gk_per_get_bool(r);
		t.family = 4;
		gk_per_get_octets(r, t.ip, 4, 4, 4, NULL);
		t.port = (uint16_t)gk_per_get_cons(r, 0, 65535);
		for (size_t i = 0, n = get_count(r); i < n && !r->err; i++)
			gk_per_get_octets(r, NULL, 0, 4, 4, NULL);
		if (gk_per_get_choice(r, 2, true) >= 2)
			gk_per_skip_open(r);
		gk_per_skip_ext(r, ext);
		break;
	case 2: /* ipxAddress {node (6), netnum (4), port (2)} */
		gk_per_get_octets(r, NULL, 0, 6, 6, NULL);
		gk_per_get_octets(r, NULL, 0, 4, 4, NULL);
		gk_per_get_octets(r, NULL, 0, 2, 2, NULL);
		break;
	case 3: /* ip6Address {ip (16), port, ...} */
		ext = gk_per_get_bool(r);
		t.family = 6;
		gk_per_get_octets(r, t.ip, 16, 16, 16, NULL);
		t.port = (uint16_t)gk_per_get_cons(r, 0, 65535);
		gk_per_skip_ext(r, ext);
		break;
	case 4: /* netBios (16) */
		gk_per_get_octets(r, NULL, 0, 16, 16, NULL);
		break;
	case 5: /* nsap (1..20) */
		gk_per_get_octets(r, NULL, 0, 1, 20, NULL);
		break;
	case 6:
		skip_nsp(r);
		break;
	default:
		gk_per_skip_open(r);
		break;
	}
	if (a && !a->family && t.family && !r->err)
		*a = t;
}

static void get_taddr_list(struct gk_per_r *r, struct gk_ras_taddr *a)
{
	for (size_t i = 0, n = get_count(r); i < n && !r->err; i++)
		get_taddr(r, a);
}

/* SEQUENCE OF AliasAddress: the first h323-ID into out. */
static void get_alias_list(struct gk_per_r *r, char *out, bool *has)
{
	size_t n = get_count(r);
	if (!r->err && n == 0)
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE); /* SIZE(1..) by H.225 rules: an empty list */
	for (size_t i = 0; i < n && !r->err; i++) {
		unsigned c = gk_per_get_choice(r, 2, true);
		if (c == 0) {
			gk_per_get_ia5(r, NULL, 0, 1, 128, "0123456789#*,");
		} else if (c == 1) {
			if (!*has) {
				gk_per_get_bmp(r, out, GK_RAS_STR_MAX + 1, 1, 256);
				*has = !r->err;
			} else {
				gk_per_get_bmp(r, NULL, 0, 1, 256);
			}
		} else {
			gk_per_skip_open(r); /* url-ID, transportID, email-ID, partyNumber, ... */
		}
	}
}

static void skip_seq_nsp_only(struct gk_per_r *r) /* SEQUENCE {nonStandardData OPTIONAL, ...} */
{
	bool ext = gk_per_get_bool(r);
	if (gk_per_get_bool(r))
		skip_nsp(r);
	gk_per_skip_ext(r, ext);
}

static void skip_endpoint_type(struct gk_per_r *r)
{
	bool ext = gk_per_get_bool(r);
	uint32_t opt = gk_per_get_bits(r, 6);
	if (opt & 0x20)
		skip_nsp(r);
	if (opt & 0x10) { /* vendor */
		bool e = gk_per_get_bool(r);
		uint32_t o = gk_per_get_bits(r, 2);
		skip_h221(r);
		if (o & 2)
			gk_per_get_octets(r, NULL, 0, 1, 256, NULL);
		if (o & 1)
			gk_per_get_octets(r, NULL, 0, 1, 256, NULL);
		gk_per_skip_ext(r, e);
	}
	if (opt & 0x08)
		skip_seq_nsp_only(r); /* gatekeeper */
	if (opt & 0x04) {             /* gateway {protocol SEQUENCE OF SupportedProtocols, nsd} */
		bool e = gk_per_get_bool(r);
		uint32_t o = gk_per_get_bits(r, 2);
		if (o & 2) {
			for (size_t i = 0, n = get_count(r); i < n && !r->err; i++) {
				unsigned c = gk_per_get_choice(r, 9, true);
				if (c == 0)
					skip_nsp(r);
				else if (c < 9)
					skip_seq_nsp_only(r); /* H310Caps .. T120OnlyCaps */
				else
					gk_per_skip_open(r);
			}
		}
		if (o & 1)
			skip_nsp(r);
		gk_per_skip_ext(r, e);
	}
	if (opt & 0x02)
		skip_seq_nsp_only(r); /* mcu */
	if (opt & 0x01)
		skip_seq_nsp_only(r); /* terminal */
	gk_per_get_bool(r);           /* mc */
	gk_per_get_bool(r);           /* undefinedNode */
	gk_per_skip_ext(r, ext);
}

static void skip_vendor(struct gk_per_r *r)
{
	bool e = gk_per_get_bool(r);
	uint32_t o = gk_per_get_bits(r, 2);
	skip_h221(r);
	if (o & 2)
		gk_per_get_octets(r, NULL, 0, 1, 256, NULL);
	if (o & 1)
		gk_per_get_octets(r, NULL, 0, 1, 256, NULL);
	gk_per_skip_ext(r, e);
}

static void skip_qseries(struct gk_per_r *r)
{
	bool ext = gk_per_get_bool(r);
	gk_per_get_bits(r, 7);
	bool e2 = gk_per_get_bool(r); /* Q954Details */
	gk_per_get_bits(r, 2);
	gk_per_skip_ext(r, e2);
	gk_per_skip_ext(r, ext);
}

/* H.235 Params: the IV (iv8, iv16 or iv) into iv. */
static void get_params(struct gk_per_r *r, uint8_t *iv, uint8_t *iv_len)
{
	bool ext = gk_per_get_bool(r);
	uint32_t o = gk_per_get_bits(r, 2);
	if (o & 2)
		gk_per_get_int(r);
	if (o & 1) {
		size_t n = gk_per_get_octets(r, iv, 16, 8, 8, NULL);
		if (iv_len)
			*iv_len = (uint8_t)n;
	}
	if (!ext || r->err)
		return;
	struct gk_per_ext e;
	struct gk_per_r sub;
	long i;
	gk_per_ext_begin(r, &e);
	while ((i = gk_per_ext_next(r, &e, &sub)) >= 0) {
		if (i < 2) { /* iv16, iv */
			uint8_t tmp[16];
			size_t k = gk_per_get_octets(&sub, tmp, sizeof(tmp), i == 0 ? 16 : 0,
			                             i == 0 ? 16 : GK_PER_UNBOUNDED, NULL);
			if (iv && iv_len && !sub.err) {
				memcpy(iv, tmp, k);
				*iv_len = (uint8_t)k;
			}
		}
		sub_done(r, &sub);
	}
}

static void skip_bitstr(struct gk_per_r *r)
{
	gk_per_get_bitstr(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
}

/* ENCRYPTED {algorithmOID, paramS, encryptedData OCTET STRING} */
static void skip_encrypted(struct gk_per_r *r)
{
	struct gk_oid o;
	gk_per_get_oid(r, &o);
	get_params(r, NULL, NULL);
	gk_per_get_octets(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
}

/* SIGNED {toBeSigned (an open type), algorithmOID, paramS, signature BIT STRING} */
static void skip_signed(struct gk_per_r *r)
{
	struct gk_oid o;
	gk_per_skip_open(r);
	gk_per_get_oid(r, &o);
	get_params(r, NULL, NULL);
	skip_bitstr(r);
}

static void get_token(struct gk_per_r *r, struct gk_ras_token *t);

/* HASHED {algorithmOID, paramS, hash BIT STRING} */
static void get_hashed_body(struct gk_per_r *r, struct gk_ras_hashed *h)
{
	struct gk_oid o;
	gk_per_get_oid(r, h ? &h->alg : &o);
	get_params(r, NULL, NULL);
	if (h) {
		size_t off = 0;
		h->hash_bits = (uint16_t)gk_per_get_bitstr(r, h->hash, sizeof(h->hash), 0,
		                                           GK_PER_UNBOUNDED, &off);
		h->hash_off = (uint32_t)off;
	} else {
		skip_bitstr(r);
	}
}

/* One CryptoH323Token: a nested cryptoHashedToken into h (returns true), the rest skipped. */
static bool get_crypto(struct gk_per_r *r, struct gk_ras_hashed *h, uint16_t *skipped)
{
	struct gk_ras_token vals;
	struct gk_oid o;
	unsigned c = gk_per_get_choice(r, 8, true);

	switch (c) {
	case 0: { /* cryptoEPPwdHash {alias, timeStamp, token HASHED} */
		/* one AliasAddress (not a list) */
		unsigned k = gk_per_get_choice(r, 2, true);
		if (k == 0)
			gk_per_get_ia5(r, NULL, 0, 1, 128, "0123456789#*,");
		else if (k == 1)
			gk_per_get_bmp(r, NULL, 0, 1, 256);
		else
			gk_per_skip_open(r);
		gk_per_get_cons(r, 1, 4294967295u);
		get_hashed_body(r, NULL);
		break;
	}
	case 1: /* cryptoGKPwdHash {gatekeeperId, timeStamp, token HASHED} */
		gk_per_get_bmp(r, NULL, 0, 1, 128);
		gk_per_get_cons(r, 1, 4294967295u);
		get_hashed_body(r, NULL);
		break;
	case 2:
	case 3:
		skip_encrypted(r);
		break;
	case 4:
	case 5:
	case 6:
		skip_signed(r);
		break;
	case 7: { /* nestedcryptoToken CryptoToken */
		unsigned k = gk_per_get_choice(r, 4, true);
		if (k == 0) {
			gk_per_get_oid(r, &o);
			skip_encrypted(r);
		} else if (k == 1) {
			gk_per_get_oid(r, &o);
			skip_signed(r);
		} else if (k == 2) {
			struct gk_ras_hashed x = {0};
			gk_per_get_oid(r, &x.oid);
			get_token(r, &vals);
			get_hashed_body(r, &x);
			if (!r->err && h) {
				*h = x;
				return true;
			}
		} else if (k == 3) {
			skip_encrypted(r);
		} else {
			gk_per_skip_open(r);
			(*skipped)++;
		}
		break;
	}
	default:
		gk_per_skip_open(r);
		(*skipped)++;
		break;
	}
	return false;
}

/* H235Key: secureSharedSecret (V3KeySyncMaterial) into t, the others skipped. */
static void get_h235key(struct gk_per_r *r, struct gk_ras_token *t)
{
	unsigned c = gk_per_get_choice(r, 3, true);
	if (c == 0) {
		gk_per_get_bitstr(r, NULL, 0, 1, 2048, NULL);
	} else if (c == 1) {
		skip_encrypted(r);
	} else if (c == 2) {
		skip_signed(r);
	} else if (c == 3) {
		struct gk_per_r sub;
		gk_per_get_open(r, &sub);
		bool ext = gk_per_get_bool(&sub);
		uint32_t o = gk_per_get_bits(&sub, 7);
		if (o & 0x40)
			gk_per_get_bmp(&sub, t->key_gid, sizeof(t->key_gid), 1, 128);
		if (o & 0x20)
			gk_per_get_oid(&sub, &t->key_alg);
		get_params(&sub, t->key_iv, &t->key_iv_len);
		if (o & 0x10)
			t->key_ct_len = (uint8_t)gk_per_get_octets(
			    &sub, t->key_ct, sizeof(t->key_ct), 0, GK_PER_UNBOUNDED, NULL);
		if (o & 0x08)
			gk_per_get_octets(&sub, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
		if (o & 0x04)
			gk_per_get_octets(&sub, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
		if (o & 0x02)
			get_params(&sub, NULL, NULL);
		if (o & 0x01) {
			struct gk_oid k;
			gk_per_get_oid(&sub, &k);
		}
		gk_per_skip_ext(&sub, ext);
		sub_done(r, &sub);
		if ((o & 0x30) == 0x30 && !r->err)
			t->has |= GK_RAS_T_KEY;
	} else {
		gk_per_skip_open(r);
	}
}

static void get_profile(struct gk_per_r *r, struct gk_ras_token *t)
{
	size_t n = get_count(r);
	if (n > GK_RAS_PROF_MAX)
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
	t->n_prof = 0;
	for (size_t i = 0; i < n && !r->err; i++) {
		bool ext = gk_per_get_bool(r);
		uint32_t o = gk_per_get_bits(r, 2);
		t->prof[i].id = (uint8_t)gk_per_get_cons(r, 0, 255);
		t->prof[i].has_int = false;
		if (o & 2)
			get_params(r, NULL, NULL);
		if (o & 1) {
			unsigned c = gk_per_get_choice(r, 5, true);
			switch (c) {
			case 0:
				gk_per_get_octets(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
				break;
			case 1:
				t->prof[i].v = gk_per_get_int(r);
				t->prof[i].has_int = true;
				break;
			case 2:
				skip_bitstr(r);
				break;
			case 3:
				gk_per_get_bmp(r, NULL, 0, 0, GK_PER_UNBOUNDED);
				break;
			case 4:
				gk_per_get_bool(r);
				break;
			default:
				gk_per_skip_open(r);
			}
		}
		gk_per_skip_ext(r, ext);
		t->n_prof = (uint8_t)(i + 1);
	}
	if (!r->err)
		t->has |= GK_RAS_T_PROFILE;
}

/* ClearToken */
static void get_token(struct gk_per_r *r, struct gk_ras_token *t)
{
	memset(t, 0, sizeof(*t));
	bool ext = gk_per_get_bool(r);
	uint32_t o = gk_per_get_bits(r, 8);
	gk_per_get_oid(r, &t->oid);
	if (o & 0x80) {
		t->ts = (uint32_t)gk_per_get_cons(r, 1, 4294967295u);
		t->has |= GK_RAS_T_TS;
	}
	if (o & 0x40)
		gk_per_get_bmp(r, NULL, 0, 1, 128); /* password */
	if (o & 0x20) { /* dhkey DHset {halfkey, modSize, generator, ...} */
		bool e = gk_per_get_bool(r);
		for (int i = 0; i < 3; i++)
			gk_per_get_bitstr(r, NULL, 0, 0, 2048, NULL);
		gk_per_skip_ext(r, e);
	}
	if (o & 0x10) {
		t->challenge_len =
		    (uint8_t)gk_per_get_octets(r, t->challenge, sizeof(t->challenge), 8, 128, NULL);
		t->has |= GK_RAS_T_CHALLENGE;
	}
	if (o & 0x08) {
		int64_t v = gk_per_get_int(r);
		if (v < INT32_MIN || v > INT32_MAX)
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE); /* RandomVal: a 32-bit integer */
		t->random = (int32_t)v;
		t->has |= GK_RAS_T_RANDOM;
	}
	if (o & 0x04) { /* certificate TypedCertificate {type, certificate, ...} */
		struct gk_oid k;
		bool e = gk_per_get_bool(r);
		gk_per_get_oid(r, &k);
		gk_per_get_octets(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
		gk_per_skip_ext(r, e);
	}
	if (o & 0x02) {
		gk_per_get_bmp(r, t->general, sizeof(t->general), 1, 128);
		t->has |= GK_RAS_T_GENERAL;
	}
	if (o & 0x01) { /* nonStandard {OID, data} */
		struct gk_oid k;
		gk_per_get_oid(r, &k);
		gk_per_get_octets(r, NULL, 0, 0, GK_PER_UNBOUNDED, NULL);
	}
	if (!ext || r->err)
		return;
	struct gk_per_ext e;
	struct gk_per_r sub;
	long i;
	gk_per_ext_begin(r, &e);
	while ((i = gk_per_ext_next(r, &e, &sub)) >= 0) {
		if (i == 1) {
			gk_per_get_bmp(&sub, t->senders, sizeof(t->senders), 1, 128);
			t->has |= GK_RAS_T_SENDERS;
		} else if (i == 2) {
			get_h235key(&sub, t);
		} else if (i == 3) {
			get_profile(&sub, t);
		}
		sub_done(r, &sub);
	}
}

static void get_tokens(struct gk_per_r *r, struct gk_ras_pdu *p)
{
	size_t n = get_count(r);
	for (size_t i = 0; i < n && !r->err; i++) {
		if (p->n_tokens == GK_RAS_TOKEN_MAX) {
			gk_per_fail(r, GK_R_PARSE_TOO_LONG);
			return;
		}
		get_token(r, &p->tokens[p->n_tokens]);
		if (!r->err)
			p->n_tokens++;
	}
}

static void get_cryptos(struct gk_per_r *r, struct gk_ras_pdu *p)
{
	size_t n = get_count(r);
	for (size_t i = 0; i < n && !r->err; i++) {
		struct gk_ras_hashed h;
		if (get_crypto(r, &h, &p->skipped)) {
			if (p->n_hashed == GK_RAS_HASHED_MAX) {
				gk_per_fail(r, GK_R_PARSE_TOO_LONG);
				return;
			}
			p->hashed[p->n_hashed++] = h;
		}
	}
}

static void get_reason(struct gk_per_r *r, struct gk_ras_pdu *p, unsigned n_root)
{
	unsigned c = gk_per_get_choice(r, n_root, true);
	if (p->type == GK_RAS_RRJ && c == 4) { /* duplicateAlias SEQUENCE OF AliasAddress */
		char tmp[GK_RAS_STR_MAX + 1];
		bool has = false;
		get_alias_list(r, tmp, &has);
	} else if (c >= n_root) {
		gk_per_skip_open(r); /* NULL (one zero octet) or a value we ignore */
	}
	if (c > 255)
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
	p->reason = (uint8_t)c;
}

/* The extension additions of the PDU: tokens, cryptoTokens and the few others we read, at their
 * indices of H.225.0 v7 (pdu_ext); everything else, of this version or a later one, is skipped by
 * its length. */
static void get_additions(struct gk_per_r *r, struct gk_ras_pdu *p)
{
	unsigned tok = pdu_ext[p->type].tok;
	struct gk_per_ext e;
	struct gk_per_r sub;
	long i;

	gk_per_ext_begin(r, &e);
	while ((i = gk_per_ext_next(r, &e, &sub)) >= 0) {
		if (i == tok) {
			get_tokens(&sub, p);
		} else if (i == tok + 1) {
			get_cryptos(&sub, p);
		} else if ((p->type == GK_RAS_RRQ && i == RRQ_TTL) ||
		           (p->type == GK_RAS_RCF && i == RCF_TTL)) {
			p->ttl = (uint32_t)gk_per_get_cons(&sub, 1, 4294967295u);
			p->has_ttl = true;
		} else if (p->type == GK_RAS_RRQ && i == RRQ_KEEP_ALIVE) {
			p->keep_alive = gk_per_get_bool(&sub);
		} else if (p->type == GK_RAS_RRQ && i == RRQ_EPID) {
			gk_per_get_bmp(&sub, p->epid, sizeof(p->epid), 1, 128);
			p->has_epid = true;
		} else if (p->type == GK_RAS_URQ && i == URQ_GKID) {
			gk_per_get_bmp(&sub, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		} else {
			p->skipped++;
		}
		sub_done(r, &sub);
	}
}

int gk_ras_peek_type(const uint8_t *buf, size_t len)
{
	struct gk_per_r r;
	gk_per_r_init(&r, buf, len);
	unsigned c = gk_per_get_choice(&r, RAS_ROOT, true);
	return r.err ? -1 : (int)c;
}

int gk_ras_pdu_decode(const uint8_t *buf, size_t len, struct gk_ras_pdu *p, enum gk_reason *why)
{
	struct gk_per_r r;
	bool ext;
	uint32_t o;

	memset(p, 0, sizeof(*p));
	p->type = GK_RAS_NONE;
	gk_per_r_init(&r, buf, len);
	unsigned c = gk_per_get_choice(&r, RAS_ROOT, true);
	if (r.err)
		goto out;
	if (c > GK_RAS_UCF) {
		gk_per_fail(&r, GK_R_PARSE_UNSUPPORTED);
		goto out;
	}
	p->type = (uint8_t)c;
	ext = gk_per_get_bool(&r);
	switch (c) {
	case GK_RAS_GRQ:
		o = gk_per_get_bits(&r, 4);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		gk_per_get_oid(&r, &p->proto);
		if (o & 8)
			skip_nsp(&r);
		get_taddr(&r, &p->ras);
		skip_endpoint_type(&r);
		if (o & 4) {
			gk_per_get_bmp(&r, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		}
		if (o & 2)
			skip_qseries(&r);
		if (o & 1)
			get_alias_list(&r, p->alias, &p->has_alias);
		break;
	case GK_RAS_GCF:
	case GK_RAS_GRJ:
		o = gk_per_get_bits(&r, 2);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		gk_per_get_oid(&r, &p->proto);
		if (o & 2)
			skip_nsp(&r);
		if (o & 1) {
			gk_per_get_bmp(&r, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		}
		if (c == GK_RAS_GCF)
			get_taddr(&r, &p->ras);
		else
			get_reason(&r, p, 4);
		break;
	case GK_RAS_RRQ:
		o = gk_per_get_bits(&r, 3);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		gk_per_get_oid(&r, &p->proto);
		if (o & 4)
			skip_nsp(&r);
		gk_per_get_bool(&r); /* discoveryComplete */
		get_taddr_list(&r, &p->csa);
		get_taddr_list(&r, &p->ras);
		skip_endpoint_type(&r);
		if (o & 2)
			get_alias_list(&r, p->alias, &p->has_alias);
		if (o & 1) {
			gk_per_get_bmp(&r, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		}
		skip_vendor(&r);
		break;
	case GK_RAS_RCF:
		o = gk_per_get_bits(&r, 3);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		gk_per_get_oid(&r, &p->proto);
		if (o & 4)
			skip_nsp(&r);
		get_taddr_list(&r, &p->csa);
		if (o & 2)
			get_alias_list(&r, p->alias, &p->has_alias);
		if (o & 1) {
			gk_per_get_bmp(&r, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		}
		gk_per_get_bmp(&r, p->epid, sizeof(p->epid), 1, 128);
		p->has_epid = true;
		break;
	case GK_RAS_RRJ:
		o = gk_per_get_bits(&r, 2);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		gk_per_get_oid(&r, &p->proto);
		if (o & 2)
			skip_nsp(&r);
		get_reason(&r, p, 8);
		if (o & 1) {
			gk_per_get_bmp(&r, p->gkid, sizeof(p->gkid), 1, 128);
			p->has_gkid = true;
		}
		break;
	case GK_RAS_URQ:
		o = gk_per_get_bits(&r, 3);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		get_taddr_list(&r, &p->csa);
		if (o & 4)
			get_alias_list(&r, p->alias, &p->has_alias);
		if (o & 2)
			skip_nsp(&r);
		if (o & 1) {
			gk_per_get_bmp(&r, p->epid, sizeof(p->epid), 1, 128);
			p->has_epid = true;
		}
		break;
	case GK_RAS_UCF:
		if (gk_per_get_bool(&r))
			skip_nsp(&r);
		p->seq = (uint16_t)gk_per_get_cons(&r, 1, 65535);
		break;
	}
	if (ext && !r.err)
		get_additions(&r, p);
	if (r.err)
		goto out;
	/* Only zero padding may follow the PDU. */
	gk_per_skip_align(&r);
	if (r.nbits - r.bit >= 8)
		gk_per_fail(&r, GK_R_PARSE_SYNTAX);
out:
	*why = (enum gk_reason)r.err;
	return r.err ? -1 : 0;
}
