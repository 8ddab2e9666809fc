/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control of the XDP fast path (bpf/gatekey.bpf.c) from userspace: load with maps sized for the
 * configured number of terminals and pinned under /sys/fs/bpf/gatekey/<ifname>/ (reused across
 * restarts, so registered terminals keep working while sbcd restarts), attach natively or in
 * generic mode, and fill the maps. The decision logic and the map layouts are in
 * gatekey/fastpath.h.
 *
 * All functions return 0 (or a count) on success and a negative errno on failure.
 */
#ifndef GATEKEY_XDP_H
#define GATEKEY_XDP_H

#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/fastpath/fastpath.h"

#define GK_XDP_PIN_ROOT "/sys/fs/bpf/gatekey"

enum gk_xdp_mode {
	GK_XDP_MODE_NONE = 0,    /* not attached: the caller checks in userspace */
	GK_XDP_MODE_NATIVE = 1,  /* driver mode */
	GK_XDP_MODE_GENERIC = 2, /* SKB mode */
};

struct gk_xdp;

/* What gk_xdp_terminal_foreach() reports. key is wiped after each callback. */
struct gk_xdp_terminal_info {
	uint32_t index;
	enum gk_fp_mech mech;
	struct sockaddr_storage source;
	uint8_t key[16];
	uint64_t seq_top; /* highest uplink sequence accepted */
};

const char *gk_xdp_mode_str(enum gk_xdp_mode m);

#define GK_XDP_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* 0 when this process can load XDP programs: root, a kernel with BTF (the program is CO-RE)
 * and XDP. Otherwise a negative errno and, in why, what is missing. Where this says 0, a program
 * that does not load is a defect, not a missing capability. */
int gk_xdp_capable(char *why, size_t len);
/* After a gk_xdp_open() or gk_xdp_verifier_stats() in this thread whose program the kernel
 * refused: the last 20 lines of the verifier's log. Otherwise "". */
const char *gk_xdp_load_log(void);

/* What the verifier reported for one program of the object, loaded on its own. */
struct gk_xdp_verifier_stats {
	char prog[64];
	int err;               /* 0: loaded; else the negative errno (see gk_xdp_load_log) */
	uint64_t insns;        /* processed instructions, all subprograms together */
	uint64_t total_states; /* states the verifier stored */
	uint64_t peak_states;
	uint64_t usec; /* verification time */
};

/* Loads each program of the BPF object at path (NULL: the one embedded in libgatekey) on its
 * own, unpinned, with the verifier's statistics (log level 4), and calls cb with them (cb
 * returns non-zero to stop). Returns how many programs were tried, or a negative errno when the
 * object cannot be opened. */
int gk_xdp_verifier_stats(const char *path,
                          int (*cb)(const struct gk_xdp_verifier_stats *st, void *arg), void *arg);

/*
 * Open and load the program. ifname: the access interface (may be NULL when pin_root is NULL).
 * pin_root: NULL = no pinning (tests, benchmarks: nothing shared with a running sbcd); otherwise
 * maps are pinned in (and reused from) <pin_root>/<ifname>, pin_root "" meaning GK_XDP_PIN_ROOT.
 * Mounts bpffs at /sys/fs/bpf if needed. max_terminals: the terminal indexes the maps hold,
 * 1..max_terminals, sized by gk_fp_sizes_of() (0 or anything up to GK_FP_TERMINALS_MIN gives
 * the least size); over GK_FP_TERMINALS_MAX is -ERANGE.
 *
 * Maps pinned there by an earlier run are reused only if each has this build's type, key and
 * value sizes and the size max_terminals gives: a pinned map cannot be resized, and replacing
 * it would lose the registered terminals it holds. Otherwise nothing is loaded, created, pinned
 * or written, the return is -EEXIST, and gk_xdp_pin_conflict() says which map and what differs.
 */
int gk_xdp_open(struct gk_xdp **out, const char *ifname, const char *pin_root,
                uint32_t max_terminals);

/* Why the last gk_xdp_open() of this thread returned -EEXIST (zeroed by every gk_xdp_open). */
struct gk_xdp_pin_conflict {
	char dir[PATH_MAX];        /* where the maps are pinned */
	char map[32];              /* the first that does not fit: its layout, or else its size */
	char what[512];            /* what differs, in words */
	uint32_t terminals;        /* the terminals this open sized the maps for (gk_fp_sizes_of) */
	uint32_t pinned_terminals; /* the max_terminals every pinned map fits (what to configure
	                            * to keep them); 0 when there is none: a layout differs */
};
const struct gk_xdp_pin_conflict *gk_xdp_pin_conflict(void);
/* Closes the handle; the program stays attached and the maps pinned. NULL is fine. */
void gk_xdp_close(struct gk_xdp *x);

