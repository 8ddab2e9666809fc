// SPDX-License-Identifier: GPL-2.0-only
/*
 * The element's associations across its bindings (gatekey/ipsec/element.h): install, refresh
 * make-before-break with the switch deferred until the terminal has used the new SAs, removal.
 * A refresh waiting for its switch holds an entry of a fixed table, found by the binding's index
 * through a map allocated once, so the datagram path's check is one load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/ipsec/element.h"

struct pending_switch {
	struct gk_ipsec_assoc cur, next;
	uint32_t index; /* the binding's; 0: free */
	uint32_t next_free;
	struct gk_timer timer;
	struct gk_ipsec_element *el;
};

struct gk_ipsec_element {
	struct gk_xfrm *h;
	struct gk_loop *loop;
	struct gk_ipsec_element_cfg cfg;
	uint32_t max_index;
	uint32_t *slot_of; /* binding index -> entry (1-based), 0: none pending */
	/* binding index -> the element's spi-c of the association installed for it (each
	 * registration's is new), 0: none. The end of a binding a refresh replaced names another:
	 * its SAs went at the switch (or go there), and the new ones, which may share SAs and
	 * policy selectors with it, stay. */
	uint32_t *installed;
	struct pending_switch *entries; /* 1..max_pending */
	uint32_t free_head, used;
	struct gk_ipsec_element_stats st;
};

struct gk_ipsec_element *gk_ipsec_element_new(struct gk_xfrm *h, struct gk_loop *loop,
                                              const struct gk_ipsec_element_cfg *cfg,
                                              uint32_t max_index, char *err, size_t errlen)
{
	struct gk_ipsec_element *el;

	if (!h || !loop || !cfg->max_pending || !max_index) {
		snprintf(err, errlen,
		         "ipsec: no XFRM handle, loop, index range or pending switches");
		return NULL;
	}
	if (cfg->addr4.ss_family != AF_INET && cfg->addr6.ss_family != AF_INET6) {
		snprintf(err, errlen, "ipsec: the element needs an IPv4 or IPv6 access address");
		return NULL;
	}
	el = calloc(1, sizeof(*el));
	if (!el)
		goto oom;
	el->h = h;
	el->loop = loop;
	el->cfg = *cfg;
	el->max_index = max_index;
	/* calloc'ed pages cost nothing until a refresh lands on them */
	el->slot_of = calloc((size_t)max_index + 1, sizeof(*el->slot_of));
	el->installed = calloc((size_t)max_index + 1, sizeof(*el->installed));
	el->entries = calloc((size_t)cfg->max_pending + 1, sizeof(*el->entries));
	if (!el->slot_of || !el->installed || !el->entries) {
		gk_ipsec_element_free(el);
		goto oom;
	}
	for (uint32_t i = cfg->max_pending; i >= 1; i--) {
		el->entries[i].next_free = el->free_head;
		el->free_head = i;
	}
	return el;
oom:
	snprintf(err, errlen, "ipsec: out of memory");
	return NULL;
}

void gk_ipsec_element_free(struct gk_ipsec_element *el)
{
	if (!el)
		return;
	if (el->entries)
		for (uint32_t i = 1; i <= el->cfg.max_pending; i++) {
			gk_timer_cancel(el->loop, &el->entries[i].timer);
			gk_wipe(&el->entries[i], sizeof(el->entries[i]));
		}
	free(el->entries);
	free(el->slot_of);
	free(el->installed);
	free(el);
}

/* The association with a terminal at term_addr, from the element's side. */
static int assoc_of(const struct gk_ipsec_element *el, const struct sockaddr_storage *term_addr,
                    const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                    uint32_t expires_s, struct gk_ipsec_assoc *out)
{
	const struct sockaddr_storage *local =
	    term_addr->ss_family == AF_INET ? &el->cfg.addr4 : &el->cfg.addr6;

	if (local->ss_family != term_addr->ss_family)
		return -EAFNOSUPPORT;
	memset(out, 0, sizeof(*out));
	out->side = GK_IPSEC_AT_ELEMENT;
	out->term = *term_addr;
	out->net = *local;
	out->term_end = *term;
	out->net_end = *net;
	out->owner = el->cfg.owner;
	out->lifetime_s = expires_s ? expires_s + GK_IPSEC_LIFETIME_MARGIN_S : 0;
	return 0;
}

