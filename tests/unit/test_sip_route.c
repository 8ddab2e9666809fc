// SPDX-License-Identifier: GPL-2.0-only
/*
 * The router of SIP requests between registered terminals (lib/route/sip_route.c), driven as
 * softswitchd drives it: a real loop, a front listening for SIP on loopback, a registrar holding
 * digest bindings pinned to the addresses of plain UDP sockets (alice, bob, mallory), and every
 * message on the wire. The end-to-end test (tests/e2e/t_route_sip.sh) shows honest UAs served;
 * this shows what a dishonest one gets: mallory, registered herself, sends what she could have
 * sniffed (a dialog's Call-ID and tags, a transaction's branch) to end, answer or cancel what is
 * not hers, or rings when called and then falls silent; a stranger sends from an address no
 * binding holds.
 *
 * With the element's lookup (softswitchd asks the AuC whether a user without a binding exists),
 * a fake op stands in for the AuC: the tests answer it when they like, or never, or from inside
 * the call, and see 404, 480, the bounded wait, and a stale answer finding nothing.
 *
 * The transaction timers run a hundred times faster (T1 5 ms, timer F 320 ms, timer C 300 ms),
 * so the router retransmits what a terminal has not answered within milliseconds: a terminal
 * waits for the datagram it expects and skips the copies. The tests wait for datagrams and
 * counters, never for a fixed time, except to show that nothing comes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "helper_loop.h"
#include "kselftest_harness.h"

#include "gatekey/codec/codec.h"
#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/front_io.h"
#include "gatekey/exchange/locations.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/route/sip_route.h"

#define DIVISOR  100   /* T1 5 ms, T2 40 ms, T4 50 ms, 64*T1 320 ms */
#define TIMER_C  30000 /* 300 ms once divided: past every answer a test sends at once */
#define T64      (64 * 500 / DIVISOR)
#define WAIT_MS  3000 /* a datagram that must come: given up after this */
#define QUIET_MS 100  /* a datagram that must not come: none for this long */
#define MSG_CAP  8192
/* 300 ms once divided (64*T1 is the most it may be): a lookup the test never answers. A test
 * that answers later waits QUIET_MS once at most before it does. */
#define LOOKUP_WAIT 30000

/* The terminals: the first three have bindings, the stranger none. */
enum { ALICE, BOB, MALLORY, STRANGER, N_TERMS };
static const char *const names[N_TERMS] = {"alice", "bob", "mallory", "stranger"};

struct term {
	int fd;
	struct sockaddr_storage addr;
	char at[64];       /* its address as "127.0.0.1:port" */
	char got[MSG_CAP]; /* the last datagram it waited for, NUL-terminated */
};

struct rig {
	struct gk_loop *loop;
	struct gk_registrar *reg;
	struct gk_front_io io;
	struct gk_sip_router *router;
	struct sockaddr_storage sip; /* the router's socket */
	char self[64];               /* and its "127.0.0.1:port" */
	struct term term[N_TERMS];
	unsigned left_over; /* datagrams the router left to the registration exchange */
	/* the fake lookup op (rigs opened with one): what it was asked, and how it answers */
	unsigned asked;
	char asked_idc[GK_ID_MAX + 1];
	uint32_t asked_ref;
	int answer_at_once; /* -1: later (the test calls gk_sip_router_looked_up); 0, 1: known */
	bool cannot_ask;    /* the op returns -1 */
	const char *gone;   /* locate finds no binding for this user (its binding ended) */
};

/* ---- the loop ---------------------------------------------------------------------------- */

/* A counter of the router's stats reaching a value. */
struct count_at_least {
	const uint64_t *counter;
	uint64_t n;
};

static bool counted(void *arg)
{
	struct count_at_least *c = arg;
	return *c->counter >= c->n;
}

static bool wait_count(struct rig *r, const uint64_t *counter, uint64_t n)
{
	struct count_at_least c = {counter, n};
	return run_until(r->loop, counted, &c, WAIT_MS);
}

/* ---- the rig ----------------------------------------------------------------------------- */

static void no_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                    struct gk_binding *b)
{
	(void)user, (void)m, (void)to, (void)b; /* no registration is ever exchanged here */
}

/* What softswitchd's on_terminal does with a SIP datagram from a terminal: the trailer check,
 * then the router; what the router leaves would go to the registration exchange, and is only
 * counted here. */
static void on_sip(void *user, int fd, uint8_t *data, size_t len,
                   const struct sockaddr_storage *from)
{
	struct rig *r = user;
	struct gk_front_sock *sock = gk_front_io_sock(&r->io, fd);
	enum gk_reason why;
	uint32_t index;
	long n;

	if (!sock)
		return;
	n = gk_registrar_open(r->reg, data, len, from, &index, &why);
	if (n < 0)
		return;
	if (index)
		len = (size_t)n;
	if (!gk_sip_router_input(r->router, sock, data, len, from, index))
		r->left_over++;
}

/* ---- the element's ops with a lookup: the direct topology's, and a fake AuC ---------------- */

static enum gk_reason t_sender(void *user, const struct gk_sip_view *v,
                               const struct sockaddr_storage *from, uint32_t index,
                               char idc[GK_ID_MAX + 1])
{
	(void)v;
	return gk_sip_router_terminal_sender(((struct rig *)user)->router, from, index, idc);
}

static int t_locate(void *user, const char *idc, uint32_t in, struct gk_sip_hop *hop)
{
	struct rig *r = user;
	(void)in;
	if (r->gone && strcmp(idc, r->gone) == 0)
		return -ENOENT;
	return gk_sip_router_terminal_locate(r->router, idc, hop);
}

static int t_self(void *user, const struct gk_sip_hop *hop, char *out, size_t cap)
{
	return gk_sip_router_terminal_self(((struct rig *)user)->router, &hop->addr, out, cap);
}

static bool t_serves(void *user, struct sip_span host)
{
	(void)user;
	return host.n == 3 && strncasecmp(host.p, "ss1", 3) == 0;
}

static void t_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                   uint32_t seal)
{
	gk_front_io_xmit(&((struct rig *)user)->io, GK_PROTO_SIP, to, data, len, seal);
}

static int t_lookup(void *user, const char *idc, uint32_t ref)
{
	struct rig *r = user;

	r->asked++;
	snprintf(r->asked_idc, sizeof(r->asked_idc), "%s", idc);
	r->asked_ref = ref;
	if (r->cannot_ask)
		return -1;
	if (r->answer_at_once >= 0)
		gk_sip_router_looked_up(r->router, ref, r->answer_at_once == 1);
	return 0;
}

/* The router on a loopback port of the kernel's choice, with max_client transactions (and as
 * many route slots) towards callees; the terminals on theirs, all but the stranger bound. With
 * lookup, the element's ops are the rig's, which ask the fake lookup; without, the router's own
 * (the direct topology, no lookup). */
