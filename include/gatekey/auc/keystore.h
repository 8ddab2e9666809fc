/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AuC's key store: SQLite (WAL) with subscribers (IDc -> Kc) and network elements (SBC and
 * softswitch IDs -> Ksp / Kss). Keys are stored encrypted: AES-256-GCM under a key-encryption
 * key (KEK) read from a 0600 file, with the table name, the type (terminal, sbc, softswitch) and
 * the ID as AAD, so rows cannot be swapped and an element's type cannot be changed under its key.
 * Lookups use prepared statements; SQLite's page cache keeps the hot set in memory.
 */
#ifndef GATEKEY_KEYSTORE_H
#define GATEKEY_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/codec/msg.h"

struct gk_keystore;

enum gk_element_type {
	GK_ELEMENT_SBC = 1,
	GK_ELEMENT_SOFTSWITCH = 2,
};

struct gk_ks_entry {
	char id[GK_ID_MAX + 1];
	int type;                     /* subscribers: 0; elements: enum gk_element_type */
	int64_t created;              /* unix seconds */
	int64_t rotated;              /* unix seconds of the last key change */
	char fpr[GK_FPR_HEX_LEN + 1]; /* fingerprint of the long-term key, for listing */
};

/* Creates the database (and tables) when missing, mode 0600 (it sets the process umask for the
 * duration: call it before starting threads). Refuses a KEK file whose mode is not 0600 or 0400
 * or that is not 32 bytes (raw) / 64 hex digits, and a KEK other than the one the store was
 * created with. err receives a one-line explanation on failure.
 * A store of schema 1 (keys bound to table and ID only) is converted in the same transaction:
 * every key is re-encrypted bound to its row's type as well; gk_ks_migration says what was done. */
int gk_ks_open(struct gk_keystore **ks, const char *db_path, const char *kek_path, char *err,
               size_t errlen);

/* What gk_ks_open did to a store of an older schema, for the caller to report. */
struct gk_ks_migration {
	int from_schema, to_schema; /* 0, 0: nothing to convert */
	uint64_t converted;         /* keys re-encrypted under the new binding */
	uint64_t unreadable;        /* rows left as they were: they did not decrypt before either */
};
const struct gk_ks_migration *gk_ks_migration(const struct gk_keystore *ks);
/* The same as one line for a log, and 1; 0 (buf empty) when nothing was converted. */
int gk_ks_migration_describe(const struct gk_keystore *ks, char *buf, size_t len);
void gk_ks_close(struct gk_keystore *ks);

/* Writes a new random KEK file with mode 0600; fails if it exists. */
int gk_ks_kek_generate(const char *kek_path, char *err, size_t errlen);

/* The explanation of the last failure on this handle (SQLite's message for -EIO). */
const char *gk_ks_errmsg(struct gk_keystore *ks);

/* IDs are 1..GK_ID_MAX printable ASCII characters without whitespace, quotes or backslash;
 * every function taking an ID returns -EINVAL for anything else. */
bool gk_ks_id_valid(const char *id);

/* Groups changes into one transaction (bulk provisioning; add + write the provisioning file +
 * commit, so a failed write leaves nothing behind). Without them each change commits alone.
 * A handle is not thread-safe: one per thread. */
int gk_ks_begin(struct gk_keystore *ks);
int gk_ks_commit(struct gk_keystore *ks);
int gk_ks_rollback(struct gk_keystore *ks);
/* A read snapshot for a batch of lookups, ended with gk_ks_commit: one lock round trip for the
 * batch instead of one per lookup. Changes made meanwhile by gkctl show from the next batch. */
int gk_ks_read_begin(struct gk_keystore *ks);

/* key may be NULL to generate one; key_out (may be NULL) receives the stored key.
 * -EEXIST when the ID exists; get, remove and rotate return -ENOENT for an unknown ID, and get
 * returns -EBADMSG when the stored blob fails authentication (tampered, moved from another row,
 * or, for an element, its row's type changed). Rotating an element reads its key first and
 * returns that -EBADMSG too: its new key is bound to the type, which must be authentic; such a
 * row is removed and added again. */
int gk_ks_subscriber_add(struct gk_keystore *ks, const char *idc, const uint8_t *key,
                         uint8_t key_out[GK_KEY_LEN]);
int gk_ks_subscriber_get(struct gk_keystore *ks, const char *idc, uint8_t key_out[GK_KEY_LEN]);
/* Whether idc is provisioned: 1, 0, or a negative errno (-EINVAL for an invalid ID). Reads no
 * key: a row whose key does not decrypt still exists. */
int gk_ks_subscriber_exists(struct gk_keystore *ks, const char *idc);
int gk_ks_subscriber_remove(struct gk_keystore *ks, const char *idc);
int gk_ks_subscriber_rotate(struct gk_keystore *ks, const char *idc, uint8_t key_out[GK_KEY_LEN]);

int gk_ks_element_add(struct gk_keystore *ks, const char *id, enum gk_element_type type,
                      const uint8_t *key, uint8_t key_out[GK_KEY_LEN]);
int gk_ks_element_get(struct gk_keystore *ks, const char *id, enum gk_element_type *type,
                      uint8_t key_out[GK_KEY_LEN]);
/* An element's type as its row names it, without decrypting its key: 0, -ENOENT, -EINVAL, -EIO.
 * Only gk_ks_element_get authenticates the type (it is bound to the key); this is for asking
 * whether an element may ask something that hands out no key (a routing lookup). */
int gk_ks_element_type(struct gk_keystore *ks, const char *id, enum gk_element_type *type);
int gk_ks_element_remove(struct gk_keystore *ks, const char *id);
int gk_ks_element_rotate(struct gk_keystore *ks, const char *id, uint8_t key_out[GK_KEY_LEN]);

/* Calls fn for each row, in ID order; stops early when fn returns non-zero. */
int gk_ks_subscriber_list(struct gk_keystore *ks, int (*fn)(const struct gk_ks_entry *e, void *arg),
                          void *arg);
int gk_ks_element_list(struct gk_keystore *ks, int (*fn)(const struct gk_ks_entry *e, void *arg),
                       void *arg);

/* Provisioning file for a terminal or element: "id <ID>\nkey <64 hex>\n", written 0600 (atomic
 * rename). Read back with gk_provision_read, which refuses a file group or others can access and
 * names path:line on a syntax error. Both return 0 or a negative errno. */
int gk_provision_write(const char *path, const char *id, const uint8_t key[GK_KEY_LEN]);
/* The same without the fsync, for bulk provisioning: the caller makes thousands of files durable
 * with one syncfs() instead of one fsync each. */
int gk_provision_write_nosync(const char *path, const char *id, const uint8_t key[GK_KEY_LEN]);
int gk_provision_read(const char *path, char id[GK_ID_MAX + 1], uint8_t key[GK_KEY_LEN], char *err,
                      size_t errlen);

#endif
