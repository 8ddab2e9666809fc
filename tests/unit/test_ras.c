// SPDX-License-Identifier: GPL-2.0-only
/*
 * H.323 RAS binding (docs/bindings-h323.md): X.691 ALIGNED PER primitives against hand-checked
 * encodings, a hand-assembled GRJ with an unknown extension addition and a UCF, extension bitmaps
 * with one bit for every addition of the type (by hand; shorter and longer ones read), round
 * trips of every message of the exchange, truncated and bit-flipped inputs, mechanism ids outside
 * 1..4 (crafted at the PDU layer, and the corpus seeds made of them), the seed corpus being what
 * the encoder writes (GK_RAS_DUMP=<dir> writes it anew), decode -> encode giving the same bytes
 * for every PDU built and every seed, tshark's H.225.0 dissector over every message (no
 * malformed packet, the expected RasMessage, our tokens as H.235 fields, every extension bitmap
 * against the additions the ASN.1 names), the success MAC over the encoded RCF, and the whole
 * exchange driven through the codec (lib/exchange/terminal.c <-> gk_direct front + core), both ends
 * holding the same key.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_direct.h"
#include "helper_tool.h"

#include "gatekey/codec/codec.h"
#include "gatekey/runtime/config.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/h323/per.h"
#include "gatekey/h323/ras.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/auc/vector.h"

extern const struct gk_codec gk_ras_codec;

/* ---- PER primitives: hand-checked encodings ------------------------------------------------- */

struct wcase {
	const char *what;
	uint8_t bytes[8];
	size_t n;
};

