// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch's RADIUS client (lib/auc/auc_client.c) against a fake AuC on loopback: an
 * authentication server that answers every Access-Request with an Access-Accept, and an
 * accounting server that is down (a bound socket nobody reads, so requests vanish without even
 * an ICMP error). The security review's finding (issue 12): with one identifier pool for both
 * kinds of request, unanswered accounting held every identifier and each vector request failed
 * with OVERLOAD. These tests fill the accounting side and show that authentication still gets
 * identifiers and answers, that accounting gives up after its own, shorter budget, and that
 * every accounting message lost is counted under the reason it was lost.
 *
 * The same fake AuC answers routing lookups (auc_proto.h) as aucd does: an Accept for alice, a
 * Reject for anyone else, nothing for "silent", and, as a broken AuC would, an Accept naming
 * another user for "liar".
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include "gatekey/auc/auc_client.h"
#include "gatekey/auc/auc_proto.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/auc/radius.h"

#define PEN 32473
static const uint8_t secret[] = "auc-client-test-secret";
#define SLEN (sizeof(secret) - 1)

struct rig {
	struct gk_loop *loop;
	int auth_srv, acct_srv;
	struct sockaddr_storage auth_addr, acct_addr;
	struct gk_auc_client *c;
	unsigned vectors, failed, overload;
	unsigned known_yes, known_no, timeouts, bad;
	uint32_t last_handle;
	unsigned auth_seen, not_access_request; /* what the authentication server received */
	bool (*done)(const struct rig *r);
	struct gk_timer poll, guard;
	bool timed_out;
	/* "late": a server that answers 3.3 first waits after the first copy, once: past where
	 * three tries of one wait each would have given up, before timeout x (tries + 1) */
	uint64_t late_seen_ms[3];
	unsigned late_copies;
	uint8_t late_out[GK_RAD_MAX_LEN];
	int late_len, late_fd;
	struct sockaddr_storage late_to;
	struct gk_timer late;
	uint32_t timeout_ms;
};

static struct rig *current;

/* The authentication server: every Access-Request gets an Accept with a vector for its IDc. */
static void on_auth_server(void *user, int fd, uint8_t *data, size_t len,
                           const struct sockaddr_storage *from)
{
	struct rig *r = user;
	struct gk_rad_pkt p;
	struct gk_auc_vector v;
	enum gk_reason why;
	uint8_t out[GK_RAD_MAX_LEN]; /* a RADIUS packet, never longer (RFC 2865 §3) */

	r->auth_seen++;
	if (gk_rad_decode(data, len, &p, &why) < 0 || p.code != GK_RAD_ACCESS_REQUEST ||
	    gk_rad_verify_request(&p, secret, SLEN, &why) < 0) {
		r->not_access_request++;
		return;
	}
	memset(&v, 0, sizeof(v));
	if (gk_auc_decode_auth_request(&p, PEN, v.idc, v.idsp, &why) < 0) {
		r->not_access_request++;
		return;
	}
	int n, lookup = gk_auc_decode_lookup(&p, &why);
	if (lookup < 0) {
		r->not_access_request++;
		return;
	}
	if (lookup && strcmp(v.idc, "silent") == 0)
		return;
	if (lookup && strcmp(v.idc, "late") == 0) {
		if (r->late_copies < 3)
			r->late_seen_ms[r->late_copies] = gk_loop_now(r->loop);
		if (++r->late_copies != 1)
			return;
		r->late_len = gk_auc_encode_lookup_accept(r->late_out, sizeof(r->late_out), &p,
		                                          v.idc, secret, SLEN);
		r->late_fd = fd;
		r->late_to = *from;
		gk_timer_arm(r->loop, &r->late, r->timeout_ms * 33 / 10);
		return;
	}
	if (lookup && strcmp(v.idc, "alice") == 0)
		n = gk_auc_encode_lookup_accept(out, sizeof(out), &p, v.idc, secret, SLEN);
	else if (lookup && strcmp(v.idc, "liar") == 0)
		n = gk_auc_encode_lookup_accept(out, sizeof(out), &p, "mallory", secret, SLEN);
	else if (lookup)
		n = gk_auc_encode_reject(out, sizeof(out), &p, secret, SLEN);
	else
		n = gk_auc_encode_accept(out, sizeof(out), &p, PEN, &v, secret, SLEN);
	if (n > 0)
		gk_loop_sendto(r->loop, fd, out, (size_t)n, from);
}

static void on_vector(void *user, uint32_t handle, const struct gk_auc_vector *v)
{
	((struct rig *)user)->vectors++;
}

static void on_failed(void *user, uint32_t handle, enum gk_reason why)
{
	struct rig *r = user;
	r->failed++;
	r->last_handle = handle;
	if (why == GK_R_OVERLOAD)
		r->overload++;
	if (why == GK_R_AUC_TIMEOUT)
		r->timeouts++;
	if (why == GK_R_PARSE_BAD_VALUE)
		r->bad++;
}

