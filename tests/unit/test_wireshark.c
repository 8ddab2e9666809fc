// SPDX-License-Identifier: GPL-2.0-only
/*
 * contrib/wireshark/gatekey.lua, the tshark dissector for the gk-mac trailer, over datagrams of
 * all four protocols from the seed corpora, sealed by the library (terminal trailers and core-leg
 * trailers) and bare: sealed ones show the trailer's index, sequence number and tag and dissect
 * as their protocol without a malformed packet or an error (without the script, the H.248 ones
 * and the MGCP one with SDP do not); bare ones dissect exactly as without the script; only a
 * trailer is taken for one; the ports are preferences. tshark reads pcap files written here: no
 * capture, no namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_tool.h"

#include "gatekey/exchange/coreleg.h"
#include "gatekey/fastpath/pktmac.h"

#include "helper_frame.h"

/* What the tests run: the repository's script, in a tshark that loads no personal plugins or
 * preferences (HOME is the test's directory), so that a copy installed there is not what runs. */
#define TSHARK      "env -u XDG_CONFIG_HOME HOME=%s tshark -n -X lua_script:%s -r %s"
#define TSHARK_BARE "env -u XDG_CONFIG_HOME HOME=%s tshark -n -r %s"
#define PROBLEMS    "(_ws.malformed || _ws.expert.severity >= \"Error\")"

enum leg { TERMINAL, CORE_UP, CORE_DOWN };

static const struct sample {
	const char *file;  /* under tests/corpus/ */
	const char *proto; /* tshark's name for the message's protocol */
	uint16_t sport, dport;
	int up; /* from the terminal (or the SBC) to the network */
	int v6;
	enum leg leg;
} samples[] = {
    {"sip/01-gk-register.register.sip", "sip", 5062, 5060, 1, 0, TERMINAL},
    {"sip/02-gk-challenge.challenge.sip", "sip", 5060, 5062, 0, 1, TERMINAL},
    {"sip/04-gk-success.success.sip", "sip", 5060, 5062, 0, 0, TERMINAL},
    {"sip/30-gk-core-register.register.sip", "sip", 40000, 5060, 1, 0, CORE_UP},
    {"sip/33-gk-core-success.success.sip", "sip", 5060, 40000, 0, 0, CORE_DOWN},
    {"mgcp/01-gk-register.register.mgcp", "mgcp", 2427, 2727, 1, 0, TERMINAL},
    {"mgcp/02-gk-challenge.challenge.mgcp", "mgcp", 2727, 2427, 0, 1, TERMINAL},
    {"mgcp/04-gk-success.success.mgcp", "mgcp", 2727, 2427, 0, 0, TERMINAL},
    /* a body: the trailer must not be read as more SDP */
    {"mgcp/22-rfc3435-crcx-sdp.other.mgcp", "mgcp", 2727, 2427, 0, 0, TERMINAL},
    {"h248/01-gk-register.register.h248", "megaco", 2944, 2944, 1, 0, TERMINAL},
    {"h248/02-gk-challenge.challenge.h248", "megaco", 2944, 2944, 0, 1, TERMINAL},
    {"h248/04-gk-success.success.h248", "megaco", 2944, 2944, 0, 0, TERMINAL},
    {"h248/06-gk-keepalive.other.h248", "megaco", 2945, 2945, 1, 0, TERMINAL},
    {"ras/01-grq-register.per", "h225", 40001, 1719, 1, 0, TERMINAL},
    {"ras/02-grj-challenge.per", "h225", 1719, 40001, 0, 1, TERMINAL},
    {"ras/03-rrq-answer.per", "h225", 40001, 1719, 1, 0, TERMINAL},
    {"ras/05-rcf-success.per", "h225", 1719, 40001, 0, 0, TERMINAL},
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))
static const char *const protos[] = {"sip", "mgcp", "megaco", "h225"};

#define EPOCH_UP   1700000000u /* Nov 14, 2023 22:13:20 UTC */
#define EPOCH_DOWN 1700000123u

/* The repository's root, from where this file was compiled ("" when relative). */
static void pcap_open(FILE *f)
{
	pcap_begin(f);
}

