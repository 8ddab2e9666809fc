// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkctl: the operator's provisioning and inspection tool. Writes the AuC key store (aucd reads
 * it live), hands out provisioning files, and queries the daemons' control sockets.
 * Exit status: 0 done, 1 the operation failed (stderr says what), 2 usage or configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/control.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/auc/keystore.h"

#include "ctl.h"
#include "init.h"
#include "xdp.h"

#define BULK_MAX 10000000u

static const char usage_text[] =
    "usage: gkctl [-c CONFIG] [--db PATH] [--kek PATH] COMMAND ...\n"
    "\n"
    "  init --subscriber IDC --out FILE --access IP:PORT [--interface IFNAME] [--direct]\n"
    "       [--etc DIR] [--state DIR] [--local IP]\n"
    "                                             a new single-host deployment in one step:\n"
    "                                             KEK, key store, element keys, configs (in\n"
    "                                             /etc/gatekey), the first subscriber\n"
    "  kek generate PATH                          new key-encryption key file (0600)\n"
    "  subscriber add IDC [--out FILE] [--key HEX]\n"
    "  subscriber list                            IDs, dates and fingerprints (never keys)\n"
    "  subscriber remove IDC\n"
    "  subscriber rotate IDC [--out FILE]\n"
    "  subscriber export IDC --out FILE           write the terminal's provisioning file\n"
    "  subscriber digest-password IDC             password for a plain SIP phone (Digest)\n"
    "  element add ID --type sbc|softswitch [--out FILE] [--key HEX]\n"
    "  element list | remove ID | rotate ID [--out FILE] | export ID --out FILE\n"
    "  core-key generate SBC-ID --out FILE        new core-leg key shared by that SBC and the\n"
    "                                             softswitch (0600; never overwrites FILE)\n"
    "  bulk-add PREFIX COUNT --out-dir DIR        subscribers PREFIX1..PREFIXCOUNT, one\n"
    "                                             transaction, keys in DIR/<id>.key\n"
    "  bulk-digest-passwords PREFIX COUNT         \"<id> <password>\" of PREFIX1..PREFIXCOUNT\n"
    "                                             (a test registrar's password table)\n"
    "  ctl SOCKET COMMAND [ARG...]                ask a daemon (stats, bindings [after INDEX],\n"
    "                                             ...); a listing is read page by page\n"
    "  xdp detach IFNAME [--pin-root DIR]         take sbcd's XDP fast path off IFNAME and\n"
    "                                             unpin its maps (DIR: /sys/fs/bpf/gatekey)\n"
    "\n"
    "  -c CONFIG    configuration file (keystore.db, keystore.kek; aucd's file is accepted)\n"
    "  --db PATH    key store (default /var/lib/gatekey/keys.db)\n"
    "  --kek PATH   key-encryption key file, mode 0600 (default /etc/gatekey/kek)\n"
    "  --config-keys=text|scdoc  print the configuration keys alone (for gatekey.conf(5))\n"
    "Provisioning files (--out) are written 0600: \"id <ID>\" and \"key <64 hex>\".\n"
    "\nconfiguration keys (-c; aucd's other keys are accepted and ignored):\n";

