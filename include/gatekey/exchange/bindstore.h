/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The binding store: a front's registered terminals, kept where a restart or a SIGKILL of the
 * daemon cannot take them. With XDP attached sbcd has that already in its pinned maps; this is
 * the same guarantee for sbcd's userspace fast path and for softswitchd facing terminals itself.
 *
 * It is a file of fixed slots, one per terminal index, mapped shared: a write is a store to
 * memory that the kernel keeps when the process dies, with no system call and no allocation on
 * the hot path. That matters for the replay window, which moves on every verified datagram: its
 * top is one aligned 8-byte store, so a datagram accepted before a crash is refused after it.
 * A slot is written invalid-first and valid-last, so a crash half-way through a write leaves a
 * slot that is ignored (the terminal's retransmission registers it again), never a mixed one.
 *
 * The slots hold session keys, so the file must be on a tmpfs (or ramfs): memory, never a disk.
 * It is 0600 in a 0700 directory, locked against a second daemon, and survives daemon restarts
 * but not a reboot, as the pinned maps do. docs/durability.md says why this store and not SQLite.
 */
#ifndef GATEKEY_BINDSTORE_H
#define GATEKEY_BINDSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/exchange/registrar.h"

struct gk_bindstore;

/* Opens the store at path for terminal indexes 1..slots, creating it (and its directory) when
 * missing. A store of another size is carried over: the bindings it holds with an index up to
 * slots are kept, the others dropped and counted in *dropped. A file that is not a store of this
 * layout is refused, as is a path outside a tmpfs and a store another process holds. 0, or -1
 * with err. */
int gk_bindstore_open(const char *path, uint32_t slots, struct gk_bindstore **out,
                      uint32_t *dropped, char *err, size_t errlen);
/* Unmaps and unlocks; the file and the bindings in it stay for the next start. */
void gk_bindstore_close(struct gk_bindstore *s);

/* Stores rec in its index's slot, replacing what was there, with no datagram seen yet. */
void gk_bindstore_put(struct gk_bindstore *s, const struct gk_binding_record *rec);
/* Frees index's slot and wipes it. */
void gk_bindstore_del(struct gk_bindstore *s, uint32_t index);
/* The terminal at index had a datagram with sequence number seq verified: the stored top only
 * ever rises. Called before the datagram has any effect. */
void gk_bindstore_seen(struct gk_bindstore *s, uint32_t index, uint64_t seq);
/* The stored binding at index will seal its downlink from seq_down on: a restart takes it back
 * past that, so a number used by this run is never used again (one aligned 8-byte store; a free
 * slot is left alone). */
void gk_bindstore_seq_down(struct gk_bindstore *s, uint32_t index, uint64_t seq_down);
/* The highest sequence number seen for index, 0 for none or a free slot. */
uint64_t gk_bindstore_top(const struct gk_bindstore *s, uint32_t index);

/* Calls fn for every stored binding, in index order, with the highest sequence number seen; a
 * non-zero return stops the walk and is returned. */
int gk_bindstore_foreach(const struct gk_bindstore *s,
                         int (*fn)(const struct gk_binding_record *rec, uint64_t top, void *arg),
                         void *arg);
uint32_t gk_bindstore_slots(const struct gk_bindstore *s);
uint32_t gk_bindstore_count(const struct gk_bindstore *s);
const char *gk_bindstore_path(const struct gk_bindstore *s);

/* registrar.binding_store resolved for daemon `name`: "none" gives NULL (memory only); "auto"
 * gives /run/gatekey/<name>.bindings when /run is a tmpfs, else NULL (why says so); anything
 * else is the path itself. */
const char *gk_bindstore_resolve(const char *setting, const char *name, char *buf, size_t cap,
                                 const char **why);
/* A daemon's store: registrar.binding_store (setting) resolved for daemon name, opened for slots
 * terminals, and what that means said in the log. 0 with *out, NULL when the bindings are kept
 * in memory only; -1 with err, which names the key. */
int gk_bindstore_from_setting(const char *setting, const char *name, uint32_t slots,
                              struct gk_bindstore **out, char *err, size_t errlen);

#endif
