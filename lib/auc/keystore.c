// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AuC key store (include/gatekey/auc/keystore.h). One SQLite connection per handle, WAL so that
 * gkctl can write while aucd reads; every statement is prepared once at open because aucd looks
 * keys up at registration rate. Keys never reach SQLite in clear: each row holds
 * ver || IV || AES-256-GCM(KEK, key) || tag with, for ver 2,
 * AAD = table || 0 || type || 0 || id, type being "terminal", "sbc" or "softswitch".
 *
 * Why the type is in the AAD: an element's type is a column of its row, and it decides the role
 * its key blobs are wrapped for (DESIGN §4). Bound to table and ID only (ver 1, schema 1), the
 * ciphertext of a softswitch decrypted as well after its row was made to say "sbc". Stores of
 * schema 1 are converted at open, in the transaction that checks the schema (migrate_v1).
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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "gatekey/auc/keystore.h"

#define KS_SCHEMA_VERSION 2
/* Blob format 1: AAD = table || 0 || id. The KEK check keeps it (it has no type); a row must be
 * format 2 once its store is schema 2, so an old blob put back into a row is refused. */
#define KS_BLOB_V1  0x01
#define KS_BLOB_V2  0x02
#define KS_BLOB_LEN (1 + GK_IV_LEN + GK_KEY_LEN + GK_GCM_TAG_LEN)
#define KS_BUSY_MS  5000
/* Rows converted per read of the old table during migration (bounded memory, any store size). */
#define KS_MIGRATE_BATCH 256

/* The KEK check: a known plaintext sealed under the KEK in the meta table, so a wrong KEK is
 * refused at open instead of making every lookup fail. GCM's tag is what is checked; a known
 * plaintext does not weaken AES. */
static const uint8_t kek_check_plain[GK_KEY_LEN] = "gatekey key store KEK check v1";

enum table {
	T_SUB,
	T_EL,
};
static const char *const table_name[] = {[T_SUB] = "subscribers", [T_EL] = "elements"};
static const char *const row_name[] = {[T_SUB] = "subscriber", [T_EL] = "element"};

enum stmt {
	S_GET_SUB,
	S_GET_EL,
	S_ADD_SUB,
	S_ADD_EL,
	S_DEL_SUB,
	S_DEL_EL,
	S_ROT_SUB,
	S_ROT_EL,
	S_LIST_SUB,
	S_LIST_EL,
	S_HAS_SUB,
	S_TYPE_EL,
	S__COUNT,
};

static const char *const stmt_sql[S__COUNT] = {
    [S_GET_SUB] = "SELECT key FROM subscribers WHERE id = ?1",
    [S_GET_EL] = "SELECT key, type FROM elements WHERE id = ?1",
    [S_ADD_SUB] = "INSERT INTO subscribers (id, key, created, rotated) VALUES (?1, ?2, ?3, ?3)",
    [S_ADD_EL] = "INSERT INTO elements (id, type, key, created, rotated) "
                 "VALUES (?1, ?4, ?2, ?3, ?3)",
    [S_DEL_SUB] = "DELETE FROM subscribers WHERE id = ?1",
    [S_DEL_EL] = "DELETE FROM elements WHERE id = ?1",
    [S_ROT_SUB] = "UPDATE subscribers SET key = ?2, rotated = ?3 WHERE id = ?1",
    /* The new blob is sealed for the type read (and authenticated) just before: if the type
     * changed in between, nothing is written. */
    [S_ROT_EL] = "UPDATE elements SET key = ?2, rotated = ?3 WHERE id = ?1 AND type = ?4",
    [S_LIST_SUB] = "SELECT id, key, created, rotated, 0 FROM subscribers ORDER BY id",
    [S_LIST_EL] = "SELECT id, key, created, rotated, type FROM elements ORDER BY id",
    /* Existence only: no key column, so nothing to decrypt (a routing lookup, auc_proto.h) */
    [S_HAS_SUB] = "SELECT 1 FROM subscribers WHERE id = ?1",
    [S_TYPE_EL] = "SELECT type FROM elements WHERE id = ?1",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS subscribers (id TEXT PRIMARY KEY, key BLOB NOT NULL,"
    " created INTEGER, rotated INTEGER);"
    "CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, type INTEGER NOT NULL,"
    " key BLOB NOT NULL, created INTEGER, rotated INTEGER);";

struct gk_keystore {
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	/* Keyed once at open; each operation only sets a new IV, so a lookup does not pay for
	 * the AES key schedule. */
	EVP_CIPHER_CTX *enc, *dec;
	struct gk_ks_migration migration;
	char errmsg[512];
};

static void set_err(struct gk_keystore *ks, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct gk_keystore *ks, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ks->errmsg, sizeof(ks->errmsg), fmt, ap);
	va_end(ap);
}

static int sql_err(struct gk_keystore *ks, const char *what)
{
	set_err(ks, "%s: %s", what, sqlite3_errmsg(ks->db));
	return -EIO;
}

const char *gk_ks_errmsg(struct gk_keystore *ks)
{
	return ks && ks->errmsg[0] ? ks->errmsg : "no error";
}

bool gk_ks_id_valid(const char *id)
{
	size_t n = 0;
	if (!id)
		return false;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];
		if (n == GK_ID_MAX || c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\')
			return false;
	}
	return n > 0;
}

