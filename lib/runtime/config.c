// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration reader (config.h): a line is split at its first '=', a '#' anywhere ends it,
 * and each value is parsed by its key's kind as soon as it is read. That is why a bad value is
 * refused with file:line and what was expected, and why --set goes through the same assign_line()
 * as a line of the file: there is one parser, not two that could disagree.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "gatekey/runtime/config.h"

static const struct gk_cfg_key *find_key(const struct gk_cfg_key *keys, const char *name)
{
	for (; keys->name; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

int gk_parse_addr(const char *s, void *out, char *err, size_t errlen)
{
	struct sockaddr_storage *ss = out;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_s;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - s - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		port_s = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		port_s = colon + 1;
	}
	host[hlen] = '\0';

	char *endp;
	errno = 0;
	unsigned long port = strtoul(port_s, &endp, 10);
	if (errno || *port_s == '\0' || *endp != '\0' || port > 65535)
		goto bad;

	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return 0;
	}
bad:
	snprintf(err, errlen, "expected an address as ip:port or [ipv6]:port, got \"%s\"", s);
	return -1;
}

char *gk_put_decimal(char *p, uint32_t v)
{
	char digits[10];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = digits[--n];
	return p;
}

void gk_format_addr(const void *in, char *out, size_t cap)
{
	const struct sockaddr_storage *ss = in;
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = in;
		const uint8_t *a = (const uint8_t *)&v4->sin_addr;
		char text[sizeof("255.255.255.255:65535")], *p = text;
		for (int i = 0; i < 4; i++) {
			p = gk_put_decimal(p, a[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		*gk_put_decimal(p, ntohs(v4->sin_port)) = '\0';
		gk_copy_text(out, cap, text);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = in;
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(v6->sin6_port));
	} else {
		snprintf(out, cap, "-");
	}
}

static int parse_duration(const char *v, uint32_t *ms)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	unsigned long long mult = 1000;

	if (errno || end == v)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else
		return -1;
	if (n > UINT32_MAX / mult)
		return -1;
	*ms = (uint32_t)(n * mult);
	return 0;
}

