// SPDX-License-Identifier: GPL-2.0-only
/*
 * The plain Digest UA (gkterm --digest): its credentials against RFC 7616 §3.9.1, its
 * Authorization read back and verified with gk_digest_verify, the challenge it picks or refuses;
 * then gkterm itself against a registrar on loopback (a child process) that challenges, checks
 * each answer with libgatekey's digest primitives and counts what it saw; that registrar may
 * also be overloaded (503 + Retry-After), which gkterm must wait out.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "kselftest_harness.h"

#include "gatekey/auc/keystore.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_ua.h"
#include "helper_tool.h"

/* RFC 7616 §3.9.1 */
#define RFC_USER   "Mufasa"
#define RFC_PW     "Circle of Life"
#define RFC_REALM  "http-auth@example.org"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_URI    "/dir/index.html"

static struct gk_digest chal(const char *realm, const char *nonce, const char *alg, bool qop)
{
	struct gk_digest c;

	memset(&c, 0, sizeof(c));
	snprintf(c.realm, sizeof(c.realm), "%s", realm);
	snprintf(c.nonce, sizeof(c.nonce), "%s", nonce);
	snprintf(c.algorithm, sizeof(c.algorithm), "%s", alg);
	if (qop)
		strcpy(c.qop, "auth");
	return c;
}

TEST(rfc7616_vectors)
{
	static const struct {
		enum gk_digest_alg alg;
		const char *name, *response;
	} v[] = {
	    {GK_DIGEST_MD5, "MD5", "8ca523f5e9506fed4657c9700eebdbec"},
	    {GK_DIGEST_SHA256, "SHA-256",
	     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct gk_digest c = chal(RFC_REALM, RFC_NONCE, v[i].name, true), out;
		strcpy(c.opaque, RFC_OPAQUE);
		ASSERT_EQ(0, gk_sip_ua_digest_answer(&c, v[i].alg, RFC_USER, RFC_PW, "GET", RFC_URI,
		                                     1, RFC_CNONCE, &out));
		EXPECT_STREQ(v[i].response, out.response);
		EXPECT_STREQ(RFC_USER, out.username);
		EXPECT_STREQ(RFC_REALM, out.realm);
		EXPECT_STREQ(RFC_NONCE, out.nonce);
		EXPECT_STREQ(RFC_URI, out.uri);
		EXPECT_STREQ("00000001", out.nc);
		EXPECT_STREQ("auth", out.qop);
		EXPECT_STREQ(RFC_CNONCE, out.cnonce);
		EXPECT_STREQ(RFC_OPAQUE, out.opaque);
		EXPECT_STREQ(v[i].name, out.algorithm);
	}
}

/* Without qop=auth offered, the RFC 2069 form: no qop, nc or cnonce, H(HA1:nonce:HA2). */
TEST(rfc2069_form)
{
	struct gk_digest c = chal(RFC_REALM, RFC_NONCE, "MD5", false), out;
	char ha1[GK_DIGEST_HEX_BUF];

	ASSERT_EQ(0, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, RFC_USER, RFC_PW, "GET", RFC_URI, 1,
	                                     RFC_CNONCE, &out));
	EXPECT_STREQ("", out.qop);
	EXPECT_STREQ("", out.nc);
	EXPECT_STREQ("", out.cnonce);
	ASSERT_EQ(0, gk_digest_ha1(GK_DIGEST_MD5, RFC_USER, RFC_REALM, RFC_PW, ha1));
	EXPECT_TRUE(gk_digest_verify(GK_DIGEST_MD5, false, ha1, RFC_NONCE, NULL, NULL, NULL, "GET",
	                             RFC_URI, out.response));
}

