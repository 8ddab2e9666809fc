// SPDX-License-Identifier: GPL-2.0-only
/* The shared configuration format: values parse, bad input names file:line and the fix, and the
 * key table prints as --help and gatekey.conf(5) show it (defaults, ranges, scdoc escapes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/exchange/front_settings.h"

struct settings {
	char name[GK_CFG_STR_MAX];
	uint32_t count, wait_ms;
	bool flag;
	struct sockaddr_storage addr;
	struct gk_radius_peers peers;
};

static void keys_for(struct settings *s, struct gk_cfg_key *k)
{
	struct gk_cfg_key t[] = {
	    GK_CFG_KEY("a.name", GK_CFG_STR, s->name, ""),
	    GK_CFG_KEY("a.count", GK_CFG_U32, &s->count, ""),
	    GK_CFG_KEY("a.wait", GK_CFG_DURATION, &s->wait_ms, ""),
	    GK_CFG_KEY("a.flag", GK_CFG_BOOL, &s->flag, ""),
	    GK_CFG_KEY("a.addr", GK_CFG_ADDR, &s->addr, ""),
	    {.name = "a.peer",
	     .kind = GK_CFG_STR,
	     .multi = true,
	     .on_multi = gk_radius_peer_add,
	     .multi_arg = &s->peers},
	    {0},
	};
	memcpy(k, t, sizeof(t));
}

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/gk-cfg-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

TEST(values_parse)
{
	struct settings s = {0};
	struct gk_cfg_key k[8];
	char err[256];
	keys_for(&s, k);
	char *p = write_tmp("# comment\n\n a.name = \"ss one\"  # trailing\na.count=42\n"
	                    "a.wait = 250ms\na.flag = yes\na.addr = [2001:db8::1]:5060\n"
	                    "a.peer = 198.18.0.0/15 s3cret\na.peer = 2001:db8::/32 other\n");
	ASSERT_EQ(0, gk_cfg_load(k, p, err, sizeof(err)));
	unlink(p);
	EXPECT_STREQ("ss one", s.name);
	EXPECT_EQ(42, s.count);
	EXPECT_EQ(250, s.wait_ms);
	EXPECT_TRUE(s.flag);
	EXPECT_EQ(AF_INET6, s.addr.ss_family);
	ASSERT_EQ(2, s.peers.n);
	struct sockaddr_storage from;
	gk_parse_addr("198.19.255.1:1", &from, err, sizeof(err));
	ASSERT_NE(NULL, gk_radius_peer_find(&s.peers, &from));
	EXPECT_EQ(0, memcmp("s3cret", gk_radius_peer_find(&s.peers, &from)->secret, 6));
	gk_parse_addr("198.20.0.1:1", &from, err, sizeof(err));
	EXPECT_EQ(NULL, gk_radius_peer_find(&s.peers, &from));
	/* --set overrides. */
	ASSERT_EQ(0, gk_cfg_set(k, "a.count=7", "--set", err, sizeof(err)));
	EXPECT_EQ(7, s.count);
}

TEST(errors_name_the_line_and_what_was_expected)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"a.count = 1\na.count = x\n", ":2: a.count expects a whole number"},
	    {"a.count = -1\n", ":1: a.count expects a whole number"},
	    {"a.wait = 5 parsecs\n", ":1: a.wait expects a duration"},
	    {"a.flag = maybe\n", ":1: a.flag expects yes or no"},
	    {"a.addr = 198.18.0.1\n", ":1: a.addr: expected an address as ip:port"},
	    {"a.addr = 198.18.0.1:99999\n", ":1: a.addr: expected an address"},
	    {"\n\nbogus = 1\n", ":3: unknown key \"bogus\"; expected one of: a.name"},
	    {"a.name\n", ":1: expected \"key = value\""},
	    {"a.peer = 198.18.0.1\n", ":1: expected \"<ip>[/prefix] <shared secret>\""},
	    {"a.peer = 198.18.0.1/33 x\n", ":1: prefix length 33 too long"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct settings s = {0};
		struct gk_cfg_key k[8];
		char err[512];
		keys_for(&s, k);
		char *p = write_tmp(cases[i].text);
		EXPECT_EQ(-1, gk_cfg_load(k, p, err, sizeof(err)));
		EXPECT_EQ(0, strncmp(err, p, strlen(p)));
		EXPECT_NE(NULL, strstr(err, cases[i].want))
		{
			TH_LOG("case %zu: got \"%s\"", i, err);
		}
		unlink(p);
	}
}

