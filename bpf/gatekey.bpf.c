// SPDX-License-Identifier: GPL-2.0-only
/*
 * XDP fast path on the SBC's access interface (DESIGN §6). The decision itself is
 * include/gatekey/fastpath/fastpath.h, shared with userspace; this file only finds the datagram,
 * does the map lookups and locking around the three decision steps, and rewrites what passes.
 *
 * Why these choices:
 *  - "Verified" is signalled by the destination port: a gk-mac datagram that verifies has its
 *    trailer stripped and its destination port P rewritten to the configured verified port V(P);
 *    anything arriving on this interface already addressed to a verified port is dropped
 *    (DROP_SPOOFED_VERIFIED). sbcd binds its verified sockets with SO_BINDTODEVICE to this
 *    interface, so traffic that never met this program (other interfaces, loopback) cannot reach
 *    them. Ports survive the stack unchanged, need no metadata support from the driver, and work
 *    identically in native and generic mode.
 *  - Fragments: a first fragment (IPv4 offset 0 with MF, IPv6 Fragment header with offset 0,
 *    atomic ones included) addressed to a signalling or verified port is dropped and counted;
 *    non-first fragments pass (no UDP header, useless without the first). Signalling over UDP
 *    must fit the MTU, as RFC 3261 §18.1.1 already asks; reassembly in XDP would be a memory DoS.
 *  - IPv6 extension headers: Hop-by-Hop, Routing and Destination Options are walked, at most
 *    GK_V6_EXT_MAX of them, as far as GK_L4_MAX bytes into the frame; a longer or deeper chain
 *    is dropped (DROP_MALFORMED), since passing it would let anyone reach a signalling or
 *    verified port unchecked. Offsets are checked, never wrapped by a mask: a header read
 *    anywhere but where it is would let option bytes pose as the UDP port. Any other next
 *    header (ESP, AH, TCP...) passes untouched: IPsec-protected traffic is the kernel's to
 *    authenticate.
 *  - What the decision reads goes into a per-CPU scratch buffer, read at masked offsets the
 *    verifier can bound: the payload's trailer always; the first GK_FP_HEAD bytes when the
 *    classifier runs, and the rest of its prefix only when the head does not decide
 *    (gk_fp_head_decides). Copies use 8-byte loads from the packet (copy_trailer, load_short);
 *    bpf_xdp_load_bytes, some 20 ns a call, only for what lies outside the linear part of a
 *    multi-buffer frame. A tag is hashed straight from the packet (tag_from_packet), copied
 *    first only for a multi-buffer frame.
 *  - The per-source buckets live in an LRU hash, which cannot hold a spin lock; they are updated
 *    under the global bucket's lock, which every registration-class datagram takes anyway.
 *
 * Verification cost: the program is a short main function, four global subprograms (gk_parse,
 * gk_tag, gk_classify, gk_fp_dfa_step_sub) and two bpf_loop callbacks. The verifier checks a
 * global subprogram once, for any caller state, and the caller sees only its return value and
 * the scratch map value it wrote, whose contents the verifier does not track. So the parser's
 * paths (VLAN tags, IPv4/IPv6, extension headers), the classifier's automata and the MAC's loop
 * add up instead of multiplying. When they were all inlined into one function, the verifier
 * walked the MAC loop once for every path that reached it: 1,000,001 processed instructions, past
 * the kernel's limit, refused on Linux 6.18 with clang-14 and clang-19 alike. Split, it processes
 * about 33,000 (clang-14) and 36,000 (clang-19), under a fifth of the 200,000 budget that
 * tests/unit/test_verifier.c enforces, in about 10 ms instead of 1.3 s. The alternatives, and
 * why not: bpf_loop() for the MAC would verify one step but costs a call per step at run time
 * (some 45 per 1400-byte datagram, against a 1 us budget), so it serves the rare multi-buffer
 * copy only; tail calls through a PROG_ARRAY would split the same way, at the price of a map to
 * fill from userspace, a program per stage, and state passed through maps all the same. A
 * BPF-to-BPF call costs a few ns; measured against the last program that loaded (efc564c), the
 * stranger's drop and the gk-mac verification at 600 and 1400 B are faster, and 200 B level
 * (README, "The fast path"). Bounds are stated again where the verifier needs them, behind
 * barrier_var(): clang drops a mask or a check it can prove from the caller's, and clang-19 does,
 * which leaves the verifier without the bound.
 */
