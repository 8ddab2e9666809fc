// SPDX-License-Identifier: GPL-2.0-only
/*
 * Digest (include/gatekey/crypto/digest.h) pinned by values computed outside libgatekey: the RFC
 * 7616 §3.9.1 example, a SIP REGISTER computed with Python's hashlib, the password derivation with
 * openssl(1), and the nonce layout re-derived here with EVP_Q_mac. Then the refusals a
 * registrar relies on.
 *
 * Reference script (python3, hashlib only); its output is the constants below:
 *
 *   import hashlib
 *   H = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
 *   def h(alg, s): return hashlib.new(H[alg], s.encode()).hexdigest()
 *   def resp(alg, sess, user, realm, pw, nonce, nc, cnonce, qop, method, uri):
 *       ha1 = h(alg, f"{user}:{realm}:{pw}")
 *       if sess: ha1 = h(alg, f"{ha1}:{nonce}:{cnonce}")
 *       ha2 = h(alg, f"{method}:{uri}")
 *       if qop: return h(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
 *       return h(alg, f"{ha1}:{nonce}:{ha2}")
 *   r = ("Mufasa", "http-auth@example.org", "Circle of Life",
 *        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
 *        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth", "GET", "/dir/index.html")
 *   for a in ("MD5", "SHA-256"):
 *       print("rfc", a, h(a, "Mufasa:http-auth@example.org:Circle of Life"), resp(a, False, *r))
 *   s = ("alice", "gatekey.example", "s3cr3t-PW", "YWJjZGVmZ2hpamtsbW5vcA", "00000001",
 *        "0a4f113b", "auth", "REGISTER", "sip:gatekey.example")
 *   for a in ("MD5", "SHA-256", "SHA-512-256"):
 *       for sess in (False, True):
 *           print("sip", a, sess, h(a, "alice:gatekey.example:s3cr3t-PW"), resp(a, sess, *s))
 *       print("sip-noqop", a, resp(a, False, *s[:4], None, None, None, *s[7:]))
 *
 * The RFC 7616 responses printed by it (8ca523f5... and 753927fa...) are the ones printed in
 * §3.9.1 of the RFC, which checks the script as much as the script checks the RFC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* The harness's TEST() wrappers and timeout handler have parameters they do not use. */
#include "kselftest_harness.h"

#include "gatekey/crypto/digest.h"

#define RFC_USER   "Mufasa"
#define RFC_REALM  "http-auth@example.org"
#define RFC_PW     "Circle of Life"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_URI    "/dir/index.html"

#define SIP_USER   "alice"
#define SIP_REALM  "gatekey.example"
#define SIP_PW     "s3cr3t-PW"
#define SIP_NONCE  "YWJjZGVmZ2hpamtsbW5vcA"
#define SIP_CNONCE "0a4f113b"
#define SIP_URI    "sip:gatekey.example"

#define SIP_HA1_SHA256 "d0a1eaa3f828f2069494bf11b7a8a592df565d1b1b3add29cc232fe9b783fdd3"
#define SIP_RSP_SHA256 "5e302285834e13da83a47c6a4f3c9e3cd8fe35e22995cbfe412bd15acfa81600"

static void seq_key(uint8_t k[32], uint8_t first)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(first + i);
}

static void upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
}

TEST(rfc7616_example)
{
	static const struct {
		enum gk_digest_alg alg;
		const char *ha1, *rsp;
	} kat[] = {
	    {GK_DIGEST_MD5, "3d78807defe7de2157e2b0b6573a855f", "8ca523f5e9506fed4657c9700eebdbec"},
	    {GK_DIGEST_SHA256, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
	     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	};
	char ha1[GK_DIGEST_HEX_BUF], rsp[GK_DIGEST_HEX_BUF];

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		ASSERT_EQ(0, gk_digest_ha1(kat[i].alg, RFC_USER, RFC_REALM, RFC_PW, ha1));
		EXPECT_STREQ(kat[i].ha1, ha1);
		ASSERT_EQ(0, gk_digest_response(kat[i].alg, false, ha1, RFC_NONCE, "00000001",
		                                RFC_CNONCE, "auth", "GET", RFC_URI, rsp));
		EXPECT_STREQ(kat[i].rsp, rsp);
		EXPECT_TRUE(gk_digest_verify(kat[i].alg, false, ha1, RFC_NONCE, "00000001",
		                             RFC_CNONCE, "auth", "GET", RFC_URI, kat[i].rsp));
	}
}