TEST(per_hand_checked)
{
	uint8_t b[64];
	struct gk_per_w w;
	struct gk_per_r r;

	/* INTEGER (0..7) = 5: range 8, a 3-bit field 101, padded: 1010 0000 */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_cons(&w, 5, 0, 7);
	EXPECT_EQ(1, gk_per_w_octets(&w));
	EXPECT_EQ(0xa0, b[0]);
	/* BOOLEAN TRUE, then port INTEGER (0..65535) = 1719: one bit 1, range 64K is two octets
	 * after alignment: 1000 0000, 0x06 0xb7 */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_bool(&w, true);
	gk_per_put_cons(&w, 1719, 0, 65535);
	ASSERT_EQ(3, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x80\x06\xb7", 3));
	/* TimeStamp INTEGER (1..4294967295) = 1700000000: range > 64K, so the octet count
	 * (value - 1 = 0x6553F0FF needs 4) as INTEGER (1..4) in 2 bits (11), align, 4 octets */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_cons(&w, 1700000000u, 1, 4294967295u);
	ASSERT_EQ(5, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\xc0\x65\x53\xf0\xff", 5));
	/* Unconstrained length 200: two octets 10xxxxxx: 0x80 0xc8. 16384 needs fragmentation:
	 * refused. */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_len(&w, 200, 0, GK_PER_UNBOUNDED);
	EXPECT_EQ(0, memcmp(b, "\x80\xc8", 2));
	gk_per_put_len(&w, 16384, 0, GK_PER_UNBOUNDED);
	EXPECT_EQ(-EINVAL, w.err);
	/* OBJECT IDENTIFIER 0.0.8.2250.0.7 (H.225.0 v7): length 6, BER contents 00 (0*40+0), 08,
	 * 2250 = 0x8ca in base 128 -> 91 4a, 00, 07 */
	struct gk_oid o = {{0, 0, 8, 2250, 0, 7}, 6}, o2;
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_oid(&w, &o);
	ASSERT_EQ(7, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x06\x00\x08\x91\x4a\x00\x07", 7));
	gk_per_r_init(&r, b, 7);
	gk_per_get_oid(&r, &o2);
	EXPECT_EQ(GK_R_OK, r.err);
	EXPECT_TRUE(gk_oid_equal(&o, &o2));
	/* GatekeeperIdentifier BMPString (SIZE (1..128)) "ab": length - 1 = 1 in 7 bits
	 * (0000001), align (0000 0010 with the pad), then 16 bits a character: 00 61 00 62 */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_bmp(&w, "ab", 1, 128);
	ASSERT_EQ(5, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x02\x00\x61\x00\x62", 5));
	/* dialledDigits IA5String (SIZE (1..128)) (FROM ("0123456789#*,")) "12#": 13 characters,
	 * 4 bits each; '9' (57) does not fit 4 bits, so indices into the sorted alphabet
	 * "#*,0123456789": '1' = 4, '2' = 5, '#' = 0. Length - 1 = 2 in 7 bits (0000010), align:
	 * 0x04; then 0100 0101 0000 (pad): 0x45 0x00 */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_ia5(&w, "12#", 1, 128, "0123456789#*,");
	ASSERT_EQ(3, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x04\x45\x00", 3));
	char s[16];
	gk_per_r_init(&r, b, 3);
	gk_per_get_ia5(&r, s, sizeof(s), 1, 128, "0123456789#*,");
	EXPECT_STREQ("12#", s);
	/* Normally small 5: 0 000101 (0x0a); 64: 1, then semi-constrained: length 1, 0x40 */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_nsnn(&w, 5);
	EXPECT_EQ(0x0a, b[0]);
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_nsnn(&w, 64);
	ASSERT_EQ(3, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x80\x01\x40", 3));
	/* Unconstrained INTEGER: -1 is 01 ff, 128 is 02 00 80 (two's complement, minimal) */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_int(&w, -1);
	gk_per_put_int(&w, 128);
	ASSERT_EQ(5, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x01\xff\x02\x00\x80", 5));
	gk_per_r_init(&r, b, 5);
	EXPECT_EQ(-1, gk_per_get_int(&r));
	EXPECT_EQ(128, gk_per_get_int(&r));
	/* An open type holding NULL (empty): one zero octet, length 1: 01 00 */
	gk_per_w_init(&w, b, sizeof(b));
	size_t m = gk_per_open_begin(&w);
	gk_per_open_end(&w, m);
	ASSERT_EQ(2, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x01\x00", 2));
	/* An open type of 200 octets gets a two-octet length, the content moved behind it */
	uint8_t big[200];
	memset(big, 0x5a, sizeof(big));
	gk_per_w_init(&w, b, sizeof(b));
	m = gk_per_open_begin(&w);
	gk_per_put_octets(&w, big, sizeof(big), 200, 200);
	gk_per_open_end(&w, m);
	EXPECT_EQ(-ENOSPC, w.err); /* 64 octets are not enough, and nothing is written past them */
	uint8_t b2[256];
	gk_per_w_init(&w, b2, sizeof(b2));
	m = gk_per_open_begin(&w);
	gk_per_put_octets(&w, big, sizeof(big), 200, 200);
	gk_per_open_end(&w, m);
	ASSERT_EQ(202, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b2, "\x80\xc8\x5a", 3));
	/* A fragmented length on input is refused, not followed */
	gk_per_r_init(&r, (const uint8_t *)"\xc1\x00", 2);
	gk_per_get_len(&r, 0, GK_PER_UNBOUNDED);
	EXPECT_EQ(GK_R_PARSE_TOO_LONG, r.err);
	/* A constrained number beyond its range in its bit field: BAD_VALUE */
	gk_per_r_init(&r, (const uint8_t *)"\xf0", 1);
	gk_per_get_cons(&r, 0, 4); /* 3 bits 111 = 7 > 4 */
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, r.err);
}

/* Extension bitmaps (X.691:2002 18.7, 18.8 with the normally small length of 10.9.3.4): one bit
 * for each addition of the type, its length n - 1 in 6 bits up to 64 and n as a length determinant
 * beyond; a reader takes any length and skips what it does not know. */
TEST(per_extension_bitmaps)
{
	uint8_t b[64];
	struct gk_per_w w;
	struct gk_per_r r, sub;
	struct gk_per_ext e;

	/* 5 additions, the first present: 0 000100 (5 - 1), then 10000: 0000 1001 0000 (pad) */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_ext_bitmap(&w, (const bool[]){true, false, false, false, false}, 5);
	ASSERT_EQ(2, gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, "\x09\x00", 2));
	/* 70 additions, the first and the last present: 1, align, length 70 (0x46), 70 bits:
	 * 1000 0000, seven zero octets, 0000 01(00) */
	bool bits[70] = {[0] = true, [69] = true};
	static const uint8_t long_map[] = {0x80, 0x46, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x04};
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_ext_bitmap(&w, bits, 70);
	ASSERT_EQ(sizeof(long_map), gk_per_w_octets(&w));
	EXPECT_EQ(0, memcmp(b, long_map, sizeof(long_map)));
	/* no additions is no bitmap */
	gk_per_w_init(&w, b, sizeof(b));
	gk_per_put_ext_bitmap(&w, bits, 0);
	EXPECT_EQ(-EINVAL, w.err);

	/* The reader takes the 70 (more than any type here has) with two open types after them */
	memcpy(b, long_map, sizeof(long_map));
	memcpy(b + sizeof(long_map), "\x01\xaa\x01\xbb", 4);
	gk_per_r_init(&r, b, sizeof(long_map) + 4);
	gk_per_ext_begin(&r, &e);
	EXPECT_EQ(70, e.n);
	ASSERT_EQ(0, gk_per_ext_next(&r, &e, &sub));
	EXPECT_EQ(0xaa, gk_per_get_bits(&sub, 8));
	ASSERT_EQ(69, gk_per_ext_next(&r, &e, &sub));
	EXPECT_EQ(0xbb, gk_per_get_bits(&sub, 8));
	EXPECT_EQ(-1, gk_per_ext_next(&r, &e, &sub));
	EXPECT_EQ(GK_R_OK, r.err);
	EXPECT_EQ(0, gk_per_r_left(&r));
	/* gk_per_skip_ext reads past the same */
	gk_per_r_init(&r, b, sizeof(long_map) + 4);
	gk_per_skip_ext(&r, true);
	EXPECT_EQ(GK_R_OK, r.err);
	EXPECT_EQ(0, gk_per_r_left(&r));
	/* Malformed: the long form with length 0 (n - 1 cannot be -1); 64 bits announced, 1 left;
	 * a present addition whose open type is not there */
	gk_per_r_init(&r, (const uint8_t *)"\x80\x00", 2);
	gk_per_ext_begin(&r, &e);
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, r.err);
	gk_per_r_init(&r, (const uint8_t *)"\x7f", 1);
	gk_per_ext_begin(&r, &e);
	EXPECT_EQ(GK_R_PARSE_TRUNCATED, r.err);
	gk_per_r_init(&r, (const uint8_t *)"\x09\x00", 2);
	gk_per_ext_begin(&r, &e);
	EXPECT_EQ(-1, gk_per_ext_next(&r, &e, &sub));
	EXPECT_EQ(GK_R_PARSE_TRUNCATED, r.err);
}

/* A UCF and a GRJ assembled by hand; the GRJ carries an extension addition from a later version
 * of H.225.0 (index 6: GRJ has six in v7, altGKInfo .. genericData), which must be skipped. */
TEST(ras_hand_checked_pdus)
{
	struct gk_ras_pdu p;
	enum gk_reason why;
	uint8_t out[64];

	/* UCF, requestSeqNum 5:
	 *   0        RasMessage extension bit (root alternative)
	 *   00111    alternative 7 of 25 (unregistrationConfirm) in 5 bits
	 *   0        UCF extension bit
	 *   0        nonStandardData absent            -> 0001 1100 = 0x1c
	 *   00 04    requestSeqNum (1..65535): 5 - 1, two aligned octets */
	static const uint8_t ucf[] = {0x1c, 0x00, 0x04};
	ASSERT_EQ(0, gk_ras_pdu_decode(ucf, sizeof(ucf), &p, &why));
	EXPECT_EQ(GK_RAS_UCF, p.type);
	EXPECT_EQ(5, p.seq);
	struct gk_ras_pdu q = {.type = GK_RAS_UCF, .seq = 5};
	ASSERT_EQ(3, gk_ras_pdu_encode(&q, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, ucf, 3));

	/* GRJ, requestSeqNum 43, terminalExcluded, an unknown extension addition:
	 *   0 00010 1 0|0      root alternative 2 (gatekeeperReject); GRJ extension bit 1;
	 *                      nonStandardData, gatekeeperIdentifier absent -> 0x0a, 0 + pad 0x00
	 *   00 2a              requestSeqNum 43 - 1
	 *   06 00 08 91 4a 00 07  protocolIdentifier 0.0.8.2250.0.7
	 *   0 01               rejectReason: root alternative 1 of 4 (terminalExcluded)
	 *   0 000110           extension bitmap length - 1 = 6 (normally small)
	 *   0000001            7 additions, only the 7th (unknown to us) present
	 *                      -> 0010 0001 1000 0000 1(000 0000) = 0x21 0x80 0x80
	 *   02 de ad           its open type: length 2, two octets we do not understand */
	static const uint8_t grj[] = {0x0a, 0x00, 0x00, 0x2a, 0x06, 0x00, 0x08, 0x91, 0x4a,
	                              0x00, 0x07, 0x21, 0x80, 0x80, 0x02, 0xde, 0xad};
	ASSERT_EQ(0, gk_ras_pdu_decode(grj, sizeof(grj), &p, &why));
	EXPECT_EQ(GK_RAS_GRJ, p.type);
	EXPECT_EQ(43, p.seq);
	EXPECT_EQ(GK_RAS_GRJ_TERMINAL_EXCLUDED, p.reason);
	EXPECT_EQ(1, p.skipped);
	/* The open type's length is checked against the PDU: one octet short is truncated */
	EXPECT_EQ(-1, gk_ras_pdu_decode(grj, sizeof(grj) - 1, &p, &why));
	EXPECT_EQ(GK_R_PARSE_TRUNCATED, why);
	/* Trailing octets after the PDU are refused */
	uint8_t longer[sizeof(grj) + 1];
	memcpy(longer, grj, sizeof(grj));
	longer[sizeof(grj)] = 0;
	EXPECT_EQ(-1, gk_ras_pdu_decode(longer, sizeof(longer), &p, &why));
	EXPECT_EQ(GK_R_PARSE_SYNTAX, why);
	/* An ARQ is not ours */
	EXPECT_EQ(-1, gk_ras_pdu_decode((const uint8_t *)"\x24\x00", 2, &p, &why));
	EXPECT_EQ(GK_R_PARSE_UNSUPPORTED, why);
}

/*
 * The bitmap of each PDU and of its ClearTokens has one bit for each extension addition the type
 * has in H.225.0 v7 and H.235.0, by hand for a UCF (5: tokens cryptoTokens integrityCheckValue
 * genericData assignedGatekeeper) carrying a ClearToken with sendersID (4: eckasdhkey sendersID
 * h235Key profileInfo); tshark_sees_full_extension_bitmaps checks every PDU of the exchange. The
 * decoder takes bitmaps shorter (an earlier version's) and longer (a later one's) alike.
 */
TEST(extension_bitmaps_hand_checked)
{
	static struct gk_ras_pdu p, q;
	enum gk_reason why;
	uint8_t out[64];

	/*   0 00111 1 0        unregistrationConfirm; extension bit 1; nonStandardData absent: 0x1e
	 *   00 04              requestSeqNum 5
	 *   0 000100 10000     bitmap length 5 - 1; only tokens present: 0000 1001 0000 (pad)
	 *   0b                 tokens' open type, 11 octets:
	 *     01                 SEQUENCE OF: one ClearToken
	 *     1 00000000 (pad)   extension bit 1, none of the 8 OPTIONAL root fields: 0x80 0x00
	 *     01 2a              tokenOID 1.2
	 *     0 000011 0100      bitmap length 4 - 1; only sendersID present: 0000 0110 1000 (pad)
	 *     03 00 00 61        sendersID's open type: BMPString length 1 - 1 (7 bits, pad), "a"
	 */
	static const uint8_t ucf[] = {0x1e, 0x00, 0x04, 0x09, 0x00, 0x0b, 0x01, 0x80, 0x00,
	                              0x01, 0x2a, 0x06, 0x80, 0x03, 0x00, 0x00, 0x61};
	memset(&q, 0, sizeof(q));
	q.type = GK_RAS_UCF, q.seq = 5, q.n_tokens = 1;
	q.tokens[0].oid = (struct gk_oid){{1, 2}, 2};
	q.tokens[0].has = GK_RAS_T_SENDERS;
	snprintf(q.tokens[0].senders, sizeof(q.tokens[0].senders), "a");
	ASSERT_EQ(sizeof(ucf), gk_ras_pdu_encode(&q, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, ucf, sizeof(ucf)));
	ASSERT_EQ(0, gk_ras_pdu_decode(ucf, sizeof(ucf), &p, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(1, p.n_tokens);
	EXPECT_STREQ("a", p.tokens[0].senders);
	EXPECT_EQ(0, p.skipped);

	/* Shorter, as gatekey wrote them before: the UCF's bitmap of 1 (0 000000 1), the
	 * ClearToken's of 2 (0 000001 01): read the same, and written again in full */
	static const uint8_t ucf_short[] = {0x1e, 0x00, 0x04, 0x01, 0x0b, 0x01, 0x80, 0x00,
	                                    0x01, 0x2a, 0x02, 0x80, 0x03, 0x00, 0x00, 0x61};
	ASSERT_EQ(0, gk_ras_pdu_decode(ucf_short, sizeof(ucf_short), &p, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(1, p.n_tokens);
	EXPECT_STREQ("a", p.tokens[0].senders);
	ASSERT_EQ(sizeof(ucf), gk_ras_pdu_encode(&p, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, ucf, sizeof(ucf)));

	/* Longer: 70 additions (past 64: the long form 1, align, 0x46), tokens and the 70th
	 * present; the 70th is skipped by its open-type length */
	static const uint8_t ucf_long[] = {0x1e, 0x00, 0x04, 0x80, 0x46, 0x80, 0x00, 0x00,
	                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x0b, 0x01,
	                                   0x80, 0x00, 0x01, 0x2a, 0x06, 0x80, 0x03, 0x00,
	                                   0x00, 0x61, 0x02, 0xde, 0xad};
	ASSERT_EQ(0, gk_ras_pdu_decode(ucf_long, sizeof(ucf_long), &p, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(1, p.n_tokens);
	EXPECT_STREQ("a", p.tokens[0].senders);
	EXPECT_EQ(1, p.skipped);
	ASSERT_EQ(sizeof(ucf), gk_ras_pdu_encode(&p, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, ucf, sizeof(ucf)));
	/* and refused with a reason when malformed: cut inside the bitmap, inside the 70th's
	 * open type; the long form's length 0 */
	EXPECT_EQ(-1, gk_ras_pdu_decode(ucf_long, 10, &p, &why));
	EXPECT_EQ(GK_R_PARSE_TRUNCATED, why);
	EXPECT_EQ(-1, gk_ras_pdu_decode(ucf_long, sizeof(ucf_long) - 1, &p, &why));
	EXPECT_EQ(GK_R_PARSE_TRUNCATED, why);
	uint8_t zero[sizeof(ucf_long)];
	memcpy(zero, ucf_long, sizeof(zero));
	zero[4] = 0;
	EXPECT_EQ(-1, gk_ras_pdu_decode(zero, sizeof(zero), &p, &why));
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, why);
}

/* ---- messages of the exchange --------------------------------------------------------------- */

static const uint8_t seq_types[] = {
    GK_MSG_REGISTER, GK_MSG_CHALLENGE,  GK_MSG_ANSWER,   GK_MSG_CHALLENGE, GK_MSG_SUCCESS,
    GK_MSG_REJECT,   GK_MSG_DEREGISTER, GK_MSG_DEREG_OK, GK_MSG_OTHER,     GK_MSG_OTHER_OK,
    GK_MSG_REJECT,   GK_MSG_REJECT,     GK_MSG_REJECT,
};
#define N_MSGS (sizeof(seq_types) / sizeof(seq_types[0]))
/* the last two: overload refusals (GRJ and RRJ resourceUnavailable, with the wait) */
#define FIRST_OVERLOAD 11
/* RasMessage alternatives tshark must show, in order */
static const char expect_ras[] = "0\n2\n3\n5\n4\n2\n6\n7\n3\n4\n5\n2\n5\n";

static struct gk_msg build(unsigned i, bool v6)
{
	struct gk_msg m;
	struct sockaddr_storage ss;
	char err[64];

	memset(&m, 0, sizeof(m));
	m.proto = GK_PROTO_H323;
	m.type = seq_types[i];
	gk_parse_addr(v6 ? "[2001:db8::2]:1719" : "198.18.1.2:1719", &ss, err, sizeof(err));
	struct gk_request_ctx rc = {.idc = "alice", .idsp = "ss1", .local = &ss, .unique = 100 + i};
	/* responses: the request they answer */
	static const uint8_t req_of[] = {
	    GK_MSG_REGISTER, GK_MSG_REGISTER,   GK_MSG_ANSWER,     GK_MSG_ANSWER, GK_MSG_ANSWER,
	    GK_MSG_REGISTER, GK_MSG_DEREGISTER, GK_MSG_DEREGISTER, GK_MSG_OTHER,  GK_MSG_OTHER,
	    GK_MSG_ANSWER,   GK_MSG_REGISTER,   GK_MSG_ANSWER};
	m.type = req_of[i];
	gk_ras_codec.request_init(&m, &rc);
	m.type = seq_types[i];
	snprintf(m.idc, sizeof(m.idc), "alice");
	snprintf(m.idsp, sizeof(m.idsp), "ss1");
	m.ts = 1700000000 + i;
	m.fields = GK_F_TS;
	memset(m.n1, 0x11, 16);
	memset(m.n2, 0x22, 16);
	memset(m.rand, 0x33, 16);
	memset(m.auth, 0x44, 32);
	m.blob[0] = 1;
	memset(m.blob + 1, 0x55, GK_BLOB_LEN - 1);
	memset(m.mac, 0x66, 32);
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
	m.n_mechs = 2;
	m.chosen = GK_MECH_GKMAC;
	m.index = 7;
	m.expires = 3600;
	switch (m.type) {
	case GK_MSG_REGISTER:
		m.fields |= GK_F_N1 | GK_F_EXPIRES;
		break;
	case GK_MSG_CHALLENGE:
		m.fields |= GK_F_N1 | GK_F_N2 | GK_F_RAND | GK_F_WANT_MECHS;
		break;
	case GK_MSG_ANSWER:
		m.fields |= GK_F_N1 | GK_F_N2 | GK_F_RAND | GK_F_AUTH | GK_F_MECHS | GK_F_EXPIRES;
		break;
	case GK_MSG_SUCCESS:
		m.fields |= GK_F_N1 | GK_F_N2 | GK_F_BLOB | GK_F_CHOSEN | GK_F_MECHS |
		            GK_F_EXPIRES | GK_F_MAC | GK_F_INDEX;
		break;
	case GK_MSG_DEREGISTER:
	case GK_MSG_DEREG_OK:
		m.fields |= GK_F_EXPIRES;
		m.expires = 0;
		break;
	case GK_MSG_REJECT:
		m.fields = 0;
		m.reason = i >= FIRST_OVERLOAD ? GK_R_OVERLOAD : GK_R_REFUSED;
		m.retry_after = i >= FIRST_OVERLOAD ? 7 + i : 0;
		break;
	}
	return m;
}

static void same_msg(struct __test_metadata *_metadata, const struct gk_msg *a,
                     const struct gk_msg *b)
{
	EXPECT_EQ(a->type, b->type);
	EXPECT_EQ(a->fields, b->fields);
	EXPECT_STREQ(a->idc, b->idc);
	EXPECT_STREQ(a->idsp, b->idsp);
	if (a->fields & GK_F_TS)
		EXPECT_EQ(a->ts, b->ts);
	EXPECT_EQ(0, memcmp(a->n1, b->n1, 16) && (a->fields & GK_F_N1));
	EXPECT_EQ(0, memcmp(a->n2, b->n2, 16) && (a->fields & GK_F_N2));
	EXPECT_EQ(0, memcmp(a->rand, b->rand, 16) && (a->fields & GK_F_RAND));
	EXPECT_EQ(0, memcmp(a->auth, b->auth, 32) && (a->fields & GK_F_AUTH));
	EXPECT_EQ(0, memcmp(a->blob, b->blob, GK_BLOB_LEN) && (a->fields & GK_F_BLOB));
	EXPECT_EQ(0, memcmp(a->mac, b->mac, 32) && (a->fields & GK_F_MAC));
	if (a->fields & GK_F_MECHS) {
		EXPECT_EQ(a->n_mechs, b->n_mechs);
		EXPECT_EQ(0, memcmp(a->mechs, b->mechs, sizeof(a->mechs[0]) * a->n_mechs));
	}
	if (a->fields & GK_F_EXPIRES)
		EXPECT_EQ(a->expires, b->expires);
	if (a->fields & GK_F_CHOSEN)
		EXPECT_EQ(a->chosen, b->chosen);
	if (a->fields & GK_F_INDEX)
		EXPECT_EQ(a->index, b->index);
	EXPECT_EQ(a->wire.ras.seq, b->wire.ras.seq);
}

TEST(round_trip_every_message)
{
	for (int v6 = 0; v6 < 2; v6++) {
		for (unsigned i = 0; i < N_MSGS; i++) {
			struct gk_msg a = build(i, v6), b;
			uint8_t w1[1500], w2[1500];
			enum gk_reason why;
			int n = gk_ras_encode(&a, w1, sizeof(w1));
			ASSERT_LT(0, n) TH_LOG("message %u", i);
			ASSERT_EQ(0, gk_ras_decode(w1, (size_t)n, &b, &why))
			TH_LOG("message %u: %s", i, gk_reason_str(why));
			same_msg(_metadata, &a, &b);
			EXPECT_EQ(a.reason, b.reason);
			EXPECT_EQ(a.retry_after, b.retry_after);
			if (b.wire.ras.pdu == GK_RAS_GRQ || b.wire.ras.pdu == GK_RAS_RRQ)
				EXPECT_EQ(0, memcmp(&a.wire.ras.ras, &b.wire.ras.ras,
				                    sizeof(a.wire.ras.ras)));
			EXPECT_EQ(n, gk_ras_encode(&b, w2, sizeof(w2)));
			EXPECT_EQ(0, memcmp(w1, w2, (size_t)n));
			/* too small a buffer: refused whole */
			EXPECT_GT(0, gk_ras_encode(&a, w2, (size_t)n - 1));
			bool reg = b.type == GK_MSG_REGISTER || b.type == GK_MSG_ANSWER ||
			           b.type == GK_MSG_OTHER;
			EXPECT_EQ(reg, gk_ras_is_registration(w1, (size_t)n));
			/* transaction_ref: responses quote the request's requestSeqNum */
			bool resp = !(reg || b.type == GK_MSG_DEREGISTER);
			EXPECT_EQ(resp ? 100 + i : 0, gk_ras_codec.transaction_ref(&b));
		}
	}
	/* requestSeqNum from the 64-bit unique */
	EXPECT_EQ(1, gk_ras_seq_of(1));
	EXPECT_EQ(65535, gk_ras_seq_of(65535));
	EXPECT_EQ(1, gk_ras_seq_of(65536));
}

/* ipsec-3gpp ends ride in tokens of their own (their SPIs and ports as profile integers): the
 * terminal's with the ANSWER's offer and the RCF's echo, the element's with the RCF's choice,
 * inside the encoded RCF that the MAC covers. An end without its entry or choice, or one that
 * could not carry SAs, is refused both ways. */
TEST(ipsec_3gpp_ends_in_tokens)
{
	static const struct gk_ipsec_end term = {23456789, 12345678, 2468, 1357};
	static const struct gk_ipsec_end net = {4294967295u, 256, 65535, 5064};
	struct gk_msg a = build(4, false), b, c;
	uint8_t w[1500], w2[1500];
	enum gk_reason why;
	int n;

	ASSERT_EQ(GK_MSG_SUCCESS, a.type);
	a.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
	a.chosen = GK_MECH_IPSEC;
	a.ipsec_term = term;
	a.ipsec_net = net;
	a.fields |= GK_F_IPSEC_TERM | GK_F_IPSEC_NET;
	n = gk_ras_encode(&a, w, sizeof(w));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &b, &why)) TH_LOG("%s", gk_reason_str(why));
	same_msg(_metadata, &a, &b);
	EXPECT_EQ(0, memcmp(&term, &b.ipsec_term, sizeof(term)));
	EXPECT_EQ(0, memcmp(&net, &b.ipsec_net, sizeof(net)));
	EXPECT_EQ(n, gk_ras_encode(&b, w2, sizeof(w2)));
	EXPECT_EQ(0, memcmp(w, w2, (size_t)n));
	/* the encoding differs with any SPI: the MAC over it covers them */
	c = a;
	c.ipsec_net.spi_s++;
	EXPECT_EQ(n, gk_ras_encode(&c, w2, sizeof(w2)));
	EXPECT_NE(0, memcmp(w, w2, (size_t)n));

	c = a;
	c.chosen = GK_MECH_GKMAC; /* the element's end on another choice */
	EXPECT_EQ(-EINVAL, gk_ras_encode(&c, w2, sizeof(w2)));
	c = a;
	c.mechs[1].mech = GK_MECH_TLS; /* the terminal's end with no entry */
	c.chosen = GK_MECH_TLS;
	c.fields &= ~GK_F_IPSEC_NET;
	EXPECT_EQ(-EINVAL, gk_ras_encode(&c, w2, sizeof(w2)));
	c = a;
	c.ipsec_term.port_c = 0;
	EXPECT_EQ(-EINVAL, gk_ras_encode(&c, w2, sizeof(w2)));

	/* the ANSWER offers it */
	a = build(2, true);
	ASSERT_EQ(GK_MSG_ANSWER, a.type);
	a.mechs[0] = (struct gk_mech_offer){GK_MECH_IPSEC, 1000};
	a.ipsec_term = term;
	a.fields |= GK_F_IPSEC_TERM;
	n = gk_ras_encode(&a, w, sizeof(w));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &b, &why)) TH_LOG("%s", gk_reason_str(why));
	EXPECT_EQ(a.fields, b.fields);
	EXPECT_EQ(0, memcmp(&term, &b.ipsec_term, sizeof(term)));
}

/* rasAddress and callSignalAddress are SEQUENCE OF TransportAddress without a SIZE: an RRQ with
 * empty lists (or with only non-IP addresses) decodes, and must encode again (a fuzz find). */
TEST(rrq_with_empty_address_lists)
{
	for (unsigned i = 0; i < N_MSGS; i++) {
		struct gk_msg a = build(i, false), b, c;
		uint8_t w1[1500], w2[1500];
		enum gk_reason why;
		if (a.type != GK_MSG_ANSWER && a.type != GK_MSG_OTHER)
			continue;
		for (int which = 1; which < 4; which++) {
			if (which & 1)
				a.wire.ras.ras.family = 0;
			if (which & 2)
				a.wire.ras.csa.family = 0;
			int n = gk_ras_encode(&a, w1, sizeof(w1));
			ASSERT_LT(0, n) TH_LOG("message %u, lists %d", i, which);
			ASSERT_EQ(0, gk_ras_decode(w1, (size_t)n, &b, &why));
			same_msg(_metadata, &a, &b);
			if (which & 1)
				EXPECT_EQ(0, b.wire.ras.ras.family);
			if (which & 2)
				EXPECT_EQ(0, b.wire.ras.csa.family);
			int m = gk_ras_encode(&b, w2, sizeof(w2));
			ASSERT_EQ(n, m);
			EXPECT_EQ(0, memcmp(w1, w2, (size_t)n));
			ASSERT_EQ(0, gk_ras_decode(w2, (size_t)m, &c, &why));
			same_msg(_metadata, &b, &c);
		}
	}
}

/* A GRQ's rasAddress is a single TransportAddress: one that is not IP is read past correctly by
 * the PDU layer and refused by the codec as unsupported (fuzz finds). */
TEST(grq_with_a_non_ip_ras_address)
{
	/* 0x40 after the protocolIdentifier: root alternative 4, netBios, then its 16 octets */
	static const uint8_t netbios[] = {
	    0x02, 0xa0, 0x00, 0x63, 0x06, 0x00, 0x08, 0x91, 0x4a, 0x00, 0x07, 0x40,
	    0x04, 0x00, 0x61, 0x00, 0x3b, 0x00, 0x69, 0x00, 0x63, 0x00, 0x7d, 0x00,
	    0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x31, 0x01, 0x40, 0x04, 0x00,
	    0x61, 0x00, 0x3b, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00};
	/* 0x81: an extension alternative of TransportAddress (index 1), then its open type of
	 * 0x07 octets */
	static const uint8_t ext_alt[] = {
	    0x02, 0xa0, 0x00, 0x63, 0x06, 0x00, 0x08, 0x91, 0x4a, 0x00, 0x01, 0x81, 0x07,
	    0x00, 0x7d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0x01, 0x40,
	    0x04, 0x00, 0x61, 0x00, 0x3b, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00};
	const struct {
		const uint8_t *b;
		size_t n;
	} v[] = {{netbios, sizeof(netbios)}, {ext_alt, sizeof(ext_alt)}};
	static struct gk_ras_pdu p;
	struct gk_msg m;
	enum gk_reason why;

	for (unsigned i = 0; i < 2; i++) {
		ASSERT_EQ(0, gk_ras_pdu_decode(v[i].b, v[i].n, &p, &why))
		TH_LOG("vector %u: %s", i, gk_reason_str(why));
		EXPECT_EQ(GK_RAS_GRQ, p.type);
		EXPECT_EQ(0, p.ras.family);
		EXPECT_EQ(-1, gk_ras_decode(v[i].b, v[i].n, &m, &why));
		EXPECT_EQ(GK_R_PARSE_UNSUPPORTED, why);
	}
}

TEST(truncated_and_flipped_inputs)
{
	for (unsigned i = 0; i < N_MSGS; i++) {
		struct gk_msg a = build(i, i & 1), b;
		uint8_t w[1500], x[1500];
		enum gk_reason why;
		int n = gk_ras_encode(&a, w, sizeof(w));
		ASSERT_LT(0, n);
		/* every proper prefix is refused, with a parse reason */
		for (int k = 0; k < n; k++) {
			uint8_t *cut =
			    malloc(k ? (size_t)k : 1); /* exact size: ASan sees overreads */
			memcpy(cut, w, (size_t)k);
			EXPECT_EQ(-1, gk_ras_decode(cut, (size_t)k, &b, &why))
			TH_LOG("%u/%d", i, k);
			EXPECT_TRUE(why >= GK_R_PARSE_TRUNCATED && why <= GK_R_PARSE_UNSUPPORTED);
			free(cut);
		}
		/* every single bit flip: decoded or refused, never a crash; if decoded, it
		 * re-encodes and decodes to the same message */
		for (int bit = 0; bit < n * 8; bit++) {
			memcpy(x, w, (size_t)n);
			x[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			if (gk_ras_decode(x, (size_t)n, &b, &why) < 0) {
				EXPECT_TRUE(why >= GK_R_PARSE_TRUNCATED &&
				            why <= GK_R_PARSE_UNSUPPORTED);
				continue;
			}
			struct gk_msg c;
			uint8_t y[1500];
			int m = gk_ras_encode(&b, y, sizeof(y));
			ASSERT_LT(0, m) TH_LOG("flip %u/%d re-encodes", i, bit);
			ASSERT_EQ(0, gk_ras_decode(y, (size_t)m, &c, &why));
			same_msg(_metadata, &b, &c);
		}
	}
}

/* ---- mechanism ids from the wire ------------------------------------------------------------ */

/*
 * elementIDs that name no mechanism: 0 and 5 just outside 1..4; 31, 32 and 33 around the width of
 * the bitmask a choice tests them against (1u << 33 is undefined behaviour, and on x86 it is
 * 1u << 1, gk-mac's bit, which nobody offered as 33); 255, the most the PER INTEGER (0..255) holds.
 */
static const unsigned undefined_ids[] = {0, 5, 31, 32, 33, 255};
#define N_UNDEFINED (sizeof(undefined_ids) / sizeof(undefined_ids[0]))

/* Token k of gatekey's arc (docs/bindings-h323.md: 5 = gk1-mechs, 7 = gk1-params). */
static struct gk_ras_token *our_token(struct gk_ras_pdu *p, unsigned k)
{
	const struct gk_oid *a = gk_ras_arc();
	for (unsigned i = 0; i < p->n_tokens; i++) {
		struct gk_ras_token *t = &p->tokens[i];
		if (t->oid.n == a->n + 1 && gk_oid_under(&t->oid, a) == 1 && t->oid.arc[a->n] == k)
			return t;
	}
	return NULL;
}

enum craft { CRAFT_OFFER, CRAFT_ECHO, CRAFT_CHOSEN };

/*
 * A message of the exchange with one mechanism id set to `id` at the PDU layer, which writes any
 * elementID 0..255 (our encoder would not): an RRQ (ANSWER) whose offer's second entry is `id`,
 * or an RCF (SUCCESS) whose echoed list's second entry, or whose chosen mechanism, is `id`.
 */
static int craft(enum craft what, unsigned id, uint8_t *w, size_t cap)
{
	static struct gk_ras_pdu p;
	struct gk_msg m = build(what == CRAFT_OFFER ? 2 : 4, false);
	enum gk_reason why;
	int n = gk_ras_encode(&m, w, cap);

	if (n < 0 || gk_ras_pdu_decode(w, (size_t)n, &p, &why) < 0)
		return -1;
	struct gk_ras_token *t = our_token(&p, what == CRAFT_CHOSEN ? 7 : 5);
	if (!t || t->n_prof < 2)
		return -1;
	if (what == CRAFT_CHOSEN) {
		if (t->prof[0].id != 1) /* gk1-params element 1 = chosen */
			return -1;
		t->prof[0].v = id;
	} else {
		t->prof[1].id = (uint8_t)id;
	}
	return gk_ras_pdu_encode(&p, w, cap);
}

static const char *const craft_names[] = {"RRQ offer", "RCF echo", "RCF chosen"};

TEST(undefined_mechanism_ids_are_refused)
{
	uint8_t w[1500];
	struct gk_msg m;
	enum gk_reason why;

	for (int c = CRAFT_OFFER; c <= CRAFT_CHOSEN; c++) {
		/* The crafting itself is sound: the ids that name mechanisms decode. */
		for (unsigned id = GK_MECH_GKMAC; id <= GK_MECH_DIGEST; id++) {
			int n = craft(c, id, w, sizeof(w));
			ASSERT_LT(0, n) TH_LOG("%s %u", craft_names[c], id);
			ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &m, &why))
			TH_LOG("%s %u: %s", craft_names[c], id, gk_reason_name(why));
			EXPECT_EQ(id, c == CRAFT_CHOSEN ? m.chosen : m.mechs[1].mech);
		}
		for (size_t i = 0; i < N_UNDEFINED; i++) {
			int n = craft(c, undefined_ids[i], w, sizeof(w));
			ASSERT_LT(0, n) TH_LOG("%s %u", craft_names[c], undefined_ids[i]);
			EXPECT_EQ(-1, gk_ras_decode(w, (size_t)n, &m, &why))
			TH_LOG("%s with mechanism id %u accepted", craft_names[c],
			       undefined_ids[i]);
			EXPECT_STREQ("PARSE_BAD_VALUE", gk_reason_name(why));
			EXPECT_EQ(GK_MSG_NONE, m.type);
		}
	}
	/* Nor does the encoder write one: what it writes, the decoder must read. */
	struct gk_msg a = build(2, false);
	a.mechs[1].mech = 33;
	EXPECT_EQ(-EINVAL, gk_ras_encode(&a, w, sizeof(w)));
	a = build(4, false);
	a.chosen = GK_MECH_NONE;
	EXPECT_EQ(-EINVAL, gk_ras_encode(&a, w, sizeof(w)));
}

static void corpus_dir(char *buf, size_t cap)
{
	const char *src = __FILE__; /* .../tests/unit/test_ras.c */
	const char *tail = strstr(src, "tests/unit/test_ras.c");
	snprintf(buf, cap, "%.*stests/corpus/ras", tail ? (int)(tail - src) : 0, src);
}

/*
 * The fuzzer's seeds tests/corpus/ras/NN-*-mech-*.per are messages crafted as above (an RRQ offer
 * with each undefined id, an RCF echo and an RCF chosen with 33): they must stay refused, and
 * the fuzzer starts from them.
 */
TEST(corpus_seeds_with_undefined_mechanism_ids_are_refused)
{
	char dir[512], path[1024];
	unsigned seen = 0;
	struct dirent *de;

	corpus_dir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		static uint8_t buf[4096];
		struct gk_msg m;
		enum gk_reason why;

		if (!strstr(de->d_name, "-mech-"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		ASSERT_NE(NULL, f);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		EXPECT_EQ(-1, gk_ras_decode(buf, n, &m, &why)) TH_LOG("%s accepted", de->d_name);
		EXPECT_STREQ("PARSE_BAD_VALUE", gk_reason_name(why)) TH_LOG("%s", de->d_name);
		seen++;
	}
	closedir(d);
	EXPECT_EQ(N_UNDEFINED + 2, seen);
}

/* ---- the seed corpus: what the encoder writes ----------------------------------------------- */

enum seed_kind { SEED_MSG, SEED_CRAFT, SEED_NON_IP_CSA };

/*
 * The seeds of tests/corpus/ras/ that are the encoder's output, and how each is made: the
 * messages of the exchange (build(i, false), every one with TS 1700000000), the mechanism ids
 * crafted above, and the fuzz find behind rrq_with_empty_address_lists. The others (11, 12, 14,
 * 15) are assembled by hand or found by the fuzzer; all but 12 hold what the encoder never writes
 * (not_ours below).
 */
static const struct {
	const char *file;
	enum seed_kind kind;
	unsigned arg; /* SEED_MSG: i of build(); SEED_CRAFT: enum craft */
	unsigned id;  /* SEED_CRAFT: the mechanism id */
} seeds[] = {
    {"01-grq-register.per", SEED_MSG, 0, 0},
    {"02-grj-challenge.per", SEED_MSG, 1, 0},
    {"03-rrq-answer.per", SEED_MSG, 2, 0},
    {"04-rrj-challenge.per", SEED_MSG, 3, 0},
    {"05-rcf-success.per", SEED_MSG, 4, 0},
    {"06-grj-reject.per", SEED_MSG, 5, 0},
    {"07-urq-deregister.per", SEED_MSG, 6, 0},
    {"08-ucf-dereg-ok.per", SEED_MSG, 7, 0},
    {"09-rrq-keepalive-other.per", SEED_MSG, 8, 0},
    {"10-rcf-other-ok.per", SEED_MSG, 9, 0},
    {"13-rrq-empty-call-signal-address.per", SEED_NON_IP_CSA, 2, 0},
    {"16-rrq-offer-mech-0.per", SEED_CRAFT, CRAFT_OFFER, 0},
    {"17-rrq-offer-mech-5.per", SEED_CRAFT, CRAFT_OFFER, 5},
    {"18-rrq-offer-mech-31.per", SEED_CRAFT, CRAFT_OFFER, 31},
    {"19-rrq-offer-mech-32.per", SEED_CRAFT, CRAFT_OFFER, 32},
    {"20-rrq-offer-mech-33.per", SEED_CRAFT, CRAFT_OFFER, 33},
    {"21-rrq-offer-mech-255.per", SEED_CRAFT, CRAFT_OFFER, 255},
    {"22-rcf-echo-mech-33.per", SEED_CRAFT, CRAFT_ECHO, 33},
    {"23-rcf-chosen-mech-33.per", SEED_CRAFT, CRAFT_CHOSEN, 33},
    {"24-grj-overload.per", SEED_MSG, FIRST_OVERLOAD, 0},
    {"25-rrj-overload.per", SEED_MSG, FIRST_OVERLOAD + 1, 0},
};
#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

static int make_seed(unsigned k, uint8_t *w, size_t cap)
{
	struct gk_msg m = build(seeds[k].arg, false);
	int n;

	m.ts = 1700000000;
	m.fields |= GK_F_TS; /* the REJECT too */
	switch (seeds[k].kind) {
	case SEED_MSG:
		return gk_ras_encode(&m, w, cap);
	case SEED_CRAFT:
		return craft(seeds[k].arg, seeds[k].id, w, cap);
	case SEED_NON_IP_CSA:
		/*
		 * The RRQ of the ANSWER with the root's callSignalAddress rewritten as the fuzzer
		 * found it: discoveryComplete FALSE (padding 0010010), a list of one
		 * TransportAddress that is extension alternative 0 (its index in the long form of a
		 * normally small number: 80 01 00) with the open type 02 06 b8. The rasAddress list
		 * after it is the message's own, so the lengths agree.
		 */
		n = gk_ras_encode(&m, w, cap);
		if (n < 17 || memcmp(w + 11, "\x80\x01\x00\xc6\x12\x01", 6) != 0)
			return -1;
		memcpy(w + 11, "\x12\x01\xc6\x80\x01\x00", 6);
		return n;
	}
	return -1;
}

/* The committed seeds are what the encoder writes today, byte for byte: an encoder change that
 * moves them shows here, and GK_RAS_DUMP=<dir> writes the new ones to commit instead. */
TEST(seed_corpus_holds_what_the_encoder_writes)
{
	const char *dump = getenv("GK_RAS_DUMP");
	char dir[512], path[1024];

	if (dump)
		snprintf(dir, sizeof(dir), "%s", dump);
	else
		corpus_dir(dir, sizeof(dir));
	for (unsigned k = 0; k < N_SEEDS; k++) {
		static uint8_t w[1500];
		int n = make_seed(k, w, sizeof(w));

		ASSERT_LT(0, n) TH_LOG("%s", seeds[k].file);
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[k].file);
		EXPECT_EQ(0, seed_file_check(path, w, (size_t)n, dump)) TH_LOG("%s", path);
	}
}

/* ---- decode -> encode: the same bytes ------------------------------------------------------- */

/* The seeds that are not the encoder's output (found by the fuzzer or assembled by hand), and
 * what becomes of them when written again. */
static const struct {
	const char *file;
	bool encodes; /* else -EINVAL: the PDU holds a value the encoder never writes */
} not_ours[] = {
    /* an addition past GRJ's six, of a later version: skipped */
    {"11-grj-unknown-extension.per", true},
    /* discoveryComplete FALSE with nonzero padding, callSignalAddress an extension alternative
     * of TransportAddress: written TRUE and as an empty list */
    {"13-rrq-empty-call-signal-address.per", true},
    /* a GRQ's rasAddress that is NetBIOS / an extension alternative */
    {"14-grq-netbios-ras-address.per", false},
    {"15-grq-extension-ras-address.per", false},
};

/*
 * Every PDU the tests build: the messages of the exchange over IPv4 and IPv6, the seeds, a GCF
 * (which only the PDU layer writes), and the UCF of extension_bitmaps_hand_checked. Each carries
 * tokens, so each has an extension bitmap.
 */
#define N_BUILT (2 * N_MSGS + N_SEEDS + 2)
static int built_pdu(unsigned k, uint8_t *w, size_t cap)
{
	static struct gk_ras_pdu p;

	if (k < 2 * N_MSGS) {
		struct gk_msg m = build(k % N_MSGS, k >= N_MSGS);
		return gk_ras_encode(&m, w, cap);
	}
	k -= 2 * N_MSGS;
	if (k < N_SEEDS)
		return make_seed(k, w, cap);
	memset(&p, 0, sizeof(p));
	p.seq = 9, p.n_tokens = 1;
	p.tokens[0].oid = (struct gk_oid){{1, 2}, 2};
	p.tokens[0].has = GK_RAS_T_SENDERS;
	snprintf(p.tokens[0].senders, sizeof(p.tokens[0].senders), "a");
	if (k == N_SEEDS) {
		p.type = GK_RAS_GCF;
		p.proto = (struct gk_oid){{0, 0, 8, 2250, 0, 7}, 6};
		p.has_gkid = true;
		snprintf(p.gkid, sizeof(p.gkid), "ss1");
		p.ras = (struct gk_ras_taddr){4, {198, 18, 0, 1}, 1719};
	} else {
		p.type = GK_RAS_UCF;
	}
	return gk_ras_pdu_encode(&p, w, cap);
}

/* What the PDU layer reads from every seed and every PDU the tests build, it writes again byte
 * for byte: every bitmap is as long as the decoder's reading of it would make it. The seeds that
 * are not ours are read, and what they become is itself stable. */
TEST(decode_then_encode_gives_the_same_bytes)
{
	char dir[512], path[1024];
	unsigned files = 0;
	struct dirent *de;

	for (unsigned k = 0; k < N_BUILT; k++) {
		static struct gk_ras_pdu p;
		static uint8_t w[1500], w2[1500];
		enum gk_reason why;
		int n = built_pdu(k, w, sizeof(w));

		if (k >= 2 * N_MSGS && k < 2 * N_MSGS + N_SEEDS &&
		    seeds[k - 2 * N_MSGS].kind == SEED_NON_IP_CSA)
			continue; /* the fuzzer's, in not_ours below */
		ASSERT_LT(0, n) TH_LOG("PDU %u", k);
		ASSERT_EQ(0, gk_ras_pdu_decode(w, (size_t)n, &p, &why))
		TH_LOG("PDU %u: %s", k, gk_reason_name(why));
		EXPECT_EQ(n, gk_ras_pdu_encode(&p, w2, sizeof(w2))) TH_LOG("PDU %u", k);
		EXPECT_EQ(0, memcmp(w, w2, (size_t)n)) TH_LOG("PDU %u", k);
	}

	corpus_dir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		static struct gk_ras_pdu p, q;
		static uint8_t buf[4096], w[4096], w2[4096];
		enum gk_reason why;
		int ours = 1; /* 0: not_ours that encodes, -1: not_ours that does not */

		if (de->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
			if (!strcmp(de->d_name, not_ours[i].file))
				ours = not_ours[i].encodes ? 0 : -1;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		ASSERT_NE(NULL, f);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		files++;
		ASSERT_EQ(0, gk_ras_pdu_decode(buf, n, &p, &why))
		TH_LOG("%s: %s", de->d_name, gk_reason_name(why));
		int n2 = gk_ras_pdu_encode(&p, w, sizeof(w));
		if (ours == 1) {
			EXPECT_EQ((int)n, n2) TH_LOG("%s", de->d_name);
			EXPECT_EQ(0, memcmp(buf, w, n)) TH_LOG("%s", de->d_name);
		} else if (ours == -1) {
			EXPECT_EQ(-EINVAL, n2) TH_LOG("%s", de->d_name);
		} else {
			ASSERT_LT(0, n2) TH_LOG("%s", de->d_name);
			ASSERT_EQ(0, gk_ras_pdu_decode(w, (size_t)n2, &q, &why));
			EXPECT_EQ(n2, gk_ras_pdu_encode(&q, w2, sizeof(w2)))
			TH_LOG("%s", de->d_name);
			EXPECT_EQ(0, memcmp(w, w2, (size_t)n2)) TH_LOG("%s", de->d_name);
		}
	}
	closedir(d);
	EXPECT_LE(N_SEEDS + sizeof(not_ours) / sizeof(not_ours[0]), files);
}

TEST(arc_is_configurable)
{
	struct gk_msg a = build(0, false), b;
	uint8_t w[1500];
	enum gk_reason why;

	ASSERT_EQ(0, gk_ras_set_arc("1.3.6.1.4.1.32473.99"));
	int n = gk_ras_encode(&a, w, sizeof(w));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &b, &why));
	EXPECT_EQ(a.fields, b.fields);
	/* under the default arc, those tokens belong to someone else: skipped */
	ASSERT_EQ(0, gk_ras_set_arc(GK_RAS_ARC_DEFAULT));
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &b, &why));
	EXPECT_EQ(GK_MSG_REGISTER, b.type);
	EXPECT_EQ(0, b.fields); /* IDs from the h323-ID alias and gatekeeperIdentifier only */
	EXPECT_STREQ("alice", b.idc);
	EXPECT_EQ(-1, gk_ras_set_arc("1.3.x"));
	EXPECT_EQ(-1, gk_ras_set_arc("0.40"));
}

