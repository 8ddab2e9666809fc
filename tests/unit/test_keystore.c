// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AuC key store and provisioning files: persistence, namespaces, error codes, the KEK checks,
 * and the at-rest properties (no key in clear in the database file, rows bound to their table,
 * ID and type), and the conversion of stores written by schema 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* The harness's timeout handler has a parameter it does not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include "gatekey/auc/keystore.h"

FIXTURE(ks)
{
	char dir[64];
	char db[128];
	char kek[128];
	struct gk_keystore *ks;
	char err[512];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

FIXTURE_SETUP(ks)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/gk-ks-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->db, sizeof(self->db), "%s/keys.db", self->dir);
	snprintf(self->kek, sizeof(self->kek), "%s/kek", self->dir);
	ASSERT_EQ(0, gk_ks_kek_generate(self->kek, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	ASSERT_EQ(0, gk_ks_open(&self->ks, self->db, self->kek, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
}

FIXTURE_TEARDOWN(ks)
{
	gk_ks_close(self->ks);
	if (self->dir[0])
		nftw(self->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fill(uint8_t k[GK_KEY_LEN], uint8_t seed)
{
	for (int i = 0; i < GK_KEY_LEN; i++)
		k[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

struct collect {
	struct gk_ks_entry e[16];
	int n;
};

static int collect_fn(const struct gk_ks_entry *e, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		c->e[c->n] = *e;
	c->n++;
	return 0;
}

static int reopen(FIXTURE_DATA(ks) * self)
{
	gk_ks_close(self->ks);
	self->ks = NULL;
	return gk_ks_open(&self->ks, self->db, self->kek, self->err, sizeof(self->err));
}

TEST_F(ks, add_get_round_trip)
{
	uint8_t k[GK_KEY_LEN], out[GK_KEY_LEN], gen[GK_KEY_LEN], zero[GK_KEY_LEN] = {0};
	char fpr[GK_FPR_HEX_LEN + 1];
	struct collect c = {0};

	fill(k, 1);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", k, out));
	ASSERT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, "alice", out));
	ASSERT_EQ(0, memcmp(k, out, GK_KEY_LEN));

	/* A generated key is random and returned. */
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "bob", NULL, gen));
	ASSERT_NE(0, memcmp(gen, zero, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, "bob", out));
	ASSERT_EQ(0, memcmp(gen, out, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "carol", NULL, NULL));

	/* Listing: ID order, fingerprints of the keys, no key. */
	ASSERT_EQ(0, gk_ks_subscriber_list(self->ks, collect_fn, &c));
	ASSERT_EQ(3, c.n);
	EXPECT_STREQ("alice", c.e[0].id);
	EXPECT_STREQ("bob", c.e[1].id);
	EXPECT_STREQ("carol", c.e[2].id);
	gk_fingerprint(k, fpr);
	EXPECT_STREQ(fpr, c.e[0].fpr);
	EXPECT_EQ(0, c.e[0].type);
	EXPECT_NE(0, c.e[0].created);
	EXPECT_EQ(c.e[0].created, c.e[0].rotated);
}

TEST_F(ks, namespaces_are_separate)
{
	uint8_t ks_[GK_KEY_LEN], ke[GK_KEY_LEN], out[GK_KEY_LEN];
	enum gk_element_type type = 0;
	struct collect c = {0};

	fill(ks_, 2);
	fill(ke, 3);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "x1", ks_, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "x1", GK_ELEMENT_SBC, ke, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "ss1", GK_ELEMENT_SOFTSWITCH, NULL, NULL));
	ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, "x1", out));
	EXPECT_EQ(0, memcmp(ks_, out, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "x1", &type, out));
	EXPECT_EQ(0, memcmp(ke, out, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SBC, (int)type);
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "ss1", &type, out));
	EXPECT_EQ((int)GK_ELEMENT_SOFTSWITCH, (int)type);
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(self->ks, "ss1", out));

	ASSERT_EQ(0, gk_ks_element_list(self->ks, collect_fn, &c));
	ASSERT_EQ(2, c.n);
	EXPECT_STREQ("ss1", c.e[0].id);
	EXPECT_EQ(GK_ELEMENT_SOFTSWITCH, c.e[0].type);
	EXPECT_EQ(GK_ELEMENT_SBC, c.e[1].type);

	/* Removing one leaves the other namespace alone. */
	ASSERT_EQ(0, gk_ks_element_remove(self->ks, "x1"));
	EXPECT_EQ(0, gk_ks_subscriber_get(self->ks, "x1", out));
	EXPECT_EQ(-EINVAL, gk_ks_element_add(self->ks, "bad-type", 7, NULL, NULL));
}

TEST_F(ks, exists_and_missing)
{
	uint8_t out[GK_KEY_LEN];
	enum gk_element_type type;

	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));
	EXPECT_EQ(-EEXIST, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "alice"));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "sbc1", GK_ELEMENT_SBC, NULL, NULL));
	EXPECT_EQ(-EEXIST, gk_ks_element_add(self->ks, "sbc1", GK_ELEMENT_SOFTSWITCH, NULL, NULL));

	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(self->ks, "nobody", out));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_remove(self->ks, "nobody"));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_rotate(self->ks, "nobody", out));
	EXPECT_EQ(-ENOENT, gk_ks_element_get(self->ks, "nobody", &type, out));
	EXPECT_EQ(-ENOENT, gk_ks_element_remove(self->ks, "nobody"));
	EXPECT_EQ(-ENOENT, gk_ks_element_rotate(self->ks, "nobody", out));
}

