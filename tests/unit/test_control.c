// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket and its paged listings, end to end in one process: a real front (registrar
 * and front_io's "bindings", filled through gk_registrar_restore), the daemon's control socket on
 * its loop, and gkctl's client (gk_control_query) on a second thread, as gkctl runs beside a
 * daemon. The table changes only between pages, on the loop, as it does in a daemon. The stats
 * end with every stepped table's accounting (tables.*), as each daemon's do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/front_io.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/runtime/control.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/steps.h"
#include "helper_loop.h"

/* A binding's name tells what the test does with it: s<index> stays throughout, c<index> may be
 * deregistered while a dump runs, a<index> is added while it runs. */
struct rig {
	struct gk_loop *loop;
	struct gk_registrar *reg;
	struct gk_front_io io;
	struct gk_control *ctl;
	char dir[64], path[108];
	uint32_t slots;
	char *kind; /* per index: 0 never used, 's', 'c' or 'a' */
	bool *gone; /* per index: deregistered */
	/* churn: between pages, deregister and add this many, at random */
	unsigned churn, removed, added, pages_served;
	uint64_t rng;
	double longest_page_ms, pages_ms; /* the loop's time in the listing's pages */
};

static void no_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                    struct gk_binding *b)
{
}

static void no_unbound(void *user, const char *idc, const char *idsp, const char *address,
                       const uint8_t *rand)
{
}

