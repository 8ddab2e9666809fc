/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sbcd's fast path (DESIGN §6): the XDP program on the access interface when it can be
 * attached, else the same decision in userspace (gatekey/fp_user.h). Either way it holds every
 * registered terminal (index, address, mechanism, uplink key) and, beside the XDP maps, the
 * session records a restarted sbcd takes its terminals back from.
 */
#ifndef SBCD_FASTPATH_H
#define SBCD_FASTPATH_H

#include <net/if.h>

#include "gatekey/runtime/control.h"
#include "gatekey/fastpath/admission.h"
#include "gatekey/fastpath/fp_user.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/fastpath/xdp.h"
#include "gatekey/runtime/linkwatch.h"

enum sbc_fp_want { SBC_FP_AUTO = 0, SBC_FP_NATIVE, SBC_FP_GENERIC, SBC_FP_USERSPACE };

struct sbc_fp_settings {
	char interface[IF_NAMESIZE];
	enum sbc_fp_want want;
	char pin_root[256];
	bool detach_on_exit;
	struct gk_fp_config cfg;
	bool ports_set; /* fastpath.port given: the plan replaces the default one */
	bool admission; /* fastpath.admission: shed strangers' registrations as queues deepen */
};

struct sbc_fastpath {
	struct sbc_fp_settings set;
	enum gk_xdp_mode mode; /* GK_XDP_MODE_NONE: the userspace path */
	struct gk_xdp *xdp;
	struct gk_fp_user *user;
	/* The userspace path's binding store (registrar.binding_store), or NULL: with XDP the
	 * pinned maps hold the terminals and their windows. */
	struct gk_bindstore *store;
	uint64_t install_failed, shed_push_failed;
	struct gk_admission adm;
	char fallback_reason[512]; /* why the userspace path runs ("" with XDP attached) */
	/* The access interface through its changes (sbc_fp_link_event). */
	uint64_t link_gone, link_new, link_up, link_down, reattached, reattach_failed;
	bool attached; /* XDP is on the access interface now (false once it is deleted) */
};

void sbc_fp_settings_defaults(struct sbc_fp_settings *s);
/* Config handlers: "fastpath.mode", "fastpath.port". */
int sbc_fp_parse_mode(const char *value, void *arg, char *err, size_t errlen);
int sbc_fp_parse_port(const char *value, void *arg, char *err, size_t errlen);

/* Loads and attaches (or falls back), with tables for terminal indexes 1..max_terminals (at
 * most GK_FP_TERMINALS_MAX), and says which at start-up, with the memory they take. 0, or -1
 * with err when the configuration cannot work at all (an explicit native/generic that fails, a
 * bad port plan, maps pinned for another size or layout). */
int sbc_fp_start(struct sbc_fastpath *f, uint32_t max_terminals, char *err, size_t errlen);
/* Takes back the terminals a previous sbcd left in the pinned maps; returns how many. */
int sbc_fp_restore(struct sbc_fastpath *f, struct gk_registrar *r);
void sbc_fp_stop(struct sbc_fastpath *f);

void sbc_fp_binding_up(struct sbc_fastpath *f, const struct gk_binding *b);
void sbc_fp_binding_down(struct sbc_fastpath *f, const struct gk_binding *b);
void sbc_fp_binding_lingers(struct sbc_fastpath *f, const struct gk_binding *b);

/* The userspace decision on an access datagram that arrived at local port dport (XDP attached:
 * the kernel decided already, the datagram passes as it is). As gk_fp_user_check. */
long sbc_fp_check(struct sbc_fastpath *f, uint16_t dport, const struct sockaddr_storage *from,
                  const uint8_t *buf, size_t len, uint64_t now_ns, uint32_t *index,
                  enum gk_fp_stat *stat);

/* One admission tick (admission.h) with the deepest of sbcd's queues at depth permille: the
 * share of strangers' registrations shed changes in the fast path (XDP or userspace) when the
 * controller moves it. Nothing when fastpath.admission is off. */
void sbc_fp_admission_tick(struct sbc_fastpath *f, uint32_t depth);

/* Verified port of a signalling port, 0 when none (or when XDP is not attached). */
uint16_t sbc_fp_verified_port(const struct sbc_fastpath *f, uint16_t port);
/* The access interface changed (runtime/linkwatch.h): logs it and, with XDP, attaches the
 * program again, in the mode it had, to an interface created again under the same name, or
 * to one that came back up without it. The pinned maps keep every registered terminal.
 * Returns true when the interface is usable again (NEW or UP), so that the caller binds its
 * device-bound sockets to it. */
bool sbc_fp_link_event(struct sbc_fastpath *f, enum gk_link_event ev, int ifindex);
void sbc_fp_ctl_stats(struct sbc_fastpath *f, struct gk_ctl_reply *out);

#endif