TEST(refuses_a_challenge_without_its_algorithm)
{
	struct gk_digest out, c;

	c = chal("reg1", "n1", "SHA-256", true);
	EXPECT_EQ(-ENOENT, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, "u", "p", "REGISTER",
	                                           "sip:reg1", 1, "cn", &out));
	c = chal("reg1", "n1", "MD5", true);
	EXPECT_EQ(-ENOENT, gk_sip_ua_digest_answer(&c, GK_DIGEST_SHA256, "u", "p", "REGISTER",
	                                           "sip:reg1", 1, "cn", &out));
	c = chal("reg1", "n1", "MD5-sess", true);
	EXPECT_EQ(-ENOENT, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, "u", "p", "REGISTER",
	                                           "sip:reg1", 1, "cn", &out));
	c = chal("reg1", "n1", "AKAv1-MD5", true);
	EXPECT_EQ(-ENOENT, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, "u", "p", "REGISTER",
	                                           "sip:reg1", 1, "cn", &out));
	/* gk_sip_decode's lists: "" is RFC 8760's pair, "MD5,SHA-256" offers both */
	c = chal("reg1", "n1", "", true);
	EXPECT_EQ(0, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, "u", "p", "REGISTER", "sip:reg1", 1,
	                                     "cn", &out));
	c = chal("reg1", "n1", "MD5,SHA-256", true);
	EXPECT_EQ(0, gk_sip_ua_digest_answer(&c, GK_DIGEST_SHA256, "u", "p", "REGISTER", "sip:reg1",
	                                     1, "cn", &out));
	/* with qop, a count of 0 is no count */
	EXPECT_EQ(-EINVAL, gk_sip_ua_digest_answer(&c, GK_DIGEST_SHA256, "u", "p", "REGISTER",
	                                           "sip:reg1", 0, "cn", &out));
	/* a digest-uri longer than Authorization can carry back is not answered, never cut */
	char longer[300];
	memset(longer, 'n', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	c = chal("reg1", "n1", "MD5", true);
	EXPECT_EQ(-EINVAL, gk_sip_ua_digest_answer(&c, GK_DIGEST_MD5, "u", "p", "REGISTER", longer,
	                                           1, "cn", &out));
}

/* A REGISTER as gkterm --digest writes it (gk_sip_ua_request), answering c. */
static int register_with(const struct gk_digest *cred, bool proxy, uint32_t expires, uint8_t *buf,
                         size_t cap)
{
	struct gk_sip_ua_dialog d;

	memset(&d, 0, sizeof(d));
	strcpy(d.target, "sip:reg1");
	strcpy(d.to, "<sip:alice@reg1>");
	struct gk_sip_ua_req q = {
	    .method = "REGISTER",
	    .cseq = 2,
	    .via = "SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK0123456789abcdef;rport",
	    .from = "<sip:alice@reg1>;tag=t0",
	    .call_id = "gk-00000000-0@gkterm",
	    .contact = "sip:alice@198.18.0.2:5060",
	    .has_expires = true,
	    .expires = expires,
	    .auth = cred,
	    .proxy_auth = proxy,
	};
	return gk_sip_ua_request(&d, &q, buf, cap);
}

TEST(authorization_reads_back_and_verifies)
{
	static const struct {
		enum gk_digest_alg alg;
		const char *name;
	} algs[] = {{GK_DIGEST_MD5, "MD5"}, {GK_DIGEST_SHA256, "SHA-256"}};
	uint8_t buf[2048];
	char ha1[GK_DIGEST_HEX_BUF];

	for (size_t i = 0; i < 2; i++) {
		struct gk_digest c = chal("reg1", "AbCdEf0123456789", algs[i].name, true), cred;
		struct gk_msg m;
		enum gk_reason why;
		strcpy(c.opaque, "op/aque");
		ASSERT_EQ(0, gk_sip_ua_digest_answer(&c, algs[i].alg, "alice", "secret pw",
		                                     "REGISTER", "sip:reg1", 7, "0a1b2c3d", &cred));
		int n = register_with(&cred, false, 600, buf, sizeof(buf));
		ASSERT_LT(0, n);
		ASSERT_EQ(0, gk_sip_decode(buf, (size_t)n, &m, &why));
		EXPECT_EQ(GK_MSG_REGISTER, m.type);
		EXPECT_STREQ("alice", m.idc);
		EXPECT_STREQ("reg1", m.idsp);
		EXPECT_EQ(600, m.expires);
		ASSERT_TRUE(m.fields & GK_F_DIGEST);
		/* nothing of GK1 went out */
		EXPECT_EQ(NULL, strstr((const char *)buf, "GK1"));
		EXPECT_EQ(0, m.fields & (GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_AUTH | GK_F_MECHS));
		EXPECT_STREQ("alice", m.digest.username);
		EXPECT_STREQ("reg1", m.digest.realm);
		EXPECT_STREQ("sip:reg1", m.digest.uri);
		EXPECT_STREQ(algs[i].name, m.digest.algorithm);
		EXPECT_STREQ("00000007", m.digest.nc);
		EXPECT_STREQ("op/aque", m.digest.opaque);
		ASSERT_EQ(0, gk_digest_ha1(algs[i].alg, "alice", "reg1", "secret pw", ha1));
		EXPECT_TRUE(gk_digest_verify(algs[i].alg, false, ha1, m.digest.nonce, m.digest.nc,
		                             m.digest.cnonce, m.digest.qop, "REGISTER",
		                             m.digest.uri, m.digest.response));
		/* and not for another method, password or count */
		EXPECT_FALSE(gk_digest_verify(algs[i].alg, false, ha1, m.digest.nonce, "00000008",
		                              m.digest.cnonce, m.digest.qop, "REGISTER",
		                              m.digest.uri, m.digest.response));
		ASSERT_EQ(0, gk_digest_ha1(algs[i].alg, "alice", "reg1", "secret pv", ha1));
		EXPECT_FALSE(gk_digest_verify(algs[i].alg, false, ha1, m.digest.nonce, m.digest.nc,
		                              m.digest.cnonce, m.digest.qop, "REGISTER",
		                              m.digest.uri, m.digest.response));

		/* Expires 0: a deregistration, the same credentials */
		n = register_with(&cred, false, 0, buf, sizeof(buf));
		ASSERT_LT(0, n);
		ASSERT_EQ(0, gk_sip_decode(buf, (size_t)n, &m, &why));
		EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
		EXPECT_TRUE(m.fields & GK_F_DIGEST);

		/* answering a 407: the same parameters under Proxy-Authorization */
		n = register_with(&cred, true, 600, buf, sizeof(buf));
		ASSERT_LT(0, n);
		buf[n] = '\0';
		EXPECT_NE(NULL, strstr((const char *)buf, "\r\nProxy-Authorization: Digest "
		                                          "username=\"alice\", realm=\"reg1\""));
		EXPECT_EQ(NULL, strstr((const char *)buf, "\r\nAuthorization:"));
		ASSERT_EQ(0, gk_sip_decode(buf, (size_t)n, &m, &why));
		EXPECT_FALSE(m.fields & GK_F_DIGEST); /* the exchange reads Authorization only */
	}
}

