// SPDX-License-Identifier: GPL-2.0-only
/*
 * The abstract message's shared pieces (include/gatekey/codec/msg.h): mechanism names and the
 * choice among a terminal's offer, the configured mechanism list, the canonical bytes of a
 * SUCCESS that the s10 MAC covers, the same for every binding, and the Retry-After an overload
 * refusal asks for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatekey/codec/msg.h"

static const char *const mech_names[] = {
    [GK_MECH_NONE] = "none",        [GK_MECH_GKMAC] = "gk-mac",  [GK_MECH_TLS] = "tls",
    [GK_MECH_IPSEC] = "ipsec-3gpp", [GK_MECH_DIGEST] = "digest",
};

uint32_t gk_retry_after_pick(uint32_t base_s, uint32_t jitter_s)
{
	uint32_t r = 0;

	/* The pool's random bytes cost no system call; without them the answer is base_s. */
	if (jitter_s && gk_random(&r, sizeof(r)) == 0)
		return base_s + (uint32_t)((uint64_t)r * ((uint64_t)jitter_s + 1) >> 32);
	return base_s;
}

uint64_t gk_retry_wait_ms(uint32_t retry_after_s, uint32_t default_s, uint64_t now_ms,
                          uint64_t deadline_ms)
{
	uint64_t wait_ms = (uint64_t)(retry_after_s ? retry_after_s : default_s) * 1000;

	return wait_ms && now_ms + wait_ms < deadline_ms ? wait_ms : 0;
}

const char *gk_mech_name(enum gk_mech m)
{
	return (unsigned)m < sizeof(mech_names) / sizeof(mech_names[0]) ? mech_names[m] : "none";
}

enum gk_mech gk_mech_from_name(const char *s, size_t len)
{
	for (unsigned m = GK_MECH_GKMAC; m < sizeof(mech_names) / sizeof(mech_names[0]); m++)
		if (strlen(mech_names[m]) == len && strncasecmp(mech_names[m], s, len) == 0)
			return (enum gk_mech)m;
	return GK_MECH_NONE;
}

static const struct {
	const char *name;
	unsigned value;
	const char *what;
} limits[] = {
#define GK_LIMIT_ROW(n, nm, v, w) [GK_LIMIT_##n] = {nm, v, w},
    GK_LIMITS(GK_LIMIT_ROW)
#undef GK_LIMIT_ROW
};

const char *gk_limit_name(enum gk_limit l)
{
	return (unsigned)l < GK_LIMIT__COUNT ? limits[l].name : "none";
}

unsigned gk_limit_value(enum gk_limit l)
{
	return (unsigned)l < GK_LIMIT__COUNT ? limits[l].value : 0;
}

const char *gk_limit_what(enum gk_limit l)
{
	return (unsigned)l < GK_LIMIT__COUNT ? limits[l].what : "no limit";
}

/* ---- the SIP context's packed text ----------------------------------------------------------- */

/* Appends n bytes and a NUL; the offset of the copy, or 0 (the empty string) when n is 0, or -1
 * when it does not fit. */
static int sip_append(struct gk_sip_ctx *s, const char *p, size_t n)
{
	size_t at = s->used ? s->used : 1;

	if (!n)
		return 0;
	if (at >= sizeof(s->text) || n >= sizeof(s->text) - at)
		return -1;
	s->text[0] = '\0';
	memcpy(s->text + at, p, n);
	s->text[at + n] = '\0';
	s->used = (uint16_t)(at + n + 1);
	return (int)at;
}

int gk_sip_set(struct gk_sip_ctx *s, enum gk_sip_str k, const char *p, size_t n)
{
	int at = (unsigned)k < GK_SIP__STRS ? sip_append(s, p, n) : -1;

	if (at < 0)
		return -1;
	s->str[k] = (uint16_t)at;
	return 0;
}

int gk_sip_add_via(struct gk_sip_ctx *s, const char *p, size_t n)
{
	if (s->n_via >= GK_SIP_VIA_MAX || !n)
		return -1;
	int at = sip_append(s, p, n);
	if (at < 0)
		return -1;
	s->via[s->n_via++] = (uint16_t)at;
	return 0;
}