static int rig_open_with(struct rig *r, uint32_t max_client, bool lookup)
{
	static const struct gk_sip_router_ops ops = {.sender = t_sender,
	                                             .locate = t_locate,
	                                             .self = t_self,
	                                             .serves = t_serves,
	                                             .xmit = t_xmit,
	                                             .lookup = t_lookup};
	static const struct gk_registrar_ops reg_ops = {.send_terminal = no_send};
	struct sockaddr_storage any;
	struct gk_registrar_cfg rc;
	struct gk_sip_txn_cfg tc;
	socklen_t alen = sizeof(r->sip);
	char err[256];
	int fd;

	memset(r, 0, sizeof(*r));
	r->answer_at_once = -1;
	for (int i = 0; i < N_TERMS; i++)
		r->term[i].fd = -1;
	gk_log_level = GK_LOG_WARN;
	if (gk_parse_addr("127.0.0.1:0", &any, err, sizeof(err)) < 0 ||
	    !(r->loop = gk_loop_new(NULL, err, sizeof(err))))
		return -1;
	gk_registrar_cfg_defaults(&rc);
	snprintf(rc.idsp, sizeof(rc.idsp), "ss1");
	gk_random(rc.element_key, GK_KEY_LEN);
	rc.max_terminals = 16;
	rc.max_pending = 4;
	rc.log_registrations = false;
	r->reg = gk_registrar_new(&rc, &reg_ops, r, r->loop, err, sizeof(err));
	if (!r->reg)
		return -1;
	r->io.loop = r->loop;
	r->io.front = r->reg;
	if (gk_front_io_listen(&r->io, gk_codec_get(GK_PROTO_SIP), &any, 1, on_sip, r, &fd) < 0 ||
	    getsockname(fd, (struct sockaddr *)&r->sip, &alen) < 0)
		return -1;
	/* softswitchd listens on a configured port; this one is the kernel's choice, and the
	 * router names its socket's address in its Via and Record-Route */
	r->io.sock[0].addr = r->sip;
	gk_format_addr(&r->sip, r->self, sizeof(r->self));
	gk_sip_txn_cfg_defaults(&tc);
	tc.time_divisor = DIVISOR;
	tc.timer_c_ms = TIMER_C;
	tc.max_server = 16;
	tc.max_client = max_client;
	r->router =
	    gk_sip_router_new("ss1", &r->io, &tc, lookup ? &ops : NULL, r, err, sizeof(err));
	if (!r->router)
		return -1;
	gk_sip_router_set_lookup_wait(r->router, LOOKUP_WAIT);
	for (int i = 0; i < N_TERMS; i++) {
		struct term *t = &r->term[i];
		struct gk_binding_record rec = {.index = (uint32_t)i + 1,
		                                .mech = GK_MECH_DIGEST,
		                                .expires_at_s = (uint64_t)time(NULL) + 3600};
		alen = sizeof(t->addr);
		t->fd = gk_udp_socket(&any);
		if (t->fd < 0 || getsockname(t->fd, (struct sockaddr *)&t->addr, &alen) < 0)
			return -1;
		gk_format_addr(&t->addr, t->at, sizeof(t->at));
		if (i == STRANGER)
			continue;
		snprintf(rec.idc, sizeof(rec.idc), "%s", names[i]);
		rec.addr = t->addr;
		if (gk_registrar_restore(r->reg, &rec) < 0)
			return -1;
	}
	return 0;
}

static int rig_open(struct rig *r, uint32_t max_client)
{
	return rig_open_with(r, max_client, false);
}

static void rig_close(struct rig *r)
{
	/* the router cancels its timers, which moves others in the loop's heap: before the
	 * registrar frees its own without cancelling them (as softswitchd stops) */
	gk_sip_router_free(r->router);
	gk_front_io_close(&r->io);
	gk_registrar_free(r->reg);
	for (int i = 0; i < N_TERMS; i++)
		if (r->term[i].fd >= 0)
			close(r->term[i].fd);
	gk_loop_free(r->loop);
}

/* ---- terminals --------------------------------------------------------------------------- */

static void send_text(struct rig *r, int who, const char *text)
{
	sendto(r->term[who].fd, text, strlen(text), 0, (const struct sockaddr *)&r->sip,
	       gk_sockaddr_len(&r->sip));
}

/* A request as a UA writes it; from and to are whole header values ("<sip:a@ss1>;tag=1"). */
struct req {
	const char *method, *ruri, *branch, *call_id;
	const char *sent_by; /* the Via's sent-by: the sender's own address unless set */
	unsigned cseq;
	const char *from, *to;
	const char *extra; /* further header lines, each with its CRLF */
	const char *body;
};

static void send_request(struct rig *r, int who, const struct req *q)
{
	char buf[MSG_CAP];
	const char *body = q->body ? q->body : "";

	snprintf(buf, sizeof(buf),
	         "%s %s SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP %s;branch=%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: %s\r\n"
	         "To: %s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: %u %s\r\n"
	         "%s"
	         "Content-Length: %zu\r\n\r\n%s",
	         q->method, q->ruri, q->sent_by ? q->sent_by : r->term[who].at, q->branch, q->from,
	         q->to, q->call_id, q->cseq, q->method, q->extra ? q->extra : "", strlen(body),
	         body);
	send_text(r, who, buf);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A UA's response `status` ("200 OK") to request req as it received it (RFC 3261 §8.2.6, §12.1.1:
 * its Vias, Record-Routes, From, Call-ID and CSeq, its To with to_tag added when it has none),
 * sent from who. */
static void send_response(struct rig *r, int who, const char *req, const char *status,
                          const char *to_tag, const char *extra)
{
	static const char *const copied[] = {"Via:", "Record-Route:", "From:", "Call-ID:", "CSeq:"};
	char buf[MSG_CAP];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "SIP/2.0 %s\r\n", status);
	const char *line = strstr(req, "\r\n") + 2, *end;

	for (; !starts(line, "\r\n") && (end = strstr(line, "\r\n")); line = end + 2) {
		int len = (int)(end - line);
		bool copy = false;
		for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
			copy = copy || starts(line, copied[i]);
		if (copy)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s\r\n", len, line);
		else if (starts(line, "To:") && memmem(line, (size_t)len, ";tag=", 5))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s\r\n", len, line);
		else if (starts(line, "To:"))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s;tag=%s\r\n", len,
			                      line, to_tag);
	}
	snprintf(buf + n, sizeof(buf) - n, "%sContent-Length: 0\r\n\r\n", extra ? extra : "");
	send_text(r, who, buf);
}

/* What a terminal waits for: a datagram whose start line begins with `start` (NULL: none
 * matches) and which holds `has` (NULL: anything). */
struct want {
	struct term *t;
	const char *start, *has;
	unsigned read; /* datagrams read, matching or not */
};

