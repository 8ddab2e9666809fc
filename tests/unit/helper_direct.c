// SPDX-License-Identifier: GPL-2.0-only
/* The exchange tests' direct topology and SA comparison (helper_direct.h). */
#include <stdio.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "helper_direct.h"

int helper_direct_init(struct gk_direct *d, struct gk_loop *loop, const uint8_t kss[GK_KEY_LEN],
                       uint32_t mechs, const struct gk_direct_ops *ops, void *user, char *err,
                       size_t errlen)
{
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;

	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	memcpy(cfg.element_key, kss, GK_KEY_LEN);
	cfg.mechs_supported = mechs;
	if (mechs & (1u << GK_MECH_IPSEC)) {
		for (unsigned p = GK_PROTO_SIP; p < GK_PROTO_COUNT; p++) {
			cfg.ipsec_port_c[p] = HELPER_IPSEC_PORT_C;
			cfg.ipsec_port_s[p] = HELPER_IPSEC_PORT_S;
		}
	}
	cfg.max_terminals = 16;
	cfg.max_pending = 8;
	cfg.log_registrations = false;
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = 16;
	ccfg.max_pending = 8;
	return gk_direct_init(d, &cfg, &ccfg, ops, user, loop, err, errlen) < 0 ? -1 : 0;
}

void helper_ipsec_terminal(struct gk_terminal *t, const uint8_t kc[GK_KEY_LEN],
                           const struct gk_ipsec_end *own)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->idc, sizeof(t->idc), "alice");
	snprintf(t->idsp, sizeof(t->idsp), "ss1");
	memcpy(t->kc, kc, GK_KEY_LEN);
	t->offer[0] = (struct gk_mech_offer){GK_MECH_IPSEC, 1000};
	t->offer[1] = (struct gk_mech_offer){GK_MECH_GKMAC, 500};
	t->n_offer = 2;
	t->ipsec_own = *own;
	t->expires = 600;
}

int helper_sas_differ(const struct gk_ipsec_assoc *at_t, const uint8_t k_t[GK_KEY_LEN],
                      const struct gk_ipsec_assoc *at_e, const uint8_t k_e[GK_KEY_LEN])
{
	struct gk_ipsec_flow ft[GK_IPSEC_FLOWS], fe[GK_IPSEC_FLOWS];
	uint8_t kt[GK_XFRM_KEY_LEN], ke[GK_XFRM_KEY_LEN];
	int differ = -1;

	if (gk_ipsec_flows(at_t, ft) || gk_ipsec_flows(at_e, fe))
		return GK_IPSEC_FLOWS;
	for (int i = 0; i < GK_IPSEC_FLOWS && differ < 0; i++) {
		if (ft[i].xfrm.spi != fe[i].xfrm.spi || ft[i].uplink != fe[i].uplink ||
		    gk_ipsec_flow_key(k_t, &ft[i], kt) || gk_ipsec_flow_key(k_e, &fe[i], ke) ||
		    memcmp(kt, ke, sizeof(kt)) != 0)
			differ = i;
	}
	gk_wipe(kt, sizeof(kt));
	gk_wipe(ke, sizeof(ke));
	return differ;
}