static int raw_exec(const char *db, const char *sql)
{
	sqlite3 *h;
	int rc = sqlite3_open(db, &h);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

/* What a routing lookup asks (aucd/vector.c auc_lookup): whether a row exists, and an element's
 * type, without decrypting anything: a row whose key does not open still exists, and a key
 * store with a KEK that opens nothing would answer the same. */
TEST_F(ks, existence_without_decrypting)
{
	enum gk_element_type type = 0;

	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "ss1", GK_ELEMENT_SOFTSWITCH, NULL, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "sbc1", GK_ELEMENT_SBC, NULL, NULL));
	EXPECT_EQ(1, gk_ks_subscriber_exists(self->ks, "alice"));
	EXPECT_EQ(0, gk_ks_subscriber_exists(self->ks, "bob"));
	EXPECT_EQ(0, gk_ks_subscriber_exists(self->ks, "ss1")); /* another table */
	EXPECT_EQ(-EINVAL, gk_ks_subscriber_exists(self->ks, "a b"));
	EXPECT_EQ(-EINVAL, gk_ks_subscriber_exists(self->ks, ""));
	EXPECT_EQ(0, gk_ks_element_type(self->ks, "ss1", &type));
	EXPECT_EQ(GK_ELEMENT_SOFTSWITCH, type);
	EXPECT_EQ(0, gk_ks_element_type(self->ks, "sbc1", &type));
	EXPECT_EQ(GK_ELEMENT_SBC, type);
	EXPECT_EQ(-ENOENT, gk_ks_element_type(self->ks, "alice", &type));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "alice"));
	EXPECT_EQ(-EINVAL, gk_ks_element_type(self->ks, "x\"y", &type));

	/* a key that no longer opens: the subscriber still exists (it is provisioned, and
	 * cannot register until an operator looks), and removing it ends that */
	gk_ks_close(self->ks);
	self->ks = NULL;
	ASSERT_EQ(SQLITE_OK, raw_exec(self->db, "UPDATE subscribers SET key = x'00' WHERE id = "
	                                        "'alice'"));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	uint8_t out[GK_KEY_LEN];
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_get(self->ks, "alice", out));
	EXPECT_EQ(1, gk_ks_subscriber_exists(self->ks, "alice"));
	ASSERT_EQ(0, gk_ks_subscriber_remove(self->ks, "alice"));
	EXPECT_EQ(0, gk_ks_subscriber_exists(self->ks, "alice"));
}

TEST_F(ks, rotate_changes_key_and_time)
{
	uint8_t k[GK_KEY_LEN], nk[GK_KEY_LEN], out[GK_KEY_LEN];
	struct collect before = {0}, after = {0};
	enum gk_element_type type;

	fill(k, 4);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", k, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "sbc1", GK_ELEMENT_SBC, k, NULL));
	ASSERT_EQ(0, gk_ks_subscriber_list(self->ks, collect_fn, &before));
	/* rotated has one-second resolution: wait for the next second. */
	time_t t0 = time(NULL);
	while (time(NULL) == t0)
		usleep(20000);

	ASSERT_EQ(0, gk_ks_subscriber_rotate(self->ks, "alice", nk));
	EXPECT_NE(0, memcmp(k, nk, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, "alice", out));
	EXPECT_EQ(0, memcmp(nk, out, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_subscriber_list(self->ks, collect_fn, &after));
	ASSERT_EQ(1, after.n);
	EXPECT_EQ(before.e[0].created, after.e[0].created);
	EXPECT_GT(after.e[0].rotated, before.e[0].rotated);
	EXPECT_STRNE(before.e[0].fpr, after.e[0].fpr);

	/* An element keeps its type across a rotation. */
	ASSERT_EQ(0, gk_ks_element_rotate(self->ks, "sbc1", nk));
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "sbc1", &type, out));
	EXPECT_EQ(0, memcmp(nk, out, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SBC, (int)type);
}

TEST_F(ks, remove_and_transactions)
{
	uint8_t out[GK_KEY_LEN];

	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));
	ASSERT_EQ(0, gk_ks_subscriber_remove(self->ks, "alice"));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(self->ks, "alice", out));
	EXPECT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));

	/* A rolled-back transaction leaves nothing behind. */
	ASSERT_EQ(0, gk_ks_begin(self->ks));
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "bob", NULL, NULL));
	ASSERT_EQ(0, gk_ks_subscriber_remove(self->ks, "alice"));
	ASSERT_EQ(0, gk_ks_rollback(self->ks));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(self->ks, "bob", out));
	EXPECT_EQ(0, gk_ks_subscriber_get(self->ks, "alice", out));
}

TEST_F(ks, reopen_keeps_everything_and_readers_see_writes)
{
	uint8_t k[GK_KEY_LEN], ke[GK_KEY_LEN], out[GK_KEY_LEN];
	enum gk_element_type type;
	struct gk_keystore *other;
	struct stat st;

	fill(k, 5);
	fill(ke, 6);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", k, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "ss1", GK_ELEMENT_SOFTSWITCH, ke, NULL));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, "alice", out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "ss1", &type, out));
	EXPECT_EQ(0, memcmp(ke, out, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SOFTSWITCH, (int)type);

	/* aucd and gkctl share the file: a second handle sees the first one's writes at once,
	 * even after it has read (its read transaction must not outlive the lookup). */
	ASSERT_EQ(0, gk_ks_open(&other, self->db, self->kek, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(other, "bob", out));
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "bob", k, NULL));
	EXPECT_EQ(0, gk_ks_subscriber_get(other, "bob", out));
	ASSERT_EQ(0, gk_ks_subscriber_remove(self->ks, "alice"));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(other, "alice", out));
	gk_ks_close(other);

	ASSERT_EQ(0, stat(self->db, &st));
	EXPECT_EQ(0600u, st.st_mode & 07777);
}