/* ---- tshark --------------------------------------------------------------------------------- */

static void pcap_put(FILE *f, unsigned i, bool v6, const uint8_t *p, size_t n)
{
	uint8_t fr[1600];
	size_t ulen = 8 + n, l3 = v6 ? 40 : 20, flen = 14 + l3 + ulen;
	uint32_t sum = 0;

	memset(fr, 0, sizeof(fr));
	memset(fr, 2, 6);
	memset(fr + 6, 4, 6);
	uint8_t *ip = fr + 14;
	if (v6) {
		fr[12] = 0x86, fr[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8), ip[5] = (uint8_t)ulen;
		ip[6] = 17, ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8::2", ip + 8);
		inet_pton(AF_INET6, "2001:db8::1", ip + 24);
	} else {
		fr[12] = 0x08;
		ip[0] = 0x45;
		ip[2] = (uint8_t)((l3 + ulen) >> 8), ip[3] = (uint8_t)(l3 + ulen);
		ip[5] = (uint8_t)i, ip[8] = 64, ip[9] = 17;
		memcpy(ip + 12, (uint8_t[]){198, 18, 1, 2}, 4);
		memcpy(ip + 16, (uint8_t[]){198, 18, 0, 1}, 4);
		for (int k = 0; k < 20; k += 2)
			sum += (uint32_t)ip[k] << 8 | ip[k + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		ip[10] = (uint8_t)(~sum >> 8), ip[11] = (uint8_t)~sum;
	}
	uint8_t *u = ip + l3;
	u[0] = u[2] = 1719 >> 8, u[1] = u[3] = 1719 & 0xff;
	u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
	memcpy(u + 8, p, n);
	if (v6) { /* UDP checksum is mandatory over IPv6 */
		uint32_t s = 17 + (uint32_t)ulen;
		for (int k = 8; k < 40; k += 2)
			s += (uint32_t)ip[k] << 8 | ip[k + 1];
		for (size_t k = 0; k < ulen; k += 2)
			s += (uint32_t)u[k] << 8 | (k + 1 < ulen ? u[k + 1] : 0);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		s = ~s & 0xffff;
		if (!s)
			s = 0xffff;
		u[6] = (uint8_t)(s >> 8), u[7] = (uint8_t)s;
	}
	pcap_record(f, i, fr, flen);
}

TEST(tshark_dissects_every_message)
{
	char dir[] = "/tmp/gk-ras-tshark-XXXXXX", path[256], cmd[1024];
	static char out[65536];

	/* make deps installs tshark: without it this is a broken setup, not a skip */
	ASSERT_EQ(0, system("command -v tshark >/dev/null 2>&1")) TH_LOG("tshark not installed");
	ASSERT_NE(NULL, mkdtemp(dir));
	for (int v6 = 0; v6 < 2; v6++) {
		snprintf(path, sizeof(path), "%s/ras%d.pcap", dir, v6);
		FILE *f = fopen(path, "wb");
		ASSERT_NE(NULL, f);
		pcap_begin(f);
		for (unsigned i = 0; i < N_MSGS; i++) {
			struct gk_msg a = build(i, v6);
			uint8_t w[1500];
			int n = gk_ras_encode(&a, w, sizeof(w));
			ASSERT_LT(0, n);
			pcap_put(f, i, v6, w, (size_t)n);
		}
		fclose(f);
		snprintf(cmd, sizeof(cmd),
		         "tshark -n -r %s -Y '_ws.malformed || _ws.expert.severity >= \"Error\"' "
		         "2>/dev/null | wc -l",
		         path);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_EQ(0, atoi(out)) TH_LOG("malformed or erroneous frames (v6=%d)", v6);
		snprintf(cmd, sizeof(cmd),
		         "tshark -n -r %s -T fields -e h225.RasMessage 2>/dev/null", path);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_STREQ(expect_ras, out);
		/* the overload refusals: GRJ and RRJ resourceUnavailable, the wait in gk1-params */
		snprintf(cmd, sizeof(cmd),
		         "tshark -n -r %s -Y 'frame.number>%u' -T fields -e h225.rejectReason "
		         "-e h235.elementID 2>/dev/null",
		         path, (unsigned)FIRST_OVERLOAD);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_STREQ("0\t4\n9\t4\n", out);
		/* Our data as H.235 fields: the SUCCESS (5th frame) */
		snprintf(
		    cmd, sizeof(cmd),
		    "tshark -n -r %s -Y frame.number==5 -T fields -E occurrence=f "
		    "-e h225.requestSeqNum -e h235.tokenOID -e h235.challenge -e h235.sendersID "
		    "-e h235.generalID -e h235.iv -e h235.elementID -e h235.algorithmOID "
		    "-e h225.timeToLive 2>/dev/null",
		    path);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_STREQ(
		    "104\t1.3.6.1.4.1.32473.323.1\t11111111111111111111111111111111\tss1\t"
		    "alice\t555555555555555555555555\t1\t1.3.6.1.4.1.32473.323.4.1\t3600\n",
		    out);
		/* and the MAC and AUTH as H.235 hashes, the timestamp as TimeStamp */
		snprintf(cmd, sizeof(cmd),
		         "tshark -n -r %s -Y 'frame.number==3 || frame.number==5' -T fields "
		         "-e h235.hash -e h235.timeStamp -E occurrence=f "
		         "-o 'gui.column.format:\"No\",\"%%m\"' 2>/dev/null | cut -f1",
		         path);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_STREQ("4444444444444444444444444444444444444444444444444444444444444444\n"
		             "6666666666666666666666666666666666666666666666666666666666666666\n",
		             out);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * The extension additions of each type in H.225.0 v7 (H323-MESSAGES, 12/2009) and H.235.0
 * (H235-SECURITY-MESSAGES, 09/2005), as the ASN.1 lists them after the "...": a bitmap must have
 * exactly these bits, and tshark's PER dissector, an implementation independent of ours, shows
 * each bit with the name of its addition.
 */
static const struct {
	const char *type;
	bool inner; /* a type inside the PDUs (H.235), not a RasMessage alternative */
	const char *additions;
} asn1_additions[] = {
    {"gatekeeperRequest", false,
     "alternateEndpoints tokens cryptoTokens authenticationCapability algorithmOIDs integrity "
     "integrityCheckValue supportsAltGK featureSet genericData supportsAssignedGK "
     "assignedGatekeeper"},
    {"gatekeeperConfirm", false,
     "alternateGatekeeper authenticationMode tokens cryptoTokens algorithmOID integrity "
     "integrityCheckValue featureSet genericData assignedGatekeeper rehomingModel"},
    {"gatekeeperReject", false,
     "altGKInfo tokens cryptoTokens integrityCheckValue featureSet genericData"},
    {"registrationRequest", false,
     "alternateEndpoints timeToLive tokens cryptoTokens integrityCheckValue keepAlive "
     "endpointIdentifier willSupplyUUIEs maintainConnection alternateTransportAddresses "
     "additiveRegistration terminalAliasPattern supportsAltGK usageReportingCapability "
     "multipleCalls supportedH248Packages callCreditCapability capacityReportingCapability "
     "capacity featureSet genericData restart supportsACFSequences supportsAssignedGK "
     "assignedGatekeeper transportQOS language"},
    {"registrationConfirm", false,
     "alternateGatekeeper timeToLive tokens cryptoTokens integrityCheckValue willRespondToIRR "
     "preGrantedARQ maintainConnection serviceControl supportsAdditiveRegistration "
     "terminalAliasPattern supportedPrefixes usageSpec featureServerAlias capacityReportingSpec "
     "featureSet genericData assignedGatekeeper rehomingModel transportQOS"},
    {"registrationReject", false,
     "altGKInfo tokens cryptoTokens integrityCheckValue featureSet genericData "
     "assignedGatekeeper"},
    {"unregistrationRequest", false,
     "alternateEndpoints gatekeeperIdentifier tokens cryptoTokens integrityCheckValue reason "
     "endpointAliasPattern supportedPrefixes alternateGatekeeper genericData assignedGatekeeper"},
    {"unregistrationConfirm", false,
     "tokens cryptoTokens integrityCheckValue genericData assignedGatekeeper"},
    /* inside the PDUs: the tokens, and the paramS of an h235Key */
    {"ClearToken", true, "eckasdhkey sendersID h235Key profileInfo"},
    {"Params", true, "iv16 iv clearSalt"},
    {"V3KeySyncMaterial", true, "genericKeyMaterial"},
};
#define N_ASN1_TYPES (sizeof(asn1_additions) / sizeof(asn1_additions[0]))

/* A bitmap as tshark shows it: "Number of Sequence Extensions: n - 1", then a line "Extension
 * Present Bit: ... (<addition> is [NOT ]present)" for each bit. The first in a frame must be its
 * PDU's; the others belong to the H.235 types. Problems are appended to err. */
static void check_bitmap(const char *pdu, bool first, long n, const char *names, char *err,
                         size_t cap)
{
	size_t used = strlen(err);
	bool ok = false;
	long count = 0;

	for (const char *s = names; *s; s++)
		count += *s == ' ';
	for (size_t t = 0; t < N_ASN1_TYPES; t++) {
		if (first ? strcmp(asn1_additions[t].type, pdu) != 0 : !asn1_additions[t].inner)
			continue;
		ok |= !strcmp(asn1_additions[t].additions, names[0] ? names + 1 : names);
	}
	if (!ok || count != n)
		snprintf(err + used, cap - used, "%s%s: %ld bits:%s\n", pdu,
		         first ? "" : " (inside)", n, names);
}

TEST(tshark_sees_full_extension_bitmaps)
{
	char dir[] = "/tmp/gk-ras-bitmaps-XXXXXX", path[256], cmd[1024];
	static char line[4096], names[4096], err[16384];
	char pdu[64] = "";
	long n = -1;
	unsigned frames = 0, bitmaps = 0, pdu_bitmaps = 0;
	bool first = false;

	ASSERT_EQ(0, system("command -v tshark >/dev/null 2>&1")) TH_LOG("tshark not installed");
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bitmaps.pcap", dir);
	FILE *f = fopen(path, "wb");
	ASSERT_NE(NULL, f);
	pcap_begin(f);
	for (unsigned k = 0; k < N_BUILT; k++) {
		uint8_t w[1500];
		int len = built_pdu(k, w, sizeof(w));
		ASSERT_LT(0, len);
		pcap_put(f, k, false, w, (size_t)len);
	}
	fclose(f);

	snprintf(cmd, sizeof(cmd),
	         "tshark -n -r %s -o per.display_internal_per_fields:TRUE -V 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	err[0] = '\0';
	while (fgets(line, sizeof(line), p)) {
		const char *s;
		if (n >= 0 && !strstr(line, "Extension Present Bit: ")) {
			check_bitmap(pdu, first, n, names, err, sizeof(err));
			bitmaps++, pdu_bitmaps += first;
			first = false, n = -1;
		}
		if ((s = strstr(line, "RasMessage: "))) {
			snprintf(pdu, sizeof(pdu), "%.*s", (int)strcspn(s + 12, " \n"), s + 12);
			first = true;
			frames++;
		} else if ((s = strstr(line, "Number of Sequence Extensions: "))) {
			n = atol(s + 31) + 1;
			names[0] = '\0';
		} else if (n >= 0 && (s = strstr(line, "Extension Present Bit: "))) {
			const char *a = strchr(s, '('), *b = a ? strstr(a, " is ") : NULL;
			size_t used = strlen(names);
			if (a && b)
				snprintf(names + used, sizeof(names) - used, " %.*s",
				         (int)(b - a - 1), a + 1);
		}
	}
	ASSERT_EQ(0, pclose(p));
	unlink(path);
	rmdir(dir);
	EXPECT_STREQ("", err);
	EXPECT_EQ(N_BUILT, frames);
	EXPECT_EQ(N_BUILT, pdu_bitmaps);
	EXPECT_LE(2 * N_BUILT, bitmaps); /* each has a ClearToken with sendersID at least */
}

/* ---- the success MAC over the encoded RCF --------------------------------------------------- */

TEST(success_mac_covers_the_encoded_rcf)
{
	struct gk_msg s = build(4, false), d, copy;
	uint8_t k[GK_KEY_LEN], canon[GK_CANON_MAX], w[1500], mac[GK_MAC_LEN];
	enum gk_reason why;

	gk_random(k, sizeof(k));
	s.wire.ras.pdu = GK_RAS_RRQ; /* built from the RRQ it answers, as the registrar does */
	memset(s.mac, 0, sizeof(s.mac));
	int c = gk_ras_success_canonical(&s, canon, sizeof(canon));
	ASSERT_LT(0, c);
	ASSERT_EQ(0, gk_response_mac(k, canon, (size_t)c, s.mac));
	int n = gk_ras_encode(&s, w, sizeof(w));
	ASSERT_EQ(c, n); /* the same encoding, but for the 32 MAC octets */
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &d, &why));
	size_t off = d.wire.ras.mac_off;
	EXPECT_EQ(0, memcmp(w + off, s.mac, GK_MAC_LEN));
	memcpy(mac, w + off, GK_MAC_LEN);
	memset(w + off, 0, GK_MAC_LEN);
	EXPECT_EQ(0, memcmp(w, canon, (size_t)n));
	memcpy(w + off, mac, GK_MAC_LEN);

	/* the terminal: received bytes, MAC zeroed, with the IDs it expects */
	memcpy(&copy, &d, sizeof(copy));
	c = gk_ras_success_canonical(&copy, canon, sizeof(canon));
	ASSERT_EQ(n, c);
	EXPECT_EQ(0, gk_response_mac_verify(k, canon, (size_t)c, d.mac));
	/* a success for another terminal does not verify */
	snprintf(copy.idc, sizeof(copy.idc), "bob");
	EXPECT_EQ(-EBADMSG, gk_ras_success_canonical(&copy, canon, sizeof(canon)));
	/* any changed octet outside the MAC (here the TS's last octet, found by value) fails */
	uint8_t ts[4] = {0x65, 0x53, 0xf1, 0x03}; /* 1700000004 - 1 */
	uint8_t *p = memmem(w, (size_t)n, ts, 4);
	ASSERT_NE(NULL, p);
	p[3] ^= 1;
	ASSERT_EQ(0, gk_ras_decode(w, (size_t)n, &d, &why));
	c = gk_ras_success_canonical(&d, canon, sizeof(canon));
	ASSERT_LT(0, c);
	EXPECT_EQ(-EBADMSG, gk_response_mac_verify(k, canon, (size_t)c, d.mac));
	/* the generic dispatcher keeps the canonical form for codecs without a hook (SIP) */
	struct gk_msg sip = build(4, false);
	sip.proto = GK_PROTO_SIP;
	EXPECT_EQ(gk_msg_success_canonical(&sip, canon, sizeof(canon)),
	          gk_codec_success_canonical(&sip, w, sizeof(w)));
}

/* ---- the whole exchange through the codec --------------------------------------------------- */

struct world {
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kss[GK_KEY_LEN], kc[GK_KEY_LEN];
	struct gk_msg out;
	bool have, sealed;
	uint32_t auc_handle;
	bool auc_pending;
	char auc_idc[GK_ID_MAX + 1];
	unsigned wire_msgs;
	uint64_t unique;
};

/* Every message crosses the wire: encoded, then decoded by the other side. */
static int through_wire(struct world *w, const struct gk_msg *m, struct gk_msg *out)
{
	uint8_t buf[1500];
	enum gk_reason why;
	int n = gk_ras_encode(m, buf, sizeof(buf));
	if (n < 0 || gk_ras_decode(buf, (size_t)n, out, &why) < 0)
		return -1;
	w->wire_msgs++;
	return 0;
}

static void w_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct world *w = user;
	(void)to;
	w->have = through_wire(w, m, &w->out) == 0;
	w->sealed = b != NULL;
}

static void w_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct world *w = user;
	(void)idsp;
	w->auc_handle = handle;
	w->auc_pending = true;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
}