static void pcap_put(FILE *f, unsigned i, const struct sample *s, const uint8_t *p, size_t n)
{
	struct frame_spec fs = {.v6 = s->v6, .sport = s->sport, .dport = s->dport};
	static uint8_t fr[4096];
	bool up = s->up;

	/* terminal (or SBC) 198.18.1.2 / 2001:db8::2, network 198.18.0.1 / 2001:db8::1 */
	if (s->v6) {
		inet_pton(AF_INET6, up ? "2001:db8::2" : "2001:db8::1", fs.src);
		inet_pton(AF_INET6, up ? "2001:db8::1" : "2001:db8::2", fs.dst);
	} else {
		inet_pton(AF_INET, up ? "198.18.1.2" : "198.18.0.1", fs.src);
		inet_pton(AF_INET, up ? "198.18.0.1" : "198.18.1.2", fs.dst);
	}
	size_t len = frame_build(&fs, p, n, fr, sizeof(fr));
	pcap_record(f, 1700000000u + i, fr, len);
}

static int count(const char *cmd)
{
	char out[64];
	if (tool_output(cmd, out, sizeof(out)) != 0)
		return -1;
	return atoi(out);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* What a sealed frame's trailer must show. */
struct expect {
	uint32_t index;
	uint64_t seq;
	char tag[33];
};

FIXTURE(pcaps)
{
	char dir[64], lua[PATH_MAX];
	char bare[128], sealed[128], edge[128];
	struct expect want[N_SAMPLES];
};

/*
 * bare.pcap: the samples as they are; sealed.pcap: the same in the same order, each sealed as
 * its sender seals it (gk_pkt_seal_next under a terminal's key and index, or gk_coreleg_seal
 * under the leg key and the sender's epoch); edge.pcap: what must not be taken for a trailer,
 * and trailers that are one but odd.
 */
FIXTURE_SETUP(pcaps)
{
	uint8_t key[GK_SIPKEY_LEN], leg_key[GK_CORELEG_KEY_LEN], m[2048], w[2048];
	struct gk_coreleg sbc, ss;

	/* make deps installs tshark: without it this is a broken setup, not a skip */
	ASSERT_EQ(0, system("command -v tshark >/dev/null 2>&1")) TH_LOG("tshark not installed");
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < sizeof(leg_key); i++)
		leg_key[i] = (uint8_t)(0x80 + i);
	ASSERT_EQ(0, gk_coreleg_init(&sbc, leg_key, true));
	ASSERT_EQ(0, gk_coreleg_init(&ss, leg_key, false));
	gk_coreleg_start(&sbc, EPOCH_UP);
	gk_coreleg_start(&ss, EPOCH_DOWN);

	snprintf(self->dir, sizeof(self->dir), "/tmp/gk-wireshark-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	char rel[PATH_MAX];
	repo_path(rel, sizeof(rel), "contrib/wireshark/gatekey.lua");
	ASSERT_NE(NULL, realpath(rel, self->lua)) TH_LOG("%s: %s", rel, strerror(errno));
	snprintf(self->bare, sizeof(self->bare), "%s/bare.pcap", self->dir);
	snprintf(self->sealed, sizeof(self->sealed), "%s/sealed.pcap", self->dir);
	snprintf(self->edge, sizeof(self->edge), "%s/edge.pcap", self->dir);
	FILE *bare = fopen(self->bare, "wb"), *sealed = fopen(self->sealed, "wb");
	ASSERT_NE(NULL, bare);
	ASSERT_NE(NULL, sealed);
	pcap_open(bare);
	pcap_open(sealed);
	for (unsigned i = 0; i < N_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		char path[256];
		snprintf(path, sizeof(path), "tests/corpus/%s", s->file);
		size_t n = read_repo_file(path, m, sizeof(m) - GK_TRAILER_LEN);
		ASSERT_LT(0, n) TH_LOG("%s", path);
		pcap_put(bare, i, s, m, n);

		memcpy(w, m, n);
		struct expect *e = &self->want[i];
		int sn;
		if (s->leg == TERMINAL) {
			e->index = 100 + i; /* no line ends in its bytes (gk_pkt_index_text_safe) */
			e->seq = 1000 * (i + 1);
			sn = gk_pkt_seal_next(key, e->index, &e->seq, w, n, sizeof(w));
		} else {
			struct gk_coreleg *c = s->leg == CORE_UP ? &sbc : &ss;
			e->index = c->tx_epoch;
			sn = gk_coreleg_seal(c, c->tx_epoch, w, n, sizeof(w));
			e->seq = c->tx_seq;
		}
		ASSERT_EQ((int)(n + GK_TRAILER_LEN), sn);
		/* a real trailer: the receiver's own check opens it */
		struct gk_replay_window rw = {0, 0};
		enum gk_reason why;
		const uint8_t *rx = s->leg == CORE_UP     ? ss.rx_key
		                    : s->leg == CORE_DOWN ? sbc.rx_key
		                                          : key;
		ASSERT_EQ((long)n, gk_pkt_open(rx, &rw, w, (size_t)sn, &why));
		hex(e->tag, w + sn - 16, 16);
		pcap_put(sealed, i, s, w, (size_t)sn);
	}
	fclose(bare);
	fclose(sealed);

	/* edge.pcap, one frame each:
	 *  1 SIP with 32 bytes like a trailer but version 2   not a trailer
	 *  2 RAS sealed, then one more byte                    not a trailer (not at the end)
	 *  3 MGCP with "gk" for the magic                      not a trailer
	 *  4 a datagram of 20 bytes starting "GK" 01 on 5060   not a trailer (too short)
	 *  5 MGCP sealed, sequence number set to 0             a trailer, with a warning
	 *  6 MGCP sealed, flags 0x80                           a trailer (flags are reserved)
	 *  7 MGCP sealed, from 40002 to 2437                   not a gatekey port by default
	 *  8 MGCP sealed, from 40000 to 2727                   a trailer (2727 is MGCP's)
	 *  9 RAS that is no PER RasMessage                     malformed, as without the script
	 * 10 the same sealed                                   malformed, and a trailer
	 * 11 a trailer alone on 5060                           a trailer, with a warning
	 */
	FILE *edge = fopen(self->edge, "wb");
	ASSERT_NE(NULL, edge);
	pcap_open(edge);
	uint64_t seq = 41;
	size_t n = read_repo_file("tests/corpus/sip/01-gk-register.register.sip", m, sizeof(m));
	ASSERT_LT(0, n);
	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	w[n + 2] = 2;
	pcap_put(edge, 1, &samples[0], w, n + GK_TRAILER_LEN);

	n = read_repo_file("tests/corpus/ras/01-grq-register.per", m, sizeof(m));
	ASSERT_LT(0, n);
	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	w[n + GK_TRAILER_LEN] = 0;
	pcap_put(edge, 2, &samples[13], w, n + GK_TRAILER_LEN + 1);

	n = read_repo_file("tests/corpus/mgcp/01-gk-register.register.mgcp", m, sizeof(m));
	ASSERT_LT(0, n);
	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	w[n] = 'g', w[n + 1] = 'k';
	pcap_put(edge, 3, &samples[5], w, n + GK_TRAILER_LEN);

	memcpy(w, "GK\x01\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x01 abcd", 20);
	pcap_put(edge, 4, &samples[0], w, 20);

	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	memset(w + n + 8, 0, 8);
	pcap_put(edge, 5, &samples[5], w, n + GK_TRAILER_LEN);

	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	w[n + 3] = 0x80;
	pcap_put(edge, 6, &samples[5], w, n + GK_TRAILER_LEN);

	struct sample other = samples[5];
	other.sport = 40002;
	other.dport = 2437;
	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	pcap_put(edge, 7, &other, w, n + GK_TRAILER_LEN);

	other.sport = 40000;
	other.dport = 2727;
	memcpy(w, m, n);
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, n, sizeof(w)));
	pcap_put(edge, 8, &other, w, n + GK_TRAILER_LEN);

	static const uint8_t broken[] = {0x06, 0x80, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
	pcap_put(edge, 9, &samples[13], broken, sizeof(broken));
	memcpy(w, broken, sizeof(broken));
	ASSERT_LT(0, gk_pkt_seal_next(key, 7, &seq, w, sizeof(broken), sizeof(w)));
	pcap_put(edge, 10, &samples[13], w, sizeof(broken) + GK_TRAILER_LEN);

	ASSERT_EQ(GK_TRAILER_LEN, gk_pkt_seal_next(key, 7, &seq, w, 0, sizeof(w)));
	pcap_put(edge, 11, &samples[0], w, GK_TRAILER_LEN);
	fclose(edge);
	gk_coreleg_wipe(&sbc);
	gk_coreleg_wipe(&ss);
}

