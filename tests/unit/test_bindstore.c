// SPDX-License-Identifier: GPL-2.0-only
/*
 * The binding store (exchange/bindstore.h) and the registrar taking its bindings back
 * (gk_registrar_attach_store): what a front's terminals rely on across a restart or a SIGKILL.
 * A stored binding comes back as it was, with the top of its replay window, from a process that
 * died without closing the store; a slot torn half-way through a write is ignored, never half
 * used; a freed slot leaves no key in the file; a store of another size keeps what still fits;
 * and what must not be opened (a store off tmpfs, a file that is not a store, a store in use) is
 * refused without touching the file. Each test works in a directory of its own on /dev/shm,
 * removed at the end whatever happened.
 */
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/codec/msg.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"

#define HEAD_SIZE 64 /* struct head in bindstore.c */
#define SLOT_HEAD 16 /* struct slot's state and top, before its record */

static bool on_memory_fs(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file at path, *len bytes (malloc'd), or NULL. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)) ||
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		close(fd);
		return NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* A gk-mac binding at index, all of it derived from seed: a K, its packet keys and fingerprint,
 * 198.18.0.<index>:5060, a downlink count and an expiry ten minutes on. */
static void make_rec(struct gk_binding_record *rec, uint32_t index, const char *idc, uint8_t seed)
{
	uint8_t k[GK_KEY_LEN];
	char a[32], err[64];

	memset(rec, 0, sizeof(*rec));
	for (unsigned i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	snprintf(rec->idc, sizeof(rec->idc), "%s", idc);
	rec->index = index;
	rec->mech = GK_MECH_GKMAC;
	snprintf(a, sizeof(a), "198.18.0.%u:5060", index);
	gk_parse_addr(a, &rec->addr, err, sizeof(err));
	gk_pkt_keys_derive(k, &rec->keys);
	rec->seq_down = 1000u + seed;
	rec->expires_at_s = (uint64_t)time(NULL) + 600;
	gk_fingerprint(k, rec->fpr);
}

/* Every field the store must give back as it was given. */
static bool same_rec(const struct gk_binding_record *a, const struct gk_binding_record *b)
{
	return memcmp(a->idc, b->idc, sizeof(a->idc)) == 0 && a->index == b->index &&
	       a->mech == b->mech && memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0 &&
	       memcmp(&a->keys, &b->keys, sizeof(a->keys)) == 0 && a->seq_down == b->seq_down &&
	       a->expires_at_s == b->expires_at_s && memcmp(a->fpr, b->fpr, sizeof(a->fpr)) == 0;
}

#define MAX_SEEN 16

struct walk {
	struct gk_binding_record rec[MAX_SEEN];
	uint64_t top[MAX_SEEN];
	unsigned n;
	unsigned stop_after; /* 0: walk them all */
};

static int walk_fn(const struct gk_binding_record *rec, uint64_t top, void *arg)
{
	struct walk *w = arg;

	if (w->n < MAX_SEEN) {
		w->rec[w->n] = *rec;
		w->top[w->n] = top;
	}
	w->n++;
	return w->stop_after && w->n == w->stop_after ? 42 : 0;
}

static void walk(const struct gk_bindstore *s, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	gk_bindstore_foreach(s, walk_fn, w);
}

/* What a registrar tells its daemon: only the bindings it announces matter here. */
struct calls {
	unsigned up, down;
};

static void no_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                    struct gk_binding *b)
{
}

static void no_register(void *user, uint64_t ref, const char *idc, const char *idsp,
                        const char *address, bool sealed)
{
}

static void no_answer(void *user, uint64_t ref, const char *idc, const char *idsp,
                      const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                      const char *address, bool sealed)
{
}

static void no_unbound(void *user, const char *idc, const char *idsp, const char *address,
                       const uint8_t *rand)
{
}

static void on_up(void *user, struct gk_binding *b)
{
	((struct calls *)user)->up++;
}

static void on_down(void *user, struct gk_binding *b)
{
	((struct calls *)user)->down++;
}

FIXTURE(store)
{
	char dir[64];   /* fresh, on /dev/shm */
	char path[128]; /* dir/test.bindings */
	char disk[64];  /* a directory off tmpfs, when a test makes one */
	struct gk_bindstore *s;
	struct gk_loop *loop;
	struct gk_registrar *reg;
	struct calls calls;
	char err[512];
};

FIXTURE_SETUP(store)
{
	snprintf(self->dir, sizeof(self->dir), "/dev/shm/gk-bindstore-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/test.bindings", self->dir);
}

FIXTURE_TEARDOWN(store)
{
	gk_registrar_free(self->reg);
	if (self->loop)
		gk_loop_free(self->loop);
	gk_bindstore_close(self->s);
	rm_tree(self->dir);
	rm_tree(self->disk);
}

/* Opens self->path for slots terminals into self->s, asserting it opens; returns *dropped. */
static uint32_t open_store(struct __test_metadata *_metadata, FIXTURE_DATA(store) * self,
                           uint32_t slots)
{
	uint32_t dropped = 99;
	int ret =
	    gk_bindstore_open(self->path, slots, &self->s, &dropped, self->err, sizeof(self->err));

	ASSERT_EQ(0, ret)
	{
		TH_LOG("open: %s", self->err);
	}
	ASSERT_NE(NULL, self->s);
	return dropped;
}

static void close_store(FIXTURE_DATA(store) * self)
{
	gk_bindstore_close(self->s);
	self->s = NULL;
}

/* A new file is an empty store of the size asked for; a binding put in it comes back from
 * foreach field for field, the only one, with no datagram seen; a second put at the same index
 * replaces it rather than adding one; out-of-range indexes are ignored. */
TEST_F(store, a_binding_comes_back_as_it_was_put)
{
	struct gk_binding_record a, b, c;
	struct walk w;

	ASSERT_EQ(0, open_store(_metadata, self, 8));
	EXPECT_EQ(8, gk_bindstore_slots(self->s));
	EXPECT_EQ(0, gk_bindstore_count(self->s));
	EXPECT_STREQ(self->path, gk_bindstore_path(self->s));
	walk(self->s, &w);
	EXPECT_EQ(0, w.n);

	make_rec(&a, 3, "alice@example.test", 1);
	gk_bindstore_put(self->s, &a);
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 3));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	EXPECT_EQ(0, w.top[0]);

	/* The same index again: the new binding takes the slot. */
	make_rec(&b, 3, "bob@example.test", 2);
	gk_bindstore_put(self->s, &b);
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_TRUE(same_rec(&b, &w.rec[0]));
	EXPECT_FALSE(same_rec(&a, &w.rec[0]));

	/* Index 0 and indexes past the store have no slot. */
	make_rec(&c, 0, "zero", 3);
	gk_bindstore_put(self->s, &c);
	make_rec(&c, 9, "nine", 4);
	gk_bindstore_put(self->s, &c);
	EXPECT_EQ(1, gk_bindstore_count(self->s));

	/* Index order, and a non-zero return stops the walk and is returned. */
	make_rec(&c, 1, "carol@example.test", 5);
	gk_bindstore_put(self->s, &c);
	make_rec(&a, 8, "alice@example.test", 1);
	gk_bindstore_put(self->s, &a);
	EXPECT_EQ(3, gk_bindstore_count(self->s));
	walk(self->s, &w);
	ASSERT_EQ(3, w.n);
	EXPECT_TRUE(same_rec(&c, &w.rec[0]));
	EXPECT_TRUE(same_rec(&b, &w.rec[1]));
	EXPECT_TRUE(same_rec(&a, &w.rec[2]));
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	EXPECT_EQ(42, gk_bindstore_foreach(self->s, walk_fn, &w));
	EXPECT_EQ(2, w.n);
}