/* Reads what waits on the terminal's socket until a datagram matches (kept in t->got). */
static bool arrived(void *arg)
{
	struct want *w = arg;
	char buf[MSG_CAP];
	ssize_t n;

	while ((n = recv(w->t->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) >= 0) {
		buf[n] = '\0';
		w->read++;
		if (w->start && starts(buf, w->start) && (!w->has || strstr(buf, w->has))) {
			memcpy(w->t->got, buf, (size_t)n + 1);
			return true;
		}
	}
	return false;
}

/* Runs the loop until who receives what it wants; the message, or NULL after WAIT_MS. What
 * came before it (retransmissions of what it had already) is skipped. */
static const char *await(struct rig *r, int who, const char *start, const char *has)
{
	struct want w = {.t = &r->term[who], .start = start, .has = has};
	return run_until(r->loop, arrived, &w, WAIT_MS) ? r->term[who].got : NULL;
}

/* Discards whatever waits for who. */
static void drain(struct rig *r, int who)
{
	struct want w = {.t = &r->term[who]};
	arrived(&w);
}

/* Runs the loop for QUIET_MS: the number of datagrams who received meanwhile. */
static unsigned heard(struct rig *r, int who)
{
	struct want w = {.t = &r->term[who]};
	run_until(r->loop, arrived, &w, QUIET_MS);
	return w.read;
}

/* Runs the loop for QUIET_MS: whether who received a datagram like await's. Unlike heard(), a
 * late retransmission of something earlier does not count. */
static bool heard_a(struct rig *r, int who, const char *start, const char *has)
{
	struct want w = {.t = &r->term[who], .start = start, .has = has};
	return run_until(r->loop, arrived, &w, QUIET_MS);
}

/* The value of the first header field called name in msg's head, into out; false when none. */
static bool header(const char *msg, const char *name, char *out, size_t cap)
{
	char key[64];
	const char *p, *end, *head_end = strstr(msg, "\r\n\r\n");

	snprintf(key, sizeof(key), "\r\n%s:", name);
	p = strstr(msg, key);
	if (!p || (head_end && p > head_end))
		return false;
	p += strlen(key);
	while (*p == ' ')
		p++;
	end = strstr(p, "\r\n");
	snprintf(out, cap, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
	return true;
}

/* How many header fields called name msg's head has. */
static unsigned count_header(const char *msg, const char *name)
{
	char key[64];
	const char *head_end = strstr(msg, "\r\n\r\n");
	unsigned n = 0;

	snprintf(key, sizeof(key), "\r\n%s:", name);
	for (const char *p = strstr(msg, key); p && (!head_end || p < head_end);
	     p = strstr(p + 1, key))
		n++;
	return n;
}

/* The branch parameter of msg's top Via, into out. */
static void top_branch(const char *msg, char *out, size_t cap)
{
	char via[512];
	const char *b;

	out[0] = '\0';
	if (header(msg, "Via", via, sizeof(via)) && (b = strstr(via, "branch=")))
		snprintf(out, cap, "%.*s", (int)strcspn(b + 7, ";, \r\n"), b + 7);
}

/* ---- fixtures ---------------------------------------------------------------------------- */

FIXTURE(route)
{
	struct rig r;
};

FIXTURE_SETUP(route)
{
	ASSERT_EQ(0, gk_crypto_init());
	ASSERT_EQ(0, rig_open(&self->r, 16));
}

FIXTURE_TEARDOWN(route)
{
	rig_close(&self->r);
}

/* One route slot only: an answer that forgot to give its slot back leaves the router unable to
 * route anything after it. */
FIXTURE(one_route)
{
	struct rig r;
};

FIXTURE_SETUP(one_route)
{
	ASSERT_EQ(0, gk_crypto_init());
	ASSERT_EQ(0, rig_open(&self->r, 1));
}

FIXTURE_TEARDOWN(one_route)
{
	rig_close(&self->r);
}

/* With the element's lookup, as softswitchd routes. */
FIXTURE(lookup)
{
	struct rig r;
};

FIXTURE_SETUP(lookup)
{
	ASSERT_EQ(0, gk_crypto_init());
	ASSERT_EQ(0, rig_open_with(&self->r, 16, true));
}

FIXTURE_TEARDOWN(lookup)
{
	rig_close(&self->r);
}

/* The same with one route slot: a late answer must not reach the request that took the slot. */
FIXTURE(one_lookup)
{
	struct rig r;
};

FIXTURE_SETUP(one_lookup)
{
	ASSERT_EQ(0, gk_crypto_init());
	ASSERT_EQ(0, rig_open_with(&self->r, 1, true));
}

FIXTURE_TEARDOWN(one_lookup)
{
	rig_close(&self->r);
}

#define ALICE_TAG "<sip:alice@ss1>;tag=a1"
#define BOB_TAG   "<sip:bob@ss1>;tag=b1"

/* alice sends a MESSAGE (Call-ID call_id, branch z9hG4bK<call_id>) to sip:<to>. */
static void message(struct rig *r, const char *to, const char *call_id)
{
	char branch[64], ruri[128];

	snprintf(branch, sizeof(branch), "z9hG4bK%s", call_id);
	snprintf(ruri, sizeof(ruri), "sip:%s", to);
	send_request(r, ALICE,
	             &(struct req){.method = "MESSAGE",
	                           .ruri = ruri,
	                           .branch = branch,
	                           .call_id = call_id,
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:bob@ss1>",
	                           .extra = "Content-Type: text/plain\r\n",
	                           .body = "hello bob"});
}

/* "Call-ID: id\r\n", to recognise a message by (four in use at once at most). */
static const char *call_id_line(const char *id)
{
	static char line[4][80];
	static unsigned i;
	char *s = line[i++ % 4];
	snprintf(s, sizeof(line[0]), "Call-ID: %s\r\n", id);
	return s;
}

/* ---- 1. MESSAGE -------------------------------------------------------------------------- */

/* alice's MESSAGE reaches bob's binding under alice's identity as the router asserts it (RFC
 * 3325), whatever identity she claimed; bob's 200 comes back to alice without the router's Via. */
TEST_F(route, message_reaches_the_callees_binding_under_the_senders_asserted_identity)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char v[512], want[256];

	send_request(r, ALICE,
	             &(struct req){.method = "MESSAGE",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKm1",
	                           .call_id = "m1",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:bob@ss1>",
	                           .extra = "P-Asserted-Identity: <sip:bob@ss1>\r\n"
	                                    "P-Preferred-Identity: <sip:carol@ss1>\r\n"
	                                    "Content-Type: text/plain\r\n",
	                           .body = "hello bob"});
	const char *m = await(r, BOB, "MESSAGE ", call_id_line("m1"));
	ASSERT_NE(NULL, m);
	snprintf(want, sizeof(want), "MESSAGE sip:bob@%s SIP/2.0\r\n", r->term[BOB].at);
	EXPECT_TRUE(starts(m, want));
	ASSERT_TRUE(header(m, "Via", v, sizeof(v)));
	snprintf(want, sizeof(want), "SIP/2.0/UDP %s;branch=z9hG4bK", r->self);
	EXPECT_TRUE(starts(v, want)) TH_LOG("top Via %s", v);
	EXPECT_EQ(2, count_header(m, "Via"));
	EXPECT_EQ(1, count_header(m, "P-Asserted-Identity"));
	ASSERT_TRUE(header(m, "P-Asserted-Identity", v, sizeof(v)));
	EXPECT_STREQ("<sip:alice@ss1>", v);
	EXPECT_EQ(0, count_header(m, "P-Preferred-Identity"));
	EXPECT_NE(NULL, strstr(m, "\r\n\r\nhello bob"));

	send_response(r, BOB, m, "200 OK", "b1", NULL);
	const char *ok = await(r, ALICE, "SIP/2.0 200 ", call_id_line("m1"));
	ASSERT_NE(NULL, ok);
	EXPECT_EQ(1, count_header(ok, "Via"));
	ASSERT_TRUE(header(ok, "Via", v, sizeof(v)));
	snprintf(want, sizeof(want), "SIP/2.0/UDP %s;branch=z9hG4bKm1", r->term[ALICE].at);
	EXPECT_TRUE(starts(v, want)) TH_LOG("Via %s", v);
	EXPECT_NE(NULL, strstr(ok, "tag=b1"));

	EXPECT_EQ(1, st->requests);
	EXPECT_EQ(1, st->forwarded);
	EXPECT_EQ(1, st->responses);
	EXPECT_EQ(0, st->stray_responses);
	EXPECT_EQ(0, r->left_over);
}

/* ---- 2. a call --------------------------------------------------------------------------- */

/* alice calls bob (Call-ID c1, alice's tag a1, bob's b1) up to the ACK reaching bob, checking
 * each step; bob's INVITE goes to bob_invite. */
static void call_up(struct __test_metadata *_metadata, struct rig *r, char *bob_invite, size_t cap)
{
	char v[512], want[256], route_set[300], ruri[128], branch[64];

	send_request(r, ALICE,
	             &(struct req){.method = "INVITE",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKc1",
	                           .call_id = "c1",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:bob@ss1>",
	                           .extra = "Contact: <sip:alice@127.0.0.1>\r\n"
	                                    "Content-Type: application/sdp\r\n",
	                           .body = "v=0\r\n"});
	/* 100 Trying at once, before bob has said anything (§16.2) */
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 100 ", call_id_line("c1")));
	const char *inv = await(r, BOB, "INVITE ", call_id_line("c1"));
	ASSERT_NE(NULL, inv);
	snprintf(bob_invite, cap, "%s", inv);
	snprintf(want, sizeof(want), "INVITE sip:bob@%s SIP/2.0\r\n", r->term[BOB].at);
	EXPECT_TRUE(starts(bob_invite, want));
	ASSERT_TRUE(header(bob_invite, "Record-Route", v, sizeof(v)));
	snprintf(want, sizeof(want), "<sip:%s;lr>", r->self);
	EXPECT_STREQ(want, v);
	ASSERT_TRUE(header(bob_invite, "P-Asserted-Identity", v, sizeof(v)));
	EXPECT_STREQ("<sip:alice@ss1>", v);

	char contact[128];
	snprintf(contact, sizeof(contact), "Contact: <sip:bob@%s>\r\n", r->term[BOB].at);
	send_response(r, BOB, bob_invite, "180 Ringing", "b1", contact);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 180 ", call_id_line("c1")));
	send_response(r, BOB, bob_invite, "200 OK", "b1", contact);
	const char *ok = await(r, ALICE, "SIP/2.0 200 ", call_id_line("c1"));
	ASSERT_NE(NULL, ok);
	EXPECT_NE(NULL, strstr(ok, "tag=b1"));
	EXPECT_EQ(1, count_header(ok, "Via"));
	ASSERT_TRUE(header(ok, "Record-Route", route_set, sizeof(route_set)));
	EXPECT_STREQ(want, route_set);

	/* the ACK of the 2xx: a transaction of its own, along the route set to bob's Contact */
	snprintf(ruri, sizeof(ruri), "sip:bob@%s", r->term[BOB].at);
	snprintf(v, sizeof(v), "Route: %s\r\n", route_set);
	send_request(r, ALICE,
	             &(struct req){.method = "ACK",
	                           .ruri = ruri,
	                           .branch = "z9hG4bKc1ack",
	                           .call_id = "c1",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = BOB_TAG,
	                           .extra = v});
	const char *ack = await(r, BOB, "ACK ", call_id_line("c1"));
	ASSERT_NE(NULL, ack);
	snprintf(want, sizeof(want), "ACK %s SIP/2.0\r\n", ruri);
	EXPECT_TRUE(starts(ack, want));
	EXPECT_EQ(0, count_header(ack, "Route")); /* the router's own, taken off (§16.4) */
	top_branch(ack, branch, sizeof(branch));
	EXPECT_TRUE(starts(branch, "z9hG4bK"));
	EXPECT_STRNE("z9hG4bKc1ack", branch);
}

/* alice's BYE in dialog c1 with this branch, along the route set; bob answers 200 and alice
 * hears it. */
static void hang_up(struct __test_metadata *_metadata, struct rig *r, const char *branch)
{
	char ruri[128], route[128], want[160];

	snprintf(ruri, sizeof(ruri), "sip:bob@%s", r->term[BOB].at);
	snprintf(route, sizeof(route), "Route: <sip:%s;lr>\r\n", r->self);
	send_request(r, ALICE,
	             &(struct req){.method = "BYE",
	                           .ruri = ruri,
	                           .branch = branch,
	                           .call_id = "c1",
	                           .cseq = 2,
	                           .from = ALICE_TAG,
	                           .to = BOB_TAG,
	                           .extra = route});
	const char *bye = await(r, BOB, "BYE ", call_id_line("c1"));
	ASSERT_NE(NULL, bye);
	snprintf(want, sizeof(want), "BYE %s SIP/2.0\r\n", ruri);
	EXPECT_TRUE(starts(bye, want));
	ASSERT_TRUE(header(bye, "P-Asserted-Identity", want, sizeof(want)));
	EXPECT_STREQ("<sip:alice@ss1>", want);
	send_response(r, BOB, bye, "200 OK", NULL, NULL);
	const char *ok = await(r, ALICE, "SIP/2.0 200 ", "CSeq: 2 BYE\r\n");
	ASSERT_NE(NULL, ok);
	EXPECT_EQ(1, count_header(ok, "Via"));
}

TEST_F(route, a_call_goes_along_the_record_route_and_its_bye_ends_the_dialog)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	const struct gk_sip_txn_stats *ts = gk_sip_router_txn_stats(r->router);
	char inv[MSG_CAP];

	call_up(_metadata, r, inv, sizeof(inv));
	EXPECT_EQ(1, st->dialogs);
	EXPECT_EQ(0, st->dialogs_ended);
	hang_up(_metadata, r, "z9hG4bKc1bye");
	EXPECT_EQ(1, st->dialogs);
	EXPECT_EQ(1, st->dialogs_ended);
	EXPECT_EQ(1, ts->trying_sent);
	EXPECT_EQ(3, st->forwarded); /* INVITE, ACK, BYE */
	EXPECT_EQ(0, st->no_dialog);
	EXPECT_EQ(0, st->stray_responses);
}