/* Formats into the free end of the text itself, so nothing is copied twice: the offset of the
 * value, 0 for an empty one, -1 when it does not fit. */
static int sip_vformat(struct gk_sip_ctx *s, const char *fmt, va_list ap)
{
	size_t at = s->used ? s->used : 1;

	if (at + 1 >= sizeof(s->text))
		return -1;
	int w = vsnprintf(s->text + at, sizeof(s->text) - at, fmt, ap);
	s->text[0] = '\0';
	if (w < 0 || (size_t)w >= sizeof(s->text) - at) {
		s->text[at] = '\0';
		return -1;
	}
	if (!w)
		return 0;
	s->used = (uint16_t)(at + (size_t)w + 1);
	return (int)at;
}

/* Like sip_vformat, for the strings in ap up to a NULL, joined: what a request's values are made
 * of, without a format to interpret for each. */
static int sip_vcat(struct gk_sip_ctx *s, va_list ap)
{
	size_t at = s->used ? s->used : 1, n = 0;

	if (at + 1 >= sizeof(s->text))
		return -1;
	for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
		size_t len = strlen(p);
		if (len >= sizeof(s->text) - at - n) {
			s->text[at] = '\0';
			return -1;
		}
		memcpy(s->text + at + n, p, len);
		n += len;
	}
	s->text[0] = '\0';
	s->text[at + n] = '\0';
	if (!n)
		return 0;
	s->used = (uint16_t)(at + n + 1);
	return (int)at;
}

int gk_sip_setcat(struct gk_sip_ctx *s, enum gk_sip_str k, ...)
{
	va_list ap;

	if ((unsigned)k >= GK_SIP__STRS)
		return -1;
	va_start(ap, k);
	int at = sip_vcat(s, ap);
	va_end(ap);
	if (at < 0)
		return -1;
	s->str[k] = (uint16_t)at;
	return 0;
}

int gk_sip_add_viacat(struct gk_sip_ctx *s, ...)
{
	va_list ap;

	if (s->n_via >= GK_SIP_VIA_MAX)
		return -1;
	va_start(ap, s);
	int at = sip_vcat(s, ap);
	va_end(ap);
	if (at <= 0)
		return -1;
	s->via[s->n_via++] = (uint16_t)at;
	return 0;
}

int gk_sip_setf(struct gk_sip_ctx *s, enum gk_sip_str k, const char *fmt, ...)
{
	va_list ap;

	if ((unsigned)k >= GK_SIP__STRS)
		return -1;
	va_start(ap, fmt);
	int at = sip_vformat(s, fmt, ap);
	va_end(ap);
	if (at < 0)
		return -1;
	s->str[k] = (uint16_t)at;
	return 0;
}

int gk_sip_add_viaf(struct gk_sip_ctx *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n_via >= GK_SIP_VIA_MAX)
		return -1;
	va_start(ap, fmt);
	int at = sip_vformat(s, fmt, ap);
	va_end(ap);
	if (at <= 0)
		return -1;
	s->via[s->n_via++] = (uint16_t)at;
	return 0;
}

static size_t wire_len(const struct gk_msg *m)
{
	switch (m->proto) {
	case GK_PROTO_SIP: {
		size_t used = m->wire.sip.used ? m->wire.sip.used : 1;
		return offsetof(struct gk_sip_ctx, text) +
		       (used < sizeof(m->wire.sip.text) ? used : sizeof(m->wire.sip.text));
	}
	case GK_PROTO_MGCP:
		return sizeof(m->wire.mgcp);
	case GK_PROTO_H248:
		return sizeof(m->wire.h248);
	case GK_PROTO_H323:
		return sizeof(m->wire.ras);
	default:
		return sizeof(m->wire);
	}
}

void gk_msg_copy_wire(struct gk_msg *dst, const struct gk_msg *src)
{
	if (dst != src)
		memcpy(&dst->wire, &src->wire, wire_len(src));
}