/* The top of the replay window only ever rises; a put starts its binding with none seen, and a
 * free slot has no top to raise. */
TEST_F(store, the_top_only_rises)
{
	struct gk_binding_record a;
	struct walk w;

	ASSERT_EQ(0, open_store(_metadata, self, 4));
	make_rec(&a, 2, "alice@example.test", 1);
	gk_bindstore_put(self->s, &a);

	gk_bindstore_seen(self->s, 2, 10);
	EXPECT_EQ(10, gk_bindstore_top(self->s, 2));
	gk_bindstore_seen(self->s, 2, 5);
	EXPECT_EQ(10, gk_bindstore_top(self->s, 2));
	gk_bindstore_seen(self->s, 2, 10);
	EXPECT_EQ(10, gk_bindstore_top(self->s, 2));
	gk_bindstore_seen(self->s, 2, 11);
	EXPECT_EQ(11, gk_bindstore_top(self->s, 2));
	gk_bindstore_seen(self->s, 2, 1ull << 40);
	EXPECT_EQ(1ull << 40, gk_bindstore_top(self->s, 2));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_EQ(1ull << 40, w.top[0]);

	gk_bindstore_put(self->s, &a);
	EXPECT_EQ(0, gk_bindstore_top(self->s, 2));

	/* Free slots and indexes without a slot. */
	gk_bindstore_seen(self->s, 1, 7);
	EXPECT_EQ(0, gk_bindstore_top(self->s, 1));
	gk_bindstore_seen(self->s, 0, 7);
	gk_bindstore_seen(self->s, 5, 7);
	EXPECT_EQ(0, gk_bindstore_top(self->s, 0));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 5));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
}