/* bob's 200 is repeated (his ACK was late, or lost): each copy reaches alice, as RFC 6026 §7.2
 * has a proxy forward every 2xx of an INVITE in its Accepted state; the dialog stays one. */
TEST_F(route, a_repeated_2xx_to_an_invite_still_reaches_the_caller)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP], contact[128];

	call_up(_metadata, r, inv, sizeof(inv));
	snprintf(contact, sizeof(contact), "Contact: <sip:bob@%s>\r\n", r->term[BOB].at);
	send_response(r, BOB, inv, "200 OK", "b1", contact);
	const char *again = await(r, ALICE, "SIP/2.0 200 ", call_id_line("c1"));
	ASSERT_NE(NULL, again);
	EXPECT_EQ(1, count_header(again, "Via"));
	EXPECT_EQ(1, st->dialogs);
	EXPECT_EQ(0, st->stray_responses);
	hang_up(_metadata, r, "z9hG4bKc1bye");
	EXPECT_EQ(1, st->dialogs_ended);
}

struct left_over_at {
	struct rig *r;
	unsigned n;
};

static bool left_over_grew(void *arg)
{
	struct left_over_at *l = arg;
	return l->r->left_over >= l->n;
}

/* An OPTIONS for bob goes to bob, who says what he supports; one for the domain itself is the
 * registrar's keep-alive probe and is left to it. */
