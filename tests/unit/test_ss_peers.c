// SPDX-License-Identifier: GPL-2.0-only
/*
 * softswitchd's "sbc.peer = <sbc-id> <ip> <key-file>" (softswitchd/peers.c, compiled in here, as
 * unit tests link libgatekey only): the key file is required and read as the line is, so each
 * way it can be wrong is refused with a message the config reader prefixes with file:line; the
 * peer found by address is the one whose key opens its datagrams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "../../softswitchd/peers.c"
#include "gatekey/auc/keystore.h"

FIXTURE(peers)
{
	char dir[64], k1[128], k2[128], line[512], err[512];
	struct ss_peers peers;
};

FIXTURE_SETUP(peers)
{
	uint8_t key[GK_CORELEG_KEY_LEN];
	snprintf(self->dir, sizeof(self->dir), "/tmp/gk-peers-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->k1, sizeof(self->k1), "%s/sbc1.core", self->dir);
	snprintf(self->k2, sizeof(self->k2), "%s/sbc2.core", self->dir);
	memset(key, 1, sizeof(key));
	ASSERT_EQ(0, gk_provision_write(self->k1, "sbc1", key));
	memset(key, 2, sizeof(key));
	ASSERT_EQ(0, gk_provision_write(self->k2, "sbc2", key));
	memset(&self->peers, 0, sizeof(self->peers));
}

FIXTURE_TEARDOWN(peers)
{
	unlink(self->k1);
	unlink(self->k2);
	rmdir(self->dir);
}

static int add(struct _test_data_peers *self, const char *fmt, const char *file)
{
	snprintf(self->line, sizeof(self->line), fmt, file);
	self->err[0] = 0;
	return ss_peer_add(self->line, &self->peers, self->err, sizeof(self->err));
}

TEST_F(peers, key_file_required)
{
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.1%s", ""));
	EXPECT_NE(NULL, strstr(self->err, "core-leg key file is required"));
	EXPECT_EQ(0u, self->peers.n);
}

TEST_F(peers, bad_key_files)
{
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none", self->dir);
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.1 %s", missing));
	EXPECT_NE(NULL, strstr(self->err, "No such file"));
	/* another SBC's key */
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.1 %s", self->k2));
	EXPECT_NE(NULL, strstr(self->err, "not of \"sbc1\""));
	chmod(self->k1, 0640);
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.1 %s", self->k1));
	EXPECT_NE(NULL, strstr(self->err, "refused"));
	chmod(self->k1, 0600);
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.1 %s extra", self->k1));
	EXPECT_EQ(-1, add(self, "sbc1 nowhere %s", self->k1));
	EXPECT_EQ(0u, self->peers.n);
}

TEST_F(peers, duplicates_and_lookup)
{
	struct sockaddr_storage a = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a;

	ASSERT_EQ(0, add(self, "sbc1 10.0.0.1 %s", self->k1));
	EXPECT_EQ(-1, add(self, "sbc2 10.0.0.1 %s", self->k2)); /* same address */
	EXPECT_NE(NULL, strstr(self->err, "listed already"));
	EXPECT_EQ(-1, add(self, "sbc1 10.0.0.2 %s", self->k1)); /* same SBC */
	ASSERT_EQ(0, add(self, "sbc2 10.0.0.2 %s", self->k2));
	ASSERT_EQ(0, ss_peers_start(&self->peers, 1800000000u));
	for (unsigned i = 0; i < self->peers.n; i++)
		EXPECT_EQ(0, self->peers.p[i].leg_key[0]); /* wiped once derived */

	/* Each peer's leg pairs with that SBC's key only. */
	struct gk_coreleg sbc2;
	uint8_t key[GK_CORELEG_KEY_LEN], buf[64 + GK_TRAILER_LEN];
	memset(key, 2, sizeof(key));
	ASSERT_EQ(0, gk_coreleg_init(&sbc2, key, true));
	gk_coreleg_start(&sbc2, 1800000000u);
	memcpy(buf, "OPTIONS sip:ss1 SIP/2.0\r\n\r\n", 27);
	int n = gk_coreleg_seal(&sbc2, 1800000000u, buf, 27, sizeof(buf));
	ASSERT_LT(0, n);
	v4->sin_family = AF_INET;
	v4->sin_port = htons(40000); /* any port */
	inet_pton(AF_INET, "10.0.0.1", &v4->sin_addr);
	struct ss_peer *p1 = ss_peer_find(&self->peers, &a);
	inet_pton(AF_INET, "10.0.0.2", &v4->sin_addr);
	struct ss_peer *p2 = ss_peer_find(&self->peers, &a);
	ASSERT_NE(NULL, p1);
	ASSERT_NE(NULL, p2);
	EXPECT_STREQ("sbc2", p2->id);
	EXPECT_EQ(-1, gk_coreleg_open(&p1->leg, 1800000000u, buf, (size_t)n, NULL));
	EXPECT_EQ(27, gk_coreleg_open(&p2->leg, 1800000000u, buf, (size_t)n, NULL));
	ss_peers_wipe(&self->peers);
	EXPECT_EQ(0u, self->peers.n);
}

TEST_HARNESS_MAIN