static struct sockaddr_storage term_addr(void)
{
	struct sockaddr_storage a;
	char err[64];
	gk_parse_addr("198.18.1.2:1719", &a, err, sizeof(err));
	return a;
}

/* The terminal's request: addressed by the codec, sent, answered. */
static struct gk_msg *deliver(struct world *w, struct gk_msg *req, uint32_t index)
{
	struct sockaddr_storage from = term_addr();
	struct gk_request_ctx rc = {
	    .idc = req->idc, .idsp = req->idsp, .local = &from, .unique = ++w->unique};
	struct gk_msg m;

	req->proto = GK_PROTO_H323;
	gk_ras_codec.request_init(req, &rc);
	if (through_wire(w, req, &m) < 0)
		return NULL;
	w->have = false;
	gk_registrar_on_message(w->d.front, &m, &from, index);
	if (w->auc_pending) {
		struct gk_auc_vector v;
		const uint8_t *kc = strcmp(w->auc_idc, "alice") == 0 ? w->kc : NULL;
		gk_vector_make(kc, w->kss, GK_ROLE_SOFTSWITCH, w->auc_idc, "ss1", &v);
		w->auc_pending = false;
		gk_core_auc_vector(w->d.core, w->auc_handle, &v);
	}
	if (!w->have)
		return NULL;
	/* the response answers this request */
	if (gk_ras_codec.transaction_ref(&w->out) != gk_ras_seq_of(w->unique))
		return NULL;
	return &w->out;
}

