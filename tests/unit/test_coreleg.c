// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core leg's trailer (coreleg.h): each side accepts the other's datagrams and nothing else;
 * replays, old epochs, epochs out of bounds and forgeries are dropped under their reason and
 * leave the receiver's state alone; a newer epoch (a restarted sender) is taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/exchange/coreleg.h"
#include "gatekey/auc/keystore.h"

#define MSG  "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\r\n"
#define MLEN (sizeof(MSG) - 1)
#define T0   1800000000u

static const uint8_t leg_key[GK_CORELEG_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

struct pair {
	struct gk_coreleg sbc, ss;
};

static void pair_init(struct pair *p, uint32_t epoch)
{
	gk_coreleg_init(&p->sbc, leg_key, true);
	gk_coreleg_init(&p->ss, leg_key, false);
	gk_coreleg_start(&p->sbc, epoch);
	gk_coreleg_start(&p->ss, epoch);
}

static size_t seal(struct gk_coreleg *c, uint32_t now, uint8_t *buf)
{
	memcpy(buf, MSG, MLEN);
	int n = gk_coreleg_seal(c, now, buf, MLEN, MLEN + GK_TRAILER_LEN);
	return n < 0 ? 0 : (size_t)n;
}

static enum gk_reason open_(struct gk_coreleg *c, uint32_t now, const uint8_t *buf, size_t len)
{
	enum gk_reason why = GK_R__COUNT;
	long n = gk_coreleg_open(c, now, buf, len, &why);
	if (n >= 0 && (size_t)n != MLEN)
		return GK_R_INTERNAL;
	return why;
}

TEST(both_directions_accept)
{
	struct pair p;
	uint8_t buf[MLEN + GK_TRAILER_LEN];
	size_t n;

	pair_init(&p, T0);
	n = seal(&p.sbc, T0, buf);
	ASSERT_EQ(MLEN + GK_TRAILER_LEN, n);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0, buf, n));
	EXPECT_EQ(0, memcmp(buf, MSG, MLEN));
	n = seal(&p.ss, T0, buf);
	EXPECT_EQ(GK_R_OK, open_(&p.sbc, T0 + 1, buf, n));
	/* The direction keys differ: an SBC's own datagram reflected back does not verify. */
	n = seal(&p.sbc, T0, buf);
	EXPECT_EQ(GK_R_BAD_TAG, open_(&p.sbc, T0, buf, n));
	EXPECT_EQ(2u, p.ss.st.ok + p.sbc.st.ok);
	EXPECT_EQ(1u, p.sbc.st.why.n[GK_R_BAD_TAG]);
}

TEST(replay_and_old_sequence)
{
	struct pair p;
	uint8_t first[MLEN + GK_TRAILER_LEN], buf[MLEN + GK_TRAILER_LEN];
	size_t n1, n;

	pair_init(&p, T0);
	n1 = seal(&p.sbc, T0, first);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0, first, n1));
	EXPECT_EQ(GK_R_REPLAY_SEQ, open_(&p.ss, T0, first, n1));
	for (int i = 0; i < GK_CORELEG_WINDOW; i++) {
		n = seal(&p.sbc, T0, buf);
		ASSERT_EQ(GK_R_OK, open_(&p.ss, T0, buf, n));
	}
	EXPECT_EQ(GK_R_OLD_SEQ, open_(&p.ss, T0, first, n1));
	EXPECT_EQ(1u, p.ss.st.why.n[GK_R_REPLAY_SEQ]);
	EXPECT_EQ(1u, p.ss.st.why.n[GK_R_OLD_SEQ]);
	EXPECT_EQ(2u, p.ss.st.dropped);
}

/* One leg carries every terminal's exchange: a burst delivered out of order by up to the window
 * (1,024 sequence numbers) is taken whole, each datagram once, in any order; one further back
 * than the window is old. (The sender skips a number now and then, gk_pkt_seal_next: what is
 * within the window is read from each trailer.) */