TEST(addresses_format_back)
{
	struct sockaddr_storage a;
	char err[128], out[64];
	ASSERT_EQ(0, gk_parse_addr("198.18.0.1:5060", &a, err, sizeof(err)));
	gk_format_addr(&a, out, sizeof(out));
	EXPECT_STREQ("198.18.0.1:5060", out);
	ASSERT_EQ(0, gk_parse_addr("[2001:db8::1]:1812", &a, err, sizeof(err)));
	gk_format_addr(&a, out, sizeof(out));
	EXPECT_STREQ("[2001:db8::1]:1812", out);
	/* IPv4 is written by hand: every digit count, and a buffer too short is cut, terminated */
	static const char *const v4[] = {"0.0.0.0:0", "255.255.255.255:65535", "198.19.10.100:1",
	                                 "9.99.100.7:10000"};
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		ASSERT_EQ(0, gk_parse_addr(v4[i], &a, err, sizeof(err)));
		gk_format_addr(&a, out, sizeof(out));
		EXPECT_STREQ(v4[i], out);
	}
	gk_format_addr(&a, out, 5);
	EXPECT_STREQ("9.99", out);
}

TEST(front_listener_keys)
{
	struct gk_front_listeners l;
	struct gk_cfg_key k[8];
	char err[256], *p;

	gk_front_listener_keys(&l, k, 0, 8);
	EXPECT_EQ(1048576, l.transactions);
	EXPECT_EQ(65536, l.in_flight);
	p = write_tmp("mgcp.listen = 198.18.0.1:2727\nmgcp.listen = [2001:db8::1]:2727\n"
	              "cmd.transactions = 64\n");
	ASSERT_EQ(0, gk_cfg_load(k, p, err, sizeof(err))) TH_LOG("%s", err);
	unlink(p);
	EXPECT_EQ(2, l.proto[0].n);
	EXPECT_EQ(64, l.transactions);

	p = write_tmp("\ncmd.transactions = 8\n");
	EXPECT_EQ(-1, gk_cfg_load(k, p, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, ":2: cmd.transactions: expected a number from 16 to"))
	TH_LOG("%s", err);
	unlink(p);
	EXPECT_EQ(64, l.transactions); /* a refused value changes nothing */
	p = write_tmp("cmd.transactions = 12x\n");
	EXPECT_EQ(-1, gk_cfg_load(k, p, err, sizeof(err)));
	unlink(p);
	/* the same range on the command line */
	EXPECT_EQ(-1, gk_cfg_set(k, "cmd.transactions=5000000", "--set", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "from 16 to 4194304, got \"5000000\"")) TH_LOG("%s", err);
	EXPECT_EQ(0, gk_cfg_set(k, "cmd.transactions=4194304", "--set", err, sizeof(err)));
	EXPECT_EQ(4194304, l.transactions);
	EXPECT_EQ(0, gk_cfg_set(k, "cmd.in_flight=1000", "--set", err, sizeof(err)));
	EXPECT_EQ(1000, l.in_flight);
	EXPECT_EQ(4194304, l.transactions);
	gk_front_listener_keys(&l, k, 0, 8);
	p = write_tmp("mgcp.listen = 198.18.0.1:2727\nmgcp.listen = 198.18.0.2:2727\n"
	              "mgcp.listen = 198.18.0.3:2727\n");
	EXPECT_EQ(-1, gk_cfg_load(k, p, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, ":3: ")) TH_LOG("%s", err);
	unlink(p);
}

/*
 * registrar.mechanisms names only what the element enforces: gk-mac, digest, and ipsec-3gpp
 * (the kernel's SAs). tls exists as a name (a terminal may offer it) but nothing implements it:
 * configured, it used to be chosen and then enforced as digest-style address pinning.
 */