/* A deleted binding is gone (foreach, top, count) and its keys are nowhere in the file any more:
 * the slot is wiped, not just marked free. */
TEST_F(store, a_deleted_binding_is_gone_and_wiped)
{
	struct gk_binding_record a, b;
	struct walk w;
	uint8_t *file;
	size_t len;

	ASSERT_EQ(0, open_store(_metadata, self, 4));
	make_rec(&a, 1, "alice@example.test", 1);
	make_rec(&b, 4, "bob@example.test", 2);
	gk_bindstore_put(self->s, &a);
	gk_bindstore_put(self->s, &b);
	gk_bindstore_seen(self->s, 1, 77);
	EXPECT_EQ(2, gk_bindstore_count(self->s));

	/* The keys are in the file (the search below would find them). */
	file = slurp(self->path, &len);
	ASSERT_NE(NULL, file);
	EXPECT_NE(NULL, memmem(file, len, a.keys.uplink, sizeof(a.keys.uplink)));
	EXPECT_NE(NULL, memmem(file, len, a.keys.downlink, sizeof(a.keys.downlink)));
	EXPECT_NE(NULL, memmem(file, len, a.idc, strlen(a.idc)));
	free(file);

	gk_bindstore_del(self->s, 1);
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 1));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_TRUE(same_rec(&b, &w.rec[0]));

	file = slurp(self->path, &len);
	ASSERT_NE(NULL, file);
	EXPECT_EQ(NULL, memmem(file, len, a.keys.uplink, sizeof(a.keys.uplink)));
	EXPECT_EQ(NULL, memmem(file, len, a.keys.downlink, sizeof(a.keys.downlink)));
	EXPECT_EQ(NULL, memmem(file, len, a.idc, strlen(a.idc)));
	EXPECT_NE(NULL, memmem(file, len, b.keys.uplink, sizeof(b.keys.uplink)));
	free(file);

	/* Deleting a free slot, or none, changes nothing. */
	gk_bindstore_del(self->s, 1);
	gk_bindstore_del(self->s, 2);
	gk_bindstore_del(self->s, 0);
	gk_bindstore_del(self->s, 5);
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	gk_bindstore_del(self->s, 4);
	EXPECT_EQ(0, gk_bindstore_count(self->s));
	walk(self->s, &w);
	EXPECT_EQ(0, w.n);
}

/* Closing is not forgetting: the next open finds the bindings, their tops and their count. */
TEST_F(store, bindings_survive_close_and_reopen)
{
	struct gk_binding_record a, b;
	struct walk w;

	ASSERT_EQ(0, open_store(_metadata, self, 8));
	make_rec(&a, 2, "alice@example.test", 1);
	make_rec(&b, 7, "bob@example.test", 2);
	gk_bindstore_put(self->s, &a);
	gk_bindstore_put(self->s, &b);
	gk_bindstore_seen(self->s, 2, 123);
	close_store(self);

	ASSERT_EQ(0, open_store(_metadata, self, 8));
	EXPECT_EQ(2, gk_bindstore_count(self->s));
	EXPECT_EQ(123, gk_bindstore_top(self->s, 2));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 7));
	walk(self->s, &w);
	ASSERT_EQ(2, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	EXPECT_EQ(123, w.top[0]);
	EXPECT_TRUE(same_rec(&b, &w.rec[1]));
}

/* A daemon killed with SIGKILL never closes its store: what it put and saw before it died is in
 * the file all the same, and its lock died with it. */