static const struct {
	enum gk_digest_alg alg;
	bool sess;
	const char *qop; /* NULL: the RFC 2069 form */
	const char *ha1, *rsp;
} sip_kat[] = {
    {GK_DIGEST_MD5, false, "auth", "83375f2531d2961b73c2e17bbae9ab4d",
     "650e31f2ba084f30e37cc20ba773e34b"},
    {GK_DIGEST_MD5, true, "auth", "83375f2531d2961b73c2e17bbae9ab4d",
     "8877aa639cd441cc7c5951a5a7e3e70c"},
    {GK_DIGEST_MD5, false, NULL, "83375f2531d2961b73c2e17bbae9ab4d",
     "648bf612ddf5dd0af9679d86dde642c3"},
    {GK_DIGEST_SHA256, false, "auth", SIP_HA1_SHA256, SIP_RSP_SHA256},
    {GK_DIGEST_SHA256, true, "auth", SIP_HA1_SHA256,
     "eca34f72a89516c7aa7acd7fb991904a4ed99d0ed6a68b488a10da7cc8e6d5df"},
    {GK_DIGEST_SHA256, false, NULL, SIP_HA1_SHA256,
     "de0b1c0e4cf5477869bc67ee3eb53dd83f0cd160da5552a5c03b7fcfe200b0e5"},
    {GK_DIGEST_SHA512_256, false, "auth",
     "ce8aa7feb169a758e8ab2646f52f4cd3a3498062efb2d0069156159184cd37c6",
     "ee9f7e693375b4f6b8ad6bd3cc5d4a957aecab4e1f618dd980e8fa106f6add39"},
    {GK_DIGEST_SHA512_256, true, "auth",
     "ce8aa7feb169a758e8ab2646f52f4cd3a3498062efb2d0069156159184cd37c6",
     "73466ce3b9266723ba6b8feba6110ec04083507f21cf30914d02b033b96993f6"},
    {GK_DIGEST_SHA512_256, false, NULL,
     "ce8aa7feb169a758e8ab2646f52f4cd3a3498062efb2d0069156159184cd37c6",
     "6a4bab31fd864272328f2e3532ad45edb31c6a76c7260f1541a9a33ec0e2530b"},
};

TEST(sip_register_known_answers)
{
	char ha1[GK_DIGEST_HEX_BUF], rsp[GK_DIGEST_HEX_BUF];

	for (size_t i = 0; i < sizeof(sip_kat) / sizeof(sip_kat[0]); i++) {
		enum gk_digest_alg alg = sip_kat[i].alg;
		const char *qop = sip_kat[i].qop;
		/* The no-qop form must not look at nc and cnonce, unless -sess needs cnonce. */
		const char *nc = qop ? "00000001" : NULL;
		const char *cn = qop ? SIP_CNONCE : NULL;

		ASSERT_TRUE(gk_digest_alg_available(alg));
		ASSERT_EQ(0, gk_digest_ha1(alg, SIP_USER, SIP_REALM, SIP_PW, ha1));
		EXPECT_STREQ(sip_kat[i].ha1, ha1);
		ASSERT_EQ(0, gk_digest_response(alg, sip_kat[i].sess, ha1, SIP_NONCE, nc, cn, qop,
		                                "REGISTER", SIP_URI, rsp));
		EXPECT_STREQ(sip_kat[i].rsp, rsp)
		TH_LOG("%s qop=%s", gk_digest_alg_name(alg, sip_kat[i].sess), qop ? qop : "-");
		EXPECT_TRUE(gk_digest_verify(alg, sip_kat[i].sess, ha1, SIP_NONCE, nc, cn, qop,
		                             "REGISTER", SIP_URI, sip_kat[i].rsp));
		/* The same answer under the other session flag must fail. */
		EXPECT_FALSE(gk_digest_verify(alg, !sip_kat[i].sess, ha1, SIP_NONCE, "00000001",
		                              SIP_CNONCE, qop, "REGISTER", SIP_URI,
		                              sip_kat[i].rsp));
	}
}