static uint64_t rnd(struct rig *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static int bind_at(struct rig *r, uint32_t index, char kind)
{
	struct gk_binding_record rec = {
	    .index = index, .mech = GK_MECH_GKMAC, .expires_at_s = (uint64_t)time(NULL) + 3600};
	struct sockaddr_in *a = (struct sockaddr_in *)&rec.addr;

	snprintf(rec.idc, sizeof(rec.idc), "%c%u", kind, index);
	snprintf(rec.fpr, sizeof(rec.fpr), "%016" PRIx32, index);
	a->sin_family = AF_INET;
	a->sin_port = htons(5060);
	a->sin_addr.s_addr = htonl(0x0a000000u + index);
	if (gk_registrar_restore(r->reg, &rec) < 0)
		return -1;
	r->kind[index] = kind;
	return 0;
}

/* A terminal's deregistration, verified by its own trailer, as the front gets it. */
static void deregister(struct rig *r, uint32_t index)
{
	static struct gk_msg m;
	struct sockaddr_storage from = {0};
	struct sockaddr_in *a = (struct sockaddr_in *)&from;

	memset(&m, 0, sizeof(m));
	m.proto = GK_PROTO_SIP;
	m.type = GK_MSG_DEREGISTER;
	snprintf(m.idc, sizeof(m.idc), "%c%u", r->kind[index], index);
	a->sin_family = AF_INET;
	a->sin_port = htons(5060);
	a->sin_addr.s_addr = htonl(0x0a000000u + index);
	gk_registrar_on_message(r->reg, &m, &from, index);
	r->gone[index] = true;
	r->removed++;
}

/* Before serving a page after the first: the one at the cursor and the one after it go (if they
 * may), and `churn` more go and come at random, below and above the cursor. */
static void churn_bindings(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct rig *r = user;
	unsigned long long cur;

	r->pages_served++;
	if (sscanf(args, "after %llu", &cur) == 1) {
		for (uint64_t i = cur; i <= cur + 1 && i <= r->slots; i++)
			if (r->kind[i] == 'c' && !r->gone[i])
				deregister(r, (uint32_t)i);
		for (unsigned n = 0; n < r->churn; n++) {
			uint32_t i = 1 + (uint32_t)(rnd(r) % r->slots);
			if (r->kind[i] == 'c' && !r->gone[i])
				deregister(r, i);
			i = 1 + (uint32_t)(rnd(r) % r->slots);
			if (!r->kind[i] && bind_at(r, i, 'a') == 0)
				r->added++;
		}
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	gk_front_io_ctl_bindings(&r->io, args, out);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	r->pages_ms += ms;
	if (ms > r->longest_page_ms)
		r->longest_page_ms = ms;
}

static void stats(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct rig *r = user;
	gk_front_io_ctl_stats(&r->io, out);
	gk_ctl_tables(out);
}

/* A command of no listing that prints more than one datagram holds. */
static void flood(void *user, const char *args, struct gk_ctl_reply *out)
{
	for (unsigned i = 0; i < 20000; i++)
		gk_ctl_printf(out, "flood.line_%05u %040u", i, i);
}

/* n bindings in `slots` slots: stable ones at indexes 4k+1 and 4k+2, ones that may go at 4k+3,
 * 4k+4 free for those the churn adds; all of them stable when churn is false. The few indexes
 * a registrar never hands out are skipped. */
static int rig_open(struct rig *r, uint32_t slots, uint32_t n, bool churn)
{
	static const struct gk_registrar_ops ops = {.send_terminal = no_send,
	                                            .core_unbound = no_unbound};
	struct gk_registrar_cfg cfg;
	char err[256];

	memset(r, 0, sizeof(*r));
	gk_log_level = GK_LOG_WARN;
	r->slots = slots;
	r->rng = 0x9e3779b97f4a7c15ull;
	r->kind = calloc((size_t)slots + 2, 1);
	r->gone = calloc((size_t)slots + 2, sizeof(bool));
	snprintf(r->dir, sizeof(r->dir), "/tmp/gk-test-control-XXXXXX");
	if (!r->kind || !r->gone || !mkdtemp(r->dir))
		return -1;
	snprintf(r->path, sizeof(r->path), "%s/ctl.sock", r->dir);
	if (!(r->loop = gk_loop_new(NULL, err, sizeof(err))))
		return -1;
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	gk_random(cfg.element_key, GK_KEY_LEN);
	cfg.max_terminals = slots;
	cfg.max_pending = 4;
	cfg.log_registrations = false;
	r->reg = gk_registrar_new(&cfg, &ops, r, r->loop, err, sizeof(err));
	if (!r->reg)
		return -1;
	r->io.loop = r->loop;
	r->io.front = r->reg;
	for (uint32_t i = 1, placed = 0; i <= slots && placed < n; i++) {
		char kind = i % 4 == 1 || i % 4 == 2 ? 's' : i % 4 == 3 ? 'c' : 0;
		if (!churn && !kind)
			kind = 's';
		if (!kind || !gk_pkt_index_text_safe(i)) /* never handed out (registrar.c) */
			continue;
		if (bind_at(r, i, churn ? kind : 's') < 0)
			return -1;
		placed++;
	}
	if (!(r->ctl = gk_control_new(r->loop, r->path, err, sizeof(err))))
		return -1;
	if (gk_control_add(r->ctl, "bindings", churn_bindings, r) < 0 ||
	    gk_control_add(r->ctl, "stats", stats, r) < 0 ||
	    gk_control_add(r->ctl, "flood", flood, r) < 0)
		return -1;
	return 0;
}

static void rig_close(struct rig *r)
{
	gk_control_free(r->ctl);
	gk_front_io_close(&r->io);
	gk_registrar_free(r->reg);
	gk_loop_free(r->loop);
	rmdir(r->dir);
	free(r->kind);
	free(r->gone);
}

/* gkctl's side: gk_control_query on its own thread, into a memfd. */
struct query {
	const char *path, *cmd;
	int fd, rc, timeout_ms;
	unsigned pages;
	char err[256];
	double ms;
	atomic_bool done;
};

static void *query_thread(void *arg)
{
	struct query *q = arg;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	q->rc = gk_control_query(q->path, q->cmd, q->fd, q->timeout_ms, &q->pages, q->err,
	                         sizeof(q->err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	q->ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	atomic_store(&q->done, true);
	return NULL;
}

static bool query_done(void *arg)
{
	return atomic_load(&((struct query *)arg)->done);
}

static bool readable(void *arg)
{
	struct pollfd p = {.fd = *(int *)arg, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

/* Asks cmd while the loop serves it: what gkctl would print (malloc'd, NUL-ended), or NULL. */
static char *ask(struct rig *r, const char *cmd, struct query *q)
{
	pthread_t t;
	struct stat st;
	char *text = NULL;

	memset(q, 0, sizeof(*q));
	q->path = r->path;
	q->cmd = cmd;
	q->timeout_ms = 3000;
	q->fd = memfd_create("gkctl-out", MFD_CLOEXEC);
	if (q->fd < 0 || pthread_create(&t, NULL, query_thread, q) != 0)
		return NULL;
	run_until(r->loop, query_done, q, 60000);
	pthread_join(t, NULL);
	if (fstat(q->fd, &st) == 0 && (text = malloc((size_t)st.st_size + 1)) &&
	    pread(q->fd, text, (size_t)st.st_size, 0) == st.st_size)
		text[st.st_size] = '\0';
	close(q->fd);
	return text;
}

/* Checks a dump: every line a binding line; indexes ascending, so none twice; each named as the
 * rig bound it. Counts per index into seen. -1 at the first line that is not right. */
static long check_dump(struct rig *r, char *text, unsigned *seen, char *why, size_t whylen)
{
	long lines = 0;
	uint32_t last = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		char idc[GK_ID_MAX + 1], addr[64], mech[16], fpr[GK_FPR_HEX_LEN + 1], want[24];
		unsigned index;
		long long expires;
		unsigned long long rx, tx;
		if (sscanf(line,
		           "%63s index=%u addr=%63s mech=%15s expires_in=%lld fpr=%16s rx=%llu "
		           "tx=%llu",
		           idc, &index, addr, mech, &expires, fpr, &rx, &tx) != 8 ||
		    !index || index > r->slots) {
			snprintf(why, whylen, "line %ld: \"%.80s\"", lines + 1, line);
			return -1;
		}
		snprintf(want, sizeof(want), "%c%u", r->kind[index], index);
		if (index <= last || strcmp(idc, want) != 0 || strcmp(mech, "gk-mac") != 0 ||
		    expires < 3500 || expires > 3600) {
			snprintf(why, whylen, "line %ld after index %u: \"%.80s\"", lines + 1, last,
			         line);
			return -1;
		}
		seen[index]++;
		last = index;
	}
	return lines;
}

/* 250,000 bindings, as many as a default front holds nearly, each listed once. */
TEST(a_quarter_million_bindings_dump_in_pages_each_once)
{
	const uint32_t n = 250000;
	struct rig r;
	struct query q;
	char why[160] = "";

	ASSERT_EQ(0, rig_open(&r, 262144, n, false));
	unsigned *seen = calloc(r.slots + 1, sizeof(*seen));
	ASSERT_NE(NULL, seen);
	char *text = ask(&r, "bindings", &q);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, q.rc) TH_LOG("%s", q.err);
	size_t bytes = strlen(text);
	EXPECT_EQ(n, check_dump(&r, text, seen, why, sizeof(why))) TH_LOG("%s", why);
	unsigned once = 0;
	for (uint32_t i = 1; i <= r.slots; i++)
		once += seen[i] == 1 && r.kind[i] == 's';
	EXPECT_EQ(n, once);
	/* as full as the datagram allows: every page but the last within a line of it */
	size_t page = gk_control_page(r.ctl);
	EXPECT_GE(q.pages, bytes / page + 1);
	EXPECT_LE(q.pages, bytes / (page - 128 - 200) + 1);
	TH_LOG("%u bindings, %zu bytes of lines, in %u pages of up to %zu bytes: %.0f ms (the "
	       "loop spent %.2f ms on a page, %.2f ms on the longest)",
	       n, bytes, q.pages, page, q.ms, r.pages_ms / q.pages, r.longest_page_ms);
	EXPECT_GT(10000.0, q.ms);
	free(text);
	free(seen);
	rig_close(&r);
}

/* Bindings go and come between pages, the one at the cursor too: none is listed twice, and each
 * that stood throughout is listed once. */
TEST(bindings_that_stay_are_listed_once_while_others_come_and_go)
{
	const uint32_t n = 100000;
	struct rig r;
	struct query q;
	char why[160] = "";

	ASSERT_EQ(0, rig_open(&r, 140000, n, true));
	r.churn = 200;
	unsigned *seen = calloc(r.slots + 1, sizeof(*seen));
	ASSERT_NE(NULL, seen);
	char *text = ask(&r, "bindings", &q);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, q.rc) TH_LOG("%s", q.err);
	long lines = check_dump(&r, text, seen, why, sizeof(why));
	EXPECT_LT(0, lines) TH_LOG("%s", why);
	unsigned stable = 0, stable_once = 0, twice = 0;
	for (uint32_t i = 1; i <= r.slots; i++) {
		twice += seen[i] > 1;
		if (r.kind[i] == 's') {
			stable++;
			stable_once += seen[i] == 1;
		}
	}
	EXPECT_EQ(0, twice);
	EXPECT_EQ(stable, stable_once);
	EXPECT_LT(50, q.pages);
	EXPECT_EQ(q.pages, r.pages_served);
	EXPECT_LT(1000, r.removed);
	EXPECT_LT(1000, r.added);
	TH_LOG("%ld lines in %u pages while %u bindings went and %u came: %.0f ms", lines, q.pages,
	       r.removed, r.added, q.ms);
	free(text);
	free(seen);
	rig_close(&r);
}

/* "bindings after N" starts past N; past the last index the listing is just its end. */
TEST(a_listing_starts_after_its_cursor)
{
	struct rig r;
	struct query q;
	char *text;

	ASSERT_EQ(0, rig_open(&r, 64, 10, false));
	text = ask(&r, "bindings after 7", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, q.rc);
	EXPECT_EQ(1, q.pages);
	const char *first = "s8 index=8 addr=10.0.0.8:5060 mech=gk-mac expires_in=";
	EXPECT_EQ(0, strncmp(text, first, strlen(first))) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "\ns10 index=10 "));
	EXPECT_EQ(NULL, strstr(text, "s7 "));
	free(text);
	const char *past[] = {"bindings after 10", "bindings after 4294967295",
	                      "bindings after 18446744073709551615", "bindings  after  64 "};
	for (unsigned i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
		text = ask(&r, past[i], &q);
		ASSERT_NE(NULL, text);
		EXPECT_EQ(0, q.rc);
		EXPECT_STREQ("", text) TH_LOG("%s", past[i]);
		free(text);
	}
	rig_close(&r);
}

/* A malformed request gets an error line and its end, and changes nothing. */
TEST(a_malformed_request_gets_an_error_and_changes_nothing)
{
	const char *bad[] = {"bindings after",
	                     "bindings after x",
	                     "bindings after -1",
	                     "bindings after +1",
	                     "bindings after 1 2",
	                     "bindings after 1x",
	                     "bindings before 1",
	                     "bindings 5",
	                     "bindings after 18446744073709551616",
	                     "bindings after 99999999999999999999999"};
	struct rig r;
	struct query q;
	unsigned seen[65] = {0};
	char why[160] = "", *text;

	ASSERT_EQ(0, rig_open(&r, 64, 10, false));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = ask(&r, bad[i], &q);
		ASSERT_NE(NULL, text);
		EXPECT_EQ(0, q.rc) TH_LOG("%s: %s", bad[i], q.err);
		EXPECT_EQ(0, strncmp(text, "error ", 6)) TH_LOG("%s: %s", bad[i], text);
		EXPECT_NE(NULL, strstr(text, "\"after CURSOR\"")) TH_LOG("%s: %s", bad[i], text);
		EXPECT_EQ(NULL, strstr(text, "index=")) TH_LOG("%s: %s", bad[i], text);
		free(text);
	}
	EXPECT_EQ(0, gk_registrar_stats(r.reg)->deregistrations);
	text = ask(&r, "bindings", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(10, check_dump(&r, text, seen, why, sizeof(why))) TH_LOG("%s", why);
	free(text);

	/* Longer than a command may be: refused whole, never cut and run. */
	struct sockaddr_un me = {.sun_family = AF_UNIX}, srv = {.sun_family = AF_UNIX};
	char big[300], reply[512];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	snprintf(me.sun_path, sizeof(me.sun_path), "%s/raw", r.dir);
	snprintf(srv.sun_path, sizeof(srv.sun_path), "%s", r.path);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&me, sizeof(me)));
	memset(big, 'x', sizeof(big));
	memcpy(big, "flood ", 6);
	ASSERT_EQ(sizeof(big),
	          sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&srv, sizeof(srv)));
	EXPECT_TRUE(run_until(r.loop, readable, &fd, 5000));
	ssize_t got = recv(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
	ASSERT_LT(0, got);
	reply[got] = '\0';
	EXPECT_STREQ("error request of 300 bytes: a command is at most 255\n.end\n", reply);
	close(fd);
	unlink(me.sun_path);
	rig_close(&r);
}