static struct {
	char db[GK_CFG_STR_MAX];
	char kek[GK_CFG_STR_MAX];
	struct gk_keystore *ks;
} g;

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("gkctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(gkctl --help for usage)\n", stderr);
	exit(2);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("gkctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* ---- configuration ---- */

static int ignore_multi(const char *value, void *arg, char *err, size_t errlen)
{
	(void)value, (void)arg, (void)err, (void)errlen;
	return 0;
}

/* gkctl's own keys, with their defaults in g: what --help and gatekey.conf(5) list. */
static const struct gk_cfg_key own_keys[] = {
    GK_CFG_KEY("keystore.db", GK_CFG_STR, g.db, "SQLite key store (--db overrides it)"),
    GK_CFG_KEY("keystore.kek", GK_CFG_STR, g.kek,
               "key-encryption key file, 0600 (--kek overrides it)"),
    {0},
};

/* gkctl reads its own two keys; the other keys of aucd's file are parsed (so a typo is still
 * reported with file:line) and ignored, so an operator can point gkctl at aucd.conf. */
static void load_config(const char *path)
{
	static struct sockaddr_storage ign_addr;
	static struct gk_daemon_common ign_common;
	static uint32_t ign_u32;
	char err[1024];
	struct gk_cfg_key keys[16] = {
	    own_keys[0],
	    own_keys[1],
	    GK_CFG_KEY("auc.listen", GK_CFG_ADDR, &ign_addr, "aucd's; ignored"),
	    GK_CFG_KEY("auc.accounting_listen", GK_CFG_ADDR, &ign_addr, "aucd's; ignored"),
	    GK_CFG_KEY("auc.vendor", GK_CFG_U32, &ign_u32, "aucd's; ignored"),
	    {.name = "radius.client",
	     .kind = GK_CFG_STR,
	     .help = "aucd's; ignored",
	     .multi = true,
	     .on_multi = ignore_multi},
	};
	gk_daemon_common_keys(keys, sizeof(keys) / sizeof(keys[0]), &ign_common, "aucd");
	if (gk_cfg_load(keys, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "gkctl: %s\n", err);
		exit(2);
	}
}

/* ---- command arguments ---- */

enum {
	O_OUT = 1 << 0,
	O_KEY = 1 << 1,
	O_TYPE = 1 << 2,
	O_OUT_DIR = 1 << 3,
};

struct args {
	const char *pos[3];
	int npos;
	const char *out, *type, *out_dir;
	char *key_arg;
	uint8_t key[GK_KEY_LEN];
	bool have_key;
};

static void wipe_args(struct args *a)
{
	gk_wipe(a->key, sizeof(a->key));
}

/* Options may come before or after the positional arguments. */
static void parse_args(int argc, char **argv, unsigned allowed, int npos, const char *what,
                       struct args *a)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
	    {"--out", O_OUT}, {"--key", O_KEY}, {"--type", O_TYPE}, {"--out-dir", O_OUT_DIR}};

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i], *val = NULL;
		if (arg[0] != '-' || arg[1] == '\0') {
			if (a->npos == npos)
				usage_error("%s: unexpected argument \"%s\"", what, arg);
			a->pos[a->npos++] = arg;
			continue;
		}
		unsigned bit = 0;
		for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
			size_t n = strlen(opts[o].name);
			if (!strncmp(arg, opts[o].name, n) && (arg[n] == '\0' || arg[n] == '=')) {
				bit = opts[o].bit;
				val = arg[n] == '=' ? arg + n + 1 : NULL;
				break;
			}
		}
		if (!(bit & allowed))
			usage_error("%s: unknown option \"%s\"", what, arg);
		if (!val) {
			if (i + 1 == argc)
				usage_error("%s: %s needs a value", what, arg);
			val = argv[++i];
		}
		if (bit == O_OUT)
			a->out = val;
		else if (bit == O_TYPE)
			a->type = val;
		else if (bit == O_OUT_DIR)
			a->out_dir = val;
		else {
			size_t n = strlen(val);
			if (n != 2 * GK_KEY_LEN ||
			    gk_hex_decode(val, n, a->key, GK_KEY_LEN) != GK_KEY_LEN)
				usage_error("%s: --key expects 64 hex digits", what);
			a->have_key = true;
			/* Shortens the time the key is visible in /proc/<pid>/cmdline. */
			memset(val, 'x', n);
		}
	}
	if (a->npos != npos)
		usage_error("%s: expected %d argument%s", what, npos, npos == 1 ? "" : "s");
}