TEST_F(ks, wrong_kek_refused_at_open)
{
	char other[160];
	struct gk_keystore *ks2 = NULL;

	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", NULL, NULL));
	snprintf(other, sizeof(other), "%s/kek2", self->dir);
	ASSERT_EQ(0, gk_ks_kek_generate(other, self->err, sizeof(self->err)));
	self->err[0] = '\0';
	EXPECT_GT(0, gk_ks_open(&ks2, self->db, other, self->err, sizeof(self->err)));
	EXPECT_EQ(NULL, ks2);
	EXPECT_NE(NULL, strstr(self->err, "KEK")) TH_LOG("message: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, self->db)) TH_LOG("message: %s", self->err);

	/* generate refuses to overwrite */
	EXPECT_EQ(-EEXIST, gk_ks_kek_generate(other, self->err, sizeof(self->err)));
}

TEST_F(ks, kek_file_checks)
{
	char path[160], db2[160];
	struct gk_keystore *ks2 = NULL;
	struct stat st;
	uint8_t raw[GK_KEY_LEN];

	ASSERT_EQ(0, stat(self->kek, &st));
	EXPECT_EQ(0600u, st.st_mode & 07777);
	EXPECT_EQ(2 * GK_KEY_LEN + 1, st.st_size);

	gk_ks_close(self->ks);
	self->ks = NULL;
	ASSERT_EQ(0, chmod(self->kek, 0644));
	EXPECT_EQ(-EPERM, gk_ks_open(&ks2, self->db, self->kek, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "0644")) TH_LOG("message: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "0600")) TH_LOG("message: %s", self->err);
	ASSERT_EQ(0, chmod(self->kek, 0400));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);

	/* 32 raw bytes are a KEK too; anything else is refused. */
	snprintf(path, sizeof(path), "%s/kek-raw", self->dir);
	snprintf(db2, sizeof(db2), "%s/raw.db", self->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	fill(raw, 7);
	ASSERT_EQ(GK_KEY_LEN, write(fd, raw, GK_KEY_LEN));
	close(fd);
	ASSERT_EQ(0, gk_ks_open(&ks2, db2, path, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	gk_ks_close(ks2);
	ks2 = NULL;
	fd = open(path, O_WRONLY | O_APPEND);
	ASSERT_EQ(1, write(fd, "x", 1));
	close(fd);
	EXPECT_EQ(-EINVAL, gk_ks_open(&ks2, db2, path, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "64 hex")) TH_LOG("message: %s", self->err);
	snprintf(path, sizeof(path), "%s/missing", self->dir);
	EXPECT_EQ(-ENOENT, gk_ks_open(&ks2, db2, path, self->err, sizeof(self->err)));
}

static bool file_contains(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)len + 1);
	bool found = buf && fread(buf, 1, (size_t)len, f) == (size_t)len &&
	             memmem(buf, (size_t)len, needle, n) != NULL;
	free(buf);
	fclose(f);
	return found;
}

TEST_F(ks, no_key_in_clear_on_disk)
{
	uint8_t k[8][GK_KEY_LEN];
	char id[16], hex[2 * GK_KEY_LEN + 1], path[160];

	for (int i = 0; i < 8; i++) {
		fill(k[i], (uint8_t)(40 + i));
		snprintf(id, sizeof(id), "sub%d", i);
		ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, id, k[i], NULL));
	}
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "sbc1", GK_ELEMENT_SBC, k[0], NULL));
	ASSERT_EQ(0, gk_ks_subscriber_rotate(self->ks, "sub7", NULL));
	/* Closing the last connection checkpoints the WAL into the main file. */
	gk_ks_close(self->ks);
	self->ks = NULL;
	for (int i = 0; i < 8; i++) {
		gk_hex_encode(k[i], GK_KEY_LEN, hex);
		EXPECT_FALSE(file_contains(self->db, k[i], GK_KEY_LEN))
		TH_LOG("key %d in clear", i);
		EXPECT_FALSE(file_contains(self->db, hex, 2 * GK_KEY_LEN));
		snprintf(path, sizeof(path), "%s-wal", self->db);
		EXPECT_FALSE(file_contains(path, k[i], GK_KEY_LEN));
	}
	/* Sanity: the file does hold the IDs, so the search itself works. */
	EXPECT_TRUE(file_contains(self->db, "sub3", 4));
}

TEST_F(ks, swapped_blobs_fail_authentication)
{
	uint8_t ka[GK_KEY_LEN], kb[GK_KEY_LEN], out[GK_KEY_LEN];
	enum gk_element_type type;
	struct collect c = {0};

	fill(ka, 8);
	fill(kb, 9);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "a", ka, NULL));
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "b", kb, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "a", GK_ELEMENT_SBC, kb, NULL));
	gk_ks_close(self->ks);
	self->ks = NULL;

	ASSERT_EQ(SQLITE_OK,
	          raw_exec(self->db,
	                   "CREATE TEMP TABLE old AS SELECT id, key FROM subscribers;"
	                   "UPDATE subscribers SET key = (SELECT key FROM old WHERE old.id ="
	                   " CASE subscribers.id WHEN 'a' THEN 'b' ELSE 'a' END);"
	                   /* the same ID in the other table does not help either */
	                   "UPDATE elements SET key = (SELECT key FROM old WHERE id = 'a')"
	                   " WHERE id = 'a';"));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	memset(out, 0, sizeof(out));
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_get(self->ks, "a", out));
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_get(self->ks, "b", out));
	EXPECT_EQ(-EBADMSG, gk_ks_element_get(self->ks, "a", &type, out));
	EXPECT_NE(0, memcmp(out, ka, GK_KEY_LEN));
	EXPECT_NE(0, memcmp(out, kb, GK_KEY_LEN));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "authentication"));

	/* The listing still shows the rows, marked, and reports the failure. */
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_list(self->ks, collect_fn, &c));
	ASSERT_EQ(2, c.n);
	EXPECT_STREQ("unreadable", c.e[0].fpr);
}

