// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whom a terminal's request speaks for (identity.h): the gk-mac binding that verified it, as the
 * registrar holds it, or the binding its source address is pinned to, as mirrored here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/addrmap.h"
#include "gatekey/identity.h"

struct entry {
	char idc[GK_ID_MAX + 1];
	uint8_t mech;
	bool up;
};

struct gk_identities {
	uint32_t max;
	struct gk_addrmap *by_addr; /* address -> binding index, as the registrar's own map */
	struct entry *e;            /* 1..max */
};

struct gk_identities *gk_identities_new(uint32_t max_terminals)
{
	struct gk_identities *ids = calloc(1, sizeof(*ids));
	if (!ids)
		return NULL;
	ids->max = max_terminals;
	ids->by_addr = gk_addrmap_new(max_terminals);
	/* calloc of large arrays maps zero pages lazily: memory is touched only as used. */
	ids->e = calloc((size_t)max_terminals + 1, sizeof(*ids->e));
	if (!ids->by_addr || !ids->e) {
		gk_identities_free(ids);
		return NULL;
	}
	return ids;
}

void gk_identities_free(struct gk_identities *ids)
{
	if (!ids)
		return;
	gk_addrmap_free(ids->by_addr);
	free(ids->e);
	free(ids);
}

void gk_identities_up(struct gk_identities *ids, const struct gk_binding_info *bi)
{
	if (!bi->index || bi->index > ids->max)
		return;
	struct entry *e = &ids->e[bi->index];
	snprintf(e->idc, sizeof(e->idc), "%s", bi->idc);
	e->mech = bi->mech;
	e->up = true;
	gk_addrmap_put(ids->by_addr, &bi->addr, bi->index);
}

void gk_identities_down(struct gk_identities *ids, const struct gk_binding_info *bi)
{
	if (!bi->index || bi->index > ids->max)
		return;
	gk_addrmap_del(ids->by_addr, &bi->addr, bi->index);
	memset(&ids->e[bi->index], 0, sizeof(ids->e[bi->index]));
}

void gk_identities_restored(struct gk_identities *ids, const struct gk_binding_record *rec)
{
	struct gk_binding_info bi;

	memset(&bi, 0, sizeof(bi));
	snprintf(bi.idc, sizeof(bi.idc), "%s", rec->idc);
	bi.index = rec->index;
	bi.addr = rec->addr;
	bi.mech = rec->mech;
	gk_identities_up(ids, &bi);
}

/* The IDc of the binding `a` is pinned to, NULL when none (or a gk-mac one, which pins nothing:
 * its datagrams speak through their trailer). */
static const char *pinned_idc(const struct gk_identities *ids, const struct sockaddr_storage *a)
{
	uint32_t i = gk_addrmap_find(ids->by_addr, a);
	if (!i || !ids->e[i].up || ids->e[i].mech == GK_MECH_GKMAC)
		return NULL;
	return ids->e[i].idc;
}

enum gk_reason gk_identity_check(const struct gk_identities *ids, struct gk_registrar *r,
                                 uint32_t index, const struct sockaddr_storage *from,
                                 const char *claimed, char idc[GK_ID_MAX + 1])
{
	struct gk_binding_info bi;
	const char *own;

	idc[0] = '\0';
	if (index) {
		struct gk_binding *b = gk_registrar_gkmac_binding(r, index, from);
		if (!b)
			return GK_R_NOT_REGISTERED;
		gk_binding_get_info(b, &bi);
		own = bi.idc;
	} else {
		/* The registrar's word that `from` is pinned, and ours on to whom. */
		if (!gk_registrar_other_allowed(r, from) || !(own = pinned_idc(ids, from)))
			return GK_R_NOT_REGISTERED;
	}
	if (claimed[0] && strcmp(claimed, own) != 0)
		return GK_R_IDENTITY_MISMATCH;
	snprintf(idc, GK_ID_MAX + 1, "%s", own);
	return GK_R_OK;
}
