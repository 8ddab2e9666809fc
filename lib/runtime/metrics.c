// SPDX-License-Identifier: GPL-2.0-only
/*
 * /metrics (include/gatekey/runtime/metrics.h): the `stats` lines converted to the Prometheus
 * text format, histograms, and the HTTP side through libmicrohttpd.
 *
 * Threads: none. The daemons are single-threaded and their counters are plain integers that the
 * loop thread writes, so nothing else may read them. libmicrohttpd runs without a thread of its
 * own, in its external mode with epoll (MHD_USE_EPOLL): all its sockets (the listening one and
 * every connection) sit in one epoll set, whose descriptor the loop watches like any other
 * (gk_loop_on_readable), and MHD_run is called on the loop thread when that set is readable and
 * when MHD's own timeout (MHD_get_timeout, idle connections) comes, on a loop timer. The access
 * handler thus runs on the loop thread, between datagrams, and renders the page from the live
 * counters: no snapshot, no lock. A scrape holds the loop for the time it takes to render a page
 * (tens of microseconds) plus, on sbcd, one read of the XDP per-CPU counters, as `gkctl stats`
 * does. A readiness edge is never lost: after MHD_run, an epoll set still readable (MHD bounds
 * the events it takes per call) gets another MHD_run on the next turn of the loop (timer 0).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/metrics.h"

/* 1 ms to 10 s: a registration through an idle rig takes a few ms, a loaded one or a retried
 * RADIUS request hundreds, and past the core's timeouts (seconds) it has failed anyway. */
const uint32_t gk_hist_bounds_ms[GK_HIST_BOUNDS] = {1,   2,   5,    10,   20,   50,   100,
                                                    200, 500, 1000, 2000, 3000, 5000, 10000};

#define PAGE_MAX    (1024 * 1024) /* exposition text of one scrape */
#define STATS_MAX   GK_CTL_PAGE_MAX
#define SAMPLES_MAX 2048
#define NAME_MAX_   96
#define LABEL_MAX   64

/* ---- the conversion: which stats names are what ---- */

/* Name families: every line "<prefix>X value" is the sample {label="X"} of one metric. upper:
 * only where X is an upper-case enumerator (fastpath.DROP_BAD_TAG; fastpath.install_failed is a
 * counter of its own); the label value is then written in lower case. */
static const struct family {
	const char *prefix, *metric, *label, *help;
	bool upper;
} families[] = {
    {"reason.", "reasons", "reason",
     "Registration requests decided on, by gatekey reason (the front's and the core's)", false},
    {"drop.", "drops", "reason", "Requests aucd dropped, by reason", false},
    {"sbc_auth.", "sbc_auth_drops", "reason",
     "Core-leg datagrams from SBCs dropped by the softswitch, by reason", false},
    {"core_auth.", "core_auth_drops", "reason",
     "Core-leg datagrams from the softswitch dropped by the SBC, by reason", false},
    {"limit.", "limit_refusals", "limit", "Decodes refused over a named limit", false},
    {"fastpath.", "fastpath_datagrams", "reason",
     "Fast-path decisions on access datagrams, by decision (XDP: per-CPU counters summed)", true},
};

/* Gauges, by stats name; everything else is a counter. */
static const char *const gauges[] = {
    "records",
    "in_progress",
    "sbc_waiting",
    "core_records",
    "core_in_progress",
    "auc_in_flight",
    "accounting_in_flight",
    "sessions",
    "relay_waiting",
    "unbound_waiting",
    "unbound_in_flight",
    "route.located",
    "ipsec.pending_switches",
    "fastpath.attached",
    "admission.enabled",
    "admission.shed_permille",
    "admission.depth_permille",
};
/* and the fields of <proto>.txn.<field> that are gauges */
static const char *const txn_gauges[] = {"in_flight", "remembered", "resident_bytes"};

/* Stats names in units Prometheus names otherwise: renamed and scaled to the base unit. */
static const struct {
	const char *stat, *metric;
	double scale;
} renames[] = {
    {"ipsec.install_us", "ipsec_install_seconds", 1e-6},
};

struct sample {
	char metric[NAME_MAX_]; /* without "gatekey_" */
	char label[16], value[LABEL_MAX];
	char v[LABEL_MAX];
	const char *help; /* NULL: "gkctl stats: <stat>" */
	char stat[NAME_MAX_];
	bool gauge, done;
};

struct gk_metrics_page {
	char *buf;
	size_t len, cap;
	bool cut;
	char *stats; /* the stats lines, STATS_MAX */
	struct sample *s;
	unsigned n;
};