static int apply(const struct gk_cfg_key *k, const char *value, char *msg, size_t msglen)
{
	switch (k->kind) {
	case GK_CFG_STR:
		if (strlen(value) >= GK_CFG_STR_MAX) {
			snprintf(msg, msglen, "value of %s longer than %d characters", k->name,
			         GK_CFG_STR_MAX - 1);
			return -1;
		}
		if (k->multi)
			return k->on_multi(value, k->multi_arg, msg, msglen);
		strcpy(k->target, value);
		return 0;
	case GK_CFG_U32: {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(value, &end, 10);
		if (errno || end == value || *end || n > UINT32_MAX || value[0] == '-') {
			snprintf(msg, msglen, "%s expects a whole number, got \"%s\"", k->name,
			         value);
			return -1;
		}
		if (k->max && (n < k->min || n > k->max)) {
			snprintf(msg, msglen, "%s: expected a number from %u to %u, got \"%s\"",
			         k->name, k->min, k->max, value);
			return -1;
		}
		*(uint32_t *)k->target = (uint32_t)n;
		return 0;
	}
	case GK_CFG_BOOL:
		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1"))
			*(bool *)k->target = true;
		else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
		         !strcmp(value, "0"))
			*(bool *)k->target = false;
		else {
			snprintf(msg, msglen, "%s expects yes or no, got \"%s\"", k->name, value);
			return -1;
		}
		return 0;
	case GK_CFG_ADDR: {
		char e[160];
		if (gk_parse_addr(value, k->target, e, sizeof(e)) < 0) {
			snprintf(msg, msglen, "%s: %s", k->name, e);
			return -1;
		}
		return 0;
	}
	case GK_CFG_DURATION:
		if (parse_duration(value, k->target) < 0) {
			snprintf(msg, msglen,
			         "%s expects a duration such as 500ms, 30s, 5m or 1h, got \"%s\"",
			         k->name, value);
			return -1;
		}
		return 0;
	}
	snprintf(msg, msglen, "%s: unsupported kind", k->name);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int assign_line(const struct gk_cfg_key *keys, char *line, const char *origin, char *err,
                       size_t errlen)
{
	char msg[384];
	char *eq = strchr(line, '=');

	if (!eq) {
		snprintf(err, errlen, "%s: expected \"key = value\", got \"%.80s\"", origin, line);
		return -1;
	}
	*eq = '\0';
	char *name = trim(line);
	char *value = trim(eq + 1);
	size_t vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	const struct gk_cfg_key *k = find_key(keys, name);
	if (!k) {
		int n = snprintf(err, errlen, "%s: unknown key \"%.60s\"; expected one of:", origin,
		                 name);
		for (const struct gk_cfg_key *i = keys; i->name && n > 0 && (size_t)n < errlen; i++)
			n += snprintf(err + n, errlen - (size_t)n, " %s", i->name);
		return -1;
	}
	if (apply(k, value, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s: %s", origin, msg);
		return -1;
	}
	return 0;
}

int gk_cfg_load(const struct gk_cfg_key *keys, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1024], origin[300];
	unsigned lineno = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s: line longer than %zu characters", origin,
			         sizeof(line) - 2);
			fclose(f);
			return -1;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0')
			continue;
		if (assign_line(keys, s, origin, err, errlen) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int gk_cfg_set(const struct gk_cfg_key *keys, const char *assignment, const char *origin, char *err,
               size_t errlen)
{
	char buf[1024];
	if (strlen(assignment) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: assignment too long", origin);
		return -1;
	}
	strcpy(buf, assignment);
	return assign_line(keys, trim(buf), origin, err, errlen);
}

/* ---- the table as --help and gatekey.conf(5) show it ---- */

static const char *kind_name(const struct gk_cfg_key *k)
{
	switch (k->kind) {
	case GK_CFG_STR:
		return "text";
	case GK_CFG_U32:
		return "number";
	case GK_CFG_BOOL:
		return "yes/no";
	case GK_CFG_ADDR:
		return "ip:port";
	case GK_CFG_DURATION:
		return "duration";
	}
	return "?";
}

static void format_duration(uint32_t ms, char *out, size_t cap)
{
	if (ms == 0)
		snprintf(out, cap, "0s");
	else if (ms % 3600000 == 0)
		snprintf(out, cap, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(out, cap, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(out, cap, "%us", ms / 1000);
	else
		snprintf(out, cap, "%ums", ms);
}

void gk_cfg_format_value(const struct gk_cfg_key *k, char *out, size_t cap)
{
	out[0] = '\0';
	if (k->def) {
		gk_copy_text(out, cap, k->def);
		return;
	}
	if (!k->target || k->multi)
		return;
	switch (k->kind) {
	case GK_CFG_STR:
		gk_copy_text(out, cap, k->target);
		return;
	case GK_CFG_U32:
		snprintf(out, cap, "%u", *(const uint32_t *)k->target);
		return;
	case GK_CFG_BOOL:
		snprintf(out, cap, "%s", *(const bool *)k->target ? "yes" : "no");
		return;
	case GK_CFG_ADDR:
		if (((const struct sockaddr_storage *)k->target)->ss_family)
			gk_format_addr(k->target, out, cap);
		return;
	case GK_CFG_DURATION:
		format_duration(*(const uint32_t *)k->target, out, cap);
		return;
	}
}

/* scdoc reads '*' and '_' as emphasis and '\' as an escape; a key's name and help are text. */
static void put_scdoc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

void gk_cfg_print_table(const struct gk_cfg_key *keys, enum gk_cfg_style style, void *out)
{
	FILE *f = out;
	char value[GK_CFG_STR_MAX + 64], range[48];

	for (; keys->name; keys++) {
		gk_cfg_format_value(keys, value, sizeof(value));
		range[0] = '\0';
		if (keys->kind == GK_CFG_U32 && keys->max)
			snprintf(range, sizeof(range), "%u to %u", keys->min, keys->max);
		const char *help = keys->help ? keys->help : "";
		if (style == GK_CFG_STYLE_TEXT) {
			fprintf(f, "  %-28s %s\n", keys->name, help);
			fprintf(f, "  %-28s [%s", "", kind_name(keys));
			if (value[0])
				fprintf(f, "; default %s", value);
			if (range[0])
				fprintf(f, "; %s", range);
			fprintf(f, "]\n");
			continue;
		}
		/* The help, then the default and the range, each a sentence of its own. */
		size_t hlen = strlen(help);
		fputc('*', f);
		put_scdoc(f, keys->name);
		fprintf(f, "* (%s)\n\t", kind_name(keys));
		put_scdoc(f, help);
		if (hlen && help[hlen - 1] != '.')
			fputc('.', f);
		if (value[0]) {
			fputs(hlen ? " Default: " : "Default: ", f);
			put_scdoc(f, value);
			fputc('.', f);
		}
		if (range[0])
			fprintf(f, " Range: %s.", range);
		fputs("\n\n", f);
	}
}

int gk_cfg_style_parse(const char *s)
{
	if (strcmp(s, "text") == 0)
		return GK_CFG_STYLE_TEXT;
	if (strcmp(s, "scdoc") == 0)
		return GK_CFG_STYLE_SCDOC;
	return -1;
}
