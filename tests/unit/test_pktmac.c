// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gk-mac trailer: layout and tag pinned by a known answer, every forgery refused for the
 * right reason, and the replay window only ever moved by authentic datagrams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harness's TEST() wrappers and timeout handler have parameters they do not use. */
#include "kselftest_harness.h"

#include "gatekey/fastpath/pktmac.h"
#include "helper_hex.h"
#include "helper_siphash.h"

#define PAYLOAD "OPTIONS sip:sbc1 SIP/2.0\r\n\r\n"
#define PLEN    (sizeof(PAYLOAD) - 1)

/* Writes a trailer with the reference SipHash, bypassing gk_pkt_seal() and its checks. */
static size_t forge(const uint8_t key[16], uint8_t *buf, size_t plen, uint32_t index, uint64_t seq)
{
	uint8_t *t = buf + plen;

	t[0] = 'G';
	t[1] = 'K';
	t[2] = 1;
	t[3] = 0;
	for (int i = 0; i < 4; i++)
		t[4 + i] = (uint8_t)(index >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		t[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
	ref_siphash24_128(key, buf, plen + 16, t + 16);
	return plen + GK_TRAILER_LEN;
}

/*
 * key = first 16 bytes of HKDF(000102..1f, "uplink") (see test_crypto.c), index 7, seq 42:
 *   printf 'OPTIONS sip:sbc1 SIP/2.0\r\n\r\n' > p.bin
 *   (cat p.bin; echo 474b010000000007000000000000002a | xxd -r -p) > pt.bin
 *   openssl mac -macopt hexkey:a1ca41a8ffa2a996acd6c30a10ab94de -macopt size:16 -in pt.bin \
 *	-binary SIPHASH | xxd -p
 */
TEST(seal_known_answer)
{
	uint8_t key[16], buf[PLEN + GK_TRAILER_LEN], want[GK_TRAILER_LEN];
	uint32_t index = 0;
	uint64_t seq = 0;

	unhex("a1ca41a8ffa2a996acd6c30a10ab94de", key, sizeof(key));
	unhex("474b010000000007000000000000002a"
	      "086995234f9cdb2bdd271e940b74bf4a",
	      want, sizeof(want));
	memcpy(buf, PAYLOAD, PLEN);
	ASSERT_EQ((int)sizeof(buf), gk_pkt_seal(key, 7, 42, buf, PLEN, sizeof(buf)));
	EXPECT_EQ(0, memcmp(PAYLOAD, buf, PLEN));
	EXPECT_EQ(0, memcmp(want, buf + PLEN, sizeof(want)));
	ASSERT_EQ(0, gk_pkt_peek(buf, sizeof(buf), &index, &seq));
	EXPECT_EQ(7u, index);
	EXPECT_EQ(UINT64_C(42), seq);
}

TEST(seal_arguments)
{
	uint8_t key[16] = {1}, buf[64];

	EXPECT_EQ(-EINVAL, gk_pkt_seal(key, 1, 0, buf, 8, sizeof(buf)));
	EXPECT_EQ(-ENOSPC, gk_pkt_seal(key, 1, 1, buf, 33, sizeof(buf)));
	EXPECT_EQ(-ENOSPC, gk_pkt_seal(key, 1, 1, buf, 0, GK_TRAILER_LEN - 1));
	EXPECT_EQ(GK_TRAILER_LEN, gk_pkt_seal(key, 1, 1, buf, 0, GK_TRAILER_LEN));
	EXPECT_EQ(64, gk_pkt_seal(key, 1, 1, buf, 32, sizeof(buf)));
}

TEST(seal_matches_reference_siphash)
{
	static uint8_t buf[1500 + GK_TRAILER_LEN], ref[1500 + GK_TRAILER_LEN];
	uint8_t key[16];
	uint32_t index;
	uint64_t seq;

	for (size_t len = 0; len <= 1500; len += 7) {
		ASSERT_EQ(0, gk_random(key, sizeof(key)));
		ASSERT_EQ(0, gk_random(buf, len));
		ASSERT_EQ(0, gk_random(&index, sizeof(index)));
		ASSERT_EQ(0, gk_random(&seq, sizeof(seq)));
		seq |= 1;
		memcpy(ref, buf, len);
		ASSERT_EQ((int)(len + GK_TRAILER_LEN),
		          gk_pkt_seal(key, index, seq, buf, len, sizeof(buf)));
		forge(key, ref, len, index, seq);
		ASSERT_EQ(0, memcmp(ref, buf, len + GK_TRAILER_LEN)) TH_LOG("length %zu", len);
	}
}

FIXTURE(pkt)
{
	uint8_t key[16];
	struct gk_replay_window w;
	uint8_t buf[256];
	size_t n;
};

FIXTURE_SETUP(pkt)
{
	ASSERT_EQ(0, gk_random(self->key, sizeof(self->key)));
	memset(&self->w, 0, sizeof(self->w));
	memcpy(self->buf, PAYLOAD, PLEN);
}

FIXTURE_TEARDOWN(pkt)
{
}

static size_t seal(FIXTURE_DATA(pkt) * self, uint64_t seq)
{
	memcpy(self->buf, PAYLOAD, PLEN);
	int n = gk_pkt_seal(self->key, 7, seq, self->buf, PLEN, sizeof(self->buf));
	return n < 0 ? 0 : (size_t)n;
}

/* gk_pkt_open() result for buf[0..n), and whether the window stayed as it was. */
static long open_(FIXTURE_DATA(pkt) * self, size_t n, enum gk_reason *why, bool *unchanged)
{
	struct gk_replay_window before = self->w;
	long ret = gk_pkt_open(self->key, &self->w, self->buf, n, why);

	*unchanged = memcmp(&before, &self->w, sizeof(before)) == 0;
	return ret;
}

#define EXPECT_OPENS(n)                                                                            \
	do {                                                                                       \
		enum gk_reason why_ = GK_R__COUNT;                                                 \
		bool same_;                                                                        \
		EXPECT_EQ((long)PLEN, open_(self, (n), &why_, &same_));                            \
		EXPECT_EQ((int)GK_R_OK, (int)why_);                                                \
	} while (0)

#define EXPECT_DROPPED(n, reason)                                                                  \
	do {                                                                                       \
		enum gk_reason why_ = GK_R_OK;                                                     \
		bool same_ = false;                                                                \
		EXPECT_EQ(-1, open_(self, (n), &why_, &same_));                                    \
		EXPECT_EQ((int)(reason), (int)why_);                                               \
		EXPECT_TRUE(same_);                                                                \
	} while (0)

TEST_F(pkt, round_trip)
{
	size_t n = seal(self, 1);

	ASSERT_EQ(PLEN + GK_TRAILER_LEN, n);
	EXPECT_OPENS(n);
	EXPECT_EQ(0, memcmp(PAYLOAD, self->buf, PLEN));
	EXPECT_EQ(UINT64_C(1), self->w.top);
	EXPECT_EQ(UINT64_C(1), self->w.bitmap);
	/* An empty payload is sealed and opened too. */
	ASSERT_EQ(GK_TRAILER_LEN, gk_pkt_seal(self->key, 7, 2, self->buf, 0, sizeof(self->buf)));
	EXPECT_EQ(0, gk_pkt_open(self->key, &self->w, self->buf, GK_TRAILER_LEN, NULL));
}

TEST_F(pkt, every_single_bit_flip_is_refused)
{
	size_t n = seal(self, 5);

	ASSERT_NE(0u, n);
	for (size_t bit = 0; bit < n * 8; bit++) {
		size_t byte = bit / 8;
		/* Magic and version are framing, checked before the tag; all else is under it. */
		bool framing = byte >= PLEN && byte < PLEN + 3;
		enum gk_reason want = framing ? GK_R_BAD_TRAILER : GK_R_BAD_TAG;

		enum gk_reason why = GK_R_OK;
		bool same = false;

		self->buf[byte] ^= (uint8_t)(1u << (bit % 8));
		EXPECT_EQ(-1, open_(self, n, &why, &same)) TH_LOG("bit %zu", bit);
		EXPECT_EQ((int)want, (int)why) TH_LOG("bit %zu", bit);
		EXPECT_TRUE(same);
		self->buf[byte] ^= (uint8_t)(1u << (bit % 8));
	}
	EXPECT_EQ(UINT64_C(0), self->w.top);
	EXPECT_OPENS(n);
}

TEST_F(pkt, wrong_key_is_refused)
{
	size_t n = seal(self, 5);

	self->key[15] ^= 0x80;
	EXPECT_DROPPED(n, GK_R_BAD_TAG);
}

TEST_F(pkt, replay_is_refused)
{
	size_t n = seal(self, 9);

	EXPECT_OPENS(n);
	EXPECT_DROPPED(n, GK_R_REPLAY_SEQ);
	EXPECT_DROPPED(n, GK_R_REPLAY_SEQ);
}

/* A forged trailer must not reach the window: not even to be reported as a replay. */
TEST_F(pkt, tag_is_checked_before_the_window)
{
	size_t n = seal(self, 9);

	EXPECT_OPENS(n);
	self->buf[n - 1] ^= 1;
	EXPECT_DROPPED(n, GK_R_BAD_TAG);
	/* A forged far-future sequence does not push genuine ones out of the window. */
	n = seal(self, 1000000);
	self->buf[0] ^= 1;
	EXPECT_DROPPED(n, GK_R_BAD_TAG);
	EXPECT_EQ(UINT64_C(9), self->w.top);
	EXPECT_OPENS(seal(self, 8));
}

TEST_F(pkt, out_of_order_within_window_accepted_once)
{
	uint64_t order[GK_REPLAY_WINDOW - 1];

	EXPECT_OPENS(seal(self, 100));
	/* 37..99 with 100 make the 64 slots of the window, opened in a shuffled order. */
	for (int i = 0; i < GK_REPLAY_WINDOW - 1; i++)
		order[i] = 37 + (uint64_t)i;
	for (int i = GK_REPLAY_WINDOW - 2; i > 0; i--) {
		uint32_t r;
		ASSERT_EQ(0, gk_random(&r, sizeof(r)));
		int j = (int)(r % (uint32_t)(i + 1));
		uint64_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < GK_REPLAY_WINDOW - 1; i++) {
		EXPECT_OPENS(seal(self, order[i]));
		EXPECT_DROPPED(seal(self, order[i]), GK_R_REPLAY_SEQ);
	}
	EXPECT_EQ(UINT64_C(100), self->w.top);
	EXPECT_EQ(UINT64_MAX, self->w.bitmap);
	EXPECT_DROPPED(seal(self, 36), GK_R_OLD_SEQ);
	EXPECT_DROPPED(seal(self, 1), GK_R_OLD_SEQ);
}

TEST_F(pkt, beyond_window_is_refused)
{
	EXPECT_OPENS(seal(self, 10));
	EXPECT_OPENS(seal(self, 200));
	/* Window is now [137, 200]. */
	EXPECT_DROPPED(seal(self, 136), GK_R_OLD_SEQ);
	EXPECT_DROPPED(seal(self, 10), GK_R_OLD_SEQ);
	EXPECT_OPENS(seal(self, 137));
	EXPECT_OPENS(seal(self, 199));
	/* A jump of exactly 64 leaves only the new top in the window. */
	EXPECT_OPENS(seal(self, 264));
	EXPECT_EQ(UINT64_C(1), self->w.bitmap);
	EXPECT_DROPPED(seal(self, 200), GK_R_OLD_SEQ);
	EXPECT_OPENS(seal(self, 201));
	/* A jump of 63 keeps the old top as the oldest slot. */
	EXPECT_OPENS(seal(self, 327));
	EXPECT_DROPPED(seal(self, 264), GK_R_REPLAY_SEQ);
	EXPECT_DROPPED(seal(self, 263), GK_R_OLD_SEQ);
	EXPECT_OPENS(seal(self, UINT64_MAX));
	EXPECT_DROPPED(seal(self, UINT64_MAX), GK_R_REPLAY_SEQ);
}

/* seal() refuses seq 0, so an authentic one is forged with the key: still never valid. */
TEST_F(pkt, sequence_zero_is_never_valid)
{
	size_t n = forge(self->key, self->buf, PLEN, 7, 0);

	EXPECT_DROPPED(n, GK_R_OLD_SEQ);
	EXPECT_OPENS(seal(self, 3));
	n = forge(self->key, self->buf, PLEN, 7, 0);
	EXPECT_DROPPED(n, GK_R_OLD_SEQ);
}

TEST_F(pkt, truncated_input_is_refused)
{
	size_t n = seal(self, 4);

	/* PAYLOAD holds no "GK\x01", so no cut can make its tail look like a trailer. */
	for (size_t len = 0; len < n; len++) {
		enum gk_reason why = GK_R_OK;
		bool same = false;
		EXPECT_EQ(-1, open_(self, len, &why, &same)) TH_LOG("length %zu", len);
		EXPECT_EQ((int)GK_R_BAD_TRAILER, (int)why) TH_LOG("length %zu", len);
		EXPECT_TRUE(same);
		EXPECT_GT(0, gk_pkt_peek(self->buf, len, NULL, NULL)) TH_LOG("length %zu", len);
	}
	EXPECT_EQ(-1, gk_pkt_open(self->key, &self->w, NULL, 0, NULL));
	/* Payload cut short with the trailer intact: well framed, but not what was sealed. */
	memmove(self->buf + PLEN - 1, self->buf + PLEN, GK_TRAILER_LEN);
	EXPECT_DROPPED(n - 1, GK_R_BAD_TAG);
	EXPECT_OPENS(seal(self, 4));
}

TEST(peek_checks_framing_only)
{
	uint8_t key[16] = {0}, buf[64] = "x";
	uint32_t index = 0;
	uint64_t seq = 0;
	int n = gk_pkt_seal(key, 0xdeadbeef, UINT64_C(0x0102030405060708), buf, 1, sizeof(buf));

	ASSERT_EQ(33, n);
	buf[n - 1] ^= 1; /* a bad tag does not matter to peek */
	ASSERT_EQ(0, gk_pkt_peek(buf, (size_t)n, &index, &seq));
	EXPECT_EQ(0xdeadbeefu, index);
	EXPECT_EQ(UINT64_C(0x0102030405060708), seq);
	buf[1 + 2] = 2; /* version */
	EXPECT_GT(0, gk_pkt_peek(buf, (size_t)n, &index, &seq));
	buf[1 + 2] = 1;
	buf[1] = 'g';
	EXPECT_GT(0, gk_pkt_peek(buf, (size_t)n, &index, &seq));
	EXPECT_GT(0, gk_pkt_peek(NULL, 0, &index, &seq));
}

TEST(replay_check_edges)
{
	struct gk_replay_window w = {0};

	EXPECT_EQ((int)GK_R_OLD_SEQ, (int)gk_replay_check(&w, 0));
	EXPECT_EQ((int)GK_R_OK, (int)gk_replay_check(&w, 1));
	EXPECT_EQ((int)GK_R_OK, (int)gk_replay_check(&w, UINT64_MAX));
	gk_replay_update(&w, 1);
	EXPECT_EQ((int)GK_R_REPLAY_SEQ, (int)gk_replay_check(&w, 1));
	EXPECT_EQ((int)GK_R_OLD_SEQ, (int)gk_replay_check(&w, 0));
	/* Below 64 the window reaches down to 1 without wrapping around zero. */
	gk_replay_update(&w, 63);
	EXPECT_EQ((int)GK_R_OK, (int)gk_replay_check(&w, 2));
	EXPECT_EQ((int)GK_R_REPLAY_SEQ, (int)gk_replay_check(&w, 1));
	gk_replay_update(&w, 64);
	EXPECT_EQ((int)GK_R_REPLAY_SEQ, (int)gk_replay_check(&w, 1));
	gk_replay_update(&w, 65);
	EXPECT_EQ((int)GK_R_OLD_SEQ, (int)gk_replay_check(&w, 1));
	EXPECT_EQ((int)GK_R_OK, (int)gk_replay_check(&w, 2));
	gk_replay_update(&w, UINT64_MAX);
	EXPECT_EQ(UINT64_MAX, w.top);
	EXPECT_EQ(UINT64_C(1), w.bitmap);
	EXPECT_EQ((int)GK_R_OK, (int)gk_replay_check(&w, UINT64_MAX - 63));
	EXPECT_EQ((int)GK_R_OLD_SEQ, (int)gk_replay_check(&w, UINT64_MAX - 64));
}

/* Two line ends in a row other than CR LF: what a text reader takes for an empty line. */
static bool empty_line_in(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if ((p[i] == '\r' || p[i] == '\n') && (p[i + 1] == '\r' || p[i + 1] == '\n') &&
		    !(p[i] == '\r' && p[i + 1] == '\n'))
			return true;
	return false;
}

/* A protected MGCP or SIP datagram must not hold an empty line in its trailer, or tshark (and any
 * text reader) takes the rest for SDP: the sealer skips such sequence numbers, and only those. */
TEST(seal_next_skips_trailers_with_an_empty_line)
{
	const uint8_t key[GK_SIPKEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const char msg[] = "NTFY 12 alice@ss1 MGCP 1.0\r\nX: 0\r\nO: gk/ka\r\n";
	uint8_t buf[256], ref[256];
	uint64_t seq = 0, skipped = 0;

	for (int i = 0; i < 20000; i++) {
		uint64_t before = seq;
		memcpy(buf, msg, sizeof(msg) - 1);
		int n = gk_pkt_seal_next(key, 7, &seq, buf, sizeof(msg) - 1, sizeof(buf));
		ASSERT_EQ((int)(sizeof(msg) - 1 + GK_TRAILER_LEN), n);
		ASSERT_LT(before, seq);
		EXPECT_FALSE(empty_line_in(buf, (size_t)n))
		TH_LOG("seq %llu", (unsigned long long)seq);
		EXPECT_TRUE(gk_pkt_trailer_text_safe(buf, (size_t)n));
		/* every number passed over would have held one */
		for (uint64_t q = before + 1; q < seq; q++) {
			memcpy(ref, msg, sizeof(msg) - 1);
			ASSERT_LT(0, gk_pkt_seal(key, 7, q, ref, sizeof(msg) - 1, sizeof(ref)));
			EXPECT_TRUE(empty_line_in(ref + sizeof(msg) - 1, GK_TRAILER_LEN));
			skipped++;
		}
	}
	/* about 1 in 700: the test did see the skipping */
	EXPECT_LT(5u, skipped);
	EXPECT_GT(100u, skipped);
}

TEST(indices_that_hold_an_empty_line)
{
	EXPECT_FALSE(gk_pkt_index_text_safe(0x0a0a)); /* 2570 */
	EXPECT_FALSE(gk_pkt_index_text_safe(0x0a0d));
	EXPECT_FALSE(gk_pkt_index_text_safe(0x0d0d));
	EXPECT_FALSE(gk_pkt_index_text_safe(0x0a0a00));
	EXPECT_TRUE(gk_pkt_index_text_safe(0x0d0a)); /* CR LF is one line end */
	EXPECT_TRUE(gk_pkt_index_text_safe(0x0a0b));
	EXPECT_TRUE(gk_pkt_index_text_safe(1));
	unsigned unsafe = 0;
	for (uint32_t i = 1; i <= 65536; i++)
		unsafe += !gk_pkt_index_text_safe(i);
	EXPECT_EQ(3u, unsafe);
}

TEST_HARNESS_MAIN