FIXTURE(ras_exchange)
{
	struct world w;
	struct gk_terminal t;
};

FIXTURE_SETUP(ras_exchange)
{
	static const struct gk_direct_ops ops = {.send_terminal = w_send,
	                                         .auc_request = w_auc_request};
	char err[128];

	memset(&self->w, 0, sizeof(self->w));
	self->w.loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->w.loop);
	gk_random(self->w.kss, GK_KEY_LEN);
	gk_random(self->w.kc, GK_KEY_LEN);
	ASSERT_EQ(0, helper_direct_init(&self->w.d, self->w.loop, self->w.kss,
	                                (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST), &ops,
	                                &self->w, err, sizeof(err)));
	memset(&self->t, 0, sizeof(self->t));
	snprintf(self->t.idc, sizeof(self->t.idc), "alice");
	snprintf(self->t.idsp, sizeof(self->t.idsp), "ss1");
	memcpy(self->t.kc, self->w.kc, GK_KEY_LEN);
	self->t.offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	self->t.offer[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
	self->t.n_offer = 2;
	self->t.expires = 600;
}

FIXTURE_TEARDOWN(ras_exchange)
{
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
}

static void fpr_of(const struct gk_binding_info *bi, void *arg)
{
	memcpy(arg, bi->fpr, GK_FPR_HEX_LEN + 1);
}