TEST_F(ks, provisioning_files)
{
	uint8_t k[GK_KEY_LEN], k2[GK_KEY_LEN], out[GK_KEY_LEN];
	char path[160], id[GK_ID_MAX + 1];
	struct stat st;

	snprintf(path, sizeof(path), "%s/alice.key", self->dir);
	fill(k, 10);
	fill(k2, 11);
	mode_t old = umask(0); /* the file must be 0600 whatever the umask */
	ASSERT_EQ(0, gk_provision_write(path, "alice", k));
	umask(old);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600u, st.st_mode & 07777);
	ASSERT_EQ(0, gk_provision_read(path, id, out, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	EXPECT_STREQ("alice", id);
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));

	/* Rewriting replaces it (rotation). */
	ASSERT_EQ(0, gk_provision_write(path, "alice", k2));
	ASSERT_EQ(0, gk_provision_read(path, id, out, self->err, sizeof(self->err)));
	EXPECT_EQ(0, memcmp(k2, out, GK_KEY_LEN));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600u, st.st_mode & 07777);

	/* Exactly the documented format. */
	char hex[2 * GK_KEY_LEN + 1], want[160], got[256] = "";
	gk_hex_encode(k2, GK_KEY_LEN, hex);
	snprintf(want, sizeof(want), "id alice\nkey %s\n", hex);
	FILE *f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	EXPECT_STREQ(want, got);

	EXPECT_EQ(-EINVAL, gk_provision_write(path, "bad id", k));
}

TEST_F(ks, provisioning_file_refused)
{
	uint8_t k[GK_KEY_LEN], out[GK_KEY_LEN];
	char path[160], id[GK_ID_MAX + 1];

	snprintf(path, sizeof(path), "%s/t.key", self->dir);
	fill(k, 12);
	ASSERT_EQ(0, gk_provision_write(path, "t1", k));
	ASSERT_EQ(0, chmod(path, 0644));
	EXPECT_EQ(-EPERM, gk_provision_read(path, id, out, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, path)) TH_LOG("message: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "0644")) TH_LOG("message: %s", self->err);
	ASSERT_EQ(0, chmod(path, 0640));
	EXPECT_EQ(-EPERM, gk_provision_read(path, id, out, self->err, sizeof(self->err)));

	/* A syntax error names path:line. */
	snprintf(path, sizeof(path), "%s/bad.key", self->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	const char bad[] = "# comment\nid t1\nkey 00112233\n";
	ASSERT_EQ((ssize_t)strlen(bad), write(fd, bad, strlen(bad)));
	close(fd);
	char where[200];
	snprintf(where, sizeof(where), "%s:3:", path);
	EXPECT_EQ(-EINVAL, gk_provision_read(path, id, out, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, where)) TH_LOG("message: %s", self->err);
	snprintf(path, sizeof(path), "%s/none.key", self->dir);
	EXPECT_EQ(-ENOENT, gk_provision_read(path, id, out, self->err, sizeof(self->err)));
}

TEST_F(ks, invalid_ids_refused)
{
	static const char *const bad[] = {
	    "",
	    "a b",
	    "a\tb",
	    "a\"b",
	    "a'b",
	    "a\\b",
	    "a\nb",
	    "\x01x",
	    "caf\xc3\xa9",
	    "a\x7f",
	    "0123456789012345678901234567890123456789012345678901234567890123", /* 64 */
	};
	uint8_t out[GK_KEY_LEN];
	enum gk_element_type type;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_FALSE(gk_ks_id_valid(bad[i])) TH_LOG("id %zu", i);
		EXPECT_EQ(-EINVAL, gk_ks_subscriber_add(self->ks, bad[i], NULL, NULL));
		EXPECT_EQ(-EINVAL, gk_ks_subscriber_get(self->ks, bad[i], out));
		EXPECT_EQ(-EINVAL, gk_ks_subscriber_remove(self->ks, bad[i]));
		EXPECT_EQ(-EINVAL, gk_ks_element_add(self->ks, bad[i], GK_ELEMENT_SBC, NULL, NULL));
		EXPECT_EQ(-EINVAL, gk_ks_element_get(self->ks, bad[i], &type, out));
	}
	EXPECT_FALSE(gk_ks_id_valid(NULL));
	const char *max63 = "012345678901234567890123456789012345678901234567890123456789012";
	EXPECT_TRUE(gk_ks_id_valid(max63));
	EXPECT_EQ(0, gk_ks_subscriber_add(self->ks, max63, NULL, NULL));
	EXPECT_EQ(0, gk_ks_subscriber_add(self->ks, "sip:alice@example.org;x=1", NULL, NULL));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BULK 10000

TEST_F_TIMEOUT(ks, bulk_10000_in_one_transaction, 300)
{
	uint8_t(*keys)[GK_KEY_LEN] = calloc(BULK, GK_KEY_LEN);
	uint8_t out[GK_KEY_LEN];
	char id[32];

	ASSERT_NE(NULL, keys);
	double t0 = now_s();
	ASSERT_EQ(0, gk_ks_begin(self->ks));
	for (int i = 0; i < BULK; i++) {
		snprintf(id, sizeof(id), "bulk%d", i + 1);
		ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, id, NULL, keys[i]))
		TH_LOG("%s: %s", id, gk_ks_errmsg(self->ks));
	}
	ASSERT_EQ(0, gk_ks_commit(self->ks)) TH_LOG("%s", gk_ks_errmsg(self->ks));
	double t1 = now_s();
	ksft_print_msg("bulk add: %d subscribers in %.3f s (one transaction)\n", BULK, t1 - t0);

	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	for (int i = 0; i < BULK; i++) {
		snprintf(id, sizeof(id), "bulk%d", i + 1);
		ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, id, out)) TH_LOG("%s", id);
		ASSERT_EQ(0, memcmp(keys[i], out, GK_KEY_LEN)) TH_LOG("%s", id);
	}

	/* The hot path of aucd: a note, never an assertion (machines are noisy). */
	const int lookups = 200000;
	char(*ids)[16] = calloc(BULK, 16);
	ASSERT_NE(NULL, ids);
	for (int i = 0; i < BULK; i++)
		snprintf(ids[i], 16, "bulk%d", i + 1);
	unsigned x = 12345;
	int failed = 0;
	double t2 = now_s();
	for (int i = 0; i < lookups; i++) {
		x = x * 1103515245u + 12345u;
		failed |= gk_ks_subscriber_get(self->ks, ids[(x >> 8) % BULK], out);
	}
	double t3 = now_s();
	free(ids);
	EXPECT_EQ(0, failed);
	ksft_print_msg("get: %.0f ns/lookup over %d random lookups in %d subscribers\n",
	               (t3 - t2) * 1e9 / lookups, lookups, BULK);
	fflush(stdout);
	gk_wipe(keys, (size_t)BULK * GK_KEY_LEN);
	gk_wipe(out, sizeof(out));
	free(keys);
}