TEST_F(route, options_for_a_user_reaches_that_user_and_for_the_domain_stays_here)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	send_request(r, ALICE,
	             &(struct req){.method = "OPTIONS",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKo1",
	                           .call_id = "o1",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:bob@ss1>"});
	const char *o = await(r, BOB, "OPTIONS ", call_id_line("o1"));
	ASSERT_NE(NULL, o);
	send_response(r, BOB, o, "200 OK", "bo1", "Allow: INVITE, ACK, BYE, OPTIONS\r\n");
	const char *ok = await(r, ALICE, "SIP/2.0 200 ", call_id_line("o1"));
	ASSERT_NE(NULL, ok);
	EXPECT_NE(NULL, strstr(ok, "Allow: INVITE, ACK, BYE, OPTIONS"));
	EXPECT_EQ(1, st->forwarded);

	unsigned before = r->left_over;
	send_request(r, ALICE,
	             &(struct req){.method = "OPTIONS",
	                           .ruri = "sip:ss1",
	                           .branch = "z9hG4bKo2",
	                           .call_id = "o2",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:ss1>"});
	EXPECT_TRUE(
	    run_until(r->loop, left_over_grew, &(struct left_over_at){r, before + 1}, WAIT_MS));
	EXPECT_EQ(1, st->forwarded);
	/* A busy machine may let the proxy retransmit o1 to bob meanwhile: only o2 counts. */
	EXPECT_FALSE(heard_a(r, BOB, "OPTIONS ", call_id_line("o2")));
}

/* An element listening on the wildcard address (the default 0.0.0.0:5060) names the address its
 * route to the callee leaves from in its Via and Record-Route, never 0.0.0.0, where no response
 * and no in-dialog request could go. */
TEST_F(route, a_wildcard_listener_names_its_real_address)
{
	struct rig *r = &self->r;
	char v[512], want[160];

	((struct sockaddr_in *)&r->io.sock[0].addr)->sin_addr.s_addr = htonl(INADDR_ANY);
	send_request(r, ALICE,
	             &(struct req){.method = "INVITE",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKw1",
	                           .call_id = "w1",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:bob@ss1>"});
	const char *inv = await(r, BOB, "INVITE ", call_id_line("w1"));
	ASSERT_NE(NULL, inv);
	ASSERT_TRUE(header(inv, "Via", v, sizeof(v)));
	snprintf(want, sizeof(want), "SIP/2.0/UDP %s;branch=", r->self);
	EXPECT_TRUE(starts(v, want)) TH_LOG("top Via %s", v);
	ASSERT_TRUE(header(inv, "Record-Route", v, sizeof(v)));
	snprintf(want, sizeof(want), "<sip:%s;lr>", r->self);
	EXPECT_STREQ(want, v);
}

/* bob answers one INVITE with many 200s under new To tags: each still reaches alice (a UA that
 * forks on its own), but the INVITE makes one dialog, not one per tag: a callee cannot fill the
 * dialog table, where every dialog lives for hours, with one call. */
TEST_F(route, one_invite_makes_one_dialog_however_many_tags_answer)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP], contact[128], tag[16];

	call_up(_metadata, r, inv, sizeof(inv));
	snprintf(contact, sizeof(contact), "Contact: <sip:bob@%s>\r\n", r->term[BOB].at);
	for (int i = 2; i <= 30; i++) {
		snprintf(tag, sizeof(tag), "fork%d", i);
		send_response(r, BOB, inv, "200 OK", tag, contact);
		ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", tag));
	}
	EXPECT_EQ(1, st->dialogs);
	EXPECT_EQ(0, st->dialogs_full);
	hang_up(_metadata, r, "z9hG4bKc1bye");
	EXPECT_EQ(1, st->dialogs_ended);
}

/* ---- 3. a dialog used by a third party ---------------------------------------------------- */

/* mallory, registered herself, has sniffed alice's and bob's dialog (Call-ID and both tags) and
 * sends a BYE into it as either party: only its two parties may use it, so she gets 481 and
 * neither party hears anything; the dialog stands, and alice's own BYE ends it. */
TEST_F(route, a_third_party_cannot_end_a_dialog_whose_ids_she_knows)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP], route[128], ruri_bob[128], ruri_alice[128];

	call_up(_metadata, r, inv, sizeof(inv));
	drain(r, ALICE);
	drain(r, BOB);
	snprintf(route, sizeof(route), "Route: <sip:%s;lr>\r\n", r->self);
	snprintf(ruri_bob, sizeof(ruri_bob), "sip:bob@%s", r->term[BOB].at);
	snprintf(ruri_alice, sizeof(ruri_alice), "sip:alice@%s", r->term[ALICE].at);

	/* as alice, towards bob */
	send_request(r, MALLORY,
	             &(struct req){.method = "BYE",
	                           .ruri = ruri_bob,
	                           .branch = "z9hG4bKmal1",
	                           .call_id = "c1",
	                           .cseq = 2,
	                           .from = ALICE_TAG,
	                           .to = BOB_TAG,
	                           .extra = route});
	ASSERT_NE(NULL, await(r, MALLORY, "SIP/2.0 481 ", "CSeq: 2 BYE\r\n"));
	/* as bob, towards alice */
	send_request(r, MALLORY,
	             &(struct req){.method = "BYE",
	                           .ruri = ruri_alice,
	                           .branch = "z9hG4bKmal2",
	                           .call_id = "c1",
	                           .cseq = 7,
	                           .from = BOB_TAG,
	                           .to = ALICE_TAG,
	                           .extra = route});
	ASSERT_NE(NULL, await(r, MALLORY, "SIP/2.0 481 ", "CSeq: 7 BYE\r\n"));
	EXPECT_EQ(0, heard(r, ALICE));
	EXPECT_EQ(0, heard(r, BOB));
	EXPECT_EQ(2, st->no_dialog);
	EXPECT_EQ(0, st->dialogs_ended);

	hang_up(_metadata, r, "z9hG4bKc1bye");
	EXPECT_EQ(1, st->dialogs_ended);
	EXPECT_EQ(2, st->no_dialog);
}

/* ---- 4. a forged response ---------------------------------------------------------------- */

/* mallory answers alice's MESSAGE to bob with the branch bob received (sniffed): only the binding
 * the request went to may answer it, so nothing reaches alice, and bob's real 200 still does. */
TEST_F(route, a_response_from_another_terminal_is_not_passed_and_the_real_one_is)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char m[MSG_CAP];

	message(r, "bob@ss1", "m4");
	const char *got = await(r, BOB, "MESSAGE ", call_id_line("m4"));
	ASSERT_NE(NULL, got);
	snprintf(m, sizeof(m), "%s", got);
	send_response(r, MALLORY, m, "200 OK", "forged", "Server: mallory\r\n");
	ASSERT_TRUE(wait_count(r, &st->stray_responses, 1));
	EXPECT_EQ(0, heard(r, ALICE));

	send_response(r, BOB, m, "200 OK", "b4", NULL);
	const char *ok = await(r, ALICE, "SIP/2.0 ", call_id_line("m4"));
	ASSERT_NE(NULL, ok);
	EXPECT_TRUE(starts(ok, "SIP/2.0 200 "));
	EXPECT_NE(NULL, strstr(ok, "tag=b4"));
	EXPECT_EQ(NULL, strstr(ok, "mallory"));
	EXPECT_EQ(1, st->responses);
	EXPECT_EQ(1, st->stray_responses);
}

/* ---- 5. a stranger ----------------------------------------------------------------------- */

/* A source without a binding gets nothing, not even a transaction: no state for strangers. */
TEST_F(route, a_stranger_is_not_routed_not_answered_and_costs_no_transaction)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	const struct gk_sip_txn_stats *ts = gk_sip_router_txn_stats(r->router);
	uint64_t server_new = ts->server_new;

	send_request(r, STRANGER,
	             &(struct req){.method = "MESSAGE",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKs1",
	                           .call_id = "s1",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=s1",
	                           .to = "<sip:bob@ss1>",
	                           .body = "hello"});
	ASSERT_TRUE(wait_count(r, &st->not_registered, 1));
	EXPECT_EQ(0, heard(r, STRANGER));
	EXPECT_EQ(0, heard(r, BOB));
	EXPECT_EQ(server_new, ts->server_new);
	EXPECT_EQ(0, ts->server_in_use);
	EXPECT_EQ(0, st->requests);
	EXPECT_EQ(0, st->forwarded);
}

/* ---- 6. the router's own answers --------------------------------------------------------- */

/* 480 for a user without a binding, 403 for another domain, 408 when bob never answers (timer
 * F): each gives its route slot back, so that with one slot only a later MESSAGE still goes. */