static void need_valid_id(const char *id)
{
	if (!gk_ks_id_valid(id))
		usage_error("invalid ID \"%s\": 1..%d printable ASCII characters, no whitespace, "
		            "quotes or backslash",
		            id, GK_ID_MAX);
}

/* ---- key store commands ---- */

static int open_store(void)
{
	char err[1024];
	if (gk_ks_open(&g.ks, g.db, g.kek, err, sizeof(err)) < 0)
		return fail("%s", err);
	if (gk_ks_migration_describe(g.ks, err, sizeof(err)))
		fprintf(stderr, "gkctl: key store %s: %s\n", g.db, err);
	return 0;
}

static const char *type_name(int t)
{
	return t == GK_ELEMENT_SBC ? "sbc" : t == GK_ELEMENT_SOFTSWITCH ? "softswitch" : "?";
}

static void fmt_time(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}

static int print_entry(const struct gk_ks_entry *e, void *arg)
{
	char c[32], r[32];
	bool element = arg != NULL;
	fmt_time(e->created, c);
	fmt_time(e->rotated, r);
	if (element)
		printf("%s type=%s created=%s rotated=%s fpr=%s\n", e->id, type_name(e->type), c, r,
		       e->fpr);
	else
		printf("%s created=%s rotated=%s fpr=%s\n", e->id, c, r, e->fpr);
	return 0;
}

struct kind {
	const char *name; /* "subscriber" or "element" */
	bool element;
};

static int ks_add(const struct kind *k, const char *id, enum gk_element_type type,
                  const uint8_t *key, uint8_t out[GK_KEY_LEN])
{
	return k->element ? gk_ks_element_add(g.ks, id, type, key, out)
	                  : gk_ks_subscriber_add(g.ks, id, key, out);
}

static int ks_rotate(const struct kind *k, const char *id, uint8_t out[GK_KEY_LEN])
{
	return k->element ? gk_ks_element_rotate(g.ks, id, out)
	                  : gk_ks_subscriber_rotate(g.ks, id, out);
}

/* The key change and the provisioning file succeed or fail together: the file is written inside
 * the transaction, and a failed write rolls the change back. */
static int change_and_write(const struct kind *k, bool add, const char *id,
                            enum gk_element_type type, const struct args *a)
{
	const char *verb = add ? "add" : "rotate";
	uint8_t key[GK_KEY_LEN];
	char fpr[GK_FPR_HEX_LEN + 1];
	int ret;

	if (a->out && gk_ks_begin(g.ks) < 0)
		return fail("%s %s %s: %s", k->name, verb, id, gk_ks_errmsg(g.ks));
	if (add)
		ret = ks_add(k, id, type, a->have_key ? a->key : NULL, key);
	else
		ret = ks_rotate(k, id, key);
	if (ret < 0) {
		fail("%s %s %s: %s", k->name, verb, id, gk_ks_errmsg(g.ks));
		goto out;
	}
	if (a->out) {
		ret = gk_provision_write(a->out, id, key);
		if (ret < 0) {
			fail("%s %s %s: cannot write %s: %s (nothing changed)", k->name, verb, id,
			     a->out, strerror(-ret));
			goto out;
		}
		ret = gk_ks_commit(g.ks);
		if (ret < 0) {
			if (add) {
				unlink(a->out);
				fail("%s add %s: %s (nothing changed)", k->name, id,
				     gk_ks_errmsg(g.ks));
			} else {
				fail("%s rotate %s: %s: %s now holds a key that was not stored; "
				     "gkctl %s export %s --out %s writes the stored one back",
				     k->name, id, gk_ks_errmsg(g.ks), a->out, k->name, id, a->out);
			}
			goto out;
		}
	}
	gk_fingerprint(key, fpr);
	if (k->element && add)
		printf("added %s type=%s fpr=%s\n", id, type_name(type), fpr);
	else
		printf("%s %s fpr=%s\n", add ? "added" : "rotated", id, fpr);
out:
	if (ret < 0 && a->out)
		gk_ks_rollback(g.ks);
	gk_wipe(key, sizeof(key));
	return ret < 0;
}