TEST_F(ras_exchange, register_wrong_answer_and_deregister_over_ras)
{
	struct gk_msg req, next, *resp;
	char fpr[GK_FPR_HEX_LEN + 1] = "";

	/* GRQ -> GRJ (challenge) */
	gk_terminal_register(&self->t, &req);
	resp = deliver(&self->w, &req, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_CHALLENGE, resp->type);
	EXPECT_EQ(GK_RAS_GRJ, resp->wire.ras.pdu);
	EXPECT_TRUE(resp->fields & GK_F_WANT_MECHS);
	ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
	/* a wrong AUTH: RRQ -> RRJ carrying a fresh challenge */
	struct gk_msg bad = next;
	bad.auth[0] ^= 1;
	resp = deliver(&self->w, &bad, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_CHALLENGE, resp->type);
	EXPECT_EQ(GK_RAS_RRJ, resp->wire.ras.pdu);
	ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
	/* RRQ -> RCF: both ends hold the same key */
	resp = deliver(&self->w, &next, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(GK_RAS_RCF, resp->wire.ras.pdu);
	EXPECT_EQ(600, resp->expires);
	ASSERT_EQ(0, gk_terminal_on_message(&self->t, resp, &next));
	ASSERT_EQ(GK_TERM_REGISTERED, self->t.state);
	EXPECT_EQ(GK_MECH_GKMAC, self->t.chosen);
	gk_registrar_foreach(self->w.d.front, fpr_of, fpr);
	EXPECT_STREQ(self->t.fpr, fpr);

	/* OTHER: a keepAlive RRQ from the registered terminal -> plain RCF */
	memset(&req, 0, sizeof(req));
	req.type = GK_MSG_OTHER;
	snprintf(req.idc, sizeof(req.idc), "alice");
	snprintf(req.idsp, sizeof(req.idsp), "ss1");
	resp = deliver(&self->w, &req, self->t.index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_OTHER_OK, resp->type);
	EXPECT_TRUE(self->w.sealed);

	/* URQ -> UCF */
	gk_terminal_deregister(&self->t, &req);
	resp = deliver(&self->w, &req, self->t.index);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_DEREG_OK, resp->type);
	ASSERT_EQ(0, gk_terminal_on_message(&self->t, resp, &next));
	EXPECT_EQ(GK_TERM_IDLE, self->t.state);
	EXPECT_EQ(10, self->w.wire_msgs); /* GRQ GRJ RRQ RRJ RRQ RCF RRQ RCF URQ UCF */
}