TEST_F(one_route, answers_480_403_and_408_and_gives_the_route_slot_back)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	message(r, "carol@ss1", "m6a");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", call_id_line("m6a")));
	EXPECT_EQ(1, st->unavailable);
	message(r, "bob@elsewhere.example", "m6b");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 403 ", call_id_line("m6b")));
	EXPECT_EQ(1, st->foreign);
	EXPECT_EQ(0, heard(r, BOB));

	uint64_t sent_at = gk_loop_now(r->loop);
	message(r, "bob@ss1", "m6c");
	ASSERT_NE(NULL, await(r, BOB, "MESSAGE ", call_id_line("m6c")));
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 408 ", call_id_line("m6c")));
	EXPECT_LE(T64, gk_loop_now(r->loop) - sent_at); /* not before timer F */
	EXPECT_EQ(1, st->timeouts);

	message(r, "bob@ss1", "m6d");
	const char *m = await(r, BOB, "MESSAGE ", call_id_line("m6d"));
	ASSERT_NE(NULL, m);
	send_response(r, BOB, m, "200 OK", "b6", NULL);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", call_id_line("m6d")));
	EXPECT_EQ(1, st->timeouts);
	EXPECT_EQ(2, st->forwarded);
}

/* ---- 7. CANCEL --------------------------------------------------------------------------- */

/* alice calls bob (Call-ID c7) and bob rings: what bob's INVITE was goes to bob_invite. */
static void ringing(struct __test_metadata *_metadata, struct rig *r, char *bob_invite, size_t cap)
{
	send_request(r, ALICE,
	             &(struct req){.method = "INVITE",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKc7",
	                           .call_id = "c7",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=a7",
	                           .to = "<sip:bob@ss1>",
	                           .extra = "Contact: <sip:alice@127.0.0.1>\r\n"});
	const char *inv = await(r, BOB, "INVITE ", call_id_line("c7"));
	ASSERT_NE(NULL, inv);
	snprintf(bob_invite, cap, "%s", inv);
	send_response(r, BOB, bob_invite, "180 Ringing", "b7", NULL);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 180 ", call_id_line("c7")));
}

/* §9.2, §16.10: alice's CANCEL is answered by the router, which cancels the INVITE it forwarded
 * (the same branch); bob's 487 reaches alice and is ACKed to bob by the router (§17.1.1.3). */
TEST_F(route, cancel_is_answered_and_cancels_the_forwarded_invite)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP], inv_branch[64], branch[64];

	ringing(_metadata, r, inv, sizeof(inv));
	top_branch(inv, inv_branch, sizeof(inv_branch));
	send_request(r, ALICE,
	             &(struct req){.method = "CANCEL",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKc7",
	                           .call_id = "c7",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=a7",
	                           .to = "<sip:bob@ss1>"});
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", "CSeq: 1 CANCEL\r\n"));
	const char *cancel = await(r, BOB, "CANCEL ", call_id_line("c7"));
	ASSERT_NE(NULL, cancel);
	top_branch(cancel, branch, sizeof(branch));
	EXPECT_STREQ(inv_branch, branch);
	EXPECT_EQ(1, st->cancels);

	send_response(r, BOB, cancel, "200 OK", "b7", NULL);
	send_response(r, BOB, inv, "487 Request Terminated", "b7", NULL);
	const char *rt = await(r, ALICE, "SIP/2.0 487 ", call_id_line("c7"));
	ASSERT_NE(NULL, rt);
	EXPECT_EQ(1, count_header(rt, "Via"));
	const char *ack = await(r, BOB, "ACK ", call_id_line("c7"));
	ASSERT_NE(NULL, ack);
	top_branch(ack, branch, sizeof(branch));
	EXPECT_STREQ(inv_branch, branch);
	EXPECT_NE(NULL, strstr(ack, "CSeq: 1 ACK\r\n"));
	EXPECT_NE(NULL, strstr(ack, "tag=b7"));

	/* alice's ACK of the 487 is hop by hop: the router's server transaction takes it */
	send_request(r, ALICE,
	             &(struct req){.method = "ACK",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKc7",
	                           .call_id = "c7",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=a7",
	                           .to = "<sip:bob@ss1>;tag=b7"});
	const struct gk_sip_txn_stats *ts = gk_sip_router_txn_stats(r->router);
	ASSERT_TRUE(wait_count(r, &ts->acks_absorbed, 1));
	EXPECT_EQ(0, st->dialogs);
	EXPECT_EQ(2, st->responses); /* the 180 and the 487; the CANCEL's 200 was the router's */
}

/* mallory cancels alice's ringing call with what names its INVITE (alice's Via branch and
 * sent-by, as every copy of the INVITE carries them): only the caller may, so she gets 481, bob
 * no CANCEL, and the call goes on to its 200. */
TEST_F(route, only_the_caller_cancels_its_invite)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP];

	ringing(_metadata, r, inv, sizeof(inv));
	drain(r, ALICE);
	drain(r, BOB);
	send_request(r, MALLORY,
	             &(struct req){.method = "CANCEL",
	                           .ruri = "sip:bob@ss1",
	                           .branch = "z9hG4bKc7",
	                           .sent_by = r->term[ALICE].at,
	                           .call_id = "c7",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=a7",
	                           .to = "<sip:bob@ss1>"});
	ASSERT_NE(NULL, await(r, MALLORY, "SIP/2.0 481 ", "CSeq: 1 CANCEL\r\n"));
	EXPECT_EQ(0, heard(r, BOB));
	EXPECT_EQ(0, heard(r, ALICE));
	EXPECT_EQ(0, st->cancels);

	send_response(r, BOB, inv, "200 OK", "b7", NULL);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", call_id_line("c7")));
	EXPECT_EQ(1, st->dialogs);
}

/* A callee that rings and then answers nothing, not even the CANCEL timer C makes the router
 * send (§16.8): 64*T1 later the router gives the INVITE up and answers the caller 408, which
 * frees the route; before, the route (and the request it keeps) stayed for good, one more for
 * every such call a terminal could make to itself. */
TEST_F(route, a_callee_that_rings_and_falls_silent_is_given_up_with_408)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	send_request(r, ALICE,
	             &(struct req){.method = "INVITE",
	                           .ruri = "sip:mallory@ss1",
	                           .branch = "z9hG4bKc9",
	                           .call_id = "c9",
	                           .cseq = 1,
	                           .from = "<sip:alice@ss1>;tag=a9",
	                           .to = "<sip:mallory@ss1>"});
	const char *inv = await(r, MALLORY, "INVITE ", call_id_line("c9"));
	ASSERT_NE(NULL, inv);
	send_response(r, MALLORY, inv, "180 Ringing", "m9", NULL);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 180 ", call_id_line("c9")));
	ASSERT_NE(NULL, await(r, MALLORY, "CANCEL ", call_id_line("c9"))); /* timer C */
	EXPECT_EQ(1, st->cancels);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 408 ", call_id_line("c9")));
	EXPECT_EQ(1, st->timeouts);
	EXPECT_EQ(1, st->responses); /* the 180 */
}

/* ---- 8. a callee without a binding: does it exist? ------------------------------------------ */

/* alice sends an INVITE (Call-ID call_id, branch z9hG4bK<call_id>) to sip:<to>. */
static void invite(struct rig *r, const char *to, const char *call_id)
{
	char branch[64], ruri[128];

	snprintf(branch, sizeof(branch), "z9hG4bK%s", call_id);
	snprintf(ruri, sizeof(ruri), "sip:%s", to);
	send_request(r, ALICE,
	             &(struct req){.method = "INVITE",
	                           .ruri = ruri,
	                           .branch = branch,
	                           .call_id = call_id,
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:x@ss1>",
	                           .extra = "Contact: <sip:alice@127.0.0.1>\r\n"});
}