/* What a blob is bound to (its AAD), and in which format. */
struct bind {
	uint8_t format;   /* KS_BLOB_V2 for rows; V1 for the KEK check and schema 1 rows */
	const char *what; /* for messages: "subscriber", "element", "meta" */
	const char *table;
	/* format 2: "terminal", "sbc", "softswitch"; NULL: an element type this build does not know
	 */
	const char *type;
	const char *id; /* already valid */
};

static const char *type_name(enum table t, int type)
{
	if (t == T_SUB)
		return "terminal";
	return type == GK_ELEMENT_SBC ? "sbc" : type == GK_ELEMENT_SOFTSWITCH ? "softswitch" : NULL;
}

/* The binding of a row; type is the row's element type (ignored for subscribers). */
static struct bind row_bind(enum table t, int type, const char *id)
{
	return (struct bind){KS_BLOB_V2, row_name[t], table_name[t], type_name(t, type), id};
}

static const struct bind kek_check_bind = {KS_BLOB_V1, "meta", "meta", NULL, "kek_check"};

static size_t make_aad(uint8_t *aad, const struct bind *b)
{
	size_t n = 0, l;

	/* each with its NUL: the separator */
	l = strlen(b->table) + 1;
	memcpy(aad, b->table, l);
	n += l;
	if (b->format == KS_BLOB_V2) {
		l = strlen(b->type) + 1;
		memcpy(aad + n, b->type, l);
		n += l;
	}
	l = strlen(b->id);
	memcpy(aad + n, b->id, l);
	return n + l;
}

static int seal(struct gk_keystore *ks, const struct bind *b, const uint8_t key[GK_KEY_LEN],
                uint8_t blob[KS_BLOB_LEN])
{
	uint8_t aad[48 + GK_ID_MAX];
	int n, ok;

	if (b->format == KS_BLOB_V2 && !b->type) {
		set_err(ks, "%s \"%s\": unknown element type", b->what, b->id);
		return -EINVAL;
	}
	blob[0] = b->format;
	/* Random 96-bit IVs under one KEK are safe far beyond any realistic number of writes
	 * (the 2^32 bound of SP 800-38D). */
	if (gk_random(blob + 1, GK_IV_LEN) < 0) {
		set_err(ks, "no randomness for an IV");
		return -EIO;
	}
	size_t aadlen = make_aad(aad, b);
	ok = EVP_EncryptInit_ex2(ks->enc, NULL, NULL, blob + 1, NULL) &&
	     EVP_EncryptUpdate(ks->enc, NULL, &n, aad, (int)aadlen) &&
	     EVP_EncryptUpdate(ks->enc, blob + 1 + GK_IV_LEN, &n, key, GK_KEY_LEN) &&
	     n == GK_KEY_LEN && EVP_EncryptFinal_ex(ks->enc, blob + 1 + GK_IV_LEN + n, &n) &&
	     EVP_CIPHER_CTX_ctrl(ks->enc, EVP_CTRL_GCM_GET_TAG, GK_GCM_TAG_LEN,
	                         blob + 1 + GK_IV_LEN + GK_KEY_LEN) > 0;
	if (!ok) {
		set_err(ks, "AES-256-GCM encryption failed");
		return -EIO;
	}
	return 0;
}

/* The blob must be of the binding's format: a format 1 blob, bound to no type, planted into a row
 * of a converted store is refused whatever it decrypts to. */
