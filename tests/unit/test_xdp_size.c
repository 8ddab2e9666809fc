// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast path's size comes from the configuration (gk_fp_sizes_of): the XDP maps loaded for a
 * million terminals through the loader sbcd uses (gk_xdp_open, never attached), checked by their
 * sizes and by datagrams of the last terminal index under BPF_PROG_TEST_RUN; the userspace tables
 * sized alike; and maps pinned by an earlier run for another size or layout refused with what
 * differs, nothing in them changed, where the same size is taken back with its terminals. Pins go
 * to a bpffs this test mounts in a temporary directory of its own: a running sbcd's are never
 * touched. Prints the kernel memory of the million-terminal maps. Skips only without the
 * capability (helper_xdp.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kselftest_harness.h"

#include "helper_xdp.h"

#include "gatekey/fastpath/fp_user.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/fastpath/xdp.h"
#include "helper_frame.h"
#include "helper_tool.h"

#define MILLION (1u << 20)
#define KEY     "0123456789abcdef"

static const char opt_msg[] = "OPTIONS sip:sbc1.example.net SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n";

static uint32_t map_entries(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
}

static void v4(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	memcpy(&in->sin_addr, addr, 4);
}

/* The program's verdict on frame f, and that the counter of st moved by one. */
static int verdict(struct gk_xdp *x, const uint8_t *f, size_t n, enum gk_fp_stat st)
{
	uint8_t out[2048];
	uint64_t before[GK_FP_STAT__COUNT], after[GK_FP_STAT__COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)n,
	            .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (gk_xdp_stats(x, before) < 0 || bpf_prog_test_run_opts(gk_xdp_prog_fd(x), &o) < 0 ||
	    gk_xdp_stats(x, after) < 0)
		return -1;
	return after[st] == before[st] + 1 ? (int)o.retval : -2;
}

TEST(sizes_follow_max_terminals)
{
	const struct {
		uint32_t n, terminals, hint_bits;
	} cases[] = {
	    {0, 65536, 18},         {1, 65536, 18},       {65536, 65536, 18},
	    {65537, 65537, 19},     {262144, 262144, 20}, {1000000, 1000000, 22},
	    {MILLION, MILLION, 22},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_fp_sizes z;

		gk_fp_sizes_of(cases[i].n, &z);
		EXPECT_EQ(cases[i].terminals, z.terminals) TH_LOG("n = %u", cases[i].n);
		EXPECT_EQ(z.terminals, z.hosts);
		EXPECT_EQ(cases[i].hint_bits, z.hint_bits) TH_LOG("n = %u", cases[i].n);
		EXPECT_GE(1ull << z.hint_bits, 4ull * z.terminals);
	}
}

TEST(userspace_tables_sized_alike)
{
	struct gk_fp_user *u = gk_fp_user_new(MILLION), *small = gk_fp_user_new(1000);
	struct sockaddr_storage ss;

	ASSERT_NE(NULL, u);
	ASSERT_NE(NULL, small);
	EXPECT_EQ(MILLION, gk_fp_user_terminals(u));
	EXPECT_EQ(65536, gk_fp_user_terminals(small));
	v4(&ss, "\xc6\x12\x00\x02", 5062);
	EXPECT_EQ(0,
	          gk_fp_user_terminal_add(u, MILLION, &ss, GK_FP_MECH_GKMAC, (const uint8_t *)KEY));
	EXPECT_EQ(-EINVAL, gk_fp_user_terminal_add(u, MILLION + 1, &ss, GK_FP_MECH_GKMAC,
	                                           (const uint8_t *)KEY));
	EXPECT_GT(gk_fp_user_memory(u), gk_fp_user_memory(small));
	EXPECT_EQ(NULL, gk_fp_user_new(GK_FP_TERMINALS_MAX + 1));
	gk_fp_user_free(u);
	gk_fp_user_free(small);
}

/* The million-terminal maps, loaded unpinned the way sbcd loads them, and the program on them:
 * the last index verifies, one past it is unknown, and a digest terminal is found through a
 * source_hint slot 22 bits wide (the loader's width must be the program's). */
TEST(million_terminals_load)
{
	static const struct {
		const char *name;
		uint32_t entries;
	} maps[] = {
	    {"terminals", MILLION + 1}, {"sources", MILLION},        {"sessions", MILLION},
	    {"src_buckets", MILLION},   {"source_hint", 1u << 22},   {"config", 1},
	    {"global_bucket", 1},       {"stats", GK_FP_STAT_SLOTS},
	};
	struct frame_spec spec = {.sport = 5062, .dport = 5060};
	struct sockaddr_storage ss;
	struct gk_fp_config cfg;
	struct gk_xdp *x = NULL;
	char detail[256];
	uint8_t buf[512], f[1024];
	uint64_t bytes;
	size_t n;
	int len, err;

	XDP_CAPABLE_OR_SKIP(return );
	EXPECT_EQ(-ERANGE, gk_xdp_open(&x, NULL, NULL, GK_FP_TERMINALS_MAX + 1));
	EXPECT_EQ(NULL, x);
	err = gk_xdp_open(&x, NULL, NULL, MILLION);
	ASSERT_EQ(0, err)
	{
		TH_LOG("%u terminals: %s; the verifier's last lines:\n%s", MILLION, strerror(-err),
		       gk_xdp_load_log());
	}
	EXPECT_EQ(MILLION, gk_xdp_terminals(x));
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		EXPECT_EQ(maps[i].entries, map_entries(gk_xdp_map_fd(x, maps[i].name)))
		TH_LOG("map %s", maps[i].name);
	}
	bytes = gk_xdp_memory(x, detail, sizeof(detail));
	EXPECT_GT(bytes, (uint64_t)MILLION * 100) TH_LOG("%llu bytes", (unsigned long long)bytes);
	fprintf(stderr, "# %u terminals: %.1f MiB of kernel memory, %.0f bytes a terminal (%s)\n",
	        MILLION, bytes / (1024.0 * 1024.0), (double)bytes / MILLION, detail);

	gk_fp_config_default(&cfg);
	ASSERT_EQ(0, gk_xdp_set_config(x, &cfg));
	memcpy(spec.src, "\xc6\x12\x00\x02", 4);
	memcpy(spec.dst, "\xc6\x12\x00\x01", 4);
	v4(&ss, "\xc6\x12\x00\x02", 5062);
	ASSERT_EQ(0, gk_xdp_terminal_add(x, MILLION, &ss, GK_FP_MECH_GKMAC, (const uint8_t *)KEY));
	EXPECT_NE(0,
	          gk_xdp_terminal_add(x, MILLION + 1, &ss, GK_FP_MECH_GKMAC, (const uint8_t *)KEY));
	for (uint32_t index = MILLION; index <= MILLION + 1; index++) {
		memcpy(buf, opt_msg, sizeof(opt_msg) - 1);
		len = gk_pkt_seal((const uint8_t *)KEY, index, 1, buf, sizeof(opt_msg) - 1,
		                  sizeof(buf));
		ASSERT_LT(0, len);
		n = frame_build(&spec, buf, (size_t)len, f, sizeof(f));
		ASSERT_NE(0, n);
		if (index == MILLION) {
			EXPECT_EQ(XDP_PASS, verdict(x, f, n, GK_FP_PASS_GKMAC));
		} else {
			EXPECT_EQ(XDP_DROP, verdict(x, f, n, GK_FP_DROP_UNKNOWN_INDEX));
		}
	}

	/* Unframed, from a digest terminal's address: found through source_hint, then sources. */
	v4(&ss, "\xc6\x12\x09\x09", 5070);
	ASSERT_EQ(0, gk_xdp_terminal_add(x, MILLION - 1, &ss, GK_FP_MECH_DIGEST, NULL));
	memcpy(spec.src, "\xc6\x12\x09\x09", 4);
	spec.sport = 5070;
	n = frame_build(&spec, opt_msg, sizeof(opt_msg) - 1, f, sizeof(f));
	EXPECT_EQ(XDP_PASS, verdict(x, f, n, GK_FP_PASS_DIGEST));
	spec.sport = 5071;
	n = frame_build(&spec, opt_msg, sizeof(opt_msg) - 1, f, sizeof(f));
	EXPECT_EQ(XDP_DROP, verdict(x, f, n, GK_FP_DROP_NOT_REGISTRATION));
	gk_xdp_close(x);
}

