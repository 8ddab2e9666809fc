// SPDX-License-Identifier: GPL-2.0-only
/*
 * The binding store (bindstore.h): a shared mapping of a tmpfs file, one slot per terminal index,
 * so that a front's registered terminals and their replay windows outlive the daemon.
 *
 * The file is sparse: a page of it takes memory only once written. Its slots are made resident in
 * steps as the indices put into it grow (runtime/steps.h, attached to the mapping: the steps never
 * wipe it, the store must outlive the daemon), and opening it reads only the parts of the file
 * that hold data (SEEK_DATA), so a store for 262,144 terminals that holds none costs a page.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/steps.h"

#define STORE_MAGIC "GKBINDS1"
/* 2: the Rand that names the session (registrar.h); 3: the ipsec-3gpp ends */
#define STORE_VERSION 3u
#define STORE_FIRST   1024u           /* slots resident from the start */
#define SLOT_VALID    0x56414c4944ull /* "VALID": anything else is a free or torn slot */

struct head {
	char magic[8];
	uint32_t version;
	uint32_t slot_size; /* sizeof(struct slot): a record layout of another build is refused */
	uint32_t slots;
	uint32_t pad;
	uint8_t reserved[40];
};

struct slot {
	uint64_t state; /* SLOT_VALID once rec is whole; written last, cleared first */
	uint64_t top;   /* highest uplink sequence number verified: one aligned store */
	struct gk_binding_record rec;
};

struct gk_bindstore {
	int fd;
	uint32_t slots, count;
	size_t size;
	struct head *head;
	struct slot *slot;     /* slot[i - 1] is index i */
	struct gk_steps steps; /* over slot[]: resident as far as the highest index put */
	char path[4096];
};

static size_t store_size(uint32_t slots)
{
	return sizeof(struct head) + (size_t)slots * sizeof(struct slot);
}

static bool slot_valid(const struct slot *sl)
{
	return __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) == SLOT_VALID;
}

/* The store holds keys: only memory-backed file systems may carry it. */
static int check_memory_fs(const char *dir, char *err, size_t errlen)
{
	struct statfs fs;

	if (statfs(dir, &fs) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC) {
		snprintf(err, errlen,
		         "%s is not on a tmpfs: the binding store holds session keys, which must "
		         "never reach a disk (put it on a tmpfs, such as /run on a systemd host or "
		         "/dev/shm, or set registrar.binding_store = none)",
		         dir);
		return -1;
	}
	return 0;
}