static void on_known(void *user, uint32_t handle, bool known)
{
	struct rig *r = user;
	r->last_handle = handle;
	if (known)
		r->known_yes++;
	else
		r->known_no++;
}

static void late_fn(struct gk_timer *t)
{
	if (current->late_len > 0)
		gk_loop_sendto(current->loop, current->late_fd, current->late_out,
		               (size_t)current->late_len, &current->late_to);
}

static void poll_fn(struct gk_timer *t)
{
	if (current->done(current))
		gk_loop_stop(current->loop);
	else
		gk_timer_arm(current->loop, &current->poll, 5);
}

static void guard_fn(struct gk_timer *t)
{
	current->timed_out = true;
	gk_loop_stop(current->loop);
}

/* Runs the loop until done() holds (checked every 5 ms), at most 10 s. */
static bool run_until(struct rig *r, bool (*done)(const struct rig *r))
{
	r->done = done;
	r->timed_out = false;
	r->poll.fn = poll_fn;
	r->guard.fn = guard_fn;
	gk_timer_arm(r->loop, &r->poll, 0);
	gk_timer_arm(r->loop, &r->guard, 10000);
	gk_loop_run(r->loop);
	gk_timer_cancel(r->loop, &r->poll);
	gk_timer_cancel(r->loop, &r->guard);
	return !r->timed_out;
}

static int bound_socket(struct sockaddr_storage *addr)
{
	char err[64];
	socklen_t len = sizeof(*addr);

	gk_parse_addr("127.0.0.1:0", addr, err, sizeof(err));
	int fd = gk_udp_socket(addr);
	if (fd >= 0)
		getsockname(fd, (struct sockaddr *)addr, &len);
	return fd;
}

/* One authentication socket and one accounting socket: 256 identifiers each. */
static int rig_open(struct rig *r, uint32_t timeout_ms, uint32_t acct_tries)
{
	static const struct gk_auc_client_ops ops = {
	    .vector = on_vector, .failed = on_failed, .known = on_known};
	struct gk_auc_client_cfg cfg;
	char err[256];

	memset(r, 0, sizeof(*r));
	current = r;
	r->timeout_ms = timeout_ms;
	r->late.fn = late_fn;
	r->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!r->loop)
		return -1;
	r->auth_srv = bound_socket(&r->auth_addr);
	r->acct_srv = bound_socket(&r->acct_addr); /* never read: the dead accounting server */
	if (r->auth_srv < 0 || r->acct_srv < 0 ||
	    gk_loop_add_udp(r->loop, r->auth_srv, on_auth_server, r) < 0)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.auth_server = r->auth_addr;
	cfg.acct_server = r->acct_addr;
	memcpy(cfg.secret, secret, SLEN);
	cfg.secret_len = SLEN;
	cfg.vendor = PEN;
	snprintf(cfg.nas_id, sizeof(cfg.nas_id), "ss1");
	cfg.timeout_ms = timeout_ms;
	cfg.tries = 3;
	cfg.sockets = 1;
	cfg.acct_tries = acct_tries;
	cfg.acct_sockets = 1;
	r->c = gk_auc_client_new(r->loop, &cfg, &ops, r, err, sizeof(err));
	return r->c ? 0 : -1;
}

static void rig_close(struct rig *r)
{
	gk_auc_client_free(r->c);
	if (r->auth_srv >= 0)
		close(r->auth_srv);
	if (r->acct_srv >= 0)
		close(r->acct_srv);
	gk_loop_free(r->loop);
}

static void account(struct rig *r, unsigned i)
{
	struct gk_auc_acct a;

	memset(&a, 0, sizeof(a));
	snprintf(a.idc, sizeof(a.idc), "t%u", i);
	snprintf(a.idsp, sizeof(a.idsp), "sbc1");
	snprintf(a.address, sizeof(a.address), "198.18.0.7:%u", 1024 + i);
	snprintf(a.session_id, sizeof(a.session_id), "t%u-%u", i, i + 1);
	a.status = GK_RAD_ACCT_START;
	a.timestamp = 1700000000;
	gk_auc_client_account(r->c, &a);
}