TEST_F(store, bindings_survive_a_sigkill)
{
	struct gk_binding_record a;
	struct walk w;
	int status;
	pid_t pid;

	make_rec(&a, 5, "alice@example.test", 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gk_bindstore *s;
		uint32_t dropped;
		char err[512];

		if (gk_bindstore_open(self->path, 8, &s, &dropped, err, sizeof(err)) < 0)
			_exit(1);
		gk_bindstore_put(s, &a);
		gk_bindstore_seen(s, 5, 4242);
		raise(SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));

	ASSERT_EQ(0, open_store(_metadata, self, 8));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(4242, gk_bindstore_top(self->s, 5));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	EXPECT_EQ(4242, w.top[0]);
}

/* A slot whose state word is not "valid" (a crash between clearing it and setting it again) is
 * ignored on the next open; its neighbours are not. The layout is bindstore.c's: a 64-byte head,
 * then one slot per index, each its state word, its top and its record. */
TEST_F(store, a_torn_slot_is_ignored)
{
	struct gk_binding_record a, b;
	const uint32_t slots = 4;
	const uint64_t zero = 0;
	size_t slot_size, len;
	struct walk w;
	uint8_t *file;
	off_t at;
	int fd;

	ASSERT_EQ(0, open_store(_metadata, self, slots));
	make_rec(&a, 1, "alice@example.test", 1);
	make_rec(&b, 3, "bob@example.test", 2);
	gk_bindstore_put(self->s, &a);
	gk_bindstore_put(self->s, &b);
	gk_bindstore_seen(self->s, 3, 99);
	close_store(self);

	file = slurp(self->path, &len);
	ASSERT_NE(NULL, file);
	ASSERT_EQ(0, (len - HEAD_SIZE) % slots);
	slot_size = (len - HEAD_SIZE) / slots;
	EXPECT_EQ(SLOT_HEAD + sizeof(struct gk_binding_record), slot_size);
	/* Reasoning from the layout finds bob's record where it should be. */
	at = HEAD_SIZE + (off_t)(2 * slot_size);
	EXPECT_EQ(0, memcmp(file + at + SLOT_HEAD, b.idc, sizeof(b.idc)));
	EXPECT_EQ(0, memcmp(file + at + 8, &(uint64_t){99}, 8));
	free(file);

	fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, &zero, 8, at));
	close(fd);

	ASSERT_EQ(0, open_store(_metadata, self, slots));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 3));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	close_store(self);

	/* The last one torn too: nothing is left. */
	fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, &zero, 8, HEAD_SIZE));
	close(fd);
	ASSERT_EQ(0, open_store(_metadata, self, slots));
	EXPECT_EQ(0, gk_bindstore_count(self->s));
	walk(self->s, &w);
	EXPECT_EQ(0, w.n);
}

/* registrar.max_terminals changed between runs: the store takes the new size, keeping the
 * bindings whose index still fits, with their tops, and counting the others as dropped. The
 * file is replaced by one of the new size, with nothing left beside it. */
