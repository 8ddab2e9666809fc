/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One terminal's ipsec-3gpp association (TS 33.203 §7.1) as one side installs it: four ESP
 * transport-mode flows between the terminal's and the network's protected ports, each under the
 * SPI its receiver chose and a key of its own drawn from K (gk_esp_key_derive). The terminal and
 * the element that holds K each call gk_ipsec_install with their own side: both derive the same
 * four SAs, and each installs its policies in its own direction. The flows, by their index:
 *
 *   0  terminal port-c -> network port-s   network's spi-s   uplink
 *   1  network port-s  -> terminal port-c  terminal's spi-c  downlink (answers to 0)
 *   2  network port-c  -> terminal port-s  terminal's spi-s  downlink
 *   3  terminal port-s -> network port-c   network's spi-c   uplink   (answers to 2)
 *
 * lib/ipsec/xfrm.c talks to the kernel; this module decides what to ask it for, and undoes
 * what it added when a later step is refused, so that a failed install leaves nothing behind.
 */
#ifndef GATEKEY_IPSEC_ASSOC_H
#define GATEKEY_IPSEC_ASSOC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/codec/msg.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/ipsec/xfrm.h"

#define GK_IPSEC_FLOWS 4

enum gk_ipsec_side {
	GK_IPSEC_AT_TERMINAL = 0,
	GK_IPSEC_AT_ELEMENT = 1,
};

struct gk_ipsec_assoc {
	enum gk_ipsec_side side;
	struct sockaddr_storage term, net; /* the two hosts' addresses, one family; ports ignored */
	struct gk_ipsec_end term_end, net_end; /* each end's ports and SPIs, as exchanged */
	uint16_t owner;                        /* the gatekey element (or terminal) installing it */
	uint32_t lifetime_s;                   /* the SAs' hard expiry: the binding's; 0 none */
};

/* One flow of an association, as a->side sees it. */
struct gk_ipsec_flow {
	struct gk_xfrm_flow xfrm;
	bool uplink; /* terminal to network: the key's direction */
};

/* The four flows of a (the table above), as its side sees them: -EINVAL when an end cannot carry
 * SAs (gk_ipsec_end_ok), the addresses are not one family, or two flows would share an SPI at
 * one receiver. */
int gk_ipsec_flows(const struct gk_ipsec_assoc *a, struct gk_ipsec_flow out[GK_IPSEC_FLOWS]);

/* The 36-byte key of flow f under session key k (wipe it after use). */
int gk_ipsec_flow_key(const uint8_t k[GK_KEY_LEN], const struct gk_ipsec_flow *f,
                      uint8_t out[GK_XFRM_KEY_LEN]);

/* The four SAs and four policies of a's side. All or nothing: on a refusal whatever this call
 * added is removed again and the kernel's error returned. */
int gk_ipsec_install(struct gk_xfrm *h, const struct gk_ipsec_assoc *a,
                     const uint8_t k[GK_KEY_LEN]);

/* A refresh, make-before-break, in two steps, so that each side takes datagrams on the new SAs
 * before anything is sent on them.
 *  - gk_ipsec_prepare adds next's SAs and its inbound policies (inbound policies name no SPI,
 *    so a flow's policy takes cur's SA and next's alike), while cur's outbound policies still
 *    send on cur's SAs. -EEXIST when next reuses one of cur's SAs (a new key is a new SPI). On
 *    a refusal nothing of next stays.
 *  - gk_ipsec_switch moves the outbound policies to next's SPIs, then removes cur's SAs and the
 *    policies of cur's flows that next does not have. On a refusal every outbound flow is back
 *    on cur's SAs.
 *  - gk_ipsec_abandon removes what gk_ipsec_prepare added, leaving cur whole.
 * The terminal prepares and switches at once when the SUCCESS brings the element's new end
 * (gk_ipsec_replace); the element prepares before it sends the SUCCESS and switches on the
 * terminal's first datagram under next. At no step is a datagram left without an SA. */
int gk_ipsec_prepare(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                     const struct gk_ipsec_assoc *next, const uint8_t k_next[GK_KEY_LEN]);
int gk_ipsec_switch(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                    const struct gk_ipsec_assoc *next);
void gk_ipsec_abandon(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                      const struct gk_ipsec_assoc *next);
int gk_ipsec_replace(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                     const struct gk_ipsec_assoc *next, const uint8_t k_next[GK_KEY_LEN]);

/* Takes a's side back after a restart of whoever installed it: its four SAs must be in the kernel
 * (-ENOENT otherwise, and nothing changed), and its four policies are set again to them, so that
 * a refresh whose switch the restart interrupted sends under the association the binding holds.
 * The SAs keep their keys and lifetimes: nothing needs K. */
int gk_ipsec_adopt(struct gk_xfrm *h, const struct gk_ipsec_assoc *a);

/* Removes a's SAs and policies (deregistration, expiry): how many of the eight were there. */
int gk_ipsec_remove(struct gk_xfrm *h, const struct gk_ipsec_assoc *a);

#endif