TEST(registrar_mechanisms_refuses_what_is_not_implemented)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"registrar.mechanisms = gk-mac tls\n",
	     ":1: registrar.mechanisms: \"tls\" is not implemented yet"},
	    {"registrar.skew = 30s\nregistrar.mechanisms = ipsec-3gpp, tls\n",
	     ":2: registrar.mechanisms: \"tls\" is not implemented yet"},
	    {"registrar.mechanisms = TLS\n",
	     ":1: registrar.mechanisms: \"TLS\" is not implemented"},
	    {"registrar.mechanisms = gk-mac bogus\n",
	     ":1: registrar.mechanisms: unknown mechanism \"bogus\" (expected gk-mac, digest, "
	     "ipsec-3gpp)"},
	    {"registrar.mechanisms = ,\n", ":1: registrar.mechanisms: the mechanism list is empty"},
	};
	struct gk_front_settings s;
	struct gk_registrar_cfg rc;
	struct gk_cfg_key k[16];
	char err[512], *p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gk_front_settings_keys(&s, k, 0, 16);
		p = write_tmp(cases[i].text);
		EXPECT_EQ(-1, gk_cfg_load(k, p, err, sizeof(err)));
		EXPECT_EQ(0, strncmp(err, p, strlen(p))) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, cases[i].want)) TH_LOG("case %zu: got \"%s\"", i, err);
		unlink(p);
		EXPECT_STREQ("gk-mac", s.mechanisms); /* a refused value changes nothing */
	}
	/* The same on the command line. */
	gk_front_settings_keys(&s, k, 0, 16);
	EXPECT_EQ(-1, gk_cfg_set(k, "registrar.mechanisms=digest tls", "--set", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--set: registrar.mechanisms: \"tls\" is not implemented yet"))
	TH_LOG("%s", err);

	/* What is enforced loads and reaches the registrar's mask; the last line counts. */
	p = write_tmp("registrar.mechanisms = gk-mac\nregistrar.mechanisms = gk-mac, digest\n");
	ASSERT_EQ(0, gk_cfg_load(k, p, err, sizeof(err))) TH_LOG("%s", err);
	unlink(p);
	gk_registrar_cfg_defaults(&rc);
	ASSERT_EQ(0, gk_front_settings_apply(&s, &rc, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ((1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST), rc.mechs_supported);
	/* And the default is gk-mac alone. */
	gk_front_settings_keys(&s, k, 0, 16);
	gk_registrar_cfg_defaults(&rc);
	ASSERT_EQ(0, gk_front_settings_apply(&s, &rc, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1u << GK_MECH_GKMAC, rc.mechs_supported);
}

/* --help and gatekey.conf(5) print each key's current value as its default, in the form a file
 * would write it, and the range of a bounded number; scdoc output escapes its emphasis marks. */
TEST(table_prints_defaults_and_ranges)
{
	struct settings s = {.count = 7, .wait_ms = 300000, .flag = true};
	struct gk_cfg_key k[8];
	char v[GK_CFG_STR_MAX + 64], err[128], *text = NULL;
	size_t len = 0;
	uint32_t lim = 5;

	keys_for(&s, k);
	snprintf(s.name, sizeof(s.name), "x_y");
	ASSERT_EQ(0, gk_parse_addr("192.0.2.1:5060", &s.addr, err, sizeof(err)));
	gk_cfg_format_value(&k[0], v, sizeof(v));
	EXPECT_STREQ("x_y", v);
	gk_cfg_format_value(&k[1], v, sizeof(v));
	EXPECT_STREQ("7", v);
	gk_cfg_format_value(&k[2], v, sizeof(v));
	EXPECT_STREQ("5m", v);
	s.wait_ms = 1500;
	gk_cfg_format_value(&k[2], v, sizeof(v));
	EXPECT_STREQ("1500ms", v);
	gk_cfg_format_value(&k[3], v, sizeof(v));
	EXPECT_STREQ("yes", v);
	gk_cfg_format_value(&k[4], v, sizeof(v));
	EXPECT_STREQ("192.0.2.1:5060", v);
	gk_cfg_format_value(&k[5], v, sizeof(v)); /* a multi key without .def: nothing to show */
	EXPECT_STREQ("", v);
	k[5].def = "none";
	gk_cfg_format_value(&k[5], v, sizeof(v));
	EXPECT_STREQ("none", v);

	/* a bounded number, printed as text and as scdoc */
	k[6] = (struct gk_cfg_key)GK_CFG_RANGE("a.limit", &lim, 1, 10, "at most *this*");
	k[7] = (struct gk_cfg_key){0};
	FILE *f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	gk_cfg_print_table(k, GK_CFG_STYLE_TEXT, f);
	fclose(f);
	EXPECT_NE(NULL, strstr(text, "[number; default 5; 1 to 10]"));
	EXPECT_NE(NULL, strstr(text, "[duration; default 1500ms]"));
	free(text);
	f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	gk_cfg_print_table(k, GK_CFG_STYLE_SCDOC, f);
	fclose(f);
	EXPECT_NE(
	    NULL,
	    strstr(text, "*a.limit* (number)\n\tat most \\*this\\*. Default: 5. Range: 1 to 10."));
	EXPECT_NE(NULL, strstr(text, "*a.name* (text)\n\tDefault: x\\_y.\n"));
	free(text);

	EXPECT_EQ(GK_CFG_STYLE_TEXT, gk_cfg_style_parse("text"));
	EXPECT_EQ(GK_CFG_STYLE_SCDOC, gk_cfg_style_parse("scdoc"));
	EXPECT_EQ(-1, gk_cfg_style_parse("man"));
}

TEST_HARNESS_MAIN