struct gk_metrics_page *gk_metrics_page_new(void)
{
	struct gk_metrics_page *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return NULL;
	pg->cap = PAGE_MAX;
	pg->buf = malloc(pg->cap);
	pg->stats = malloc(STATS_MAX);
	pg->s = calloc(SAMPLES_MAX, sizeof(*pg->s));
	if (!pg->buf || !pg->stats || !pg->s) {
		gk_metrics_page_free(pg);
		return NULL;
	}
	return pg;
}

void gk_metrics_page_free(struct gk_metrics_page *pg)
{
	if (!pg)
		return;
	free(pg->buf);
	free(pg->stats);
	free(pg->s);
	free(pg);
}

void gk_metrics_page_reset(struct gk_metrics_page *pg)
{
	pg->len = 0;
	pg->cut = false;
	pg->buf[0] = '\0';
}

const char *gk_metrics_page_text(const struct gk_metrics_page *pg, size_t *len, bool *cut)
{
	*len = pg->len;
	if (cut)
		*cut = pg->cut;
	return pg->buf;
}

static void put(struct gk_metrics_page *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct gk_metrics_page *pg, const char *fmt, ...)
{
	va_list ap;
	size_t room = pg->cap - pg->len;

	if (pg->cut)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(pg->buf + pg->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		pg->buf[pg->len] = '\0';
		pg->cut = true;
		return;
	}
	pg->len += (size_t)n;
}

/* A stats name as a metric name: [a-z0-9_], '.' and anything else as '_'. */
static void snake(char *out, size_t cap, const char *in, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && in[i] && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		out[j++] = isalnum(c) ? (char)tolower(c) : '_';
	}
	out[j] = '\0';
}

static bool all_upper(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool is_number(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return false;
	return true;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One "name value" line as a sample. */
static void classify(struct sample *x, const char *name, const char *value)
{
	const char *dot;

	memset(x, 0, sizeof(*x));
	snprintf(x->stat, sizeof(x->stat), "%s", name);
	snprintf(x->v, sizeof(x->v), "%s", value);
	x->gauge = in_list(gauges, N_OF(gauges), name);
	if (!is_number(value)) {
		/* A word (fastpath.mode xdp): an info gauge, the word as the label's value. */
		dot = strrchr(name, '.');
		snake(x->metric, sizeof(x->metric), name, strlen(name));
		strncat(x->metric, "_info", sizeof(x->metric) - strlen(x->metric) - 1);
		snake(x->label, sizeof(x->label), dot ? dot + 1 : name,
		      strlen(dot ? dot + 1 : name));
		snprintf(x->value, sizeof(x->value), "%s", value);
		snprintf(x->v, sizeof(x->v), "1");
		x->gauge = true;
		return;
	}
	for (size_t i = 0; i < N_OF(renames); i++)
		if (strcmp(name, renames[i].stat) == 0) {
			snprintf(x->metric, sizeof(x->metric), "%s", renames[i].metric);
			snprintf(x->v, sizeof(x->v), "%.6f",
			         strtod(value, NULL) * renames[i].scale);
			return;
		}
	for (size_t i = 0; i < N_OF(families); i++) {
		const struct family *f = &families[i];
		size_t pl = strlen(f->prefix);
		if (strncmp(name, f->prefix, pl) != 0 || (f->upper && !all_upper(name + pl)))
			continue;
		snprintf(x->metric, sizeof(x->metric), "%s", f->metric);
		snprintf(x->label, sizeof(x->label), "%s", f->label);
		snake(x->value, sizeof(x->value), name + pl, strlen(name + pl));
		if (!f->upper)
			snprintf(x->value, sizeof(x->value), "%s", name + pl);
		x->help = f->help;
		return;
	}
	/* tables.<key>.<field>: the stepped tables (gk_ctl_tables), all gauges */
	if (strncmp(name, "tables.", 7) == 0 && (dot = strrchr(name, '.')) != name + 6) {
		snprintf(x->metric, sizeof(x->metric), "table_%s", dot + 1);
		snprintf(x->label, sizeof(x->label), "table");
		snprintf(x->value, sizeof(x->value), "%.*s", (int)(dot - name - 7), name + 7);
		x->gauge = true;
		return;
	}
	if (strcmp(name, "tables.bytes") == 0) {
		snprintf(x->metric, sizeof(x->metric), "tables_bytes");
		x->gauge = true;
		return;
	}
	/* <proto>.txn.<field>: a transaction layer's counters, per protocol */
	const char *txn = strstr(name, ".txn.");
	if (txn && txn > name) {
		snprintf(x->metric, sizeof(x->metric), "txn_");
		snake(x->metric + 4, sizeof(x->metric) - 4, txn + 5, strlen(txn + 5));
		snprintf(x->label, sizeof(x->label), "proto");
		snprintf(x->value, sizeof(x->value), "%.*s", (int)(txn - name), name);
		x->gauge = in_list(txn_gauges, N_OF(txn_gauges), txn + 5);
		return;
	}
	snake(x->metric, sizeof(x->metric), name, strlen(name));
}

static void put_label_value(struct gk_metrics_page *pg, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(pg, "\\%c", *v);
		else if (*v == '\n')
			put(pg, "\\n");
		else
			put(pg, "%c", *v);
	}
}

/* Every sample, grouped by metric (the format wants a family's samples together), each family
 * with its HELP and TYPE once. */
static void emit_samples(struct gk_metrics_page *pg)
{
	for (unsigned i = 0; i < pg->n; i++) {
		struct sample *a = &pg->s[i];
		if (a->done)
			continue;
		const char *suffix = a->gauge ? "" : "_total";
		if (a->help)
			put(pg, "# HELP gatekey_%s%s %s.\n", a->metric, suffix, a->help);
		else
			put(pg, "# HELP gatekey_%s%s gkctl stats: %s.\n", a->metric, suffix,
			    a->stat);
		put(pg, "# TYPE gatekey_%s%s %s\n", a->metric, suffix,
		    a->gauge ? "gauge" : "counter");
		for (unsigned j = i; j < pg->n; j++) {
			struct sample *b = &pg->s[j];
			if (b->done || strcmp(a->metric, b->metric) != 0)
				continue;
			b->done = true;
			put(pg, "gatekey_%s%s", b->metric, suffix);
			if (b->label[0]) {
				put(pg, "{%s=\"", b->label);
				put_label_value(pg, b->value);
				put(pg, "\"}");
			}
			put(pg, " %s\n", b->v);
		}
	}
	pg->n = 0;
}

void gk_metrics_from_lines(struct gk_metrics_page *pg, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	pg->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		char name[NAME_MAX_], value[LABEL_MAX];

		if (sp && sp > p && (size_t)(sp - p) < sizeof(name) &&
		    (size_t)(eol - sp - 1) < sizeof(value) && pg->n < SAMPLES_MAX) {
			memcpy(name, p, (size_t)(sp - p));
			name[sp - p] = '\0';
			memcpy(value, sp + 1, (size_t)(eol - sp - 1));
			value[eol - sp - 1] = '\0';
			/* "error ..." lines (a reply cut short) are not counters */
			if (strcmp(name, "error") != 0)
				classify(&pg->s[pg->n++], name, value);
		} else if (eol > p) {
			pg->cut = pg->cut || pg->n >= SAMPLES_MAX;
		}
		p = eol + 1;
	}
	emit_samples(pg);
}

