// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tables that grow in steps (runtime/steps.h says why): one reservation at the maximum, made
 * resident a doubling at a time with gk_make_resident (runtime/resident.c), wiped and unmapped at
 * the end. Every live table is on one list, so that a daemon's stats can account for each step
 * (gk_steps_each): the list changes only when a table is made or freed, under a lock, since tests
 * and tools may make tables on more than one thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/runtime/steps.h"

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
/* Its address names the thread: a table is prepared only by the thread that made it. */
static _Thread_local char thread_tag;
static struct gk_steps *live_oldest, *live_newest;

static void live_add(struct gk_steps *t)
{
	pthread_mutex_lock(&live_lock);
	t->live_prev = live_newest;
	t->live_next = NULL;
	if (live_newest)
		live_newest->live_next = t;
	else
		live_oldest = t;
	live_newest = t;
	t->live = true;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct gk_steps *t)
{
	if (!t->live)
		return;
	pthread_mutex_lock(&live_lock);
	if (t->live_prev)
		t->live_prev->live_next = t->live_next;
	else
		live_oldest = t->live_next;
	if (t->live_next)
		t->live_next->live_prev = t->live_prev;
	else
		live_newest = t->live_prev;
	t->live = false;
	pthread_mutex_unlock(&live_lock);
}

void gk_steps_each(void (*fn)(const struct gk_steps *t, void *arg), void *arg)
{
	pthread_mutex_lock(&live_lock);
	for (const struct gk_steps *t = live_oldest; t; t = t->live_next)
		fn(t, arg);
	pthread_mutex_unlock(&live_lock);
}

static bool key_ok(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (!n || n >= GK_STEPS_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		      key[i] == '_'))
			return false;
	return true;
}

static int setup(struct gk_steps *t, const char *key, uint32_t max, size_t size, uint32_t first,
                 const struct gk_steps_opts *opts)
{
	memset(t, 0, sizeof(*t));
	if (!max || !size || size > SIZE_MAX / max || !key_ok(key))
		return -EINVAL;
	if (opts && opts->resident_size > size)
		return -EINVAL;
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->max = max;
	t->size = size;
	t->resident_size = opts && opts->resident_size ? opts->resident_size : size;
	t->first = first < 1 ? 1 : first > max ? max : first;
	t->populate = !(opts && opts->lazy);
	t->thread = &thread_tag;
	return 0;
}

/* Makes entries [from, to) resident (each entry's first resident_size bytes). */
static int populate(struct gk_steps *t, uint32_t from, uint32_t to)
{
	if (!t->populate || from >= to)
		return 0;
	if (t->resident_size == t->size)
		return gk_make_resident(gk_steps_at(t, from), (size_t)(to - from) * t->size);
	for (uint32_t i = from; i < to; i++)
		if (gk_make_resident(gk_steps_at(t, i), t->resident_size) < 0)
			return -ENOMEM;
	return 0;
}

/* Moves cap to n, making resident what of [cap, n) is not yet (what was prepared is). */
static int commit(struct gk_steps *t, uint32_t n)
{
	if (populate(t, t->ready > t->cap ? t->ready : t->cap, n) < 0) {
		if (!t->failed++)
			gk_warn("%s: no memory to grow from %u to %u entries (of %u): refusing "
			        "what needs more room until there is",
			        t->key, t->cap, n, t->max);
		return -ENOMEM;
	}
	t->cap = n;
	if (t->ready < n)
		t->ready = n;
	return 0;
}

int gk_steps_init_opts(struct gk_steps *t, const char *key, uint32_t max, size_t size,
                       uint32_t first, const struct gk_steps_opts *opts)
{
	int ret = setup(t, key, max, size, first, opts);
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
	live_add(t);
	return 0;
}

int gk_steps_init(struct gk_steps *t, const char *key, uint32_t max, size_t size, uint32_t first)
{
	return gk_steps_init_opts(t, key, max, size, first, NULL);
}

int gk_steps_attach(struct gk_steps *t, const char *key, void *base, uint32_t max, size_t size,
                    uint32_t first)
{
	int ret = setup(t, key, max, size, first, NULL);

	if (ret < 0)
		return ret;
	t->base = base;
	if (commit(t, t->first) < 0) {
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	live_add(t);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint32_t gk_steps_grow(struct gk_steps *t)
{
	uint32_t old = t->cap, n;
	double start = now_ms();

	if (!t->base || old >= t->max)
		return 0;
	n = gk_steps_next(t);
	if (commit(t, n) < 0)
		return 0;
	t->grows++;
	/* The time is the loop's: a step is taken by the request that found the table full. */
	gk_debug("%s: grew from %u to %u entries (of %u), %.1f MiB resident, in %.1f ms", t->key,
	         old, n, t->max, (double)gk_steps_bytes(t) / (1 << 20), now_ms() - start);
	return old;
}

int gk_steps_reach(struct gk_steps *t, uint32_t n)
{
	if (n > t->max)
		return -ENOSPC;
	gk_steps_need(t, n);
	while (t->cap < n)
		if (!gk_steps_grow(t))
			return -ENOMEM;
	return 0;
}

/* A table half full of what its owner uses gets the next step made resident ahead of need. */
static size_t prepare_one(struct gk_steps *t, size_t budget)
{
	if (!t->populate || !t->base || t->thread != &thread_tag || t->cap >= t->max ||
	    (uint64_t)t->peak * 2 < t->cap)
		return 0;
	uint32_t next = gk_steps_next(t), from = t->ready > t->cap ? t->ready : t->cap;
	if (from >= next)
		return 0;
	size_t n = budget / t->resident_size;
	uint32_t to = n < 1 ? from + 1 : n >= next - from ? next : from + (uint32_t)n;
	/* Without memory now, the step itself will say so when it is needed. */
	if (populate(t, from, to) < 0)
		return budget;
	t->ready = to;
	return (size_t)(to - from) * t->resident_size;
}

size_t gk_steps_prepare(size_t budget)
{
	size_t done = 0;

	pthread_mutex_lock(&live_lock);
	for (struct gk_steps *t = live_oldest; t && done < budget; t = t->live_next)
		done += prepare_one(t, budget - done);
	pthread_mutex_unlock(&live_lock);
	return done;
}

void gk_steps_detach(struct gk_steps *t)
{
	live_remove(t);
	memset(t, 0, sizeof(*t));
}

void gk_steps_free(struct gk_steps *t)
{
	if (!t->base)
		return;
	live_remove(t);
	if (t->resident_size == t->size)
		gk_wipe(t->base, (size_t)t->cap * t->size);
	if (t->map_len)
		munmap(t->base, t->map_len);
	memset(t, 0, sizeof(*t));
}