/* Whether the association a is the one bi was made with. */
static bool is_bindings(const struct gk_ipsec_assoc *a, const struct gk_binding_info *bi)
{
	return gk_ipsec_end_equal(&a->term_end, &bi->ipsec_term) &&
	       gk_ipsec_end_equal(&a->net_end, &bi->ipsec_net);
}

static struct pending_switch *pending_of(const struct gk_ipsec_element *el, uint32_t index)
{
	uint32_t i = index && index <= el->max_index ? el->slot_of[index] : 0;
	return i ? &el->entries[i] : NULL;
}

static void pending_release(struct gk_ipsec_element *el, struct pending_switch *p)
{
	uint32_t i = (uint32_t)(p - el->entries);

	gk_timer_cancel(el->loop, &p->timer);
	el->slot_of[p->index] = 0;
	gk_wipe(p, sizeof(*p));
	p->next_free = el->free_head;
	el->free_head = i;
	el->used--;
}

/* The element's outbound flows move to the new SAs and the old ones go; whatever happens, the
 * refresh is no longer pending. */
static void do_switch(struct gk_ipsec_element *el, struct pending_switch *p, uint64_t *counter)
{
	if (gk_ipsec_switch(el->h, &p->cur, &p->next) == 0)
		(*counter)++;
	else
		el->st.failed++; /* every outbound flow is back on cur; both expire by lifetime */
	pending_release(el, p);
}

static void switch_timeout(struct gk_timer *t)
{
	struct pending_switch *p =
	    (struct pending_switch *)((char *)t - offsetof(struct pending_switch, timer));
	do_switch(p->el, p, &p->el->st.switched_on_timeout);
}

int gk_ipsec_element_up(struct gk_ipsec_element *el, const struct gk_binding_info *cur,
                        const struct sockaddr_storage *from, const struct gk_ipsec_end *term,
                        const struct gk_ipsec_end *net, const uint8_t k[GK_KEY_LEN],
                        uint32_t expires_s)
{
	struct gk_ipsec_assoc next, old;
	struct pending_switch *p;
	int rc = assoc_of(el, from, term, net, expires_s, &next);

	if (rc)
		goto failed;
	if (!cur->index || cur->index > el->max_index) {
		rc = -EINVAL;
		goto failed;
	}
	if (cur->mech != GK_MECH_IPSEC) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = gk_ipsec_install(el->h, &next, k);
		if (rc)
			goto failed;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		el->st.install_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
		                                (t1.tv_nsec - t0.tv_nsec) / 1000);
		el->st.installed++;
		el->installed[cur->index] = net->spi_c;
		return 0;
	}
	/* A refresh again before the last one switched: that one switches now. */
	p = pending_of(el, cur->index);
	if (p)
		do_switch(el, p, &el->st.switched_early);
	rc = assoc_of(el, &cur->addr, &cur->ipsec_term, &cur->ipsec_net, 0, &old);
	if (!rc)
		rc = gk_ipsec_prepare(el->h, &old, &next, k);
	if (rc == -EEXIST) {
		/* The terminal offers an SPI its standing association has: it lost that one (it
		 * restarted) and holds none of it, so nothing is left to make before the break. */
		gk_ipsec_remove(el->h, &old);
		el->installed[cur->index] = 0;
		if ((rc = gk_ipsec_install(el->h, &next, k)) != 0)
			goto failed;
		el->st.reinstalled++;
		el->installed[cur->index] = net->spi_c;
		return 0;
	}
	if (rc)
		goto failed;
	el->st.refreshed++;
	if (!el->free_head) {
		/* no room to wait: make-before-break still, the break right after the make */
		if ((rc = gk_ipsec_switch(el->h, &old, &next)) != 0) {
			gk_ipsec_abandon(el->h, &old, &next);
			goto failed;
		}
		el->st.switched_early++;
		el->installed[cur->index] = net->spi_c;
		return 0;
	}
	uint32_t i = el->free_head;
	p = &el->entries[i];
	el->free_head = p->next_free;
	el->used++;
	p->cur = old;
	p->next = next;
	p->index = cur->index;
	p->el = el;
	p->timer.fn = switch_timeout;
	el->slot_of[cur->index] = i;
	el->installed[cur->index] = net->spi_c;
	gk_timer_arm(el->loop, &p->timer, GK_IPSEC_SWITCH_WAIT_MS);
	return 0;
