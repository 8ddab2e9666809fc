// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast path recognises registration-class messages with its own small automata
 * (gatekey/fastpath.h, also in the XDP program); the codecs decide with their parsers. For every
 * seed datagram of every binding the two must agree, or the kernel would drop a registration the
 * daemon expects, or let through one it would refuse as unknown-source traffic.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/codec/codec.h"
#include "gatekey/fastpath/fastpath.h"

extern const struct gk_codec gk_sip_codec, gk_mgcp_codec, gk_h248_codec, gk_ras_codec;

static const struct {
	const char *dir;
	const struct gk_codec *codec;
	__u32 fp_proto;
} bindings[] = {
    {"sip", &gk_sip_codec, GK_FP_PROTO_SIP},
    {"mgcp", &gk_mgcp_codec, GK_FP_PROTO_MGCP},
    {"h248", &gk_h248_codec, GK_FP_PROTO_H248},
    {"ras", &gk_ras_codec, GK_FP_PROTO_RAS},
};

static void corpus_dir(char *buf, size_t cap, const char *name)
{
	const char *src = __FILE__; /* .../tests/unit/test_classify.c */
	const char *tail = strstr(src, "tests/unit/test_classify.c");
	snprintf(buf, cap, "%.*stests/corpus/%s", tail ? (int)(tail - src) : 0, src, name);
}

TEST(fast_path_and_codecs_agree_on_every_seed)
{
	for (size_t b = 0; b < sizeof(bindings) / sizeof(bindings[0]); b++) {
		char dir[512], path[1024];
		unsigned files = 0, registrations = 0;
		struct dirent *de;

		corpus_dir(dir, sizeof(dir), bindings[b].dir);
		DIR *d = opendir(dir);
		ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
		while ((de = readdir(d))) {
			static uint8_t buf[GK_FP_BUF];
			struct gk_fp_dfa ws;
			size_t n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			FILE *f = fopen(path, "rb");
			ASSERT_NE(NULL, f);
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			if (n > GK_FP_MAX_PAYLOAD)
				continue; /* the fast path drops those before classifying */
			int codec = bindings[b].codec->is_registration(buf, n) > 0;
			int fast =
			    gk_fp_is_registration(bindings[b].fp_proto, buf, (__u32)n, &ws) > 0;
			EXPECT_EQ(codec, fast) TH_LOG("%s/%s", bindings[b].dir, de->d_name);
			files++;
			registrations += (unsigned)codec;
		}
		closedir(d);
		/* Each corpus holds registrations and other messages: the test sees both sides. */
		EXPECT_LT(0u, registrations) TH_LOG("%s", bindings[b].dir);
		EXPECT_LT(registrations, files) TH_LOG("%s", bindings[b].dir);
	}
}

TEST_HARNESS_MAIN