/* Other commands answer as before, in one datagram; an unknown one gets the list. */
TEST(other_commands_answer_whole)
{
	struct rig r;
	struct query q;
	char *text;

	ASSERT_EQ(0, rig_open(&r, 64, 10, false));
	text = ask(&r, "stats", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, q.rc);
	EXPECT_EQ(1, q.pages);
	const char *head = "records 10\nin_progress 0\nregistrations 0\n";
	EXPECT_EQ(0, strncmp(text, head, strlen(head))) TH_LOG("%.200s", text);
	EXPECT_NE(NULL, strstr(text, "\nlimit.")); /* the last group there is, and whole */
	EXPECT_EQ(NULL, strstr(text, ".end"));
	EXPECT_EQ(NULL, strstr(text, "error"));
	free(text);

	text = ask(&r, "nope", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, q.rc);
	EXPECT_STREQ("error unknown command \"nope\"; commands:\n  bindings\n  stats\n  flood\n",
	             text);
	free(text);

	/* More than a datagram holds: what fits, and a line saying the rest was cut. */
	text = ask(&r, "flood", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, q.rc);
	EXPECT_EQ(1, q.pages);
	char *cut = strstr(text, "error reply cut at ");
	ASSERT_NE(NULL, cut);
	EXPECT_EQ(0, strcmp(strchr(cut, '\n'), "\n"));
	EXPECT_EQ(0, strncmp(text, "flood.line_00000 ", 17));
	EXPECT_GT(gk_control_page(r.ctl), strlen(text));
	EXPECT_LT(gk_control_page(r.ctl) - 300, strlen(text));
	free(text);
	rig_close(&r);
}