FIXTURE_TEARDOWN(pcaps)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (strncmp(self->dir, "/tmp/gk-wireshark-", 18) == 0)
		system(cmd);
}

/* The script loads: tshark says nothing about Lua (an error there is only a message, tshark goes
 * on without the script) and knows the gatekey fields. */
TEST_F(pcaps, script_loads)
{
	char cmd[8192], out[4096];
	snprintf(cmd, sizeof(cmd), TSHARK " -Y gatekey 2>&1 >/dev/null | grep -i lua", self->dir,
	         self->lua, self->sealed);
	tool_output(cmd, out, sizeof(out));
	EXPECT_STREQ("", out);
	snprintf(cmd, sizeof(cmd), TSHARK " -Y gatekey 2>/dev/null | wc -l", self->dir, self->lua,
	         self->sealed);
	EXPECT_EQ((int)N_SAMPLES, count(cmd));
}

/* Every sealed frame: its trailer's index (or epoch), sequence number and tag. */
TEST_F(pcaps, sealed_frames_show_the_trailer)
{
	char cmd[8192], line[256];
	static char out[16384], want[16384];
	size_t off = 0;

	snprintf(cmd, sizeof(cmd),
	         TSHARK " -T fields -e frame.number -e gatekey.magic -e gatekey.version "
	                "-e gatekey.flags -e gatekey.index -e gatekey.seq -e gatekey.tag "
	                "-e gatekey.epoch 2>/dev/null",
	         self->dir, self->lua, self->sealed);
	ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
	for (unsigned i = 0; i < N_SAMPLES; i++) {
		const struct expect *e = &self->want[i];
		const char *epoch =
		    samples[i].leg == CORE_UP     ? "Nov 14, 2023 22:13:20.000000000 UTC"
		    : samples[i].leg == CORE_DOWN ? "Nov 14, 2023 22:15:23.000000000 UTC"
		                                  : "";
		snprintf(line, sizeof(line), "%u\tGK\t1\t0x00\t%u\t%llu\t%s\t%s\n", i + 1, e->index,
		         (unsigned long long)e->seq, e->tag, epoch);
		off += (size_t)snprintf(want + off, sizeof(want) - off, "%s", line);
	}
	EXPECT_STREQ(want, out);
}

