// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tables that grow in steps (runtime/steps.h says why): one reservation at the maximum, made
 * resident a doubling at a time with gk_make_resident (runtime/resident.c), wiped and unmapped at
 * the end.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/runtime/steps.h"

static int setup(struct gk_steps *t, const char *name, uint32_t max, size_t size, uint32_t first)
{
	memset(t, 0, sizeof(*t));
	if (!max || !size || size > SIZE_MAX / max)
		return -EINVAL;
	t->name = name ? name : "table";
	t->max = max;
	t->size = size;
	t->first = first < 1 ? 1 : first > max ? max : first;
	t->populate = true;
	return 0;
}

/* Makes [cap, n) resident and moves cap to n. */
static int commit(struct gk_steps *t, uint32_t n)
{
	if (t->populate &&
	    gk_make_resident(gk_steps_at(t, t->cap), (size_t)(n - t->cap) * t->size) < 0) {
		if (!t->failed++)
			gk_warn("%s: no memory to grow from %u to %u entries (of %u): refusing "
			        "what needs more room until there is",
			        t->name, t->cap, n, t->max);
		return -ENOMEM;
	}
	t->cap = n;
	return 0;
}

int gk_steps_init(struct gk_steps *t, const char *name, uint32_t max, size_t size, uint32_t first)
{
	int ret = setup(t, name, max, size, first);
	void *m;

	if (ret < 0)
		return ret;
	t->map_len = (size_t)max * size;
	m = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	/* Huge pages only where a step covers one whole (gk_make_resident asks for them there):
	 * under THP "always" the first write to a small first step would otherwise make the 2 MiB
	 * around it resident. */
	madvise(m, t->map_len, MADV_NOHUGEPAGE);
	t->base = m;
	if (commit(t, t->first) < 0) {
		gk_steps_free(t);
		return -ENOMEM;
	}
	return 0;
}

int gk_steps_attach(struct gk_steps *t, const char *name, void *base, uint32_t max, size_t size,
                    uint32_t first)
{
	int ret = setup(t, name, max, size, first);

	if (ret < 0)
		return ret;
	t->base = base;
	if (commit(t, t->first) < 0) {
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	return 0;
}

uint32_t gk_steps_grow(struct gk_steps *t)
{
	uint32_t old = t->cap, n;

	if (!t->base || old >= t->max)
		return 0;
	n = gk_steps_next(t);
	if (commit(t, n) < 0)
		return 0;
	t->grows++;
	gk_debug("%s: grew from %u to %u entries (of %u), %.1f MiB resident", t->name, old, n,
	         t->max, (double)gk_steps_bytes(t) / (1 << 20));
	return old;
}

int gk_steps_reach(struct gk_steps *t, uint32_t n)
{
	if (n > t->max)
		return -ENOSPC;
	while (t->cap < n)
		if (!gk_steps_grow(t))
			return -ENOMEM;
	return 0;
}

void gk_steps_free(struct gk_steps *t)
{
	if (!t->base)
		return;
	gk_wipe(t->base, (size_t)t->cap * t->size);
	if (t->map_len)
		munmap(t->base, t->map_len);
	memset(t, 0, sizeof(*t));
}
