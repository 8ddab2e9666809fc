// SPDX-License-Identifier: GPL-2.0-only
/*
 * /metrics (runtime/metrics.h): the conversion of `stats` lines into the Prometheus text format
 * (names, counter or gauge, name families as one labelled metric, each family once with its HELP
 * and TYPE however its lines interleave), the histograms' cumulative buckets, and the HTTP side
 * end to end: libmicrohttpd on a loop, asked by a client on another thread, whose answer is
 * rendered on the loop's thread, the only one that may read a daemon's counters.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/control.h"
#include "gatekey/runtime/metrics.h"
#include "helper_loop.h"

/* How many lines of text are exactly `line`. */
static int lines_equal(const char *text, const char *line)
{
	int n = 0;
	size_t l = strlen(line);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == l && memcmp(p, line, l) == 0)
			n++;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* The position of a line, or -1. */
static long line_at(const char *text, const char *line)
{
	size_t l = strlen(line);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == l && memcmp(p, line, l) == 0)
			return p - text;
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

static const char stats_text[] = "registrations 4\n"
                                 "records 3\n"
                                 "reason.BAD_TAG 2\n"
                                 "reason.OVERLOAD 1\n"
                                 "mgcp.txn.cmds_sent 5\n"
                                 "mgcp.txn.in_flight 1\n"
                                 "h248.txn.cmds_sent 6\n"
                                 "fastpath.mode native\n"
                                 "fastpath.DROP_BAD_TAG 7\n"
                                 "fastpath.install_failed 0\n"
                                 "fastpath.PASS_GKMAC 8\n"
                                 "tables.bindings.capacity 256\n"
                                 "tables.bindings.peak 3\n"
                                 "tables.bytes 4096\n"
                                 "ipsec.install_us 1500000\n"
                                 "access_link.up 1\n";

TEST(stats_lines_become_metric_families)
{
	struct gk_metrics_page *pg = gk_metrics_page_new();
	size_t len;
	bool cut;

	ASSERT_NE(NULL, pg);
	gk_metrics_page_reset(pg);
	gk_metrics_from_lines(pg, stats_text, strlen(stats_text));
	const char *t = gk_metrics_page_text(pg, &len, &cut);
	EXPECT_FALSE(cut);
	EXPECT_EQ(strlen(t), len);
	static const char *const want[] = {
	    "# TYPE gatekey_registrations_total counter",
	    "gatekey_registrations_total 4",
	    "# TYPE gatekey_records gauge",
	    "gatekey_records 3",
	    "# TYPE gatekey_reasons_total counter",
	    "gatekey_reasons_total{reason=\"BAD_TAG\"} 2",
	    "gatekey_reasons_total{reason=\"OVERLOAD\"} 1",
	    "# TYPE gatekey_txn_cmds_sent_total counter",
	    "gatekey_txn_cmds_sent_total{proto=\"mgcp\"} 5",
	    "gatekey_txn_cmds_sent_total{proto=\"h248\"} 6",
	    "# TYPE gatekey_txn_in_flight gauge",
	    "gatekey_txn_in_flight{proto=\"mgcp\"} 1",
	    "# TYPE gatekey_fastpath_mode_info gauge",
	    "gatekey_fastpath_mode_info{mode=\"native\"} 1",
	    "gatekey_fastpath_datagrams_total{reason=\"drop_bad_tag\"} 7",
	    "gatekey_fastpath_datagrams_total{reason=\"pass_gkmac\"} 8",
	    "gatekey_fastpath_install_failed_total 0",
	    "# TYPE gatekey_table_capacity gauge",
	    "gatekey_table_capacity{table=\"bindings\"} 256",
	    "gatekey_table_peak{table=\"bindings\"} 3",
	    "# TYPE gatekey_tables_bytes gauge",
	    "gatekey_tables_bytes 4096",
	    "gatekey_ipsec_install_seconds_total 1.500000",
	    "gatekey_access_link_up_total 1",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_EQ(1, lines_equal(t, want[i])) TH_LOG("missing or repeated: %s", want[i]);
	}
	/* a family whose lines were apart is written together, its HELP and TYPE first */
	long help =
	    line_at(t, "# HELP gatekey_txn_cmds_sent_total gkctl stats: mgcp.txn.cmds_sent.");
	long type = line_at(t, "# TYPE gatekey_txn_cmds_sent_total counter");
	long a = line_at(t, "gatekey_txn_cmds_sent_total{proto=\"mgcp\"} 5");
	long b = line_at(t, "gatekey_txn_cmds_sent_total{proto=\"h248\"} 6");
	EXPECT_TRUE(help >= 0 && help < type && type < a && a < b);
	EXPECT_EQ(a + (long)strlen("gatekey_txn_cmds_sent_total{proto=\"mgcp\"} 5\n"), b);
	/* every sample's family has one TYPE line: 13 families */
	int types = 0;
	for (const char *p = t; (p = strstr(p, "# TYPE ")); p++)
		types++;
	EXPECT_EQ(13, types);
	gk_metrics_page_free(pg);
}