/* No frame of the three files is malformed or in error with the script, but for the two made so;
 * without it, the sealed H.248 ones are (the MEGACO dissector reads the trailer as more
 * transactions), so the check can tell. */
TEST_F(pcaps, nothing_malformed)
{
	char cmd[8192];
	static char out[4096];
	const char *files[] = {self->bare, self->sealed, self->edge};

	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), TSHARK " -Y '" PROBLEMS "' 2>/dev/null | wc -l",
		         self->dir, self->lua, files[i]);
		EXPECT_EQ(i == 2 ? 2 : 0, count(cmd)) TH_LOG("%s", files[i]);
	}
	snprintf(cmd, sizeof(cmd), TSHARK_BARE " -Y '" PROBLEMS "' 2>/dev/null | wc -l", self->dir,
	         self->sealed);
	EXPECT_LT(0, count(cmd));
	/* A malformed message is the message's complaint alone (not one from the script as well),
	 * and a sealed one still shows its trailer. */
	snprintf(cmd, sizeof(cmd),
	         TSHARK " -Y '" PROBLEMS "' -T fields -e frame.number -e gatekey.index "
	                "-e _ws.expert.message 2>/dev/null",
	         self->dir, self->lua, self->edge);
	ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
	const char *ras = "\tSize constraint: value too big: 65536 (1 .. 65535),something unknown "
	                  "here [10.9.3.8.1],Malformed Packet (Exception occurred)\n";
	char want[1024];
	snprintf(want, sizeof(want), "9\t%s10\t7%s", ras, ras);
	EXPECT_STREQ(want, out);
	/* nor does the script add a note of its own to a sound trailer */
	snprintf(cmd, sizeof(cmd), TSHARK " -Y '_ws.expert && gatekey' 2>/dev/null | wc -l",
	         self->dir, self->lua, self->sealed);
	EXPECT_EQ(0, count(cmd));
}