/* sbcd refuses a registrar.max_terminals the fast path cannot hold, at its file:line, before it
 * opens a socket. */
TEST(sbcd_refuses_max_terminals_out_of_range)
{
	char dir[] = "/tmp/gk-size.XXXXXX", conf[64], cmd[512], out[2048];
	const char *build = getenv("GK_BUILD");
	FILE *f;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/sbcd.conf", dir);
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "# fast path\nregistrar.max_terminals = 1048577\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/bin/sbcd -c %s 2>&1", build ? build : "build", conf);
	EXPECT_NE(0, tool_output(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, ":2: registrar.max_terminals: expected a number from 1 to "
	                            "1048576, got \"1048577\""))
	TH_LOG("sbcd said: %s", out);
	unlink(conf);
	rmdir(dir);
}

/* A bpffs of the test's own, mounted in a temporary directory; pins go to <bpf>/<root>/lo. */
FIXTURE(pins)
{
	char tmp[64], bpf[80];
	bool mounted;
};

FIXTURE_SETUP(pins)
{

	self->mounted = false;
	XDP_CAPABLE_OR_SKIP(return );
	snprintf(self->tmp, sizeof(self->tmp), "/tmp/gk-pins.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmp));
	snprintf(self->bpf, sizeof(self->bpf), "%s/bpf", self->tmp);
	ASSERT_EQ(0, mkdir(self->bpf, 0700));
	ASSERT_EQ(0, mount("bpf", self->bpf, "bpf", 0, "mode=0700"))
	TH_LOG("mount bpffs on %s: %s", self->bpf, strerror(errno));
	self->mounted = true;
}

FIXTURE_TEARDOWN(pins)
{
	if (self->mounted)
		umount2(self->bpf, MNT_DETACH); /* the pins, and the maps, go with it */
	if (self->tmp[0] == '/') {
		rmdir(self->bpf);
		rmdir(self->tmp);
	}
}

#define NEED_PINS()                                                                                \
	do {                                                                                       \
		if (!self->mounted)                                                                \
			return;                                                                    \
	} while (0)

/* Everything a refused open must leave as it was, read straight from the pins. */
struct snap {
	uint32_t entries[8];
	struct gk_fp_terminal t7, t20;
	struct gk_fp_session s7;
	struct gk_fp_config cfg;
	uint32_t sources, hint_total;
	char names[256];
};

static const char *const pin_names[8] = {"config",      "terminals",     "sources", "source_hint",
                                         "src_buckets", "global_bucket", "stats",   "sessions"};

static int pin_fd(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* The names in dir, sorted, space-separated. */
static void list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t at = 0;

	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && at < len)
			at += (size_t)snprintf(out + at, len - at, "%s ", ents[i]->d_name);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static int take_snap(const char *dir, struct snap *s)
{
	uint32_t k7 = 7, k20 = 20, zero = 0, hint;
	struct gk_fp_source key, next, *prev = NULL;
	int fd;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 8; i++) {
		fd = pin_fd(dir, pin_names[i]);
		if (fd < 0)
			return -1;
		s->entries[i] = map_entries(fd);
		close(fd);
	}
	fd = pin_fd(dir, "terminals");
	if (fd < 0 || bpf_map_lookup_elem(fd, &k7, &s->t7) ||
	    bpf_map_lookup_elem(fd, &k20, &s->t20))
		return -1;
	close(fd);
	fd = pin_fd(dir, "sessions");
	if (fd < 0 || bpf_map_lookup_elem(fd, &k7, &s->s7))
		return -1;
	close(fd);
	fd = pin_fd(dir, "config");
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &s->cfg))
		return -1;
	close(fd);
	fd = pin_fd(dir, "sources");
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		s->sources++;
	}
	close(fd);
	fd = pin_fd(dir, "source_hint");
	for (uint32_t i = 0; fd >= 0 && i < (1u << 18); i++)
		if (bpf_map_lookup_elem(fd, &i, &hint) == 0)
			s->hint_total += hint;
	close(fd);
	list_dir(dir, s->names, sizeof(s->names));
	return 0;
}