/* A stored HA1 in upper case is the same secret; the hash input is always lower case. */
TEST(ha1_either_case)
{
	char ha1[] = SIP_HA1_SHA256, rsp[GK_DIGEST_HEX_BUF];

	upper(ha1);
	ASSERT_EQ(0, gk_digest_response(GK_DIGEST_SHA256, false, ha1, SIP_NONCE, "00000001",
	                                SIP_CNONCE, "auth", "REGISTER", SIP_URI, rsp));
	EXPECT_STREQ(SIP_RSP_SHA256, rsp);
}

/* V(.nc = "00000002") is the good REGISTER with one field replaced: the later designated
 * initializer wins, which is what -Woverride-init (in -Wextra) would complain about. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define V(field_overrides...)                                                                      \
	verify_with((struct vin){.ha1 = SIP_HA1_SHA256,                                            \
	                         .nonce = SIP_NONCE,                                               \
	                         .nc = "00000001",                                                 \
	                         .cnonce = SIP_CNONCE,                                             \
	                         .qop = "auth",                                                    \
	                         .method = "REGISTER",                                             \
	                         .uri = SIP_URI,                                                   \
	                         .rsp = SIP_RSP_SHA256,                                            \
	                         field_overrides})

struct vin {
	const char *ha1, *nonce, *nc, *cnonce, *qop, *method, *uri, *rsp;
};

static bool verify_with(struct vin v)
{
	return gk_digest_verify(GK_DIGEST_SHA256, false, v.ha1, v.nonce, v.nc, v.cnonce, v.qop,
	                        v.method, v.uri, v.rsp);
}

TEST(verify_refuses_every_wrong_input)
{
	char wrong_pw_ha1[GK_DIGEST_HEX_BUF], rsp[] = SIP_RSP_SHA256;

	ASSERT_TRUE(V());
	ASSERT_EQ(0,
	          gk_digest_ha1(GK_DIGEST_SHA256, SIP_USER, SIP_REALM, "s3cr3t-pw", wrong_pw_ha1));
	EXPECT_FALSE(V(.ha1 = wrong_pw_ha1));
	EXPECT_FALSE(V(.nonce = "YWJjZGVmZ2hpamtsbW5vcB"));
	EXPECT_FALSE(V(.nc = "00000002"));
	EXPECT_FALSE(V(.cnonce = "0a4f113c"));
	EXPECT_FALSE(V(.uri = "sip:gatekey.example;transport=udp"));
	EXPECT_FALSE(V(.method = "INVITE"));
	EXPECT_FALSE(V(.method = "register"));
	/* Dropping qop makes it the RFC 2069 form: a different answer. */
	EXPECT_FALSE(V(.qop = NULL));

	/* Every digit of the response matters. */
	for (size_t i = 0; i < strlen(rsp); i++) {
		char saved = rsp[i];

		rsp[i] = saved == '0' ? '1' : '0';
		EXPECT_FALSE(V(.rsp = rsp)) TH_LOG("digit %zu", i);
		rsp[i] = saved;
	}
}

TEST(verify_response_hex_rules)
{
	char rsp[] = SIP_RSP_SHA256, mixed[] = SIP_RSP_SHA256;

	upper(rsp);
	EXPECT_TRUE(V(.rsp = rsp));
	for (size_t i = 0; i < strlen(mixed); i += 2)
		if (mixed[i] >= 'a')
			mixed[i] = (char)(mixed[i] - 'a' + 'A');
	EXPECT_TRUE(V(.rsp = mixed));

	/* Non-hex: 'g' for a hex letter, and characters that OR 0x20 would turn into hex. */
	strcpy(rsp, SIP_RSP_SHA256);
	rsp[0] = 'g';
	EXPECT_FALSE(V(.rsp = rsp));
	rsp[1] = '\x10'; /* 0x10 | 0x20 == '0' */
	EXPECT_FALSE(V(.rsp = rsp));
	rsp[1] = ' ';
	EXPECT_FALSE(V(.rsp = rsp));

	/* Wrong length: short, long, empty, or the length of another algorithm. */
	EXPECT_FALSE(V(.rsp = SIP_RSP_SHA256 "0"));
	EXPECT_FALSE(V(.rsp = "5e302285834e13da83a47c6a4f3c9e3cd8fe35e22995cbfe412bd15acfa8160"));
	EXPECT_FALSE(V(.rsp = ""));
	EXPECT_FALSE(V(.rsp = "5e302285834e13da83a47c6a4f3c9e3c"));
	EXPECT_FALSE(V(.rsp = NULL));
}