/* The message without its trailer goes to its protocol's dissector: per protocol the same count
 * of frames as bare, and each frame's summary is the bare one's plus the trailer's. */
TEST_F(pcaps, the_message_goes_to_its_dissector)
{
	char cmd[8192];
	static char sealed[16384], bare[16384], want[16384];

	for (size_t p = 0; p < sizeof(protos) / sizeof(protos[0]); p++) {
		int n = 0;
		for (unsigned i = 0; i < N_SAMPLES; i++)
			n += strcmp(samples[i].proto, protos[p]) == 0;
		snprintf(cmd, sizeof(cmd), TSHARK " -Y '%s && !_ws.malformed' 2>/dev/null | wc -l",
		         self->dir, self->lua, self->sealed, protos[p]);
		EXPECT_EQ(n, count(cmd)) TH_LOG("%s in sealed.pcap", protos[p]);
		snprintf(cmd, sizeof(cmd), TSHARK " -Y '%s' 2>/dev/null | wc -l", self->dir,
		         self->lua, self->bare, protos[p]);
		EXPECT_EQ(n, count(cmd)) TH_LOG("%s in bare.pcap", protos[p]);
	}
	/* the other protocols' names too: each frame is its own protocol and no other */
	snprintf(cmd, sizeof(cmd),
	         TSHARK " -T fields -e frame.number -e frame.protocols 2>/dev/null", self->dir,
	         self->lua, self->sealed);
	ASSERT_EQ(0, tool_output(cmd, sealed, sizeof(sealed)));
	char *line = sealed;
	for (unsigned i = 0; i < N_SAMPLES; i++) {
		char *nl = strchr(line, '\n');
		ASSERT_NE(NULL, nl);
		*nl = '\0';
		for (size_t p = 0; p < sizeof(protos) / sizeof(protos[0]); p++) {
			char layer[32];
			snprintf(layer, sizeof(layer), ":gatekey:%s", protos[p]);
			bool is = strstr(line, layer) != NULL;
			EXPECT_EQ(strcmp(samples[i].proto, protos[p]) == 0, is) TH_LOG("%s", line);
		}
		line = nl + 1;
	}

	snprintf(cmd, sizeof(cmd),
	         TSHARK " -T fields -e _ws.col.Protocol -e _ws.col.Info 2>/dev/null", self->dir,
	         self->lua, self->bare);
	ASSERT_EQ(0, tool_output(cmd, bare, sizeof(bare)));
	snprintf(cmd, sizeof(cmd),
	         TSHARK " -T fields -e _ws.col.Protocol -e _ws.col.Info 2>/dev/null", self->dir,
	         self->lua, self->sealed);
	ASSERT_EQ(0, tool_output(cmd, sealed, sizeof(sealed)));
	size_t off = 0;
	line = bare;
	for (unsigned i = 0; i < N_SAMPLES; i++) {
		char *nl = strchr(line, '\n');
		ASSERT_NE(NULL, nl);
		off += (size_t)snprintf(want + off, sizeof(want) - off,
		                        "%.*s [gk-mac index=%u seq=%llu]\n", (int)(nl - line), line,
		                        self->want[i].index, (unsigned long long)self->want[i].seq);
		line = nl + 1;
	}
	EXPECT_STREQ(want, sealed);
}