/* The directory of path, created 0700 when missing (one level, as /run/gatekey). */
static int prepare_dir(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	/* Where the directory would be made, first: a refusal leaves nothing behind. */
	if (access(dir, F_OK) < 0) {
		char parent[sizeof(dir)];
		char *up;

		snprintf(parent, sizeof(parent), "%s", dir);
		up = strrchr(parent, '/');
		if (up && up != parent)
			*up = '\0';
		else
			snprintf(parent, sizeof(parent), up ? "/" : ".");
		if (check_memory_fs(parent, err, errlen) < 0)
			return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return check_memory_fs(dir, err, errlen);
}

static int open_locked(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         errno == EWOULDBLOCK ? "in use by another daemon (each needs a store of "
		                                "its own: registrar.binding_store)"
		                              : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* 0600 whatever the umask or an earlier chmod made it; only once the file is known to be a store
 * (or a new one): a file that is refused is left as it was. */
static int own_file(int fd, const char *path, char *err, size_t errlen)
{
	if (fchmod(fd, 0600) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void *map_fd(int fd, size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* A fresh store of `slots` at fd (truncated to size first), with the valid slots of old whose
 * index fits copied over; *dropped counts the others. */
static int init_store(struct gk_bindstore *s, const struct head *old, uint32_t *dropped, char *err,
                      size_t errlen)
{
	if (ftruncate(s->fd, 0) < 0 || ftruncate(s->fd, (off_t)s->size) < 0) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	s->head = map_fd(s->fd, s->size, PROT_READ | PROT_WRITE);
	if (!s->head) {
		snprintf(err, errlen, "%s: cannot map %zu bytes: %s", s->path, s->size,
		         strerror(errno));
		return -1;
	}
	s->slot = (struct slot *)(s->head + 1);
	if (old) {
		const struct slot *from = (const struct slot *)(old + 1);
		for (uint32_t i = 0; i < old->slots; i++) {
			if (!slot_valid(&from[i]))
				continue;
			uint32_t index = from[i].rec.index;
			if (index != i + 1 || index > s->slots) {
				(*dropped)++;
				continue;
			}
			s->slot[i].top = from[i].top;
			s->slot[i].rec = from[i].rec;
			__atomic_store_n(&s->slot[i].state, SLOT_VALID, __ATOMIC_RELEASE);
		}
	}
	memcpy(s->head->magic, STORE_MAGIC, sizeof(s->head->magic));
	s->head->version = STORE_VERSION;
	s->head->slot_size = sizeof(struct slot);
	__atomic_store_n(&s->head->slots, s->slots, __ATOMIC_RELEASE);
	return 0;
}

/* A store of another size: its bindings go into a new file of the right size, which then takes
 * its place; the old one is read only. */
static int resize(struct gk_bindstore *s, int old_fd, size_t old_size, uint32_t *dropped, char *err,
                  size_t errlen)
{
	char tmp[sizeof(s->path) + 8];
	const struct head *old = map_fd(old_fd, old_size, PROT_READ);
	int ret = -1;

	if (!old) {
		snprintf(err, errlen, "%s: cannot map it: %s", s->path, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", s->path);
	unlink(tmp);
	s->fd = open_locked(tmp, err, errlen);
	if (s->fd >= 0 && own_file(s->fd, tmp, err, errlen) == 0 &&
	    init_store(s, old, dropped, err, errlen) == 0) {
		if (rename(tmp, s->path) == 0)
			ret = 0;
		else
			snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
	}
	if (ret < 0)
		unlink(tmp);
	munmap((void *)old, old_size);
	return ret;
}

/* The next run of slots [*from, *to) at or after *from that the file holds data for (the rest are
 * holes, all zeros: free slots); false past the last. Where SEEK_DATA is refused, every slot. */
static bool next_data(const struct gk_bindstore *s, uint32_t *from, uint32_t *to)
{
	off_t first = (off_t)sizeof(struct head) + (off_t)*from * (off_t)sizeof(struct slot);
	off_t data, hole;

	if (*from >= s->slots)
		return false;
	data = lseek(s->fd, first, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		return false;
	if (data < 0 || (hole = lseek(s->fd, data, SEEK_HOLE)) < 0) {
		*to = s->slots;
		return true;
	}
	if (data < first)
		data = first;
	*from = (uint32_t)((data - (off_t)sizeof(struct head)) / (off_t)sizeof(struct slot));
	hole -= (off_t)sizeof(struct head);
	*to =
	    hole <= 0
	        ? 0
	        : (uint32_t)((hole + (off_t)sizeof(struct slot) - 1) / (off_t)sizeof(struct slot));
	if (*to > s->slots)
		*to = s->slots;
	if (*to <= *from)
		*to = *from + 1;
	return true;
}

/* The valid slots, and *top the highest index among them (0: none). */
static uint32_t count_valid(const struct gk_bindstore *s, uint32_t *top)
{
	uint32_t from = 0, to, n = 0;

	*top = 0;
	while (next_data(s, &from, &to))
		for (; from < to; from++)
			if (slot_valid(&s->slot[from])) {
				n++;
				*top = from + 1;
			}
	return n;
}

int gk_bindstore_open(const char *path, uint32_t slots, struct gk_bindstore **out,
                      uint32_t *dropped, char *err, size_t errlen)
{
	struct gk_bindstore *s;
	struct head h;
	struct stat st;
	uint32_t top;
	int fd;

	*out = NULL;
	*dropped = 0;
	if (!slots || strlen(path) >= sizeof(s->path) - 8) {
		snprintf(err, errlen, "%s: no slots, or a path too long", path);
		return -1;
	}
	if (prepare_dir(path, err, errlen) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = -1;
	s->slots = slots;
	s->size = store_size(slots);
	fd = open_locked(path, err, errlen);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail_fd;
	if (st.st_size == 0) {
		s->fd = fd;
		fd = -1;
		if (own_file(s->fd, path, err, errlen) < 0 ||
		    init_store(s, NULL, dropped, err, errlen) < 0)
			goto fail_fd;
	} else {
		if ((size_t)st.st_size < sizeof(h) || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
		    memcmp(h.magic, STORE_MAGIC, sizeof(h.magic)) != 0 ||
		    h.version != STORE_VERSION || h.slot_size != sizeof(struct slot) || !h.slots ||
		    (size_t)st.st_size != store_size(h.slots)) {
			snprintf(err, errlen,
			         "%s is not a binding store of this version of gatekey: move it "
			         "away (the terminals it held then register again)",
			         path);
			goto fail_fd;
		}
		if (h.slots == slots) {
			s->fd = fd;
			fd = -1;
			if (own_file(s->fd, path, err, errlen) < 0)
				goto fail_fd;
			s->head = map_fd(s->fd, s->size, PROT_READ | PROT_WRITE);
			if (!s->head) {
				snprintf(err, errlen, "%s: cannot map it: %s", path,
				         strerror(errno));
				goto fail_fd;
			}
			s->slot = (struct slot *)(s->head + 1);
		} else if (resize(s, fd, (size_t)st.st_size, dropped, err, errlen) < 0) {
			goto fail_fd;
		}
	}
	if (fd >= 0)
		close(fd); /* the old file of a resized store, replaced now */
	/* A first step resident now, as every table sized from the configuration (runtime/steps.h):
	 * a first registration must not wait for tmpfs to find a page. */
	if (gk_steps_attach(&s->steps, "binding_store", s->slot, slots, sizeof(struct slot),
	                    STORE_FIRST) < 0) {
		snprintf(err, errlen, "%s: out of memory for %u terminals", path, slots);
		gk_bindstore_close(s);
		return -1;
	}
	s->count = count_valid(s, &top);
	/* The steps cover every index the file holds, as if each had been put in this run. */
	if (gk_steps_reach(&s->steps, top) < 0) {
		snprintf(err, errlen, "%s: out of memory for its %u terminals", path, s->count);
		gk_bindstore_close(s);
		return -1;
	}
	*out = s;
	return 0;
fail_fd:
	if (fd >= 0)
		close(fd);
	gk_bindstore_close(s);
	return -1;
}

void gk_bindstore_close(struct gk_bindstore *s)
{
	if (!s)
		return;
	gk_steps_detach(&s->steps); /* the file keeps the bindings: no wipe */
	if (s->head)
		munmap(s->head, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static struct slot *slot_of(const struct gk_bindstore *s, uint32_t index)
{
	return index && index <= s->slots ? &s->slot[index - 1] : NULL;
}

/* The slot of an index already put (resident), or NULL: a slot past the steps taken holds nothing,
 * and reading it would make its page of the file resident for nothing. */
static struct slot *slot_put(const struct gk_bindstore *s, uint32_t index)
{
	return index && index <= s->steps.cap ? &s->slot[index - 1] : NULL;
}

void gk_bindstore_put(struct gk_bindstore *s, const struct gk_binding_record *rec)
{
	struct slot *sl = slot_of(s, rec->index);

	if (!sl || gk_steps_reach(&s->steps, rec->index) < 0)
		return; /* out of range, or no memory: the binding is kept in the daemon only */
	if (slot_valid(sl))
		s->count--;
	__atomic_store_n(&sl->state, 0, __ATOMIC_RELEASE);
	sl->rec = *rec;
	sl->top = 0;
	__atomic_store_n(&sl->state, SLOT_VALID, __ATOMIC_RELEASE);
	s->count++;
}

void gk_bindstore_del(struct gk_bindstore *s, uint32_t index)
{
	struct slot *sl = slot_put(s, index);

	if (!sl || !slot_valid(sl))
		return;
	__atomic_store_n(&sl->state, 0, __ATOMIC_RELEASE);
	gk_wipe(&sl->rec, sizeof(sl->rec));
	sl->top = 0;
	s->count--;
}

void gk_bindstore_seen(struct gk_bindstore *s, uint32_t index, uint64_t seq)
{
	struct slot *sl = slot_put(s, index);

	if (sl && seq > sl->top)
		__atomic_store_n(&sl->top, seq, __ATOMIC_RELAXED);
}

void gk_bindstore_seq_down(struct gk_bindstore *s, uint32_t index, uint64_t seq_down)
{
	struct slot *sl = slot_put(s, index);

	if (sl && slot_valid(sl))
		__atomic_store_n(&sl->rec.seq_down, seq_down, __ATOMIC_RELEASE);
}

uint64_t gk_bindstore_top(const struct gk_bindstore *s, uint32_t index)
{
	const struct slot *sl = slot_put(s, index);
	return sl && slot_valid(sl) ? sl->top : 0;
}

int gk_bindstore_foreach(const struct gk_bindstore *s,
                         int (*fn)(const struct gk_binding_record *rec, uint64_t top, void *arg),
                         void *arg)
{
	uint32_t from = 0, to;
	int ret;

	while (next_data(s, &from, &to))
		for (; from < to; from++) {
			const struct slot *sl = &s->slot[from];
			if (!slot_valid(sl) || sl->rec.index != from + 1)
				continue;
			if ((ret = fn(&sl->rec, sl->top, arg)) != 0)
				return ret;
		}
	return 0;
}

uint32_t gk_bindstore_slots(const struct gk_bindstore *s)
{
	return s->slots;
}

uint32_t gk_bindstore_count(const struct gk_bindstore *s)
{
	return s->count;
}

const char *gk_bindstore_path(const struct gk_bindstore *s)
{
	return s->path;
}

const char *gk_bindstore_resolve(const char *setting, const char *name, char *buf, size_t cap,
                                 const char **why)
{
	struct statfs fs;

	*why = NULL;
	if (strcmp(setting, "none") == 0) {
		*why = "registrar.binding_store = none";
		return NULL;
	}
	if (strcmp(setting, "auto") != 0) {
		snprintf(buf, cap, "%s", setting);
		return buf;
	}
	if (statfs("/run", &fs) < 0 || (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC)) {
		*why = "registrar.binding_store = auto, and /run is not a tmpfs";
		return NULL;
	}
	snprintf(buf, cap, "/run/gatekey/%s.bindings", name);
	return buf;
}

int gk_bindstore_from_setting(const char *setting, const char *name, uint32_t slots,
                              struct gk_bindstore **out, char *err, size_t errlen)
{
	char buf[GK_CFG_STR_MAX + 64], e[512];
	const char *why, *path = gk_bindstore_resolve(setting, name, buf, sizeof(buf), &why);
	uint32_t dropped;

	*out = NULL;
	if (!path) {
		gk_warn("bindings are kept in memory only (%s): a restart makes every terminal "
		        "register again",
		        why);
		return 0;
	}
	if (path[0] != '/') {
		snprintf(err, errlen,
		         "registrar.binding_store: expected an absolute path, auto or none, got "
		         "\"%s\"",
		         setting);
		return -1;
	}
	if (gk_bindstore_open(path, slots, out, &dropped, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "registrar.binding_store: %s", e);
		return -1;
	}
	if (dropped)
		gk_warn("binding store %s: %u terminal(s) with an index above "
		        "registrar.max_terminals (%u) dropped; they register again",
		        path, dropped, slots);
	gk_info("binding store %s: %u terminal(s) held, room for %u", path,
	        gk_bindstore_count(*out), slots);
	return 0;
}
