/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The protocol bindings behind one table, so daemons and tools handle every protocol the same
 * way: decode to gk_msg, run the exchange, encode the answer.
 */
#ifndef GATEKEY_CODEC_H
#define GATEKEY_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/codec/msg.h"

/* What a terminal needs to address a new request (the codec turns it into wire context). */
struct gk_request_ctx {
	const char *idc;
	const char *idsp;
	const struct sockaddr_storage *local; /* the terminal's own address */
	const char *dialog_id;                /* stable per terminal: SIP Call-ID, ... */
	const char *local_tag;                /* stable per terminal: SIP From tag, ... */
	uint32_t seq;                         /* per request: SIP CSeq, transaction id ... */
	uint64_t unique;                      /* per request: makes the transaction id unique */
	const char *method;                   /* NULL: the registration method */
};

/* What an OTHER request (not part of the exchange) asks of the element facing the terminal. */
enum gk_other_kind {
	GK_OTHER_PROBE,     /* the binding's keep-alive or capability probe: answered OK */
	GK_OTHER_NO_ANSWER, /* takes no response (SIP ACK outside a transaction): dropped */
	GK_OTHER_UNSERVED,  /* anything else: refused NOT_SERVED, never answered OK */
};

struct gk_codec {
	enum gk_proto proto;
	const char *name;
	uint16_t default_port;
	/* It carries plain RFC 7616 Digest (challenge and credentials): terminals without GK1 may
	 * register over it (mechanism `digest`). */
	bool digest;
	/* Its requests under ipsec-3gpp SAs echo the element's end (GK_F_SEC_VERIFY: SIP's
	 * Security-Verify, RFC 3329), which the registrar then requires. */
	bool sec_verify;
	int (*decode)(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason);
	int (*encode)(const struct gk_msg *m, uint8_t *buf, size_t cap);
	/* A registration-class request (for the unknown-source policy). */
	int (*is_registration)(const uint8_t *buf, size_t len);
	/* Fill m->wire for a new request of m->type. */
	void (*request_init)(struct gk_msg *m, const struct gk_request_ctx *c);
	/* Complete m->wire of a response built from a request's context (e.g. the SIP To tag). */
	void (*response_init)(struct gk_msg *m);
	/* The `unique` of the request a decoded response answers, 0 when there is none. */
	uint64_t (*transaction_ref)(const struct gk_msg *m);
	/* The method of a decoded request, for forwarding it (e.g. "OPTIONS"). */
	const char *(*request_method)(const struct gk_msg *m);
	/* Which enum gk_other_kind a decoded OTHER request is; NULL: every OTHER is a probe. A
	 * REJECT with reason GK_R_NOT_SERVED encodes as the binding's "not supported" answer. */
	enum gk_other_kind (*other_kind)(const struct gk_msg *m);
	/* The input of the s10 MAC of a SUCCESS, when the binding defines its own (RAS: the encoded
	 * message with the MAC zeroed); NULL: gk_msg_success_canonical. Length or -errno. */
	int (*success_canonical)(const struct gk_msg *m, uint8_t *out, size_t cap);
	/* The stateless answer the protocol requires to a request that decode() refused with why
	 * (m: what decode left, naming the header and limit) or that nobody serves
	 * (GK_R_NOT_SERVED), built from the received bytes for `from`: its length in out, 0 when
	 * the protocol wants none, or -ENOSPC. NULL: such requests are dropped (and counted). */
	int (*refuse)(const uint8_t *buf, size_t len, const struct gk_msg *m, enum gk_reason why,
	              const struct sockaddr_storage *from, uint8_t *out, size_t cap);
	/* Notes in a decoded request's context where it came from, for the responses built from
	 * it (SIP: received/rport in the top Via). NULL: nothing to note. */
	void (*received)(struct gk_msg *m, const struct sockaddr_storage *from);
};

const struct gk_codec *gk_codec_get(enum gk_proto proto);
const struct gk_codec *gk_codec_by_name(const char *name);
/* The kind of OTHER request m is, by its codec. */
enum gk_other_kind gk_codec_other_kind(const struct gk_msg *m);
/* The s10 MAC input of m: its codec's success_canonical, else gk_msg_success_canonical. */
int gk_codec_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap);

#endif
