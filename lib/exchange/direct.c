// SPDX-License-Identifier: GPL-2.0-only
/*
 * The direct topology's wiring (direct.h): the registrar's ops call the core, the core's ops call
 * the registrar back. One bit decides where a verdict goes: a reference with GK_REF_PEER set came
 * from an SBC over the network and goes to the peer_* callbacks, any other is the local front's.
 */
#include <string.h>

#include "gatekey/exchange/direct.h"

static void f_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct gk_direct *d = user;
	d->ops.send_terminal(d->user, m, to, b);
}

static void f_register(void *user, uint64_t ref, const char *idc, const char *idsp,
                       const char *address, bool sealed)
{
	/* the front in this process never sends the core a copy (registrar.c, core_resend) */
	gk_core_register(((struct gk_direct *)user)->core, ref, idc, idsp, address, sealed, 0);
}

static void f_answer(void *user, uint64_t ref, const char *idc, const char *idsp,
                     const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                     const char *address, bool sealed)
{
	gk_core_answer(((struct gk_direct *)user)->core, ref, idc, idsp, rand, auth, address,
	               sealed, 0);
}

static void f_digest(void *user, uint64_t ref, const char *idc, const char *idsp,
                     const struct gk_digest *cred, const char *address)
{
	gk_core_digest(((struct gk_direct *)user)->core, ref, idc, idsp, cred, "REGISTER", address);
}

static void f_unbound(void *user, const char *idc, const char *idsp, const char *address,
                      const uint8_t *rand)
{
	gk_core_unbound(((struct gk_direct *)user)->core, idc, idsp, address, rand);
}

static void f_up(void *user, struct gk_binding *b)
{
	struct gk_direct *d = user;
	if (d->ops.binding_up)
		d->ops.binding_up(d->user, b);
}

static void f_down(void *user, struct gk_binding *b)
{
	struct gk_direct *d = user;
	if (d->ops.binding_down)
		d->ops.binding_down(d->user, b);
}

static int f_ipsec_up(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
                      const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                      const uint8_t k[GK_KEY_LEN], uint32_t expires_s)
{
	struct gk_direct *d = user;
	return d->ops.ipsec_up(d->user, b, from, term, net, k, expires_s);
}

static int f_ipsec_adopt(void *user, const struct gk_binding *b)
{
	struct gk_direct *d = user;
	return d->ops.ipsec_adopt(d->user, b);
}

static void c_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct gk_direct *d = user;
	d->ops.auc_request(d->user, handle, idc, idsp);
}

static void c_auc_digest(void *user, uint32_t handle, const char *idc, const char *idsp,
                         const char *realm)
{
	struct gk_direct *d = user;
	if (d->ops.auc_digest)
		d->ops.auc_digest(d->user, handle, idc, idsp, realm);
	else
		gk_core_auc_failed(d->core, handle, GK_R_NO_MECH);
}

static void c_digest_challenge(void *user, uint64_t ref, const struct gk_digest *chal)
{
	struct gk_direct *d = user;
	if (!(ref & GK_REF_PEER))
		gk_registrar_core_digest_challenge(d->front, ref, chal);
	else if (d->ops.peer_digest_challenge)
		d->ops.peer_digest_challenge(d->user, ref, chal);
}

static void c_digest_success(void *user, uint64_t ref)
{
	struct gk_direct *d = user;
	if (!(ref & GK_REF_PEER))
		gk_registrar_core_digest_success(d->front, ref);
	else if (d->ops.peer_digest_success)
		d->ops.peer_digest_success(d->user, ref);
}

static void c_accounting(void *user, const struct gk_auc_acct *a)
{
	struct gk_direct *d = user;
	if (d->ops.auc_accounting)
		d->ops.auc_accounting(d->user, a);
}

static void c_challenge(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN])
{
	struct gk_direct *d = user;
	if (!(ref & GK_REF_PEER))
		gk_registrar_core_challenge(d->front, ref, rand);
	else if (d->ops.peer_challenge)
		d->ops.peer_challenge(d->user, ref, rand);
}

static void c_success(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                      const uint8_t bt[GK_BLOB_LEN], const uint8_t be[GK_BLOB_LEN])
{
	struct gk_direct *d = user;
	if (!(ref & GK_REF_PEER))
		gk_registrar_core_success(d->front, ref, rand, bt, be);
	else if (d->ops.peer_success)
		d->ops.peer_success(d->user, ref, rand, bt, be);
}

static void c_reject(void *user, uint64_t ref, enum gk_reason why)
{
	struct gk_direct *d = user;
	if (!(ref & GK_REF_PEER))
		gk_registrar_core_reject(d->front, ref, why, 0); /* its own Retry-After */
	else if (d->ops.peer_reject)
		d->ops.peer_reject(d->user, ref, why);
}

int gk_direct_init(struct gk_direct *d, const struct gk_registrar_cfg *front_cfg,
                   const struct gk_core_cfg *core_cfg, const struct gk_direct_ops *ops, void *user,
                   struct gk_loop *loop, char *err, size_t errlen)
{
	static const struct gk_registrar_ops fops = {
	    .send_terminal = f_send,
	    .core_register = f_register,
	    .core_answer = f_answer,
	    .core_unbound = f_unbound,
	    .core_digest = f_digest,
	    .binding_up = f_up,
	    .binding_down = f_down,
	};
	static const struct gk_core_ops cops = {
	    .auc_request = c_auc_request,
	    .auc_accounting = c_accounting,
	    .challenge = c_challenge,
	    .success = c_success,
	    .reject = c_reject,
	    .auc_digest = c_auc_digest,
	    .digest_challenge = c_digest_challenge,
	    .digest_success = c_digest_success,
	};

	memset(d, 0, sizeof(*d));
	d->ops = *ops;
	d->user = user;
	d->core = gk_core_new(core_cfg, &cops, d, loop, err, errlen);
	if (!d->core)
		return -1;
	struct gk_registrar_ops front_ops = fops;
	if (ops->ipsec_up)
		front_ops.ipsec_up = f_ipsec_up; /* else the front refuses ipsec-3gpp */
	if (ops->ipsec_adopt)
		front_ops.ipsec_adopt = f_ipsec_adopt; /* else no ipsec-3gpp binding is restored */
	d->front = gk_registrar_new(front_cfg, &front_ops, d, loop, err, errlen);
	if (!d->front) {
		gk_core_free(d->core);
		d->core = NULL;
		return -1;
	}
	return 0;
}

void gk_direct_fini(struct gk_direct *d)
{
	gk_registrar_free(d->front);
	gk_core_free(d->core);
	d->front = NULL;
	d->core = NULL;
}
