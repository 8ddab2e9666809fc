// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkterm's terminals' side of ipsec-3gpp (TS 33.203 style, gkterm.h): each terminal has its own
 * protected ports, offers an end with SPIs of its own at every registration, installs its SAs
 * and policies in gkterm's network namespace when the SUCCESS brings the element's end, and
 * from then on sends everything from its port-c to the element's port-s, where the kernel puts
 * it under ESP. A refresh replaces the SAs make-before-break; a deregistration removes them.
 *
 * MGCP and H.248 terminals get a transaction layer for their protected port each: their commands
 * and the network's over the SAs are that port's transactions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/ipsec/element.h"
#include "gkterm.h"

/* The terminals' SPIs: two pairs per terminal, the next registration takes the pair its standing
 * SAs do not use (gk_ipsec_replace refuses a new key under an old SPI). */
#define SPI_BASE 0x20000000u

/* This run's mark on its SAs and policies: the process's, so that runs side by side in one
 * namespace never take each other's; above the elements' own (ipsec.owner 1, 2). */
static uint16_t owner(void)
{
	return (uint16_t)(0x8000u | ((unsigned)getpid() & 0x7fffu));
}

bool gkt_ipsec_offered(const struct gkt_opts *o)
{
	for (unsigned i = 0; i < o->n_offer; i++)
		if (o->offer[i].mech == GK_MECH_IPSEC)
			return true;
	return false;
}

int gkt_ipsec_open(struct gkt_run *r, gk_dgram_fn fn, const struct gk_cmd_txn_ops *cmd_ops)
{
	bool cmd = r->o.codec->proto == GK_PROTO_MGCP || r->o.codec->proto == GK_PROTO_H248;
	char err_text[256];
	int err;

	for (uint32_t i = 0; i < r->n_terms; i++)
		r->terms[i].ipsec.fd_c = r->terms[i].ipsec.fd_s = -1;
	if (!gkt_ipsec_offered(&r->o))
		return 0;
	if (gk_sockaddr_any(&r->local[0])) {
		fprintf(stderr, "gkterm: ipsec-3gpp: the SAs name the terminals' address: --bind a "
		                "concrete one\n");
		return -1;
	}
	if ((uint32_t)r->o.ipsec_base + 2 * r->n_terms > 65536) {
		fprintf(stderr, "gkterm: ipsec-3gpp: %u terminals need %u ports from %u\n",
		        r->n_terms, 2 * r->n_terms, r->o.ipsec_base);
		return -1;
	}
	if ((err = gk_xfrm_open(&r->xfrm)) < 0) {
		fprintf(stderr, "gkterm: ipsec-3gpp: XFRM netlink: %s\n", strerror(-err));
		return -1;
	}
	for (uint32_t i = 0; i < r->n_terms; i++) {
		struct gkt_ipsec *p = &r->terms[i].ipsec;
		struct sockaddr_storage a = r->local[0];

		p->sk = (struct gkt_sock){.r = r, .i = i};
		gk_sockaddr_set_port(&a, (uint16_t)(r->o.ipsec_base + 2 * i));
		p->fd_c = gk_udp_socket(&a);
		gk_sockaddr_set_port(&a, (uint16_t)(r->o.ipsec_base + 2 * i + 1));
		p->fd_s = p->fd_c < 0 ? -1 : gk_udp_socket(&a);
		if (p->fd_c < 0 || p->fd_s < 0) {
			fprintf(stderr,
			        "gkterm: ipsec-3gpp: terminal %s's protected ports %u, %u: %s\n",
			        r->terms[i].t.idc, r->o.ipsec_base + 2 * i,
			        r->o.ipsec_base + 2 * i + 1,
			        strerror(-(p->fd_c < 0 ? p->fd_c : p->fd_s)));
			return -1;
		}
		/* A terminal whose protected ports the loop cannot read (out of memory) would
		 * register and then never hear an answer under its SAs: the run stops instead. */
		if ((err = gk_loop_add_udp(r->loop, p->fd_c, fn, &p->sk)) < 0 ||
		    (err = gk_loop_add_udp(r->loop, p->fd_s, fn, &p->sk)) < 0) {
			fprintf(stderr,
			        "gkterm: ipsec-3gpp: terminal %s's protected ports cannot be read: "
			        "%s\n",
			        r->terms[i].t.idc, strerror(-err));
			return -1;
		}
		if (!cmd)
			continue;
		struct gk_cmd_txn_cfg tc;
		gk_cmd_txn_cfg_defaults(&tc);
		tc.defer = false;
		tc.max_in = tc.max_out = 16; /* one terminal's */
		snprintf(tc.label, sizeof(tc.label), "%s_ipsec%u", r->o.codec->name, i);
		gk_sockaddr_set_port(&a, (uint16_t)(r->o.ipsec_base + 2 * i));
		if (r->o.codec->proto == GK_PROTO_H248)
			gkt_mid_of(&a, tc.local_mid, sizeof(tc.local_mid));
		p->txn = gk_cmd_txn_new(r->o.codec, &tc, cmd_ops, &p->sk, r->loop, err_text,
		                        sizeof(err_text));
		if (!p->txn) {
			fprintf(stderr, "gkterm: ipsec-3gpp: %s\n", err_text);
			return -1;
		}
	}
	return 0;
}