/* vmlinux.h has a typedef named config; the map keeps that name. */
#define config gk_vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gatekey/fastpath/fastpath.h"

#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define IPPROTO_UDP_  17
#define GK_V6_EXT_MAX 4
#define GK_L4_MAX     0x7ff /* furthest UDP header (and extension header) offset read */

char LICENSE[] SEC("license") = "GPL";

/* Where the UDP datagram is, as found by gk_parse(). */
struct gk_pkt {
	__u32 l3;   /* offset of the IP header */
	__u32 l4;   /* offset of the UDP header, at most GK_L4_MAX */
	__u32 frag; /* first fragment (or atomic IPv6 fragment) */
	__u32 v6;
	struct gk_fp_source src;
};

/* Per-CPU working memory. What the subprograms hand back lives here, in a map value, whose
 * contents the verifier does not track: the main program goes on with one state whatever path a
 * subprogram took. */
struct gk_scratch {
	__u8 data[GK_FP_BUF];
	__u8 slack[2 * GK_FP_SCAN]; /* a masked offset plus a masked length (load_short) */
	__u8 tag[16];               /* 8-aligned: gk_st64le stores whole words */
	struct gk_fp_dfa dfa;
	struct gk_pkt pkt;
};

/* A terminal's uplink key, as a subprogram argument: the verifier sizes a pointer argument by
 * its type. */