/* aucd reads a batch of lookups in one snapshot; another handle's changes (gkctl) show from the
 * next snapshot on, and the snapshot never blocks the writer. */
TEST_F(ks, read_snapshot_sees_writes_from_the_next_batch)
{
	struct gk_keystore *writer;
	uint8_t k[GK_KEY_LEN];

	ASSERT_EQ(0, gk_ks_open(&writer, self->db, self->kek, self->err, sizeof(self->err)));
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "before", NULL, NULL));
	ASSERT_EQ(0, gk_ks_read_begin(self->ks));
	EXPECT_EQ(0, gk_ks_subscriber_get(self->ks, "before", k));
	ASSERT_EQ(0, gk_ks_subscriber_add(writer, "during", NULL, NULL));
	EXPECT_EQ(-ENOENT, gk_ks_subscriber_get(self->ks, "during", k));
	ASSERT_EQ(0, gk_ks_commit(self->ks));
	EXPECT_EQ(0, gk_ks_subscriber_get(self->ks, "during", k));
	gk_ks_close(writer);
}

/* ---- The type in the AAD (issue 12, finding 3), and the conversion of schema 1 stores. ----
 * The blobs are built and opened here with OpenSSL alone, from the format lib/auc/keystore.c
 * documents (ver || IV || AES-256-GCM(KEK, key) || tag; AAD: the parts below, NUL-separated),
 * so that the tests hold the library to that format rather than to itself. */

static int read_kek(const char *path, uint8_t kek[GK_KEY_LEN])
{
	char hex[2 * GK_KEY_LEN + 1] = "";
	FILE *f = fopen(path, "r");
	int ok = f && fread(hex, 1, 2 * GK_KEY_LEN, f) == 2 * GK_KEY_LEN;
	if (f)
		fclose(f);
	return ok && gk_hex_decode(hex, 2 * GK_KEY_LEN, kek, GK_KEY_LEN) == GK_KEY_LEN ? 0 : -1;
}

/* parts joined by NULs, without a final one: {"elements", "sbc", "sbc1"} */
static size_t join_aad(uint8_t *aad, const char *const *parts, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + (i < n - 1);
		memcpy(aad + len, parts[i], l);
		len += l;
	}
	return len;
}

static int blob_seal(const uint8_t kek[GK_KEY_LEN], uint8_t ver, const char *const *parts, int n,
                     const uint8_t key[GK_KEY_LEN], uint8_t blob[GK_BLOB_LEN])
{
	uint8_t aad[256];
	size_t aadlen = join_aad(aad, parts, n);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l, ok;

	blob[0] = ver;
	ok = c && gk_random(blob + 1, GK_IV_LEN) == 0 &&
	     EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), kek, blob + 1, NULL) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen) == 1 &&
	     EVP_EncryptUpdate(c, blob + 1 + GK_IV_LEN, &l, key, GK_KEY_LEN) == 1 &&
	     EVP_EncryptFinal_ex(c, blob + 1 + GK_IV_LEN + GK_KEY_LEN, &l) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GK_GCM_TAG_LEN,
	                         blob + 1 + GK_IV_LEN + GK_KEY_LEN) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* 0 when blob is of version ver and opens under exactly this AAD. */
