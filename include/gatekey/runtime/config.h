/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One configuration format for every daemon and tool: UTF-8 text, one `key = value` per line,
 * `#` starts a comment, keys are dotted names (`auc.listen`, `keystore.db`). A key given twice
 * keeps the last value; flags given on the command line (`--set key=value`) override the file.
 * Each program declares the keys it knows; an unknown key, or a value that does not parse, is an
 * error that names file:line and what was expected.
 */
#ifndef GATEKEY_CONFIG_H
#define GATEKEY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum gk_cfg_kind {
	GK_CFG_STR,      /* char[GK_CFG_STR_MAX] */
	GK_CFG_U32,      /* uint32_t, decimal */
	GK_CFG_BOOL,     /* bool: yes/no/true/false/1/0 */
	GK_CFG_ADDR,     /* struct sockaddr_storage from "ip:port" or "[ipv6]:port" */
	GK_CFG_DURATION, /* uint32_t milliseconds from "250ms", "30s", "5m", "1h" or bare seconds */
};

#define GK_CFG_STR_MAX 256

/* One key of a program's table. */
/* clang-format off */
#define GK_CFG_KEY(n, k, t, h) {.name = (n), .kind = (k), .target = (t), .help = (h)}
/* A GK_CFG_U32 key that accepts lo..hi only. */
#define GK_CFG_RANGE(n, t, lo, hi, h) \
	{.name = (n), .kind = GK_CFG_U32, .target = (t), .help = (h), .min = (lo), .max = (hi)}
/* clang-format on */

struct gk_cfg_key {
	const char *name;
	enum gk_cfg_kind kind;
	void *target;
	const char *help;
	bool multi; /* GK_CFG_STR only: repeated keys call on_multi instead of overwriting */
	int (*on_multi)(const char *value, void *arg, char *err, size_t errlen);
	void *multi_arg;
	uint32_t min, max; /* GK_CFG_U32 with max != 0: values outside min..max are refused */
	/* The default as text, for a key whose target cannot show it (a multi key): what --help
	 * and gatekey.conf(5) print instead of the target's value. */
	const char *def;
};

/* Parse a file; 0 or -1 with err = "file:line: message". */
int gk_cfg_load(const struct gk_cfg_key *keys, const char *path, char *err, size_t errlen);
/* Apply one "key=value" (from --set); origin names it in errors. */
int gk_cfg_set(const struct gk_cfg_key *keys, const char *assignment, const char *origin, char *err,
               size_t errlen);

/* How gk_cfg_print_table writes a table: aligned text for --help, or scdoc for the manual
 * gatekey.conf(5), which the build makes from each program's own output. */
enum gk_cfg_style {
	GK_CFG_STYLE_TEXT,
	GK_CFG_STYLE_SCDOC,
};
/* A key's current value as a file would write it ("" where it has none to show: a repeatable
 * key, an empty string, an address not set). Called before any file is read, this is its
 * default. */
void gk_cfg_format_value(const struct gk_cfg_key *k, char *out, size_t cap);
/* Each key: name, kind, default (its current value), range and help. */
void gk_cfg_print_table(const struct gk_cfg_key *keys, enum gk_cfg_style style, void *f /* FILE */);
/* "text" or "scdoc" (the argument of --config-keys); -1 for anything else. */
int gk_cfg_style_parse(const char *s);

int gk_parse_addr(const char *s, void *ss /* struct sockaddr_storage */, char *err, size_t errlen);
/* "ip:port" or "[ip]:port" for logs, RADIUS and the SIP values that carry an address. IPv4 is
 * written without printf: every request an element sends names its own address. */
void gk_format_addr(const void *ss, char *out, size_t cap);

/* v in decimal at p, without printf and without a terminating NUL (at most 10 bytes); returns
 * the end. */
char *gk_put_decimal(char *p, uint32_t v);

/* A bounded copy that always terminates dst (cap > 0); cheaper than snprintf("%s") on every
 * message. */
static inline void gk_copy_text(char *dst, size_t cap, const char *src)
{
	if (!memccpy(dst, src, '\0', cap))
		dst[cap - 1] = '\0';
}

#endif
