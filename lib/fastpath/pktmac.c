// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gk-mac trailer in userspace (DESIGN §6): sealing for senders, and the verifier sbcd falls
 * back to when XDP is not attached. The decision must match bpf/ bit for bit, hence the window
 * logic is kept in gk_replay_check()/gk_replay_update() that the XDP program mirrors.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatekey/fastpath/fastpath.h"
#include "gatekey/fastpath/pktmac.h"

_Static_assert(sizeof(struct gk_trailer) == GK_TRAILER_LEN, "trailer layout");
_Static_assert(GK_TRAILER_LEN == GK_TRAILER_HDR_LEN + GK_PKT_TAG_LEN, "trailer = header + tag");
_Static_assert(GK_REPLAY_WINDOW == 64, "the window is one uint64_t bitmap");
_Static_assert(sizeof(struct gk_replay_window) == sizeof(struct gk_fp_window), "same window");

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Framing only: is there something that claims to be a version-1 trailer at the end? */
static const struct gk_trailer *trailer_of(const uint8_t *buf, size_t len)
{
	const struct gk_trailer *t;

	if (!buf || len < GK_TRAILER_LEN)
		return NULL;
	t = (const struct gk_trailer *)(buf + len - GK_TRAILER_LEN);
	if (t->magic[0] != GK_TRAILER_MAGIC0 || t->magic[1] != GK_TRAILER_MAGIC1 ||
	    t->version != GK_TRAILER_VERSION)
		return NULL;
	return t;
}

int gk_pkt_seal(const uint8_t key[GK_SIPKEY_LEN], uint32_t index, uint64_t seq, uint8_t *buf,
                size_t len, size_t cap)
{
	struct gk_trailer *t;
	int ret;

	if (!key || !buf || seq == 0)
		return -EINVAL;
	if (cap < GK_TRAILER_LEN || len > cap - GK_TRAILER_LEN)
		return -ENOSPC;
	if (len > (size_t)INT_MAX - GK_TRAILER_LEN)
		return -EMSGSIZE;
	t = (struct gk_trailer *)(buf + len);
	t->magic[0] = GK_TRAILER_MAGIC0;
	t->magic[1] = GK_TRAILER_MAGIC1;
	t->version = GK_TRAILER_VERSION;
	t->flags = 0;
	put_be32(t->index, index);
	put_be64(t->seq, seq);
	ret = gk_siphash128(key, buf, len, t, GK_TRAILER_HDR_LEN, t->tag);
	if (ret < 0)
		return ret;
	return (int)(len + GK_TRAILER_LEN);
}

/* An empty line for text readers: two line-end bytes in a row, except CR LF, which is one. */
static bool holds_empty_line(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		bool a = p[i] == '\r' || p[i] == '\n', b = p[i + 1] == '\r' || p[i + 1] == '\n';
		if (a && b && !(p[i] == '\r' && p[i + 1] == '\n'))
			return true;
	}
	return false;
}

bool gk_pkt_trailer_text_safe(const uint8_t *buf, size_t len)
{
	return len >= GK_TRAILER_LEN &&
	       !holds_empty_line(buf + len - GK_TRAILER_LEN, GK_TRAILER_LEN);
}

bool gk_pkt_index_text_safe(uint32_t index)
{
	uint8_t b[4];
	put_be32(b, index);
	return !holds_empty_line(b, sizeof(b));
}

int gk_pkt_seal_next(const uint8_t key[GK_SIPKEY_LEN], uint32_t index, uint64_t *seq, uint8_t *buf,
                     size_t len, size_t cap)
{
	for (int tries = 1;; tries++) {
		int n = gk_pkt_seal(key, index, ++*seq, buf, len, cap);
		if (n < 0 || tries == 8 || gk_pkt_trailer_text_safe(buf, (size_t)n))
			return n;
	}
}

int gk_pkt_peek_tail(const uint8_t *buf, size_t len, uint32_t *index)
{
	if (!buf || len < GK_VERIFIED_TAIL_LEN)
		return -EBADMSG;
	const uint8_t *t = buf + len - GK_VERIFIED_TAIL_LEN;
	if (t[0] != GK_TRAILER_MAGIC0 || t[1] != GK_TRAILER_MAGIC1 || t[2] != GK_TRAILER_VERSION)
		return -EBADMSG;
	*index = get_be32(t + 4);
	return 0;
}

int gk_pkt_peek(const uint8_t *buf, size_t len, uint32_t *index, uint64_t *seq)
{
	const struct gk_trailer *t = trailer_of(buf, len);

	if (!t)
		return -EBADMSG;
	if (index)
		*index = get_be32(t->index);
	if (seq)
		*seq = get_be64(t->seq);
	return 0;
}

/* The window logic itself lives in fastpath.h, shared with the XDP program. */
enum gk_reason gk_replay_check(const struct gk_replay_window *w, uint64_t seq)
{
	struct gk_fp_window fw = {w->top, w->bitmap};

	switch (gk_fp_window_check(&fw, seq)) {
	case GK_FP_PASS_GKMAC:
		return GK_R_OK;
	case GK_FP_DROP_REPLAY:
		return GK_R_REPLAY_SEQ;
	default:
		return GK_R_OLD_SEQ;
	}
}

void gk_replay_update(struct gk_replay_window *w, uint64_t seq)
{
	struct gk_fp_window fw = {w->top, w->bitmap};

	gk_fp_window_update(&fw, seq);
	w->top = fw.top;
	w->bitmap = fw.bitmap;
}

long gk_pkt_verify(const uint8_t key[GK_SIPKEY_LEN], const uint8_t *buf, size_t len, uint64_t *seq,
                   enum gk_reason *reason)
{
	const struct gk_trailer *t = trailer_of(buf, len);
	uint8_t want[GK_PKT_TAG_LEN];
	enum gk_reason why = GK_R_OK;
	size_t plen;

	if (!key) {
		why = GK_R_INTERNAL;
		goto out;
	}
	if (!t) {
		why = GK_R_BAD_TRAILER;
		goto out;
	}
	plen = len - GK_TRAILER_LEN;
	/* The window is attacker-steerable state: only an authentic trailer may reach it. The tag
	 * is computed exactly as the XDP program does (fastpath.h), compared in constant time. */
	if (plen > UINT32_MAX - GK_TRAILER_HDR_LEN) {
		why = GK_R_BAD_TRAILER;
		goto out;
	}
	gk_fp_siphash128(key, buf, (uint32_t)(plen + GK_TRAILER_HDR_LEN), want);
	if (!gk_fp_tag_equal(want, t->tag))
		why = GK_R_BAD_TAG;
	OPENSSL_cleanse(want, sizeof(want));
	if (why == GK_R_OK)
		*seq = get_be64(t->seq);
out:
	if (reason)
		*reason = why;
	return why == GK_R_OK ? (long)(len - GK_TRAILER_LEN) : -1;
}

long gk_pkt_open(const uint8_t key[GK_SIPKEY_LEN], struct gk_replay_window *w, const uint8_t *buf,
                 size_t len, enum gk_reason *reason)
{
	enum gk_reason why = GK_R_INTERNAL;
	uint64_t seq = 0;
	long n = w ? gk_pkt_verify(key, buf, len, &seq, &why) : -1;

	if (n >= 0) {
		why = gk_replay_check(w, seq);
		if (why == GK_R_OK)
			gk_replay_update(w, seq);
		else
			n = -1;
	}
	if (reason)
		*reason = why;
	return n;
}
