/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GKTERM_H
#define GKTERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "gatekey/cmd_txn.h"
#include "gatekey/codec.h"
#include "gatekey/loop.h"
#include "gatekey/terminal.h"

#define GKT_REQ_MAX 1500

struct gkt_opts {
	struct sockaddr_storage server;
	struct sockaddr_storage bind;
	bool bind_set;
	const struct gk_codec *codec;
	char idsp[GK_ID_MAX + 1];
	uint32_t rate;    /* registrations started per second, 0 = window-limited */
	uint32_t window;  /* registrations in flight */
	uint32_t sockets; /* source sockets shared by the terminals */
	uint32_t expires;
	uint32_t options;             /* protected OPTIONS per terminal after registering */
	uint32_t options_interval_ms; /* pause between them */
	uint32_t refresh;             /* re-registrations per terminal after those */
	uint32_t refresh_interval_ms; /* pause before each */
	uint32_t timeout_s;           /* whole run */
	int64_t ts_offset;
	bool deregister;
	bool replay_answer;
	bool abuse; /* after registering: forged, replayed, stale and unknown datagrams */
	/* after registering: one request sealed with the terminal's own key, naming this IDc */
	char impersonate[GK_ID_MAX + 1];
	const char *keylog; /* test aid: "IDc K-hex" lines, like SSLKEYLOGFILE */
	bool quiet;
	struct gk_mech_offer offer[GK_MECH_MAX];
	uint8_t n_offer;
};

enum gkt_phase {
	PH_IDLE = 0,
	PH_REGISTERING,
	PH_REGISTERED,
	PH_OPTIONS,
	PH_PAUSED,         /* between two OPTIONS */
	PH_REFRESH_PAUSED, /* before a refresh */
	PH_REPLAY,
	PH_ABUSE,
	PH_IMPERSONATE,
	PH_POSTDEREG,
	PH_DEREGISTERING,
	PH_DONE,
	PH_FAILED,
};

struct gkt_term {
	struct gk_terminal t;
	uint8_t phase;
	uint8_t sock;
	uint8_t tries;
	bool replay_refused;
	bool abused;
	bool impersonated;
	uint32_t old_index; /* kept across deregistration for --abuse */
	uint8_t old_uplink[GK_SIPKEY_LEN];
	uint32_t cseq;
	uint32_t options_sent, options_ok;
	/* A refresh of a gk-mac binding is sealed under it until the new one stands: the index,
	 * uplink key and sequence of the binding being replaced (index 0: none). */
	uint32_t refreshes;
	bool refreshing;
	uint32_t standing_index;
	uint8_t standing_uplink[GK_SIPKEY_LEN];
	uint64_t standing_seq;
	uint64_t started_us, done_us;
	uint64_t unique;
	struct gk_timer timer;
	uint16_t req_len, answer_len;
	uint8_t req[GKT_REQ_MAX];    /* last request sent, for retransmission */
	uint8_t answer[GKT_REQ_MAX]; /* the ANSWER, for --replay-answer */
};

struct gkt_run {
	struct gkt_opts o;
	struct gk_loop *loop;
	struct gkt_term *terms;
	uint32_t n_terms;
	struct gk_idmap *by_id;
	int fds[8];
	struct sockaddr_storage local[8];
	/* MGCP, H.248: a terminal-side transaction layer per socket (it retransmits the
	 * terminals' commands, answers the network's at once); NULL for SIP */
	struct gk_cmd_txn *txn[8];
	struct gkt_sock {
		struct gkt_run *r;
		uint32_t i;
	} sk[8];
	uint32_t next_start, in_flight, finished;
	uint64_t t0_us;
	struct gk_timer pacer, deadline;
	FILE *keylog;
	struct {
		uint64_t registered, refreshed, failed, retransmits, options_ok, options_failed;
		uint64_t replay_refused, replay_accepted, deregistered, bad_downlink, stray;
		uint64_t abuse_sent, abuse_answered, abuse_expected;
		uint64_t impersonate_sent, impersonate_answered;
		uint64_t reasons[GK_R__COUNT];
	} st;
};

int gkt_run(struct gkt_run *r);

#endif
