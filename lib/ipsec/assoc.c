// SPDX-License-Identifier: GPL-2.0-only
/*
 * A terminal's ipsec-3gpp association, four flows, installed, replaced make-before-break and
 * removed through lib/ipsec/xfrm.c (see gatekey/ipsec/assoc.h). Keys are derived one flow at a
 * time into a stack buffer that is wiped as soon as the kernel has it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "gatekey/ipsec/assoc.h"
#include "gatekey/runtime/loop.h"

static void with_port(struct sockaddr_storage *ss, const struct sockaddr_storage *host,
                      uint16_t port)
{
	*ss = *host;
	gk_sockaddr_set_port(ss, port);
}

int gk_ipsec_flows(const struct gk_ipsec_assoc *a, struct gk_ipsec_flow out[GK_IPSEC_FLOWS])
{
	const struct gk_ipsec_end *t = &a->term_end, *n = &a->net_end;
	/* each flow: terminal's port, network's port, SPI, uplink */
	const struct {
		uint16_t tport, nport;
		uint32_t spi;
		bool uplink;
	} plan[GK_IPSEC_FLOWS] = {
	    {t->port_c, n->port_s, n->spi_s, true},
	    {t->port_c, n->port_s, t->spi_c, false},
	    {t->port_s, n->port_c, t->spi_s, false},
	    {t->port_s, n->port_c, n->spi_c, true},
	};
	bool at_term = a->side == GK_IPSEC_AT_TERMINAL;

	if (!gk_ipsec_end_ok(t) || !gk_ipsec_end_ok(n) || t->spi_c == t->spi_s ||
	    n->spi_c == n->spi_s || a->term.ss_family != a->net.ss_family ||
	    (a->term.ss_family != AF_INET && a->term.ss_family != AF_INET6) ||
	    (a->side != GK_IPSEC_AT_TERMINAL && a->side != GK_IPSEC_AT_ELEMENT))
		return -EINVAL;
	for (int i = 0; i < GK_IPSEC_FLOWS; i++) {
		struct gk_ipsec_flow *f = &out[i];
		struct sockaddr_storage term, net;

		memset(f, 0, sizeof(*f));
		with_port(&term, &a->term, plan[i].tport);
		with_port(&net, &a->net, plan[i].nport);
		f->uplink = plan[i].uplink;
		f->xfrm.local = at_term ? term : net;
		f->xfrm.peer = at_term ? net : term;
		/* a side sends what goes away from it: the terminal the uplink */
		f->xfrm.dir = f->uplink == at_term ? GK_XFRM_OUT : GK_XFRM_IN;
		f->xfrm.spi = plan[i].spi;
		f->xfrm.owner = a->owner;
		f->xfrm.lifetime_s = a->lifetime_s;
	}
	return 0;
}

int gk_ipsec_flow_key(const uint8_t k[GK_KEY_LEN], const struct gk_ipsec_flow *f,
                      uint8_t out[GK_XFRM_KEY_LEN])
{
	return gk_esp_key_derive(k, f->uplink, f->xfrm.spi, out);
}

static int add_sa(struct gk_xfrm *h, const uint8_t k[GK_KEY_LEN], const struct gk_ipsec_flow *f)
{
	uint8_t key[GK_XFRM_KEY_LEN];
	int rc = gk_ipsec_flow_key(k, f, key);

	if (rc == 0)
		rc = gk_xfrm_sa_add(h, &f->xfrm, key, sizeof(key));
	else
		rc = -EIO;
	gk_wipe(key, sizeof(key));
	return rc;
}

/* Whether two flows have the same selector and direction (one policy). */
static bool same_policy(const struct gk_xfrm_flow *a, const struct gk_xfrm_flow *b)
{
	return a->dir == b->dir && gk_sockaddr_equal(&a->local, &b->local) &&
	       gk_sockaddr_equal(&a->peer, &b->peer);
}

/* Whether two flows name the same SA: destination and SPI. */
static bool same_sa(const struct gk_ipsec_flow *a, const struct gk_ipsec_flow *b)
{
	const struct sockaddr_storage *da =
	    a->xfrm.dir == GK_XFRM_OUT ? &a->xfrm.peer : &a->xfrm.local;
	const struct sockaddr_storage *db =
	    b->xfrm.dir == GK_XFRM_OUT ? &b->xfrm.peer : &b->xfrm.local;

	return a->xfrm.spi == b->xfrm.spi && gk_sockaddr_equal(da, db);
}

static bool has_policy(const struct gk_ipsec_flow *set, const struct gk_xfrm_flow *f)
{
	for (int i = 0; i < GK_IPSEC_FLOWS; i++)
		if (same_policy(&set[i].xfrm, f))
			return true;
	return false;
}

static void del_sas(struct gk_xfrm *h, const struct gk_ipsec_flow *f, int n)
{
	for (int i = 0; i < n; i++)
		(void)gk_xfrm_sa_del(h, &f[i].xfrm);
}

/* Removes the policies of `of` in direction dir (both: -1) that `keep` does not have. */
static void del_policies_but(struct gk_xfrm *h, const struct gk_ipsec_flow *of,
                             const struct gk_ipsec_flow *keep, int dir)
{
	for (int i = 0; i < GK_IPSEC_FLOWS; i++)
		if ((dir < 0 || (int)of[i].xfrm.dir == dir) &&
		    !(keep && has_policy(keep, &of[i].xfrm)))
			(void)gk_xfrm_policy_del(h, &of[i].xfrm);
}

