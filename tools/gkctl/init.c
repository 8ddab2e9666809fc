// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkctl init: a single-host deployment in one step. It writes what README.md's "Running it by
 * hand" otherwise takes a dozen commands for: the key-encryption key, the key store with the
 * softswitch's and the SBC's element keys and the first subscriber, the SBC's core-leg key, a
 * random RADIUS secret, and the three daemons' configurations, each file 0600 and owned by the
 * user whose daemon reads it (the package's units' users, where they exist).
 *
 * It sets up a new host, never changes one: any file it would write that exists already stops
 * it before it writes anything, and a failure half-way removes what it wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gatekey/auc/keystore.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/fdio.h"

#include "init.h"

#define PATH_CAP   4096
#define SECRET_LEN 24 /* random bytes of the RADIUS secret, written as hex */

/* What the files are called and who reads them. */
enum file_id {
	F_KEK,
	F_DB,
	F_SS_KEY,
	F_SBC_KEY,
	F_SBC_CORE, /* the core-leg key as sbcd reads it (root) */
	F_SS_CORE,  /* the same key as softswitchd reads it (gatekey-ss) */
	F_AUCD_CONF,
	F_SS_CONF,
	F_SBCD_CONF,
	F_SUBSCRIBER,
	F__COUNT
};

struct plan {
	char path[F__COUNT][PATH_CAP];
	bool written[F__COUNT];
	const char *etc, *state, *idc, *access, *iface, *local;
	bool direct;
};