TEST(field_limits)
{
	char big[GK_DIGEST_FIELD_MAX + 2], out[GK_DIGEST_HEX_BUF];
	char *unterminated;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* GK_DIGEST_FIELD_MAX + 1 bytes: refused everywhere. */
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, big, SIP_REALM, SIP_PW, out));
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, SIP_USER, big, SIP_PW, out));
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, SIP_USER, SIP_REALM, big, out));
	EXPECT_FALSE(V(.nonce = big));
	EXPECT_FALSE(V(.cnonce = big));
	EXPECT_FALSE(V(.method = big));
	EXPECT_FALSE(V(.uri = big));
	EXPECT_EQ(-EINVAL,
	          gk_digest_response(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, big, "00000001",
	                             SIP_CNONCE, "auth", "REGISTER", SIP_URI, out));
	EXPECT_EQ(-EINVAL,
	          gk_digest_response(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "00000001",
	                             SIP_CNONCE, "auth", "REGISTER", big, out));
	/* GK_DIGEST_FIELD_MAX bytes: accepted. */
	big[GK_DIGEST_FIELD_MAX] = '\0';
	EXPECT_EQ(0, gk_digest_ha1(GK_DIGEST_SHA256, big, big, big, out));
	EXPECT_EQ(0, gk_digest_response(GK_DIGEST_SHA256, true, SIP_HA1_SHA256, big, "00000001",
	                                big, "auth", big, big, out));

	/* No NUL at all: the length check must stop at the cap, ASan catches a read beyond it. */
	unterminated = malloc(GK_DIGEST_FIELD_MAX + 1);
	ASSERT_NE(NULL, unterminated);
	memset(unterminated, 'b', GK_DIGEST_FIELD_MAX + 1);
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, unterminated, SIP_REALM, SIP_PW, out));
	EXPECT_FALSE(V(.uri = unterminated));
	EXPECT_FALSE(V(.rsp = unterminated));
	EXPECT_EQ(-EINVAL,
	          gk_digest_response(GK_DIGEST_SHA256, false, unterminated, SIP_NONCE, "00000001",
	                             SIP_CNONCE, "auth", "REGISTER", SIP_URI, out));
	free(unterminated);
}

TEST(response_argument_rules)
{
	char out[GK_DIGEST_HEX_BUF];

#define R(alg, sess, ha1, nonce, nc, cnonce, qop, method, uri)                                     \
	gk_digest_response(alg, sess, ha1, nonce, nc, cnonce, qop, method, uri, out)
	EXPECT_EQ(-EINVAL, R(0, false, SIP_HA1_SHA256, SIP_NONCE, "00000001", SIP_CNONCE, "auth",
	                     "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(99, false, SIP_HA1_SHA256, SIP_NONCE, "00000001", SIP_CNONCE, "auth",
	                     "REGISTER", SIP_URI));
	/* HA1 of the wrong algorithm's length, and non-hex HA1. */
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_MD5, false, SIP_HA1_SHA256, SIP_NONCE, "00000001",
	                     SIP_CNONCE, "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_MD5, false, "83375f2531d2961b73c2e17bbae9ab4x", SIP_NONCE,
	                     "00000001", SIP_CNONCE, "auth", "REGISTER", SIP_URI));
	/* nc: exactly 8 hex digits; either case accepted and hashed as sent. */
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "0000001",
	                     SIP_CNONCE, "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "000000001",
	                     SIP_CNONCE, "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "0000000g",
	                     SIP_CNONCE, "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, NULL, SIP_CNONCE,
	                     "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(0, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "0000000A", SIP_CNONCE,
	               "auth", "REGISTER", SIP_URI));
	/* cnonce required with qop or -sess, empty fields refused where a value is needed. */
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "00000001", NULL,
	                     "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "00000001", "",
	                     "auth", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, true, SIP_HA1_SHA256, SIP_NONCE, NULL, NULL, NULL,
	                     "REGISTER", SIP_URI));
	EXPECT_EQ(0, R(GK_DIGEST_SHA256, true, SIP_HA1_SHA256, SIP_NONCE, NULL, SIP_CNONCE, NULL,
	               "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, "", NULL, NULL, NULL,
	                     "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, NULL, NULL, NULL,
	                     "", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, NULL, NULL, NULL,
	                     "REGISTER", ""));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, NULL, SIP_NONCE, NULL, NULL, NULL, "REGISTER",
	                     SIP_URI));
	/* auth-int and unknown qops are not ours to compute. */
	EXPECT_EQ(-ENOTSUP, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "00000001",
	                      SIP_CNONCE, "auth-int", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, R(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE, "00000001",
	                     SIP_CNONCE, "", "REGISTER", SIP_URI));
	EXPECT_EQ(-EINVAL, gk_digest_response(GK_DIGEST_SHA256, false, SIP_HA1_SHA256, SIP_NONCE,
	                                      NULL, NULL, NULL, "REGISTER", SIP_URI, NULL));
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, NULL, SIP_REALM, SIP_PW, out));
	EXPECT_EQ(-EINVAL, gk_digest_ha1(GK_DIGEST_SHA256, SIP_USER, SIP_REALM, SIP_PW, NULL));