TEST_F(store, a_new_slot_count_carries_bindings_over)
{
	struct gk_binding_record a, b, c;
	char leftover[160];
	size_t slot_size;
	struct walk w;

	ASSERT_EQ(0, open_store(_metadata, self, 8));
	make_rec(&a, 1, "alice@example.test", 1);
	make_rec(&b, 4, "bob@example.test", 2);
	make_rec(&c, 8, "carol@example.test", 3);
	gk_bindstore_put(self->s, &a);
	gk_bindstore_put(self->s, &b);
	gk_bindstore_put(self->s, &c);
	gk_bindstore_seen(self->s, 1, 11);
	gk_bindstore_seen(self->s, 4, 44);
	gk_bindstore_seen(self->s, 8, 88);
	close_store(self);
	slot_size = ((size_t)file_size(self->path) - HEAD_SIZE) / 8;

	/* Smaller: index 8 no longer fits. */
	EXPECT_EQ(1, open_store(_metadata, self, 4));
	EXPECT_EQ(4, gk_bindstore_slots(self->s));
	EXPECT_EQ(2, gk_bindstore_count(self->s));
	EXPECT_EQ(HEAD_SIZE + 4 * slot_size, (size_t)file_size(self->path));
	walk(self->s, &w);
	ASSERT_EQ(2, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	EXPECT_EQ(11, w.top[0]);
	EXPECT_TRUE(same_rec(&b, &w.rec[1]));
	EXPECT_EQ(44, w.top[1]);
	/* The resized store is in use as any other. */
	gk_bindstore_seen(self->s, 4, 45);
	close_store(self);
	snprintf(leftover, sizeof(leftover), "%s.new", self->path);
	EXPECT_NE(0, access(leftover, F_OK));

	/* Larger: everything stays, nothing is dropped. */
	EXPECT_EQ(0, open_store(_metadata, self, 16));
	EXPECT_EQ(16, gk_bindstore_slots(self->s));
	EXPECT_EQ(2, gk_bindstore_count(self->s));
	EXPECT_EQ(HEAD_SIZE + 16 * slot_size, (size_t)file_size(self->path));
	EXPECT_EQ(11, gk_bindstore_top(self->s, 1));
	EXPECT_EQ(45, gk_bindstore_top(self->s, 4));
	walk(self->s, &w);
	ASSERT_EQ(2, w.n);
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
	EXPECT_TRUE(same_rec(&b, &w.rec[1]));
	EXPECT_NE(0, access(leftover, F_OK));
	close_store(self);

	/* Down to one slot: only index 1 is left. */
	EXPECT_EQ(1, open_store(_metadata, self, 1));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(11, gk_bindstore_top(self->s, 1));
}

/* Session keys must never reach a disk: a store in a directory off tmpfs is refused before any
 * file is made. */
TEST_F(store, refuses_a_path_outside_tmpfs)
{
	struct gk_bindstore *s = (struct gk_bindstore *)1;
	uint32_t dropped;
	char path[128];

	/* A directory off tmpfs: the first of these that is one (on a host where all of them are
	 * memory, there is no disk to refuse). */
	static const char *const tries[] = {"/tmp", "/var/tmp", "."};
	const char *base = NULL;
	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]) && !base; i++)
		if (!on_memory_fs(tries[i]))
			base = tries[i];
	if (!base)
		SKIP(return,
		           "/tmp, /var/tmp and . are all on tmpfs: no directory off tmpfs to try");
	snprintf(self->disk, sizeof(self->disk), "%s/gk-bindstore-XXXXXX", base);
	ASSERT_NE(NULL, mkdtemp(self->disk));
	snprintf(path, sizeof(path), "%s/test.bindings", self->disk);

	EXPECT_EQ(-1, gk_bindstore_open(path, 8, &s, &dropped, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err, "not on a tmpfs"));
	EXPECT_NE(NULL, strstr(self->err, self->disk));
	EXPECT_NE(0, access(path, F_OK));
}

/* A file that is not a store (another program's, or one of another layout) is refused and left
 * as it was: its bytes, its size and its mode. */
TEST_F(store, refuses_a_file_that_is_not_a_store)
{
	struct gk_bindstore *s = (struct gk_bindstore *)1;
	uint8_t garbage[4096], *after;
	uint32_t dropped;
	size_t len;
	int fd;

	for (unsigned i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 131 + 7);
	fd = open(self->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0644));
	ASSERT_EQ((ssize_t)sizeof(garbage), write(fd, garbage, sizeof(garbage)));
	close(fd);

	EXPECT_EQ(-1, gk_bindstore_open(self->path, 8, &s, &dropped, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err, "not a binding store"));
	after = slurp(self->path, &len);
	ASSERT_NE(NULL, after);
	EXPECT_EQ(sizeof(garbage), len);
	EXPECT_EQ(0, memcmp(garbage, after, sizeof(garbage)));
	free(after);
	EXPECT_EQ(0644, mode_of(self->path));

	/* A real store cut short (or grown) is no store either. */
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, open_store(_metadata, self, 4));
	close_store(self);
	ASSERT_EQ(0, truncate(self->path, file_size(self->path) - 1));
	s = (struct gk_bindstore *)1;
	EXPECT_EQ(-1, gk_bindstore_open(self->path, 4, &s, &dropped, self->err, sizeof(self->err)));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err, "not a binding store"));
}

/* Two daemons on one store would each overwrite the other's bindings: a store already open is
 * refused, even to a second open in the same process (flock belongs to the open file
 * description), and the first one goes on undisturbed. */