static int unseal(struct gk_keystore *ks, const struct bind *b, const void *blobv, int bloblen,
                  uint8_t key[GK_KEY_LEN])
{
	const uint8_t *blob = blobv;
	uint8_t aad[48 + GK_ID_MAX], tag[GK_GCM_TAG_LEN];
	int n, m, ok;

	if (b->format == KS_BLOB_V2 && !b->type) {
		set_err(ks, "%s \"%s\": unknown element type", b->what, b->id);
		return -EBADMSG;
	}
	if (blob && bloblen == KS_BLOB_LEN && blob[0] == KS_BLOB_V1 && b->format == KS_BLOB_V2) {
		set_err(
		    ks,
		    "%s \"%s\": stored key is still in format 1 (bound to no type), which this "
		    "store no longer accepts: it did not decrypt when the store was converted, or "
		    "was put back since; remove it and add it again",
		    b->what, b->id);
		return -EBADMSG;
	}
	if (!blob || bloblen != KS_BLOB_LEN || blob[0] != b->format) {
		set_err(ks, "%s \"%s\": stored key blob has an unknown format", b->what, b->id);
		return -EBADMSG;
	}
	/* The tag argument of the ctrl is not const; copy it off the SQLite page. */
	memcpy(tag, blob + 1 + GK_IV_LEN + GK_KEY_LEN, GK_GCM_TAG_LEN);
	size_t aadlen = make_aad(aad, b);
	ok = EVP_DecryptInit_ex2(ks->dec, NULL, NULL, blob + 1, NULL) &&
	     EVP_DecryptUpdate(ks->dec, NULL, &n, aad, (int)aadlen) &&
	     EVP_DecryptUpdate(ks->dec, key, &n, blob + 1 + GK_IV_LEN, GK_KEY_LEN) &&
	     n == GK_KEY_LEN &&
	     EVP_CIPHER_CTX_ctrl(ks->dec, EVP_CTRL_GCM_SET_TAG, GK_GCM_TAG_LEN, tag) > 0 &&
	     EVP_DecryptFinal_ex(ks->dec, key + n, &m) > 0;
	if (!ok) {
		OPENSSL_cleanse(key, GK_KEY_LEN);
		if (b->format == KS_BLOB_V2)
			set_err(ks,
			        "%s \"%s\" (%s): stored key fails authentication under the KEK "
			        "(tampered, copied from another row, or the row's type changed)",
			        b->what, b->id, b->type);
		else
			set_err(ks,
			        "%s \"%s\": stored key fails authentication under the KEK "
			        "(tampered, or copied from another row)",
			        b->what, b->id);
		return -EBADMSG;
	}
	return 0;
}

static int prepare_all(struct gk_keystore *ks)
{
	for (int i = 0; i < S__COUNT; i++)
		if (sqlite3_prepare_v3(ks->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &ks->st[i], NULL) != SQLITE_OK)
			return sql_err(ks, "preparing statements");
	return 0;
}

/* Schema 1 -> 2, inside init_db's transaction (all rows or none): each row's format 1 blob
 * (AAD table || id) is opened and sealed again as format 2, with its type in the AAD. The type
 * bound is the one the row says now: format 1 recorded none, so a change made before the
 * conversion cannot be told from here. A row that does not open (tampered, or of a type this
 * build does not know) is left as it is and counted: it was unreadable before and stays so. The
 * rows are read by rowid in batches, so the memory used does not grow with the store. */