static int collect(const struct gk_xdp_terminal_info *t, void *arg)
{
	uint32_t *seen = arg;

	*seen |= t->index == 7 ? 1 : t->index == 20 ? 2 : 4;
	return 0;
}

/* Pins made for the least size (what every earlier version made): another size is refused,
 * naming where, what they hold and what was asked, and nothing in them changes; the same size
 * (any registrar.max_terminals up to it) takes them back with their terminals. */
TEST_F(pins, other_size_refused_untouched_same_size_kept)
{
	NEED_PINS();
	char root[128], dir[160];
	struct gk_xdp *x = NULL;
	struct sockaddr_storage a, b;
	struct gk_fp_session sess = {.index = 7, .mech = 1, .idc = "alice", .fpr = "00ff"};
	struct gk_fp_config cfg;
	struct snap before, after;
	const struct gk_xdp_pin_conflict *c;
	uint32_t seen = 0;
	int err;

	snprintf(root, sizeof(root), "%s/size", self->bpf);
	snprintf(dir, sizeof(dir), "%s/lo", root);
	err = gk_xdp_open(&x, "lo", root, 0);
	ASSERT_EQ(0, err) TH_LOG("%s\n%s", strerror(-err), gk_xdp_load_log());
	gk_fp_config_default(&cfg);
	cfg.source = (struct gk_fp_rate){7, 9};
	ASSERT_EQ(0, gk_xdp_set_config(x, &cfg));
	v4(&a, "\xc6\x12\x00\x02", 5062);
	v4(&b, "\xc6\x12\x00\x05", 5070);
	ASSERT_EQ(0, gk_xdp_terminal_add(x, 7, &a, GK_FP_MECH_GKMAC, (const uint8_t *)KEY));
	ASSERT_EQ(0, gk_xdp_terminal_add(x, 20, &b, GK_FP_MECH_DIGEST, NULL));
	memcpy(sess.uplink, KEY, 16);
	ASSERT_EQ(0, gk_xdp_session_put(x, &sess));
	gk_xdp_close(x);
	x = NULL;
	ASSERT_EQ(0, take_snap(dir, &before));
	EXPECT_EQ(65537, before.entries[1]);
	EXPECT_EQ(2, before.sources);
	EXPECT_EQ(2, before.hint_total);

	err = gk_xdp_open(&x, "lo", root, 131072);
	EXPECT_EQ(-EEXIST, err);
	EXPECT_EQ(NULL, x);
	c = gk_xdp_pin_conflict();
	EXPECT_STREQ(dir, c->dir);
	EXPECT_STREQ("terminals", c->map);
	EXPECT_EQ(131072, c->terminals);
	EXPECT_EQ(65536, c->pinned_terminals);
	EXPECT_NE(NULL, strstr(c->what, "made for 65536 terminals, not 131072"))
	TH_LOG("%s", c->what);
	EXPECT_NE(NULL, strstr(c->what, "131072")) TH_LOG("%s", c->what);
	fprintf(stderr, "# refused: %s: %s\n", c->dir, c->what);

	ASSERT_EQ(0, take_snap(dir, &after));
	EXPECT_EQ(0, memcmp(before.entries, after.entries, sizeof(before.entries)));
	EXPECT_EQ(0, memcmp(&before.t7, &after.t7, sizeof(before.t7)));
	EXPECT_EQ(0, memcmp(&before.t20, &after.t20, sizeof(before.t20)));
	EXPECT_EQ(0, memcmp(&before.s7, &after.s7, sizeof(before.s7)));
	EXPECT_EQ(0, memcmp(&before.cfg, &after.cfg, sizeof(before.cfg)));
	EXPECT_EQ(before.sources, after.sources);
	EXPECT_EQ(before.hint_total, after.hint_total);
	EXPECT_STREQ(before.names, after.names);

	/* Any size up to the least one is the least one: the terminals are taken back. */
	err = gk_xdp_open(&x, "lo", root, 1000);
	ASSERT_EQ(0, err) TH_LOG("%s: %s", strerror(-err), gk_xdp_pin_conflict()->what);
	EXPECT_EQ(2, gk_xdp_terminal_foreach(x, collect, &seen));
	EXPECT_EQ(3, seen);
	EXPECT_EQ(0, gk_xdp_get_config(x, &cfg));
	EXPECT_EQ(9, cfg.source.burst);
	gk_xdp_close(x);
}