/*
 * Below the codec: an answer whose offer names an undefined mechanism (as one would reach the
 * registrar from a codec that let it through) is refused NO_MECH and counted, never a shift by
 * the id. Under UBSan (make SAN=1) such a shift aborts the test.
 */
TEST_F(ras_exchange, undefined_mechanism_id_past_the_codec_is_never_chosen)
{
	const struct gk_registrar_stats *st = gk_registrar_stats(self->w.d.front);
	struct sockaddr_storage from = term_addr();
	struct gk_msg req, next, m, *resp;

	for (size_t i = 0; i < N_UNDEFINED; i++) {
		uint64_t before = st->reasons.n[GK_R_NO_MECH];
		gk_terminal_register(&self->t, &req);
		resp = deliver(&self->w, &req, 0);
		ASSERT_NE(NULL, resp);
		ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
		struct gk_request_ctx rc = {
		    .idc = next.idc, .idsp = next.idsp, .local = &from, .unique = ++self->w.unique};
		next.proto = GK_PROTO_H323;
		gk_ras_codec.request_init(&next, &rc);
		ASSERT_EQ(0, through_wire(&self->w, &next, &m));
		m.mechs[0] = (struct gk_mech_offer){(uint8_t)undefined_ids[i], 1000};
		m.n_mechs = 1;
		self->w.have = false;
		gk_registrar_on_message(self->w.d.front, &m, &from, 0);
		ASSERT_TRUE(self->w.have) TH_LOG("id %u: no answer", undefined_ids[i]);
		EXPECT_EQ(GK_MSG_REJECT, self->w.out.type) TH_LOG("id %u", undefined_ids[i]);
		EXPECT_EQ(before + 1, st->reasons.n[GK_R_NO_MECH])
		TH_LOG("id %u", undefined_ids[i]);
		EXPECT_FALSE(self->w.auc_pending); /* refused before the AuC is asked */
	}
}

