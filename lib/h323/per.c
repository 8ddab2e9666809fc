// SPDX-License-Identifier: GPL-2.0-only
/* X.691 ALIGNED PER primitives: see include/gatekey/h323/per.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/h323/per.h"

/* ---- writer ---------------------------------------------------------------------------------- */

void gk_per_w_init(struct gk_per_w *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->bit = 0;
	w->err = 0;
}

size_t gk_per_w_octets(const struct gk_per_w *w)
{
	return (w->bit + 7) / 8;
}

static void w_fail(struct gk_per_w *w, int err)
{
	if (!w->err)
		w->err = err;
}

void gk_per_put_bits(struct gk_per_w *w, uint32_t v, unsigned n)
{
	if (w->err || n == 0)
		return;
	if (w->bit + n > w->cap * 8)
		return w_fail(w, -ENOSPC);
	for (unsigned i = n; i-- > 0;) {
		size_t o = w->bit / 8;
		unsigned s = 7 - (unsigned)(w->bit % 8);
		if (s == 7)
			w->buf[o] = 0;
		if (v >> i & 1)
			w->buf[o] |= (uint8_t)(1u << s);
		w->bit++;
	}
}

void gk_per_align(struct gk_per_w *w)
{
	if (w->bit % 8)
		gk_per_put_bits(w, 0, 8 - (unsigned)(w->bit % 8));
}

static void put_raw_octets(struct gk_per_w *w, const uint8_t *p, size_t n)
{
	if (w->err)
		return;
	if (w->bit % 8 == 0) {
		if (w->bit / 8 + n > w->cap)
			return w_fail(w, -ENOSPC);
		if (n)
			memcpy(w->buf + w->bit / 8, p, n);
		w->bit += n * 8;
		return;
	}
	for (size_t i = 0; i < n; i++)
		gk_per_put_bits(w, p[i], 8);
}

void gk_per_put_bool(struct gk_per_w *w, bool v)
{
	gk_per_put_bits(w, v ? 1 : 0, 1);
}

static unsigned bits_for(uint64_t range) /* bits to hold 0..range-1 */
{
	unsigned b = 0;
	while (b < 64 && ((uint64_t)1 << b) < range)
		b++;
	return b;
}

static unsigned octets_for(uint64_t v) /* at least 1 */
{
	unsigned n = 1;
	while (n < 8 && v >> (8 * n))
		n++;
	return n;
}

static void put_be(struct gk_per_w *w, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_raw_octets(w, b, n);
}

void gk_per_put_cons(struct gk_per_w *w, uint64_t v, uint64_t lb, uint64_t ub)
{
	if (v < lb || v > ub || ub < lb)
		return w_fail(w, -EINVAL);
	uint64_t range = ub - lb + 1, val = v - lb;
	if (ub - lb == UINT64_MAX)
		return w_fail(w, -EINVAL);
	if (range == 1)
		return;
	if (range <= 255)
		return gk_per_put_bits(w, (uint32_t)val, bits_for(range));
	if (range == 256) {
		gk_per_align(w);
		return gk_per_put_bits(w, (uint32_t)val, 8);
	}
	if (range <= 65536) {
		gk_per_align(w);
		return gk_per_put_bits(w, (uint32_t)val, 16);
	}
	unsigned n = octets_for(val), max = octets_for(range - 1);
	gk_per_put_cons(w, n, 1, max);
	gk_per_align(w);
	put_be(w, val, n);
}

void gk_per_put_len(struct gk_per_w *w, size_t n, size_t lb, size_t ub)
{
	if (n < lb || n > ub)
		return w_fail(w, -EINVAL);
	if (ub != GK_PER_UNBOUNDED && ub < 65536) {
		gk_per_put_cons(w, n, lb, ub);
		return;
	}
	gk_per_align(w);
	if (n < 128)
		gk_per_put_bits(w, (uint32_t)n, 8);
	else if (n < 16384)
		gk_per_put_bits(w, 0x8000u | (uint32_t)n, 16);
	else
		w_fail(w, -EINVAL); /* fragmentation: never needed here */
}