void gk_msg_copy(struct gk_msg *dst, const struct gk_msg *src)
{
	if (dst == src)
		return;
	memcpy(dst, src, offsetof(struct gk_msg, wire));
	gk_msg_copy_wire(dst, src);
}

void gk_msg_clear(struct gk_msg *m)
{
	size_t n = offsetof(struct gk_msg, wire) + offsetof(struct gk_sip_ctx, text) + 1;
	size_t other = offsetof(struct gk_msg, wire) + sizeof(m->wire.ras);

	if (other > n)
		n = other;
	if (offsetof(struct gk_msg, wire) + sizeof(m->wire.h248) > n)
		n = offsetof(struct gk_msg, wire) + sizeof(m->wire.h248);
	memset(m, 0, n);
}

const char *gk_msg_type_name(enum gk_msg_type t)
{
	switch (t) {
	case GK_MSG_REGISTER:
		return "register";
	case GK_MSG_CHALLENGE:
		return "challenge";
	case GK_MSG_ANSWER:
		return "answer";
	case GK_MSG_SUCCESS:
		return "success";
	case GK_MSG_REJECT:
		return "reject";
	case GK_MSG_DEREGISTER:
		return "deregister";
	case GK_MSG_DEREG_OK:
		return "dereg-ok";
	case GK_MSG_OTHER:
		return "other";
	case GK_MSG_OTHER_OK:
		return "other-ok";
	case GK_MSG_ACK:
		return "ack";
	case GK_MSG_PROVISIONAL:
		return "provisional";
	default:
		return "none";
	}
}

struct canon {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct canon *c, const void *v, size_t n)
{
	if (c->err || n > c->cap - c->len) {
		c->err = -ENOSPC;
		return;
	}
	memcpy(c->p + c->len, v, n);
	c->len += n;
}

static void put_be(struct canon *c, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put(c, b, bytes);
}

static void put_lp(struct canon *c, const char *s)
{
	size_t n = strnlen(s, GK_ID_MAX + 1);
	put_be(c, n, 2);
	put(c, s, n);
}

/* ---- ipsec-3gpp ends in mechanism lists ------------------------------------------------------ */