#define RSP_HEAD                                                                                   \
	"Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK1;rport=5060\r\n"                          \
	"From: <sip:alice@reg1>;tag=t0\r\n"                                                        \
	"To: <sip:alice@reg1>;tag=r1\r\n"                                                          \
	"Call-ID: c1\r\n"                                                                          \
	"CSeq: 1 REGISTER\r\n"

static int decode_str(const char *msg, const char *alg, struct gk_msg *m)
{
	enum gk_reason why;

	if (alg)
		return gk_sip_decode_ua((const uint8_t *)msg, strlen(msg), alg, m, &why);
	return gk_sip_decode((const uint8_t *)msg, strlen(msg), m, &why);
}

TEST(ua_picks_the_challenge_of_its_algorithm)
{
	/* one challenge per algorithm, each with its own nonce (as RFC 8760 allows) */
	static const char split[] =
	    "SIP/2.0 401 Unauthorized\r\n" RSP_HEAD
	    "WWW-Authenticate: Digest realm=\"reg1\", nonce=\"nonceA\", qop=\"auth\", "
	    "algorithm=SHA-256\r\n"
	    "WWW-Authenticate: Digest realm=\"reg1\", nonce=\"nonceB\", qop=\"auth,auth-int\", "
	    "opaque=\"o\"\r\n"
	    "Content-Length: 0\r\n\r\n";
	struct gk_msg m;

	ASSERT_EQ(0, decode_str(split, "MD5", &m));
	EXPECT_EQ(GK_MSG_CHALLENGE, m.type);
	ASSERT_TRUE(m.fields & GK_F_DIGEST_CHAL);
	EXPECT_STREQ("nonceB", m.digest.nonce);
	EXPECT_STREQ("MD5", m.digest.algorithm); /* absent means MD5 */
	EXPECT_STREQ("o", m.digest.opaque);
	EXPECT_STREQ("auth", m.digest.qop);
	EXPECT_EQ(401, m.wire.sip.status);
	ASSERT_EQ(0, decode_str(split, "sha-256", &m));
	EXPECT_STREQ("nonceA", m.digest.nonce);
	EXPECT_STREQ("SHA-256", m.digest.algorithm);
	/* none of its algorithm: the first, which the UA then refuses */
	struct gk_digest out;
	ASSERT_EQ(0, decode_str(split, "SHA-512-256", &m));
	EXPECT_STREQ("nonceA", m.digest.nonce);
	EXPECT_EQ(-ENOENT, gk_sip_ua_digest_answer(&m.digest, GK_DIGEST_SHA512_256, "alice", "pw",
	                                           "REGISTER", "sip:reg1", 1, "cn", &out));
	/* the exchange's own reading is unchanged: the first, the other nonce ignored */
	ASSERT_EQ(0, decode_str(split, NULL, &m));
	EXPECT_STREQ("nonceA", m.digest.nonce);
	EXPECT_STREQ("SHA-256", m.digest.algorithm);

	/* a 407 (a proxy's challenge): read by a UA only */
	static const char proxy[] =
	    "SIP/2.0 407 Proxy Authentication Required\r\n" RSP_HEAD
	    "Proxy-Authenticate: Digest realm=\"reg1\", nonce=\"nonceP\", qop=\"auth\", "
	    "algorithm=MD5, stale=true\r\n"
	    "Content-Length: 0\r\n\r\n";
	ASSERT_EQ(0, decode_str(proxy, "MD5", &m));
	EXPECT_EQ(GK_MSG_CHALLENGE, m.type);
	EXPECT_EQ(407, m.wire.sip.status);
	EXPECT_STREQ("nonceP", m.digest.nonce);
	EXPECT_TRUE(m.digest.stale);
	ASSERT_EQ(0, decode_str(proxy, NULL, &m));
	EXPECT_EQ(GK_MSG_REJECT, m.type);
}