void gk_per_put_semi(struct gk_per_w *w, uint64_t v, uint64_t lb)
{
	if (v < lb)
		return w_fail(w, -EINVAL);
	unsigned n = octets_for(v - lb);
	gk_per_put_len(w, n, 0, GK_PER_UNBOUNDED);
	put_be(w, v - lb, n);
}

void gk_per_put_nsnn(struct gk_per_w *w, uint64_t v)
{
	if (v <= 63) {
		gk_per_put_bits(w, 0, 1);
		gk_per_put_bits(w, (uint32_t)v, 6);
	} else {
		gk_per_put_bits(w, 1, 1);
		gk_per_put_semi(w, v, 0);
	}
}

void gk_per_put_int(struct gk_per_w *w, int64_t v)
{
	unsigned n = 1;
	while (n < 8) {
		int64_t lo = -((int64_t)1 << (8 * n - 1)), hi = ((int64_t)1 << (8 * n - 1)) - 1;
		if (v >= lo && v <= hi)
			break;
		n++;
	}
	gk_per_put_len(w, n, 0, GK_PER_UNBOUNDED);
	put_be(w, (uint64_t)v, n);
}

/* Whether a field of at most ub units of `unit` bits is octet-aligned (X.691 16, 17, 27.5.7). */
static bool aligned_field(size_t ub, unsigned unit)
{
	return ub == GK_PER_UNBOUNDED || (uint64_t)ub * unit > 16;
}

void gk_per_put_octets(struct gk_per_w *w, const uint8_t *p, size_t n, size_t lb, size_t ub)
{
	if (n < lb || n > ub)
		return w_fail(w, -EINVAL);
	if (lb != ub || ub >= 65536)
		gk_per_put_len(w, n, lb, ub);
	if (n == 0)
		return;
	if (aligned_field(ub, 8))
		gk_per_align(w);
	put_raw_octets(w, p, n);
}

void gk_per_put_bitstr(struct gk_per_w *w, const uint8_t *p, size_t nbits, size_t lb, size_t ub)
{
	if (nbits < lb || nbits > ub)
		return w_fail(w, -EINVAL);
	if (lb != ub || ub >= 65536)
		gk_per_put_len(w, nbits, lb, ub);
	if (nbits == 0)
		return;
	if (aligned_field(ub, 1))
		gk_per_align(w);
	put_raw_octets(w, p, nbits / 8);
	if (nbits % 8)
		gk_per_put_bits(w, (uint32_t)(p[nbits / 8] >> (8 - nbits % 8)),
		                (unsigned)(nbits % 8));
}

void gk_per_put_bmp(struct gk_per_w *w, const char *s, size_t lb, size_t ub)
{
	size_t n = strlen(s);
	if (n < lb || n > ub)
		return w_fail(w, -EINVAL);
	if (lb != ub || ub >= 65536)
		gk_per_put_len(w, n, lb, ub);
	if (n && aligned_field(ub, 16))
		gk_per_align(w);
	for (size_t i = 0; i < n; i++)
		gk_per_put_bits(w, (uint8_t)s[i], 16);
}

struct alpha {
	unsigned b;    /* bits a character, aligned variant */
	bool index;    /* characters are indices into the sorted alphabet */
	uint8_t n;     /* alphabet size */
	char set[128]; /* sorted */
};

static void alpha_of(const char *alphabet, struct alpha *a)
{
	a->n = 0;
	for (int c = 0; c < 128; c++)
		if (!alphabet || (c && strchr(alphabet, c)))
			a->set[a->n++] = (char)c;
	unsigned b = bits_for(a->n);
	a->b = b <= 1 ? 1 : b <= 2 ? 2 : b <= 4 ? 4 : 8;
	a->index = (unsigned)a->set[a->n - 1] > (1u << a->b) - 1;
}

