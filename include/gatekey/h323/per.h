/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ASN.1 Packed Encoding Rules, ALIGNED variant (ITU-T X.691, BASIC-PER), as H.225.0 RAS uses
 * them: the primitives the RAS codec (ras.h) is built from. Writers and readers work on a bit
 * position in a caller's buffer; errors are sticky (the first one is kept and every later call
 * does nothing), so a caller may encode or decode a whole structure and check once.
 *
 * Writers: err is 0 or -ENOSPC (buffer too small) / -EINVAL (value outside its constraint, a
 * length needing fragmentation). Readers: err is GK_R_OK or a GK_R_PARSE_* reason; a reader
 * never reads past its end. Fragmented lengths (16K and more items) are not supported: the
 * writer refuses them and the reader rejects them as PARSE_TOO_LONG.
 */
#ifndef GATEKEY_PER_H
#define GATEKEY_PER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/runtime/reason.h"

#define GK_PER_UNBOUNDED SIZE_MAX /* ub of a size constraint: none */
#define GK_PER_OID_MAX   16       /* arcs of an OBJECT IDENTIFIER we keep */

struct gk_per_w {
	uint8_t *buf;
	size_t cap; /* octets */
	size_t bit; /* bits written */
	int err;
};

struct gk_per_r {
	const uint8_t *buf;
	size_t nbits; /* bits available */
	size_t bit;   /* bits read */
	size_t base;  /* octet offset of buf in the outermost PDU (for open-type sub-readers) */
	int err;      /* enum gk_reason */
};

struct gk_oid {
	uint32_t arc[GK_PER_OID_MAX];
	uint8_t n;
};

void gk_per_w_init(struct gk_per_w *w, uint8_t *buf, size_t cap);
/* Length in octets of what was written (the last octet padded with zero bits). */
size_t gk_per_w_octets(const struct gk_per_w *w);
void gk_per_put_bits(struct gk_per_w *w, uint32_t v, unsigned n); /* n <= 32 */
void gk_per_align(struct gk_per_w *w);
void gk_per_put_bool(struct gk_per_w *w, bool v);
/* Constrained whole number lb <= v <= ub (X.691 11.5.7, aligned: bit-field up to range 255,
 * one octet for 256, two octets up to 64K, else a length-prefixed octet field). */
void gk_per_put_cons(struct gk_per_w *w, uint64_t v, uint64_t lb, uint64_t ub);
void gk_per_put_nsnn(struct gk_per_w *w, uint64_t v);              /* normally small (11.6) */
void gk_per_put_semi(struct gk_per_w *w, uint64_t v, uint64_t lb); /* semi-constrained (11.7) */
void gk_per_put_int(struct gk_per_w *w, int64_t v);                /* unconstrained (11.8) */
/* Length determinant (11.9) of n within lb..ub; ub GK_PER_UNBOUNDED (or >= 64K): general form. */
void gk_per_put_len(struct gk_per_w *w, size_t n, size_t lb, size_t ub);
void gk_per_put_octets(struct gk_per_w *w, const uint8_t *p, size_t n, size_t lb, size_t ub);
void gk_per_put_bitstr(struct gk_per_w *w, const uint8_t *p, size_t nbits, size_t lb, size_t ub);
/* BMPString of ASCII text, SIZE(lb..ub): 16 bits a character. */
void gk_per_put_bmp(struct gk_per_w *w, const char *s, size_t lb, size_t ub);
/* IA5String SIZE(lb..ub) FROM(alphabet) (NULL: the whole IA5 set): X.691 27.5 effective
 * alphabet: b bits a character (rounded up to 1, 2, 4, 8), indices when codes do not fit. */
void gk_per_put_ia5(struct gk_per_w *w, const char *s, size_t lb, size_t ub, const char *alphabet);
void gk_per_put_oid(struct gk_per_w *w, const struct gk_oid *oid);
/* CHOICE index: a root alternative (ext: the CHOICE is extensible), or an extension addition
 * (then the value follows as an open type). */
void gk_per_put_choice(struct gk_per_w *w, unsigned idx, unsigned n_root, bool ext);
void gk_per_put_choice_ext(struct gk_per_w *w, unsigned ext_idx);
/* Open type (10.2): begin returns a mark, end writes the length in front of what was written
 * in between (octet-aligned, an empty encoding becomes one zero octet). */