void gkt_ipsec_close(struct gkt_run *r)
{
	for (uint32_t i = 0; i < r->n_terms; i++) {
		struct gkt_term *x = &r->terms[i];
		gkt_ipsec_down(r, x);
		if (x->ipsec.fd_c >= 0)
			close(x->ipsec.fd_c);
		if (x->ipsec.fd_s >= 0)
			close(x->ipsec.fd_s);
		x->ipsec.fd_c = x->ipsec.fd_s = -1;
		gk_cmd_txn_free(x->ipsec.txn);
		x->ipsec.txn = NULL;
	}
	gk_xfrm_close(r->xfrm);
	r->xfrm = NULL;
}

void gkt_ipsec_offer(struct gkt_run *r, struct gkt_term *x)
{
	uint32_t i = (uint32_t)(x - r->terms);
	uint32_t spi = SPI_BASE + 4 * i;

	if (!r->xfrm)
		return;
	if (x->ipsec.up && x->ipsec.cur.term_end.spi_c == spi)
		spi += 2;
	x->t.ipsec_own = (struct gk_ipsec_end){.spi_c = spi,
	                                       .spi_s = spi + 1,
	                                       .port_c = (uint16_t)(r->o.ipsec_base + 2 * i),
	                                       .port_s = (uint16_t)(r->o.ipsec_base + 2 * i + 1)};
}

int gkt_ipsec_registered(struct gkt_run *r, struct gkt_term *x)
{
	int rc;

	if (!r->xfrm)
		return 0;
	if (x->t.chosen != GK_MECH_IPSEC) {
		gkt_ipsec_down(r, x); /* a refresh to another mechanism */
		return 0;
	}
	struct gk_ipsec_assoc next = {.side = GK_IPSEC_AT_TERMINAL,
	                              .term = r->local[0],
	                              .net = r->o.server,
	                              .term_end = x->t.ipsec_own,
	                              .net_end = x->t.ipsec_net,
	                              .owner = owner(),
	                              .lifetime_s =
	                                  x->t.granted_expires + GK_IPSEC_LIFETIME_MARGIN_S};
	rc = x->ipsec.up ? gk_ipsec_replace(r->xfrm, &x->ipsec.cur, &next, x->t.k)
	                 : gk_ipsec_install(r->xfrm, &next, x->t.k);
	if (rc < 0) {
		r->st.ipsec_failed++;
		x->t.reason = GK_R_INTERNAL;
		x->detail = "the kernel refused its SAs";
		if (!r->o.quiet)
			printf("ipsec_failed %s %s (%s)\n", x->t.idc, strerror(-rc),
			       gk_xfrm_error(r->xfrm));
		return -1;
	}
	if (x->ipsec.up)
		r->st.ipsec_replaced++;
	else
		r->st.ipsec_installed++;
	x->ipsec.cur = next;
	x->ipsec.up = true;
	return 0;
}

void gkt_ipsec_down(struct gkt_run *r, struct gkt_term *x)
{
	if (!x->ipsec.up || !r->xfrm)
		return;
	/* the deregistration's last datagrams left under them already: nothing is queued */
	if (gk_ipsec_remove(r->xfrm, &x->ipsec.cur) > 0)
		r->st.ipsec_removed++;
	x->ipsec.up = false;
}

bool gkt_ipsec_route(const struct gkt_run *r, const struct gkt_term *x, int *fd,
                     struct sockaddr_storage *to)
{
	(void)r;
	if (!x->ipsec.up)
		return false;
	*fd = x->ipsec.fd_c;
	*to = x->ipsec.cur.net;
	gk_sockaddr_set_port(to, x->ipsec.cur.net_end.port_s);
	return true;
}

bool gkt_ipsec_from_element(const struct gkt_run *r, const struct gkt_term *x,
                            const struct sockaddr_storage *from)
{
	struct sockaddr_storage want;
	int fd;

	return gkt_ipsec_route(r, x, &fd, &want) && gk_sockaddr_equal(&want, from);
}