/* A decimal number of at most `max`: digits only, no sign, at most ten of them. */
static int dec_u32(const char *v, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t x = 0;

	if (!v || !n || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static bool name_is(const char *name, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(name, lit, n) == 0;
}

int gk_ipsec_param(struct gk_ipsec_read *r, const char *name, size_t namelen, const char *value,
                   size_t valuelen, bool quoted)
{
	static const char *const nums[] = {"spi-c", "spi-s", "port-c", "port-s"};
	static const struct {
		const char *name, *want;
	} fixed[] = {{"prot", "esp"}, {"mod", "trans"}, {"ealg", "aes-gcm"}};
	uint32_t x;

	for (unsigned k = 0; k < 4; k++) {
		if (!name_is(name, namelen, nums[k]))
			continue;
		if ((r->seen & 1u << k) || quoted ||
		    dec_u32(value, valuelen, k < 2 ? UINT32_MAX : 65535, &x) < 0)
			return -1;
		r->seen |= 1u << k;
		if (k == 0)
			r->end.spi_c = x;
		else if (k == 1)
			r->end.spi_s = x;
		else if (k == 2)
			r->end.port_c = (uint16_t)x;
		else
			r->end.port_s = (uint16_t)x;
		return 1;
	}
	for (unsigned k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
		if (!name_is(name, namelen, fixed[k].name))
			continue;
		if ((r->seen & 1u << (4 + k)) || !value || quoted)
			return -1;
		r->seen |= 1u << (4 + k);
		if (!name_is(value, valuelen, fixed[k].want))
			r->unusable = true;
		return 1;
	}
	return 0;
}

bool gk_ipsec_read_end(const struct gk_ipsec_read *r, struct gk_ipsec_end *out)
{
	const unsigned need = 0xfu | 1u << 6; /* the SPIs, the ports, ealg */

	if ((r->seen & need) != need || r->unusable || !gk_ipsec_end_ok(&r->end))
		return false;
	*out = r->end;
	return true;
}

size_t gk_ipsec_end_format(const struct gk_ipsec_end *e, char out[GK_IPSEC_END_TEXT])
{
	int n = snprintf(out, GK_IPSEC_END_TEXT,
	                 ";prot=esp;mod=trans;ealg=aes-gcm;spi-c=%u;spi-s=%u;port-c=%u;port-s=%u",
	                 e->spi_c, e->spi_s, e->port_c, e->port_s);
	return n > 0 ? (size_t)n : 0;
}

static void put_ipsec_end(struct canon *c, char tag, const struct gk_ipsec_end *e)
{
	put(c, &tag, 1);
	put_be(c, e->spi_c, 4);
	put_be(c, e->spi_s, 4);
	put_be(c, e->port_c, 2);
	put_be(c, e->port_s, 2);
}

int gk_msg_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap)
{
	static const char tag[] = "gk1-success";
	struct canon c = {.p = out, .cap = cap};

	put(&c, tag, sizeof(tag) - 1);
	put_lp(&c, m->idc);
	put_lp(&c, m->idsp);
	put(&c, m->n1, GK_NONCE_LEN);
	put(&c, m->n2, GK_NONCE_LEN);
	put_be(&c, m->ts, 8);
	put(&c, m->blob, GK_BLOB_LEN);
	put_be(&c, m->chosen, 1);
	put_be(&c, m->n_mechs, 1);
	for (unsigned i = 0; i < m->n_mechs && i < GK_MECH_MAX; i++) {
		put_be(&c, m->mechs[i].mech, 1);
		put_be(&c, m->mechs[i].q, 2);
	}
	put_be(&c, m->expires, 4);
	put_be(&c, m->index, 4);
	if (m->fields & GK_F_IPSEC_TERM)
		put_ipsec_end(&c, 'T', &m->ipsec_term);
	if (m->fields & GK_F_IPSEC_NET)
		put_ipsec_end(&c, 'N', &m->ipsec_net);
	return c.err ? c.err : (int)c.len;
}

enum gk_mech gk_mech_choose(const struct gk_msg *offer, uint32_t supported)
{
	int best = -1;
	for (unsigned i = 0; i < offer->n_mechs && i < GK_MECH_MAX; i++) {
		const struct gk_mech_offer *o = &offer->mechs[i];
		/* The id may have come from the wire: its range first, then the shift. And never
		 * a mechanism nothing here enforces, even if a caller's mask has its bit. */
		bool ipsec = o->mech == GK_MECH_IPSEC && (offer->fields & GK_F_IPSEC_TERM) &&
		             gk_ipsec_end_ok(&offer->ipsec_term);
		if (!(gk_mech_enforced(o->mech) || ipsec) || o->q == 0 ||
		    !(supported & (1u << o->mech)))
			continue;
		if (best < 0 || o->q > offer->mechs[best].q)
			best = (int)i;
	}
	return best < 0 ? GK_MECH_NONE : (enum gk_mech)offer->mechs[best].mech;
}

int gk_mechs_parse(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	const char *p = list;
	*mask = 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, " ,");
		if (!n)
			break;
		enum gk_mech m = gk_mech_from_name(p, n);
		if (m == GK_MECH_NONE) {
			snprintf(err, errlen,
			         "unknown mechanism \"%.*s\" (expected gk-mac, digest, ipsec-3gpp)",
			         (int)n, p);
			return -1;
		}
		/* ipsec-3gpp: the kernel's SAs enforce it, which the front daemons install
		 * (front_ipsec.h) */
		if (!gk_mech_enforced(m) && m != GK_MECH_IPSEC) {
			snprintf(
			    err, errlen,
			    "\"%.*s\" is not implemented yet, and an element never negotiates a "
			    "mechanism it does not enforce (expected gk-mac, digest, ipsec-3gpp)",
			    (int)n, p);
			return -1;
		}
		*mask |= 1u << m;
		p += n;
	}
	if (!*mask) {
		snprintf(err, errlen, "the mechanism list is empty");
		return -1;
	}
	return 0;
}