/* Pins made for more terminals than asked are refused too, and say how many they hold. */
TEST_F(pins, larger_pins_refused)
{
	NEED_PINS();
	char root[128], dir[160];
	struct gk_xdp *x = NULL;
	const struct gk_xdp_pin_conflict *c;
	int err;

	snprintf(root, sizeof(root), "%s/large", self->bpf);
	snprintf(dir, sizeof(dir), "%s/lo", root);
	err = gk_xdp_open(&x, "lo", root, 100000);
	ASSERT_EQ(0, err) TH_LOG("%s\n%s", strerror(-err), gk_xdp_load_log());
	gk_xdp_close(x);
	x = NULL;
	EXPECT_EQ(-EEXIST, gk_xdp_open(&x, "lo", root, 0));
	c = gk_xdp_pin_conflict();
	EXPECT_STREQ(dir, c->dir);
	EXPECT_EQ(65536, c->terminals);
	EXPECT_EQ(100000, c->pinned_terminals);
	err = gk_xdp_open(&x, "lo", root, 100000);
	EXPECT_EQ(0, err);
	gk_xdp_close(x);
}

/* A pinned map of another layout (another version's) is named, with both layouts, and left
 * alone; nothing else is created beside it. */
TEST_F(pins, other_layout_refused_untouched)
{
	NEED_PINS();
	char root[128], dir[160], path[200], names[256];
	struct gk_xdp *x = NULL;
	const struct gk_xdp_pin_conflict *c;
	uint8_t val[100], back[100];
	uint32_t key = 7;
	int fd;

	snprintf(root, sizeof(root), "%s/layout", self->bpf);
	snprintf(dir, sizeof(dir), "%s/lo", root);
	ASSERT_EQ(0, mkdir(root, 0700));
	ASSERT_EQ(0, mkdir(dir, 0700));
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sessions", 4, sizeof(val), 65536, NULL);
	ASSERT_LE(0, fd) TH_LOG("bpf_map_create: %s", strerror(errno));
	memset(val, 0x5a, sizeof(val));
	ASSERT_EQ(0, bpf_map_update_elem(fd, &key, val, BPF_ANY));
	snprintf(path, sizeof(path), "%s/sessions", dir);
	ASSERT_EQ(0, bpf_obj_pin(fd, path));
	close(fd);

	EXPECT_EQ(-EEXIST, gk_xdp_open(&x, "lo", root, 0));
	EXPECT_EQ(NULL, x);
	c = gk_xdp_pin_conflict();
	EXPECT_STREQ(dir, c->dir);
	EXPECT_STREQ("sessions", c->map);
	EXPECT_EQ(0, c->pinned_terminals);
	EXPECT_NE(NULL, strstr(c->what, "another layout")) TH_LOG("%s", c->what);
	EXPECT_NE(NULL, strstr(c->what, "value 100 B")) TH_LOG("%s", c->what);
	fprintf(stderr, "# refused: %s: %s\n", c->dir, c->what);

	fd = bpf_obj_get(path);
	ASSERT_LE(0, fd);
	EXPECT_EQ(65536, map_entries(fd));
	EXPECT_EQ(0, bpf_map_lookup_elem(fd, &key, back));
	EXPECT_EQ(0, memcmp(val, back, sizeof(val)));
	close(fd);
	list_dir(dir, names, sizeof(names));
	EXPECT_STREQ("sessions ", names);
}

TEST_HARNESS_MAIN