/* alice's MESSAGE to carol as a UA behind a NAT sends it: its Via names an address that is not
 * the one it comes from, so the answer's Via must say where it came from (§18.2.1). */
static void message_natted(struct rig *r, const char *call_id)
{
	char branch[64];

	snprintf(branch, sizeof(branch), "z9hG4bK%s", call_id);
	send_request(r, ALICE,
	             &(struct req){.method = "MESSAGE",
	                           .ruri = "sip:carol@ss1",
	                           .branch = branch,
	                           .sent_by = "192.0.2.9:5060",
	                           .call_id = call_id,
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:carol@ss1>",
	                           .extra = "Content-Type: text/plain\r\n",
	                           .body = "hello carol"});
}

/* The element is asked about a user only when no binding takes the request, and its answer
 * decides: a user nobody provisioned is 404 (RFC 3261 §21.4.5), one that exists but is not
 * registered now 480 (§21.4.18). Meanwhile the caller's retransmission is absorbed (one lookup),
 * an INVITE has its 100 Trying, and nothing reaches any terminal. */
TEST_F(lookup, a_user_nobody_provisioned_gets_404_and_one_without_a_binding_480)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char v[512], want[256];

	message_natted(r, "l1");
	ASSERT_TRUE(wait_count(r, &st->lookups, 1));
	EXPECT_STREQ("carol", r->asked_idc);
	EXPECT_GE(GK_SIP_LOOKUP_REF_MAX, r->asked_ref);
	message_natted(r, "l1");       /* alice retransmits: absorbed, not asked again */
	EXPECT_EQ(0, heard(r, ALICE)); /* and no answer before the lookup's */
	EXPECT_EQ(1, r->asked);
	gk_sip_router_looked_up(r->router, r->asked_ref, false);
	const char *nf = await(r, ALICE, "SIP/2.0 404 Not Found\r\n", call_id_line("l1"));
	ASSERT_NE(NULL, nf);
	/* alice's own Via, with the address the request came from (§18.2.1), as an answer at
	 * once would have it */
	EXPECT_EQ(1, count_header(nf, "Via"));
	ASSERT_TRUE(header(nf, "Via", v, sizeof(v)));
	snprintf(want, sizeof(want), "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKl1");
	EXPECT_TRUE(starts(v, want)) TH_LOG("Via %s", v);
	EXPECT_NE(NULL, strstr(v, ";received=127.0.0.1")) TH_LOG("Via %s", v);
	EXPECT_EQ(1, st->not_found);
	EXPECT_EQ(0, st->unavailable);
	/* the final is kept for alice's retransmissions (its transaction's, §17.2.2) */
	message_natted(r, "l1");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 404 ", call_id_line("l1")));
	EXPECT_EQ(1, r->asked);

	invite(r, "dave@ss1", "l2");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 100 ", call_id_line("l2")));
	ASSERT_TRUE(wait_count(r, &st->lookups, 2));
	EXPECT_STREQ("dave", r->asked_idc);
	gk_sip_router_looked_up(r->router, r->asked_ref, true);
	ASSERT_NE(NULL,
	          await(r, ALICE, "SIP/2.0 480 Temporarily Unavailable\r\n", call_id_line("l2")));
	EXPECT_EQ(1, st->unavailable);
	EXPECT_EQ(1, st->not_found);
	EXPECT_EQ(0, st->lookup_timeouts);
	EXPECT_EQ(0, st->lookup_failures);
	EXPECT_EQ(0, st->forwarded);
	EXPECT_EQ(0, heard(r, BOB));
	EXPECT_EQ(0, heard(r, MALLORY));

	/* a user with a binding is never asked about */
	message(r, "bob@ss1", "l3");
	ASSERT_NE(NULL, await(r, BOB, "MESSAGE ", call_id_line("l3")));
	EXPECT_EQ(2, r->asked);
}

/* Nobody answers the lookup: after the wait the caller hears 480 (the route slot is free
 * again: one slot only here), and the answer that comes late finds nothing, neither then nor
 * once the slot waits for another lookup (a new generation, a new ref). */
TEST_F(one_lookup, a_lookup_never_answered_is_480_and_its_late_answer_finds_nothing)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	uint64_t sent_at = gk_loop_now(r->loop);
	message(r, "carol@ss1", "l4");
	ASSERT_TRUE(wait_count(r, &st->lookups, 1));
	uint32_t old_ref = r->asked_ref;
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", call_id_line("l4")));
	EXPECT_LE(LOOKUP_WAIT / DIVISOR, gk_loop_now(r->loop) - sent_at); /* not before the wait */
	EXPECT_EQ(1, st->lookup_timeouts);
	EXPECT_EQ(1, st->unavailable);

	gk_sip_router_looked_up(r->router, old_ref, false);
	gk_sip_router_lookup_failed(r->router, old_ref);
	EXPECT_EQ(0, heard(r, ALICE));
	EXPECT_EQ(0, st->not_found);
	EXPECT_EQ(0, st->lookup_failures);

	/* the one slot serves the next request, whose question is a new one */
	message(r, "erin@ss1", "l5");
	ASSERT_TRUE(wait_count(r, &st->lookups, 2));
	EXPECT_STREQ("erin", r->asked_idc);
	EXPECT_NE(old_ref, r->asked_ref);
	gk_sip_router_looked_up(r->router, old_ref, false);                    /* stale: carol's */
	gk_sip_router_looked_up(r->router, r->asked_ref ^ 0x40000000u, false); /* forged gen */
	gk_sip_router_looked_up(r->router, r->asked_ref | 0x80000000u, false); /* out of range */
	EXPECT_EQ(0, heard(r, ALICE));
	gk_sip_router_looked_up(r->router, r->asked_ref, false);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 404 ", call_id_line("l5")));
	EXPECT_EQ(1, st->not_found);
	EXPECT_EQ(1, st->lookup_timeouts);

	/* and then bob is reached through it, as ever */
	message(r, "bob@ss1", "l6");
	const char *m = await(r, BOB, "MESSAGE ", call_id_line("l6"));
	ASSERT_NE(NULL, m);
	send_response(r, BOB, m, "200 OK", "b6", NULL);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", call_id_line("l6")));
}

/* A lookup that cannot be asked, or that fails (the AuC does not answer), is 480 at once; one
 * answered from inside the op (the element knew already) is answered as it says. */
TEST_F(lookup, a_lookup_that_cannot_be_asked_or_fails_is_480_and_one_answered_at_once_counts)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	r->cannot_ask = true;
	message(r, "carol@ss1", "l7");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", call_id_line("l7")));
	EXPECT_EQ(1, st->lookup_failures);
	r->cannot_ask = false;

	message(r, "carol@ss1", "l8");
	ASSERT_TRUE(wait_count(r, &st->lookups, 2));
	gk_sip_router_lookup_failed(r->router, r->asked_ref);
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", call_id_line("l8")));
	EXPECT_EQ(2, st->lookup_failures);
	EXPECT_EQ(2, st->unavailable);

	r->answer_at_once = 0;
	message(r, "carol@ss1", "l9");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 404 ", call_id_line("l9")));
	r->answer_at_once = 1;
	message(r, "carol@ss1", "l10");
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", call_id_line("l10")));
	EXPECT_EQ(1, st->not_found);
	EXPECT_EQ(3, st->unavailable);
	EXPECT_EQ(4, st->lookups);
	EXPECT_EQ(0, st->lookup_timeouts);
	EXPECT_EQ(0, heard(r, ALICE));
}

/* The caller gives up while the callee is looked up: its CANCEL is answered 200 and its INVITE
 * 487 (§9.2) at once, nothing having gone downstream; the lookup's answer then finds nothing. */