static int cmd_export(const struct kind *k, const char *id, const char *out)
{
	uint8_t key[GK_KEY_LEN];
	char fpr[GK_FPR_HEX_LEN + 1];
	enum gk_element_type type;
	int ret = k->element ? gk_ks_element_get(g.ks, id, &type, key)
	                     : gk_ks_subscriber_get(g.ks, id, key);
	if (ret < 0)
		return fail("%s export %s: %s", k->name, id, gk_ks_errmsg(g.ks));
	gk_fingerprint(key, fpr);
	ret = gk_provision_write(out, id, key);
	gk_wipe(key, sizeof(key));
	if (ret < 0)
		return fail("%s export %s: cannot write %s: %s", k->name, id, out, strerror(-ret));
	printf("exported %s to %s fpr=%s\n", id, out, fpr);
	return 0;
}

/* For configuring an ordinary SIP phone: the password the AuC derives HA1 from (digest.h). */
static int cmd_digest_password(const char *id)
{
	uint8_t key[GK_KEY_LEN];
	char pw[GK_DIGEST_PW_LEN + 1];
	int ret = gk_ks_subscriber_get(g.ks, id, key);

	if (ret < 0)
		return fail("subscriber digest-password %s: %s", id, gk_ks_errmsg(g.ks));
	ret = gk_digest_password(key, pw);
	gk_wipe(key, sizeof(key));
	if (ret < 0)
		return fail("subscriber digest-password %s: %s", id, strerror(-ret));
	printf("%s\n", pw);
	gk_wipe(pw, sizeof(pw));
	return 0;
}

static int cmd_entity(const struct kind *k, int argc, char **argv)
{
	struct args a;
	char what[64];
	int ret;

	if (argc < 1)
		usage_error("%s: expected add, list, remove, rotate or export", k->name);
	const char *sub = argv[0];
	snprintf(what, sizeof(what), "%s %s", k->name, sub);
	argc--, argv++;

	if (!strcmp(sub, "add")) {
		enum gk_element_type type = 0;
		parse_args(argc, argv, O_OUT | O_KEY | (k->element ? O_TYPE : 0), 1, what, &a);
		if (k->element) {
			if (!a.type)
				usage_error("%s: --type sbc|softswitch is required", what);
			if (!strcmp(a.type, "sbc"))
				type = GK_ELEMENT_SBC;
			else if (!strcmp(a.type, "softswitch"))
				type = GK_ELEMENT_SOFTSWITCH;
			else
				usage_error("%s: --type expects sbc or softswitch, got \"%s\"",
				            what, a.type);
		}
		need_valid_id(a.pos[0]);
		ret = open_store() ? 1 : change_and_write(k, true, a.pos[0], type, &a);
	} else if (!strcmp(sub, "list")) {
		parse_args(argc, argv, 0, 0, what, &a);
		if (open_store())
			return 1;
		ret = k->element ? gk_ks_element_list(g.ks, print_entry, (void *)1)
		                 : gk_ks_subscriber_list(g.ks, print_entry, NULL);
		if (fflush(stdout) != 0)
			ret = fail("%s: writing the list: %s", what, strerror(errno));
		else if (ret < 0)
			ret = fail("%s: %s", what, gk_ks_errmsg(g.ks));
	} else if (!strcmp(sub, "remove")) {
		parse_args(argc, argv, 0, 1, what, &a);
		need_valid_id(a.pos[0]);
		if (open_store())
			return 1;
		ret = k->element ? gk_ks_element_remove(g.ks, a.pos[0])
		                 : gk_ks_subscriber_remove(g.ks, a.pos[0]);
		if (ret < 0)
			ret = fail("%s %s: %s", what, a.pos[0], gk_ks_errmsg(g.ks));
		else
			printf("removed %s\n", a.pos[0]);
	} else if (!strcmp(sub, "rotate")) {
		parse_args(argc, argv, O_OUT, 1, what, &a);
		need_valid_id(a.pos[0]);
		ret = open_store() ? 1 : change_and_write(k, false, a.pos[0], 0, &a);
	} else if (!strcmp(sub, "export")) {
		parse_args(argc, argv, O_OUT, 1, what, &a);
		if (!a.out)
			usage_error("%s: --out FILE is required", what);
		need_valid_id(a.pos[0]);
		ret = open_store() ? 1 : cmd_export(k, a.pos[0], a.out);
	} else if (!k->element && !strcmp(sub, "digest-password")) {
		parse_args(argc, argv, 0, 1, what, &a);
		need_valid_id(a.pos[0]);
		ret = open_store() ? 1 : cmd_digest_password(a.pos[0]);
	} else {
		usage_error("%s: unknown command \"%s\" (add, list, remove, rotate, export)",
		            k->name, sub);
	}
	wipe_args(&a);
	return ret != 0;
}