static int migrate_v1(struct gk_keystore *ks)
{
	static const char *const select_sql[] = {
	    [T_SUB] = "SELECT rowid, id, key, 0 FROM subscribers WHERE rowid > ?1 ORDER BY rowid "
	              "LIMIT ?2",
	    [T_EL] = "SELECT rowid, id, key, type FROM elements WHERE rowid > ?1 ORDER BY rowid "
	             "LIMIT ?2",
	};
	static const char *const update_sql[] = {
	    [T_SUB] = "UPDATE subscribers SET key = ?2 WHERE rowid = ?1",
	    [T_EL] = "UPDATE elements SET key = ?2 WHERE rowid = ?1",
	};
	struct row {
		sqlite3_int64 rowid;
		char id[GK_ID_MAX + 1];
		int type;
		bool readable; /* a valid ID and a blob of format 1's size and version */
		uint8_t blob[KS_BLOB_LEN];
	} *rows = calloc(KS_MIGRATE_BATCH, sizeof(*rows));
	sqlite3_stmt *sel = NULL, *upd = NULL;
	uint8_t key[GK_KEY_LEN];
	int ret = 0;

	if (!rows) {
		set_err(ks, "out of memory converting the key store");
		return -ENOMEM;
	}
	ks->migration.from_schema = 1;
	ks->migration.to_schema = KS_SCHEMA_VERSION;
	for (enum table t = T_SUB; t <= T_EL && !ret; t++) {
		sqlite3_int64 last = 0;
		int n = KS_MIGRATE_BATCH;

		if (sqlite3_prepare_v2(ks->db, select_sql[t], -1, &sel, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(ks->db, update_sql[t], -1, &upd, NULL) != SQLITE_OK) {
			ret = sql_err(ks, "preparing the conversion to schema 2");
			break;
		}
		while (!ret && n == KS_MIGRATE_BATCH) {
			int rc;
			n = 0;
			sqlite3_bind_int64(sel, 1, last);
			sqlite3_bind_int(sel, 2, KS_MIGRATE_BATCH);
			while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
				struct row *r = &rows[n++];
				const char *id = (const char *)sqlite3_column_text(sel, 1);
				const uint8_t *blob = sqlite3_column_blob(sel, 2);
				r->rowid = last = sqlite3_column_int64(sel, 0);
				r->type = sqlite3_column_int(sel, 3);
				r->readable = id && gk_ks_id_valid(id) && blob &&
				              sqlite3_column_bytes(sel, 2) == KS_BLOB_LEN &&
				              blob[0] == KS_BLOB_V1;
				if (r->readable) {
					snprintf(r->id, sizeof(r->id), "%s", id);
					memcpy(r->blob, blob, KS_BLOB_LEN);
				}
			}
			sqlite3_reset(sel);
			if (rc != SQLITE_DONE) {
				ret = sql_err(ks, "reading rows to convert");
				break;
			}
			for (int i = 0; i < n && !ret; i++) {
				struct row *r = &rows[i];
				struct bind old = {KS_BLOB_V1, row_name[t], table_name[t], NULL,
				                   r->id};
				struct bind now = row_bind(t, r->type, r->id);
				if (!r->readable || !now.type ||
				    unseal(ks, &old, r->blob, KS_BLOB_LEN, key) < 0) {
					ks->migration.unreadable++;
					continue;
				}
				ret = seal(ks, &now, key, r->blob);
				OPENSSL_cleanse(key, sizeof(key));
				if (ret < 0)
					break;
				if (sqlite3_bind_int64(upd, 1, r->rowid) != SQLITE_OK ||
				    sqlite3_bind_blob(upd, 2, r->blob, KS_BLOB_LEN,
				                      SQLITE_STATIC) != SQLITE_OK ||
				    sqlite3_step(upd) != SQLITE_DONE)
					ret = sql_err(ks, "writing a converted row");
				sqlite3_reset(upd);
				ks->migration.converted++;
			}
		}
		sqlite3_finalize(sel);
		sqlite3_finalize(upd);
		sel = upd = NULL;
	}
	if (!ret && sqlite3_exec(ks->db, "UPDATE meta SET value = 2 WHERE name = 'schema'", NULL,
	                         NULL, NULL) != SQLITE_OK)
		ret = sql_err(ks, "writing the schema version");
	OPENSSL_cleanse(rows, KS_MIGRATE_BATCH * sizeof(*rows));
	free(rows);
	if (ret < 0)
		memset(&ks->migration, 0, sizeof(ks->migration));
	return ret;
}

/* Schema and KEK check in one IMMEDIATE transaction, so that two programs opening a new store
 * at the same moment cannot both write a KEK check. */
