/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus metrics (issue 18): every daemon serves GET /metrics on metrics.listen (off unless
 * set) in the text exposition format 0.0.4, through libmicrohttpd driven by the daemon's own
 * io_uring loop (lib/runtime/metrics.c says how).
 *
 * One source of truth: the counters are the control socket's `stats` lines, rendered by the same
 * function and converted (gk_metrics_stats): a counter added to `stats` appears in /metrics
 * without a second list to keep. What the conversion needs to know and the lines cannot say (which
 * names are gauges, which name families become one metric with a label) is one table in
 * metrics.c. Histograms and the terminals per mechanism and protocol are added beside them by the
 * daemon's fill function (the front's in exchange/front_io.c: this layer knows no protocols).
 *
 * A histogram is an array of counts over fixed bounds, in the struct that owns it: observing is
 * a short scan and an increment, no heap, on the hot path of a registration or a RADIUS answer.
 */
#ifndef GATEKEY_METRICS_H
#define GATEKEY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/control.h"
#include "gatekey/runtime/loop.h"

/* Upper bounds of the buckets, milliseconds, ascending (metrics.c); the last bucket is +Inf. */
#define GK_HIST_BOUNDS 14
extern const uint32_t gk_hist_bounds_ms[GK_HIST_BOUNDS];

struct gk_histogram {
	/* per bucket, not cumulative; n[GK_HIST_BOUNDS]: above the last bound */
	uint64_t n[GK_HIST_BOUNDS + 1];
	uint64_t count, sum_ms;
};

static inline void gk_histogram_observe_ms(struct gk_histogram *h, uint64_t ms)
{
	unsigned i = 0;

	while (i < GK_HIST_BOUNDS && ms > gk_hist_bounds_ms[i])
		i++;
	h->n[i]++;
	h->count++;
	h->sum_ms += ms;
}

/* A page of exposition text being written (one scrape), with room for the samples of the stats
 * lines while they are grouped into families. */
struct gk_metrics_page;

struct gk_metrics_page *gk_metrics_page_new(void);
void gk_metrics_page_free(struct gk_metrics_page *pg);
void gk_metrics_page_reset(struct gk_metrics_page *pg);
/* The text so far, and its length; *cut: something did not fit and was left out. */
const char *gk_metrics_page_text(const struct gk_metrics_page *pg, size_t *len, bool *cut);

/* The lines `stats` (fn, as registered with gk_control_add) answers with, as metrics: name
 * `gatekey_<name>` with '.' as '_', counters ending in _total, gauges as the table in metrics.c
 * says, name families (reason.X, limit.X, <proto>.txn.X, tables.K.X, fastpath.DROP_X, ...) as
 * one metric with a label. */
void gk_metrics_stats(struct gk_metrics_page *pg, gk_ctl_fn fn, void *user);
/* The same from text already rendered: "name value" lines. */
void gk_metrics_from_lines(struct gk_metrics_page *pg, const char *text, size_t len);
/* A histogram in seconds: gatekey_<name>_bucket{le=...}, _sum, _count. */
void gk_metrics_histogram(struct gk_metrics_page *pg, const char *name, const char *help,
                          const struct gk_histogram *h);
/* A metric family of the caller's: its HELP and TYPE lines ("gauge", "counter"), then each
 * sample with gk_metrics_sample; labels is 'k="v",...' or NULL. The caller writes a family's
 * samples together, as the format wants. */
void gk_metrics_family(struct gk_metrics_page *pg, const char *name, const char *type,
                       const char *help);
void gk_metrics_sample(struct gk_metrics_page *pg, const char *name, const char *labels,
                       uint64_t v);

/* The daemon's part of a scrape: gk_metrics_stats and the others into pg, on the loop thread
 * (the front's own: gk_front_io_metrics, exchange/front_io.h). */
typedef void (*gk_metrics_fill_fn)(void *user, struct gk_metrics_page *pg);

struct gk_metrics;
/* Listens on addr (TCP) and serves /metrics from fill(user) on loop. NULL with err. */
struct gk_metrics *gk_metrics_start(struct gk_loop *loop, const struct sockaddr_storage *addr,
                                    gk_metrics_fill_fn fill, void *user, char *err, size_t errlen);
void gk_metrics_stop(struct gk_metrics *m);
/* The TCP port it listens on (the one the kernel chose for port 0). */
uint16_t gk_metrics_port(const struct gk_metrics *m);
/* What a daemon calls with its metrics.listen: nothing when it is unset (ss_family 0), else
 * gk_metrics_start into *out. 0, or -1 after logging why. */
int gk_metrics_serve(struct gk_metrics **out, struct gk_loop *loop,
                     const struct sockaddr_storage *addr, gk_metrics_fill_fn fill, void *user);

#endif
