// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading, attaching and feeding the XDP fast path (see gatekey/xdp.h). The program is embedded
 * as a libbpf skeleton generated at build time, so there is no object file to install or find.
 * Maps are pinned by name (LIBBPF_PIN_BY_NAME in the program) under the interface's directory;
 * libbpf reuses pinned maps whose definition matches, which is what carries the terminals over
 * an sbcd restart, and the netlink attachment replaces the running program in one step.
 *
 * The maps that grow with the terminals are sized before the load (size_maps), and pinned maps
 * of another size or layout are refused before anything is created (check_pins), with what
 * differs in words: libbpf alone would fail the load with EINVAL and a line on stderr. Refused,
 * not adopted and not replaced: a pinned map cannot be resized in place, replacing it loses the
 * registered terminals it holds, and adopting its size would make the capacity depend on what
 * an earlier run left behind rather than on the configuration (it would change again, unasked,
 * at the next reboot, which empties bpffs). The operator chooses, knowing the cost (sbcd says
 * how: sbcd/fastpath.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "gatekey.skel.h"
#include "gatekey/fastpath/xdp.h"

#define BPF_FS_MAGIC_ 0xcafe4a11
/* Room for the verifier's log when a load fails: the kernel keeps the log's end when it does
 * not fit, and libbpf, given a buffer of ours, reloads with the log on only after a failure. */
#define LOAD_LOG_SIZE  (16u << 20)
#define LOAD_LOG_LINES 20
#define STATS_LOG_SIZE (64u << 10)

static __thread char load_log_tail[4096];

static const char *const pinned_maps[] = {
    "config",      "terminals",     "sources", "source_hint",
    "src_buckets", "global_bucket", "stats",   "sessions",
};

static __thread struct gk_xdp_pin_conflict pin_conflict;

struct gk_xdp {
	struct gatekey_bpf *skel;
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct gk_fp_sizes sizes;
};

/* A map's fd straight from the skeleton: a binding's install takes half a dozen, and looking
 * each up by name walks the object's maps with strcmp. */
#define MAP_FD(x, name) bpf_map__fd((x)->skel->maps.name)

const char *gk_xdp_mode_str(enum gk_xdp_mode m)
{
	switch (m) {
	case GK_XDP_MODE_NATIVE:
		return "native";
	case GK_XDP_MODE_GENERIC:
		return "generic";
	default:
		return "none";
	}
}

static bool is_bpffs(const char *path)
{
	struct statfs st;
	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC_;
}

static int mkdirs(const char *path);

/* Pins need a bpf filesystem: /sys/fs/bpf (mounted here if missing), or, for a pin root
 * elsewhere, that directory itself (mounted there if it is not one yet). A process started by
 * `ip netns exec` gets its own /sys and mount namespace, where a mount made now would vanish
 * with it: such setups mount the pin root beforehand, outside /sys. */
static int ensure_bpffs(const char *pin_root)
{
	const char *root = *pin_root ? pin_root : GK_XDP_PIN_ROOT;
	const char *where = strncmp(root, "/sys/fs/bpf", 11) == 0 ? "/sys/fs/bpf" : root;
	int err;

	if (is_bpffs(where))
		return 0;
	err = mkdirs(where);
	if (err)
		return err;
	if (mount("bpf", where, "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

static int pin_dir(char *buf, size_t cap, const char *pin_root, const char *ifname)
{
	int n;

	if (!ifname || !*ifname || strchr(ifname, '/'))
		return -EINVAL;
	n = snprintf(buf, cap, "%s/%s", *pin_root ? pin_root : GK_XDP_PIN_ROOT, ifname);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* All n values of array map fd into vals: in a few batched calls where the kernel has them (one
 * call per element would be 2^18 system calls or more for source_hint, most of a second at every
 * open). */
static int read_array(int fd, uint32_t *vals, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t *keys = calloc(n, sizeof(*keys)), done = 0, next = 0, count;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (done < n) {
		count = n - done;
		err = bpf_map_lookup_batch(fd, done ? &next : NULL, &next, keys + done, vals + done,
		                           &count, &opts);
		done += count;
		if (err < 0) {
			err = errno == ENOENT ? 0 : -errno; /* ENOENT: that was the last batch */
			break;
		}
	}
	if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) /* no batches: one by one */
		for (err = 0, done = 0; done < n && !err; done++)
			if (bpf_map_lookup_elem(fd, &done, &vals[done]) < 0)
				err = -errno;
	if (!err && done != n)
		err = -EIO;
	free(keys);
	return err;
}

/* Slots are written with their final value, never cleared first, so a program already running
 * on these maps sees no registered address vanish meanwhile. */
int gk_xdp_rebuild_source_hint(struct gk_xdp *x)
{
	const uint32_t slots = 1u << x->sizes.hint_bits;
	int hfd = MAP_FD(x, source_hint), sfd = MAP_FD(x, sources), err;
	uint32_t *count = calloc(slots, sizeof(*count)), *seen = calloc(slots, sizeof(*seen));
	struct gk_fp_source key, next;
	const struct gk_fp_source *prev = NULL;

	err = count && seen ? read_array(hfd, seen, slots) : -ENOMEM;
	if (err)
		goto out;
	while (bpf_map_get_next_key(sfd, prev, &next) == 0) {
		key = next;
		prev = &key;
		count[gk_xdp_source_hint_slot(x, &key)]++;
	}
	for (uint32_t i = 0; i < slots && !err; i++)
		if (seen[i] != count[i] && bpf_map_update_elem(hfd, &i, &count[i], BPF_ANY) < 0)
			err = -errno;
out:
	free(count);
	free(seen);
	return err;
}

/* source_hint[slot of src] moves by one, up or down (see gk_fp_source_hint). A count left too
 * high only costs the program a hash lookup; one too low would hide a registered address, so a
 * failed increment is an error for the caller. */
static int source_hint_step(struct gk_xdp *x, const struct gk_fp_source *src, bool up)
{
	int fd = MAP_FD(x, source_hint);
	uint32_t slot = gk_xdp_source_hint_slot(x, src), n = 0;

	if (bpf_map_lookup_elem(fd, &slot, &n) < 0)
		return -errno;
	n = up ? n + 1 : n ? n - 1 : 0;
	return bpf_map_update_elem(fd, &slot, &n, BPF_ANY) < 0 ? -errno : 0;
}

uint32_t gk_xdp_source_hint_slot(const struct gk_xdp *x, const struct gk_fp_source *src)
{
	return gk_fp_source_hint(src, x->sizes.hint_bits);
}

/* The entries of map name for the sizes z; def for a map whose size does not grow. */
static uint32_t entries_for(const struct gk_fp_sizes *z, const char *name, uint32_t def)
{
	if (strcmp(name, "terminals") == 0)
		return z->terminals + 1; /* index 0 is never used */
	if (strcmp(name, "sources") == 0 || strcmp(name, "sessions") == 0)
		return z->terminals;
	if (strcmp(name, "src_buckets") == 0)
		return z->hosts;
	if (strcmp(name, "source_hint") == 0)
		return 1u << z->hint_bits;
	return def;
}

/* Before the load: every map that grows with the terminals gets its size, and the program the
 * width of a source_hint slot. */
static int size_maps(struct gk_xdp *x)
{
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, x->skel->obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		err = bpf_map__set_max_entries(
		    m, entries_for(&x->sizes, bpf_map__name(m), bpf_map__max_entries(m)));
		if (err)
			return err;
	}
	x->skel->rodata->gk_hint_bits = x->sizes.hint_bits;
	return 0;
}

/* What a pinned map is, as the kernel reports it. */
struct pinned {
	bool found;  /* something is pinned at the path */
	bool is_map; /* ... and the kernel describes it as a map */
	struct bpf_map_info info;
};

static int read_pin(const char *path, struct pinned *p)
{
	__u32 len = sizeof(p->info);
	int fd;

	memset(p, 0, sizeof(*p));
	if (!path)
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	p->found = true;
	p->is_map = bpf_obj_get_info_by_fd(fd, &p->info, &len) == 0;
	close(fd);
	return 0;
}

/* The same type, key, value and flags as this build's map m: libbpf's test for reuse, but the
 * size. */
static bool same_layout(const struct pinned *p, const struct bpf_map *m)
{
	return p->is_map && p->info.type == bpf_map__type(m) &&
	       p->info.key_size == bpf_map__key_size(m) &&
	       p->info.value_size == bpf_map__value_size(m) &&
	       p->info.map_flags == bpf_map__map_flags(m);
}

static void describe_layout(char *out, size_t len, enum bpf_map_type type, uint32_t key,
                            uint32_t value, uint32_t flags)
{
	const char *t = libbpf_bpf_map_type_str(type);

	snprintf(out, len, "%s, key %u B, value %u B, flags %#x", t ? t : "unknown type", key,
	         value, flags);
}

/*
 * Before the load, with the maps sized: 0 when every map pinned under dir (some may be missing:
 * libbpf creates and pins them) is one libbpf will reuse; -EEXIST, with pin_conflict filled in,
 * when one is not. Reads the pins only: nothing is created, written or removed.
 */
static int check_pins(struct gk_xdp *x, const char *dir)
{
	struct gk_xdp_pin_conflict *c = &pin_conflict;
	struct gk_fp_sizes then = {0};
	bool layout = false, size = false, fits = true, have_terminals = false;
	struct bpf_map *m;
	struct pinned p;
	int err;

	/* The terminals map says how many terminals the pinned set was made for. */
	m = x->skel->maps.terminals;
	err = read_pin(bpf_map__pin_path(m), &p);
	if (err)
		return err;
	if (p.found && same_layout(&p, m) && p.info.max_entries > 1 &&
	    p.info.max_entries - 1 <= GK_FP_TERMINALS_MAX) {
		gk_fp_sizes_of(p.info.max_entries - 1, &then);
		have_terminals = then.terminals == p.info.max_entries - 1;
	}
	bpf_object__for_each_map(m, x->skel->obj)
	{
		const char *path = bpf_map__pin_path(m), *name = bpf_map__name(m);
		uint32_t want = bpf_map__max_entries(m);
		char a[96], b[96];

		if (!path)
			continue;
		err = read_pin(path, &p);
		if (err)
			return err;
		if (!p.found)
			continue;
		if (!same_layout(&p, m)) {
			fits = false;
			if (layout)
				continue;
			layout = true;
			snprintf(c->map, sizeof(c->map), "%s", name);
			describe_layout(b, sizeof(b), bpf_map__type(m), bpf_map__key_size(m),
			                bpf_map__value_size(m), bpf_map__map_flags(m));
			if (!p.is_map) {
				snprintf(c->what, sizeof(c->what),
				         "%s is pinned there but is not a map (this build's: %s)",
				         name, b);
				continue;
			}
			describe_layout(a, sizeof(a), p.info.type, p.info.key_size,
			                p.info.value_size, p.info.map_flags);
			snprintf(c->what, sizeof(c->what),
			         "%s was pinned with another layout (%s) than this build's (%s): "
			         "another version of gatekey made it",
			         name, a, b);
			continue;
		}
		if (have_terminals && p.info.max_entries != entries_for(&then, name, want))
			fits = false;
		if (p.info.max_entries == want || layout || size)
			continue;
		size = true;
		snprintf(c->map, sizeof(c->map), "%s", name);
		if (strcmp(name, "terminals") == 0 && have_terminals)
			snprintf(c->what, sizeof(c->what),
			         "they were made for %u terminals, not %u", then.terminals,
			         x->sizes.terminals);
		else
			snprintf(c->what, sizeof(c->what),
			         "%s holds %u entries, %u terminals need %u", name,
			         p.info.max_entries, x->sizes.terminals, want);
	}
	if (!layout && !size)
		return 0;
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	c->terminals = x->sizes.terminals;
	c->pinned_terminals = have_terminals && fits ? then.terminals : 0;
	return -EEXIST;
}

const struct gk_xdp_pin_conflict *gk_xdp_pin_conflict(void)
{
	return &pin_conflict;
}

int gk_xdp_capable(char *why, size_t len)
{
	if (geteuid() != 0) {
		snprintf(why, len, "not root");
		return -EPERM;
	}
	if (access(GK_XDP_VMLINUX_BTF, R_OK) != 0) {
		snprintf(why, len, "the kernel has no BTF (%s)", GK_XDP_VMLINUX_BTF);
		return -ENOTSUP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1) {
		snprintf(why, len, "the kernel does not load XDP programs");
		return -ENOTSUP;
	}
	return 0;
}

const char *gk_xdp_load_log(void)
{
	return load_log_tail;
}

/* Keeps the last LOAD_LOG_LINES lines of a verifier log (at most what load_log_tail holds). */
static void keep_log_tail(const char *log)
{
	size_t len = strnlen(log, LOAD_LOG_SIZE), start;
	int lines = 0;

	while (len && (log[len - 1] == '\n' || log[len - 1] == ' '))
		len--;
	for (start = len; start > 0; start--)
		if (log[start - 1] == '\n' && ++lines == LOAD_LOG_LINES)
			break;
	if (len - start >= sizeof(load_log_tail))
		start = len - (sizeof(load_log_tail) - 1);
	memcpy(load_log_tail, log + start, len - start);
	load_log_tail[len - start] = 0;
}

int gk_xdp_open(struct gk_xdp **out, const char *ifname, const char *pin_root,
                uint32_t max_terminals)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char *log = malloc(LOAD_LOG_SIZE); /* untouched pages, unless a load fails */
	char dir[PATH_MAX];
	struct gk_xdp *x;
	struct bpf_map *m;
	int err;

	*out = NULL;
	load_log_tail[0] = 0;
	memset(&pin_conflict, 0, sizeof(pin_conflict));
	if (max_terminals > GK_FP_TERMINALS_MAX) {
		free(log);
		return -ERANGE;
	}
	if (log) {
		log[0] = 0;
		opts.kernel_log_buf = log;
		opts.kernel_log_size = LOAD_LOG_SIZE;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		free(log);
		return -ENOMEM;
	}
	gk_fp_sizes_of(max_terminals, &x->sizes);
	if (ifname) {
		snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
		x->ifindex = (int)if_nametoindex(ifname);
		if (!x->ifindex) {
			err = -ENODEV;
			goto fail;
		}
	}
	if (pin_root) {
		err = pin_dir(dir, sizeof(dir), pin_root, ifname);
		if (!err)
			err = ensure_bpffs(pin_root);
		if (!err)
			err = mkdirs(dir);
		if (err)
			goto fail;
		opts.pin_root_path = dir;
	}
	x->skel = gatekey_bpf__open_opts(&opts);
	if (!x->skel) {
		err = -errno ? -errno : -EINVAL;
		goto fail;
	}
	if (!pin_root) {
		bpf_object__for_each_map(m, x->skel->obj)
		{
			err = bpf_map__set_pin_path(m, NULL);
			if (err)
				goto fail;
		}
	}
	err = size_maps(x);
	if (!err && pin_root)
		err = check_pins(x, dir);
	if (err)
		goto fail;
	err = gatekey_bpf__load(x->skel);
	if (err && log)
		keep_log_tail(log);
	if (!err)
		err = gk_xdp_rebuild_source_hint(x);
	if (err)
		goto fail;
	free(log);
	*out = x;
	return 0;
fail:
	free(log);
	gk_xdp_close(x);
	return err < 0 ? err : -EINVAL;
}

/* The number after key in a verifier statistics log ("processed 123 insns"), 0 if absent. */
static uint64_t log_number(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Opens the object at path, or the embedded one, with nothing pinned and only program prog (by
 * name; NULL: none) to be loaded. */
static struct bpf_object *open_object(const char *path, const char *prog,
                                      struct bpf_object_open_opts *opts)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	const void *elf;
	size_t size;

	if (path) {
		obj = bpf_object__open_file(path, opts);
	} else {
		elf = gatekey_bpf__elf_bytes(&size);
		obj = bpf_object__open_mem(elf, size, opts);
	}
	if (!obj)
		return NULL;
	bpf_object__for_each_map(m, obj) bpf_map__set_pin_path(m, NULL);
	bpf_object__for_each_program(p, obj)
	    bpf_program__set_autoload(p, prog && strcmp(bpf_program__name(p), prog) == 0);
	return obj;
}

int gk_xdp_verifier_stats(const char *path,
                          int (*cb)(const struct gk_xdp_verifier_stats *st, void *arg), void *arg)
{
	LIBBPF_OPTS(bpf_object_open_opts, none);
	struct bpf_object *all = open_object(path, NULL, &none);
	struct bpf_program *p;
	char *log = malloc(LOAD_LOG_SIZE);
	int n = 0, err = 0;

	if (!all || !log) {
		err = all ? -ENOMEM : -errno;
		goto out;
	}
	bpf_object__for_each_program(p, all)
	{
		struct gk_xdp_verifier_stats st = {0};
		struct bpf_object *obj;
		LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log,
		            .kernel_log_size = STATS_LOG_SIZE, .kernel_log_level = 4);

		snprintf(st.prog, sizeof(st.prog), "%s", bpf_program__name(p));
		log[0] = 0;
		load_log_tail[0] = 0;
		obj = open_object(path, st.prog, &opts);
		if (!obj) {
			err = -errno;
			break;
		}
		st.err = bpf_object__load(obj);
		bpf_object__close(obj);
		st.insns = log_number(log, "processed ");
		st.total_states = log_number(log, "total_states ");
		st.peak_states = log_number(log, "peak_states ");
		st.usec = log_number(log, "verification time ");
		if (st.err) {
			/* Again with the whole log, for its last lines: the statistics alone do
			 * not say where the verifier stopped. */
			LIBBPF_OPTS(bpf_object_open_opts, again, .kernel_log_buf = log,
			            .kernel_log_size = LOAD_LOG_SIZE);
			log[0] = 0;
			obj = open_object(path, st.prog, &again);
			if (obj && bpf_object__load(obj))
				keep_log_tail(log);
			bpf_object__close(obj);
		}
		n++;
		if (cb(&st, arg))
			break;
	}
out:
	bpf_object__close(all);
	free(log);
	return err ? err : n;
}

void gk_xdp_close(struct gk_xdp *x)
{
	if (!x)
		return;
	gatekey_bpf__destroy(x->skel);
	free(x);
}

uint32_t gk_xdp_terminals(const struct gk_xdp *x)
{
	return x->sizes.terminals;
}

/* The "memlock:" line of the map's fdinfo, in bytes; 0 when absent. */
static uint64_t map_memlock(int fd)
{
	char path[64], line[128];
	uint64_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &n) == 1)
			break;
	fclose(f);
	return n;
}

