/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging with levels to stderr or syslog. The default level is info; per-message logging on the
 * hot path uses gk_debug, which costs one compare when disabled. Never pass key material.
 */
#ifndef GATEKEY_LOG_H
#define GATEKEY_LOG_H

#include <stdbool.h>

enum gk_log_level {
	GK_LOG_ERR = 3,
	GK_LOG_WARN = 4,
	GK_LOG_NOTICE = 5,
	GK_LOG_INFO = 6,
	GK_LOG_DEBUG = 7
};

extern int gk_log_level;

void gk_log_init(const char *ident, bool use_syslog, int level);
int gk_log_level_parse(const char *s); /* -1 when unknown */
void gk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gk_err(...)    gk_log(GK_LOG_ERR, __VA_ARGS__)
#define gk_warn(...)   gk_log(GK_LOG_WARN, __VA_ARGS__)
#define gk_notice(...) gk_log(GK_LOG_NOTICE, __VA_ARGS__)
#define gk_info(...)                                                                               \
	do {                                                                                       \
		if (gk_log_level >= GK_LOG_INFO)                                                   \
			gk_log(GK_LOG_INFO, __VA_ARGS__);                                          \
	} while (0)
#define gk_debug(...)                                                                              \
	do {                                                                                       \
		if (gk_log_level >= GK_LOG_DEBUG)                                                  \
			gk_log(GK_LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)

#endif