/* ---- gkterm --digest against a registrar on loopback ----------------------------------------- */

#define N_TERMS 3
#define REALM   "reg1"

/* Requests the registrar refuses for overload (503 + Retry-After), each user's first of them. */
enum {
	BUSY_REGISTER = 1 << 0, /* a REGISTER without credentials */
	BUSY_ANSWER = 1 << 1,   /* a REGISTER with credentials: its nonce is forgotten too */
	BUSY_OPTIONS = 1 << 2,
	BUSY_DEREG = 1 << 3,
};

struct reg_cfg {
	const char *offer[2]; /* one challenge per algorithm, each with its own nonce */
	bool proxy;           /* challenge with 407 and Proxy-Authenticate */
	bool drop_first;      /* drop each user's first REGISTER: gkterm must retransmit */
	const char *pw;       /* every user's password, else the one their Kc derives */
	unsigned busy;        /* BUSY_*: refused once per user for overload */
	unsigned retry_after; /* the Retry-After of those refusals, in seconds */
};

struct reg_stats {
	unsigned challenges, accepted, preemptive, wrong, deregistered, options, dropped;
	unsigned proxy_creds, bad_uri, gk1_seen;
	unsigned busy;          /* 503s sent */
	unsigned unknown_nonce; /* credentials for a nonce not (or no longer) issued */
};

static uint8_t kcs[N_TERMS][GK_KEY_LEN];

static int user_index(const char *idc)
{
	for (int i = 0; i < N_TERMS; i++) {
		char want[16];
		snprintf(want, sizeof(want), "d%d", i + 1);
		if (!strcmp(idc, want))
			return i;
	}
	return !strcmp(idc, "u1") ? 0 : -1;
}

/* The response to req: gk_sip_answer's, with extra header lines before its Content-Length. */
static void reply(int fd, const uint8_t *req, size_t len, const struct sockaddr_storage *from,
                  unsigned status, const char *phrase, const char *extra)
{
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	uint8_t out[4096];
	int n = gk_sip_answer(req, len, status, phrase, from, out, sizeof(out) - 1024);

	if (n <= (int)strlen(tail))
		return;
	n -= (int)strlen(tail);
	n += snprintf((char *)out + n, sizeof(out) - (size_t)n, "%s%s", extra, tail);
	sendto(fd, out, (size_t)n, 0, (const struct sockaddr *)from, sizeof(struct sockaddr_in));
}

struct issued {
	char nonce[32];
	uint32_t nc; /* highest accepted */
};