uint64_t gk_xdp_memory(const struct gk_xdp *x, char *detail, size_t len)
{
	const struct bpf_map *m;
	uint64_t total = 0, bytes;
	size_t at = 0;
	int n;

	if (detail && len)
		detail[0] = 0;
	bpf_object__for_each_map(m, x->skel->obj)
	{
		bytes = map_memlock(bpf_map__fd(m));
		total += bytes;
		if (!detail || bytes < (1u << 20) || at >= len)
			continue;
		n = snprintf(detail + at, len - at, "%s%s %.1f MiB", at ? ", " : "",
		             bpf_map__name(m), (double)bytes / (1u << 20));
		at += n > 0 ? (size_t)n : 0;
	}
	return total;
}

int gk_xdp_prog_fd(const struct gk_xdp *x)
{
	return bpf_program__fd(x->skel->progs.gk_xdp);
}

int gk_xdp_baseline_prog_fd(const struct gk_xdp *x)
{
	return bpf_program__fd(x->skel->progs.gk_xdp_baseline);
}

int gk_xdp_map_fd(const struct gk_xdp *x, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(x->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int gk_xdp_attach(struct gk_xdp *x, enum gk_xdp_mode *mode)
{
	int fd = gk_xdp_prog_fd(x), err = -EINVAL;
	enum gk_xdp_mode want = *mode;

	*mode = GK_XDP_MODE_NONE;
	if (!x->ifindex)
		return -ENODEV;
	if (want != GK_XDP_MODE_GENERIC) {
		err = bpf_xdp_attach(x->ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
		if (!err) {
			*mode = GK_XDP_MODE_NATIVE;
			return 0;
		}
		if (want == GK_XDP_MODE_NATIVE)
			return err;
	}
	err = bpf_xdp_attach(x->ifindex, fd, XDP_FLAGS_SKB_MODE, NULL);
	if (!err) {
		*mode = GK_XDP_MODE_GENERIC;
		return 0;
	}
	return err;
}

void gk_xdp_follow(struct gk_xdp *x, int ifindex)
{
	x->ifindex = ifindex;
}

int gk_xdp_detach(const char *ifname, const char *pin_root)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int ifindex = (int)if_nametoindex(ifname), err = 0;

	if (ifindex) {
		/* Both modes: only one can be in use, the other call is a no-op. */
		if (bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL) < 0)
			err = -errno;
		if (bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL) == 0)
			err = 0;
	}
	if (pin_dir(dir, sizeof(dir), pin_root ? pin_root : "", ifname) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		err = -errno;
	return ifindex ? err : -ENODEV;
}

static int check_config(const struct gk_fp_config *cfg)
{
	for (int i = 0; i < GK_FP_NPORTS; i++) {
		const struct gk_fp_port *p = &cfg->ports[i];

		if (!p->port)
			continue;
		if (!p->verified || p->proto < GK_FP_PROTO_SIP || p->proto > GK_FP_PROTO_RAS)
			return -EINVAL;
		for (int j = 0; j < GK_FP_NPORTS; j++) {
			const struct gk_fp_port *q = &cfg->ports[j];

			if (!q->port)
				continue;
			if (q->verified == p->port ||
			    (j != i && (q->port == p->port || q->verified == p->verified)))
				return -EINVAL;
		}
	}
	if (cfg->source.burst > 1000000000u || cfg->global.burst > 1000000000u ||
	    cfg->terminal.burst > 1000000000u || cfg->shed > 1000)
		return -ERANGE;
	return 0;
}

int gk_xdp_set_config(struct gk_xdp *x, const struct gk_fp_config *cfg)
{
	uint32_t zero = 0;
	int err = check_config(cfg);

	if (err)
		return err;
	return bpf_map_update_elem(MAP_FD(x, config), &zero, cfg, BPF_ANY) ? -errno : 0;
}

int gk_xdp_get_config(struct gk_xdp *x, struct gk_fp_config *cfg)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(MAP_FD(x, config), &zero, cfg) ? -errno : 0;
}

