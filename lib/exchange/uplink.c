// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core leg's messages (uplink.h): builders for the SBC's requests and the core's verdicts.
 * Every message starts cleared, the wire context included, so nothing of an earlier message
 * leaks into one sent on the core leg; a verdict copies its request's wire context, which is how
 * the SBC's transaction reference comes back to it.
 */
#include <string.h>

#include "gatekey/exchange/uplink.h"
#include "gatekey/runtime/config.h"

static void base(struct gk_msg *m, enum gk_msg_type type, const char *idc, const char *idsp)
{
	gk_msg_clear(m); /* the wire context too: a caller may add one, or send none */
	m->type = (uint8_t)type;
	gk_copy_text(m->idc, sizeof(m->idc), idc);
	gk_copy_text(m->idsp, sizeof(m->idsp), idsp);
}

void gk_uplink_request(struct gk_msg *m, enum gk_msg_type type, const char *idc, const char *idsp,
                       const uint8_t *rand, const uint8_t *auth, const char *address)
{
	base(m, type, idc, idsp);
	if (rand) {
		memcpy(m->rand, rand, GK_RAND_LEN);
		m->fields |= GK_F_RAND;
	}
	if (auth) {
		memcpy(m->auth, auth, GK_AUTH_LEN);
		m->fields |= GK_F_AUTH;
	}
	if (address) {
		gk_copy_text(m->address, sizeof(m->address), address);
		m->fields |= GK_F_ADDR;
	}
	if (type == GK_MSG_DEREGISTER) {
		m->expires = 0;
		m->fields |= GK_F_EXPIRES;
	}
}

void gk_uplink_digest_request(struct gk_msg *m, const char *idc, const char *idsp,
                              const struct gk_digest *cred, const char *address)
{
	gk_uplink_request(m, GK_MSG_REGISTER, idc, idsp, NULL, NULL, address);
	/* RFC 3329 names the mechanism `digest`: the one list entry says which exchange this is. */
	m->mechs[0].mech = GK_MECH_DIGEST;
	m->mechs[0].q = 1000;
	m->n_mechs = 1;
	m->fields |= GK_F_MECHS;
	if (cred) {
		m->digest = *cred;
		m->fields |= GK_F_DIGEST;
	}
}

bool gk_uplink_is_digest(const struct gk_msg *m)
{
	return m->type == GK_MSG_REGISTER && (m->fields & GK_F_MECHS) && m->n_mechs == 1 &&
	       m->mechs[0].mech == GK_MECH_DIGEST && !(m->fields & GK_F_N1);
}

void gk_uplink_verdict(struct gk_msg *m, const struct gk_msg *req, enum gk_msg_type type,
                       const uint8_t *rand, const uint8_t *blob_terminal,
                       const uint8_t *blob_element)
{
	base(m, type, req->idc, req->idsp);
	m->proto = req->proto;
	gk_msg_copy_wire(m, req);
	if (rand) {
		memcpy(m->rand, rand, GK_RAND_LEN);
		m->fields |= GK_F_RAND;
	}
	if (blob_terminal) {
		memcpy(m->blob, blob_terminal, GK_BLOB_LEN);
		m->fields |= GK_F_BLOB;
	}
	if (blob_element) {
		memcpy(m->blob_element, blob_element, GK_BLOB_LEN);
		m->fields |= GK_F_BLOB_ELEM;
	}
	if (type == GK_MSG_DEREG_OK) {
		m->expires = 0;
		m->fields |= GK_F_EXPIRES;
	}
}

enum gk_reason gk_uplink_refusal(const struct gk_msg *m, uint32_t *retry_after_s)
{
	bool overload = m->type == GK_MSG_REJECT && m->reason == GK_R_OVERLOAD;

	*retry_after_s = overload ? m->retry_after : 0;
	return overload ? GK_R_OVERLOAD : GK_R_REFUSED;
}