void gk_per_put_ia5(struct gk_per_w *w, const char *s, size_t lb, size_t ub, const char *alphabet)
{
	struct alpha a;
	size_t n = strlen(s);

	alpha_of(alphabet, &a);
	if (n < lb || n > ub)
		return w_fail(w, -EINVAL);
	if (lb != ub || ub >= 65536)
		gk_per_put_len(w, n, lb, ub);
	if (n && aligned_field(ub, a.b))
		gk_per_align(w);
	for (size_t i = 0; i < n; i++) {
		const char *p = memchr(a.set, s[i], a.n);
		if (!p || !s[i])
			return w_fail(w, -EINVAL);
		gk_per_put_bits(w, a.index ? (uint32_t)(p - a.set) : (uint8_t)s[i], a.b);
	}
}

void gk_per_put_oid(struct gk_per_w *w, const struct gk_oid *oid)
{
	uint8_t b[GK_PER_OID_MAX * 5];
	size_t n = 0;

	if (oid->n < 2 || oid->n > GK_PER_OID_MAX || oid->arc[0] > 2 ||
	    (oid->arc[0] < 2 && oid->arc[1] >= 40) || oid->arc[1] > UINT32_MAX - 80)
		return w_fail(w, -EINVAL);
	for (unsigned i = 1; i < oid->n; i++) {
		uint32_t v = i == 1 ? oid->arc[0] * 40 + oid->arc[1] : oid->arc[i];
		uint8_t t[5];
		int k = 0;
		do {
			t[k++] = v & 0x7f;
			v >>= 7;
		} while (v);
		while (k-- > 0)
			b[n++] = (uint8_t)(t[k] | (k ? 0x80 : 0));
	}
	gk_per_put_len(w, n, 0, GK_PER_UNBOUNDED);
	put_raw_octets(w, b, n);
}

void gk_per_put_choice(struct gk_per_w *w, unsigned idx, unsigned n_root, bool ext)
{
	if (ext)
		gk_per_put_bits(w, 0, 1);
	gk_per_put_cons(w, idx, 0, n_root - 1);
}

void gk_per_put_choice_ext(struct gk_per_w *w, unsigned ext_idx)
{
	gk_per_put_bits(w, 1, 1);
	gk_per_put_nsnn(w, ext_idx);
}

size_t gk_per_open_begin(struct gk_per_w *w)
{
	gk_per_align(w);
	size_t mark = w->bit / 8;
	gk_per_put_bits(w, 0, 8);
	return mark;
}

void gk_per_open_end(struct gk_per_w *w, size_t mark)
{
	gk_per_align(w);
	if (w->err)
		return;
	size_t n = w->bit / 8 - mark - 1;
	if (n == 0) {
		gk_per_put_bits(w, 0, 8); /* an empty encoding is one zero octet (10.2.3) */
		n = 1;
	}
	if (w->err)
		return;
	if (n < 128) {
		w->buf[mark] = (uint8_t)n;
	} else if (n < 16384) {
		if (w->bit / 8 + 1 > w->cap)
			return w_fail(w, -ENOSPC);
		memmove(w->buf + mark + 2, w->buf + mark + 1, n);
		w->buf[mark] = (uint8_t)(0x80 | n >> 8);
		w->buf[mark + 1] = (uint8_t)n;
		w->bit += 8;
	} else {
		w_fail(w, -EINVAL);
	}
}

void gk_per_put_ext_bitmap(struct gk_per_w *w, const bool *bits, unsigned n)
{
	if (n == 0)
		return w_fail(w, -EINVAL); /* an extensible type without additions has no bitmap */
	/* normally small length: up to 64 a 0 bit and n - 1 in 6 bits, beyond a 1 bit and n as an
	 * unconstrained length (unlike the normally small number of a CHOICE index, which goes on
	 * with a semi-constrained n - 1; asn1c reads it as here, Wireshark's PER dissector as that
	 * index: they differ only past 64 additions, which no type of H.225.0 v7 has) */
	if (n <= 64) {
		gk_per_put_bits(w, 0, 1);
		gk_per_put_bits(w, n - 1, 6);
	} else {
		gk_per_put_bits(w, 1, 1);
		gk_per_put_len(w, n, 0, GK_PER_UNBOUNDED);
	}
	for (unsigned i = 0; i < n; i++)
		gk_per_put_bool(w, bits[i]);
}

/* ---- reader ---------------------------------------------------------------------------------- */