/* One table's tables.<key>.* lines, as read back. */
struct table_stat {
	char key[GK_STEPS_KEY_MAX];
	unsigned long long capacity, bytes, max, first, steps, peak;
	unsigned fields; /* a bit per field seen: all six, once each */
	bool twice;
};

static struct table_stat *table_of(struct table_stat *t, unsigned *n, const char *key)
{
	for (unsigned i = 0; i < *n; i++)
		if (strcmp(t[i].key, key) == 0)
			return &t[i];
	memset(&t[*n], 0, sizeof(t[*n]));
	snprintf(t[*n].key, sizeof(t[*n].key), "%s", key);
	return &t[(*n)++];
}

/* Reads the tables.* lines of a stats reply into t (up to 64): their number, and the total line
 * in *total; -1 at a line that does not parse. */
static int read_tables(char *text, struct table_stat *t, unsigned long long *total)
{
	static const char *const names[] = {"capacity", "bytes", "max", "first", "steps", "peak"};
	unsigned n = 0;

	*total = ~0ull;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char key[GK_STEPS_KEY_MAX + 16], *field;
		unsigned long long v;
		if (strncmp(line, "tables.", 7) != 0)
			continue;
		if (sscanf(line + 7, "%63s %llu", key, &v) != 2)
			return -1;
		if (strcmp(key, "bytes") == 0) {
			*total = v;
			continue;
		}
		if (!(field = strrchr(key, '.')) || n == 64)
			return -1;
		*field++ = '\0';
		struct table_stat *ts = table_of(t, &n, key);
		unsigned long long *slot[] = {&ts->capacity, &ts->bytes, &ts->max,
		                              &ts->first,    &ts->steps, &ts->peak};
		unsigned f = 0;
		while (f < 6 && strcmp(field, names[f]) != 0)
			f++;
		if (f == 6)
			return -1;
		ts->twice |= (ts->fields >> f) & 1;
		ts->fields |= 1u << f;
		*slot[f] = v;
	}
	return (int)n;
}

