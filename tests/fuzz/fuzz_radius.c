// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the RADIUS codec and the softswitch <-> AuC mapping. Every input goes
 * through what aucd and the softswitch's AuC client do with a datagram (decode, verify, map),
 * whatever its code, and whatever the mapping accepts is re-encoded and must come back
 * identical: the decoders and encoders agree on what a valid message is.
 *
 * The seed corpus (tests/corpus/radius/) uses the secret below, and its Access-Accepts answer
 * a request whose authenticator is FUZZ_R, so seeds get past the authenticators and the hidden
 * attributes and the fuzzer starts deep (gatekey_lookup_*: the routing lookup, its Accept and
 * its Reject, written by lib/auc/auc_proto.c's encoders).
 */
#include "gatekey/auc/auc_proto.h"

#define FUZZ_NAME "fuzz_radius"
#include "fuzz_common.h"

static const uint8_t secret[] = "testing123";
#define SLEN (sizeof(secret) - 1)
static const uint8_t fuzz_r[GK_RAD_AUTH_LEN] = {
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

static void round_trip_accept(const struct gk_rad_pkt *req)
{
	static uint8_t out[GK_RAD_MAX_LEN];
	struct gk_auc_vector v, w;
	struct gk_rad_pkt q;
	enum gk_reason why;

	memset(&v, 0, sizeof(v));
	if (gk_auc_decode_auth_request(req, GK_PEN_DEFAULT, v.idc, v.idsp, &why) < 0)
		return;
	memcpy(v.rand, req->authenticator, sizeof(v.rand));
	memset(v.xauth, 0x5a, sizeof(v.xauth));
	memset(v.blob_terminal, 0xa5, sizeof(v.blob_terminal));
	memset(v.blob_element, 0x3c, sizeof(v.blob_element));
	int n = gk_auc_encode_accept(out, sizeof(out), req, GK_PEN_DEFAULT, &v, secret, SLEN);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_response(&q, req->authenticator, secret, SLEN, &why) == 0);
	memset(&w, 0, sizeof(w));
	CHECK(gk_auc_decode_accept(&q, GK_PEN_DEFAULT, req->authenticator, secret, SLEN, &w,
	                           &why) == 0);
	CHECK(memcmp(&v, &w, sizeof(v)) == 0);

	n = gk_auc_encode_reject(out, sizeof(out), req, secret, SLEN);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_response(&q, req->authenticator, secret, SLEN, &why) == 0);
}

/* A routing lookup (Service-Type Authorize-Only): the request re-encodes to what it said, and
 * both answers come back as what they mean. */
static void round_trip_lookup(const struct gk_rad_pkt *req)
{
	static uint8_t out[GK_RAD_MAX_LEN];
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1], again[GK_ID_MAX + 1], sp[GK_ID_MAX + 1];
	struct gk_rad_pkt q;
	enum gk_reason why;
	uint8_t ra[GK_RAD_AUTH_LEN];

	if (gk_auc_decode_auth_request(req, GK_PEN_DEFAULT, idc, idsp, &why) < 0 ||
	    gk_auc_decode_lookup(req, &why) != 1)
		return;
	int n = gk_auc_encode_lookup_request(out, sizeof(out), req->id, GK_PEN_DEFAULT, idc, idsp,
	                                     "fuzz", secret, SLEN, ra);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_request(&q, secret, SLEN, &why) == 0);
	CHECK(gk_auc_decode_auth_request(&q, GK_PEN_DEFAULT, again, sp, &why) == 0);
	CHECK(strcmp(idc, again) == 0 && strcmp(idsp, sp) == 0);
	CHECK(gk_auc_decode_lookup(&q, &why) == 1);

	n = gk_auc_encode_lookup_accept(out, sizeof(out), req, idc, secret, SLEN);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_response(&q, req->authenticator, secret, SLEN, &why) == 0);
	CHECK(gk_auc_decode_lookup_answer(&q, again, &why) == 1 && strcmp(idc, again) == 0);

	n = gk_auc_encode_reject(out, sizeof(out), req, secret, SLEN);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_auc_decode_lookup_answer(&q, again, &why) == 0 && again[0] == '\0');
}

static void round_trip_acct(const struct gk_rad_pkt *req)
{
	static uint8_t out[GK_RAD_MAX_LEN];
	struct gk_auc_acct a, b;
	struct gk_rad_pkt q;
	enum gk_reason why;
	uint8_t ra[GK_RAD_AUTH_LEN];

	if (gk_auc_decode_acct_request(req, GK_PEN_DEFAULT, &a, &why) < 0)
		return;
	int n = gk_auc_encode_acct_request(out, sizeof(out), req->id, GK_PEN_DEFAULT, &a, "fuzz",
	                                   secret, SLEN, ra);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_request(&q, secret, SLEN, &why) == 0);
	CHECK(gk_auc_decode_acct_request(&q, GK_PEN_DEFAULT, &b, &why) == 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);

	n = gk_auc_encode_acct_response(out, sizeof(out), req, secret, SLEN);
	CHECK(n > 0);
	CHECK(gk_rad_decode(out, (size_t)n, &q, &why) == 0);
	CHECK(gk_rad_verify_response(&q, req->authenticator, secret, SLEN, &why) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gk_rad_pkt p;
	enum gk_reason why;
	uint8_t out[256];

	if (gk_rad_decode(data, size, &p, &why) < 0)
		return 0;
	CHECK(p.len >= GK_RAD_HDR_LEN && p.len <= size && p.n_attrs <= GK_RAD_MAX_ATTRS);
	for (unsigned i = 0; i < p.n_attrs; i++) {
		const struct gk_rad_attr *a = &p.attrs[i];
		CHECK(a->val >= data + GK_RAD_HDR_LEN && a->val + a->len <= data + p.len);
		(void)gk_rad_unhide(a, fuzz_r, secret, SLEN, out, sizeof(out));
		(void)gk_rad_unhide(a, p.authenticator, secret, SLEN, out, 16);
	}
	(void)gk_rad_find(&p, GK_RAD_USER_NAME);
	(void)gk_rad_find_vsa(&p, GK_PEN_DEFAULT, GK_VSA_ELEMENT_ID);

	int req_ok = gk_rad_verify_request(&p, secret, SLEN, &why);
	(void)gk_rad_verify_response(&p, fuzz_r, secret, SLEN, &why);

	/* The mapping's decoders must survive anything structurally valid, verified or not. */
	struct gk_auc_vector v;
	struct gk_auc_acct acct;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1];
	(void)gk_auc_decode_auth_request(&p, GK_PEN_DEFAULT, idc, idsp, &why);
	(void)gk_auc_decode_accept(&p, GK_PEN_DEFAULT, fuzz_r, secret, SLEN, &v, &why);
	(void)gk_auc_decode_acct_request(&p, GK_PEN_DEFAULT, &acct, &why);
	(void)gk_auc_decode_lookup(&p, &why);
	(void)gk_auc_decode_lookup_answer(&p, idc, &why);

	if (req_ok == 0 && p.code == GK_RAD_ACCESS_REQUEST) {
		round_trip_accept(&p);
		round_trip_lookup(&p);
	}
	if (p.code == GK_RAD_ACCOUNTING_REQUEST)
		round_trip_acct(&p);
	return 0;
}
