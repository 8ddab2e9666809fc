/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The element's side of its terminals' ipsec-3gpp associations over the life of their bindings:
 * what a daemon's registrar hooks (ops.ipsec_up, binding_down) and its input path call, so that
 * the daemons stay thin.
 *
 *  - A registration installs the association (gk_ipsec_install) before its SUCCESS goes out.
 *  - A refresh adds the new SAs beside the old ones (gk_ipsec_prepare) and switches the
 *    element's outbound flows only once the terminal has sent under the new SAs
 *    (gk_ipsec_element_seen finds packets on them), or when the switch has waited
 *    GK_IPSEC_SWITCH_WAIT_MS: no datagram is sent under SAs the terminal does not hold yet, and
 *    none the terminal sends under the old ones is dropped meanwhile.
 *  - The binding's end (deregistration, expiry, a refresh to another mechanism) removes what is
 *    installed, the pending switch's both sets included. The replaced binding's end at a refresh
 *    is told apart by its ends and leaves the old SAs to the switch.
 *
 * Every SA's hard lifetime is its binding's plus GK_IPSEC_LIFETIME_MARGIN_S: should the element
 * die without removing them, the kernel does.
 */
#ifndef GATEKEY_IPSEC_ELEMENT_H
#define GATEKEY_IPSEC_ELEMENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/exchange/registrar.h"
#include "gatekey/ipsec/assoc.h"
#include "gatekey/runtime/loop.h"

#define GK_IPSEC_SWITCH_WAIT_MS    64000 /* SIP's Timer F twice: a terminal has sent by then */
#define GK_IPSEC_LIFETIME_MARGIN_S 60

struct gk_ipsec_element_cfg {
	/* The element's access addresses the terminals send to (ports ignored); a family left
	 * AF_UNSPEC refuses its terminals' associations. */
	struct sockaddr_storage addr4, addr6;
	uint16_t owner;       /* this element's SAs and policies in the kernel */
	uint32_t max_pending; /* refreshes waiting for their switch; beyond, one switches at once */
};

struct gk_ipsec_element_stats {
	uint64_t installed, refreshed, switched, switched_on_timeout, switched_early, removed;
	uint64_t reinstalled; /* refreshes offering SPIs of the standing association: its
	                       * terminal lost it (restarted), the old SAs went first */
	uint64_t failed; /* installs or refreshes the kernel refused (the registration refused) */
	uint64_t adopted,
	    adopt_missing; /* after a restart: associations taken back, or not there */
	uint64_t
	    install_us; /* time the kernel took over the installs counted in installed: a
	                 * registration's cost of its SAs (bench ipsec_setup_per_registration_us) */
};

struct gk_ipsec_element;

/* h stays the caller's; max_index is the registrar's highest binding index (max_terminals).
 * NULL with err on a bad configuration or no memory. */
struct gk_ipsec_element *gk_ipsec_element_new(struct gk_xfrm *h, struct gk_loop *loop,
                                              const struct gk_ipsec_element_cfg *cfg,
                                              uint32_t max_index, char *err, size_t errlen);
/* Switches nothing more; what is installed stays (the SAs expire by their lifetime, or a
 * restarted element adopts them). */
void gk_ipsec_element_free(struct gk_ipsec_element *el);

/* ops.ipsec_up: cur is the binding as it stands (gk_binding_get_info): its index, and for a
 * refresh of an ipsec-3gpp binding its address and ends. 0, or the kernel's refusal (nothing of
 * the new association left, the old one whole). */
int gk_ipsec_element_up(struct gk_ipsec_element *el, const struct gk_binding_info *cur,
                        const struct sockaddr_storage *from, const struct gk_ipsec_end *term,
                        const struct gk_ipsec_end *net, const uint8_t k[GK_KEY_LEN],
                        uint32_t expires_s);
/* binding_down, for a binding of any mechanism. */
void gk_ipsec_element_down(struct gk_ipsec_element *el, const struct gk_binding_info *bi);
/* After a restart, for each ipsec-3gpp binding the registrar took back from its store: the
 * association is adopted (gk_ipsec_adopt), not installed again (K is not kept). -ENOENT when
 * its SAs are gone (the terminal must register again); other bindings: 0, nothing done. */
int gk_ipsec_element_adopt(struct gk_ipsec_element *el, const struct gk_binding_info *bi);
/* A datagram arrived from the ipsec-3gpp binding with this index: switches its pending refresh
 * once the kernel has taken a packet on the new SAs. Cheap when nothing is pending. */
void gk_ipsec_element_seen(struct gk_ipsec_element *el, uint32_t index);

const struct gk_ipsec_element_stats *gk_ipsec_element_stats(const struct gk_ipsec_element *el);
uint32_t gk_ipsec_element_pending(const struct gk_ipsec_element *el);

#endif