failed:
	el->st.failed++;
	return rc;
}

void gk_ipsec_element_down(struct gk_ipsec_element *el, const struct gk_binding_info *bi)
{
	struct gk_ipsec_assoc a;
	struct pending_switch *p;

	if (bi->mech != GK_MECH_IPSEC || !bi->index || bi->index > el->max_index)
		return;
	p = pending_of(el, bi->index);
	if (el->installed[bi->index] != bi->ipsec_net.spi_c || (p && is_bindings(&p->cur, bi)))
		return; /* the binding a refresh replaced: its SAs went, or go at the switch */
	el->installed[bi->index] = 0;
	/* What the binding's end answers (a deregistration's answer) is queued on the ring: it
	 * leaves now, under the SAs about to go, not in the clear after them, which the
	 * terminal's inbound policy would drop. UDP sends are issued at submission. */
	gk_loop_flush(el->loop);
	if (p && is_bindings(&p->next, bi)) {
		/* ended before its refresh switched: both sets go */
		gk_ipsec_remove(el->h, &p->next);
		gk_ipsec_remove(el->h, &p->cur);
		pending_release(el, p);
		el->st.removed++;
		return;
	}
	if (assoc_of(el, &bi->addr, &bi->ipsec_term, &bi->ipsec_net, 0, &a) == 0 &&
	    gk_ipsec_remove(el->h, &a) > 0)
		el->st.removed++;
}

int gk_ipsec_element_adopt(struct gk_ipsec_element *el, const struct gk_binding_info *bi)
{
	struct gk_ipsec_assoc a;
	int rc;

	if (bi->mech != GK_MECH_IPSEC)
		return 0;
	rc = assoc_of(el, &bi->addr, &bi->ipsec_term, &bi->ipsec_net, 0, &a);
	if (!rc)
		rc = bi->index && bi->index <= el->max_index ? gk_ipsec_adopt(el->h, &a) : -EINVAL;
	if (rc) {
		el->st.adopt_missing++;
		return rc;
	}
	el->st.adopted++;
	el->installed[bi->index] = bi->ipsec_net.spi_c;
	return 0;
}

void gk_ipsec_element_seen(struct gk_ipsec_element *el, uint32_t index)
{
	struct pending_switch *p = pending_of(el, index);
	struct gk_ipsec_flow f[GK_IPSEC_FLOWS];
	struct gk_xfrm_sa_info info;

	if (!p || gk_ipsec_flows(&p->next, f) != 0)
		return;
	/* the terminal's sends on the new SAs: flows 0 and 3, which the element receives */
	for (int i = 0; i < GK_IPSEC_FLOWS; i++)
		if (f[i].uplink && gk_xfrm_sa_get(el->h, &f[i].xfrm, &info) == 0 && info.packets) {
			do_switch(el, p, &el->st.switched);
			return;
		}
}

const struct gk_ipsec_element_stats *gk_ipsec_element_stats(const struct gk_ipsec_element *el)
{
	return &el->st;
}

uint32_t gk_ipsec_element_pending(const struct gk_ipsec_element *el)
{
	return el->used;
}