struct gk_key {
	__u8 b[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gk_fp_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/*
 * The maps' sizes. Those that grow with the terminals are set by the loader from sbcd's
 * registrar.max_terminals (gk_fp_sizes_of in fastpath.h, lib/fastpath/xdp.c); what is written
 * here is what a load without that step gets (the verifier's statistics). Nothing below depends
 * on them: an array lookup is bounded by the map's size at load time, and a source_hint slot is
 * gk_hint_bits wide, a constant the loader writes before the load (.rodata, frozen, so the verifier
 * knows its value).
 */
const volatile __u32 gk_hint_bits = GK_FP_HINT_BITS_MIN;

/* Indexed by terminal index (1..the number of terminals): an array, whose lookup the JIT inlines,
 * where a hash table would cost a function call and a hash on every protected datagram. An entry
 * with mech GK_FP_MECH_NONE is a free index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GK_FP_TERMINALS_MIN + 1);
	__type(key, __u32);
	__type(value, struct gk_fp_terminal);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} terminals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GK_FP_TERMINALS_MIN);
	__type(key, struct gk_fp_source);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sources SEC(".maps");

/* See gk_fp_source_hint(): sbcd keeps each slot's count of "sources" keys. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << GK_FP_HINT_BITS_MIN);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} source_hint SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GK_FP_TERMINALS_MIN);
	__type(key, struct gk_fp_host);
	__type(value, struct gk_fp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} src_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gk_fp_global);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} global_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GK_FP_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* sbcd's bindings, so that a restarted sbcd takes its terminals back (never read here). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GK_FP_TERMINALS_MIN);
	__type(key, __u32);
	__type(value, struct gk_fp_session);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gk_scratch);
} scratch SEC(".maps");

static __always_inline int count(__u32 stat, int action)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &stat);

	if (n)
		*n += 1;
	return action;
}

/*
 * Copies the n <= GK_FP_SCAN payload bytes at frame offset off to dst: 8-byte loads straight from
 * the packet while they lie in its linear part (bpf_xdp_load_bytes costs some 20 ns per call
 * whatever the length, more than the whole drop of a stranger's datagram should), the helper for
 * what lies beyond (multi-buffer frames). Whole words may copy a few bytes past n; dst has room.
 */
static __always_inline int load_short(struct xdp_md *ctx, void *data, void *end, __u32 off,
                                      __u8 *dst, __u32 n)
{
	__u8 *src = data + (off & 0xfff);
	__u32 i, len;

	for (i = 0; i < GK_FP_SCAN; i += 8) {
		if (i >= n)
			return 0;
		if ((void *)(src + i + 8) > end)
			break;
		*(__u64 *)(dst + i) = *(__u64 *)(src + i);
	}
	if (i >= n)
		return 0;
	/* 1 <= len <= GK_FP_SCAN, stated again for the verifier, which cannot follow n - i in
	 * every compiler's code; the barrier keeps clang from dropping the check as redundant. */
	len = n - i;
	barrier_var(len);
	if (len == 0 || len > GK_FP_SCAN)
		return -1;
	return bpf_xdp_load_bytes(ctx, off + i, dst + (i & (GK_FP_SCAN - 1)), len);
}

/*
 * The tag of a framed payload, hashed straight from the packet: copying 1400 bytes out first
 * (bpf_xdp_load_bytes) costs about 100 ns, a tenth of the whole verification. -1 when the payload
 * is not all in the linear part of the frame (multi-buffer): the caller then copies it.
 */
static __always_inline int tag_from_packet(const __u8 key[16], void *data, void *end, __u32 off,
                                           __u32 plen, __u8 out[16])
{
	const __u8 *p = data + (off & 0xfff);
	__u32 len = gk_fp_tagged_len(plen), nw = len / 8, rem = len & 7, turns = nw / 4;
	__u64 last = (__u64)len << 56;
	struct gk_siphash st;

	/* The loop's bound, stated where the verifier sees it: clang may otherwise derive it from
	 * the caller's checks and drop it (clang-19 does), leaving the verifier to walk the loop
	 * until the packet's largest possible size. */
	barrier_var(turns);
	if (turns > GK_FP_BUF / 32)
		return -1;
	gk_siphash_init(&st, key);
	/* Four words a turn: the loop's own bookkeeping spills registers (BPF has ten). The end
	 * pointers go through barrier_var(): else clang compares against end + 1, which the
	 * verifier refuses. */
	for (__u32 i = 0; i < turns; i++) {
		const __u8 *w = p + i * 32, *w_end = w + 32;

		barrier_var(w_end);
		if ((void *)w_end > end)
			return -1;
		gk_siphash_word(&st, gk_ld64le(w));
		gk_siphash_word(&st, gk_ld64le(w + 8));
		gk_siphash_word(&st, gk_ld64le(w + 16));
		gk_siphash_word(&st, gk_ld64le(w + 24));
	}
	/* Up to three words more. The 16-byte tag follows whatever is left, so 16 bytes are
	 * always there to read, and 24 when three words are left. */
	const __u8 *w = p + (nw & (GK_FP_BUF / 8 - 4)) * 8, *w_end = w + 16;

	barrier_var(w_end);
	if ((void *)w_end > end)
		return -1;
	if (nw & 3)
		gk_siphash_word(&st, gk_ld64le(w));
	if ((nw & 3) >= 2)
		gk_siphash_word(&st, gk_ld64le(w + 8));
	if ((nw & 3) == 3) {
		w_end = w + 24;
		barrier_var(w_end);
		if ((void *)w_end > end)
			return -1;
		gk_siphash_word(&st, gk_ld64le(w + 16));
	}
	/* The last 0..7 bytes: a whole word is there to read, since the tag follows them. */
	p += (nw & (GK_FP_BUF / 8 - 1)) * 8;
	const __u8 *p_end = p + 8;
	barrier_var(p_end);
	if ((void *)p_end > end)
		return -1;
	last |= gk_ld64le(p) & ((1ull << (8 * rem)) - 1);
	gk_siphash_final128(&st, last, out);
	return 0;
}

/* The GK_TRAILER_LEN bytes at frame offset off (the trailer position) to s->data[at]: four loads
 * when they lie in the linear part of the frame, the helper otherwise. Inline, and no loop: every
 * signalling datagram pays for it. */
static __always_inline int copy_trailer(struct xdp_md *ctx, __u32 off, struct gk_scratch *s,
                                        __u32 at)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	const __u8 *src = data + (off & 0xfff);
	__u8 *dst;

	/* The mask is for the verifier; the caller's checks let clang prove it redundant and drop
	 * it, unless at is hidden from it first. */
	barrier_var(at);
	dst = &s->data[at & (GK_FP_BUF - 1)];
	if ((void *)(src + GK_TRAILER_LEN) <= end) {
		*(__u64 *)dst = *(const __u64 *)src;
		*(__u64 *)(dst + 8) = *(const __u64 *)(src + 8);
		*(__u64 *)(dst + 16) = *(const __u64 *)(src + 16);
		*(__u64 *)(dst + 24) = *(const __u64 *)(src + 24);
		return 0;
	}
	return bpf_xdp_load_bytes(ctx, off, dst, GK_TRAILER_LEN);
}

/* The multi-buffer case of the tag: the payload was copied into the scratch buffer first. One
 * word per bpf_loop() step, so that this rare path costs the verifier one step, not a loop. */
struct gk_sip_walk {
	struct gk_siphash st;
	const __u8 *buf;
};

static long sip_word_cb(__u64 i, void *ctx)
{
	struct gk_sip_walk *w = ctx;

	gk_siphash_word(&w->st, gk_ld64le(w->buf + GK_FP_AT8((__u32)i * 8)));
	return 0;
}

static __always_inline void tag_from_scratch(const __u8 key[16], struct gk_scratch *s, __u32 plen)
{
	__u32 len = gk_fp_tagged_len(plen), nw = len / 8, rem = len & 7, at;
	struct gk_sip_walk w = {.buf = s->data};
	__u64 last;

	gk_siphash_init(&w.st, key);
	bpf_loop(nw, sip_word_cb, &w, 0);
	/* The last 0..7 bytes: the tag follows them, so a whole word is there to read. */
	at = nw * 8;
	barrier_var(at); /* keeps GK_FP_AT8's mask, which clang could prove redundant */
	last = gk_ld64le(&s->data[GK_FP_AT8(at)]) & ((1ull << (8 * rem)) - 1);
	gk_siphash_final128(&w.st, last | (__u64)len << 56, s->tag);
}

/* Results of gk_parse() besides "this is a UDP datagram at p->l4". */
enum { GK_PARSE_UDP, GK_PARSE_OTHER, GK_PARSE_LATER_FRAG, GK_PARSE_BAD };

static __always_inline int parse_v4(void *data, void *end, __u32 off, struct gk_pkt *p)
{
	struct iphdr *ip = data + off;
	__u32 ihl;

	if ((void *)(ip + 1) > end)
		return GK_PARSE_OTHER;
	if (ip->version != 4 || ip->ihl < 5)
		return GK_PARSE_OTHER;
	if (ip->protocol != IPPROTO_UDP_)
		return GK_PARSE_OTHER;
	if (ip->frag_off & bpf_htons(0x1fff))
		return GK_PARSE_LATER_FRAG;
	p->frag = (ip->frag_off & bpf_htons(0x2000)) != 0;
	ihl = ip->ihl * 4;
	p->l3 = off;
	p->l4 = off + ihl;
	p->src.family = GK_FP_AF_INET;
	__builtin_memcpy(p->src.addr, &ip->saddr, 4);
	return GK_PARSE_UDP;
}

/* The extension headers parse_v6() walks: Hop-by-Hop, Routing, Fragment, Destination Options. */
static __always_inline int v6_walked(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60;
}

static __always_inline int parse_v6(void *data, void *end, __u32 off, struct gk_pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 l4 = off + sizeof(*ip6);
	__u8 nh;

	if ((void *)(ip6 + 1) > end)
		return GK_PARSE_OTHER;
	if (ip6->version != 6)
		return GK_PARSE_OTHER;
	nh = ip6->nexthdr;
	p->l3 = off;
	p->v6 = 1;
	p->src.family = GK_FP_AF_INET6;
	__builtin_memcpy(p->src.addr, &ip6->saddr, 16);
	for (int i = 0; i < GK_V6_EXT_MAX; i++) {
		__u8 *h;

		if (nh != IPPROTO_UDP_ && !v6_walked(nh))
			return GK_PARSE_OTHER;
		if (l4 > GK_L4_MAX)
			return GK_PARSE_BAD;
		if (nh == IPPROTO_UDP_) {
			p->l4 = l4;
			return GK_PARSE_UDP;
		}
		/* The mask changes nothing (l4 was checked); it bounds h for the verifier. */
		h = data + (l4 & GK_L4_MAX);
		if ((void *)(h + 8) > end)
			return GK_PARSE_BAD;
		if (nh == 44) {
			/* Fragment header: nh, reserved, offset(13) res(2) M(1), id */
			if ((h[2] << 8 | h[3]) & 0xfff8)
				return GK_PARSE_LATER_FRAG;
			p->frag = 1;
			nh = h[0];
			l4 += 8;
		} else {
			nh = h[0];
			l4 += (h[1] + 1) * 8;
		}
	}
	if (nh != IPPROTO_UDP_ && !v6_walked(nh))
		return GK_PARSE_OTHER;
	if (nh != IPPROTO_UDP_ || l4 > GK_L4_MAX)
		return GK_PARSE_BAD;
	p->l4 = l4;
	return GK_PARSE_UDP;
}

static __always_inline int parse(void *data, void *end, struct gk_pkt *p)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return GK_PARSE_OTHER;
	proto = eth->h_proto;
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return GK_PARSE_OTHER;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_v4(data, end, off, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_v6(data, end, off, p);
	return GK_PARSE_OTHER;
}

/*
 * The subprograms. Each is a global function, which the verifier checks once, on its own, for
 * any caller state, and whose results reach the caller as unknown values (its return value, and
 * what it wrote to the scratch map value). The cost of verifying the program is then the sum of
 * its parts, not their product: the parser's paths (VLAN tags, IPv4 or IPv6, extension headers)
 * no longer multiply the classifier's and the MAC's loops. A pointer argument may be NULL as far
 * as the verifier knows, so each checks.
 */

/* One step of the registration classifiers' automata (see gk_fp_dfa_step in fastpath.h). */
__noinline int gk_fp_dfa_step_sub(struct gk_fp_dfa *d, int c)
{
	if (!d)
		return GK_FP_REJECT;
	return gk_fp_dfa_step(d, c);
}

/* Finds the UDP datagram of the frame: GK_PARSE_*, with *p filled for GK_PARSE_UDP. */
__noinline int gk_parse(struct xdp_md *ctx, struct gk_pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (!p)
		return GK_PARSE_BAD;
	__builtin_memset(p, 0, sizeof(*p));
	return parse(data, end, p);
}

/* The tag of the plen-byte framed payload at frame offset off into s->tag: hashed in place, or,
 * for a multi-buffer frame, copied into s->data first. 0, or -1 on an internal error. */
__noinline int gk_tag(struct xdp_md *ctx, __u32 off, __u32 plen, const struct gk_key *key,
                      struct gk_scratch *s)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 n;