/* The registrar: challenge, check, remember nonces and counts; until "stop", or 30 s. */
static void registrar(int fd, const struct reg_cfg *cfg, int out)
{
	static struct issued iss[N_TERMS][8];
	static char last[N_TERMS][sizeof(
	    ((struct gk_digest *)0)->response)]; /* each user's last answer taken */
	struct reg_stats st = {0};
	bool seen[N_TERMS] = {0};
	unsigned refused[N_TERMS] = {0}; /* the BUSY_* each user was refused already */
	unsigned next_nonce = 0;
	char retry[64];
	uint8_t buf[4096];

	for (int rounds = 0; rounds < 300;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0) {
			rounds++;
			continue;
		}
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (n == 4 && !memcmp(buf, "stop", 4))
			break;
		char *pa = strstr((char *)buf, "\r\nProxy-Authorization:");
		if (pa) { /* read as Authorization: the exchange's decoder reads no other */
			memcpy(pa + 2, "Authorization      :", 20);
			st.proxy_creds++;
		}
		st.gk1_seen += strstr((char *)buf, "GK1") != NULL;
		struct gk_msg m;
		enum gk_reason why;
		if (gk_sip_decode(buf, (size_t)n, &m, &why) < 0)
			continue;
		int u = user_index(m.idc);
		bool options = !strcmp(m.wire.sip.method, "OPTIONS");
		unsigned busy = options                       ? BUSY_OPTIONS
		                : m.type == GK_MSG_DEREGISTER ? BUSY_DEREG
		                : m.fields & GK_F_DIGEST      ? BUSY_ANSWER
		                                              : BUSY_REGISTER;
		if (u >= 0 && (cfg->busy & busy) && !(refused[u] & busy) &&
		    !(cfg->drop_first && !seen[u])) {
			/* before the credentials are checked: their nc is not taken */
			refused[u] |= busy;
			st.busy++;
			if (busy == BUSY_ANSWER)
				for (int k = 0; k < 8; k++)
					iss[u][k].nonce[0] = '\0';
			snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", cfg->retry_after);
			reply(fd, buf, (size_t)n, &from, 503, "Service Unavailable", retry);
			continue;
		}
		if (options) {
			st.options++;
			reply(fd, buf, (size_t)n, &from, 200, "OK", "");
			continue;
		}
		if (u < 0)
			continue;
		if (cfg->drop_first && !seen[u]) {
			seen[u] = true;
			st.dropped++;
			continue;
		}
		if ((m.fields & GK_F_DIGEST) && !strcmp(m.digest.response, last[u])) {
			/* a retransmission of the answer just taken (a late 200): taken again */
			reply(fd, buf, (size_t)n, &from, 200, "OK",
			      m.type == GK_MSG_DEREGISTER ? "" : "Expires: 60\r\n");
			continue;
		}
		if (m.fields & GK_F_DIGEST) {
			const struct gk_digest *g = &m.digest;
			struct issued *it = NULL;
			for (int k = 0; k < 8; k++)
				if (!strcmp(iss[u][k].nonce, g->nonce))
					it = &iss[u][k];
			enum gk_digest_alg alg;
			bool sess;
			char ha1[GK_DIGEST_HEX_BUF], pw[GK_DIGEST_PW_LEN + 1];
			uint32_t nc = (uint32_t)strtoul(g->nc, NULL, 16);
			const char *a = g->algorithm[0] ? g->algorithm : "MD5";
			if (cfg->pw)
				snprintf(pw, sizeof(pw), "%s", cfg->pw);
			else
				gk_digest_password(kcs[u], pw);
			st.bad_uri += strcmp(g->uri, "sip:" REALM) != 0;
			if (it && nc > it->nc && !strcmp(g->username, m.idc) &&
			    gk_digest_alg_parse(a, strlen(a), &alg, &sess) == 0 &&
			    gk_digest_ha1(alg, g->username, REALM, pw, ha1) == 0 &&
			    gk_digest_verify(alg, sess, ha1, g->nonce, g->nc, g->cnonce, g->qop,
			                     "REGISTER", g->uri, g->response)) {
				it->nc = nc;
				snprintf(last[u], sizeof(last[u]), "%s", g->response);
				st.preemptive += nc > 1;
				if (m.type == GK_MSG_DEREGISTER) {
					st.deregistered++;
					reply(fd, buf, (size_t)n, &from, 200, "OK", "");
				} else {
					st.accepted++;
					reply(fd, buf, (size_t)n, &from, 200, "OK",
					      "Expires: 60\r\n");
				}
				continue;
			}
			st.wrong += it && nc > it->nc;
			st.unknown_nonce += !it;
		}
		char extra[1024] = "";
		size_t e = 0;
		for (int k = 0; k < 2 && cfg->offer[k]; k++) {
			struct issued *it = &iss[u][next_nonce % 8];
			snprintf(it->nonce, sizeof(it->nonce), "n%04x%08x", next_nonce++,
			         (unsigned)random());
			it->nc = 0;
			e +=
			    (size_t)snprintf(extra + e, sizeof(extra) - e,
			                     "%s: Digest realm=\"" REALM "\", nonce=\"%s\", "
			                     "qop=\"auth\", algorithm=%s\r\n",
			                     cfg->proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
			                     it->nonce, cfg->offer[k]);
		}
		st.challenges++;
		reply(fd, buf, (size_t)n, &from, cfg->proxy ? 407 : 401,
		      cfg->proxy ? "Proxy Authentication Required" : "Unauthorized", extra);
	}
	if (write(out, &st, sizeof(st)) != sizeof(st))
		_exit(2);
	_exit(0);
}

static char keydir[] = "/tmp/gk-digest-ua.XXXXXX";