int gk_ipsec_install(struct gk_xfrm *h, const struct gk_ipsec_assoc *a, const uint8_t k[GK_KEY_LEN])
{
	struct gk_ipsec_flow f[GK_IPSEC_FLOWS];
	int rc = gk_ipsec_flows(a, f), sas = 0, pols = 0;

	if (rc)
		return rc;
	for (; sas < GK_IPSEC_FLOWS && rc == 0; sas++)
		rc = add_sa(h, k, &f[sas]);
	if (rc) {
		del_sas(h, f, sas - 1);
		return rc;
	}
	for (; pols < GK_IPSEC_FLOWS && rc == 0; pols++)
		rc = gk_xfrm_policy_set(h, &f[pols].xfrm);
	if (rc) {
		for (int i = 0; i < pols - 1; i++)
			(void)gk_xfrm_policy_del(h, &f[i].xfrm);
		del_sas(h, f, GK_IPSEC_FLOWS);
	}
	return rc;
}

int gk_ipsec_prepare(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                     const struct gk_ipsec_assoc *next, const uint8_t k_next[GK_KEY_LEN])
{
	struct gk_ipsec_flow old[GK_IPSEC_FLOWS], nf[GK_IPSEC_FLOWS];
	int rc = gk_ipsec_flows(cur, old), sas = 0;

	if (rc == 0)
		rc = gk_ipsec_flows(next, nf);
	if (rc)
		return rc;
	/* A new key is a new SPI: an SA of next that is one of cur's would be replaced under
	 * traffic, which is not make-before-break. */
	for (int i = 0; i < GK_IPSEC_FLOWS; i++)
		for (int j = 0; j < GK_IPSEC_FLOWS; j++)
			if (same_sa(&nf[i], &old[j]))
				return -EEXIST;
	for (; sas < GK_IPSEC_FLOWS && rc == 0; sas++)
		rc = add_sa(h, k_next, &nf[sas]);
	if (rc) {
		del_sas(h, nf, sas - 1);
		return rc;
	}
	/* Inbound policies name no SPI: one on a flow cur has already takes next's SAs too. */
	for (int i = 0; i < GK_IPSEC_FLOWS && rc == 0; i++)
		if (nf[i].xfrm.dir == GK_XFRM_IN && !has_policy(old, &nf[i].xfrm))
			rc = gk_xfrm_policy_set(h, &nf[i].xfrm);
	if (rc)
		gk_ipsec_abandon(h, cur, next);
	return rc;
}

int gk_ipsec_switch(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                    const struct gk_ipsec_assoc *next)
{
	struct gk_ipsec_flow old[GK_IPSEC_FLOWS], nf[GK_IPSEC_FLOWS];
	int rc = gk_ipsec_flows(cur, old);

	if (rc == 0)
		rc = gk_ipsec_flows(next, nf);
	if (rc)
		return rc;
	/* Outbound policies name their SPI: setting one moves its flow to next's SA at once. */
	for (int i = 0; i < GK_IPSEC_FLOWS; i++) {
		if (nf[i].xfrm.dir != GK_XFRM_OUT)
			continue;
		rc = gk_xfrm_policy_set(h, &nf[i].xfrm);
		if (rc) {
			for (int j = 0; j < GK_IPSEC_FLOWS; j++) /* all back on cur's SAs */
				if (old[j].xfrm.dir == GK_XFRM_OUT)
					(void)gk_xfrm_policy_set(h, &old[j].xfrm);
			del_policies_but(h, nf, old, GK_XFRM_OUT);
			return rc;
		}
	}
	del_policies_but(h, old, nf, -1);
	del_sas(h, old, GK_IPSEC_FLOWS);
	return 0;
}

int gk_ipsec_replace(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                     const struct gk_ipsec_assoc *next, const uint8_t k_next[GK_KEY_LEN])
{
	int rc = gk_ipsec_prepare(h, cur, next, k_next);

	if (rc == 0 && (rc = gk_ipsec_switch(h, cur, next)) != 0)
		gk_ipsec_abandon(h, cur, next);
	return rc;
}

void gk_ipsec_abandon(struct gk_xfrm *h, const struct gk_ipsec_assoc *cur,
                      const struct gk_ipsec_assoc *next)
{
	struct gk_ipsec_flow old[GK_IPSEC_FLOWS], nf[GK_IPSEC_FLOWS];

	if (gk_ipsec_flows(cur, old) || gk_ipsec_flows(next, nf))
		return;
	del_policies_but(h, nf, old, GK_XFRM_IN);
	del_sas(h, nf, GK_IPSEC_FLOWS);
}

int gk_ipsec_adopt(struct gk_xfrm *h, const struct gk_ipsec_assoc *a)
{
	struct gk_ipsec_flow f[GK_IPSEC_FLOWS];
	struct gk_xfrm_sa_info info;
	int rc = gk_ipsec_flows(a, f);

	for (int i = 0; i < GK_IPSEC_FLOWS && rc == 0; i++)
		rc = gk_xfrm_sa_get(h, &f[i].xfrm, &info);
	for (int i = 0; i < GK_IPSEC_FLOWS && rc == 0; i++)
		rc = gk_xfrm_policy_set(h, &f[i].xfrm);
	return rc;
}

int gk_ipsec_remove(struct gk_xfrm *h, const struct gk_ipsec_assoc *a)
{
	struct gk_ipsec_flow f[GK_IPSEC_FLOWS];
	int rc = gk_ipsec_flows(a, f), gone = 0;

	if (rc)
		return rc;
	for (int i = 0; i < GK_IPSEC_FLOWS; i++) {
		rc = gk_xfrm_policy_del(h, &f[i].xfrm);
		if (rc == 0)
			gone++;
		else if (rc != -ENOENT && rc != -ESRCH)
			return rc;
		rc = gk_xfrm_sa_del(h, &f[i].xfrm);
		if (rc == 0)
			gone++;
		else if (rc != -ENOENT && rc != -ESRCH)
			return rc;
	}
	return gone;
}