static void unlink_bulk(const char *dir, const char *prefix, unsigned n)
{
	char path[4096];
	for (unsigned i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/%s%u.key", dir, prefix, i);
		unlink(path);
	}
}

/* One syncfs for the whole batch instead of one fsync per file: 10000 files in well under a
 * second instead of several. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = fd < 0 || syncfs(fd) < 0 || fsync(fd) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		fail("bulk-add: cannot flush %s to disk: %s (nothing added)", dir, strerror(-ret));
	return ret;
}

static int cmd_bulk_add(int argc, char **argv)
{
	struct args a;
	char id[GK_ID_MAX + 32], path[4096], *end;
	uint8_t key[GK_KEY_LEN];
	unsigned i, count, written = 0;
	int ret = 0;

	parse_args(argc, argv, O_OUT_DIR, 2, "bulk-add", &a);
	const char *prefix = a.pos[0];
	errno = 0;
	unsigned long c = strtoul(a.pos[1], &end, 10);
	if (errno || *end || a.pos[1][0] == '-' || c == 0 || c > BULK_MAX)
		usage_error("bulk-add: COUNT must be 1..%u, got \"%s\"", BULK_MAX, a.pos[1]);
	count = (unsigned)c;
	if (!a.out_dir)
		usage_error("bulk-add: --out-dir DIR is required");
	snprintf(id, sizeof(id), "%s%u", prefix, count);
	need_valid_id(id); /* the longest ID of the series */
	if (strchr(prefix, '/'))
		usage_error("bulk-add: PREFIX names files in DIR: it cannot contain '/'");
	if (mkdir(a.out_dir, 0700) < 0 && errno != EEXIST)
		return fail("bulk-add: cannot create %s: %s", a.out_dir, strerror(errno));
	if (open_store())
		return 1;
	/* One transaction: 10000 subscribers commit in one fsync instead of 10000. */
	if (gk_ks_begin(g.ks) < 0)
		return fail("bulk-add: %s", gk_ks_errmsg(g.ks));
	for (i = 1; i <= count; i++) {
		snprintf(id, sizeof(id), "%s%u", prefix, i);
		snprintf(path, sizeof(path), "%s/%s.key", a.out_dir, id);
		ret = gk_ks_subscriber_add(g.ks, id, NULL, key);
		if (ret < 0) {
			fail("bulk-add: %s (nothing added)", gk_ks_errmsg(g.ks));
			break;
		}
		ret = gk_provision_write_nosync(path, id, key);
		if (ret < 0) {
			fail("bulk-add: cannot write %s: %s (nothing added)", path, strerror(-ret));
			break;
		}
		written = i;
	}
	gk_wipe(key, sizeof(key));
	/* The files are durable before the subscribers are committed: after a crash there may be
	 * files without subscribers (a re-run replaces them), never subscribers without files. */
	if (!ret)
		ret = sync_dir(a.out_dir);
	if (!ret && gk_ks_commit(g.ks) < 0) {
		fail("bulk-add: %s (nothing added)", gk_ks_errmsg(g.ks));
		ret = -EIO;
	}
	if (ret < 0) {
		gk_ks_rollback(g.ks);
		unlink_bulk(a.out_dir, prefix, written);
		return 1;
	}
	printf("added %u subscribers %s1..%s%u, keys in %s/\n", count, prefix, prefix, count,
	       a.out_dir);
	return 0;
}