static int init_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int init_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("gkctl init: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static bool used(const struct plan *p, enum file_id f)
{
	if (p->direct && (f == F_SBC_KEY || f == F_SBC_CORE || f == F_SS_CORE || f == F_SBCD_CONF))
		return false;
	return true;
}

/* Nothing is written while any of it exists: init never replaces a key or a configuration. */
static int plan_paths(struct plan *p, const char *out)
{
	static const char *const names[F__COUNT] = {
	    [F_KEK] = "kek",
	    [F_SS_KEY] = "ss1.key",
	    [F_SBC_KEY] = "sbc1.key",
	    [F_SBC_CORE] = "sbc1.core",
	    [F_SS_CORE] = "ss1-sbc1.core",
	    [F_AUCD_CONF] = "aucd.conf",
	    [F_SS_CONF] = "softswitchd.conf",
	    [F_SBCD_CONF] = "sbcd.conf",
	};

	for (int f = 0; f < F__COUNT; f++) {
		int n;

		if (f == F_DB)
			n = snprintf(p->path[f], PATH_CAP, "%s/keys.db", p->state);
		else if (f == F_SUBSCRIBER)
			n = snprintf(p->path[f], PATH_CAP, "%s", out);
		else
			n = snprintf(p->path[f], PATH_CAP, "%s/%s", p->etc, names[f]);
		if (n < 0 || n >= GK_CFG_STR_MAX) /* a configuration value names it */
			return init_fail("%s: path too long for a configuration value", p->path[f]);
		if (used(p, f) && access(p->path[f], F_OK) == 0)
			return init_fail("%s exists already: init sets up a new host and replaces "
			                 "nothing (nothing changed)",
			                 p->path[f]);
	}
	return 0;
}

static void undo(struct plan *p)
{
	for (int f = F__COUNT - 1; f >= 0; f--)
		if (p->written[f])
			unlink(p->path[f]);
}

/* A new file, 0600, from text. */
static int write_text(struct plan *p, enum file_id f, const char *text)
{
	int fd = open(p->path[f], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int ret;

	if (fd < 0)
		return init_fail("%s: %s", p->path[f], strerror(errno));
	p->written[f] = true;
	ret = gk_write_all(fd, text, strlen(text));
	if (ret < 0) {
		close(fd);
		return init_fail("%s: %s", p->path[f], strerror(-ret));
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return init_fail("%s: %s", p->path[f], strerror(errno));
	return 0;
}

static int write_key(struct plan *p, enum file_id f, const char *id, const uint8_t *key)
{
	int ret = gk_provision_write(p->path[f], id, key);

	if (ret < 0)
		return init_fail("%s: %s", p->path[f], strerror(-ret));
	p->written[f] = true;
	return 0;
}

/* The keys: the store's elements and subscriber in one transaction, their files after it. */
static int make_keys(struct plan *p)
{
	uint8_t ss[GK_KEY_LEN], sbc[GK_KEY_LEN], kc[GK_KEY_LEN], core[GK_KEY_LEN];
	struct gk_keystore *ks = NULL;
	char err[1024];
	int ret = -1;

	if (gk_ks_kek_generate(p->path[F_KEK], err, sizeof(err)) < 0)
		return init_fail("%s", err);
	p->written[F_KEK] = true;
	if (gk_ks_open(&ks, p->path[F_DB], p->path[F_KEK], err, sizeof(err)) < 0) {
		init_fail("%s", err);
		goto out;
	}
	p->written[F_DB] = true;
	if (gk_ks_begin(ks) < 0 ||
	    gk_ks_element_add(ks, "ss1", GK_ELEMENT_SOFTSWITCH, NULL, ss) < 0 ||
	    (!p->direct && gk_ks_element_add(ks, "sbc1", GK_ELEMENT_SBC, NULL, sbc) < 0) ||
	    gk_ks_subscriber_add(ks, p->idc, NULL, kc) < 0 || gk_ks_commit(ks) < 0) {
		init_fail("key store %s: %s", p->path[F_DB], gk_ks_errmsg(ks));
		goto out;
	}
	if (write_key(p, F_SS_KEY, "ss1", ss) < 0 || write_key(p, F_SUBSCRIBER, p->idc, kc) < 0)
		goto out;
	if (!p->direct) {
		if (gk_random(core, sizeof(core)) < 0) {
			init_fail("no random bytes for the core-leg key");
			goto out;
		}
		if (write_key(p, F_SBC_KEY, "sbc1", sbc) < 0 ||
		    write_key(p, F_SBC_CORE, "sbc1", core) < 0 ||
		    write_key(p, F_SS_CORE, "sbc1", core) < 0)
			goto out;
	}
	ret = 0;
out:
	gk_ks_close(ks);
	gk_wipe(ss, sizeof(ss));
	gk_wipe(sbc, sizeof(sbc));
	gk_wipe(kc, sizeof(kc));
	gk_wipe(core, sizeof(core));
	return ret;
}

static int make_configs(struct plan *p)
{
	uint8_t raw[SECRET_LEN];
	char secret[2 * SECRET_LEN + 1];
	char text[6 * PATH_CAP]; /* four paths at most, and values under GK_CFG_STR_MAX */
	const char *l = p->local;
	int ret = -1;

	if (gk_random(raw, sizeof(raw)) < 0)
		return init_fail("no random bytes for the RADIUS secret");
	for (int i = 0; i < SECRET_LEN; i++)
		snprintf(secret + 2 * i, 3, "%02x", raw[i]);
	gk_wipe(raw, sizeof(raw));

	snprintf(text, sizeof(text),
	         "# aucd(8), written by gkctl init (gatekey.conf(5) lists every key)\n"
	         "auc.listen = %s:1812\n"
	         "auc.accounting_listen = %s:1813\n"
	         "keystore.db = %s\n"
	         "keystore.kek = %s\n"
	         "radius.client = %s %s\n",
	         l, l, p->path[F_DB], p->path[F_KEK], l, secret);
	if (write_text(p, F_AUCD_CONF, text) < 0)
		goto out;
	/* Direct: terminals register at the softswitch itself. Through the SBC: it listens on
	 * the local address only, for sbcd, whose ID and address sbc.peer fixes. */
	char sip_listen[GK_CFG_STR_MAX];
	snprintf(sip_listen, sizeof(sip_listen), p->direct ? "%s" : "%s:5070",
	         p->direct ? p->access : l);
	int n =
	    snprintf(text, sizeof(text),
	             "# softswitchd(8), written by gkctl init (gatekey.conf(5) lists every key)\n"
	             "softswitch.key_file = %s\n"
	             "sip.listen = %s\n"
	             "auc.server = %s:1812\n"
	             "auc.accounting_server = %s:1813\n"
	             "auc.secret = %s\n"
	             "registrar.mechanisms = gk-mac\n",
	             p->path[F_SS_KEY], sip_listen, l, l, secret);
	if (!p->direct)
		snprintf(text + n, sizeof(text) - (size_t)n, "sbc.peer = sbc1 %s %s\n", l,
		         p->path[F_SS_CORE]);
	if (write_text(p, F_SS_CONF, text) < 0)
		goto out;
	if (!p->direct) {
		n = snprintf(text, sizeof(text),
		             "# sbcd(8), written by gkctl init (gatekey.conf(5) lists every key)\n"
		             "sbc.key_file = %s\n"
		             "access.listen = %s\n"
		             "core.softswitch = %s:5070\n"
		             "core.bind = %s:0\n"
		             "core.key_file = %s\n"
		             "registrar.mechanisms = gk-mac\n",
		             p->path[F_SBC_KEY], p->access, l, l, p->path[F_SBC_CORE]);
		if (p->iface)
			snprintf(text + n, sizeof(text) - (size_t)n, "fastpath.interface = %s\n",
			         p->iface);
		if (write_text(p, F_SBCD_CONF, text) < 0)
			goto out;
	}
	ret = 0;
out:
	gk_wipe(secret, sizeof(secret));
	gk_wipe(text, sizeof(text));
	return ret;
}

/* Each file to the user of the daemon that reads it, where the units' users exist (the
 * package's postinst made them); without them every daemon runs as root and root keeps them. */
static int hand_over(struct plan *p)
{
	static const struct {
		enum file_id f;
		const char *user;
	} owners[] = {
	    {F_KEK, "gatekey-auc"},   {F_DB, "gatekey-auc"},     {F_AUCD_CONF, "gatekey-auc"},
	    {F_SS_KEY, "gatekey-ss"}, {F_SS_CORE, "gatekey-ss"}, {F_SS_CONF, "gatekey-ss"},
	};

	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		const struct passwd *pw = getpwnam(owners[i].user);

		if (!pw || !p->written[owners[i].f])
			continue;
		if (chown(p->path[owners[i].f], pw->pw_uid, pw->pw_gid) < 0)
			return init_fail("%s: chown %s: %s", p->path[owners[i].f], owners[i].user,
			                 strerror(errno));
	}
	return 0;
}

static int init_run(const struct gkctl_init_args *a);

/* dir and any missing parent (those 0755), as mkdir -p. */
static int make_dir(const char *dir, mode_t mode)
{
	char path[PATH_CAP];

	gk_copy_text(path, sizeof(path), dir);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return init_fail("%s: %s", path, strerror(errno));
		*s = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return init_fail("%s: %s", dir, strerror(errno));
	return 0;
}

static const char init_usage[] =
    "usage: gkctl init --subscriber IDC --out FILE --access IP:PORT [--interface IFNAME]\n"
    "                  [--direct] [--etc DIR] [--state DIR] [--local IP]\n";

static int init_usage_error(const char *fmt, const char *arg)
{
	fputs("gkctl init: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(init_usage, stderr);
	return 2;
}

int gkctl_cmd_init(int argc, char **argv)
{
	struct gkctl_init_args a = {
	    .etc = "/etc/gatekey", .state = "/var/lib/gatekey", .local = "127.0.0.1"};
	const struct {
		const char *name;
		const char **slot;
	} opts[] = {{"--subscriber", &a.idc},  {"--out", &a.out}, {"--access", &a.access},
	            {"--interface", &a.iface}, {"--etc", &a.etc}, {"--state", &a.state},
	            {"--local", &a.local}};

	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;

		if (!strcmp(argv[i], "--direct")) {
			a.direct = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]) && !slot; k++)
			if (!strcmp(argv[i], opts[k].name))
				slot = opts[k].slot;
		if (!slot)
			return init_usage_error("unknown argument \"%s\"", argv[i]);
		if (i + 1 == argc)
			return init_usage_error("%s needs a value", argv[i]);
		*slot = argv[++i];
	}
	if (!a.idc || !a.out || !a.access)
		return init_usage_error("%s", "--subscriber, --out and --access are required");
	if (a.direct && a.iface)
		return init_usage_error("%s", "--interface is sbcd's: not with --direct");
	return init_run(&a);
}