	if (!key || !s || plen < GK_TRAILER_LEN || plen > GK_FP_MAX_PAYLOAD)
		return -1;
	if (tag_from_packet(key->b, data, end, off, plen, s->tag) == 0)
		return 0;
	/* plen again, checked where the helper takes it: clang spills it in 32 bits, which the
	 * verifier reads back without its bounds. */
	n = plen;
	barrier_var(n);
	if (n < GK_TRAILER_LEN || n > GK_FP_MAX_PAYLOAD)
		return -1;
	if (bpf_xdp_load_bytes(ctx, off, s->data, n))
		return -1;
	tag_from_scratch(key->b, s, plen);
	return 0;
}

/* gk_fp_is_registration() on the plen-byte payload at frame offset off, for a port of proto: 1
 * or 0, -1 on an internal error. Copies the payload's head, and the rest of the classifier's
 * prefix only when the head does not decide (most strangers are refused on their first byte). */
__noinline int gk_classify(struct xdp_md *ctx, __u32 off, __u32 plen, __u32 proto,
                           struct gk_scratch *s)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 n = plen < GK_FP_HEAD ? plen : GK_FP_HEAD;

	if (!s || plen > GK_FP_MAX_PAYLOAD)
		return -1;
	if (load_short(ctx, data, end, off, s->data, n))
		return -1;
	if (!gk_fp_head_decides(proto, s->data, plen, &s->dfa)) {
		n = plen < GK_FP_SCAN ? plen : GK_FP_SCAN;
		if (load_short(ctx, data, end, off, s->data, n))
			return -1;
	}
	return gk_fp_is_registration(proto, s->data, plen, &s->dfa);
}

/* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'), 16-bit words as they lie in memory. */
static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u16 csum_replace(__u16 hc, __u16 old, __u16 new)
{
	return ~csum_fold((__u32)(__u16)~hc + (__u16)~old + new);
}

/* Removing bytes whose one's complement sum (at their alignment) is sum. */
static __always_inline __u16 csum_remove(__u16 hc, __u16 sum)
{
	return ~csum_fold((__u32)(__u16)~hc + (__u16)~sum);
}

/* Sum of the GK_TRAILER_STRIP bytes (sequence and tag) at s->data[off..], as 16-bit words at
 * their place in the UDP datagram (the payload starts at an even offset, so an odd off puts them
 * at odd places). */
static __always_inline __u16 trailer_sum(const struct gk_scratch *s, __u32 plen)
{
	const __u8 *t;
	__u32 sum = 0;
	__u16 w;

	barrier_var(plen); /* keeps the mask, which clang could prove redundant */
	t = &s->data[plen & (GK_FP_BUF - 1)];
	for (int i = 0; i < GK_TRAILER_STRIP; i += 2) {
		__builtin_memcpy(&w, t + i, 2);
		sum += w;
	}
	w = csum_fold(sum);
	return plen & 1 ? (__u16)(w << 8 | w >> 8) : w;
}

