/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whom a terminal's request speaks for (DESIGN §5: "a verified datagram speaks only for the
 * identity of the binding whose key verified it"). A request names an IDc (the SIP To user, the
 * MGCP endpoint's local name, the H.248 idc property, the RAS h323-ID alias), and anyone can
 * write any name there; what the access checks establish is only which binding the datagram
 * belongs to: the gk-mac binding whose key verified its trailer, or the binding pinned to the
 * address it came from (mechanisms without a per-datagram MAC, e.g. digest). An element that
 * passes a request on (sbcd to the softswitch) must therefore take the identity from that
 * binding and refuse a request that claims another one: else any registered terminal could act
 * towards the core as any other subscriber.
 *
 * The registrar finds a gk-mac binding by its index (gk_registrar_gkmac_binding); which binding
 * an address is pinned to it does not say, so gk_identities keeps that beside it, from the
 * bindings going up and down (binding_up / binding_down) and those taken back at a restart, in
 * the same order as the registrar's own address map, which it mirrors: fixed size, nothing
 * allocated per request.
 */
#ifndef GATEKEY_IDENTITY_H
#define GATEKEY_IDENTITY_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/reason.h"
#include "gatekey/registrar.h"

struct gk_identities;

/* For binding indexes 1..max_terminals (the registrar's). NULL when out of memory. */
struct gk_identities *gk_identities_new(uint32_t max_terminals);
void gk_identities_free(struct gk_identities *ids);
/* A binding came up (registered, refreshed, taken back at a restart) or went down. */
void gk_identities_up(struct gk_identities *ids, const struct gk_binding_info *bi);
void gk_identities_down(struct gk_identities *ids, const struct gk_binding_info *bi);
/* A binding the registrar took back from its record (gk_registrar_restore returned 0), which
 * calls no binding_up. */
void gk_identities_restored(struct gk_identities *ids, const struct gk_binding_record *rec);

/*
 * The identity a request from `from`, verified for gk-mac binding index (0: none, then the
 * binding pinned to `from` counts), may speak for: GK_R_OK with idc set to the binding's IDc
 * when claimed is that IDc or empty (the request names nobody: it speaks for its binding);
 * GK_R_IDENTITY_MISMATCH when it claims another; GK_R_NOT_REGISTERED when no binding stands
 * behind it (any more).
 */
enum gk_reason gk_identity_check(const struct gk_identities *ids, struct gk_registrar *r,
                                 uint32_t index, const struct sockaddr_storage *from,
                                 const char *claimed, char idc[GK_ID_MAX + 1]);

#endif