/* Runs gkterm with args against a registrar with cfg: its output, exit status, the stats. */
static int run(const struct reg_cfg *cfg, const char *args, char *out, size_t cap,
               struct reg_stats *st)
{
	char cmd[2048], bin[1024];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), pfd[2];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0 || pipe(pfd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		registrar(fd, cfg, pfd[1]);
	}
	close(pfd[1]);
	const char *build = getenv("GK_BUILD");
	if (build)
		snprintf(bin, sizeof(bin), "%s/bin/gkterm", build);
	else
		repo_path(bin, sizeof(bin), "build/bin/gkterm");
	snprintf(cmd, sizeof(cmd), "%s --server 127.0.0.1:%u --idsp " REALM " --timeout 20 %s", bin,
	         ntohs(a.sin_port), args);
	int rc = tool_output(cmd, out, cap);
	sendto(fd, "stop", 4, 0, (struct sockaddr *)&a, sizeof(a));
	memset(st, 0, sizeof(*st));
	if (read(pfd[0], st, sizeof(*st)) != sizeof(*st))
		rc = -1;
	close(pfd[0]);
	close(fd);
	int ws;
	waitpid(pid, &ws, 0);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static unsigned field_of(const char *out, const char *name)
{
	const char *p = strstr(out, name);
	return p ? (unsigned)strtoul(p + strlen(name), NULL, 10) : ~0u;
}

FIXTURE(gkterm)
{
	char out[16384];
	char args[1024];
	struct reg_stats st;
};

FIXTURE_SETUP(gkterm)
{
	char path[256], id[16];

	ASSERT_NE(NULL, mkdtemp(keydir));
	for (int i = 0; i < N_TERMS; i++) {
		snprintf(id, sizeof(id), "d%d", i + 1);
		snprintf(path, sizeof(path), "%s/%s.key", keydir, id);
		ASSERT_EQ(0, gk_random(kcs[i], GK_KEY_LEN));
		ASSERT_EQ(0, gk_provision_write(path, id, kcs[i]));
	}
}

FIXTURE_TEARDOWN(gkterm)
{
	char path[256];

	for (int i = 0; i < N_TERMS; i++) {
		snprintf(path, sizeof(path), "%s/d%d.key", keydir, i + 1);
		unlink(path);
	}
	rmdir(keydir);
	strcpy(keydir, "/tmp/gk-digest-ua.XXXXXX");
}

/* Passwords derived from the key files; one challenge each, then the cached nonce (nc 2, 3) for
 * the refresh and the deregistration; plain OPTIONS; lost REGISTERs retransmitted. */
TEST_F(gkterm, registers_refreshes_and_deregisters_with_md5)
{
	struct reg_cfg cfg = {.offer = {"MD5"}, .drop_first = true};

	snprintf(self->args, sizeof(self->args),
	         "--digest MD5 --prefix d --count %d --key-dir %s --refresh 1 --options 1 "
	         "--deregister --quiet",
	         N_TERMS, keydir);
	ASSERT_EQ(0, run(&cfg, self->args, self->out, sizeof(self->out), &self->st))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=3 registered=3 failed=0 "));
	EXPECT_LE(3, field_of(self->out, "retransmits="));
	EXPECT_NE(NULL, strstr(self->out, " rate="));
	EXPECT_NE(NULL, strstr(self->out, "\nrefreshed 3\n"));
	EXPECT_NE(NULL, strstr(self->out, "\noptions sent=3 ok=3 "));
	EXPECT_NE(NULL, strstr(self->out, "\nderegistered 3\n"));
	EXPECT_EQ(3, self->st.dropped);
	EXPECT_EQ(3, self->st.challenges);
	EXPECT_EQ(6, self->st.accepted); /* the first registration and the refresh */
	EXPECT_EQ(6, self->st.preemptive);
	EXPECT_EQ(3, self->st.deregistered);
	EXPECT_EQ(3, self->st.options);
	EXPECT_EQ(0, self->st.wrong);
	EXPECT_EQ(0, self->st.bad_uri);
	EXPECT_EQ(0, self->st.gk1_seen);
}

/* SHA-256 offered second, under its own nonce, in a 407; --user and --password. */
TEST_F(gkterm, answers_a_proxy_challenge_with_sha256)
{
	struct reg_cfg cfg = {.offer = {"MD5", "SHA-256"}, .proxy = true, .pw = "open sesame"};

	ASSERT_EQ(0, run(&cfg, "--digest SHA-256 --user u1 --password 'open sesame'", self->out,
	                 sizeof(self->out), &self->st))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "registered u1 index=0 mech=digest expires=60 fpr=-\n"));
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=1 registered=1 failed=0 "));
	EXPECT_EQ(1, self->st.accepted);
	EXPECT_EQ(1, self->st.proxy_creds);
}