/* PASS_GKMAC: strip sequence and tag (the verified tail stays, see trailer.h), deliver to the
 * verified port, fix lengths and checksums. */
static __always_inline int deliver_verified(struct xdp_md *ctx, struct gk_pkt *p,
                                            const struct gk_scratch *s, __u32 plen, __u16 vport)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u16 tsum = trailer_sum(s, plen - GK_TRAILER_STRIP);
	struct udphdr *udp;
	__u16 oldlen, newlen, nport = bpf_htons(vport);
	int delta;

	udp = data + (p->l4 & GK_L4_MAX);
	if ((void *)(udp + 1) > end)
		return -1;
	oldlen = udp->len;
	newlen = bpf_htons(bpf_ntohs(oldlen) - GK_TRAILER_STRIP);
	if (udp->check || p->v6) {
		__u16 c = udp->check;

		c = csum_replace(c, udp->dest, nport);
		c = csum_replace(c, oldlen, newlen); /* UDP header */
		c = csum_replace(c, oldlen, newlen); /* pseudo header */
		c = csum_remove(c, tsum);
		udp->check = c ? c : 0xffff;
	}
	udp->dest = nport;
	udp->len = newlen;
	if (p->v6) {
		struct ipv6hdr *ip6 = data + (p->l3 & 0xff);

		if ((void *)(ip6 + 1) > end)
			return -1;
		ip6->payload_len = bpf_htons(bpf_ntohs(ip6->payload_len) - GK_TRAILER_STRIP);
	} else {
		struct iphdr *ip = data + (p->l3 & 0xff);
		__u16 tot;

		if ((void *)(ip + 1) > end)
			return -1;
		tot = bpf_htons(bpf_ntohs(ip->tot_len) - GK_TRAILER_STRIP);
		ip->check = csum_replace(ip->check, ip->tot_len, tot);
		ip->tot_len = tot;
	}
	/* Also drops any Ethernet padding after the IP packet. */
	delta = (int)(p->l4 + 8 + plen - GK_TRAILER_STRIP) - (int)bpf_xdp_get_buff_len(ctx);
	return bpf_xdp_adjust_tail(ctx, delta);
}