/* A datagram without a trailer dissects as if the script were not there: the same tree, byte for
 * byte, but for the list of protocols in the frame, which names the script's dissector. */
TEST_F(pcaps, bare_frames_dissect_as_without_the_script)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
	         TSHARK " -V 2>/dev/null | grep -v '^    \\[Protocols in frame: ' >%s/with.txt",
	         self->dir, self->lua, self->bare, self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd),
	         TSHARK_BARE
	         " -V 2>/dev/null | grep -v '^    \\[Protocols in frame: ' >%s/without.txt",
	         self->dir, self->bare, self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "test -s %s/with.txt && cmp -s %s/with.txt %s/without.txt",
	         self->dir, self->dir, self->dir);
	EXPECT_EQ(0, system(cmd));
	/* the edge cases that are no trailer, too */
	snprintf(cmd, sizeof(cmd),
	         TSHARK " -V -Y 'frame.number <= 4 || frame.number == 9' 2>/dev/null "
	                "| grep -v '^    \\[Protocols in frame: ' >%s/with.txt",
	         self->dir, self->lua, self->edge, self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd),
	         TSHARK_BARE " -V -Y 'frame.number <= 4 || frame.number == 9' 2>/dev/null "
	                     "| grep -v '^    \\[Protocols in frame: ' >%s/without.txt",
	         self->dir, self->edge, self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "test -s %s/with.txt && cmp -s %s/with.txt %s/without.txt",
	         self->dir, self->dir, self->dir);
	EXPECT_EQ(0, system(cmd));
}

/* Only what gk_pkt_peek takes for a trailer is one; a sequence number 0, which no sender seals
 * and every receiver drops, is a warning, and so is a trailer with no message; reserved flags
 * are shown, not flagged. */
TEST_F(pcaps, only_trailers_are_taken)
{
	char cmd[8192];
	static char out[4096];

	snprintf(cmd, sizeof(cmd),
	         TSHARK " -T fields -e frame.number -e _ws.col.Protocol -e gatekey.flags "
	                "-e gatekey.index 2>/dev/null",
	         self->dir, self->lua, self->edge);
	ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
	EXPECT_STREQ("1\tSIP\t\t\n"
	             "2\tH.225.0\t\t\n"
	             "3\tMGCP\t\t\n"
	             "4\tUDP\t\t\n"
	             "5\tMGCP\t0x00\t7\n"
	             "6\tMGCP\t0x80\t7\n"
	             "7\tUDP\t\t\n"
	             "8\tMGCP\t0x00\t7\n"
	             "9\tH.225.0\t\t\n"
	             "10\tH.225.0\t0x00\t7\n"
	             "11\tUDP\t0x00\t7\n",
	             out);
	snprintf(cmd, sizeof(cmd),
	         TSHARK " -Y 'gatekey.seq_zero || gatekey.empty' -T fields -e frame.number "
	                "-e _ws.expert.message -e _ws.expert.severity 2>/dev/null",
	         self->dir, self->lua, self->edge);
	ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
	/* 6291456: PI_WARN */
	EXPECT_STREQ("5\tSequence number 0: never sealed, every verifier drops it\t6291456\n"
	             "11\tA trailer with no message before it: no codec reads an empty message\t"
	             "6291456\n",
	             out);
}

/* The ports are the script's preferences: another port is taken when listed, and a port left out
 * goes back to its own dissector. */
TEST_F(pcaps, ports_are_preferences)
{
	char cmd[8192];
	static char out[4096];

	snprintf(cmd, sizeof(cmd),
	         TSHARK " -o 'gatekey.mgcp_ports:2427,2437' -Y 'frame.number in {7, 8}' -T fields "
	                "-e frame.number -e frame.protocols -e gatekey.index 2>/dev/null",
	         self->dir, self->lua, self->edge);
	ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
	EXPECT_STREQ("7\teth:ethertype:ip:udp:gatekey:mgcp\t7\n"
	             "8\teth:ethertype:ip:udp:mgcp\t\n",
	             out);
}

TEST_HARNESS_MAIN