void gk_metrics_stats(struct gk_metrics_page *pg, gk_ctl_fn fn, void *user)
{
	bool cut = false;
	size_t n = gk_ctl_render(fn, user, "", pg->stats, STATS_MAX, &cut);

	gk_metrics_from_lines(pg, pg->stats, n);
	if (cut)
		pg->cut = true;
}

void gk_metrics_histogram(struct gk_metrics_page *pg, const char *name, const char *help,
                          const struct gk_histogram *h)
{
	uint64_t cum = 0;

	put(pg, "# HELP gatekey_%s %s.\n# TYPE gatekey_%s histogram\n", name, help, name);
	for (unsigned i = 0; i < GK_HIST_BOUNDS; i++) {
		cum += h->n[i];
		put(pg, "gatekey_%s_bucket{le=\"%u.%03u\"} %" PRIu64 "\n", name,
		    gk_hist_bounds_ms[i] / 1000, gk_hist_bounds_ms[i] % 1000, cum);
	}
	put(pg, "gatekey_%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	put(pg, "gatekey_%s_sum %" PRIu64 ".%03" PRIu64 "\n", name, h->sum_ms / 1000,
	    h->sum_ms % 1000);
	put(pg, "gatekey_%s_count %" PRIu64 "\n", name, h->count);
}

void gk_metrics_family(struct gk_metrics_page *pg, const char *name, const char *type,
                       const char *help)
{
	put(pg, "# HELP gatekey_%s %s.\n# TYPE gatekey_%s %s\n", name, help, name, type);
}