/* The stats account for every stepped table of the process under a key of its own: what is
 * resident, the maximum, the steps and the peak that explains them, and the total. 5,000
 * bindings taken back into a front made for 70,000 take its ID slots (and the records with them)
 * from 1,024 to 8,192, and its address map from 1,024 to 32,768 slots (a quarter full). */
TEST(stats_account_for_every_stepped_table)
{
	static const char *const expect[] = {
	    "rx_buffers",
	    "tx_buffers",
	    "tx_headers",
	    "registrar_records",
	    "registrar_pending",
	    "registrar_ids",
	    "registrar_ids_buckets",
	    "registrar_addrs",
	    "registrar_attempts",
	    "registrar_attempts_groups",
	    "registrar_attempts_ids",
	    "registrar_attempts_ids_buckets",
	};
	struct table_stat t[64];
	unsigned long long total, sum = 0;
	struct query q;
	struct rig r;
	char *text;
	int n;

	ASSERT_EQ(0, rig_open(&r, 70000, 5000, false));
	text = ask(&r, "stats", &q);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, q.rc);
	EXPECT_EQ(1, q.pages);
	EXPECT_EQ(NULL, strstr(text, "error"));
	n = read_tables(text, t, &total);
	ASSERT_LE(0, n);
	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		unsigned k = 0;
		while (k < (unsigned)n && strcmp(t[k].key, expect[i]) != 0)
			k++;
		EXPECT_GT(n, k) TH_LOG("no tables.%s.* in the stats", expect[i]);
	}
	for (int i = 0; i < n; i++) {
		unsigned long long before = t[i].first;
		for (unsigned long long s = 1; s < t[i].steps; s++)
			before *= 2;
		if (before > t[i].max)
			before = t[i].max;
		EXPECT_EQ(0x3f, t[i].fields) TH_LOG("tables.%s: fields %#x", t[i].key, t[i].fields);
		EXPECT_FALSE(t[i].twice) TH_LOG("tables.%s listed twice", t[i].key);
		EXPECT_LE(t[i].capacity, t[i].max);
		EXPECT_LE(t[i].first, t[i].capacity);
		EXPECT_LT(0, t[i].bytes);
		EXPECT_TRUE(!t[i].steps || before < t[i].peak)
		TH_LOG("tables.%s: %llu steps to %llu, peak %llu", t[i].key, t[i].steps,
		       t[i].capacity, t[i].peak);
		sum += t[i].bytes;
	}
	EXPECT_EQ(sum, total);
	unsigned listed = (unsigned)n;
	struct table_stat *ids = table_of(t, &listed, "registrar_ids");
	EXPECT_EQ(8192, ids->capacity);
	EXPECT_EQ(3, ids->steps);
	EXPECT_LT(5000, ids->peak);
	EXPECT_EQ(70001, ids->max);
	struct table_stat *recs = table_of(t, &listed, "registrar_records");
	EXPECT_EQ(8192, recs->capacity);
	struct table_stat *addrs = table_of(t, &listed, "registrar_addrs");
	EXPECT_EQ(32768, addrs->capacity);
	EXPECT_EQ(20000, addrs->peak);
	free(text);
	rig_close(&r);
}