#undef R
}

TEST(alg_tokens)
{
	static const struct {
		const char *tok;
		int ret;
		enum gk_digest_alg alg;
		bool sess;
	} cases[] = {
	    {"MD5", 0, GK_DIGEST_MD5, false},
	    {"md5", 0, GK_DIGEST_MD5, false},
	    {"MD5-sess", 0, GK_DIGEST_MD5, true},
	    {"MD5-SESS", 0, GK_DIGEST_MD5, true},
	    {"SHA-256", 0, GK_DIGEST_SHA256, false},
	    {"sha-256", 0, GK_DIGEST_SHA256, false},
	    {"SHA-256-sess", 0, GK_DIGEST_SHA256, true},
	    {"\"SHA-256\"", 0, GK_DIGEST_SHA256, false},
	    {"SHA-512-256", 0, GK_DIGEST_SHA512_256, false},
	    {"SHA-512-256-Sess", 0, GK_DIGEST_SHA512_256, true},
	    {"SHA256", -ENOTSUP, 0, false},
	    {"SHA-512", -ENOTSUP, 0, false},
	    {"AKAv1-MD5", -ENOTSUP, 0, false},
	    {"-sess", -ENOTSUP, 0, false},
	    {"MD5-sess-sess", -ENOTSUP, 0, false},
	    {"MD5 ", -ENOTSUP, 0, false},
	    {"", -EINVAL, 0, false},
	    {"\"\"", -EINVAL, 0, false},
	};
	enum gk_digest_alg alg;
	bool sess;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		alg = 0;
		sess = false;
		EXPECT_EQ(cases[i].ret,
		          gk_digest_alg_parse(cases[i].tok, strlen(cases[i].tok), &alg, &sess))
		TH_LOG("token '%s'", cases[i].tok);
		if (!cases[i].ret) {
			EXPECT_EQ(cases[i].alg, alg);
			EXPECT_EQ(cases[i].sess, sess);
		}
	}
	/* A token inside a header, not NUL-terminated at its end. */
	EXPECT_EQ(0, gk_digest_alg_parse("SHA-256-sess,qop=auth", 12, &alg, &sess));
	EXPECT_EQ(GK_DIGEST_SHA256, alg);
	EXPECT_TRUE(sess);
	EXPECT_EQ(-EINVAL, gk_digest_alg_parse("MD\0005", 4, &alg, &sess));
	/* Absent parameter: MD5 (RFC 7616 §3.3). */
	EXPECT_EQ(0, gk_digest_alg_parse(NULL, 0, &alg, &sess));
	EXPECT_EQ(GK_DIGEST_MD5, alg);
	EXPECT_FALSE(sess);
	EXPECT_EQ(-EINVAL, gk_digest_alg_parse("MD5", 3, NULL, &sess));

	/* Every canonical name parses back to itself. */
	for (int a = GK_DIGEST_MD5; a <= GK_DIGEST_SHA512_256; a++) {
		for (int s = 0; s <= 1; s++) {
			const char *name = gk_digest_alg_name(a, s);

			ASSERT_NE(NULL, name);
			ASSERT_EQ(0, gk_digest_alg_parse(name, strlen(name), &alg, &sess));
			EXPECT_EQ(a, alg);
			EXPECT_EQ(s, sess);
		}
	}
	EXPECT_STREQ("SHA-256-sess", gk_digest_alg_name(GK_DIGEST_SHA256, true));
	EXPECT_STREQ("MD5", gk_digest_alg_name(GK_DIGEST_MD5, false));
	EXPECT_EQ(NULL, gk_digest_alg_name(0, false));
	EXPECT_EQ(32, gk_digest_hex_len(GK_DIGEST_MD5));
	EXPECT_EQ(64, gk_digest_hex_len(GK_DIGEST_SHA256));
	EXPECT_EQ(64, gk_digest_hex_len(GK_DIGEST_SHA512_256));
	EXPECT_EQ(-EINVAL, gk_digest_hex_len(4));
	EXPECT_FALSE(gk_digest_alg_available(0));
}