/* The digest passwords of a bulk-add series, one "<id> <password>" line each, for a registrar
 * that has no AuC to ask (tools/bench-kamailio.sh's Kamailio): the only command that lists
 * passwords, and only when asked by name. */
static int cmd_bulk_digest_passwords(int argc, char **argv)
{
	struct args a;
	char id[GK_ID_MAX + 32], pw[GK_DIGEST_PW_LEN + 1], *end;
	uint8_t key[GK_KEY_LEN];
	int ret = 0;

	parse_args(argc, argv, 0, 2, "bulk-digest-passwords", &a);
	const char *prefix = a.pos[0];
	errno = 0;
	unsigned long count = strtoul(a.pos[1], &end, 10);
	if (errno || *end || a.pos[1][0] == '-' || count == 0 || count > BULK_MAX)
		usage_error("bulk-digest-passwords: COUNT must be 1..%u, got \"%s\"", BULK_MAX,
		            a.pos[1]);
	snprintf(id, sizeof(id), "%s%lu", prefix, count);
	need_valid_id(id); /* the longest ID of the series */
	if (open_store())
		return 1;
	for (unsigned long i = 1; i <= count && !ret; i++) {
		snprintf(id, sizeof(id), "%s%lu", prefix, i);
		if (gk_ks_subscriber_get(g.ks, id, key) < 0) {
			ret = fail("bulk-digest-passwords: %s: %s", id, gk_ks_errmsg(g.ks));
		} else if (gk_digest_password(key, pw) < 0) {
			ret = fail("bulk-digest-passwords: %s: cannot derive the password", id);
		} else {
			printf("%s %s\n", id, pw);
		}
		gk_wipe(key, sizeof(key));
		gk_wipe(pw, sizeof(pw));
	}
	return ret;
}

static int cmd_kek(int argc, char **argv)
{
	struct args a;
	char err[1024];
	if (argc < 1 || strcmp(argv[0], "generate") != 0)
		usage_error("kek: expected \"kek generate PATH\"");
	parse_args(argc - 1, argv + 1, 0, 1, "kek generate", &a);
	if (gk_ks_kek_generate(a.pos[0], err, sizeof(err)) < 0)
		return fail("kek generate: %s", err);
	printf("wrote %s (mode 0600)\n", a.pos[0]);
	return 0;
}

/*
 * The pre-shared key of one SBC's core leg (coreleg.h), 32 random bytes in a provisioning file
 * naming the SBC, so a file installed for the wrong SBC is refused at startup. It is not in the
 * key store: only the two daemons hold it. O_EXCL claims the name first: replacing a key in use
 * would cut the leg until both ends have the new one, so that has to be deliberate (rm first).
 */