TEST(histogram_buckets_are_cumulative_in_seconds)
{
	struct gk_histogram h = {0};
	struct gk_metrics_page *pg = gk_metrics_page_new();
	size_t len;

	ASSERT_NE(NULL, pg);
	gk_histogram_observe_ms(&h, 0);
	gk_histogram_observe_ms(&h, 1);
	gk_histogram_observe_ms(&h, 2);
	gk_histogram_observe_ms(&h, 3);
	gk_histogram_observe_ms(&h, 15000); /* past the last bound */
	EXPECT_EQ(2u, h.n[0]);
	EXPECT_EQ(1u, h.n[GK_HIST_BOUNDS]);
	gk_metrics_page_reset(pg);
	gk_metrics_histogram(pg, "x_seconds", "A test", &h);
	const char *t = gk_metrics_page_text(pg, &len, NULL);
	EXPECT_EQ(1, lines_equal(t, "# HELP gatekey_x_seconds A test."));
	EXPECT_EQ(1, lines_equal(t, "# TYPE gatekey_x_seconds histogram"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_bucket{le=\"0.001\"} 2"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_bucket{le=\"0.002\"} 3"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_bucket{le=\"0.005\"} 4"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_bucket{le=\"10.000\"} 4"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_bucket{le=\"+Inf\"} 5"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_sum 15.006"));
	EXPECT_EQ(1, lines_equal(t, "gatekey_x_seconds_count 5"));
	gk_metrics_page_free(pg);
}

TEST(a_family_of_the_callers_own)
{
	struct gk_metrics_page *pg = gk_metrics_page_new();
	size_t len;

	ASSERT_NE(NULL, pg);
	gk_metrics_page_reset(pg);
	gk_metrics_family(pg, "terminals_registered", "gauge", "Terminals");
	gk_metrics_sample(pg, "terminals_registered", "mech=\"gk-mac\",proto=\"sip\"", 2);
	gk_metrics_sample(pg, "terminals_registered", NULL, 0);
	const char *t = gk_metrics_page_text(pg, &len, NULL);
	EXPECT_STREQ("# HELP gatekey_terminals_registered Terminals.\n"
	             "# TYPE gatekey_terminals_registered gauge\n"
	             "gatekey_terminals_registered{mech=\"gk-mac\",proto=\"sip\"} 2\n"
	             "gatekey_terminals_registered 0\n",
	             t);
	gk_metrics_page_free(pg);
}

static void three_lines(void *user, const char *args, struct gk_ctl_reply *out)
{
	(void)user;
	(void)args;
	gk_ctl_printf(out, "alpha 1");
	gk_ctl_printf(out, "beta 22\n");
	gk_ctl_printf(out, "gamma 333");
}

TEST(a_command_renders_into_a_buffer_as_into_a_reply)
{
	char buf[64];
	bool cut = true;

	EXPECT_EQ(26u, gk_ctl_render(three_lines, NULL, "", buf, sizeof(buf), &cut));
	EXPECT_STREQ("alpha 1\nbeta 22\ngamma 333\n", buf);
	EXPECT_FALSE(cut);
	/* a line that does not fit is left out, with the rest, and said so */
	EXPECT_EQ(16u, gk_ctl_render(three_lines, NULL, "", buf, 20, &cut));
	EXPECT_STREQ("alpha 1\nbeta 22\n", buf);
	EXPECT_TRUE(cut);
	/* exactly full: the NUL still fits */
	EXPECT_EQ(26u, gk_ctl_render(three_lines, NULL, "", buf, 27, &cut));
	EXPECT_FALSE(cut);
}

/* ---- HTTP, end to end ---- */

struct http {
	struct gk_loop *loop;
	pthread_t loop_thread;
	atomic_int fills, fills_off_thread;
	uint16_t port;
	const char *path;
	char answer[65536];
	atomic_bool done;
};

static void fill(void *user, struct gk_metrics_page *pg)
{
	struct http *h = user;

	atomic_fetch_add(&h->fills, 1);
	if (!pthread_equal(pthread_self(), h->loop_thread))
		atomic_fetch_add(&h->fills_off_thread, 1);
	gk_metrics_from_lines(pg, stats_text, strlen(stats_text));
}

static void *client(void *arg)
{
	struct http *h = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->port)};
	char req[128];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		int n =
		    snprintf(req, sizeof(req),
		             "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", h->path);
		if (write(fd, req, (size_t)n) == n) {
			ssize_t r;
			while (got + 1 < sizeof(h->answer) &&
			       (r = read(fd, h->answer + got, sizeof(h->answer) - 1 - got)) > 0)
				got += (size_t)r;
		}
	}
	h->answer[got] = '\0';
	if (fd >= 0)
		close(fd);
	atomic_store(&h->done, true);
	return NULL;
}

static bool client_done(void *arg)
{
	return atomic_load(&((struct http *)arg)->done);
}

static void get(struct __test_metadata *_metadata, struct http *h, const char *path)
{
	pthread_t th;

	h->path = path;
	atomic_store(&h->done, false);
	ASSERT_EQ(0, pthread_create(&th, NULL, client, h));
	EXPECT_TRUE(run_until(h->loop, client_done, h, 5000));
	pthread_join(th, NULL);
}

TEST(metrics_are_served_from_the_loop_thread)
{
	static struct http h;
	char err[256];
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	h.loop = gk_loop_new(&(struct gk_loop_params){0}, err, sizeof(err));
	ASSERT_NE(NULL, h.loop);
	h.loop_thread = pthread_self();
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr); /* port 0: the kernel's choice */
	struct gk_metrics *m = gk_metrics_start(h.loop, &ss, fill, &h, err, sizeof(err));
	ASSERT_NE(NULL, m) TH_LOG("%s", err);
	h.port = gk_metrics_port(m);
	ASSERT_NE(0, h.port);

	for (int i = 0; i < 3;
	     i++) { /* one after another: each connection ends and the next is served */
		get(_metadata, &h, "/metrics");
		EXPECT_EQ(0, strncmp(h.answer, "HTTP/1.1 200", 12)) TH_LOG("%s", h.answer);
		EXPECT_NE(NULL, strstr(h.answer, "text/plain; version=0.0.4"));
		EXPECT_NE(NULL, strstr(h.answer, "\ngatekey_registrations_total 4\n"));
	}
	EXPECT_EQ(3, atomic_load(&h.fills));
	EXPECT_EQ(0, atomic_load(&h.fills_off_thread));

	get(_metadata, &h, "/other");
	EXPECT_EQ(0, strncmp(h.answer, "HTTP/1.1 404", 12)) TH_LOG("%s", h.answer);
	EXPECT_EQ(3, atomic_load(&h.fills));

	/* a second element on the same address is refused with a reason, not a crash */
	sin->sin_port = htons(h.port);
	EXPECT_EQ(NULL, gk_metrics_start(h.loop, &ss, fill, &h, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "cannot serve HTTP"));

	gk_metrics_stop(m);
	gk_loop_free(h.loop);
}

/* One GET /metrics on its own connection: whether the answer was whole and 200. */
static bool scrape_once(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[16384];
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (got + 1 < sizeof(buf) && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fd);
	return strncmp(buf, "HTTP/1.1 200", 12) == 0 &&
	       strstr(buf, "\ngatekey_access_link_up_total 1\n") != NULL;
}

#define SCRAPERS 8
#define SCRAPES  25

struct burst {
	uint16_t port;
	atomic_int ok, finished;
};

static void *scraper(void *arg)
{
	struct burst *b = arg;

	for (int i = 0; i < SCRAPES; i++)
		if (scrape_once(b->port))
			atomic_fetch_add(&b->ok, 1);
	atomic_fetch_add(&b->finished, 1);
	return NULL;
}

static bool burst_done(void *arg)
{
	return atomic_load(&((struct burst *)arg)->finished) == SCRAPERS;
}

/* Scrapers at once, and a client that connects and says nothing meanwhile: every scrape is
 * answered, none waits for the idle one, and no readiness is lost between MHD_run calls. */
TEST(concurrent_scrapes_are_all_answered_beside_an_idle_connection)
{
	static struct http h;
	static struct burst b;
	char err[256];
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	pthread_t th[SCRAPERS];

	h.loop = gk_loop_new(&(struct gk_loop_params){0}, err, sizeof(err));
	ASSERT_NE(NULL, h.loop);
	h.loop_thread = pthread_self();
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	struct gk_metrics *m = gk_metrics_start(h.loop, &ss, fill, &h, err, sizeof(err));
	ASSERT_NE(NULL, m) TH_LOG("%s", err);
	b.port = gk_metrics_port(m);
	sin->sin_port = htons(b.port);
	int idle = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(idle, (struct sockaddr *)sin, sizeof(*sin)));
	for (int i = 0; i < SCRAPERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, scraper, &b));
	EXPECT_TRUE(run_until(h.loop, burst_done, &b, 20000));
	for (int i = 0; i < SCRAPERS; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(SCRAPERS * SCRAPES, atomic_load(&b.ok));
	EXPECT_EQ(SCRAPERS * SCRAPES, atomic_load(&h.fills));
	EXPECT_EQ(0, atomic_load(&h.fills_off_thread));
	close(idle);
	gk_metrics_stop(m);
	gk_loop_free(h.loop);
}

TEST_HARNESS_MAIN