#define NOW     1700000000ULL
#define MAX_AGE 300

TEST(nonce_fresh_and_stale)
{
	uint8_t key[32];
	char n[GK_DIGEST_NONCE_BUF], n2[GK_DIGEST_NONCE_BUF];

	seq_key(key, 0x40);
	ASSERT_EQ(0, gk_digest_nonce_make(key, NOW, n));
	EXPECT_EQ(GK_DIGEST_NONCE_LEN, strlen(n));
	EXPECT_EQ(GK_DIGEST_NONCE_LEN,
	          strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                    "0123456789-_"));
	EXPECT_EQ(0, gk_digest_nonce_check(key, n, NOW, MAX_AGE));
	EXPECT_EQ(0, gk_digest_nonce_check(key, n, NOW + MAX_AGE, MAX_AGE));
	EXPECT_EQ(-ESTALE, gk_digest_nonce_check(key, n, NOW + MAX_AGE + 1, MAX_AGE));
	EXPECT_EQ(-ESTALE, gk_digest_nonce_check(key, n, NOW + 86400, MAX_AGE));
	/* Clock stepped back: tolerated within max_age, stale beyond. */
	EXPECT_EQ(0, gk_digest_nonce_check(key, n, NOW - MAX_AGE, MAX_AGE));
	EXPECT_EQ(-ESTALE, gk_digest_nonce_check(key, n, NOW - MAX_AGE - 1, MAX_AGE));
	/* Two nonces for the same second differ (12 random bytes). */
	ASSERT_EQ(0, gk_digest_nonce_make(key, NOW, n2));
	EXPECT_NE(0, strcmp(n, n2));
	/* Extremes of the timestamp survive the encoding. */
	ASSERT_EQ(0, gk_digest_nonce_make(key, UINT64_MAX, n));
	EXPECT_EQ(0, gk_digest_nonce_check(key, n, UINT64_MAX, 0));
	EXPECT_EQ(-ESTALE, gk_digest_nonce_check(key, n, 0, MAX_AGE));
	ASSERT_EQ(0, gk_digest_nonce_make(key, 0, n));
	EXPECT_EQ(0, gk_digest_nonce_check(key, n, 0, 0));
	EXPECT_EQ(-ESTALE, gk_digest_nonce_check(key, n, UINT64_MAX, UINT32_MAX));
}

TEST(nonce_forgeries)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!=+/ ";
	uint8_t key[32], other[32];
	char n[GK_DIGEST_NONCE_BUF], f[GK_DIGEST_NONCE_BUF + 1];

	seq_key(key, 0x40);
	seq_key(other, 0x40);
	other[31] ^= 1;
	ASSERT_EQ(0, gk_digest_nonce_make(key, NOW, n));

	/* Every position, every other character, valid base64url or not: forged, never stale. */
	for (size_t i = 0; i < GK_DIGEST_NONCE_LEN; i++) {
		for (const char *c = alphabet; *c; c++) {
			if (*c == n[i])
				continue;
			strcpy(f, n);
			f[i] = *c;
			ASSERT_EQ(-EBADMSG, gk_digest_nonce_check(key, f, NOW, MAX_AGE))
			TH_LOG("position %zu '%c'", i, *c);
			/* Even long after: the MAC is checked before the age. */
			ASSERT_EQ(-EBADMSG, gk_digest_nonce_check(key, f, NOW + 86400, MAX_AGE));
		}
	}
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(other, n, NOW, MAX_AGE));
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(other, n, NOW + 86400, MAX_AGE));

	/* Truncated, extended, empty, a foreign nonce. */
	strcpy(f, n);
	f[GK_DIGEST_NONCE_LEN - 1] = '\0';
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(key, f, NOW, MAX_AGE));
	strcpy(f, n);
	strcat(f, "A");
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(key, f, NOW, MAX_AGE));
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(key, "", NOW, MAX_AGE));
	EXPECT_EQ(-EBADMSG, gk_digest_nonce_check(key, RFC_NONCE, NOW, MAX_AGE));
	EXPECT_EQ(-EINVAL, gk_digest_nonce_check(NULL, n, NOW, MAX_AGE));
	EXPECT_EQ(-EINVAL, gk_digest_nonce_check(key, NULL, NOW, MAX_AGE));
	EXPECT_EQ(-EINVAL, gk_digest_nonce_make(NULL, NOW, n));
	EXPECT_EQ(-EINVAL, gk_digest_nonce_make(key, NOW, NULL));
}