TEST(a_burst_reordered_within_the_window_is_taken_whole)
{
	enum { MAX = GK_CORELEG_WINDOW + 64 };
	static uint8_t dg[MAX][MLEN + GK_TRAILER_LEN];
	static size_t len[MAX];
	uint64_t seq[MAX];
	struct pair p;
	int last = 0, within = 0;

	pair_init(&p, T0);
	for (; last < MAX; last++) {
		len[last] = seal(&p.sbc, T0, dg[last]);
		ASSERT_EQ(0, gk_pkt_peek(dg[last], len[last], NULL, &seq[last]));
		if (seq[last] - seq[0] >= GK_CORELEG_WINDOW)
			break;
	}
	ASSERT_LT(last, MAX);
	/* the newest first, then the rest from the newest back */
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0, dg[last], len[last]));
	for (int i = last - 1; i >= 0; i--) {
		bool in = seq[last] - seq[i] < GK_CORELEG_WINDOW;
		ASSERT_EQ(in ? GK_R_OK : GK_R_OLD_SEQ, open_(&p.ss, T0, dg[i], len[i]));
		within += in;
	}
	EXPECT_LE(GK_CORELEG_WINDOW - 32, within);
	EXPECT_EQ(GK_R_OLD_SEQ, open_(&p.ss, T0, dg[0], len[0]));
	/* every one taken, again: a replay */
	for (int i = 0; i <= last; i++)
		if (seq[last] - seq[i] < GK_CORELEG_WINDOW)
			ASSERT_EQ(GK_R_REPLAY_SEQ, open_(&p.ss, T0, dg[i], len[i]));
	EXPECT_EQ((uint64_t)within + 1, p.ss.st.ok);
	EXPECT_EQ((uint64_t)within + 1, p.ss.st.why.n[GK_R_REPLAY_SEQ]);
	/* a jump far ahead empties the window: what it leaves behind is old, and nothing of the
	 * blocks it moved onto reads as seen */
	uint8_t far[MLEN + GK_TRAILER_LEN];
	p.sbc.tx_seq += 5 * GK_CORELEG_WINDOW;
	size_t nf = seal(&p.sbc, T0, far);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0, far, nf));
	EXPECT_EQ(GK_R_OLD_SEQ, open_(&p.ss, T0, dg[last], len[last]));
	p.sbc.tx_seq -= 4;
	size_t nb = seal(&p.sbc, T0, far); /* behind the jump, never sent before */
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0, far, nb));
}

TEST(newer_epoch_resets_and_old_epoch_is_refused)
{
	struct pair p;
	uint8_t old[MLEN + GK_TRAILER_LEN], buf[MLEN + GK_TRAILER_LEN];
	size_t nold, n;

	pair_init(&p, T0);
	for (int i = 0; i < 10; i++) {
		n = seal(&p.sbc, T0, buf);
		ASSERT_EQ(GK_R_OK, open_(&p.ss, T0, buf, n));
	}
	nold = seal(&p.sbc, T0, old); /* captured, never delivered */
	/* The SBC restarts: a new epoch, its sequence from 1 again, taken at once. */
	gk_coreleg_start(&p.sbc, T0 + 5);
	n = seal(&p.sbc, T0 + 5, buf);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + 5, buf, n));
	EXPECT_EQ(T0 + 5, p.ss.rx_epoch);
	EXPECT_EQ(1u, p.ss.rx_window.top);
	/* The old run's datagram, authentic but of the old epoch, is not. */
	EXPECT_EQ(GK_R_OLD_SEQ, open_(&p.ss, T0 + 6, old, nold));
	EXPECT_EQ(T0 + 5, p.ss.rx_epoch);
	n = seal(&p.sbc, T0 + 6, buf);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + 6, buf, n));
}

TEST(epoch_bounds)
{
	struct pair p;
	uint8_t buf[MLEN + GK_TRAILER_LEN];
	size_t n;

	/* A sender whose epoch is further in the future than the skew. */
	pair_init(&p, T0 + GK_CORELEG_SKEW_S + 1);
	n = seal(&p.sbc, T0 + GK_CORELEG_SKEW_S + 1, buf);
	EXPECT_EQ(GK_R_STALE_TS, open_(&p.ss, T0, buf, n));
	EXPECT_EQ(0u, p.ss.rx_epoch);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + 1, buf, n)); /* within the skew */

	/* A restarted receiver (no epoch yet) refuses a capture older than an epoch may be. */
	pair_init(&p, T0);
	n = seal(&p.sbc, T0, buf);
	EXPECT_EQ(GK_R_STALE_TS,
	          open_(&p.ss, T0 + GK_CORELEG_EPOCH_MAX_S + GK_CORELEG_SKEW_S + 1, buf, n));
	EXPECT_EQ(0u, p.ss.rx_epoch);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + GK_CORELEG_EPOCH_MAX_S + GK_CORELEG_SKEW_S, buf, n));
}

