/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fast-path decision (DESIGN §6), written once and compiled twice: into the XDP program
 * (bpf/gatekey.bpf.c, with vmlinux.h) and into userspace (sbcd's fallback, pktmac.c, the tests).
 * Why one header: the kernel and the fallback must give the same verdict on the same datagram,
 * and the only way to keep two verifiers from drifting is to have one.
 *
 * Why it looks the way it does:
 *  - Freestanding: fixed-width kernel types, no libc, everything static inline and
 *    always-inlined, so the BPF verifier sees map-value pointers rather than opaque arguments.
 *  - Every read of the datagram goes through GK_FP_AT(), which in BPF masks the offset into the
 *    per-CPU scratch buffer (so the verifier can prove bounds) and in userspace is the identity.
 *    Loops have constant bounds in BPF (GK_FP_BOUND) and none in userspace.
 *  - The text classifiers are byte-at-a-time automata run by bpf_loop() in BPF: scanning tokens
 *    of variable length with ordinary loops makes the verifier track every possible position
 *    as a separate path, and the paths multiply from one token to the next (it hit the 1M
 *    instruction limit); one automaton step is verified once.
 *  - The decision is split in three pure steps so that the XDP program can do the lookups and
 *    take the locks in between: gk_fp_inspect() (read-only), gk_fp_commit()
 *    (replay window or per-terminal bucket, under the terminal's spin lock), gk_fp_admit()
 *    (per-source then global bucket, for registration-class messages). gk_fp_decide() runs the
 *    three in that order for userspace, which has no locks to take.
 *  - A datagram whose trailer names no gk-mac terminal, but which is registration-class, is
 *    treated as untrusted registration (rate-limited, normal port) rather than dropped: a binary
 *    RAS message ends in "GK\x01" at the trailer position once in 2^24, and that terminal could
 *    never register otherwise. It gains an attacker nothing: the same message without the bytes
 *    takes the same path.
 *  - A gk-mac terminal's registration-class requests without a trailer pass the same way, so a
 *    terminal that lost its key can register again.
 *
 * Security note: SipHash-2-4 with 128-bit output is far less analysed than the 64-bit original;
 * its claim rests on the designers' note, not on published analysis.
 */
#ifndef GATEKEY_FASTPATH_H
#define GATEKEY_FASTPATH_H

#ifdef __bpf__
/* vmlinux.h (included by the BPF program first) provides the __u* types and bpf_spin_lock. */
#define GK_FP_INLINE   static __always_inline
#define GK_FP_AT(off)  ((off) & (GK_FP_BUF - 1))
#define GK_FP_AT8(off) ((off) & (GK_FP_BUF - 8))
#define GK_FP_BOUND(n) (n)
#else
#include <linux/bpf.h>
#include <linux/types.h>
#define GK_FP_INLINE   static inline __attribute__((always_inline))
#define GK_FP_AT(off)  (off)
#define GK_FP_AT8(off) (off)
#define GK_FP_BOUND(n) 0xffffffffu
#endif

#include "gatekey/crypto/siphash.h"
#include "gatekey/fastpath/trailer.h"

#ifdef __clang__
#define GK_FP_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GK_FP_UNROLL _Pragma("GCC unroll 16")
#endif

/* Scratch buffer size: datagrams longer than GK_FP_MAX_PAYLOAD on a signalling port are dropped
 * (they would be IP fragments on an ordinary MTU, see the fragment policy in the BPF program). */
#define GK_FP_BUF         2048
#define GK_FP_MAX_PAYLOAD (GK_FP_BUF - 1)
#define GK_FP_SCAN        256 /* registration classifiers look at this prefix only */
#define GK_FP_HEAD        16  /* what XDP copies first; most strangers are refused on it */
#define GK_FP_NPORTS      8
#define GK_FP_NS          1000000000ull
#define GK_FP_AF_INET     2
#define GK_FP_AF_INET6    10

/*
 * Table sizes. How many terminals the fast path holds is sbcd's registrar.max_terminals, set at
 * load time (bpf_map__set_max_entries before the skeleton loads, lib/fastpath/xdp.c), the same
 * in XDP and in userspace: gk_fp_sizes_of(). The program's map definitions carry the sizes of
 * GK_FP_TERMINALS_MIN terminals, which only a program loaded without that step (the verifier's
 * statistics) keeps. Nothing in the program depends on them: array lookups are bounded by the
 * map's own size, and a source_hint slot takes its width from the loader (gk_hint_bits).
 */
#define GK_FP_TERMINALS_MIN (1u << 16) /* the least the tables hold, and sbcd's default */
#define GK_FP_TERMINALS_MAX (1u << 20) /* the most registrar.max_terminals may ask in sbcd */
#define GK_FP_HINT_BITS_MIN 18         /* source_hint: 2^18 slots at the least */

enum gk_fp_proto {
	GK_FP_PROTO_NONE = 0,
	GK_FP_PROTO_SIP = 1,
	GK_FP_PROTO_MGCP = 2,
	GK_FP_PROTO_H248 = 3,
	GK_FP_PROTO_RAS = 4,
};

enum gk_fp_mech {
	GK_FP_MECH_NONE = 0,
	GK_FP_MECH_GKMAC = 1,
	GK_FP_MECH_DIGEST = 2,
};

/*
 * One counter per decision. The third column is the enum gk_reason it maps to (OK for passes,
 * NONE where gatekey has no reason of that meaning); see gk_fp_stat_reason().
 */
#define GK_FP_STATS(X)                                                                             \
	X(PASS_OTHER_TRAFFIC, "pass: not addressed to a signalling port", OK)                      \
	X(PASS_FRAGMENT, "pass: non-first IP fragment", OK)                                        \
	X(PASS_REGISTRATION, "pass: registration-class message (rate-limited)", OK)                \
	X(PASS_GKMAC, "pass: gk-mac verified, trailer stripped, to the verified port", OK)         \
	X(PASS_DIGEST, "pass: digest terminal from its registered address", OK)                    \
	X(DROP_NOT_REGISTRATION, "drop: unknown source, not a registration", NOT_REGISTERED)       \
	X(DROP_RATE_SOURCE, "drop: per-source rate limit", NONE)                                   \
	X(DROP_RATE_GLOBAL, "drop: global registration rate limit", NONE)                          \
	X(DROP_RATE_TERMINAL, "drop: per-terminal rate limit", NONE)                               \
	X(DROP_BAD_TRAILER, "drop: gk-mac terminal sent no valid trailer", BAD_TRAILER)            \
	X(DROP_BAD_TAG, "drop: gk-mac tag does not verify", BAD_TAG)                               \
	X(DROP_REPLAY, "drop: gk-mac sequence replayed", REPLAY_SEQ)                               \
	X(DROP_OLD_SEQ, "drop: gk-mac sequence behind the window", OLD_SEQ)                        \
	X(DROP_UNKNOWN_INDEX, "drop: trailer names no gk-mac terminal", UNKNOWN_INDEX)             \
	X(DROP_WRONG_SOURCE, "drop: not from the terminal's registered address", WRONG_SOURCE)     \
	X(DROP_SPOOFED_VERIFIED, "drop: arrived addressed to a verified port", NONE)               \
	X(DROP_FRAGMENT, "drop: first fragment of a signalling datagram", NONE)                    \
	X(DROP_MALFORMED, "drop: malformed or oversized signalling datagram", PARSE_SYNTAX)        \
	X(DROP_INTERNAL, "drop: internal error (map full, helper failed)", INTERNAL)               \
	X(DROP_SHED, "drop: new registration shed while sbcd's queues are deep", OVERLOAD)

/* clang-format off */
enum gk_fp_stat {
#define GK_FP_STAT_ENUM(n, s, r) GK_FP_##n,
	GK_FP_STATS(GK_FP_STAT_ENUM)
#undef GK_FP_STAT_ENUM
	GK_FP_STAT__COUNT
};
/* clang-format on */

/* Entries of the "stats" map: room to add counters (at the end, as they are ABI for a pinned
 * map) without changing its size, which would refuse the pins an earlier sbcd left. */
#define GK_FP_STAT_SLOTS 32
_Static_assert(GK_FP_STAT__COUNT <= GK_FP_STAT_SLOTS, "GK_FP_STAT_SLOTS too small");

/* What gk_fp_inspect() leaves to do. */
enum gk_fp_step {
	GK_FP_STEP_DONE = 0,
	GK_FP_STEP_COMMIT = 1, /* gk_fp_commit() under the terminal's lock */
	GK_FP_STEP_ADMIT = 2,  /* gk_fp_admit() with the source's and the global bucket */
};

/* Token bucket; tokens in units of 1e-9 token so refill is exact integer math. last_ns == 0 means
 * "never used": full. */
struct gk_fp_bucket {
	__u64 tokens;
	__u64 last_ns;
};

/* rate tokens per second, burst tokens at most; burst == 0 means unlimited. */
struct gk_fp_rate {
	__u32 rate;
	__u32 burst;
};

struct gk_fp_window {
	__u64 top;    /* highest sequence accepted; 0 = none yet */
	__u64 bitmap; /* bit i: sequence top - i accepted */
};

/* Map "terminals" value, key = __u32 index. Layout is ABI for pinned maps: append only. */
struct gk_fp_terminal {
	struct bpf_spin_lock lock; /* guards win and bucket */
	__u32 index;
	__u8 mech;   /* enum gk_fp_mech */
	__u8 family; /* GK_FP_AF_INET or GK_FP_AF_INET6 */
	__u16 port;  /* registered source port, host order */
	__u32 reserved;
	__u8 addr[16]; /* registered source address, IPv4 in the first 4 bytes */
	__u8 key[16];  /* uplink SipHash key (gk-mac only) */
	struct gk_fp_window win;
	struct gk_fp_bucket bucket; /* all a digest terminal sends; a gk-mac one's unsealed
	                             * registrations */
};

/* Map "sources" key (value: __u32 index). Also the source of a datagram. Zero the padding. */
struct gk_fp_source {
	__u8 family;
	__u8 pad;
	__u16 port; /* host order */
	__u8 addr[16];
};

/* The slot of src in map "source_hint", of 2^bits slots (gk_fp_sizes_of): how many "sources"
 * keys hash there. A datagram whose slot counts 0 comes from no registered address, which an
 * array lookup (inlined by the JIT) says for a fraction of the hash lookup in "sources"; strangers
 * mostly stop there. Multiplicative hashing of the address words, the port and the family; the
 * slot is the hash's top bits, its best mixed. */
GK_FP_INLINE __u32 gk_fp_source_hint(const struct gk_fp_source *src, __u32 bits)
{
	__u32 w[4], h = (__u32)src->family | (__u32)src->port << 16;

	__builtin_memcpy(w, src->addr, sizeof(w));
	GK_FP_UNROLL
	for (int i = 0; i < 4; i++)
		h = (h ^ w[i]) * 0x9e3779b1u;
	return h >> ((32 - bits) & 31);
}

/* Map "src_buckets" key: the sending host (IPv6: its /64, one customer LAN). */
struct gk_fp_host {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

/* One signalling port; port 0 = unused slot. */
struct gk_fp_port {
	__u16 port;     /* host order */
	__u16 verified; /* where XDP delivers gk-mac-verified datagrams of this port */
	__u8 proto;     /* enum gk_fp_proto */
	__u8 pad[3];
};

/* Map "config" value (array, key 0). */
struct gk_fp_config {
	struct gk_fp_port ports[GK_FP_NPORTS];
	struct gk_fp_rate source;   /* per source host, registration-class messages */
	struct gk_fp_rate global;   /* all registration-class messages together */
	struct gk_fp_rate terminal; /* per digest terminal, all its messages */
	/* Of every 1000 registration-class datagrams from strangers, how many to drop now:
	 * sbcd's admission, which follows its queue depth (admission.h); 0 admits all. */
	__u32 shed;
};

/* Map "sessions" value, key = __u32 index: what sbcd needs to take a terminal back after a
 * restart (the XDP program never reads it). Holds keys, like "terminals": root-only kernel
 * memory, never written to disk. Layout is ABI for pinned maps: append only. */
struct gk_fp_session {
	__u32 index;
	__u8 mech; /* enum gk_mech of the binding (not gk_fp_mech) */
	__u8 family;
	__u16 port;
	__u8 addr[16];
	__u8 uplink[16];
	__u8 downlink[16];
	__u64 seq_down;
	__u64 expires_at_s; /* CLOCK_REALTIME */
	char idc[64];
	char fpr[24];
	/* The Rand of the registration that made the binding (names its accounting session),
	 * has_rand 0 for none. */
	__u8 rand[16];
	__u8 has_rand;
	__u8 pad[7];
	/* mech ipsec-3gpp: both ends of the association whose SAs the kernel holds, which a
	 * restarted sbcd adopts: the terminal's, then the element's (struct gk_ipsec_end) */
	__u32 ipsec_spi_c[2], ipsec_spi_s[2];
	__u16 ipsec_port_c[2], ipsec_port_s[2];
};

/* Map "global_bucket" value (array, key 0). */
struct gk_fp_global {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct gk_fp_bucket bucket;
};

/* What the trailer position of a datagram holds (framing only, nothing verified). */
struct gk_fp_frame {
	__u32 framed;
	__u32 index;
	__u64 seq;
};

/* len and dport matter for the passes only. */
struct gk_fp_verdict {
	__u32 stat;  /* enum gk_fp_stat */
	__u32 step;  /* enum gk_fp_step */
	__u32 len;   /* length to deliver (PASS_GKMAC: payload + GK_VERIFIED_TAIL_LEN) */
	__u16 dport; /* port to deliver to: the verified port for PASS_GKMAC, else unchanged */
	__u16 lane;  /* 1: a registration its registered address's own bucket let through */
	__u64 seq;
};

enum gk_fp_port_class {
	GK_FP_PORT_OTHER = 0,
	GK_FP_PORT_SIGNALLING = 1,
	GK_FP_PORT_VERIFIED = 2,
};

/* ---- SipHash-2-4-128 over buf[0..len) (the rounds: crypto/siphash.h) ---- */

/* In BPF, len must be <= GK_FP_MAX_PAYLOAD and buf the scratch buffer (8-aligned). */
GK_FP_INLINE void gk_fp_siphash128(const __u8 key[16], const __u8 *buf, __u32 len, __u8 out[16])
{
	struct gk_siphash s;
	__u32 nw = len / 8, rem = len & 7, i;
	__u64 b = (__u64)len << 56;

	gk_siphash_init(&s, key);
	for (i = 0; i < GK_FP_BOUND(GK_FP_BUF / 8) && i < nw; i++)
		gk_siphash_word(&s, gk_ld64le(buf + GK_FP_AT8(i * 8)));
	for (i = 0; i < 7 && i < rem; i++)
		b |= (__u64)buf[GK_FP_AT(nw * 8 + i)] << (8 * i);
	gk_siphash_final128(&s, b, out);
}

/* Constant time: 1 if equal. */
GK_FP_INLINE int gk_fp_tag_equal(const __u8 *a, const __u8 *b)
{
	__u8 d = 0;

	for (int i = 0; i < 16; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* ---- trailer framing and replay window ---- */

GK_FP_INLINE void gk_fp_frame_parse(const __u8 *buf, __u32 len, struct gk_fp_frame *f)
{
	__u32 t = len - GK_TRAILER_LEN, i;

	f->framed = 0;
	f->index = 0;
	f->seq = 0;
	if (len < GK_TRAILER_LEN || len > GK_FP_MAX_PAYLOAD)
		return;
	if (buf[GK_FP_AT(t)] != GK_TRAILER_MAGIC0 || buf[GK_FP_AT(t + 1)] != GK_TRAILER_MAGIC1 ||
	    buf[GK_FP_AT(t + 2)] != GK_TRAILER_VERSION)
		return;
	for (i = 0; i < 4; i++)
		f->index = f->index << 8 | buf[GK_FP_AT(t + 4 + i)];
	for (i = 0; i < 8; i++)
		f->seq = f->seq << 8 | buf[GK_FP_AT(t + 8 + i)];
	f->framed = 1;
}

/* GK_FP_PASS_GKMAC if seq is acceptable, else GK_FP_DROP_REPLAY or GK_FP_DROP_OLD_SEQ.
 * 0 is "nothing accepted yet" in top, so it is never a valid sequence number. */
GK_FP_INLINE __u32 gk_fp_window_check(const struct gk_fp_window *w, __u64 seq)
{
	__u64 behind;

	if (seq == 0)
		return GK_FP_DROP_OLD_SEQ;
	if (seq > w->top)
		return GK_FP_PASS_GKMAC;
	behind = w->top - seq;
	if (behind >= GK_REPLAY_WINDOW)
		return GK_FP_DROP_OLD_SEQ;
	if (w->bitmap & (1ull << behind))
		return GK_FP_DROP_REPLAY;
	return GK_FP_PASS_GKMAC;
}

/* For a seq gk_fp_window_check() accepted; anything else leaves the window alone. */
GK_FP_INLINE void gk_fp_window_update(struct gk_fp_window *w, __u64 seq)
{
	if (seq == 0)
		return;
	if (seq > w->top) {
		__u64 shift = seq - w->top;
		w->bitmap = shift >= GK_REPLAY_WINDOW ? 0 : w->bitmap << shift;
		w->bitmap |= 1;
		w->top = seq;
	} else if (w->top - seq < GK_REPLAY_WINDOW) {
		w->bitmap |= 1ull << (w->top - seq);
	}
}

/* ---- token bucket ---- */

/* 1 and one token taken, or 0 (bucket empty, or holding no more than floor tokens, which are
 * kept for others). */
GK_FP_INLINE int gk_fp_bucket_take_above(struct gk_fp_bucket *b, const struct gk_fp_rate *r,
                                         __u64 now, __u32 floor)
{
	__u64 cap, tok, dt;

	if (r->burst == 0)
		return 1;
	cap = (__u64)r->burst * GK_FP_NS;
	if (b->last_ns == 0) {
		tok = cap;
	} else {
		tok = b->tokens > cap ? cap : b->tokens;
		if (now > b->last_ns && r->rate) {
			dt = now - b->last_ns;
			if (dt > (cap - tok) / r->rate)
				tok = cap;
			else
				tok += dt * r->rate;
		}
	}
	if (now > b->last_ns)
		b->last_ns = now;
	if (tok < GK_FP_NS + (__u64)floor * GK_FP_NS) {
		b->tokens = tok;
		return 0;
	}
	b->tokens = tok - GK_FP_NS;
	return 1;
}

GK_FP_INLINE int gk_fp_bucket_take(struct gk_fp_bucket *b, const struct gk_fp_rate *r, __u64 now)
{
	return gk_fp_bucket_take_above(b, r, now, 0);
}

/* ---- registration-class classifiers ----
 *
 * Each text protocol is a byte-at-a-time automaton over the first GK_FP_SCAN bytes, fed by a
 * plain loop in userspace and by bpf_loop() in BPF, so the verifier checks one step once instead
 * of every position of every token. Tokens are compared through a hash (h = 31h + c over lower-
 * case letters): a collision can only make a datagram registration-class, i.e. rate-limited.
 */

#define GK_FP_P4(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)
#define GK_FP_P8(a, b, c, d, e, f, g, h)                                                           \
	((__u64)GK_FP_P4(a, b, c, d) | (__u64)GK_FP_P4(e, f, g, h) << 32)
#define GK_FP_NTH(lit, k) ((int)(((lit) >> (8 * ((k)&7))) & 0xff))

/* H.248 token hashes (tools: h = h * 31 + c, c lower case). */
#define GK_FP_TH_MEGACO         0xbfbfcc5eull
#define GK_FP_TH_AU             0xc34ull
#define GK_FP_TH_AUTHENTICATION 0x8e9f1ef719a7e278ull
#define GK_FP_TH_TRANSACTION    0x15ccb557fa0d2deull
#define GK_FP_TH_T              0x74ull
#define GK_FP_TH_CONTEXT        0x1538b735afull
#define GK_FP_TH_C              0x63ull
#define GK_FP_TH_SERVICECHANGE  0xe05aeb99f763ea5ull
#define GK_FP_TH_SC             0xe50ull
#define GK_FP_TH_NOTIFY         0xc2079749ull
#define GK_FP_TH_N              0x6eull
#define GK_FP_TH_O              0x6full
#define GK_FP_TH_W              0x77ull
#define GK_FP_TH_REPLY          0x67612eaull
#define GK_FP_TH_P              0x70ull
#define GK_FP_TH_PENDING        0x17d7508997ull
#define GK_FP_TH_PN             0xdfeull
#define GK_FP_TH_RESPONSEACK    0xc5357c0a5034c70aull /* TransactionResponseAck */
#define GK_FP_TH_K              0x6bull

/* In BPF this lives in a map value, not on the stack: the verifier does not track map contents,
 * so each bpf_loop() step is verified once for any state instead of once per reachable state. */
struct gk_fp_dfa {
	__u64 h;       /* hash of the current token */
	__u32 proto;   /* enum gk_fp_proto */
	__u32 st;      /* state, per protocol */
	__u32 k;       /* position in a literal, or a count */
	__u32 flag;    /* MGCP: '@' seen, H.248: inside a comment */
	__u32 verdict; /* 1: registration-class */
	__u32 pad;
};

GK_FP_INLINE int gk_fp_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

GK_FP_INLINE int gk_fp_wsp(int c)
{
	return c == ' ' || c == '\t';
}

GK_FP_INLINE int gk_fp_digit(int c)
{
	return c >= '0' && c <= '9';
}

GK_FP_INLINE int gk_fp_alpha(int c)
{
	c = gk_fp_lower(c);
	return c >= 'a' && c <= 'z';
}

/* Visible, not SP: token characters of the protocols' start lines. */
GK_FP_INLINE int gk_fp_vchar(int c)
{
	return c > ' ' && c < 0x7f;
}

/* The step functions return 1 when decided (d->verdict), 0 to continue. */
#define GK_FP_REJECT    1
#define GK_FP_ACCEPT(d) ((d)->verdict = 1, 1)

/*
 * SIP (RFC 3261 §7.1, §25.1): Request-Line = Method SP Request-URI SP SIP-Version CRLF. Method
 * names are case-sensitive, the SIP-Version is not. CR/LF before the start line are skipped
 * (§7.5, RFC 5626 keep-alives), at most 8 of them.
 */
enum { GK_SIP_LEAD, GK_SIP_METHOD, GK_SIP_URI0, GK_SIP_URI, GK_SIP_VER };

GK_FP_INLINE int gk_fp_sip_step(struct gk_fp_dfa *d, int c)
{
	const __u64 reg = GK_FP_P8('R', 'E', 'G', 'I', 'S', 'T', 'E', 'R');
	const __u64 ver = GK_FP_P8('s', 'i', 'p', '/', '2', '.', '0', '\r');

	switch (d->st) {
	case GK_SIP_LEAD:
		if (c == '\r' || c == '\n')
			return ++d->k > 8;
		d->st = GK_SIP_METHOD;
		d->k = 0;
		/* fall through */
	case GK_SIP_METHOD:
		if (d->k < 8 ? c != GK_FP_NTH(reg, d->k) : c != ' ')
			return GK_FP_REJECT;
		if (++d->k == 9)
			d->st = GK_SIP_URI0;
		return 0;
	case GK_SIP_URI0:
	case GK_SIP_URI:
		if (c == ' ' && d->st == GK_SIP_URI) {
			d->st = GK_SIP_VER;
			d->k = 0;
			return 0;
		}
		d->st = GK_SIP_URI;
		return !gk_fp_vchar(c);
	case GK_SIP_VER:
		if (d->k < 8 ? gk_fp_lower(c) != GK_FP_NTH(ver, d->k) : c != '\n')
			return GK_FP_REJECT;
		if (++d->k == 9)
			return GK_FP_ACCEPT(d);
		return 0;
	}
	return GK_FP_REJECT;
}

/*
 * MGCP (RFC 3435 §3.2.1, Appendix A): verb 1*WSP transaction-id 1*WSP endpointName 1*WSP
 * "MGCP" 1*WSP 1*(DIGIT) "." 1*(DIGIT). Verbs are four letters compared case-insensitively,
 * transaction ids 1 to 9 digits, an endpoint name is local-name "@" domain. RSIP and NTFY are
 * registration-class, and so are responses (3DIGIT 1*WSP transaction-id, then WSP or a line end):
 * a gateway acknowledges the call agent's challenge RQNT before it holds a key, and dropping that
 * acknowledgement would leave the call agent retransmitting the challenge.
 */
enum {
	GK_MGCP_VERB,
	GK_MGCP_WS1,
	GK_MGCP_TID,
	GK_MGCP_WS2,
	GK_MGCP_EP,
	GK_MGCP_WS3,
	GK_MGCP_NAME,
	GK_MGCP_WS4,
	GK_MGCP_VMAJ,
	GK_MGCP_VMIN,
	GK_MGCP_RCODE, /* a response: its code, */
	GK_MGCP_RWS,   /* the blanks after it, */
	GK_MGCP_RTID,  /* and the transaction id it answers */
};

GK_FP_INLINE int gk_fp_mgcp_step(struct gk_fp_dfa *d, int c)
{
	const __u32 rsip = GK_FP_P4('r', 's', 'i', 'p'), ntfy = GK_FP_P4('n', 't', 'f', 'y');
	const __u32 mgcp = GK_FP_P4('m', 'g', 'c', 'p');
	int l = gk_fp_lower(c);

	switch (d->st) {
	case GK_MGCP_VERB: /* flag: bit 0 still rsip, bit 1 still ntfy */
		if (d->k == 0 && gk_fp_digit(c)) {
			d->st = GK_MGCP_RCODE;
			d->k = 1;
			return 0;
		}
		if (d->k == 0)
			d->flag = 3;
		if (l != GK_FP_NTH(rsip, d->k))
			d->flag &= ~1u;
		if (l != GK_FP_NTH(ntfy, d->k))
			d->flag &= ~2u;
		if (!d->flag)
			return GK_FP_REJECT;
		if (++d->k == 4) {
			d->st = GK_MGCP_WS1;
			d->k = 0;
		}
		return 0;
	case GK_MGCP_WS1: /* k counts the blanks seen */
	case GK_MGCP_WS2:
	case GK_MGCP_WS3:
	case GK_MGCP_WS4:
		if (gk_fp_wsp(c)) {
			d->k++;
			return 0;
		}
		if (d->k == 0)
			return GK_FP_REJECT;
		d->st++;
		d->k = 0;
		d->flag = 0;
		break;
	case GK_MGCP_TID:
	case GK_MGCP_EP:
	case GK_MGCP_NAME:
	case GK_MGCP_VMAJ:
	case GK_MGCP_VMIN:
		break;
	case GK_MGCP_RCODE:
		if (d->k < 3) {
			if (!gk_fp_digit(c))
				return GK_FP_REJECT;
			d->k++;
			return 0;
		}
		if (!gk_fp_wsp(c))
			return GK_FP_REJECT;
		d->st = GK_MGCP_RWS;
		return 0;
	case GK_MGCP_RWS:
		if (gk_fp_wsp(c))
			return 0;
		if (!gk_fp_digit(c))
			return GK_FP_REJECT;
		d->st = GK_MGCP_RTID;
		d->k = 1;
		return 0;
	case GK_MGCP_RTID:
		if (gk_fp_wsp(c) || c == '\r' || c == '\n')
			return GK_FP_ACCEPT(d);
		return !gk_fp_digit(c) || ++d->k > 9;
	default:
		return GK_FP_REJECT;
	}
	switch (d->st) {
	case GK_MGCP_TID:
		if (gk_fp_wsp(c) && d->k) {
			d->st = GK_MGCP_WS2;
			d->k = 1;
			return 0;
		}
		return !gk_fp_digit(c) || ++d->k > 9;
	case GK_MGCP_EP:
		if (gk_fp_wsp(c) && d->k) {
			d->st = GK_MGCP_WS3;
			d->k = 1;
			return !d->flag;
		}
		d->k = 1;
		d->flag |= c == '@';
		return !gk_fp_vchar(c);
	case GK_MGCP_NAME:
		if (l != GK_FP_NTH(mgcp, d->k))
			return GK_FP_REJECT;
		if (++d->k == 4) {
			d->st = GK_MGCP_WS4;
			d->k = 0;
		}
		return 0;
	case GK_MGCP_VMAJ:
		if (c == '.' && d->k) {
			d->st = GK_MGCP_VMIN;
			return 0;
		}
		return !gk_fp_digit(c) || ++d->k > 2;
	case GK_MGCP_VMIN:
		return gk_fp_digit(c) ? GK_FP_ACCEPT(d) : GK_FP_REJECT;
	}
	return GK_FP_REJECT;
}

/*
 * H.248.1 Annex B text (RFC 3525 ABNF; tokens case-insensitive; LWSP = blanks, line ends and
 * ';' comments):
 *   LWSP [("Authentication" / "AU") EQUAL SPI ":" SEQ ":" AD SEP] ("MEGACO" / "!") "/" 1*2DIGIT
 *   SEP mId SEP ("Transaction" / "T") EQUAL TransactionID LBRKT ("Context" / "C") EQUAL
 *   ContextID LBRKT ["O-"] ["W-"] command EQUAL
 * and the command must be ServiceChange/SC or Notify/N. A context that starts with context
 * properties rather than a command is not recognised (MGs send ServiceChange on the null context,
 * which has none). Each "xxx0" state skips LWSP first. A message whose first transaction is a
 * reply, a pending or a response acknowledgement (Reply/P, Pending/PN, TransactionResponseAck/K)
 * is registration-class too: an MG answers the MGC's challenge Modify before it holds a key.
 */
enum {
	GK_H248_START0,
	GK_H248_TOK1,
	GK_H248_AUEQ0,
	GK_H248_AUD0,
	GK_H248_AUD,
	GK_H248_MEGA0,
	GK_H248_TOK2,
	GK_H248_SLASH,
	GK_H248_VER,
	GK_H248_MID0,
	GK_H248_MID,
	GK_H248_TT0,
	GK_H248_TTOK,
	GK_H248_TEQ0,
	GK_H248_TID0,
	GK_H248_TID,
	GK_H248_TBR0,
	GK_H248_CT0,
	GK_H248_CTOK,
	GK_H248_CEQ0,
	GK_H248_CID0,
	GK_H248_CID,
	GK_H248_CBR0,
	GK_H248_CMD0,
	GK_H248_CMD,
	GK_H248_CMDEQ0,
};

#define GK_H248_LWSP_STATES                                                                        \
	((1u << GK_H248_START0) | (1u << GK_H248_AUEQ0) | (1u << GK_H248_AUD0) |                   \
	 (1u << GK_H248_MEGA0) | (1u << GK_H248_MID0) | (1u << GK_H248_TT0) |                      \
	 (1u << GK_H248_TEQ0) | (1u << GK_H248_TID0) | (1u << GK_H248_TBR0) |                      \
	 (1u << GK_H248_CT0) | (1u << GK_H248_CEQ0) | (1u << GK_H248_CID0) |                       \
	 (1u << GK_H248_CBR0) | (1u << GK_H248_CMD0) | (1u << GK_H248_CMDEQ0))

GK_FP_INLINE int gk_fp_h248_sep(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';';
}

GK_FP_INLINE int gk_fp_h248_step(struct gk_fp_dfa *d, int c)
{
	int l = gk_fp_lower(c);

	if (d->flag) { /* inside a comment */
		d->flag = c != '\r' && c != '\n';
		return 0;
	}
	/* A token ends at its first non-letter, which the next state then reads: at most one
	 * hand-over per byte, so two passes. */
	for (int pass = 0; pass < 2; pass++) {
		if ((GK_H248_LWSP_STATES >> (d->st & 31)) & 1) {
			if (c == ';')
				d->flag = 1;
			if (gk_fp_h248_sep(c))
				return 0;
		}
		switch (d->st) {
		case GK_H248_START0:
		case GK_H248_MEGA0:
			if (c == '!') {
				d->st = GK_H248_SLASH;
				return 0;
			}
			if (!gk_fp_alpha(c))
				return GK_FP_REJECT;
			d->st = d->st == GK_H248_START0 ? GK_H248_TOK1 : GK_H248_TOK2;
			d->h = 0;
			/* fall through */
		case GK_H248_TOK1:
		case GK_H248_TOK2:
		case GK_H248_TTOK:
		case GK_H248_CTOK:
		case GK_H248_CMD:
			if (gk_fp_alpha(c)) {
				d->h = d->h * 31 + (__u64)l;
				return 0;
			}
			break; /* token complete: decided below */
		case GK_H248_AUEQ0:
		case GK_H248_TEQ0:
		case GK_H248_CEQ0:
		case GK_H248_CMDEQ0:
			if (c != '=')
				return GK_FP_REJECT;
			if (d->st == GK_H248_CMDEQ0)
				return GK_FP_ACCEPT(d);
			d->st++;
			return 0;
		case GK_H248_AUD0:
		case GK_H248_AUD:
			if (d->st == GK_H248_AUD && gk_fp_h248_sep(c)) {
				d->st = GK_H248_MEGA0;
				continue;
			}
			d->st = GK_H248_AUD;
			return !(gk_fp_digit(c) || (l >= 'a' && l <= 'f') || l == 'x' || c == ':');
		case GK_H248_SLASH:
			if (c != '/')
				return GK_FP_REJECT;
			d->st = GK_H248_VER;
			d->k = 0;
			return 0;
		case GK_H248_VER:
			if (gk_fp_digit(c))
				return ++d->k > 2;
			if (!d->k || !gk_fp_h248_sep(c))
				return GK_FP_REJECT;
			d->st = GK_H248_MID0;
			continue;
		case GK_H248_MID0:
		case GK_H248_MID:
			if (d->st == GK_H248_MID && gk_fp_h248_sep(c)) {
				d->st = GK_H248_TT0;
				continue;
			}
			d->st = GK_H248_MID;
			return !gk_fp_vchar(c);
		case GK_H248_TT0:
		case GK_H248_CT0:
		case GK_H248_CMD0:
			if (!gk_fp_alpha(c))
				return GK_FP_REJECT;
			d->st++;
			d->h = 0;
			continue;
		case GK_H248_TID0:
		case GK_H248_TID:
			if (gk_fp_digit(c)) {
				d->st = GK_H248_TID;
				return 0;
			}
			if (d->st != GK_H248_TID)
				return GK_FP_REJECT;
			d->st = GK_H248_TBR0;
			continue;
		case GK_H248_CID0:
		case GK_H248_CID:
			if (gk_fp_digit(c) || c == '*' || c == '-' || c == '$') {
				d->st = GK_H248_CID;
				return 0;
			}
			if (d->st != GK_H248_CID)
				return GK_FP_REJECT;
			d->st = GK_H248_CBR0;
			continue;
		case GK_H248_TBR0:
		case GK_H248_CBR0:
			if (c != '{')
				return GK_FP_REJECT;
			d->st = d->st == GK_H248_TBR0 ? GK_H248_CT0 : GK_H248_CMD0;
			return 0;
		default:
			return GK_FP_REJECT;
		}
		/* A complete token in d->h, c the byte after it. */
		switch (d->st) {
		case GK_H248_TOK1:
			if (d->h == GK_FP_TH_AU || d->h == GK_FP_TH_AUTHENTICATION) {
				d->st = GK_H248_AUEQ0;
				continue;
			}
			/* fall through */
		case GK_H248_TOK2:
			if (d->h != GK_FP_TH_MEGACO)
				return GK_FP_REJECT;
			d->st = GK_H248_SLASH;
			continue;
		case GK_H248_TTOK:
			if (d->h == GK_FP_TH_REPLY || d->h == GK_FP_TH_P ||
			    d->h == GK_FP_TH_PENDING || d->h == GK_FP_TH_PN ||
			    d->h == GK_FP_TH_RESPONSEACK || d->h == GK_FP_TH_K)
				return GK_FP_ACCEPT(d);
			if (d->h != GK_FP_TH_TRANSACTION && d->h != GK_FP_TH_T)
				return GK_FP_REJECT;
			d->st = GK_H248_TEQ0;
			continue;
		case GK_H248_CTOK:
			if (d->h != GK_FP_TH_CONTEXT && d->h != GK_FP_TH_C)
				return GK_FP_REJECT;
			d->st = GK_H248_CEQ0;
			continue;
		case GK_H248_CMD:
			if (c == '-' && (d->h == GK_FP_TH_O || d->h == GK_FP_TH_W)) {
				d->st = GK_H248_CMD0;
				return 0;
			}
			if (d->h != GK_FP_TH_SERVICECHANGE && d->h != GK_FP_TH_SC &&
			    d->h != GK_FP_TH_NOTIFY && d->h != GK_FP_TH_N)
				return GK_FP_REJECT;
			d->st = GK_H248_CMDEQ0;
			continue;
		}
		return GK_FP_REJECT;
	}
	return GK_FP_REJECT;
}

GK_FP_INLINE int gk_fp_dfa_step(struct gk_fp_dfa *d, int c)
{
	switch (d->proto) {
	case GK_FP_PROTO_SIP:
		return gk_fp_sip_step(d, c);
	case GK_FP_PROTO_MGCP:
		return gk_fp_mgcp_step(d, c);
	case GK_FP_PROTO_H248:
		return gk_fp_h248_step(d, c);
	}

	return GK_FP_REJECT;
}

#ifdef __bpf__
/* In BPF one step is a global subprogram, which the XDP program defines by calling
 * gk_fp_dfa_step(): the verifier checks it once for any state. Inlined at each call site, every
 * path through the three automata would go on as a state of its own into what follows. */
int gk_fp_dfa_step_sub(struct gk_fp_dfa *d, int c);
#define GK_FP_DFA_STEP gk_fp_dfa_step_sub
#else
#define GK_FP_DFA_STEP gk_fp_dfa_step
#endif

/*
 * H.225.0 RAS, ASN.1 aligned PER (X.691). RasMessage is an extensible CHOICE whose root has 25
 * alternatives (gatekeeperRequest 0, gatekeeperConfirm 1, gatekeeperReject 2,
 * registrationRequest 3, ... unknownMessageResponse 24), so the first octet is the extension bit
 * (0) then the 5-bit index: GRQ = 000000xx, RRQ = 000011xx. Both requests then start with
 * requestSeqNum INTEGER (1..65535), octet-aligned at octet 2, and protocolIdentifier, an OBJECT
 * IDENTIFIER with a one-octet length at octet 4: {itu-t(0) recommendation(0) h(8) 2250 version(0)
 * n} = 06 00 08 91 4a 00 n. The OID is what makes a random datagram unlikely to pass.
 */
GK_FP_INLINE int gk_fp_is_ras_register(const __u8 *buf, __u32 len)
{
	const __u64 oid = GK_FP_P8(0x06, 0x00, 0x08, 0x91, 0x4a, 0x00, 0, 0);
	int c;

	if (len < 11)
		return 0;
	c = buf[0];
	if ((c & 0x80) || ((c >> 2) != 0 && (c >> 2) != 3))
		return 0;
	GK_FP_UNROLL
	for (int i = 0; i < 6; i++)
		if (buf[4 + i] != GK_FP_NTH(oid, i))
			return 0;
	return 1;
}

#ifdef __bpf__
struct gk_fp_dfa_ctx {
	const __u8 *buf;
	struct gk_fp_dfa *d;
};

static long gk_fp_dfa_cb(__u64 i, void *ctx)
{
	struct gk_fp_dfa_ctx *x = ctx;

	return GK_FP_DFA_STEP(x->d, x->buf[GK_FP_AT((__u32)i)]) != 0; /* bpf_loop: 0 or 1 */
}
#endif

/* 1 if the datagram buf[0..len) is a registration-class message of proto. d: workspace (in BPF
 * in a map value, see struct gk_fp_dfa). */
GK_FP_INLINE int gk_fp_is_registration(__u32 proto, const __u8 *buf, __u32 len, struct gk_fp_dfa *d)
{
	__u32 n = len < GK_FP_SCAN ? len : GK_FP_SCAN;

	if (proto == GK_FP_PROTO_RAS)
		return gk_fp_is_ras_register(buf, len);
	if (proto != GK_FP_PROTO_SIP && proto != GK_FP_PROTO_MGCP && proto != GK_FP_PROTO_H248)
		return 0;
	if (n == 0)
		return 0;
	__builtin_memset(d, 0, sizeof(*d));
	d->proto = proto;
#ifdef __bpf__
	struct gk_fp_dfa_ctx x = {buf, d};

	/* Most datagrams that are not registrations fail on their first byte: spare them the
	 * cost of setting up bpf_loop(). */
	if (GK_FP_DFA_STEP(d, buf[0]))
		return d->verdict;
	x.buf = buf + 1;
	bpf_loop(n - 1, gk_fp_dfa_cb, &x, 0);
#else
	for (__u32 i = 0; i < n; i++)
		if (gk_fp_dfa_step(d, buf[i]))
			break;
#endif
	return d->verdict;
}

/* 1 if gk_fp_is_registration(proto, buf, len) reads no byte beyond the first min(len,
 * GK_FP_HEAD): there is nothing more, RAS's test fits, or a text classifier stops at the first
 * byte (most requests that are not registrations: INVITE, OPTIONS, BYE...; most garbage). XDP
 * copies the rest of the prefix only when this says 0, which spares a stranger's datagram most of
 * its cost; the verdict is the same either way, since the classifier reads bytes in order and
 * stops at its decision. Only the first byte is tried: stepping further here would be repeated
 * by the classifier for every registration. d: workspace, as for gk_fp_is_registration. */
GK_FP_INLINE int gk_fp_head_decides(__u32 proto, const __u8 *buf, __u32 len, struct gk_fp_dfa *d)
{
	__u32 n = len < GK_FP_HEAD ? len : GK_FP_HEAD;

	if (proto != GK_FP_PROTO_SIP && proto != GK_FP_PROTO_MGCP && proto != GK_FP_PROTO_H248)
		return 1; /* RAS reads 11 bytes at most; the others nothing */
	if (n == len)
		return 1;
	__builtin_memset(d, 0, sizeof(*d));
	d->proto = proto;
	return GK_FP_DFA_STEP(d, buf[0]) != 0;
}

/* ---- the decision ---- */

/* Which kind of port dport is; *slot gets the signalling port's entry. */
GK_FP_INLINE int gk_fp_port_class(const struct gk_fp_config *cfg, __u16 dport,
                                  struct gk_fp_port *slot)
{
	if (dport == 0)
		return GK_FP_PORT_OTHER;
	GK_FP_UNROLL
	for (int i = 0; i < GK_FP_NPORTS; i++) {
		if (cfg->ports[i].port == dport) {
			*slot = cfg->ports[i];
			return GK_FP_PORT_SIGNALLING;
		}
		if (cfg->ports[i].verified == dport)
			return GK_FP_PORT_VERIFIED;
	}
	return GK_FP_PORT_OTHER;
}

GK_FP_INLINE int gk_fp_same_source(const struct gk_fp_terminal *t, const struct gk_fp_source *src)
{
	__u8 d = 0;

	if (t->family != src->family || t->port != src->port)
		return 0;
	GK_FP_UNROLL
	for (int i = 0; i < 16; i++)
		d |= t->addr[i] ^ src->addr[i];
	return d == 0;
}

GK_FP_INLINE void gk_fp_set(struct gk_fp_verdict *v, __u32 stat, __u32 step)
{
	v->stat = stat;
	v->step = step;
}

/* How many bytes of a framed payload of len bytes its tag covers: all but the tag itself. */
GK_FP_INLINE __u32 gk_fp_tagged_len(__u32 len)
{
	return len - GK_TRAILER_HDR_LEN;
}

/* The two cases where gk_fp_inspect() decides without the registration classifier: a gk-mac
 * terminal's framed datagram (its tag is checked: all of buf is read), and a digest terminal's
 * unframed one (nothing of buf is read). */
GK_FP_INLINE int gk_fp_checks_tag(const struct gk_fp_terminal *t, const struct gk_fp_frame *fr)
{
	return fr->framed && t && t->mech == GK_FP_MECH_GKMAC;
}

GK_FP_INLINE int gk_fp_pins_digest(const struct gk_fp_terminal *t, const struct gk_fp_frame *fr)
{
	return !fr->framed && t && t->mech == GK_FP_MECH_DIGEST;
}

/* Whether gk_fp_inspect() needs the registration classifier's verdict. */
GK_FP_INLINE int gk_fp_needs_classifier(const struct gk_fp_terminal *t,
                                        const struct gk_fp_frame *fr)
{
	return !gk_fp_checks_tag(t, fr) && !gk_fp_pins_digest(t, fr);
}

/* Whether gk_fp_inspect() goes as far as the tag: a gk-mac terminal's framed datagram from the
 * terminal's own address, at a port with a verified twin. The caller computes the tag only then,
 * so that a datagram refused before the hash (a real index from a forger's address) never costs
 * one. */
GK_FP_INLINE int gk_fp_hashes_tag(const struct gk_fp_port *slot, const struct gk_fp_source *src,
                                  const struct gk_fp_terminal *t, const struct gk_fp_frame *fr)
{
	return gk_fp_checks_tag(t, fr) && gk_fp_same_source(t, src) && slot->verified != 0;
}

/*
 * Read-only part of the decision on one UDP payload buf[0..len) that arrived at the signalling
 * port slot from src. fr = gk_fp_frame_parse(buf, len). t = the terminal with index fr->index if
 * fr->framed, else the terminal src is registered to; NULL if there is none. buf must hold the
 * trailer. The two costly inputs are computed by the caller, and only when the decision needs
 * them, so that the XDP program runs each in a subprogram of its own: verified once, rather than
 * once for every path that leads into the decision.
 *  - tag: the SipHash of buf's first gk_fp_tagged_len(len) bytes under t's key when
 *    gk_fp_hashes_tag(), else NULL. A missing tag where one is needed is DROP_INTERNAL.
 *  - registration: gk_fp_is_registration()'s verdict when gk_fp_needs_classifier(), else
 *    ignored.
 * gk_fp_inspect_all() computes both from buf, for callers that hold the whole datagram.
 */
GK_FP_INLINE void gk_fp_inspect(const struct gk_fp_port *slot, const struct gk_fp_source *src,
                                const struct gk_fp_terminal *t, const __u8 *buf, __u32 len,
                                const struct gk_fp_frame *fr, const __u8 *tag, int registration,
                                struct gk_fp_verdict *v)
{
	v->len = len;
	v->dport = slot->port;
	v->lane = 0;
	v->seq = fr->seq;
	if (len > GK_FP_MAX_PAYLOAD)
		return gk_fp_set(v, GK_FP_DROP_MALFORMED, GK_FP_STEP_DONE);
	if (gk_fp_checks_tag(t, fr)) {
		if (!gk_fp_same_source(t, src))
			return gk_fp_set(v, GK_FP_DROP_WRONG_SOURCE, GK_FP_STEP_DONE);
		if (slot->verified == 0 || !tag)
			return gk_fp_set(v, GK_FP_DROP_INTERNAL, GK_FP_STEP_DONE);
		if (!gk_fp_tag_equal(tag, &buf[GK_FP_AT(len - GK_TRAILER_HDR_LEN)]))
			return gk_fp_set(v, GK_FP_DROP_BAD_TAG, GK_FP_STEP_DONE);
		v->len = len - GK_TRAILER_STRIP; /* the verified tail stays, see trailer.h */
		v->dport = slot->verified;
		return gk_fp_set(v, GK_FP_PASS_GKMAC, GK_FP_STEP_COMMIT);
	}
	if (gk_fp_pins_digest(t, fr)) {
		if (!gk_fp_same_source(t, src))
			return gk_fp_set(v, GK_FP_DROP_WRONG_SOURCE, GK_FP_STEP_DONE);
		return gk_fp_set(v, GK_FP_PASS_DIGEST, GK_FP_STEP_COMMIT);
	}
	if (registration > 0 && t && !fr->framed)
		/* From a terminal's registered address (a refresh, or a terminal that lost its
		 * key): its own bucket first, which strangers' registrations, spoofed or not,
		 * cannot use up; the strangers' path after it (gk_fp_commit). */
		return gk_fp_set(v, GK_FP_PASS_REGISTRATION, GK_FP_STEP_COMMIT);
	if (registration > 0)
		return gk_fp_set(v, GK_FP_PASS_REGISTRATION, GK_FP_STEP_ADMIT);
	if (fr->framed)
		return gk_fp_set(v, GK_FP_DROP_UNKNOWN_INDEX, GK_FP_STEP_DONE);
	if (t && t->mech == GK_FP_MECH_GKMAC)
		return gk_fp_set(v, GK_FP_DROP_BAD_TRAILER, GK_FP_STEP_DONE);
	return gk_fp_set(v, GK_FP_DROP_NOT_REGISTRATION, GK_FP_STEP_DONE);
}

/* GK_FP_STEP_COMMIT: the terminal's mutable state (replay window, or its bucket); in BPF under
 * t->lock. Leaves GK_FP_STEP_ADMIT to do when a registered address's lane is used up. */
GK_FP_INLINE void gk_fp_commit(const struct gk_fp_config *cfg, struct gk_fp_terminal *t, __u64 now,
                               struct gk_fp_verdict *v)
{
	if (v->stat == GK_FP_PASS_GKMAC) {
		v->stat = gk_fp_window_check(&t->win, v->seq);
		if (v->stat == GK_FP_PASS_GKMAC)
			gk_fp_window_update(&t->win, v->seq);
	} else if (v->stat == GK_FP_PASS_DIGEST) {
		if (!gk_fp_bucket_take(&t->bucket, &cfg->terminal, now))
			v->stat = GK_FP_DROP_RATE_TERMINAL;
	} else if (v->stat == GK_FP_PASS_REGISTRATION) {
		/* A registered address's registration (a refresh): its own bucket, then the global
		 * one, whose last quarter strangers cannot take (gk_fp_admit). Its own bucket
		 * used up, it goes the strangers' way: several terminals may share the address
		 * (a gateway's endpoints, a NAT), and the lane must add to what they had. */
		v->lane = gk_fp_bucket_take(&t->bucket, &cfg->terminal, now);
		v->step = GK_FP_STEP_ADMIT;
		return;
	}
	v->step = GK_FP_STEP_DONE;
}

/* The share of the global bucket that only registered addresses' own lanes may take: a flood
 * of strangers' registrations, spoofed from anywhere, cannot starve refreshes, and those lanes,
 * spoofed too, still count against the one global limit. */
#define GK_FP_GLOBAL_RESERVE(burst) ((burst) / 4)

/* GK_FP_STEP_ADMIT: the sending host's bucket, then the global one (above its reserve, unless
 * v->lane); in BPF under the global lock. */
GK_FP_INLINE void gk_fp_admit(const struct gk_fp_config *cfg, struct gk_fp_bucket *host,
                              struct gk_fp_bucket *global, __u64 now, struct gk_fp_verdict *v)
{
	__u32 floor = v->lane ? 0 : GK_FP_GLOBAL_RESERVE(cfg->global.burst);

	if (!v->lane && !gk_fp_bucket_take(host, &cfg->source, now))
		v->stat = GK_FP_DROP_RATE_SOURCE;
	else if (!gk_fp_bucket_take_above(global, &cfg->global, now, floor))
		v->stat = GK_FP_DROP_RATE_GLOBAL;
	v->step = GK_FP_STEP_DONE;
}

/* Admission that follows sbcd's queue depth, before the buckets: while cfg->shed is non-zero,
 * that share of the registration-class datagrams from strangers is dropped, so that what sbcd
 * cannot serve now costs it nothing and takes no bucket token from what it can; the terminal's
 * own retransmission brings it back. A registered address's own lane (refreshes) is never shed.
 * draw: a uniform 32-bit random number; multiply-shift scales it to 0..999 without a division. */
GK_FP_INLINE void gk_fp_shed(const struct gk_fp_config *cfg, __u32 draw, struct gk_fp_verdict *v)
{
	if (v->step != GK_FP_STEP_ADMIT || v->lane || !cfg->shed)
		return;
	if ((__u32)(((__u64)draw * 1000) >> 32) < cfg->shed) {
		v->stat = GK_FP_DROP_SHED;
		v->step = GK_FP_STEP_DONE;
	}
}

/* The bucket key of a source: the host, IPv6 cut to its /64. */
GK_FP_INLINE void gk_fp_host_of(const struct gk_fp_source *src, struct gk_fp_host *h)
{
	__builtin_memset(h, 0, sizeof(*h));
	h->family = src->family;
	GK_FP_UNROLL
	for (int i = 0; i < 8; i++)
		h->addr[i] = src->addr[i];
	if (src->family != GK_FP_AF_INET6)
		h->addr[4] = h->addr[5] = h->addr[6] = h->addr[7] = 0;
}

#ifndef __bpf__
#include "gatekey/runtime/reason.h"

/* What each table holds for registrar.max_terminals = n (1..GK_FP_TERMINALS_MAX), in XDP and in
 * userspace alike. */
struct gk_fp_sizes {
	__u32 terminals; /* indexes 1..terminals ("terminals" has one entry more, index 0 unused);
	                  * also the entries of "sources" and "sessions" */
	__u32 hosts;     /* per-host buckets ("src_buckets") */
	__u32 hint_bits; /* "source_hint" has 2^hint_bits slots */
};

/*
 * - terminals: n, but never under GK_FP_TERMINALS_MIN. Earlier versions made their maps that
 *   size whatever registrar.max_terminals said, so the maps they pinned fit every configuration
 *   up to it (an upgrade keeps its registered terminals), and a change below it never meets pins
 *   of another size. In XDP it costs 34 MiB of kernel memory, 544 bytes a terminal at any size
 *   (tests/unit/test_xdp_size.c prints it for a million).
 * - hosts: as many as terminals. Every registration-class datagram takes its host's bucket, a
 *   registered terminal's refresh too, so fewer would have registered hosts push each other's
 *   buckets out of the LRU, each coming back to a full one.
 * - hint_bits: at least 4 slots a terminal, the ratio 2^18 slots gave 65536 terminals: some 22%
 *   of the slots then count a registered address, where with one slot a terminal 63% would, and
 *   a stranger's datagram that lands on one costs the hash lookup the hint is there to spare.
 */
static inline void gk_fp_sizes_of(__u32 n, struct gk_fp_sizes *s)
{
	s->terminals = n > GK_FP_TERMINALS_MIN ? n : GK_FP_TERMINALS_MIN;
	s->hosts = s->terminals;
	s->hint_bits = GK_FP_HINT_BITS_MIN;
	while ((1ull << s->hint_bits) < 4ull * s->terminals)
		s->hint_bits++;
}

/* gk_fp_inspect() with its inputs computed from buf[0..len), which holds the whole datagram:
 * the tag only when gk_fp_hashes_tag(), the classifier only when gk_fp_needs_classifier(). ws:
 * classifier workspace. */
static inline void gk_fp_inspect_all(const struct gk_fp_port *slot, const struct gk_fp_source *src,
                                     const struct gk_fp_terminal *t, const __u8 *buf, __u32 len,
                                     const struct gk_fp_frame *fr, struct gk_fp_dfa *ws,
                                     struct gk_fp_verdict *v)
{
	__u8 tag[16];
	const __u8 *computed = NULL;
	int registration = 0;

	if (gk_fp_hashes_tag(slot, src, t, fr)) {
		gk_fp_siphash128(t->key, buf, gk_fp_tagged_len(len), tag);
		computed = tag;
	} else if (gk_fp_needs_classifier(t, fr)) {
		registration = gk_fp_is_registration(slot->proto, buf, len, ws);
	}
	gk_fp_inspect(slot, src, t, buf, len, fr, computed, registration, v);
}

/* All three steps, for userspace (no locks to take). t as for gk_fp_inspect(); host and global
 * are the buckets of src's host and of everything, used only for registration-class messages. */
static inline enum gk_fp_stat gk_fp_decide(const struct gk_fp_config *cfg,
                                           const struct gk_fp_port *slot,
                                           const struct gk_fp_source *src, struct gk_fp_terminal *t,
                                           struct gk_fp_bucket *host, struct gk_fp_bucket *global,
                                           const __u8 *buf, __u32 len, __u64 now,
                                           struct gk_fp_verdict *v)
{
	struct gk_fp_frame fr;
	struct gk_fp_dfa ws;

	gk_fp_frame_parse(buf, len, &fr);
	gk_fp_inspect_all(slot, src, t, buf, len, &fr, &ws, v);
	if (v->step == GK_FP_STEP_COMMIT)
		gk_fp_commit(cfg, t, now, v);
	/* the draw comes from the clock: tests and the bench want verdicts they can repeat */
	gk_fp_shed(cfg, (__u32)((now * 0x9e3779b97f4a7c15ull) >> 32), v);
	if (v->step == GK_FP_STEP_ADMIT) /* registered addresses come here too (v.lane) */
		gk_fp_admit(cfg, host, global, now, v);
	return (enum gk_fp_stat)v->stat;
}

/* "PASS_GKMAC" etc.; NULL out of range. */
const char *gk_fp_stat_name(enum gk_fp_stat s);
const char *gk_fp_stat_str(enum gk_fp_stat s);
/* The matching gatekey reason: GK_R_OK for passes, GK_R__COUNT where there is none. */
enum gk_reason gk_fp_stat_reason(enum gk_fp_stat s);
/* SIP 5060, MGCP 2427/2727, H.248 2944/2945, RAS 1719, each verified at port + 10000; rates. */
void gk_fp_config_default(struct gk_fp_config *cfg);
#endif

#endif