/* Accounting-Requests that reached the dead server, read off its socket queue. */
static unsigned drain_accounting(struct rig *r, unsigned *other)
{
	uint8_t buf[GK_RAD_MAX_LEN]; /* only the code is read: a longer datagram may be cut */
	unsigned n = 0;
	ssize_t len;

	*other = 0;
	while ((len = recv(r->acct_srv, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (buf[0] == GK_RAD_ACCOUNTING_REQUEST)
			n++;
		else
			(*other)++;
	}
	return n;
}

/* All 256 answered, or a failure other than the expected OVERLOAD (then the test reports it). */
static bool all_vectors(const struct rig *r)
{
	return r->vectors >= 256 || r->failed > r->overload;
}

static bool accounting_given_up(const struct rig *r)
{
	return gk_auc_client_stats(r->c)->acct_given_up >= 256;
}

TEST(dead_accounting_server_does_not_starve_authentication)
{
	struct rig r;
	unsigned other;

	/* 1 s before a retransmission: on a machine busy with other tests a 100 ms one fired before
	 * the server in this loop had answered, and the count of auth retransmissions below is
	 * what shows that accounting never held authentication up. */
	ASSERT_EQ(0, rig_open(&r, 1000, 2));
	const struct gk_auc_client_stats *st = gk_auc_client_stats(r.c);

	/* Registrations keep completing while the accounting server is down: fill every
	 * accounting identifier with a Start that will never be answered, and some more. */
	for (unsigned i = 0; i < 256 + 40; i++)
		account(&r, i);
	EXPECT_EQ(256, st->acct_sent);
	EXPECT_EQ(40, st->acct_no_room) TH_LOG("dropped for want of an accounting identifier");
	EXPECT_EQ(40, st->acct_lost);

	/* The attack's effect was that this failed at once with OVERLOAD: authentication has
	 * every one of its own 256 identifiers. */
	for (unsigned i = 0; i < 256; i++) {
		char idc[16];
		snprintf(idc, sizeof(idc), "t%u", i);
		gk_auc_client_request(r.c, i, idc, "sbc1");
	}
	EXPECT_EQ(0, r.overload);
	EXPECT_EQ(0, st->no_slot);
	EXPECT_EQ(256, st->requests);

	/* ... and every one of them is answered. */
	ASSERT_TRUE(run_until(&r, all_vectors));
	EXPECT_EQ(256, r.vectors);
	EXPECT_EQ(0, r.failed);
	EXPECT_EQ(256, r.auth_seen);
	EXPECT_EQ(0, r.not_access_request) TH_LOG("accounting reached the authentication server");

	/* Accounting gives up after its own budget (2 tries), and says how many. */
	ASSERT_TRUE(run_until(&r, accounting_given_up));
	EXPECT_EQ(256, st->acct_given_up);
	EXPECT_EQ(256, st->acct_retransmits);
	EXPECT_EQ(0, st->retransmits);
	EXPECT_EQ(0, st->acct_acked);
	EXPECT_EQ(256 + 40, st->acct_lost);
	EXPECT_EQ(0, st->timeouts) TH_LOG("an accounting give-up was counted as an auth timeout");
	/* Each was sent exactly twice, all to the accounting server. */
	EXPECT_EQ(2 * 256, drain_accounting(&r, &other));
	EXPECT_EQ(0, other);

	/* Its identifiers are free again: the next Start goes out. */
	account(&r, 1000);
	EXPECT_EQ(257, st->acct_sent);
	EXPECT_EQ(40, st->acct_no_room);
	rig_close(&r);
}

/* The other direction of the separation: a full authentication pool refuses the next request
 * with OVERLOAD (counted), and accounting still goes out. */
TEST(full_authentication_pool_is_overload_and_counted)
{
	struct rig r;
	unsigned other;

	ASSERT_EQ(0, rig_open(&r, 1000, 2));
	const struct gk_auc_client_stats *st = gk_auc_client_stats(r.c);
	for (unsigned i = 0; i < 257; i++)
		gk_auc_client_request(r.c, i, "alice", "sbc1");
	EXPECT_EQ(1, r.overload);
	EXPECT_EQ(1, st->no_slot);
	EXPECT_EQ(256, st->requests);
	account(&r, 1);
	EXPECT_EQ(1, st->acct_sent);
	EXPECT_EQ(0, st->acct_lost);
	gk_loop_flush(r.loop);
	ASSERT_TRUE(run_until(&r, all_vectors));
	EXPECT_EQ(256, r.vectors);
	EXPECT_EQ(1, drain_accounting(&r, &other));
	rig_close(&r);
}

static bool one_answer(const struct rig *r)
{
	return r->known_yes + r->known_no + r->failed >= 1;
}

/* A lookup is answered known or unknown with the handle it was asked with, through the same
 * identifiers as the vector requests; no answer at all ends in `failed` after the retries, and
 * an answer about someone else is no answer. */
TEST(lookups_are_answered_known_or_unknown_and_fail_like_any_request)
{
	struct rig r;

	ASSERT_EQ(0, rig_open(&r, 50, 2));
	const struct gk_auc_client_stats *st = gk_auc_client_stats(r.c);

	gk_auc_client_lookup(r.c, 0x80000007u, "alice", "ss1");
	ASSERT_TRUE(run_until(&r, one_answer));
	EXPECT_EQ(1, r.known_yes);
	EXPECT_EQ(0x80000007u, r.last_handle);

	gk_auc_client_lookup(r.c, 0x80000008u, "nobody", "ss1");
	r.known_yes = 0;
	ASSERT_TRUE(run_until(&r, one_answer));
	EXPECT_EQ(1, r.known_no);
	EXPECT_EQ(0x80000008u, r.last_handle);
	EXPECT_EQ(2, st->lookups);
	EXPECT_EQ(1, st->lookups_unknown);
	EXPECT_EQ(0, st->rejects) TH_LOG("a lookup's Reject is an answer, not a refusal");
	EXPECT_EQ(2, st->requests);

	/* the AuC never answers: retransmitted (same identifier), then failed with a timeout */
	r.known_no = 0;
	gk_auc_client_lookup(r.c, 0x80000009u, "silent", "ss1");
	ASSERT_TRUE(run_until(&r, one_answer));
	EXPECT_EQ(1, r.timeouts);
	EXPECT_EQ(0x80000009u, r.last_handle);
	EXPECT_EQ(2, st->retransmits);
	EXPECT_EQ(1, st->timeouts);
	EXPECT_EQ(2 + 3, r.auth_seen); /* alice, nobody, and silent three times (tries = 3) */

	/* an authentic Accept about another user is refused */
	r.failed = 0;
	gk_auc_client_lookup(r.c, 0x8000000au, "liar", "ss1");
	ASSERT_TRUE(run_until(&r, one_answer));
	EXPECT_EQ(1, r.bad);
	EXPECT_EQ(0, r.known_yes);
	EXPECT_EQ(1, st->bad_responses);
	EXPECT_EQ(0, r.not_access_request);
	rig_close(&r);
}

/*
 * A server slowed down (a loaded host, a scheduling stall) is given time, not buried: each copy
 * waits twice as long as the one before, and an answer is used whenever it comes until the core
 * stops waiting (timeout x (tries + 1)). Here it comes at 3.3 timeouts, where three waits of one
 * timeout each had given up and dropped it.
 */
TEST(a_slow_server_gets_backoff_and_its_late_answer_is_used)
{
	struct rig r;

	ASSERT_EQ(0, rig_open(&r, 100, 2));
	const struct gk_auc_client_stats *st = gk_auc_client_stats(r.c);

	/* The loop's clock as the client reads it when it sends and arms its timer. */
	uint64_t start = gk_loop_now(r.loop);
	gk_auc_client_lookup(r.c, 0x8000000bu, "late", "ss1");
	ASSERT_TRUE(run_until(&r, one_answer));
	EXPECT_EQ(1, r.known_yes) TH_LOG("the late answer was not used");
	EXPECT_EQ(0, r.timeouts);
	EXPECT_EQ(3, r.late_copies);
	EXPECT_EQ(2, st->retransmits);
	EXPECT_EQ(1, st->answered_after_retransmit);
	/* The copies go 100 ms after the request, then 200 ms after that: counted from the
	 * request, since timers fire late but never early. The gaps between what the server saw
	 * are no measure: on a loaded host it may see the first copy late, and the next one's gap
	 * then looks short. Without backoff the third copy would come at 200 ms. */
	EXPECT_LE(start + 100, r.late_seen_ms[1]);
	EXPECT_LE(start + 300, r.late_seen_ms[2])
	TH_LOG("no backoff: copies seen %llu and %llu ms after the request",
	       (unsigned long long)(r.late_seen_ms[1] - start),
	       (unsigned long long)(r.late_seen_ms[2] - start));
	rig_close(&r);
}

/* A client whose user takes no lookup answers says so at once, as for Digest without ha1. */
TEST(lookup_without_a_known_callback_fails_at_once)
{
	static const struct gk_auc_client_ops ops = {.vector = on_vector, .failed = on_failed};
	struct rig r;
	struct gk_auc_client_cfg cfg;
	char err[256];

	ASSERT_EQ(0, rig_open(&r, 50, 2));
	memset(&cfg, 0, sizeof(cfg));
	cfg.auth_server = r.auth_addr;
	cfg.acct_server = r.acct_addr;
	memcpy(cfg.secret, secret, SLEN);
	cfg.secret_len = SLEN;
	cfg.vendor = PEN;
	snprintf(cfg.nas_id, sizeof(cfg.nas_id), "ss1");
	struct gk_auc_client *c = gk_auc_client_new(r.loop, &cfg, &ops, &r, err, sizeof(err));
	ASSERT_NE(NULL, c);
	gk_auc_client_lookup(c, 5, "alice", "ss1");
	EXPECT_EQ(1, r.failed);
	EXPECT_EQ(5, r.last_handle);
	EXPECT_EQ(0, gk_auc_client_stats(c)->requests);
	gk_auc_client_free(c);
	rig_close(&r);
}

TEST_HARNESS_MAIN
