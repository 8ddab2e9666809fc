/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * H.225.0 RAS (H.323 registration, admission and status) in aligned PER, and the gatekey binding
 * over it: see docs/bindings-h323.md. Two layers:
 *   - struct gk_ras_pdu <-> bytes (lib/h323/ras.c): the RAS messages GRQ, GCF, GRJ, RRQ, RCF, RRJ,
 * URQ, UCF with the fields gatekey uses, H.235 ClearTokens and hashed CryptoH323Tokens; every root
 *     component of these PDUs is decoded, extension additions we do not use are skipped;
 *   - struct gk_msg <-> bytes (lib/h323/ras_codec.c): the codec `gk_ras_codec` (codec.h).
 * This header is included by msg.h for the wire context; it must not include msg.h.
 */
#ifndef GATEKEY_RAS_H
#define GATEKEY_RAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/h323/per.h"
#include "gatekey/runtime/reason.h"

#define GK_RAS_PORT        1719
#define GK_RAS_CS_PORT     1720 /* call signalling port we announce */
#define GK_RAS_VERSION     7    /* protocolIdentifier 0.0.8.2250.0.7 */
#define GK_RAS_STR_MAX     128  /* BMPString characters we keep (IDs are at most 63) */
#define GK_RAS_TOKEN_MAX   10   /* gatekey writes 9 at most */
#define GK_RAS_HASHED_MAX  4
#define GK_RAS_PROF_MAX    8
#define GK_RAS_RAW_MAX     1280 /* a decoded RCF kept for the MAC check */
#define GK_RAS_ARC_DEFAULT "1.3.6.1.4.1.32473.323"

/* RasMessage alternatives (root: 0..24). */
enum gk_ras_type {
	GK_RAS_GRQ = 0,
	GK_RAS_GCF = 1,
	GK_RAS_GRJ = 2,
	GK_RAS_RRQ = 3,
	GK_RAS_RCF = 4,
	GK_RAS_RRJ = 5,
	GK_RAS_URQ = 6,
	GK_RAS_UCF = 7,
	GK_RAS_URJ = 8,
	GK_RAS_IRR = 22,
	GK_RAS_NONE = 0xff,
};

/* Reject reasons: the CHOICE alternative, root index or n_root + extension index. */
#define GK_RAS_GRJ_RESOURCE_UNAVAILABLE 0
#define GK_RAS_GRJ_TERMINAL_EXCLUDED    1
#define GK_RAS_GRJ_UNDEFINED            3
#define GK_RAS_GRJ_SECURITY_DENIAL      4 /* 4 root + extension 0 */
#define GK_RAS_RRJ_UNDEFINED            6
#define GK_RAS_RRJ_RESOURCE_UNAVAILABLE 9  /* 8 root + extension 1 */
#define GK_RAS_RRJ_SECURITY_DENIAL      11 /* 8 root + extension 3 */

struct gk_ras_taddr {
	uint8_t family; /* 0: none (an empty list), 4: ipAddress, 6: ip6Address */
	uint8_t ip[16];
	uint16_t port;
};

/* The wire context of a RAS message in struct gk_msg (see docs/bindings-h323.md). */
struct gk_ras_ctx {
	uint8_t pdu; /* enum gk_ras_type: the decoded PDU, or the request a response answers */
	uint8_t keep_alive;
	uint16_t seq;            /* requestSeqNum, 1..65535 */
	struct gk_ras_taddr ras; /* the endpoint's rasAddress (GRQ, RRQ) */
	struct gk_ras_taddr csa; /* the endpoint's callSignalAddress (RRQ, URQ) */
	uint16_t raw_len;        /* a decoded RCF: its bytes (0 when longer than GK_RAS_RAW_MAX) */
	uint16_t mac_off;        /* and where the gk1-mac hash is in them */
	uint8_t raw[GK_RAS_RAW_MAX];
};

/* ClearToken fields present. */
enum {
	GK_RAS_T_TS = 1u << 0,
	GK_RAS_T_CHALLENGE = 1u << 1,
	GK_RAS_T_RANDOM = 1u << 2,
	GK_RAS_T_GENERAL = 1u << 3,
	GK_RAS_T_SENDERS = 1u << 4,
	GK_RAS_T_KEY = 1u << 5,     /* h235Key secureSharedSecret */
	GK_RAS_T_PROFILE = 1u << 6, /* profileInfo (maybe empty) */
};