int gk_xdp_source_of(const struct sockaddr_storage *ss, struct gk_fp_source *src)
{
	memset(src, 0, sizeof(*src));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		src->family = GK_FP_AF_INET;
		src->port = ntohs(in->sin_port);
		memcpy(src->addr, &in->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		src->family = GK_FP_AF_INET6;
		src->port = ntohs(in6->sin6_port);
		memcpy(src->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void gk_xdp_sockaddr_of(const struct gk_fp_source *src, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (src->family == GK_FP_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(src->port);
		memcpy(&in->sin_addr, src->addr, 4);
	} else if (src->family == GK_FP_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(src->port);
		memcpy(&in6->sin6_addr, src->addr, 16);
	}
}

static void source_of_terminal(const struct gk_fp_terminal *t, struct gk_fp_source *src)
{
	memset(src, 0, sizeof(*src));
	src->family = t->family;
	src->port = t->port;
	memcpy(src->addr, t->addr, sizeof(src->addr));
}

/* Removes sources[src] if it still points at index. */
static void drop_source(struct gk_xdp *x, const struct gk_fp_source *src, uint32_t index)
{
	int sfd = MAP_FD(x, sources);
	uint32_t cur;

	if (bpf_map_lookup_elem(sfd, src, &cur) == 0 && cur == index &&
	    bpf_map_delete_elem(sfd, src) == 0)
		(void)source_hint_step(x, src, false); /* too high only costs a lookup */
}

/* sources[src] = index; the hint counts a new key before the program can look it up. */
static int put_source(struct gk_xdp *x, const struct gk_fp_source *src, uint32_t index)
{
	int sfd = MAP_FD(x, sources);
	uint32_t cur;
	bool fresh = bpf_map_lookup_elem(sfd, src, &cur) < 0;

	int err = fresh ? source_hint_step(x, src, true) : 0;

	if (err)
		return err;
	if (bpf_map_update_elem(sfd, src, &index, BPF_ANY) == 0)
		return 0;
	err = -errno;
	if (fresh)
		(void)source_hint_step(x, src, false); /* too high only costs a lookup */
	return err;
}

int gk_xdp_terminal_add(struct gk_xdp *x, uint32_t index, const struct sockaddr_storage *source,
                        enum gk_fp_mech mech, const uint8_t key[16])
{
	int tfd = MAP_FD(x, terminals), err = 0;
	struct gk_fp_terminal t, old;
	struct gk_fp_source src, oldsrc;

	if (mech != GK_FP_MECH_GKMAC && mech != GK_FP_MECH_DIGEST)
		return -EINVAL;
	if (mech == GK_FP_MECH_GKMAC && !key)
		return -EINVAL;
	err = gk_xdp_source_of(source, &src);
	if (err)
		return err;
	memset(&t, 0, sizeof(t));
	t.index = index;
	t.mech = (uint8_t)mech;
	t.family = src.family;
	t.port = src.port;
	memcpy(t.addr, src.addr, sizeof(t.addr));
	if (mech == GK_FP_MECH_GKMAC)
		memcpy(t.key, key, sizeof(t.key));
	/* A terminal that moved: its old address must stop mapping to it. */
	if (bpf_map_lookup_elem(tfd, &index, &old) == 0 && old.mech != GK_FP_MECH_NONE) {
		source_of_terminal(&old, &oldsrc);
		if (memcmp(&oldsrc, &src, sizeof(src)) != 0)
			drop_source(x, &oldsrc, index);
		explicit_bzero(&old, sizeof(old));
	}
	if (bpf_map_update_elem(tfd, &index, &t, BPF_ANY) < 0)
		err = -errno;
	else
		err = put_source(x, &src, index);
	explicit_bzero(&t, sizeof(t));
	return err;
}

int gk_xdp_terminal_del(struct gk_xdp *x, uint32_t index)
{
	int tfd = MAP_FD(x, terminals);
	struct gk_fp_terminal t;
	struct gk_fp_source src;

	if (bpf_map_lookup_elem(tfd, &index, &t) < 0)
		return -errno;
	if (t.mech == GK_FP_MECH_NONE)
		return -ENOENT;
	source_of_terminal(&t, &src);
	drop_source(x, &src, index);
	/* The terminals map is an array: an index is freed by zeroing it (key and window too). */
	memset(&t, 0, sizeof(t));
	return bpf_map_update_elem(tfd, &index, &t, BPF_ANY) < 0 ? -errno : 0;
}

int gk_xdp_terminal_foreach(struct gk_xdp *x,
                            int (*cb)(const struct gk_xdp_terminal_info *t, void *arg), void *arg)
{
	int tfd = MAP_FD(x, terminals), n = 0;
	uint32_t key, next;
	const uint32_t *prev = NULL;
	struct gk_fp_terminal t;
	struct gk_xdp_terminal_info info;

	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem_flags(tfd, &key, &t, BPF_F_LOCK) < 0)
			continue; /* deleted meanwhile */
		if (t.mech == GK_FP_MECH_NONE) {
			explicit_bzero(&t, sizeof(t));
			continue; /* a free index */
		}
		memset(&info, 0, sizeof(info));
		info.index = t.index;
		info.mech = (enum gk_fp_mech)t.mech;
		info.seq_top = t.win.top;
		memcpy(info.key, t.key, sizeof(info.key));
		{
			struct gk_fp_source src;
			source_of_terminal(&t, &src);
			gk_xdp_sockaddr_of(&src, &info.source);
		}
		explicit_bzero(&t, sizeof(t));
		n++;
		int stop = cb(&info, arg);
		explicit_bzero(&info, sizeof(info));
		if (stop)
			break;
	}
	return n;
}

int gk_xdp_stats(struct gk_xdp *x, uint64_t out[GK_FP_STAT__COUNT])
{
	int fd = MAP_FD(x, stats), ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EIO;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < GK_FP_STAT__COUNT; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v) < 0) {
			int err = -errno;
			free(v);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

int gk_xdp_session_put(struct gk_xdp *x, const struct gk_fp_session *s)
{
	return bpf_map_update_elem(MAP_FD(x, sessions), &s->index, s, BPF_ANY) < 0 ? -errno : 0;
}

int gk_xdp_session_del(struct gk_xdp *x, uint32_t index)
{
	if (bpf_map_delete_elem(MAP_FD(x, sessions), &index) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int gk_xdp_session_foreach(struct gk_xdp *x, int (*cb)(const struct gk_fp_session *s, void *arg),
                           void *arg)
{
	int fd = MAP_FD(x, sessions), n = 0;
	uint32_t key, next;
	const uint32_t *prev = NULL;
	struct gk_fp_session s;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &s) < 0)
			continue;
		n++;
		int stop = cb(&s, arg);
		explicit_bzero(&s, sizeof(s));
		if (stop)
			break;
	}
	return n;
}