TEST_F(store, refuses_a_store_already_open)
{
	struct gk_bindstore *s = (struct gk_bindstore *)1;
	struct gk_binding_record a;
	uint8_t *before, *after;
	size_t len0, len1;
	uint32_t dropped;

	ASSERT_EQ(0, open_store(_metadata, self, 4));
	make_rec(&a, 2, "alice@example.test", 1);
	gk_bindstore_put(self->s, &a);
	gk_bindstore_seen(self->s, 2, 9);
	before = slurp(self->path, &len0);
	ASSERT_NE(NULL, before);

	EXPECT_EQ(-1, gk_bindstore_open(self->path, 4, &s, &dropped, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err, "in use"));
	/* Nor with another size, which would otherwise replace the file. */
	s = (struct gk_bindstore *)1;
	EXPECT_EQ(-1, gk_bindstore_open(self->path, 8, &s, &dropped, self->err, sizeof(self->err)));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(self->err, "in use"));

	after = slurp(self->path, &len1);
	ASSERT_NE(NULL, after);
	ASSERT_EQ(len0, len1);
	EXPECT_EQ(0, memcmp(before, after, len0));
	free(before);
	free(after);

	gk_bindstore_seen(self->s, 2, 10);
	EXPECT_EQ(10, gk_bindstore_top(self->s, 2));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
	close_store(self);
	/* Closed, it opens again. */
	ASSERT_EQ(0, open_store(_metadata, self, 4));
	EXPECT_EQ(10, gk_bindstore_top(self->s, 2));
}

/* Only its owner may read the keys: the file is 0600, in a 0700 directory when the store made
 * it, and an existing store with looser bits is brought back to 0600. */