void gk_per_r_init(struct gk_per_r *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->nbits = len * 8;
	r->bit = 0;
	r->base = 0;
	r->err = GK_R_OK;
}

void gk_per_fail(struct gk_per_r *r, enum gk_reason why)
{
	if (r->err == GK_R_OK)
		r->err = why;
}

size_t gk_per_r_left(const struct gk_per_r *r)
{
	return r->err ? 0 : r->nbits - r->bit;
}

uint32_t gk_per_get_bits(struct gk_per_r *r, unsigned n)
{
	uint32_t v = 0;
	if (r->err)
		return 0;
	if (n > r->nbits - r->bit) {
		gk_per_fail(r, GK_R_PARSE_TRUNCATED);
		return 0;
	}
	for (unsigned i = 0; i < n; i++, r->bit++)
		v = v << 1 | (uint32_t)(r->buf[r->bit / 8] >> (7 - r->bit % 8) & 1);
	return v;
}

void gk_per_skip_align(struct gk_per_r *r)
{
	if (r->err || r->bit % 8 == 0)
		return;
	gk_per_get_bits(r, 8 - (unsigned)(r->bit % 8));
}

static uint64_t get_be(struct gk_per_r *r, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | gk_per_get_bits(r, 8);
	return v;
}

bool gk_per_get_bool(struct gk_per_r *r)
{
	return gk_per_get_bits(r, 1) != 0;
}

uint64_t gk_per_get_cons(struct gk_per_r *r, uint64_t lb, uint64_t ub)
{
	uint64_t range = ub - lb + 1, val;
	if (range == 1)
		return lb;
	if (range <= 255) {
		val = gk_per_get_bits(r, bits_for(range));
	} else if (range <= 65536) {
		gk_per_skip_align(r);
		val = gk_per_get_bits(r, range == 256 ? 8 : 16);
	} else {
		unsigned n = (unsigned)gk_per_get_cons(r, 1, octets_for(range - 1));
		gk_per_skip_align(r);
		val = get_be(r, n);
	}
	if (r->err)
		return lb;
	if (val > ub - lb) {
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
		return lb;
	}
	return lb + val;
}

size_t gk_per_get_len(struct gk_per_r *r, size_t lb, size_t ub)
{
	size_t n;
	if (ub != GK_PER_UNBOUNDED && ub < 65536)
		return (size_t)gk_per_get_cons(r, lb, ub);
	gk_per_skip_align(r);
	uint32_t b = gk_per_get_bits(r, 8);
	if (!(b & 0x80)) {
		n = b;
	} else if ((b & 0xc0) == 0x80) {
		n = (b & 0x3f) << 8 | gk_per_get_bits(r, 8);
	} else {
		gk_per_fail(r, GK_R_PARSE_TOO_LONG); /* fragmented */
		return 0;
	}
	if (r->err)
		return 0;
	if (n < lb || n > ub) {
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
		return 0;
	}
	return n;
}

uint64_t gk_per_get_semi(struct gk_per_r *r, uint64_t lb)
{
	size_t n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
	if (r->err)
		return lb;
	if (n == 0 || n > 8) {
		gk_per_fail(r, n ? GK_R_PARSE_TOO_LONG : GK_R_PARSE_BAD_VALUE);
		return lb;
	}
	uint64_t v = get_be(r, (unsigned)n);
	if (v > UINT64_MAX - lb) {
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
		return lb;
	}
	return lb + v;
}

uint64_t gk_per_get_nsnn(struct gk_per_r *r)
{
	if (!gk_per_get_bits(r, 1))
		return gk_per_get_bits(r, 6);
	return gk_per_get_semi(r, 0);
}

int64_t gk_per_get_int(struct gk_per_r *r)
{
	size_t n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
	if (r->err)
		return 0;
	if (n == 0 || n > 8) {
		gk_per_fail(r, n ? GK_R_PARSE_TOO_LONG : GK_R_PARSE_BAD_VALUE);
		return 0;
	}
	uint64_t v = get_be(r, (unsigned)n);
	if (n < 8 && v >> (8 * n - 1))
		v |= UINT64_MAX << (8 * n); /* sign extension */
	return (int64_t)v;
}