void gk_metrics_sample(struct gk_metrics_page *pg, const char *name, const char *labels, uint64_t v)
{
	if (labels)
		put(pg, "gatekey_%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		put(pg, "gatekey_%s %" PRIu64 "\n", name, v);
}

/* ---- HTTP: libmicrohttpd on the loop ---- */

struct gk_metrics {
	struct gk_loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	struct gk_timer timer;
	gk_metrics_fill_fn fill;
	void *user;
	struct gk_metrics_page *pg;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **con_cls)
{
	struct gk_metrics *m = cls;
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	static const char notfound[] = "not found: gatekey serves /metrics\n";
	(void)version;
	(void)upload;

	if (!*con_cls) { /* the headers only: the answer comes with the next call */
		*con_cls = m;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		resp = MHD_create_response_from_buffer(sizeof(notfound) - 1, (void *)notfound,
		                                       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		size_t len;
		bool cut;
		gk_metrics_page_reset(m->pg);
		m->fill(m->user, m->pg);
		const char *text = gk_metrics_page_text(m->pg, &len, &cut);
		if (cut)
			gk_warn("metrics: the page did not fit %u bytes; metrics were left out",
			        (unsigned)PAGE_MAX);
		/* copied: another scrape may render into the page before this one is sent */
		resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			                        "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!resp)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's own complaints (a bind that failed, a connection it dropped) into our log */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	(void)cls;

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	gk_warn("metrics: libmicrohttpd: %s", line);
}

static void drive(struct gk_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG t;
	struct pollfd pfd = {.fd = m->epfd, .events = POLLIN};

	MHD_run(m->mhd);
	gk_timer_cancel(m->loop, &m->timer);
	if (poll(&pfd, 1, 0) > 0) /* more than one call takes: again on the next turn */
		gk_timer_arm(m->loop, &m->timer, 0);
	else if (MHD_get_timeout(m->mhd, &t) == MHD_YES)
		gk_timer_arm(m->loop, &m->timer, t < 60000 ? (uint64_t)t : 60000);
}

static void on_readable(void *user, int fd)
{
	(void)fd;
	drive(user);
}

static void on_timer(struct gk_timer *t)
{
	struct gk_metrics *m =
	    (struct gk_metrics *)((char *)t - offsetof(struct gk_metrics, timer));
	drive(m);
}

struct gk_metrics *gk_metrics_start(struct gk_loop *loop, const struct sockaddr_storage *addr,
                                    gk_metrics_fill_fn fill, void *user, char *err, size_t errlen)
{
	struct gk_metrics *m = calloc(1, sizeof(*m));
	const union MHD_DaemonInfo *info;
	char a[64];
	int ret;

	gk_format_addr(addr, a, sizeof(a));
	if (!m || !(m->pg = gk_metrics_page_new())) {
		snprintf(err, errlen, "metrics on %s: out of memory", a);
		goto fail;
	}
	m->loop = loop;
	m->fill = fill;
	m->user = user;
	m->timer.fn = on_timer;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD's default SO_REUSEADDR, not MHD_OPTION_LISTENING_ADDRESS_REUSE (SO_REUSEPORT on
	 * Linux): a second daemon on the same address is an error to report, not a sharer. */
	m->mhd = MHD_start_daemon(flags, gk_sockaddr_port(addr), NULL, NULL, answer, m,
	                          MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
	                          addr, MHD_OPTION_CONNECTION_LIMIT, 16u,
	                          MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(err, errlen,
		         "metrics: cannot serve HTTP on %s (in use, or no such address)", a);
		goto fail;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, errlen, "metrics on %s: libmicrohttpd has no epoll set", a);
		goto fail;
	}
	m->epfd = info->epoll_fd;
	ret = gk_loop_on_readable(loop, m->epfd, on_readable, m);
	if (ret < 0) {
		snprintf(err, errlen, "metrics on %s: the loop cannot watch it: %s", a,
		         strerror(-ret));
		goto fail;
	}
	struct sockaddr_storage bound = *addr;
	gk_sockaddr_set_port(&bound, gk_metrics_port(m));
	gk_format_addr(&bound, a, sizeof(a));
	gk_info("metrics: serving /metrics on http://%s", a);
	drive(m);
	return m;
fail:
	if (m && m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m)
		gk_metrics_page_free(m->pg);
	free(m);
	return NULL;
}

uint16_t gk_metrics_port(const struct gk_metrics *m)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void gk_metrics_stop(struct gk_metrics *m)
{
	if (!m)
		return;
	gk_timer_cancel(m->loop, &m->timer);
	MHD_stop_daemon(m->mhd);
	gk_metrics_page_free(m->pg);
	free(m);
}

int gk_metrics_serve(struct gk_metrics **out, struct gk_loop *loop,
                     const struct sockaddr_storage *addr, gk_metrics_fill_fn fill, void *user)
{
	char err[256];

	*out = NULL;
	if (!addr->ss_family)
		return 0;
	*out = gk_metrics_start(loop, addr, fill, user, err, sizeof(err));
	if (!*out) {
		gk_err("%s", err);
		return -1;
	}
	return 0;
}