struct gk_ras_token {
	struct gk_oid oid;
	uint16_t has; /* GK_RAS_T_* */
	uint32_t ts;
	uint8_t challenge_len;
	uint8_t challenge[128];
	int32_t random;
	char general[GK_RAS_STR_MAX + 1];
	char senders[GK_RAS_STR_MAX + 1];
	/* h235Key = secureSharedSecret V3KeySyncMaterial */
	char key_gid[GK_RAS_STR_MAX + 1];
	struct gk_oid key_alg;
	uint8_t key_iv_len, key_ct_len;
	uint8_t key_iv[16];
	uint8_t key_ct[64];
	/* profileInfo: ProfileElement {elementID, element.integer} */
	uint8_t n_prof;
	struct {
		uint8_t id;
		bool has_int;
		int64_t v;
	} prof[GK_RAS_PROF_MAX];
};

/* CryptoH323Token nestedcryptoToken.cryptoHashedToken (other alternatives are skipped). */
struct gk_ras_hashed {
	struct gk_oid oid; /* tokenOID (hashedVals carries the same) */
	struct gk_oid alg; /* HASHED.algorithmOID */
	uint16_t hash_bits;
	uint8_t hash[64];
	uint32_t hash_off; /* decoded: octet offset of the hash in the PDU */
};

struct gk_ras_pdu {
	uint8_t type; /* enum gk_ras_type */
	uint16_t seq;
	struct gk_oid proto; /* protocolIdentifier (PDUs that have one) */
	bool has_alias, has_gkid, has_epid;
	char alias[GK_RAS_STR_MAX + 1]; /* first h323-ID of endpointAlias/terminalAlias */
	char gkid[GK_RAS_STR_MAX + 1];  /* gatekeeperIdentifier */
	char epid[GK_RAS_STR_MAX + 1];  /* endpointIdentifier */
	struct gk_ras_taddr ras;        /* rasAddress (first of a list) */
	struct gk_ras_taddr csa;        /* callSignalAddress (first of a list) */
	uint8_t reason;                 /* GRJ/RRJ/URJ rejectReason alternative */
	bool has_ttl;
	uint32_t ttl;
	bool keep_alive;
	uint8_t n_tokens, n_hashed;
	struct gk_ras_token tokens[GK_RAS_TOKEN_MAX];
	struct gk_ras_hashed hashed[GK_RAS_HASHED_MAX];
	/* decoded only: extension additions and unknown alternatives skipped, for tests */
	uint16_t skipped;
};

/* Returns the length, -ENOSPC, or -EINVAL for a value the PDU cannot carry. */
int gk_ras_pdu_encode(const struct gk_ras_pdu *p, uint8_t *buf, size_t cap);
/* 0, or -1 with *why (GK_R_PARSE_*). Only the types listed above; others PARSE_UNSUPPORTED. */
int gk_ras_pdu_decode(const uint8_t *buf, size_t len, struct gk_ras_pdu *p, enum gk_reason *why);
/* The RasMessage alternative from the first bits (5 or 6 bits: enough for a classifier), or -1. */
int gk_ras_peek_type(const uint8_t *buf, size_t len);

/* ---- the codec (lib/h323/ras_codec.c) ---- */
struct gk_msg;
/* Sets the gatekey arc of the token OIDs ("1.3.6.1.4.1.32473.323" by default); -1 if invalid.
 * Process-wide: call it at start-up, before any encode or decode. */
int gk_ras_set_arc(const char *dotted);
const struct gk_oid *gk_ras_arc(void);
int gk_ras_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *why);
int gk_ras_encode(const struct gk_msg *m, uint8_t *buf, size_t cap);
int gk_ras_is_registration(const uint8_t *buf, size_t len); /* GRQ or RRQ */
/* The success MAC input (docs/bindings-h323.md): length, or -errno. */
int gk_ras_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap);
/* requestSeqNum of a request with this unique: 1 + (unique - 1) mod 65535. */
uint16_t gk_ras_seq_of(uint64_t unique);

#endif