/* Reads the length and alignment of a string of `unit`-bit units; returns the count. */
static size_t str_head(struct gk_per_r *r, size_t lb, size_t ub, unsigned unit)
{
	size_t n = lb;
	if (lb != ub || ub >= 65536)
		n = gk_per_get_len(r, lb, ub);
	if (r->err)
		return 0;
	if (n && aligned_field(ub, unit))
		gk_per_skip_align(r);
	if (!r->err && (uint64_t)n * unit > r->nbits - r->bit) {
		gk_per_fail(r, GK_R_PARSE_TRUNCATED);
		return 0;
	}
	return r->err ? 0 : n;
}

size_t gk_per_get_octets(struct gk_per_r *r, uint8_t *out, size_t cap, size_t lb, size_t ub,
                         size_t *off)
{
	size_t n = str_head(r, lb, ub, 8);
	if (off)
		*off = r->base + r->bit / 8;
	if (r->err)
		return 0;
	if (out && n > cap) {
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
		return 0;
	}
	if (!out) {
		r->bit += n * 8;
		return n;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)gk_per_get_bits(r, 8);
	return n;
}

size_t gk_per_get_bitstr(struct gk_per_r *r, uint8_t *out, size_t cap, size_t lb, size_t ub,
                         size_t *off)
{
	size_t n = str_head(r, lb, ub, 1);
	if (off)
		*off = r->base + r->bit / 8;
	if (r->err)
		return 0;
	if (out && (n + 7) / 8 > cap) {
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
		return 0;
	}
	if (!out) {
		r->bit += n;
		return n;
	}
	memset(out, 0, (n + 7) / 8);
	for (size_t i = 0; i < n; i++)
		if (gk_per_get_bits(r, 1))
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return n;
}

void gk_per_get_bmp(struct gk_per_r *r, char *out, size_t cap, size_t lb, size_t ub)
{
	size_t n = str_head(r, lb, ub, 16);
	if (out && cap)
		out[0] = '\0';
	if (r->err)
		return;
	if (out && n >= cap) {
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t c = gk_per_get_bits(r, 16);
		if (!out)
			continue;
		if (c < 0x20 || c > 0x7e) {
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
			out[0] = '\0';
			return;
		}
		out[i] = (char)c;
		out[i + 1] = '\0';
	}
}

void gk_per_get_ia5(struct gk_per_r *r, char *out, size_t cap, size_t lb, size_t ub,
                    const char *alphabet)
{
	struct alpha a;
	alpha_of(alphabet, &a);
	size_t n = str_head(r, lb, ub, a.b);
	if (out && cap)
		out[0] = '\0';
	if (r->err)
		return;
	if (out && n >= cap) {
		gk_per_fail(r, GK_R_PARSE_TOO_LONG);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t c = gk_per_get_bits(r, a.b);
		if (a.index) {
			if (c >= a.n) {
				gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
				return;
			}
			c = (uint8_t)a.set[c];
		} else if (c > 127 || !memchr(a.set, (int)c, a.n)) {
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
			return;
		}
		if (out) {
			out[i] = (char)c;
			out[i + 1] = '\0';
		}
	}
}

void gk_per_get_oid(struct gk_per_r *r, struct gk_oid *oid)
{
	size_t n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
	uint64_t v = 0;
	bool in = false;

	oid->n = 0;
	if (r->err)
		return;
	if (n == 0 || n * 8 > r->nbits - r->bit) {
		gk_per_fail(r, n ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_BAD_VALUE);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)gk_per_get_bits(r, 8);
		if (!in && b == 0x80) {
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE); /* non-minimal subidentifier */
			return;
		}
		v = v << 7 | (b & 0x7f);
		in = b & 0x80;
		if (v > UINT32_MAX) {
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
			return;
		}
		if (in)
			continue;
		if (oid->n + (oid->n ? 1 : 2) > GK_PER_OID_MAX) {
			gk_per_fail(r, GK_R_PARSE_TOO_LONG);
			return;
		}
		if (oid->n == 0) {
			uint32_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
			oid->arc[oid->n++] = a;
			oid->arc[oid->n++] = (uint32_t)v - a * 40;
		} else {
			oid->arc[oid->n++] = (uint32_t)v;
		}
		v = 0;
	}
	if (in)
		gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
}