/* A gkctl that stops reading, or is gone, costs its own answer only: the daemon never waits,
 * and the next dump is whole. */
TEST(a_stalled_or_gone_client_does_not_hold_up_the_next)
{
	struct rig r;
	struct query q;
	unsigned *seen;
	char why[160] = "", *text;
	int fd[2];

	ASSERT_EQ(0, rig_open(&r, 65536, 60000, false));
	seen = calloc(r.slots + 1, sizeof(*seen));
	ASSERT_NE(NULL, seen);
	struct sockaddr_un srv = {.sun_family = AF_UNIX};
	snprintf(srv.sun_path, sizeof(srv.sun_path), "%s", r.path);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_un me = {.sun_family = AF_UNIX};
		fd[i] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fd[i]);
		snprintf(me.sun_path, sizeof(me.sun_path), "%s/c%d", r.dir, i);
		ASSERT_EQ(0, bind(fd[i], (struct sockaddr *)&me, sizeof(me)));
		ASSERT_EQ(8, sendto(fd[i], "bindings", 8, 0, (struct sockaddr *)&srv, sizeof(srv)));
	}
	close(fd[1]); /* gone before its answer */
	text = ask(&r, "bindings", &q);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, q.rc) TH_LOG("%s", q.err);
	EXPECT_EQ(60000, check_dump(&r, text, seen, why, sizeof(why))) TH_LOG("%s", why);
	free(text);
	/* the stalled one's page waits in its socket, whole */
	char *page = malloc(GK_CTL_PAGE_MAX);
	ssize_t got = recv(fd[0], page, GK_CTL_PAGE_MAX, MSG_DONTWAIT);
	EXPECT_LT(gk_control_page(r.ctl) - 300, got);
	EXPECT_EQ(0, memcmp(page, "s1 index=1 ", 11));
	close(fd[0]);
	for (int i = 0; i < 2; i++) {
		char p[108];
		snprintf(p, sizeof(p), "%s/c%d", r.dir, i);
		unlink(p);
	}
	free(page);
	free(seen);
	rig_close(&r);
}

/* The client side against replies it may meet: several datagrams then ".end" (as daemons sent
 * before pages), and continuations that are wrong. */
struct fake {
	int fd;
	char path[108];
};

static int fake_open(struct fake *f, const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return f->fd < 0 ? -1 : bind(f->fd, (struct sockaddr *)&a, sizeof(a));
}