TEST(sender_rolls_its_epoch)
{
	struct pair p;
	uint8_t buf[MLEN + GK_TRAILER_LEN];
	size_t n;

	pair_init(&p, T0);
	n = seal(&p.sbc, T0 + GK_CORELEG_EPOCH_MAX_S - 1, buf);
	EXPECT_EQ(T0, p.sbc.tx_epoch);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + GK_CORELEG_EPOCH_MAX_S - 1, buf, n));
	n = seal(&p.sbc, T0 + GK_CORELEG_EPOCH_MAX_S, buf);
	EXPECT_EQ(T0 + GK_CORELEG_EPOCH_MAX_S, p.sbc.tx_epoch);
	EXPECT_EQ(GK_R_OK, open_(&p.ss, T0 + GK_CORELEG_EPOCH_MAX_S, buf, n));
	EXPECT_EQ(T0 + GK_CORELEG_EPOCH_MAX_S, p.ss.rx_epoch);
}

TEST(forgeries)
{
	struct pair p, other;
	uint8_t buf[MLEN + GK_TRAILER_LEN];
	uint8_t wrong[GK_CORELEG_KEY_LEN] = {9};
	size_t n;

	pair_init(&p, T0);
	/* No trailer at all: the source address alone no longer counts. */
	memcpy(buf, MSG, MLEN);
	EXPECT_EQ(GK_R_BAD_TRAILER, open_(&p.ss, T0, buf, MLEN));
	/* Sealed under another leg's key. */
	gk_coreleg_init(&other.sbc, wrong, true);
	gk_coreleg_start(&other.sbc, T0);
	n = seal(&other.sbc, T0, buf);
	EXPECT_EQ(GK_R_BAD_TAG, open_(&p.ss, T0, buf, n));
	/* One payload bit flipped; and a forged newer epoch must not move the state. */
	n = seal(&p.sbc, T0, buf);
	buf[0] ^= 1;
	EXPECT_EQ(GK_R_BAD_TAG, open_(&p.ss, T0, buf, n));
	buf[0] ^= 1;
	buf[MLEN + 7] ^= 1; /* epoch */
	EXPECT_EQ(GK_R_BAD_TAG, open_(&p.ss, T0, buf, n));
	EXPECT_EQ(0u, p.ss.rx_epoch);
	EXPECT_EQ(4u, p.ss.st.dropped);
	EXPECT_EQ(1u, p.ss.st.why.n[GK_R_BAD_TRAILER]);
	EXPECT_EQ(3u, p.ss.st.why.n[GK_R_BAD_TAG]);
	EXPECT_EQ(0u, p.ss.st.ok);
	gk_coreleg_wipe(&other.sbc);
	gk_coreleg_wipe(&p.ss);
	EXPECT_EQ(0, p.ss.rx_key[0] | p.ss.tx_key[0]);
}

TEST(unstarted_sender_refuses)
{
	struct gk_coreleg c;
	uint8_t buf[MLEN + GK_TRAILER_LEN];

	gk_coreleg_init(&c, leg_key, true);
	memcpy(buf, MSG, MLEN);
	EXPECT_EQ(-EINVAL, gk_coreleg_seal(&c, T0, buf, MLEN, sizeof(buf)));
}

TEST(key_file)
{
	char dir[] = "/tmp/gk-coreleg-XXXXXX", path[128], err[256];
	uint8_t key[GK_CORELEG_KEY_LEN], back[GK_CORELEG_KEY_LEN];

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sbc1.core", dir);
	memset(key, 0x5a, sizeof(key));
	ASSERT_EQ(0, gk_provision_write(path, "sbc1", key));
	EXPECT_EQ(0, gk_coreleg_key_read(path, "sbc1", back, err, sizeof(err)));
	EXPECT_EQ(0, memcmp(key, back, sizeof(key)));
	/* Another SBC's key file. */
	EXPECT_EQ(-1, gk_coreleg_key_read(path, "sbc2", back, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not of \"sbc2\""));
	/* Readable by others. */
	chmod(path, 0644);
	EXPECT_EQ(-1, gk_coreleg_key_read(path, "sbc1", back, err, sizeof(err)));
	unlink(path);
	/* Missing. */
	EXPECT_EQ(-1, gk_coreleg_key_read(path, "sbc1", back, err, sizeof(err)));
	rmdir(dir);
}

TEST(fresh_epoch_is_after_now)
{
	uint32_t before = gk_coreleg_now();
	uint32_t e = gk_coreleg_fresh_epoch();
	EXPECT_LT(before, e);
	EXPECT_LE(e, gk_coreleg_now());
}

TEST_HARNESS_MAIN