static int blob_open(const uint8_t kek[GK_KEY_LEN], uint8_t ver, const char *const *parts, int n,
                     const uint8_t blob[GK_BLOB_LEN], uint8_t key[GK_KEY_LEN])
{
	uint8_t aad[256], tag[GK_GCM_TAG_LEN];
	size_t aadlen = join_aad(aad, parts, n);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l, ok;

	memcpy(tag, blob + 1 + GK_IV_LEN + GK_KEY_LEN, GK_GCM_TAG_LEN);
	ok = c && blob[0] == ver &&
	     EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), kek, blob + 1, NULL) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &l, aad, (int)aadlen) == 1 &&
	     EVP_DecryptUpdate(c, key, &l, blob + 1 + GK_IV_LEN, GK_KEY_LEN) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GK_GCM_TAG_LEN, tag) == 1 &&
	     EVP_DecryptFinal_ex(c, key + GK_KEY_LEN, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* The first column of the first row of sql, as bytes (-1 when there is no row). */
static int raw_get(const char *db, const char *sql, uint8_t *out, int cap)
{
	sqlite3 *h;
	sqlite3_stmt *s = NULL;
	int n = -1;

	if (sqlite3_open(db, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_bytes(s, 0);
		const void *v = sqlite3_column_blob(s, 0);
		if (n > cap)
			n = cap;
		if (v)
			memcpy(out, v, (size_t)n);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

static long long raw_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_open(db, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* Runs sql with ?1 bound to blob. */
static int raw_put(const char *db, const char *sql, const uint8_t *blob, int len)
{
	sqlite3 *h;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_open(db, &h);

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(s, 1, blob, len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	sqlite3_finalize(s);
	sqlite3_close(h);
	return rc;
}

static int count_fn(const struct gk_ks_entry *e, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

TEST_F(ks, fresh_store_binds_the_type)
{
	uint8_t kek[GK_KEY_LEN], k[GK_KEY_LEN], out[GK_KEY_LEN], blob[GK_BLOB_LEN];
	static const char *const sub[] = {"subscribers", "terminal", "alice"};
	static const char *const sbc[] = {"elements", "sbc", "edge1"};
	static const char *const ss[] = {"elements", "softswitch", "core1"};
	static const char *const old_sbc[] = {"elements", "edge1"};
	char note[256];

	ASSERT_EQ(0, read_kek(self->kek, kek));
	fill(k, 20);
	ASSERT_EQ(0, gk_ks_subscriber_add(self->ks, "alice", k, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "edge1", GK_ELEMENT_SBC, k, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "core1", GK_ELEMENT_SOFTSWITCH, k, NULL));
	EXPECT_EQ(0, gk_ks_migration(self->ks)->from_schema);
	EXPECT_EQ(0, gk_ks_migration_describe(self->ks, note, sizeof(note)));
	gk_ks_close(self->ks);
	self->ks = NULL;

	EXPECT_EQ(2, raw_int(self->db, "SELECT value FROM meta WHERE name = 'schema'"));
	ASSERT_EQ(GK_BLOB_LEN, raw_get(self->db, "SELECT key FROM subscribers WHERE id = 'alice'",
	                               blob, sizeof(blob)));
	ASSERT_EQ(0, blob_open(kek, 2, sub, 3, blob, out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	ASSERT_EQ(GK_BLOB_LEN, raw_get(self->db, "SELECT key FROM elements WHERE id = 'edge1'",
	                               blob, sizeof(blob)));
	ASSERT_EQ(0, blob_open(kek, 2, sbc, 3, blob, out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	/* bound to its type: neither the other type nor the old binding opens it */
	static const char *const as_ss[] = {"elements", "softswitch", "edge1"};
	EXPECT_NE(0, blob_open(kek, 2, as_ss, 3, blob, out));
	blob[0] = 1;
	EXPECT_NE(0, blob_open(kek, 1, old_sbc, 2, blob, out));
	ASSERT_EQ(GK_BLOB_LEN, raw_get(self->db, "SELECT key FROM elements WHERE id = 'core1'",
	                               blob, sizeof(blob)));
	ASSERT_EQ(0, blob_open(kek, 2, ss, 3, blob, out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	gk_wipe(kek, sizeof(kek));
}

/* The attack: someone who can write the database but does not hold the KEK changes an element's
 * type column (a softswitch made to pass for an SBC, or the other way round), so that the AuC
 * wraps its key blobs for the other role. */
TEST_F(ks, element_moved_to_another_type_fails_and_is_reported)
{
	uint8_t kek[GK_KEY_LEN], k1[GK_KEY_LEN], k2[GK_KEY_LEN], out[GK_KEY_LEN];
	uint8_t blob[GK_BLOB_LEN];
	enum gk_element_type type;
	struct collect c = {0};

	fill(k1, 21);
	fill(k2, 22);
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "e1", GK_ELEMENT_SOFTSWITCH, k1, NULL));
	ASSERT_EQ(0, gk_ks_element_add(self->ks, "e2", GK_ELEMENT_SBC, k2, NULL));
	gk_ks_close(self->ks);
	self->ks = NULL;
	ASSERT_EQ(SQLITE_OK, raw_exec(self->db, "UPDATE elements SET type = 1 WHERE id = 'e1';"
	                                        "UPDATE elements SET type = 2 WHERE id = 'e2';"));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);

	memset(out, 0, sizeof(out));
	EXPECT_EQ(-EBADMSG, gk_ks_element_get(self->ks, "e1", &type, out));
	EXPECT_NE(0, memcmp(out, k1, GK_KEY_LEN));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "authentication"));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "(sbc)"))
	TH_LOG("%s", gk_ks_errmsg(self->ks));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "type changed"));
	EXPECT_EQ(-EBADMSG, gk_ks_element_get(self->ks, "e2", &type, out));

	/* The listing shows both, marked, and reports the failure. */
	EXPECT_EQ(-EBADMSG, gk_ks_element_list(self->ks, collect_fn, &c));
	ASSERT_EQ(2, c.n);
	EXPECT_STREQ("unreadable", c.e[0].fpr);
	EXPECT_STREQ("unreadable", c.e[1].fpr);
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "e1"));

	/* A rotation would seal a new key under the forged type: refused. */
	EXPECT_EQ(-EBADMSG, gk_ks_element_rotate(self->ks, "e1", out));
	gk_ks_close(self->ks);
	self->ks = NULL;

	/* A format 1 blob (bound to table and ID only, as schema 1 wrote them) put into the row
	 * does not help either: a converted store no longer accepts the format. */
	static const char *const old_e1[] = {"elements", "e1"};
	ASSERT_EQ(0, read_kek(self->kek, kek));
	ASSERT_EQ(0, blob_seal(kek, 1, old_e1, 2, k1, blob));
	ASSERT_EQ(SQLITE_OK, raw_put(self->db, "UPDATE elements SET key = ?1 WHERE id = 'e1'", blob,
	                             GK_BLOB_LEN));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	EXPECT_EQ(-EBADMSG, gk_ks_element_get(self->ks, "e1", &type, out));
	EXPECT_NE(NULL, strstr(gk_ks_errmsg(self->ks), "format 1"))
	TH_LOG("%s", gk_ks_errmsg(self->ks));
	gk_ks_close(self->ks);
	self->ks = NULL;

	/* Back to the type it was added with, e2 is readable again: it is the type that failed. */
	ASSERT_EQ(SQLITE_OK, raw_exec(self->db, "UPDATE elements SET type = 1 WHERE id = 'e2';"));
	ASSERT_EQ(0, reopen(self)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "e2", &type, out));
	EXPECT_EQ(0, memcmp(out, k2, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SBC, (int)type);
	gk_wipe(kek, sizeof(kek));
}

/* A store as schema 1 wrote it, built by hand: the tables of that version, its schema row,
 * a KEK check and rows whose AAD is table || 0 || id. */
static const char schema1_sql[] =
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value);"
    "CREATE TABLE subscribers (id TEXT PRIMARY KEY, key BLOB NOT NULL, created INTEGER,"
    " rotated INTEGER);"
    "CREATE TABLE elements (id TEXT PRIMARY KEY, type INTEGER NOT NULL, key BLOB NOT NULL,"
    " created INTEGER, rotated INTEGER);"
    "INSERT INTO meta VALUES ('schema', 1);";

static int old_row(const char *db, const uint8_t kek[GK_KEY_LEN], const char *table, const char *id,
                   int type, const uint8_t key[GK_KEY_LEN])
{
	const char *parts[] = {table, id};
	uint8_t blob[GK_BLOB_LEN];
	char sql[256];

	if (blob_seal(kek, 1, parts, 2, key, blob) < 0)
		return -1;
	if (strcmp(table, "subscribers") == 0)
		snprintf(sql, sizeof(sql),
		         "INSERT INTO subscribers VALUES ('%s', ?1, 1700000000, 1700000000)", id);
	else
		snprintf(sql, sizeof(sql),
		         "INSERT INTO elements VALUES ('%s', %d, ?1, 1700000000, 1700000000)", id,
		         type);
	return raw_put(db, sql, blob, GK_BLOB_LEN) == SQLITE_OK ? 0 : -1;
}

static int make_schema1_store(const char *db, const uint8_t kek[GK_KEY_LEN], int subscribers)
{
	static const uint8_t check[GK_KEY_LEN] = "gatekey key store KEK check v1";
	static const char *const meta[] = {"meta", "kek_check"};
	uint8_t blob[GK_BLOB_LEN], k[GK_KEY_LEN];
	char id[32];

	if (raw_exec(db, schema1_sql) != SQLITE_OK || blob_seal(kek, 1, meta, 2, check, blob) < 0 ||
	    raw_put(db, "INSERT INTO meta VALUES ('kek_check', ?1)", blob, GK_BLOB_LEN) !=
	        SQLITE_OK)
		return -1;
	for (int i = 0; i < subscribers; i++) {
		snprintf(id, sizeof(id), "sub%d", i);
		fill(k, (uint8_t)i);
		if (old_row(db, kek, "subscribers", id, 0, k) < 0)
			return -1;
	}
	fill(k, 200);
	if (old_row(db, kek, "elements", "edge1", GK_ELEMENT_SBC, k) < 0)
		return -1;
	fill(k, 201);
	return old_row(db, kek, "elements", "core1", GK_ELEMENT_SOFTSWITCH, k);
}

#define OLD_SUBS 600 /* more than one conversion batch */

TEST_F(ks, schema1_store_is_converted_at_open)
{
	uint8_t kek[GK_KEY_LEN], k[GK_KEY_LEN], out[GK_KEY_LEN], blob[GK_BLOB_LEN];
	enum gk_element_type type;
	char old[160], note[512], id[32];
	int n = 0;

	ASSERT_EQ(0, read_kek(self->kek, kek));
	snprintf(old, sizeof(old), "%s/old.db", self->dir);
	ASSERT_EQ(0, make_schema1_store(old, kek, OLD_SUBS));
	/* and one row that was already unreadable: tampered ciphertext */
	fill(k, 99);
	ASSERT_EQ(0, old_row(old, kek, "subscribers", "broken", 0, k));
	/* Byte 21 always changes: a fixed value would leave it as it was once in 256 runs. */
	ASSERT_EQ(SQLITE_OK,
	          raw_exec(old, "UPDATE subscribers SET key = substr(key, 1, 20) || CASE WHEN"
	                        " substr(key, 21, 1) = x'00' THEN x'01' ELSE x'00' END ||"
	                        " substr(key, 22) WHERE id = 'broken'"));

	gk_ks_close(self->ks);
	ASSERT_EQ(0, gk_ks_open(&self->ks, old, self->kek, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	const struct gk_ks_migration *m = gk_ks_migration(self->ks);
	EXPECT_EQ(1, m->from_schema);
	EXPECT_EQ(2, m->to_schema);
	EXPECT_EQ(OLD_SUBS + 2, m->converted);
	EXPECT_EQ(1, m->unreadable);
	ASSERT_EQ(1, gk_ks_migration_describe(self->ks, note, sizeof(note)));
	EXPECT_NE(NULL, strstr(note, "schema 1 to 2")) TH_LOG("%s", note);

	/* Every key is still there, and the same. */
	for (int i = 0; i < OLD_SUBS; i++) {
		snprintf(id, sizeof(id), "sub%d", i);
		fill(k, (uint8_t)i);
		ASSERT_EQ(0, gk_ks_subscriber_get(self->ks, id, out)) TH_LOG("%s", id);
		ASSERT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	}
	fill(k, 200);
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "edge1", &type, out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SBC, (int)type);
	fill(k, 201);
	ASSERT_EQ(0, gk_ks_element_get(self->ks, "core1", &type, out));
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));
	EXPECT_EQ((int)GK_ELEMENT_SOFTSWITCH, (int)type);
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_get(self->ks, "broken", out));
	EXPECT_EQ(-EBADMSG, gk_ks_subscriber_list(self->ks, count_fn, &n));
	EXPECT_EQ(OLD_SUBS + 1, n);
	gk_ks_close(self->ks);
	self->ks = NULL;

	/* On disk: schema 2, and the rows in format 2 under the type-bound AAD. */
	EXPECT_EQ(2, raw_int(old, "SELECT value FROM meta WHERE name = 'schema'"));
	EXPECT_EQ(0, raw_int(old, "SELECT count(*) FROM subscribers WHERE substr(key, 1, 1) ="
	                          " x'01' AND id != 'broken'"));
	static const char *const sbc[] = {"elements", "sbc", "edge1"};
	ASSERT_EQ(GK_BLOB_LEN,
	          raw_get(old, "SELECT key FROM elements WHERE id = 'edge1'", blob, sizeof(blob)));
	ASSERT_EQ(0, blob_open(kek, 2, sbc, 3, blob, out));
	fill(k, 200);
	EXPECT_EQ(0, memcmp(k, out, GK_KEY_LEN));

	/* Converted once: the next open has nothing to do, and the type is now bound. */
	ASSERT_EQ(0, gk_ks_open(&self->ks, old, self->kek, self->err, sizeof(self->err)));
	EXPECT_EQ(0, gk_ks_migration(self->ks)->from_schema);
	gk_ks_close(self->ks);
	self->ks = NULL;
	ASSERT_EQ(SQLITE_OK, raw_exec(old, "UPDATE elements SET type = 2 WHERE id = 'edge1'"));
	ASSERT_EQ(0, gk_ks_open(&self->ks, old, self->kek, self->err, sizeof(self->err)));
	EXPECT_EQ(-EBADMSG, gk_ks_element_get(self->ks, "edge1", &type, out));
	gk_wipe(kek, sizeof(kek));
}