TEST_F(store, file_is_0600_in_a_0700_directory)
{
	const char *path = self->path;
	struct stat st;
	char sub[96];

	snprintf(sub, sizeof(sub), "%s/gatekey", self->dir);
	snprintf(self->path, sizeof(self->path), "%s/gatekey/sbcd.bindings", self->dir);
	ASSERT_EQ(0, open_store(_metadata, self, 4));
	ASSERT_EQ(0, stat(sub, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0700, st.st_mode & 07777);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(getuid(), st.st_uid);
	close_store(self);

	ASSERT_EQ(0, chmod(path, 0644));
	ASSERT_EQ(0, open_store(_metadata, self, 4));
	EXPECT_EQ(0600, mode_of(path));
	close_store(self);

	/* Resized, the new file is 0600 as well. */
	ASSERT_EQ(0, chmod(path, 0644));
	ASSERT_EQ(0, open_store(_metadata, self, 8));
	EXPECT_EQ(0600, mode_of(path));
}

/* registrar.binding_store: none keeps bindings in memory, a path is itself, auto is under /run
 * only where /run is a tmpfs. */
TEST(resolve_none_a_path_and_auto)
{
	char buf[256];
	const char *why = NULL, *p;

	memset(buf, 'x', sizeof(buf));
	p = gk_bindstore_resolve("none", "sbcd", buf, sizeof(buf), &why);
	EXPECT_EQ(NULL, p);
	ASSERT_NE(NULL, why);
	EXPECT_NE(NULL, strstr(why, "none"));

	p = gk_bindstore_resolve("/dev/shm/gk/mine.bindings", "sbcd", buf, sizeof(buf), &why);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("/dev/shm/gk/mine.bindings", p);

	p = gk_bindstore_resolve("auto", "softswitchd", buf, sizeof(buf), &why);
	if (on_memory_fs("/run")) {
		TH_LOG("/run is a tmpfs here");
		ASSERT_NE(NULL, p);
		EXPECT_STREQ("/run/gatekey/softswitchd.bindings", p);
	} else {
		TH_LOG("/run is not a tmpfs here");
		EXPECT_EQ(NULL, p);
		ASSERT_NE(NULL, why);
		EXPECT_NE(NULL, strstr(why, "not a tmpfs"));
	}
}

/* A registrar for up to 16 terminals on a loop of its own, announcing bindings into self->calls. */
static void make_registrar(struct __test_metadata *_metadata, FIXTURE_DATA(store) * self)
{
	struct gk_loop_params lp = {.sq_entries = 64, .rx_bufs = 16, .tx_slots = 16};
	struct gk_registrar_ops ops = {
	    .send_terminal = no_send,
	    .core_register = no_register,
	    .core_answer = no_answer,
	    .core_unbound = no_unbound,
	    .binding_up = on_up,
	    .binding_down = on_down,
	};
	struct gk_registrar_cfg cfg;

	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	cfg.role = GK_ROLE_SOFTSWITCH;
	cfg.max_terminals = 16;
	cfg.max_pending = 16;
	self->loop = gk_loop_new(&lp, self->err, sizeof(self->err));
	if (!self->loop)
		TH_LOG("loop: %s", self->err);
	ASSERT_NE(NULL, self->loop);
	self->reg =
	    gk_registrar_new(&cfg, &ops, &self->calls, self->loop, self->err, sizeof(self->err));
	if (!self->reg)
		TH_LOG("registrar: %s", self->err);
	ASSERT_NE(NULL, self->reg);
}

#define PAYLOAD "OPTIONS sip:ss1 SIP/2.0\r\nCall-ID: t\r\n\r\n"

/* A datagram from the terminal of rec, sealed under its uplink key with seq, as the registrar
 * gets it: the payload length, or -1 with *why. */
static long datagram(FIXTURE_DATA(store) * self, const struct gk_binding_record *rec, uint64_t seq,
                     enum gk_reason *why)
{
	static const char payload[] = PAYLOAD;
	uint8_t buf[256];
	uint32_t index = 0;
	int n;
	long ret;

	memcpy(buf, payload, sizeof(payload) - 1);
	n = gk_pkt_seal(rec->keys.uplink, rec->index, seq, buf, sizeof(payload) - 1, sizeof(buf));
	if (n < 0)
		return -2;
	*why = GK_R_OK;
	ret = gk_registrar_open(self->reg, buf, (size_t)n, &rec->addr, &index, why);
	if (ret >= 0 && index != rec->index)
		return -3;
	return ret;
}

/* A restarted front takes its bindings back from the store, announced as any binding that comes
 * up, with their replay windows: a datagram accepted before the restart (seq 10, the stored top)
 * or older is refused after it, the next one is accepted and its sequence number lands in the
 * store before anything else happens. */
TEST_F(store, registrar_restores_bindings_with_their_replay_window)
{
	struct gk_binding_record a, moved;
	struct gk_binding_info bi;
	enum gk_reason why;
	unsigned dropped = 99;
	uint8_t k[GK_KEY_LEN];
	char err[64];

	ASSERT_EQ(0, open_store(_metadata, self, 16));
	memset(&a, 0, sizeof(a));
	snprintf(a.idc, sizeof(a.idc), "t1");
	a.index = 1;
	a.mech = GK_MECH_GKMAC;
	a.proto = GK_PROTO_MGCP;
	memset(k, 0x5a, sizeof(k));
	ASSERT_EQ(0, gk_pkt_keys_derive(k, &a.keys));
	gk_fingerprint(k, a.fpr);
	a.expires_at_s = (uint64_t)time(NULL) + 600;
	ASSERT_EQ(0, gk_parse_addr("198.18.0.2:5060", &a.addr, err, sizeof(err)));
	gk_bindstore_put(self->s, &a);
	gk_bindstore_seen(self->s, 1, 10);

	make_registrar(_metadata, self);
	EXPECT_EQ(1, gk_registrar_attach_store(self->reg, self->s, &dropped));
	EXPECT_EQ(0, dropped);
	EXPECT_EQ(1, self->calls.up);
	EXPECT_EQ(1, gk_registrar_stats(self->reg)->restored);
	EXPECT_TRUE(gk_registrar_gkmac_bound(self->reg, 1, &a.addr));
	ASSERT_TRUE(gk_registrar_next(self->reg, 0, &bi));
	EXPECT_STREQ("t1", bi.idc);
	EXPECT_EQ(1, bi.index);
	EXPECT_STREQ(a.fpr, bi.fpr);
	/* and the protocol it registered over, which /metrics counts it under */
	struct gk_terminal_counts tc;
	gk_registrar_terminals(self->reg, &tc);
	EXPECT_EQ(1u, tc.n[GK_MECH_GKMAC][GK_PROTO_MGCP]);
	EXPECT_EQ(0u, tc.n[GK_MECH_GKMAC][0]);

	EXPECT_EQ(-1, datagram(self, &a, 10, &why));
	EXPECT_TRUE(why == GK_R_REPLAY_SEQ || why == GK_R_OLD_SEQ);
	TH_LOG("seq 10: %s", gk_reason_name(why));
	EXPECT_EQ(-1, datagram(self, &a, 5, &why));
	EXPECT_TRUE(why == GK_R_REPLAY_SEQ || why == GK_R_OLD_SEQ);
	EXPECT_EQ(10, gk_bindstore_top(self->s, 1));

	EXPECT_EQ((long)sizeof(PAYLOAD) - 1, datagram(self, &a, 11, &why));
	EXPECT_EQ(11, gk_bindstore_top(self->s, 1));
	EXPECT_EQ(-1, datagram(self, &a, 11, &why));
	EXPECT_EQ(GK_R_REPLAY_SEQ, why);

	/* Another source with the right keys is refused too, and moves nothing. */
	moved = a;
	ASSERT_EQ(0, gk_parse_addr("198.18.0.2:5061", &moved.addr, err, sizeof(err)));
	EXPECT_EQ(-1, datagram(self, &moved, 12, &why));
	EXPECT_EQ(GK_R_WRONG_SOURCE, why);
	EXPECT_EQ(11, gk_bindstore_top(self->s, 1));
	EXPECT_EQ(1, gk_bindstore_count(self->s));
}

/* A binding that expired while the front was down is not restored: it counts as dropped, is not
 * announced, and leaves the store; the ones still valid are restored beside it. */
TEST_F(store, registrar_drops_expired_bindings)
{
	struct gk_binding_record a, old;
	unsigned dropped = 99;
	struct walk w;

	ASSERT_EQ(0, open_store(_metadata, self, 16));
	make_rec(&a, 1, "t1", 1);
	make_rec(&old, 2, "t2", 2);
	old.expires_at_s = (uint64_t)time(NULL) - 1;
	gk_bindstore_put(self->s, &a);
	gk_bindstore_put(self->s, &old);
	gk_bindstore_seen(self->s, 2, 50);

	make_registrar(_metadata, self);
	EXPECT_EQ(1, gk_registrar_attach_store(self->reg, self->s, &dropped));
	EXPECT_EQ(1, dropped);
	EXPECT_EQ(1, self->calls.up);
	EXPECT_EQ(0, self->calls.down);
	EXPECT_EQ(1, gk_registrar_stats(self->reg)->restored);
	EXPECT_TRUE(gk_registrar_gkmac_bound(self->reg, 1, &a.addr));
	EXPECT_FALSE(gk_registrar_gkmac_bound(self->reg, 2, &old.addr));
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->reg, &old.addr));

	EXPECT_EQ(1, gk_bindstore_count(self->s));
	EXPECT_EQ(0, gk_bindstore_top(self->s, 2));
	walk(self->s, &w);
	ASSERT_EQ(1, w.n);
	EXPECT_EQ(1, w.rec[0].index);
	/* as it was put, but for where its downlink numbering goes on (the next test) */
	EXPECT_LT(a.seq_down, w.rec[0].seq_down);
	w.rec[0].seq_down = a.seq_down;
	EXPECT_TRUE(same_rec(&a, &w.rec[0]));
}