static int init_run(const struct gkctl_init_args *a)
{
	struct plan p = {
	    .etc = a->etc,
	    .state = a->state,
	    .idc = a->idc,
	    .access = a->access,
	    .iface = a->iface,
	    .local = a->local,
	    .direct = a->direct,
	};

	const char *values[] = {a->access, a->iface ? a->iface : "", a->local};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (strlen(values[i]) >= GK_CFG_STR_MAX - 8)
			return init_fail("\"%.32s...\" is too long for a configuration value",
			                 values[i]) < 0;
	if (plan_paths(&p, a->out) < 0)
		return 1;
	if (make_dir(p.etc, 0755) < 0 || make_dir(p.state, 0700) < 0)
		return 1;
	if (make_keys(&p) < 0 || make_configs(&p) < 0 || hand_over(&p) < 0) {
		undo(&p);
		fprintf(stderr, "gkctl init: nothing kept\n");
		return 1;
	}
	printf("gkctl init: %s deployment on this host\n", p.direct ? "a direct" : "an SBC");
	for (int f = 0; f < F__COUNT; f++)
		if (p.written[f])
			printf("  wrote %s (0600)\n", p.path[f]);
	printf("subscriber %s: its provisioning file is %s; give it to the terminal\n", p.idc,
	       p.path[F_SUBSCRIBER]);
	printf("next: systemctl enable --now aucd softswitchd%s\n", p.direct ? "" : " sbcd");
	printf("then: gkterm --server %s --idsp %s --key-file %s\n", p.access,
	       p.direct ? "ss1" : "sbc1", p.path[F_SUBSCRIBER]);
	return 0;
}
