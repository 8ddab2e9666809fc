/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipsec-3gpp at a front daemon (softswitchd in the direct topology, sbcd): its settings, its
 * protected listeners, and the registrar's hooks into the element module (ipsec/element.h), so
 * that both daemons wire the mechanism the same way in a few lines.
 *
 * Each protocol has protected ports of its own (<proto>.ipsec_ports = port-c port-s): a
 * protected socket speaks one codec and, for MGCP and H.248, has its own transactions. The
 * element listens on port-s at the addresses its ordinary listeners of that protocol have, and
 * installs its SAs and policies for those addresses, so they must be concrete (no wildcard) and
 * one per address family. port-c is the source of requests the element would send a terminal,
 * which nothing here sends yet: the port is announced, as TS 33.203 has it, and kept free.
 *
 * A datagram on a protected port counts only when it came in on the flow of the ipsec-3gpp
 * binding whose SAs the kernel's inbound policy required (gk_front_io_ipsec_sender); any other
 * (plaintext from an address no policy covers) is counted and dropped.
 */
#ifndef GATEKEY_FRONT_IPSEC_H
#define GATEKEY_FRONT_IPSEC_H

#include "gatekey/exchange/front_io.h"
#include "gatekey/ipsec/element.h"
#include "gatekey/runtime/config.h"

struct gk_front_ipsec_ports {
	uint16_t c, s;
};

struct gk_front_ipsec_settings {
	struct gk_front_ipsec_ports ports[GK_PROTO_COUNT]; /* by enum gk_proto */
	uint32_t owner; /* ipsec.owner: the element's mark on its SAs and policies (reqid) */
};

/* Sets the defaults (no ports; owner owner_default) and appends sip.ipsec_ports,
 * mgcp.ipsec_ports, h248.ipsec_ports, ras.ipsec_ports and ipsec.owner after the first `used`
 * entries of keys; returns the new count, the table stays NULL-terminated. */
size_t gk_front_ipsec_keys(struct gk_front_ipsec_settings *s, uint16_t owner_default,
                           struct gk_cfg_key *keys, size_t used, size_t cap);
/* Puts the protected ports into rc when its mechanisms name ipsec-3gpp: -1 with err when they do
 * and no protocol has ports. */
int gk_front_ipsec_apply(const struct gk_front_ipsec_settings *s, struct gk_registrar_cfg *rc,
                         char *err, size_t errlen);

struct gk_front_ipsec {
	struct gk_xfrm *xfrm;
	struct gk_ipsec_element *el;
	struct gk_front_io *io;
	uint64_t unprotected; /* datagrams on a protected port that no binding's SAs covered */
};

/* When rc supports ipsec-3gpp: opens XFRM netlink and the element module, then a protected
 * socket at port-s beside each ordinary listener of every protocol with ports (io's sockets so
 * far), receiving with fn(user, ...). Before the registrar restores any binding (its
 * ipsec_adopt needs the element). 0 (nothing done without ipsec-3gpp), or -1 with err. */
int gk_front_ipsec_start(struct gk_front_ipsec *fi, struct gk_front_io *io,
                         const struct gk_front_ipsec_settings *s, const struct gk_registrar_cfg *rc,
                         gk_dgram_fn fn, void *user, char *err, size_t errlen);
/* Frees the element (what is installed stays, for the next start to adopt) and the handle. */
void gk_front_ipsec_stop(struct gk_front_ipsec *fi);
static inline bool gk_front_ipsec_on(const struct gk_front_ipsec *fi)
{
	return fi->el != NULL;
}

/* The registrar's hooks (registrar.h), given the gk_front_ipsec as user by the daemon's own. */
int gk_front_ipsec_up(struct gk_front_ipsec *fi, const struct gk_binding *b,
                      const struct sockaddr_storage *from, const struct gk_ipsec_end *term,
                      const struct gk_ipsec_end *net, const uint8_t k[GK_KEY_LEN],
                      uint32_t expires_s);
int gk_front_ipsec_adopt(struct gk_front_ipsec *fi, const struct gk_binding *b);
void gk_front_ipsec_down(struct gk_front_ipsec *fi, const struct gk_binding *b);

/* A datagram from `from` on protected socket s: the ipsec-3gpp binding it came under (its
 * pending refresh switches once the kernel took it under the new SAs), or 0 after counting it:
 * drop it. */
uint32_t gk_front_ipsec_input(struct gk_front_ipsec *fi, struct gk_front_sock *s,
                              const struct sockaddr_storage *from);

/* "ipsec.<name> value" lines for the control socket's stats (nothing when off). */
void gk_front_ipsec_ctl_stats(const struct gk_front_ipsec *fi, struct gk_ctl_reply *out);

#endif