/* Downlink datagrams sealed by one run of the front, the terminal's window having taken them:
 * the sealed one of the run after a crash is new to that window, and so is the one of the run
 * after the next crash, which must not start where the previous run started. */
static void seal_downlink(struct __test_metadata *_metadata, FIXTURE_DATA(store) * self,
                          struct gk_replay_window *terminal, const struct gk_binding_record *a,
                          unsigned n)
{
	struct gk_binding *b = gk_registrar_binding_of(self->reg, a->idc);
	uint8_t buf[256];
	enum gk_reason why = GK_R_OK;

	ASSERT_NE(NULL, b);
	for (unsigned i = 0; i < n; i++) {
		memcpy(buf, PAYLOAD, sizeof(PAYLOAD) - 1);
		int len = gk_registrar_seal(self->reg, b, buf, sizeof(PAYLOAD) - 1, sizeof(buf));
		ASSERT_LT(0, len);
		EXPECT_EQ((long)sizeof(PAYLOAD) - 1,
		          gk_pkt_open(a->keys.downlink, terminal, buf, (size_t)len, &why))
		TH_LOG("downlink datagram %u of this run: %s", i, gk_reason_name(why));
	}
}

TEST_F(store, downlink_numbers_never_repeat_across_restarts)
{
	struct gk_binding_record a;
	struct gk_replay_window terminal;
	unsigned dropped;

	memset(&terminal, 0, sizeof(terminal));
	ASSERT_EQ(0, open_store(_metadata, self, 16));
	make_rec(&a, 1, "t1", 1);
	gk_bindstore_put(self->s, &a);
	for (unsigned run = 0; run < 3; run++) {
		make_registrar(_metadata, self);
		EXPECT_EQ(1, gk_registrar_attach_store(self->reg, self->s, &dropped));
		seal_downlink(_metadata, self, &terminal, &a, 3);
		/* a crash: the registrar goes without writing anything back */
		gk_registrar_free(self->reg);
		self->reg = NULL;
		gk_loop_free(self->loop);
		self->loop = NULL;
	}
}

TEST_HARNESS_MAIN