static int init_db(struct gk_keystore *ks)
{
	sqlite3_stmt *s = NULL;
	uint8_t blob[KS_BLOB_LEN], plain[GK_KEY_LEN];
	sqlite3_int64 schema = KS_SCHEMA_VERSION;
	int ret = -EIO, rc;

	if (sqlite3_exec(ks->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return sql_err(ks, "starting the schema transaction");
	if (sqlite3_exec(ks->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		sql_err(ks, "creating tables");
		goto out;
	}
	if (sqlite3_prepare_v2(ks->db, "SELECT value FROM meta WHERE name = 'schema'", -1, &s,
	                       NULL) != SQLITE_OK) {
		sql_err(ks, "reading the schema version");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		schema = sqlite3_column_int64(s, 0);
		if (schema != 1 && schema != KS_SCHEMA_VERSION) {
			set_err(ks,
			        "schema version %lld, this build knows version %d (and converts "
			        "version 1)",
			        (long long)schema, KS_SCHEMA_VERSION);
			goto out;
		}
	} else if (rc != SQLITE_DONE ||
	           sqlite3_exec(ks->db, "INSERT INTO meta (name, value) VALUES ('schema', 2)", NULL,
	                        NULL, NULL) != SQLITE_OK) {
		sql_err(ks, "writing the schema version");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;

	if (sqlite3_prepare_v2(ks->db, "SELECT value FROM meta WHERE name = 'kek_check'", -1, &s,
	                       NULL) != SQLITE_OK) {
		sql_err(ks, "reading the KEK check");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret = unseal(ks, &kek_check_bind, sqlite3_column_blob(s, 0),
		             sqlite3_column_bytes(s, 0), plain);
		if (ret == 0 && CRYPTO_memcmp(plain, kek_check_plain, GK_KEY_LEN) != 0)
			ret = -EBADMSG;
		OPENSSL_cleanse(plain, sizeof(plain));
		if (ret < 0) {
			set_err(ks, "the KEK does not match this key store (it was created with "
			            "another KEK)");
			ret = -EKEYREJECTED;
			goto out;
		}
	} else if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		s = NULL;
		ret = seal(ks, &kek_check_bind, kek_check_plain, blob);
		if (ret < 0)
			goto out;
		ret = -EIO;
		if (sqlite3_prepare_v2(ks->db, "INSERT INTO meta VALUES ('kek_check', ?1)", -1, &s,
		                       NULL) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 1, blob, sizeof(blob), SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_DONE) {
			sql_err(ks, "writing the KEK check");
			goto out;
		}
	} else {
		sql_err(ks, "reading the KEK check");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* After the KEK check: under a wrong KEK every row would look unreadable. */
	if (schema == 1) {
		ret = migrate_v1(ks);
		if (ret < 0)
			goto out;
	}
	if (sqlite3_exec(ks->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		memset(&ks->migration, 0, sizeof(ks->migration));
		ret = sql_err(ks, "committing the schema");
		goto out;
	}
	return 0;
out:
	sqlite3_finalize(s);
	sqlite3_exec(ks->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int read_kek(const char *path, uint8_t kek[GK_KEY_LEN], char *err, size_t errlen)
{
	uint8_t buf[GK_KEY_LEN * 2 + 3];
	struct stat st;
	ssize_t n;
	int ret = -EINVAL;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KEK file %s: %s%s", path, strerror(errno),
		         errno == ENOENT ? " (create one with: gkctl kek generate PATH)" : "");
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KEK file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "KEK file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
		ret = -EPERM;
		snprintf(err, errlen,
		         "KEK file %s has mode %04o; it must be 0600 or 0400 (chmod 600 %s)", path,
		         (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "KEK file %s: %s", path, strerror(errno));
		goto out;
	}
	if (n == GK_KEY_LEN) {
		memcpy(kek, buf, GK_KEY_LEN);
		ret = 0;
	} else if (n == 2 * GK_KEY_LEN || (n == 2 * GK_KEY_LEN + 1 && buf[n - 1] == '\n')) {
		if (gk_hex_decode((const char *)buf, 2 * GK_KEY_LEN, kek, GK_KEY_LEN) == GK_KEY_LEN)
			ret = 0;
	}
	if (ret < 0) {
		OPENSSL_cleanse(kek, GK_KEY_LEN);
		snprintf(err, errlen,
		         "KEK file %s: expected 32 raw bytes or 64 hex digits (and a newline)",
		         path);
	}
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return ret;
}

static int make_ctx(EVP_CIPHER_CTX **ctx, const EVP_CIPHER *aes, const uint8_t kek[GK_KEY_LEN],
                    int enc)
{
	*ctx = EVP_CIPHER_CTX_new();
	return *ctx && EVP_CipherInit_ex2(*ctx, aes, kek, NULL, enc, NULL) ? 0 : -EIO;
}

static void chmod_if_present(const char *db_path, const char *suffix)
{
	char p[4096];
	if ((size_t)snprintf(p, sizeof(p), "%s%s", db_path, suffix) < sizeof(p))
		chmod(p, 0600); /* ENOENT is fine: SQLite creates them lazily */
}

int gk_ks_open(struct gk_keystore **out, const char *db_path, const char *kek_path, char *err,
               size_t errlen)
{
	struct gk_keystore *ks;
	uint8_t kek[GK_KEY_LEN];
	EVP_CIPHER *aes = NULL;
	struct stat st;
	int ret;

	*out = NULL;
	ret = read_kek(kek_path, kek, err, errlen);
	if (ret < 0)
		return ret;
	ks = calloc(1, sizeof(*ks));
	aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!ks || !aes || make_ctx(&ks->enc, aes, kek, 1) < 0 ||
	    make_ctx(&ks->dec, aes, kek, 0) < 0) {
		OPENSSL_cleanse(kek, sizeof(kek));
		EVP_CIPHER_free(aes);
		snprintf(err, errlen, "%s",
		         ks ? "AES-256-GCM unavailable in OpenSSL" : "out of memory");
		gk_ks_close(ks);
		return ks ? -EIO : -ENOMEM;
	}
	OPENSSL_cleanse(kek, sizeof(kek));
	EVP_CIPHER_free(aes);

	/* The store is created 0600, and so are the -wal/-shm files SQLite creates while we
	 * initialise it (SQLite gives them the database file's mode afterwards). */
	bool created = stat(db_path, &st) < 0 && errno == ENOENT;
	mode_t old = umask(077);
	int rc =
	    sqlite3_open_v2(db_path, &ks->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		umask(old);
		snprintf(err, errlen, "key store %s: %s", db_path,
		         ks->db ? sqlite3_errmsg(ks->db) : sqlite3_errstr(rc));
		gk_ks_close(ks);
		return -EIO;
	}
	sqlite3_busy_timeout(ks->db, KS_BUSY_MS);
	sqlite3_extended_result_codes(ks->db, 1);
	sqlite3_stmt *s = NULL;
	ret = 0;
	/* journal_mode answers with a row naming the mode it ended up in. */
	if (sqlite3_prepare_v2(ks->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW || !sqlite3_column_text(s, 0) ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		ret = sql_err(ks, "cannot switch to WAL mode");
	}
	sqlite3_finalize(s);
	/* secure_delete: the blob a rotation replaces is zeroed, not left in a free page where a
	 * later KEK compromise could recover the old key. */
	if (!ret && sqlite3_exec(ks->db, "PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
	                         NULL, NULL, NULL) != SQLITE_OK)
		ret = sql_err(ks, "setting pragmas");
	if (!ret)
		ret = init_db(ks);
	if (!ret)
		ret = prepare_all(ks);
	if (created) {
		chmod(db_path, 0600);
		chmod_if_present(db_path, "-wal");
		chmod_if_present(db_path, "-shm");
	}
	umask(old);
	if (ret == -EKEYREJECTED)
		snprintf(err, errlen,
		         "key store %s was created with another KEK than the one in %s (the KEK "
		         "check in its meta table does not verify)",
		         db_path, kek_path);
	else if (ret < 0)
		snprintf(err, errlen, "key store %s: %s", db_path, ks->errmsg);
	if (ret < 0) {
		gk_ks_close(ks);
		return ret;
	}
	*out = ks;
	return 0;
}

const struct gk_ks_migration *gk_ks_migration(const struct gk_keystore *ks)
{
	return &ks->migration;
}

int gk_ks_migration_describe(const struct gk_keystore *ks, char *buf, size_t len)
{
	const struct gk_ks_migration *m = &ks->migration;

	if (len)
		buf[0] = '\0';
	if (!m->from_schema)
		return 0;
	snprintf(buf, len,
	         "converted from schema %d to %d: %llu key(s) re-encrypted, each bound to the type "
	         "its row names (terminal, sbc, softswitch); %llu unreadable row(s) left as they "
	         "were%s",
	         m->from_schema, m->to_schema, (unsigned long long)m->converted,
	         (unsigned long long)m->unreadable,
	         m->unreadable ? " (listed as unreadable: remove and add them again)" : "");
	return 1;
}

void gk_ks_close(struct gk_keystore *ks)
{
	if (!ks)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(ks->st[i]);
	sqlite3_close(ks->db);
	EVP_CIPHER_CTX_free(ks->enc); /* clears the key schedule */
	EVP_CIPHER_CTX_free(ks->dec);
	OPENSSL_cleanse(ks, sizeof(*ks));
	free(ks);
}

int gk_ks_kek_generate(const char *kek_path, char *err, size_t errlen)
{
	uint8_t kek[GK_KEY_LEN];
	char hex[2 * GK_KEY_LEN + 2];
	int ret = 0;

	int fd = open(kek_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", kek_path, strerror(errno));
		return ret;
	}
	if (gk_random(kek, sizeof(kek)) < 0) {
		snprintf(err, errlen, "no randomness for the KEK");
		ret = -EIO;
		goto out;
	}
	gk_hex_encode(kek, sizeof(kek), hex);
	hex[2 * GK_KEY_LEN] = '\n';
	/* fchmod: the umask may have taken away the owner's write bit, never added group bits. */
	if (fchmod(fd, 0600) < 0 || write(fd, hex, 2 * GK_KEY_LEN + 1) != 2 * GK_KEY_LEN + 1 ||
	    fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", kek_path, strerror(-ret));
	}
out:
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(hex, sizeof(hex));
	close(fd);
	if (ret < 0)
		unlink(kek_path); /* we created it: do not leave a half-written KEK behind */
	return ret;
}

static int run_simple(struct gk_keystore *ks, const char *sql)
{
	if (sqlite3_exec(ks->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_err(ks, sql);
	return 0;
}

int gk_ks_begin(struct gk_keystore *ks)
{
	/* IMMEDIATE takes the write lock now, where busy_timeout waits for it; a deferred
	 * transaction that upgrades later can fail with SQLITE_BUSY at once. */
	return run_simple(ks, "BEGIN IMMEDIATE");
}

int gk_ks_read_begin(struct gk_keystore *ks)
{
	/* Deferred: only a shared lock, taken at the first read; writers are not blocked in WAL
	 * mode, they only wait for the snapshot to end to checkpoint past it. */
	return run_simple(ks, "BEGIN DEFERRED");
}

int gk_ks_commit(struct gk_keystore *ks)
{
	return run_simple(ks, "COMMIT");
}

int gk_ks_rollback(struct gk_keystore *ks)
{
	return run_simple(ks, "ROLLBACK");
}

static int check_id(struct gk_keystore *ks, const char *id)
{
	if (gk_ks_id_valid(id))
		return 0;
	set_err(ks,
	        "invalid ID: 1..%d printable ASCII characters, no whitespace, quotes or "
	        "backslash",
	        GK_ID_MAX);
	return -EINVAL;
}

static int get(struct gk_keystore *ks, enum table t, const char *id, int *type,
               uint8_t key_out[GK_KEY_LEN])
{
	sqlite3_stmt *s = ks->st[t == T_SUB ? S_GET_SUB : S_GET_EL];
	int ret = check_id(ks, id);
	if (ret < 0)
		return ret;
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		return sql_err(ks, "binding the ID");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* The type is in the blob's AAD: a row whose type was changed fails here. */
		int row_type = t == T_EL ? sqlite3_column_int(s, 1) : 0;
		struct bind b = row_bind(t, row_type, id);
		ret =
		    unseal(ks, &b, sqlite3_column_blob(s, 0), sqlite3_column_bytes(s, 0), key_out);
		if (type)
			*type = row_type;
	} else if (rc == SQLITE_DONE) {
		set_err(ks, "%s \"%s\" not found", row_name[t], id);
		ret = -ENOENT;
	} else {
		ret = sql_err(ks, "lookup");
	}
	/* Ends the read transaction: without the reset aucd would keep reading the snapshot it
	 * first saw and never notice gkctl's changes. */
	sqlite3_reset(s);
	return ret;
}

/* Whether row id exists (1, with its type column into *type for an element), 0 when not, or a
 * negative errno; no key is read. */
static int exists(struct gk_keystore *ks, enum table t, const char *id, int *type)
{
	sqlite3_stmt *s = ks->st[t == T_SUB ? S_HAS_SUB : S_TYPE_EL];
	int ret = check_id(ks, id);
	if (ret < 0)
		return ret;
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		return sql_err(ks, "binding the ID");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (type)
			*type = sqlite3_column_int(s, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = sql_err(ks, "lookup");
	}
	sqlite3_reset(s); /* ends the read transaction, as in get() */
	return ret;
}

static int put(struct gk_keystore *ks, enum table t, bool add, const char *id, int type,
               const uint8_t *key, uint8_t key_out[GK_KEY_LEN])
{
	uint8_t k[GK_KEY_LEN], blob[KS_BLOB_LEN];
	sqlite3_stmt *s;
	int ret = check_id(ks, id);

	if (ret < 0)
		return ret;
	if (key) {
		memcpy(k, key, GK_KEY_LEN);
	} else if (gk_random(k, GK_KEY_LEN) < 0) {
		set_err(ks, "no randomness for a key");
		return -EIO;
	}
	if (!add && t == T_EL) {
		/* The new key is sealed for the row's type, so that type must be authentic: it is
		 * only when the old key still decrypts under it. */
		uint8_t old[GK_KEY_LEN];
		ret = get(ks, T_EL, id, &type, old);
		OPENSSL_cleanse(old, sizeof(old));
		if (ret < 0)
			goto out;
	}
	struct bind b = row_bind(t, type, id);
	ret = seal(ks, &b, k, blob);
	if (ret < 0)
		goto out;
	if (add)
		s = ks->st[t == T_SUB ? S_ADD_SUB : S_ADD_EL];
	else
		s = ks->st[t == T_SUB ? S_ROT_SUB : S_ROT_EL];
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, blob, sizeof(blob), SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    (t == T_EL && sqlite3_bind_int(s, 4, type) != SQLITE_OK)) {
		ret = sql_err(ks, "binding values");
		goto reset;
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		set_err(ks, "%s \"%s\" already exists", row_name[t], id);
		ret = -EEXIST;
	} else if (rc != SQLITE_DONE) {
		ret = sql_err(ks, add ? "insert" : "update");
	} else if (!add && sqlite3_changes(ks->db) == 0) {
		set_err(ks, "%s \"%s\" not found", row_name[t], id);
		ret = -ENOENT;
	} else if (key_out) {
		memcpy(key_out, k, GK_KEY_LEN);
	}
reset:
	sqlite3_reset(s);
out:
	OPENSSL_cleanse(k, sizeof(k));
	return ret;
}

static int del(struct gk_keystore *ks, enum table t, const char *id)
{
	sqlite3_stmt *s = ks->st[t == T_SUB ? S_DEL_SUB : S_DEL_EL];
	int ret = check_id(ks, id);
	if (ret < 0)
		return ret;
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		return sql_err(ks, "binding the ID");
	if (sqlite3_step(s) != SQLITE_DONE) {
		ret = sql_err(ks, "delete");
	} else if (sqlite3_changes(ks->db) == 0) {
		set_err(ks, "%s \"%s\" not found", row_name[t], id);
		ret = -ENOENT;
	}
	sqlite3_reset(s);
	return ret;
}

/* A row that does not decrypt is still listed (fingerprint "unreadable") so the operator sees
 * it; the call then returns -EBADMSG naming the first such row. */
static int list(struct gk_keystore *ks, enum table t,
                int (*fn)(const struct gk_ks_entry *e, void *arg), void *arg)
{
	sqlite3_stmt *s = ks->st[t == T_SUB ? S_LIST_SUB : S_LIST_EL];
	struct gk_ks_entry e;
	uint8_t k[GK_KEY_LEN];
	char first_bad[512] = "";
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		memset(&e, 0, sizeof(e));
		snprintf(e.id, sizeof(e.id), "%s", id ? id : "");
		e.created = sqlite3_column_int64(s, 2);
		e.rotated = sqlite3_column_int64(s, 3);
		e.type = sqlite3_column_int(s, 4);
		struct bind b = row_bind(t, e.type, e.id);
		if (!gk_ks_id_valid(e.id)) {
			set_err(ks, "%s \"%s\": invalid ID in the store", row_name[t], e.id);
		} else if (unseal(ks, &b, sqlite3_column_blob(s, 1), sqlite3_column_bytes(s, 1),
		                  k) == 0) {
			gk_fingerprint(k, e.fpr);
			OPENSSL_cleanse(k, sizeof(k));
		}
		if (!e.fpr[0]) {
			snprintf(e.fpr, sizeof(e.fpr), "unreadable");
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad), "%s", ks->errmsg);
		}
		int stop = fn(&e, arg);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = sql_err(ks, "listing");
	sqlite3_reset(s);
	if (!ret && first_bad[0]) {
		set_err(ks, "%s", first_bad);
		ret = -EBADMSG;
	}
	return ret;
}

int gk_ks_subscriber_add(struct gk_keystore *ks, const char *idc, const uint8_t *key,
                         uint8_t key_out[GK_KEY_LEN])
{
	return put(ks, T_SUB, true, idc, 0, key, key_out);
}

int gk_ks_subscriber_get(struct gk_keystore *ks, const char *idc, uint8_t key_out[GK_KEY_LEN])
{
	return get(ks, T_SUB, idc, NULL, key_out);
}

int gk_ks_subscriber_exists(struct gk_keystore *ks, const char *idc)
{
	return exists(ks, T_SUB, idc, NULL);
}

int gk_ks_subscriber_remove(struct gk_keystore *ks, const char *idc)
{
	return del(ks, T_SUB, idc);
}

int gk_ks_subscriber_rotate(struct gk_keystore *ks, const char *idc, uint8_t key_out[GK_KEY_LEN])
{
	return put(ks, T_SUB, false, idc, 0, NULL, key_out);
}

int gk_ks_element_add(struct gk_keystore *ks, const char *id, enum gk_element_type type,
                      const uint8_t *key, uint8_t key_out[GK_KEY_LEN])
{
	if (type != GK_ELEMENT_SBC && type != GK_ELEMENT_SOFTSWITCH) {
		set_err(ks, "unknown element type %d", (int)type);
		return -EINVAL;
	}
	return put(ks, T_EL, true, id, (int)type, key, key_out);
}

int gk_ks_element_get(struct gk_keystore *ks, const char *id, enum gk_element_type *type,
                      uint8_t key_out[GK_KEY_LEN])
{
	int t = 0;
	int ret = get(ks, T_EL, id, &t, key_out);
	if (ret == 0 && type)
		*type = (enum gk_element_type)t;
	return ret;
}

int gk_ks_element_type(struct gk_keystore *ks, const char *id, enum gk_element_type *type)
{
	int t = 0;
	int ret = exists(ks, T_EL, id, &t);
	if (ret == 0) {
		set_err(ks, "element \"%s\" not found", id);
		return -ENOENT;
	}
	if (ret < 0)
		return ret;
	if (type)
		*type = (enum gk_element_type)t;
	return 0;
}

int gk_ks_element_remove(struct gk_keystore *ks, const char *id)
{
	return del(ks, T_EL, id);
}

int gk_ks_element_rotate(struct gk_keystore *ks, const char *id, uint8_t key_out[GK_KEY_LEN])
{
	return put(ks, T_EL, false, id, 0, NULL, key_out);
}

int gk_ks_subscriber_list(struct gk_keystore *ks, int (*fn)(const struct gk_ks_entry *e, void *arg),
                          void *arg)
{
	return list(ks, T_SUB, fn, arg);
}

int gk_ks_element_list(struct gk_keystore *ks, int (*fn)(const struct gk_ks_entry *e, void *arg),
                       void *arg)
{
	return list(ks, T_EL, fn, arg);
}