unsigned gk_per_get_choice(struct gk_per_r *r, unsigned n_root, bool ext)
{
	if (ext && gk_per_get_bool(r)) {
		uint64_t i = gk_per_get_nsnn(r);
		if (i > 1000) {
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
			return 0;
		}
		return n_root + (unsigned)i;
	}
	return (unsigned)gk_per_get_cons(r, 0, n_root - 1);
}

void gk_per_get_open(struct gk_per_r *r, struct gk_per_r *sub)
{
	size_t n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
	sub->buf = r->buf;
	sub->nbits = 0;
	sub->bit = 0;
	sub->base = r->base;
	sub->err = r->err;
	if (r->err)
		return;
	if (n * 8 > r->nbits - r->bit) {
		gk_per_fail(r, GK_R_PARSE_TRUNCATED);
		sub->err = r->err;
		return;
	}
	sub->buf = r->buf + r->bit / 8;
	sub->nbits = n * 8;
	sub->base = r->base + r->bit / 8;
	r->bit += n * 8;
}

void gk_per_skip_open(struct gk_per_r *r)
{
	struct gk_per_r sub;
	gk_per_get_open(r, &sub);
}

void gk_per_ext_begin(struct gk_per_r *r, struct gk_per_ext *e)
{
	size_t n;

	e->n = e->at = e->i = 0;
	if (r->err)
		return;
	if (!gk_per_get_bool(r)) {
		n = gk_per_get_bits(r, 6) + 1;
	} else {
		/* the long form of a normally small length: n itself, which is never 0 */
		n = gk_per_get_len(r, 0, GK_PER_UNBOUNDED);
		if (!r->err && n == 0)
			gk_per_fail(r, GK_R_PARSE_BAD_VALUE);
	}
	if (r->err)
		return;
	if (n > r->nbits - r->bit) {
		gk_per_fail(r, GK_R_PARSE_TRUNCATED);
		return;
	}
	e->n = n;
	e->at = r->bit;
	r->bit += n;
}

long gk_per_ext_next(struct gk_per_r *r, struct gk_per_ext *e, struct gk_per_r *sub)
{
	while (!r->err && e->i < e->n) {
		size_t b = e->at + e->i++;
		if (!(r->buf[b / 8] >> (7 - b % 8) & 1))
			continue;
		gk_per_get_open(r, sub);
		return r->err ? -1 : (long)(e->i - 1);
	}
	return -1;
}

void gk_per_skip_ext(struct gk_per_r *r, bool ext)
{
	struct gk_per_ext e;
	struct gk_per_r sub;

	if (!ext || r->err)
		return;
	gk_per_ext_begin(r, &e);
	while (gk_per_ext_next(r, &e, &sub) >= 0)
		;
}

/* ---- OIDs ------------------------------------------------------------------------------------ */

bool gk_oid_equal(const struct gk_oid *a, const struct gk_oid *b)
{
	return a->n == b->n && memcmp(a->arc, b->arc, a->n * sizeof(a->arc[0])) == 0;
}

int gk_oid_under(const struct gk_oid *a, const struct gk_oid *prefix)
{
	if (a->n < prefix->n || memcmp(a->arc, prefix->arc, prefix->n * sizeof(a->arc[0])))
		return -1;
	return a->n - prefix->n;
}

int gk_oid_parse(const char *s, struct gk_oid *oid)
{
	oid->n = 0;
	while (*s) {
		char *end;
		if (*s < '0' || *s > '9' || oid->n == GK_PER_OID_MAX)
			return -1;
		unsigned long v = strtoul(s, &end, 10);
		if (v > UINT32_MAX || (end - s > 1 && *s == '0'))
			return -1;
		oid->arc[oid->n++] = (uint32_t)v;
		s = end;
		if (*s == '.' && s[1])
			s++;
		else if (*s)
			return -1;
	}
	if (oid->n < 2 || oid->arc[0] > 2 || (oid->arc[0] < 2 && oid->arc[1] >= 40))
		return -1;
	return 0;
}