/* The conversion is one transaction: if it fails half way (here a trigger refuses the update of
 * the elements, after the subscribers were converted), nothing of it stays, and the store opens
 * as schema 1 again once the cause is gone. A wrong KEK converts nothing either. */
TEST_F(ks, schema1_conversion_is_all_or_nothing)
{
	uint8_t kek[GK_KEY_LEN], out[GK_KEY_LEN];
	char old[160], other[160];
	struct gk_keystore *ks2 = NULL;

	ASSERT_EQ(0, read_kek(self->kek, kek));
	snprintf(old, sizeof(old), "%s/old.db", self->dir);
	ASSERT_EQ(0, make_schema1_store(old, kek, 3));
	ASSERT_EQ(SQLITE_OK, raw_exec(old, "CREATE TRIGGER no BEFORE UPDATE ON elements"
	                                   " BEGIN SELECT RAISE(ABORT, 'refused'); END;"));
	EXPECT_GT(0, gk_ks_open(&ks2, old, self->kek, self->err, sizeof(self->err)));
	EXPECT_EQ(NULL, ks2);
	EXPECT_NE(NULL, strstr(self->err, "refused")) TH_LOG("%s", self->err);
	EXPECT_EQ(1, raw_int(old, "SELECT value FROM meta WHERE name = 'schema'"));
	EXPECT_EQ(3, raw_int(old, "SELECT count(*) FROM subscribers WHERE substr(key, 1, 1) ="
	                          " x'01'"));

	snprintf(other, sizeof(other), "%s/kek2", self->dir);
	ASSERT_EQ(0, gk_ks_kek_generate(other, self->err, sizeof(self->err)));
	EXPECT_EQ(-EKEYREJECTED, gk_ks_open(&ks2, old, other, self->err, sizeof(self->err)));
	EXPECT_EQ(1, raw_int(old, "SELECT value FROM meta WHERE name = 'schema'"));

	ASSERT_EQ(SQLITE_OK, raw_exec(old, "DROP TRIGGER no"));
	ASSERT_EQ(0, gk_ks_open(&ks2, old, self->kek, self->err, sizeof(self->err)))
	TH_LOG("%s", self->err);
	EXPECT_EQ(5, gk_ks_migration(ks2)->converted);
	EXPECT_EQ(0, gk_ks_subscriber_get(ks2, "sub2", out));
	gk_ks_close(ks2);
	gk_wipe(kek, sizeof(kek));
}

TEST_F(ks, newer_schema_refused)
{
	struct gk_keystore *ks2 = NULL;

	ASSERT_EQ(SQLITE_OK, raw_exec(self->db, "UPDATE meta SET value = 3 WHERE name = 'schema'"));
	EXPECT_GT(0, gk_ks_open(&ks2, self->db, self->kek, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "schema version 3")) TH_LOG("%s", self->err);
}

TEST_HARNESS_MAIN
