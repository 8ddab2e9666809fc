/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ESP transport-mode security associations and policies in the kernel, for the ipsec-3gpp
 * mechanism (DESIGN §5, TS 33.203 style): the element that holds K and the terminal each protect
 * their UDP flows port-c <-> port-s with rfc4106(gcm(aes)). This module only talks to the kernel's
 * SAD and SPD over XFRM netlink (libnl-xfrm-3); choosing SPIs and ports and deriving the keys are
 * the caller's. docs/ipsec.md describes what gets installed.
 *
 * A flow is one direction of UDP datagrams between two address:port pairs; it gets one SA (keyed
 * by the receiver's SPI) and one policy. Every SA and policy carries a reqid that marks it as
 * gatekey's and names the element that installed it (owner), so that a restarted daemon lists and
 * adopts, or flushes, its own and nothing else.
 *
 * All functions return 0 (or a count) on success and a negative errno on failure; bad arguments
 * are -EINVAL and reach the kernel not at all. Keys are never logged, never listed, and every
 * buffer of ours that held one is wiped.
 */
#ifndef GATEKEY_IPSEC_XFRM_H
#define GATEKEY_IPSEC_XFRM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define GK_XFRM_ALG      "rfc4106(gcm(aes))"
#define GK_XFRM_KEY_LEN  36 /* the AES-256 key, then the 4-byte salt (RFC 4106 §8.1) */
#define GK_XFRM_ICV_BITS 128

/* reqid = GK_XFRM_REQID_TAG | owner, on SAs and policy templates alike. */
#define GK_XFRM_REQID_TAG  0x676b0000u /* "gk" */
#define GK_XFRM_REQID_MASK 0xffff0000u
#define GK_XFRM_ANY_OWNER  (-1)

enum gk_xfrm_dir {
	GK_XFRM_IN = 0,  /* datagrams from peer to local: SA under local's SPI */
	GK_XFRM_OUT = 1, /* datagrams from local to peer: SA under peer's SPI */
};

struct gk_xfrm_flow {
	enum gk_xfrm_dir dir;
	struct sockaddr_storage local; /* this host's address and UDP port (AF_INET or AF_INET6) */
	struct sockaddr_storage peer;  /* the other end's, same family */
	uint32_t spi;                  /* the receiver's choice; 256 and up (RFC 4303 §2.1) */
	uint16_t owner;                /* the gatekey element that installs it */
	uint32_t lifetime_s;           /* SAs: hard expiry, seconds after the add; 0 none */
};

/* One of gatekey's SAs as the kernel holds it, never with its key. An SA has no direction of its
 * own: the host that sends on it and the one that receives see the same SA. */
struct gk_xfrm_sa_info {
	struct sockaddr_storage src, dst; /* the datagrams' source and destination, with ports */
	uint32_t spi;
	uint16_t owner;
	uint32_t lifetime_s;
	uint64_t packets, bytes; /* through the SA so far, sent and received on this host */
	uint64_t added;          /* when it was added, CLOCK_REALTIME seconds */
	uint64_t expires;        /* added + lifetime_s; 0 never */
};

struct gk_xfrm;

/* A netlink socket on the XFRM family of the caller's network namespace. */
int gk_xfrm_open(struct gk_xfrm **out);
void gk_xfrm_close(struct gk_xfrm *h);
/* The kernel's own words for its last refusal on h (extended ack), or "". */
const char *gk_xfrm_error(const struct gk_xfrm *h);

/* Adds the flow's SA with key (GK_XFRM_KEY_LEN bytes): -EEXIST when its SPI is taken for that
 * destination. */
int gk_xfrm_sa_add(struct gk_xfrm *h, const struct gk_xfrm_flow *f, const uint8_t *key,
                   size_t key_len);
/* XFRM_MSG_UPDSA on an existing SA (-ESRCH when there is none). The kernel takes the new
 * lifetime from it and keeps algorithm and key: a new key is a new SPI (docs/ipsec.md, rekeying).
 * The key is still required, as the kernel checks the whole SA. */
int gk_xfrm_sa_update(struct gk_xfrm *h, const struct gk_xfrm_flow *f, const uint8_t *key,
                      size_t key_len);
/* Removes the flow's SA (destination and SPI): -ESRCH when there is none. */
int gk_xfrm_sa_del(struct gk_xfrm *h, const struct gk_xfrm_flow *f);
/* The flow's SA (its destination and SPI, owner f->owner): -ENOENT when there is none. */
int gk_xfrm_sa_get(struct gk_xfrm *h, const struct gk_xfrm_flow *f, struct gk_xfrm_sa_info *info);
/* gatekey's SAs of owner (GK_XFRM_ANY_OWNER: every owner's): fills up to max entries of out and
 * returns how many there are. */
int gk_xfrm_sa_list(struct gk_xfrm *h, int owner, struct gk_xfrm_sa_info *out, size_t max);

/* Installs or replaces (XFRM_MSG_UPDPOLICY) the flow's policy: UDP from source to destination
 * address and port needs ESP in transport mode. Outbound, the template names the SPI, so
 * replacing the policy moves the flow to another SA at once; inbound it names none, so any SA
 * of the same owner whose selector is this flow's is accepted (the old one and the new one
 * while a rekey is under way). Deleting takes the selector and direction only. */
int gk_xfrm_policy_set(struct gk_xfrm *h, const struct gk_xfrm_flow *f);
int gk_xfrm_policy_del(struct gk_xfrm *h, const struct gk_xfrm_flow *f);
/* gatekey's policies of owner, as flows (spi 0 inbound, lifetime_s 0): as gk_xfrm_sa_list. */
int gk_xfrm_policy_list(struct gk_xfrm *h, int owner, struct gk_xfrm_flow *out, size_t max);

/* Removes every SA and policy of owner (GK_XFRM_ANY_OWNER: all of gatekey's); returns how many. */
int gk_xfrm_flush(struct gk_xfrm *h, int owner);

#endif