SEC("xdp")
int gk_xdp(struct xdp_md *ctx)
{
	void *data, *end;
	struct gk_fp_port slot = {};
	struct gk_fp_frame fr;
	struct gk_fp_verdict v;
	struct gk_fp_config *cfg;
	struct gk_fp_terminal *t = NULL;
	struct gk_scratch *s;
	struct gk_pkt *p;
	struct udphdr *udp;
	const __u8 *tag = NULL;
	__u32 zero = 0, plen, off, *idx = NULL, frame = bpf_xdp_get_buff_len(ctx);
	int r, cls, registration = 0;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return count(GK_FP_DROP_INTERNAL, XDP_DROP);
	p = &s->pkt;
	r = gk_parse(ctx, p);
	if (r == GK_PARSE_OTHER)
		return count(GK_FP_PASS_OTHER_TRAFFIC, XDP_PASS);
	if (r == GK_PARSE_LATER_FRAG)
		return count(GK_FP_PASS_FRAGMENT, XDP_PASS);
	if (r != GK_PARSE_UDP)
		return count(GK_FP_DROP_MALFORMED, XDP_DROP);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return count(GK_FP_DROP_INTERNAL, XDP_DROP);
	/* Packet pointers are taken after the call: a subprogram's caller must not trust its own.
	 */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	udp = data + (p->l4 & GK_L4_MAX);
	if ((void *)(udp + 1) > end)
		return count(p->frag ? GK_FP_DROP_MALFORMED : GK_FP_PASS_OTHER_TRAFFIC,
		             p->frag ? XDP_DROP : XDP_PASS);
	cls = gk_fp_port_class(cfg, bpf_ntohs(udp->dest), &slot);
	if (cls == GK_FP_PORT_OTHER)
		return count(GK_FP_PASS_OTHER_TRAFFIC, XDP_PASS);
	if (cls == GK_FP_PORT_VERIFIED)
		return count(GK_FP_DROP_SPOOFED_VERIFIED, XDP_DROP);
	if (p->frag)
		return count(GK_FP_DROP_FRAGMENT, XDP_DROP);

	/* The UDP length must be exactly what the IP header leaves for it. */
	plen = bpf_ntohs(udp->len);
	if (p->v6) {
		struct ipv6hdr *ip6 = data + (p->l3 & 0xff);

		if ((void *)(ip6 + 1) > end ||
		    bpf_ntohs(ip6->payload_len) != p->l4 - p->l3 - sizeof(*ip6) + plen)
			return count(GK_FP_DROP_MALFORMED, XDP_DROP);
	} else {
		struct iphdr *ip = data + (p->l3 & 0xff);

		if ((void *)(ip + 1) > end || bpf_ntohs(ip->tot_len) != p->l4 - p->l3 + plen)
			return count(GK_FP_DROP_MALFORMED, XDP_DROP);
	}
	if (plen < 8 || p->l4 + plen > frame || plen - 8 > GK_FP_MAX_PAYLOAD)
		return count(GK_FP_DROP_MALFORMED, XDP_DROP);
	plen -= 8;
	off = p->l4 + 8;
	p->src.port = bpf_ntohs(udp->source);

	/* The trailer position first: it names the terminal, if any. */
	if (plen >= GK_TRAILER_LEN &&
	    copy_trailer(ctx, off + plen - GK_TRAILER_LEN, s, plen - GK_TRAILER_LEN))
		return count(GK_FP_DROP_INTERNAL, XDP_DROP);
	gk_fp_frame_parse(s->data, plen, &fr);
	if (fr.framed) {
		t = bpf_map_lookup_elem(&terminals, &fr.index);
	} else {
		__u32 slot_no = gk_fp_source_hint(&p->src, gk_hint_bits), *hint;

		hint = bpf_map_lookup_elem(&source_hint, &slot_no);
		idx = hint && *hint ? bpf_map_lookup_elem(&sources, &p->src) : NULL;
		if (idx)
			t = bpf_map_lookup_elem(&terminals, idx);
	}
	if (t && t->mech == GK_FP_MECH_NONE)
		t = NULL;

	/* What the decision needs computed, and nothing more: a real index from a forger's
	 * address is refused before any hash is spent on it. */
	if (gk_fp_hashes_tag(&slot, &p->src, t, &fr)) {
		if (!t || gk_tag(ctx, off, plen, (const struct gk_key *)t->key, s))
			return count(GK_FP_DROP_INTERNAL, XDP_DROP);
		tag = s->tag;
	} else if (gk_fp_needs_classifier(t, &fr)) {
		registration = gk_classify(ctx, off, plen, slot.proto, s);
		if (registration < 0)
			return count(GK_FP_DROP_INTERNAL, XDP_DROP);
	}

	gk_fp_inspect(&slot, &p->src, t, s->data, plen, &fr, tag, registration, &v);
	if (v.step == GK_FP_STEP_COMMIT && t) {
		__u64 now = bpf_ktime_get_ns();

		bpf_spin_lock(&t->lock);
		gk_fp_commit(cfg, t, now, &v);
		bpf_spin_unlock(&t->lock);
	}
	if (v.step == GK_FP_STEP_ADMIT && cfg->shed)
		gk_fp_shed(cfg, bpf_get_prandom_u32(), &v);
	if (v.step == GK_FP_STEP_ADMIT) { /* registered addresses come here too (v.lane) */
		struct gk_fp_bucket *hb, fresh = {};
		struct gk_fp_global *g = bpf_map_lookup_elem(&global_bucket, &zero);
		struct gk_fp_host host;
		__u64 now = bpf_ktime_get_ns();

		gk_fp_host_of(&p->src, &host);
		hb = bpf_map_lookup_elem(&src_buckets, &host);
		if (!hb) {
			bpf_map_update_elem(&src_buckets, &host, &fresh, BPF_NOEXIST);
			hb = bpf_map_lookup_elem(&src_buckets, &host);
		}
		if (!hb || !g)
			return count(GK_FP_DROP_INTERNAL, XDP_DROP);
		bpf_spin_lock(&g->lock);
		gk_fp_admit(cfg, hb, &g->bucket, now, &v);
		bpf_spin_unlock(&g->lock);
	}

	switch (v.stat) {
	case GK_FP_PASS_GKMAC:
		if (deliver_verified(ctx, p, s, plen, v.dport))
			return count(GK_FP_DROP_INTERNAL, XDP_DROP);
		return count(v.stat, XDP_PASS);
	case GK_FP_PASS_REGISTRATION:
	case GK_FP_PASS_DIGEST:
		return count(v.stat, XDP_PASS);
	default:
		return count(v.stat, XDP_DROP);
	}
}

/* Never attached: gkxdpbench runs it under BPF_PROG_TEST_RUN for what the test harness costs
 * around any program, the baseline of the fast-path figures. */
SEC("xdp")
int gk_xdp_baseline(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}