/* Attach to the interface; replaces an attached gatekey program atomically (netlink attach: it
 * outlives this process). *mode in: GK_XDP_MODE_NONE tries native, then generic; NATIVE or
 * GENERIC tries only that one. *mode out: what got attached. */
int gk_xdp_attach(struct gk_xdp *x, enum gk_xdp_mode *mode);
/* The interface was deleted and created again under the same name (runtime/linkwatch.h): the
 * program went with the old one, so the next gk_xdp_attach() goes to ifindex. The maps, and the
 * terminals in them, are the program's and stay as they are. */
void gk_xdp_follow(struct gk_xdp *x, int ifindex);
/* Detach whatever XDP program is on ifname and unpin gatekey's maps: `gkctl xdp detach`. */
int gk_xdp_detach(const char *ifname, const char *pin_root);

/* The terminal indexes the maps hold: 1..this (gk_fp_sizes_of, from gk_xdp_open). */
uint32_t gk_xdp_terminals(const struct gk_xdp *x);
/* Kernel memory of all the maps, in bytes, as the kernel accounts it (fdinfo "memlock": on Linux
 * 6.6 and later what each map holds allocated, before that an estimate from key and value sizes);
 * 0 when it cannot be read. detail (may be NULL): the maps of 1 MiB or more, one by one. */
uint64_t gk_xdp_memory(const struct gk_xdp *x, char *detail, size_t len);

int gk_xdp_prog_fd(const struct gk_xdp *x);
/* A program that only returns XDP_DROP, for measuring what BPF_PROG_TEST_RUN itself costs. */
int gk_xdp_baseline_prog_fd(const struct gk_xdp *x);
/* File descriptor of a map by name ("config", "terminals", "sources", "source_hint",
 * "src_buckets", "global_bucket", "stats", "sessions"), for tests and tools. */
int gk_xdp_map_fd(const struct gk_xdp *x, const char *name);

/* Validates (every signalling port has a verified port, no port twice) and installs. */
int gk_xdp_set_config(struct gk_xdp *x, const struct gk_fp_config *cfg);
int gk_xdp_get_config(struct gk_xdp *x, struct gk_fp_config *cfg);

/* Install (or replace) terminal index from source (AF_INET/AF_INET6, the address and port the
 * terminal registered from). key: the uplink key for GK_FP_MECH_GKMAC, ignored (may be NULL)
 * for GK_FP_MECH_DIGEST. A fresh replay window and bucket. */
int gk_xdp_terminal_add(struct gk_xdp *x, uint32_t index, const struct sockaddr_storage *source,
                        enum gk_fp_mech mech, const uint8_t key[16]);
int gk_xdp_terminal_del(struct gk_xdp *x, uint32_t index);
/* Calls cb for each terminal (stops early if cb returns non-zero); returns how many visited. */
int gk_xdp_terminal_foreach(struct gk_xdp *x,
                            int (*cb)(const struct gk_xdp_terminal_info *t, void *arg), void *arg);

/* Counters summed over CPUs, indexed by enum gk_fp_stat (names: gk_fp_stat_name()). */
int gk_xdp_stats(struct gk_xdp *x, uint64_t out[GK_FP_STAT__COUNT]);

/* sbcd's session records ("sessions"), kept beside the maps for restarts. */
int gk_xdp_session_put(struct gk_xdp *x, const struct gk_fp_session *s);
int gk_xdp_session_del(struct gk_xdp *x, uint32_t index);
int gk_xdp_session_foreach(struct gk_xdp *x, int (*cb)(const struct gk_fp_session *s, void *arg),
                           void *arg);

/* Sets every "source_hint" slot to the number of "sources" keys that hash there (gk_xdp_open
 * does): pinned maps from an sbcd that predates the hint, or a hint lost with its pin, would
 * otherwise hide registered addresses from the program. */
int gk_xdp_rebuild_source_hint(struct gk_xdp *x);
/* The "source_hint" slot of src in these maps. */
uint32_t gk_xdp_source_hint_slot(const struct gk_xdp *x, const struct gk_fp_source *src);

/* Source address <-> map key. */
int gk_xdp_source_of(const struct sockaddr_storage *ss, struct gk_fp_source *src);
void gk_xdp_sockaddr_of(const struct gk_fp_source *src, struct sockaddr_storage *ss);

#endif