TEST_F(gkterm, fails_without_a_challenge_of_its_algorithm)
{
	struct reg_cfg cfg = {.offer = {"SHA-256"}, .pw = "pw"};

	EXPECT_EQ(1, run(&cfg, "--digest MD5 --user u1 --password pw", self->out, sizeof(self->out),
	                 &self->st));
	EXPECT_NE(NULL, strstr(self->out, "failed u1 reason=NO_MECH (no Digest challenge with "
	                                  "algorithm MD5) registered=0 options=0/0 "))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=1 registered=0 failed=1 "));
	EXPECT_NE(NULL, strstr(self->out, "failures.NO_MECH 1\n"));
	EXPECT_EQ(0, self->st.accepted);
}

TEST_F(gkterm, a_wrong_password_is_refused_once)
{
	struct reg_cfg cfg = {.offer = {"MD5"}, .pw = "right"};

	EXPECT_EQ(1, run(&cfg, "--digest MD5 --user u1 --password wrong", self->out,
	                 sizeof(self->out), &self->st));
	EXPECT_NE(NULL, strstr(self->out, "failed u1 reason=WRONG_AUTH (challenged again after "
	                                  "answering: wrong user or password) registered=0 "))
	TH_LOG("%s", self->out);
	EXPECT_EQ(2, self->st.challenges);
	EXPECT_EQ(1, self->st.wrong);
}

/* RFC 3261 §21.5.4: each step refused once for overload, Retry-After: 1. The REGISTER (before
 * any challenge) goes again after the wait and its 401 is answered; the OPTIONS and the
 * deregistration (with the cached nonce) go again too. One wait after the other: 3 s at least. */
TEST_F(gkterm, waits_out_503s_then_registers_sends_options_and_deregisters)
{
	struct reg_cfg cfg = {
	    .offer = {"MD5"}, .busy = BUSY_REGISTER | BUSY_OPTIONS | BUSY_DEREG, .retry_after = 1};

	snprintf(self->args, sizeof(self->args),
	         "--digest MD5 --prefix d --count %d --key-dir %s --options 1 --deregister "
	         "--quiet",
	         N_TERMS, keydir);
	ASSERT_EQ(0, run(&cfg, self->args, self->out, sizeof(self->out), &self->st))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=3 registered=3 failed=0 "));
	EXPECT_EQ(9, field_of(self->out, " overloaded="));
	EXPECT_LE(3000, field_of(self->out, " elapsed_ms="));
	EXPECT_NE(NULL, strstr(self->out, "\noptions sent=3 ok=3 "));
	EXPECT_NE(NULL, strstr(self->out, "\nderegistered 3\n"));
	EXPECT_EQ(9, self->st.busy);
	EXPECT_EQ(3, self->st.challenges);
	EXPECT_EQ(3, self->st.accepted);
	EXPECT_EQ(3, self->st.options);
	EXPECT_EQ(3, self->st.deregistered);
	EXPECT_EQ(0, self->st.wrong);
	EXPECT_EQ(0, self->st.unknown_nonce);
}

/* The answer to the challenge is refused for overload and the registrar forgets its nonce: after
 * the wait the REGISTER goes with the cached credentials, is challenged anew (not stale: the
 * request's first challenge, no wrong password) and that one is answered. */
TEST_F(gkterm, a_503_to_its_answer_is_waited_out_and_a_new_challenge_answered)
{
	struct reg_cfg cfg = {
	    .offer = {"SHA-256"}, .pw = "pw", .busy = BUSY_ANSWER, .retry_after = 1};

	ASSERT_EQ(0, run(&cfg, "--digest SHA-256 --user u1 --password pw", self->out,
	                 sizeof(self->out), &self->st))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "registered u1 index=0 mech=digest expires=60 fpr=-\n"));
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=1 registered=1 failed=0 "));
	EXPECT_EQ(1, field_of(self->out, " overloaded="));
	EXPECT_LE(1000, field_of(self->out, " elapsed_ms="));
	EXPECT_EQ(1, self->st.busy);
	EXPECT_EQ(1, self->st.unknown_nonce);
	EXPECT_EQ(2, self->st.challenges);
	EXPECT_EQ(1, self->st.accepted);
	EXPECT_EQ(0, self->st.wrong);
}

