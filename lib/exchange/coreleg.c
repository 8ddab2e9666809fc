// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core leg's trailer (coreleg.h): the gk-mac trailer of the terminal leg, with the sender's
 * epoch in the index field, so that the SBC and the softswitch authenticate each other's every
 * datagram instead of trusting a source address, and a restart on either side neither makes the
 * sequence go backwards nor lets an old capture in.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gatekey/exchange/coreleg.h"
#include "gatekey/auc/keystore.h"

int gk_coreleg_init(struct gk_coreleg *c, const uint8_t leg_key[GK_CORELEG_KEY_LEN], bool sbc)
{
	struct gk_pkt_keys k;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = gk_pkt_keys_derive(leg_key, &k);
	if (ret < 0)
		return ret;
	memcpy(c->tx_key, sbc ? k.uplink : k.downlink, GK_SIPKEY_LEN);
	memcpy(c->rx_key, sbc ? k.downlink : k.uplink, GK_SIPKEY_LEN);
	gk_wipe(&k, sizeof(k));
	return 0;
}

void gk_coreleg_start(struct gk_coreleg *c, uint32_t now_s)
{
	c->tx_epoch = now_s ? now_s : 1;
	c->tx_seq = 0;
}

uint32_t gk_coreleg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)ts.tv_sec;
}

uint32_t gk_coreleg_fresh_epoch(void)
{
	/* An earlier run chose its epoch no later than its own start, so at or before the second
	 * this one starts in; the next second is one it cannot have used. At most a second, once.
	 */
	uint32_t start = gk_coreleg_now(), now;
	while ((now = gk_coreleg_now()) == start) {
		struct timespec ts, nap = {0, 0};
		clock_gettime(CLOCK_REALTIME, &ts);
		nap.tv_nsec = 1000000000L - ts.tv_nsec;
		nanosleep(&nap, NULL);
	}
	return now;
}

int gk_coreleg_seal(struct gk_coreleg *c, uint32_t now_s, uint8_t *buf, size_t len, size_t cap)
{
	if (!c->tx_epoch)
		return -EINVAL;
	/* An epoch lasts at most GK_CORELEG_EPOCH_MAX_S, which is what lets a receiver refuse older
	 * ones even when it has just started and remembers none. */
	if (now_s > c->tx_epoch && now_s - c->tx_epoch >= GK_CORELEG_EPOCH_MAX_S)
		gk_coreleg_start(c, now_s);
	return gk_pkt_seal_next(c->tx_key, c->tx_epoch, &c->tx_seq, buf, len, cap);
}

#define WINDOW_BLOCKS (GK_CORELEG_WINDOW / 64 + 1)

static enum gk_reason window_check(const struct gk_coreleg_window *w, uint64_t seq)
{
	if (seq == 0)
		return GK_R_OLD_SEQ; /* 0 is "none yet" in top, never a sequence number */
	if (seq > w->top)
		return GK_R_OK;
	if (w->top - seq >= GK_CORELEG_WINDOW)
		return GK_R_OLD_SEQ;
	if (w->blocks[(seq >> 6) % WINDOW_BLOCKS] & (1ull << (seq & 63)))
		return GK_R_REPLAY_SEQ;
	return GK_R_OK;
}

/* For a seq window_check accepted. */
static void window_update(struct gk_coreleg_window *w, uint64_t seq)
{
	if (seq > w->top) {
		uint64_t from = w->top >> 6, to = seq >> 6;
		uint64_t n = to - from > WINDOW_BLOCKS ? WINDOW_BLOCKS : to - from;

		/* the blocks the window moves onto start empty */
		for (uint64_t i = 1; i <= n; i++)
			w->blocks[(from + i) % WINDOW_BLOCKS] = 0;
		w->top = seq;
	}
	w->blocks[(seq >> 6) % WINDOW_BLOCKS] |= 1ull << (seq & 63);
}

long gk_coreleg_open(struct gk_coreleg *c, uint32_t now_s, const uint8_t *buf, size_t len,
                     enum gk_reason *reason)
{
	static const struct gk_coreleg_window empty;
	enum gk_reason why;
	uint32_t epoch = 0;
	uint64_t seq = 0;
	long n;

	if (gk_pkt_peek(buf, len, &epoch, NULL) < 0) {
		why = GK_R_BAD_TRAILER;
		goto drop;
	}
	/* Nothing an attacker sends moves the state unless it is authentic and within bounds: every
	 * check comes first. A newer epoch starts from an empty window. */
	bool same_epoch = c->rx_epoch && epoch == c->rx_epoch;
	n = gk_pkt_verify(c->rx_key, buf, len, &seq, &why);
	if (n < 0)
		goto drop;
	if (epoch > now_s + (uint64_t)GK_CORELEG_SKEW_S ||
	    (uint64_t)epoch + GK_CORELEG_EPOCH_MAX_S + GK_CORELEG_SKEW_S < now_s) {
		why = GK_R_STALE_TS; /* no sender of ours has this epoch now */
		goto drop;
	}
	if (epoch < c->rx_epoch) {
		why = GK_R_OLD_SEQ; /* the sender has moved on to a newer epoch */
		goto drop;
	}
	why = window_check(same_epoch ? &c->rx_window : &empty, seq);
	if (why != GK_R_OK)
		goto drop;
	if (!same_epoch)
		memset(&c->rx_window, 0, sizeof(c->rx_window));
	c->rx_epoch = epoch;
	window_update(&c->rx_window, seq);
	c->st.ok++;
	if (reason)
		*reason = GK_R_OK;
	return n;
drop:
	c->st.dropped++;
	c->st.why.n[why]++;
	if (reason)
		*reason = why;
	return -1;
}

void gk_coreleg_wipe(struct gk_coreleg *c)
{
	gk_wipe(c, sizeof(*c));
}

int gk_coreleg_key_read(const char *path, const char *sbc_id, uint8_t key[GK_CORELEG_KEY_LEN],
                        char *err, size_t errlen)
{
	char id[GK_ID_MAX + 1], e[256];

	if (gk_provision_read(path, id, key, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	if (strcmp(id, sbc_id) != 0) {
		/* A key file for another SBC: using it would pair this leg with the wrong peer. */
		snprintf(err, errlen, "%s is the core-leg key of \"%s\", not of \"%s\"", path, id,
		         sbc_id);
		gk_wipe(key, GK_CORELEG_KEY_LEN);
		return -1;
	}
	return 0;
}