/* The layout of digest.h, rebuilt here with EVP_Q_mac and a test-local base64url decoder. */
TEST(nonce_layout)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t key[32], bin[36], mac[32];
	char n[GK_DIGEST_NONCE_BUF];
	size_t maclen = 0;
	uint64_t ts = 0;

	seq_key(key, 0x40);
	ASSERT_EQ(0, gk_digest_nonce_make(key, 0x0102030405060708ULL, n));
	for (size_t i = 0; i < GK_DIGEST_NONCE_LEN; i += 4) {
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++)
			v = v << 6 | (uint32_t)(strchr(b64, n[i + j]) - b64);
		bin[i / 4 * 3] = (uint8_t)(v >> 16);
		bin[i / 4 * 3 + 1] = (uint8_t)(v >> 8);
		bin[i / 4 * 3 + 2] = (uint8_t)v;
	}
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | bin[i];
	EXPECT_EQ(0x0102030405060708ULL, ts);
	ASSERT_NE(NULL, EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key), bin, 20,
	                          mac, sizeof(mac), &maclen));
	ASSERT_EQ(32, maclen);
	EXPECT_EQ(0, memcmp(mac, bin + 20, 16));
}

/*
 * K = 000102...1f:
 *   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:$K -kdfopt info:digest HKDF
 *   AB:6D:4B:BA:64:25:65:9D:74:19:62:71:F2:44:F8:97:A0:8D:A7:4B:DA:96:71:BF:BD:18:3A:3F:AB:06:E4:10
 * The password is the first 16 bytes, lower-case.
 */
TEST(password_known_answer)
{
	uint8_t kc[32];
	char pw[GK_DIGEST_PW_LEN + 1];

	seq_key(kc, 0x00);
	memset(pw, 'x', sizeof(pw));
	ASSERT_EQ(0, gk_digest_password(kc, pw));
	EXPECT_STREQ("ab6d4bba6425659d74196271f244f897", pw);
	kc[0] ^= 1;
	ASSERT_EQ(0, gk_digest_password(kc, pw));
	EXPECT_STRNE("ab6d4bba6425659d74196271f244f897", pw);
	EXPECT_EQ(-EINVAL, gk_digest_password(NULL, pw));
	EXPECT_EQ(-EINVAL, gk_digest_password(kc, NULL));
}

/*
 * The whole path of a gatekey subscriber on a plain phone: IDc, IDsp, derived password.
 *   python3 -c "import hashlib; s=lambda x: hashlib.sha256(x.encode()).hexdigest();
 *     a=s('alice@example.net:gatekey.example:ab6d4bba6425659d74196271f244f897');
 *     b=s('REGISTER:sip:gatekey.example');
 *     print(a, s(a+':YWJjZGVmZ2hpamtsbW5vcA:00000002:c0ffee:auth:'+b))"
 */
TEST(subscriber_register)
{
	uint8_t kc[32];
	char pw[GK_DIGEST_PW_LEN + 1], ha1[GK_DIGEST_HEX_BUF];
	const char *rsp = "714f6f6084e75ee4eb5edc98f9f03759194d8bb529185cc66a7c77cc29784a23";

	seq_key(kc, 0x00);
	ASSERT_EQ(0, gk_digest_password(kc, pw));
	ASSERT_EQ(0, gk_digest_ha1(GK_DIGEST_SHA256, "alice@example.net", SIP_REALM, pw, ha1));
	EXPECT_STREQ("c38756f4e64c72aafd185d7fc24ffaff11278bd818c8ff03aab8e4609c147ae1", ha1);
	EXPECT_TRUE(gk_digest_verify(GK_DIGEST_SHA256, false, ha1, SIP_NONCE, "00000002", "c0ffee",
	                             "auth", "REGISTER", SIP_URI, rsp));
}

TEST_HARNESS_MAIN