/* The GRQ a registration began with, again after its RCF went out (a copy the network delayed
 * past it): whatever the element answers, the terminal still waiting for that RCF must not fail
 * on it, and must then take the RCF. A SUCCESS repeated in the GRQ's transaction could not: RAS
 * MACs the encoded message, its transaction included. */
TEST_F(ras_exchange, a_grq_repeated_after_the_rcf_breaks_nothing)
{
	struct gk_msg grq, next, rcf, m, ignored, *resp;
	struct sockaddr_storage from = term_addr();
	struct gk_terminal waiting;

	gk_terminal_register(&self->t, &grq);
	resp = deliver(&self->w, &grq, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
	waiting = self->t; /* the terminal whose RCF is still on its way */
	resp = deliver(&self->w, &next, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	rcf = *resp;

	ASSERT_EQ(0, through_wire(&self->w, &grq, &m)); /* byte for byte the first GRQ */
	self->w.have = false;
	gk_registrar_on_message(self->w.d.front, &m, &from, 0);
	if (self->w.have) {
		int rc = gk_terminal_on_message(&waiting, &self->w.out, &ignored);
		EXPECT_NE(-1, rc)
		{
			TH_LOG("the answer to the repeated GRQ failed the terminal: %s",
			       gk_reason_name(waiting.reason));
		}
	}
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->repeats_ignored);
	EXPECT_EQ(0, gk_terminal_on_message(&waiting, &rcf, &ignored));
	EXPECT_EQ(GK_TERM_REGISTERED, waiting.state);
	gk_wipe(&waiting, sizeof(waiting));
}

TEST_F(ras_exchange, unknown_terminal_gets_a_reject_over_ras)
{
	struct gk_msg req, next, *resp;

	snprintf(self->t.idc, sizeof(self->t.idc), "mallory");
	gk_terminal_register(&self->t, &req);
	resp = deliver(&self->w, &req, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_CHALLENGE, resp->type); /* looks the same as for a known IDc */
	ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
	for (int i = 0; i < 8 && resp && resp->type == GK_MSG_CHALLENGE; i++) {
		resp = deliver(&self->w, &next, 0);
		if (resp && resp->type == GK_MSG_CHALLENGE)
			ASSERT_EQ(1, gk_terminal_on_message(&self->t, resp, &next));
	}
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_RAS_RRJ, resp->wire.ras.pdu);
	EXPECT_EQ(-1, gk_terminal_on_message(&self->t, resp, &next));
}

TEST_HARNESS_MAIN