TEST_F(lookup, cancel_while_the_callee_is_looked_up_ends_the_invite_with_487)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);

	invite(r, "carol@ss1", "l11");
	ASSERT_TRUE(wait_count(r, &st->lookups, 1));
	send_request(r, ALICE,
	             &(struct req){.method = "CANCEL",
	                           .ruri = "sip:carol@ss1",
	                           .branch = "z9hG4bKl11",
	                           .call_id = "l11",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:x@ss1>"});
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 200 ", "CSeq: 1 CANCEL\r\n"));
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 487 ", "CSeq: 1 INVITE\r\n"));
	EXPECT_EQ(1, st->cancels);
	gk_sip_router_looked_up(r->router, r->asked_ref, false);
	EXPECT_EQ(0, st->not_found);
	EXPECT_EQ(0, st->unavailable);
	/* alice's ACK of the 487 is the transaction's */
	send_request(r, ALICE,
	             &(struct req){.method = "ACK",
	                           .ruri = "sip:carol@ss1",
	                           .branch = "z9hG4bKl11",
	                           .call_id = "l11",
	                           .cseq = 1,
	                           .from = ALICE_TAG,
	                           .to = "<sip:x@ss1>;tag=x"});
	const struct gk_sip_txn_stats *ts = gk_sip_router_txn_stats(r->router);
	ASSERT_TRUE(wait_count(r, &ts->acks_absorbed, 1));
	drain(r, ALICE); /* the 487 again, if timer G beat the ACK */
	EXPECT_EQ(0, heard(r, ALICE));
	EXPECT_EQ(0, heard(r, BOB));
}

/* Inside a dialog the other party exists: when its binding is gone, the request is 480 with no
 * question asked. */
TEST_F(lookup, inside_a_dialog_nobody_is_looked_up)
{
	struct rig *r = &self->r;
	const struct gk_sip_route_stats *st = gk_sip_router_stats(r->router);
	char inv[MSG_CAP], route[128], ruri[128];

	call_up(_metadata, r, inv, sizeof(inv));
	drain(r, ALICE);
	r->gone = "bob";
	snprintf(ruri, sizeof(ruri), "sip:bob@%s", r->term[BOB].at);
	snprintf(route, sizeof(route), "Route: <sip:%s;lr>\r\n", r->self);
	send_request(r, ALICE,
	             &(struct req){.method = "BYE",
	                           .ruri = ruri,
	                           .branch = "z9hG4bKl12bye",
	                           .call_id = "c1",
	                           .cseq = 2,
	                           .from = ALICE_TAG,
	                           .to = BOB_TAG,
	                           .extra = route});
	ASSERT_NE(NULL, await(r, ALICE, "SIP/2.0 480 ", "CSeq: 2 BYE\r\n"));
	EXPECT_EQ(0, r->asked);
	EXPECT_EQ(0, st->lookups);
	EXPECT_EQ(1, st->unavailable);
}

/* ---- the softswitch's trust in its SBCs --------------------------------------------------- */

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

/* An SBC asserts who calls; the softswitch takes it only for a terminal registered through that
 * very SBC: sbc2 (authenticated, but not alice's) cannot speak for alice, nobody for a terminal
 * that never registered, and a request asserting nobody speaks for nobody. */
TEST(an_sbc_speaks_only_for_its_own_terminals)
{
	char err[128], idc[GK_ID_MAX + 1];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop);
	struct gk_locations *where = gk_locations_new(loop, 8, 3600);
	ASSERT_NE(NULL, where);
	struct sockaddr_storage sbc1 = v4("198.18.2.1", 5060), sbc2 = v4("198.18.2.9", 5060);
	ASSERT_EQ(0, gk_locations_set(where, "alice", &sbc1));

	static const char fmt[] = "INVITE sip:bob@ss1 SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bKp1\r\n"
	                          "From: <sip:alice@sbc1>;tag=1\r\nTo: <sip:bob@ss1>\r\n"
	                          "Call-ID: p1\r\nCSeq: 1 INVITE\r\n%s"
	                          "Content-Length: 0\r\n\r\n";
	char msg[512];
	struct gk_sip_view v;

	snprintf(msg, sizeof(msg), fmt, "P-Asserted-Identity: \"A\" <sip:alice@sbc1>\r\n");
	ASSERT_EQ(0, gk_sip_view((const uint8_t *)msg, strlen(msg), &v));
	EXPECT_EQ(GK_R_OK, gk_sip_router_peer_sender(&v, &sbc1, where, idc));
	EXPECT_STREQ("alice", idc);
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, gk_sip_router_peer_sender(&v, &sbc2, where, idc));
	/* sbc1 restarted: another ephemeral port, the same SBC */
	struct sockaddr_storage sbc1_again = v4("198.18.2.1", 40001);
	EXPECT_EQ(GK_R_OK, gk_sip_router_peer_sender(&v, &sbc1_again, where, idc));

	snprintf(msg, sizeof(msg), fmt, "P-Asserted-Identity: <sip:carol@sbc1>\r\n");
	ASSERT_EQ(0, gk_sip_view((const uint8_t *)msg, strlen(msg), &v));
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, gk_sip_router_peer_sender(&v, &sbc1, where, idc));

	snprintf(msg, sizeof(msg), fmt, "");
	ASSERT_EQ(0, gk_sip_view((const uint8_t *)msg, strlen(msg), &v));
	EXPECT_EQ(GK_R_IDENTITY_MISSING, gk_sip_router_peer_sender(&v, &sbc1, where, idc));
	snprintf(msg, sizeof(msg), fmt, "P-Asserted-Identity: tel:+15551234\r\n");
	ASSERT_EQ(0, gk_sip_view((const uint8_t *)msg, strlen(msg), &v));
	EXPECT_EQ(GK_R_IDENTITY_MISSING, gk_sip_router_peer_sender(&v, &sbc1, where, idc));

	gk_locations_free(where);
	gk_loop_free(loop);
}

/* What a 405 or 501 lists in Allow covers every method the router takes: the codec refuses what
 * reaches it, and a UA must not be told that what the daemons route is not allowed. */
TEST(allow_lists_every_routed_method)
{
	static const char *const methods[] = {"INVITE", "ACK",       "BYE",    "CANCEL",  "OPTIONS",
	                                      "PRACK",  "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO",
	                                      "REFER",  "MESSAGE",   "UPDATE", "REGISTER"};
	const char *req =
	    "FOOBAR sip:ss1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKa\r\n"
	    "From: <sip:a@ss1>;tag=1\r\nTo: <sip:ss1>\r\nCall-ID: al\r\n"
	    "CSeq: 1 FOOBAR\r\nContent-Length: 0\r\n\r\n";
	char allow[512];
	/* the codec's refusal of an unknown method carries the element's Allow */
	struct gk_msg m;
	enum gk_reason why = GK_R_NOT_SERVED;
	if (gk_sip_decode((const uint8_t *)req, strlen(req), &m, &why) == 0)
		why = GK_R_NOT_SERVED;
	EXPECT_EQ(GK_R_NOT_SERVED, why);
	uint8_t ref[2048];
	int n =
	    gk_sip_refuse((const uint8_t *)req, strlen(req), &m, why, NULL, ref, sizeof(ref) - 1);
	ASSERT_LT(0, n);
	ref[n] = '\0';
	ASSERT_TRUE(header((const char *)ref, "Allow", allow, sizeof(allow)));
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (gk_sip_router_routes(methods[i])) {
			EXPECT_NE(NULL, strstr(allow, methods[i])) TH_LOG("%s", methods[i]);
		}
	}
}

TEST_HARNESS_MAIN
