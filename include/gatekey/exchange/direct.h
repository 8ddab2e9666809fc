/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The direct topology (the patent's claims 1-8): the front (registrar.h) and the core (core.h)
 * in one process, calling each other. softswitchd serves terminals this way; the unit tests run
 * the whole exchange through it. The same core also serves SBCs (claims 9-16): requests that an
 * SBC's front sent over the network carry references with GK_REF_PEER set, and the core's
 * verdicts on those go to the peer_* callbacks instead of the local front.
 */
#ifndef GATEKEY_DIRECT_H
#define GATEKEY_DIRECT_H

#include "gatekey/exchange/core.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/relay.h"

struct gk_direct_ops {
	void (*send_terminal)(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
	                      struct gk_binding *b);
	void (*auc_request)(void *user, uint32_t handle, const char *idc, const char *idsp);
	/* HA1 for a Digest answer (optional: without it Digest registrations are refused). */
	void (*auc_digest)(void *user, uint32_t handle, const char *idc, const char *idsp,
	                   const char *realm);
	void (*auc_accounting)(void *user, const struct gk_auc_acct *a);
	void (*binding_up)(void *user, struct gk_binding *b);
	void (*binding_down)(void *user, struct gk_binding *b);
	/* ipsec-3gpp's SAs (registrar.h, gk_registrar_ops.ipsec_up); optional unless the front
	 * supports ipsec-3gpp. */
	int (*ipsec_up)(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
	                const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
	                const uint8_t k[GK_KEY_LEN], uint32_t expires_s);
	int (*ipsec_adopt)(void *user, const struct gk_binding *b); /* gk_registrar_ops' */
	/* Verdicts on requests from SBCs (optional: only a core that serves SBCs needs them). */
	void (*peer_challenge)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN]);
	void (*peer_success)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
	                     const uint8_t blob_terminal[GK_BLOB_LEN],
	                     const uint8_t blob_element[GK_BLOB_LEN]);
	void (*peer_reject)(void *user, uint64_t ref, enum gk_reason why);
	void (*peer_digest_challenge)(void *user, uint64_t ref, const struct gk_digest *chal);
	void (*peer_digest_success)(void *user, uint64_t ref);
};

struct gk_direct {
	struct gk_registrar *front;
	struct gk_core *core;
	struct gk_direct_ops ops;
	void *user;
};

/* 0, or -1 with err. */
int gk_direct_init(struct gk_direct *d, const struct gk_registrar_cfg *front_cfg,
                   const struct gk_core_cfg *core_cfg, const struct gk_direct_ops *ops, void *user,
                   struct gk_loop *loop, char *err, size_t errlen);
void gk_direct_fini(struct gk_direct *d);

#endif