size_t gk_per_open_begin(struct gk_per_w *w);
void gk_per_open_end(struct gk_per_w *w, size_t mark);
/* Extension bitmap of a SEQUENCE (18.7, 18.8): n is the number of extension additions the type
 * defines (present or not: the bitmap has one bit for each, an extension addition group counting
 * as one), bits[i] set when present; its length is a normally small length (X.691:2002
 * 10.9.3.4). */
void gk_per_put_ext_bitmap(struct gk_per_w *w, const bool *bits, unsigned n);

void gk_per_r_init(struct gk_per_r *r, const uint8_t *buf, size_t len);
size_t gk_per_r_left(const struct gk_per_r *r); /* bits */
uint32_t gk_per_get_bits(struct gk_per_r *r, unsigned n);
void gk_per_skip_align(struct gk_per_r *r);
bool gk_per_get_bool(struct gk_per_r *r);
uint64_t gk_per_get_cons(struct gk_per_r *r, uint64_t lb, uint64_t ub);
uint64_t gk_per_get_nsnn(struct gk_per_r *r);
uint64_t gk_per_get_semi(struct gk_per_r *r, uint64_t lb);
int64_t gk_per_get_int(struct gk_per_r *r);
size_t gk_per_get_len(struct gk_per_r *r, size_t lb, size_t ub);
/* Octets into out (cap octets; longer is PARSE_TOO_LONG); returns the count. off (may be NULL)
 * receives the octet offset of the first octet in the outermost PDU. */
size_t gk_per_get_octets(struct gk_per_r *r, uint8_t *out, size_t cap, size_t lb, size_t ub,
                         size_t *off);
size_t gk_per_get_bitstr(struct gk_per_r *r, uint8_t *out, size_t cap, size_t lb, size_t ub,
                         size_t *off);
/* BMPString into NUL-terminated ASCII (cap includes the NUL); a character outside 0x20..0x7e is
 * PARSE_BAD_VALUE. out NULL: skip. */
void gk_per_get_bmp(struct gk_per_r *r, char *out, size_t cap, size_t lb, size_t ub);
void gk_per_get_ia5(struct gk_per_r *r, char *out, size_t cap, size_t lb, size_t ub,
                    const char *alphabet);
void gk_per_get_oid(struct gk_per_r *r, struct gk_oid *oid);
/* CHOICE: returns the alternative; extension additions return n_root + their index, and the
 * caller must then read (or skip) an open type. */
unsigned gk_per_get_choice(struct gk_per_r *r, unsigned n_root, bool ext);
/* Open type: sub reads the content; r moves past it. */
void gk_per_get_open(struct gk_per_r *r, struct gk_per_r *sub);
void gk_per_skip_open(struct gk_per_r *r);
/*
 * The extension additions of a SEQUENCE whose extension bit was set. begin reads the bitmap;
 * next returns the index of the next addition present with its open type in sub (r moves past
 * it), or -1 after the last one or on an error (then in r). The bitmap may signal any number of
 * additions, more or fewer than the version of the type the caller knows (a sender may follow an
 * earlier or a later one): the caller reads the additions it knows and skips the others by their
 * open-type length.
 */
struct gk_per_ext {
	size_t n;  /* additions the bitmap signals */
	size_t at; /* bit offset of the bitmap in the reader's buf */
	size_t i;  /* the next one to look at */
};
void gk_per_ext_begin(struct gk_per_r *r, struct gk_per_ext *e);
long gk_per_ext_next(struct gk_per_r *r, struct gk_per_ext *e, struct gk_per_r *sub);
/* Skips the extension additions of a SEQUENCE whose extension bit was ext. */
void gk_per_skip_ext(struct gk_per_r *r, bool ext);
void gk_per_fail(struct gk_per_r *r, enum gk_reason why);

bool gk_oid_equal(const struct gk_oid *a, const struct gk_oid *b);
/* a starts with prefix; returns the arcs after it (0 when equal), -1 when not under it. */
int gk_oid_under(const struct gk_oid *a, const struct gk_oid *prefix);
/* "1.3.6.1" -> oid; -1 when malformed. */
int gk_oid_parse(const char *s, struct gk_oid *oid);

#endif