/* Waits for the next request (into req) and answers it with the datagrams in `dgrams`. */
static int fake_serve(struct fake *f, char *req, size_t cap, const char *const *dgrams)
{
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	if (poll(&p, 1, 5000) != 1)
		return -1;
	ssize_t n = recvfrom(f->fd, req, cap - 1, 0, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return -1;
	req[n] = '\0';
	for (int i = 0; dgrams[i]; i++)
		if (sendto(f->fd, dgrams[i], strlen(dgrams[i]), 0, (struct sockaddr *)&from, fl) <
		    0) {
			/* A later copy of a page answered twice may find the client's socket
			 * gone: the client took the first, closed that socket and asks on with
			 * a new one, as it should. Only the first must get through. */
			if (i > 0 && (errno == ECONNREFUSED || errno == ENOENT))
				break;
			return -1;
		}
	return 0;
}

struct fake_query {
	struct query q;
	pthread_t t;
};

static int fake_ask_within(struct fake_query *fq, const char *path, const char *cmd, int timeout_ms)
{
	memset(fq, 0, sizeof(*fq));
	fq->q.path = path;
	fq->q.cmd = cmd;
	fq->q.timeout_ms = timeout_ms;
	fq->q.fd = memfd_create("gkctl-out", MFD_CLOEXEC);
	return fq->q.fd < 0 ? -1 : pthread_create(&fq->t, NULL, query_thread, &fq->q);
}

static int fake_ask(struct fake_query *fq, const char *path, const char *cmd)
{
	return fake_ask_within(fq, path, cmd, 300);
}

static char *fake_result(struct fake_query *fq)
{
	struct stat st;
	char *text = NULL;
	pthread_join(fq->t, NULL);
	if (fstat(fq->q.fd, &st) == 0 && (text = malloc((size_t)st.st_size + 1)) &&
	    pread(fq->q.fd, text, (size_t)st.st_size, 0) == st.st_size)
		text[st.st_size] = '\0';
	close(fq->q.fd);
	return text;
}

TEST(the_client_reads_old_replies_and_refuses_bad_continuations)
{
	char dir[] = "/tmp/gk-test-control-XXXXXX", req[256];
	struct fake f;
	struct fake_query fq;
	char *text;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, fake_open(&f, dir));

	/* before pages: lines in several datagrams, then ".end" alone */
	ASSERT_EQ(0, fake_ask(&fq, f.path, "stats"));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req),
	                        (const char *const[]){"a 1\nb 2\n", "c 3\n", ".end\n", NULL}));
	text = fake_result(&fq);
	EXPECT_STREQ("stats", req);
	EXPECT_EQ(0, fq.q.rc);
	EXPECT_STREQ("a 1\nb 2\nc 3\n", text);
	free(text);

	/* pages: the next is asked for with the command's name and the cursor */
	ASSERT_EQ(0, fake_ask(&fq, f.path, "bindings after 3"));
	ASSERT_EQ(0,
	          fake_serve(&f, req, sizeof(req), (const char *const[]){"x4\n.more 4\n", NULL}));
	EXPECT_STREQ("bindings after 3", req);
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){"x9\n.end\n", NULL}));
	EXPECT_STREQ("bindings after 4", req);
	text = fake_result(&fq);
	EXPECT_EQ(0, fq.q.rc);
	EXPECT_EQ(2, fq.q.pages);
	EXPECT_STREQ("x4\nx9\n", text);
	free(text);

	/* a cursor that does not go forward would page for ever; one that is no number is wrong */
	const char *wrong[] = {".more 4\n",  ".more 3\n", ".more x\n",
	                       ".more 4x\n", ".more \n",  ".more 99999999999999999999\n"};
	for (unsigned i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ASSERT_EQ(0, fake_ask(&fq, f.path, "bindings"));
		ASSERT_EQ(
		    0, fake_serve(&f, req, sizeof(req), (const char *const[]){".more 4\n", NULL}));
		ASSERT_EQ(0,
		          fake_serve(&f, req, sizeof(req), (const char *const[]){wrong[i], NULL}));
		text = fake_result(&fq);
		EXPECT_EQ(-1, fq.q.rc) TH_LOG("%s", wrong[i]);
		EXPECT_NE(NULL, strstr(fq.q.err, "bad continuation")) TH_LOG("%s", fq.q.err);
		EXPECT_STREQ("", text);
		free(text);
	}

	/* no answer to a page: the per-page timeout, said as such */
	ASSERT_EQ(0, fake_ask(&fq, f.path, "bindings"));
	ASSERT_EQ(0,
	          fake_serve(&f, req, sizeof(req), (const char *const[]){"x1\n.more 1\n", NULL}));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){NULL}));
	text = fake_result(&fq);
	EXPECT_EQ(-1, fq.q.rc);
	EXPECT_NE(NULL,
	          strstr(fq.q.err, "no answer within 300 ms to the request for the next page"))
	TH_LOG("%s", fq.q.err);
	EXPECT_STREQ("x1\n", text);
	free(text);

	close(f.fd);
	unlink(f.path);
	rmdir(dir);
}

