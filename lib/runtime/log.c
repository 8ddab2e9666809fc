// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logging (log.h): to syslog, or to stderr with a UTC time of day to the millisecond. The level
 * is a global so that gk_debug and gk_info test it inline and cost one compare when off, with
 * no call and no formatting: that is what lets the hot path keep its debug lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "gatekey/runtime/log.h"

int gk_log_level = GK_LOG_INFO;
static bool log_to_syslog;
static const char *log_ident = "gatekey";

void gk_log_init(const char *ident, bool use_syslog, int level)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	gk_log_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int gk_log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {{"err", GK_LOG_ERR},      {"error", GK_LOG_ERR},     {"warn", GK_LOG_WARN},
	             {"warning", GK_LOG_WARN}, {"notice", GK_LOG_NOTICE}, {"info", GK_LOG_INFO},
	             {"debug", GK_LOG_DEBUG}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].level;
	return -1;
}

void gk_log(int level, const char *fmt, ...)
{
	static const char *const tags[] = {[GK_LOG_ERR] = "error",
	                                   [GK_LOG_WARN] = "warning",
	                                   [GK_LOG_NOTICE] = "notice",
	                                   [GK_LOG_INFO] = "info",
	                                   [GK_LOG_DEBUG] = "debug"};
	va_list ap;

	if (level > gk_log_level)
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		char line[1024];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour, tm.tm_min,
		        tm.tm_sec, now.tv_nsec / 1000000, log_ident,
		        level >= GK_LOG_ERR && level <= GK_LOG_DEBUG ? tags[level] : "log", line);
	}
	va_end(ap);
}
