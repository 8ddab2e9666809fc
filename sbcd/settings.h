/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SBCD_SETTINGS_H
#define SBCD_SETTINGS_H

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/coreleg.h"
#include "gatekey/exchange/front_ipsec.h"
#include "gatekey/exchange/front_settings.h"
#include "gatekey/exchange/registrar.h"
#include "fastpath.h"

#define SBC_MAX_LISTEN  4
#define SBC_IPSEC_OWNER 1 /* ipsec.owner's default: softswitchd's is 2 */

struct sbc_settings {
	char id[GK_CFG_STR_MAX];
	char key_file[GK_CFG_STR_MAX];
	struct sockaddr_storage listen[SBC_MAX_LISTEN];
	unsigned n_listen;
	struct gk_front_listeners bindings; /* MGCP, H.248, RAS */
	struct sockaddr_storage softswitch, core_bind;
	/* core.key_file, read as the line is: its id is checked against the SBC's in finish */
	char core_key_path[GK_CFG_STR_MAX], core_key_id[GK_ID_MAX + 1];
	uint8_t core_key[GK_CORELEG_KEY_LEN];
	bool have_core_key;
	struct gk_front_settings front;
	struct gk_front_ipsec_settings ipsec;
	char fp_interface[GK_CFG_STR_MAX];
	struct sbc_fp_settings fp;
};

void sbc_settings_keys(struct sbc_settings *s, struct gk_cfg_key *keys, size_t cap);
/* Validates, reads the SBC's key file, and produces the front's configuration. The core-leg key
 * stays in s->core_key for the caller, which wipes it. */
int sbc_settings_finish(struct sbc_settings *s, struct gk_registrar_cfg *rc, char *err,
                        size_t errlen);

#endif