/* A request lost (as to the socket of a daemon killed a moment ago, still bound while the kernel
 * tears its ring down) is sent again, and a page that then comes twice is taken once. */
TEST(the_client_asks_again_for_a_lost_answer_and_takes_each_page_once)
{
	char dir[] = "/tmp/gk-test-control-XXXXXX", req[256];
	struct fake f;
	struct fake_query fq;
	char *text;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, fake_open(&f, dir));

	ASSERT_EQ(0, fake_ask_within(&fq, f.path, "stats", 3000));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){NULL}));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){"a 1\n.end\n", NULL}));
	EXPECT_STREQ("stats", req);
	text = fake_result(&fq);
	EXPECT_EQ(0, fq.q.rc) TH_LOG("%s", fq.q.err);
	EXPECT_STREQ("a 1\n", text);
	free(text);

	/* the first copy answered late, with the second: page one twice, then page two */
	ASSERT_EQ(0, fake_ask_within(&fq, f.path, "bindings", 3000));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){NULL}));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req),
	                        (const char *const[]){"x1\n.more 1\n", "x1\n.more 1\n", NULL}));
	EXPECT_STREQ("bindings", req);
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){"x2\n.end\n", NULL}));
	EXPECT_STREQ("bindings after 1", req);
	text = fake_result(&fq);
	EXPECT_EQ(0, fq.q.rc) TH_LOG("%s", fq.q.err);
	EXPECT_EQ(2, fq.q.pages);
	EXPECT_STREQ("x1\nx2\n", text);
	free(text);

	close(f.fd);
	unlink(f.path);
	rmdir(dir);
}

/* A request answered late is answered twice once it was sent again, and the two copies of a page
 * need not be the same bytes: a listing's lines carry counters and the seconds left, which move
 * between the two. The copy that comes second belongs to the page already taken, never to the
 * request for the next one: its lines are not printed twice, its cursor ends nothing. */
TEST(a_page_answered_twice_with_other_bytes_is_taken_once)
{
	char dir[] = "/tmp/gk-test-control-XXXXXX", req[256];
	struct fake f;
	struct fake_query fq;
	char *text;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, fake_open(&f, dir));

	/* the second copy's page ends further on (lines shorter by a digit: one more fits) */
	ASSERT_EQ(0, fake_ask_within(&fq, f.path, "bindings", 3000));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){NULL}));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req),
	                        (const char *const[]){"x1 rx=10\n.more 1\n",
	                                              "x1 rx=9\nx2 rx=9\n.more 2\n", NULL}));
	EXPECT_STREQ("bindings", req);
	EXPECT_EQ(0,
	          fake_serve(&f, req, sizeof(req), (const char *const[]){"x2 rx=9\n.end\n", NULL}));
	EXPECT_STREQ("bindings after 1", req);
	text = fake_result(&fq);
	EXPECT_EQ(0, fq.q.rc) TH_LOG("%s", fq.q.err);
	EXPECT_EQ(2, fq.q.pages);
	EXPECT_STREQ("x1 rx=10\nx2 rx=9\n", text);
	free(text);

	/* the same page again, its counter moved: the same cursor is no bad continuation */
	ASSERT_EQ(0, fake_ask_within(&fq, f.path, "bindings", 3000));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req), (const char *const[]){NULL}));
	ASSERT_EQ(0, fake_serve(&f, req, sizeof(req),
	                        (const char *const[]){"x1 rx=10\n.more 1\n", "x1 rx=11\n.more 1\n",
	                                              NULL}));
	EXPECT_EQ(0,
	          fake_serve(&f, req, sizeof(req), (const char *const[]){"x2 rx=9\n.end\n", NULL}));
	EXPECT_STREQ("bindings after 1", req);
	text = fake_result(&fq);
	EXPECT_EQ(0, fq.q.rc) TH_LOG("%s", fq.q.err);
	EXPECT_STREQ("x1 rx=10\nx2 rx=9\n", text);
	free(text);

	close(f.fd);
	unlink(f.path);
	rmdir(dir);
}

TEST_HARNESS_MAIN
