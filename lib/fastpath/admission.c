// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admission controller (admission.h): queue depth in, share of strangers' registrations
 * to shed out. Pure arithmetic, so that its behaviour is tested without a daemon.
 */
#include "gatekey/fastpath/admission.h"

uint32_t gk_admission_depth(uint64_t used, uint64_t capacity)
{
	if (!capacity)
		return 0;
	if (used >= capacity)
		return 1000;
	return (uint32_t)(used * 1000 / capacity);
}

uint32_t gk_admission_step(struct gk_admission *a, uint32_t depth)
{
	uint32_t shed = a->shed;

	a->depth = depth;
	if (depth >= GK_ADMISSION_HIGH && shed < GK_ADMISSION_MAX) {
		uint32_t up = (GK_ADMISSION_MAX - shed) / 4;
		shed += up > GK_ADMISSION_STEP_UP ? up : GK_ADMISSION_STEP_UP;
		if (shed > GK_ADMISSION_MAX)
			shed = GK_ADMISSION_MAX;
		a->raised++;
	} else if (depth < GK_ADMISSION_LOW && shed) {
		shed = shed > GK_ADMISSION_STEP_DOWN ? shed - GK_ADMISSION_STEP_DOWN : 0;
		a->lowered++;
	}
	a->shed = shed;
	return shed;
}