/* Retry-After: 60 against --timeout 20: it fails at once, not at the deadline. */
TEST_F(gkterm, fails_with_overload_when_the_wait_outlasts_the_timeout)
{
	struct reg_cfg cfg = {
	    .offer = {"MD5"}, .pw = "pw", .busy = BUSY_REGISTER, .retry_after = 60};

	EXPECT_EQ(1, run(&cfg, "--digest MD5 --user u1 --password pw", self->out, sizeof(self->out),
	                 &self->st));
	EXPECT_NE(NULL, strstr(self->out, "failed u1 reason=OVERLOAD (503 Service Unavailable: its "
	                                  "wait outlasts --timeout) status=503 registered=0 "))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=1 registered=0 failed=1 "));
	EXPECT_NE(NULL, strstr(self->out, "failures.OVERLOAD 1\n"));
	EXPECT_EQ(1, field_of(self->out, " overloaded="));
	EXPECT_GT(5000, field_of(self->out, " elapsed_ms="));
	EXPECT_EQ(1, self->st.busy);
	EXPECT_EQ(0, self->st.challenges);
}

/* The first line of path, read whole into buf (cap bytes); "" when it cannot be read. */
static const char *read_small(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* --sample: only terminal 1..2 send their OPTIONS; --histogram: one line a bucket, the counts
 * summing to the registrations; --progress (stderr no terminal: the last line only, in a run
 * this short) and --progress-file (the last line, done=1, nothing left aside). */
TEST_F(gkterm, samples_the_probes_and_shows_progress_and_a_histogram)
{
	struct reg_cfg cfg = {.offer = {"MD5"}};
	char path[128], err[128], line[512], tmp[160];

	snprintf(path, sizeof(path), "%s/progress", keydir);
	snprintf(err, sizeof(err), "%s/stderr", keydir);
	snprintf(self->args, sizeof(self->args),
	         "--digest MD5 --prefix d --count %d --key-dir %s --options 2 --sample 2 "
	         "--histogram --progress --progress-file %s --quiet 2>%s",
	         N_TERMS, keydir, path, err);
	ASSERT_EQ(0, run(&cfg, self->args, self->out, sizeof(self->out), &self->st))
	TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "summary terminals=3 registered=3 failed=0 "));
	EXPECT_NE(NULL, strstr(self->out, "\noptions sent=4 ok=4 "));
	EXPECT_EQ(4, self->st.options);

	unsigned total = 0, lines = 0;
	for (const char *p = strstr(self->out, "\nhistogram "); p;
	     p = strstr(p + 1, "\nhistogram ")) {
		char bound[16], pct[16];
		unsigned count;
		ASSERT_EQ(3, sscanf(p + 1, "histogram %15s ms %u %15s", bound, &count, pct));
		EXPECT_TRUE(bound[0] == '<' || !strncmp(bound, ">=", 2)) TH_LOG("%s", bound);
		EXPECT_EQ('%', pct[strlen(pct) - 1]);
		total += count;
		lines++;
	}
	EXPECT_EQ(3, total);
	EXPECT_LE(1, lines);
	/* after the summary line */
	EXPECT_LT(strstr(self->out, "summary "), strstr(self->out, "histogram "));

	read_small(path, line, sizeof(line));
	EXPECT_EQ(0, strncmp(line, "registered=3/3 failed=0 rate=", 29)) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, " reg/s elapsed="));
	EXPECT_NE(NULL, strstr(line, " s reg_ms="));
	EXPECT_NE(NULL, strstr(line, " done=1\n"));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	EXPECT_NE(0, access(tmp, F_OK));
	read_small(err, line, sizeof(line));
	EXPECT_EQ(0, strncmp(line, "registered=3/3 failed=0 rate=", 29)) TH_LOG("%s", line);
	EXPECT_EQ(NULL, strchr(line, '\r'));
	unlink(path);
	unlink(err);
}

TEST(gkterm_refuses_what_a_digest_terminal_cannot_do)
{
	char out[4096], cmd[1200], bin[1024];
	static const char *const bad[] = {
	    "--digest MD5 --proto mgcp --user u --password p",
	    "--digest MD5 --user u --password p --abuse",
	    "--digest MD5 --user u --password p --call bob",
	    "--digest MD5-sess --user u --password p",
	    "--user u --password p",
	};
	const char *build = getenv("GK_BUILD");

	if (build)
		snprintf(bin, sizeof(bin), "%s/bin/gkterm", build);
	else
		repo_path(bin, sizeof(bin), "build/bin/gkterm");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s --server 127.0.0.1:9 --idsp x %s 2>&1", bin, bad[i]);
		int rc = tool_output(cmd, out, sizeof(out));
		EXPECT_EQ(2, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1) TH_LOG("%s: %s", bad[i], out);
	}
}

TEST_HARNESS_MAIN