static int cmd_core_key(int argc, char **argv)
{
	struct args a;
	uint8_t key[GK_KEY_LEN];
	int fd, ret;

	if (argc < 1 || strcmp(argv[0], "generate") != 0)
		usage_error("core-key: expected \"core-key generate SBC-ID --out FILE\"");
	parse_args(argc - 1, argv + 1, O_OUT, 1, "core-key generate", &a);
	need_valid_id(a.pos[0]);
	if (!a.out)
		usage_error("core-key generate: --out FILE is required");
	fd = open(a.out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail("core-key generate: %s: %s", a.out,
		            errno == EEXIST ? "exists already; not overwritten" : strerror(errno));
	close(fd);
	ret = gk_random(key, sizeof(key));
	if (ret == 0)
		ret = gk_provision_write(a.out, a.pos[0], key);
	gk_wipe(key, sizeof(key));
	if (ret < 0) {
		unlink(a.out);
		return fail("core-key generate: %s: %s", a.out, strerror(-ret));
	}
	printf(
	    "wrote %s (mode 0600): core-leg key of SBC %s; install it on that SBC (core.key_file) "
	    "and on the softswitch (sbc.peer)\n",
	    a.out, a.pos[0]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *db = NULL, *kek = NULL;
	int i = 1, ret;

	snprintf(g.db, sizeof(g.db), "/var/lib/gatekey/keys.db");
	snprintf(g.kek, sizeof(g.kek), "/etc/gatekey/kek");

	/* Global options end at the command word, so command options may reuse letters. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i], *v;
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(usage_text, stdout);
			gk_cfg_print_table(own_keys, GK_CFG_STYLE_TEXT, stdout);
			return 0;
		}
		if (!strncmp(o, "--config-keys=", 14)) {
			int style = gk_cfg_style_parse(o + 14);
			if (style < 0)
				usage_error("--config-keys expects text or scdoc");
			gk_cfg_print_table(own_keys, (enum gk_cfg_style)style, stdout);
			return fflush(stdout) != 0;
		}
		const struct {
			const char *name;
			const char **slot;
		} gopts[] = {
		    {"-c", &config}, {"--config", &config}, {"--db", &db}, {"--kek", &kek}};
		const char **slot = NULL;
		v = NULL;
		for (size_t k = 0; k < sizeof(gopts) / sizeof(gopts[0]) && !slot; k++) {
			size_t n = strlen(gopts[k].name);
			if (strncmp(o, gopts[k].name, n) == 0 && (o[n] == '\0' || o[n] == '=')) {
				slot = gopts[k].slot;
				v = o[n] == '=' ? o + n + 1 : NULL;
			}
		}
		if (!slot)
			usage_error("unknown option \"%s\"", o);
		if (!v) {
			if (i + 1 == argc)
				usage_error("%s needs a value", o);
			v = argv[++i];
		}
		*slot = v;
	}
	if (i == argc)
		usage_error("no command given");

	/* The file first, then the flags, whatever their order. */
	if (config)
		load_config(config);
	if (db)
		snprintf(g.db, sizeof(g.db), "%s", db);
	if (kek)
		snprintf(g.kek, sizeof(g.kek), "%s", kek);

	const char *cmd = argv[i];
	int sub_argc = argc - i - 1;
	char **sub_argv = argv + i + 1;
	static const struct kind subscriber = {"subscriber", false}, element = {"element", true};

	if (!strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		gk_cfg_print_table(own_keys, GK_CFG_STYLE_TEXT, stdout);
		return 0;
	} else if (!strcmp(cmd, "init")) {
		ret = gkctl_cmd_init(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "kek")) {
		ret = cmd_kek(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "subscriber")) {
		ret = cmd_entity(&subscriber, sub_argc, sub_argv);
	} else if (!strcmp(cmd, "element")) {
		ret = cmd_entity(&element, sub_argc, sub_argv);
	} else if (!strcmp(cmd, "core-key")) {
		ret = cmd_core_key(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "bulk-add")) {
		ret = cmd_bulk_add(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "bulk-digest-passwords")) {
		ret = cmd_bulk_digest_passwords(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "ctl")) {
		fflush(stdout);
		ret = gkctl_cmd_ctl(sub_argc, sub_argv);
	} else if (!strcmp(cmd, "xdp")) {
		ret = gkctl_cmd_xdp(sub_argc, sub_argv);
	} else {
		usage_error("unknown command \"%s\"", cmd);
	}
	gk_ks_close(g.ks);
	if (fflush(stdout) != 0 && !ret)
		ret = fail("writing output: %s", strerror(errno));
	return ret;
}
