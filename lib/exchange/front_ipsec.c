// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipsec-3gpp at a front daemon (front_ipsec.h): the protected ports' settings, the protected
 * listeners beside the ordinary ones, and the registrar's hooks into the element module.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/exchange/front_ipsec.h"
#include "gatekey/runtime/log.h"

/* <proto>.ipsec_ports = "port-c port-s" (or "port-c,port-s"): two distinct ports 1..65535. */
static int set_ports(const char *value, void *arg, char *err, size_t errlen)
{
	struct gk_front_ipsec_ports *p = arg;
	char *end;
	unsigned long c = strtoul(value, &end, 10), s;

	if (end == value || (*end != ' ' && *end != ','))
		goto bad;
	value = end + strspn(end, " ,");
	s = strtoul(value, &end, 10);
	if (end == value || *end || !c || !s || c > 65535 || s > 65535 || c == s)
		goto bad;
	p->c = (uint16_t)c;
	p->s = (uint16_t)s;
	return 0;
bad:
	snprintf(err, errlen,
	         "expected two distinct UDP ports, port-c and port-s, e.g. \"5062 5064\"");
	return -1;
}

size_t gk_front_ipsec_keys(struct gk_front_ipsec_settings *s, uint16_t owner_default,
                           struct gk_cfg_key *keys, size_t used, size_t cap)
{
	static const char *const names[GK_PROTO_COUNT] = {
	    [GK_PROTO_SIP] = "sip.ipsec_ports",
	    [GK_PROTO_MGCP] = "mgcp.ipsec_ports",
	    [GK_PROTO_H248] = "h248.ipsec_ports",
	    [GK_PROTO_H323] = "ras.ipsec_ports",
	};
	size_t n = used;

	memset(s, 0, sizeof(*s));
	s->owner = owner_default;
	for (unsigned p = GK_PROTO_SIP; p < GK_PROTO_COUNT && n + 1 < cap; p++)
		keys[n++] = (struct gk_cfg_key){
		    .name = names[p],
		    .kind = GK_CFG_STR,
		    .help = "ipsec-3gpp: this protocol's protected client and server ports, "
		            "\"port-c port-s\" (TS 33.203); the element listens on port-s at the "
		            "addresses of the protocol's listeners, which must then be concrete "
		            "(none: the protocol never chooses ipsec-3gpp)",
		    .multi = true,
		    .on_multi = set_ports,
		    .multi_arg = &s->ports[p]};
	if (n + 1 < cap)
		keys[n++] = (struct gk_cfg_key)GK_CFG_RANGE(
		    "ipsec.owner", &s->owner, 1, 65535,
		    "ipsec-3gpp: the number that marks this element's SAs and policies in the "
		    "kernel (their reqid), so that a restart adopts its own and nothing else; "
		    "distinct per element sharing a host");
	keys[n] = (struct gk_cfg_key){0};
	return n;
}

int gk_front_ipsec_apply(const struct gk_front_ipsec_settings *s, struct gk_registrar_cfg *rc,
                         char *err, size_t errlen)
{
	bool some = false;

	if (!(rc->mechs_supported & (1u << GK_MECH_IPSEC)))
		return 0;
	for (unsigned p = GK_PROTO_SIP; p < GK_PROTO_COUNT; p++) {
		rc->ipsec_port_c[p] = s->ports[p].c;
		rc->ipsec_port_s[p] = s->ports[p].s;
		some |= s->ports[p].s != 0;
	}
	if (!some) {
		snprintf(
		    err, errlen,
		    "registrar.mechanisms names ipsec-3gpp: expected the protected ports of at "
		    "least one protocol (sip.ipsec_ports, mgcp.ipsec_ports, h248.ipsec_ports or "
		    "ras.ipsec_ports)");
		return -1;
	}
	return 0;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct sockaddr_storage x = *a, y = *b;

	gk_sockaddr_set_port(&x, 0);
	gk_sockaddr_set_port(&y, 0);
	return gk_sockaddr_equal(&x, &y);
}

/* The element's access address of each family: that of every ordinary listener of a protocol
 * with protected ports, which must be concrete and the same across them. */
static int access_addresses(const struct gk_front_io *io, const struct gk_registrar_cfg *rc,
                            struct gk_ipsec_element_cfg *ec, char *err, size_t errlen)
{
	for (unsigned i = 0; i < io->n_sock; i++) {
		const struct gk_front_sock *s = &io->sock[i];
		unsigned p = (unsigned)s->codec->proto;
		char a[64];

		if (s->ipsec_port || p >= GK_PROTO_COUNT || !rc->ipsec_port_s[p])
			continue;
		struct sockaddr_storage *own =
		    s->addr.ss_family == AF_INET6 ? &ec->addr6 : &ec->addr4;
		gk_format_addr(&s->addr, a, sizeof(a));
		if (gk_sockaddr_any(&s->addr)) {
			snprintf(
			    err, errlen,
			    "ipsec-3gpp: the %s listener %s is a wildcard; the SAs and policies "
			    "name the element's address: listen on a concrete one",
			    s->codec->name, a);
			return -1;
		}
		if (own->ss_family && !same_host(own, &s->addr)) {
			snprintf(
			    err, errlen,
			    "ipsec-3gpp: the %s listener %s is not at the address of the other "
			    "protected protocols' listeners of its family: one per family",
			    s->codec->name, a);
			return -1;
		}
		*own = s->addr;
		gk_sockaddr_set_port(own, 0);
	}
	return 0;
}

int gk_front_ipsec_start(struct gk_front_ipsec *fi, struct gk_front_io *io,
                         const struct gk_front_ipsec_settings *s, const struct gk_registrar_cfg *rc,
                         gk_dgram_fn fn, void *user, char *err, size_t errlen)
{
	struct gk_ipsec_element_cfg ec = {.owner = (uint16_t)s->owner,
	                                  .max_pending = rc->max_pending};
	int fds[GK_FRONT_SOCKS], rcode;

	memset(fi, 0, sizeof(*fi));
	fi->io = io;
	if (!(rc->mechs_supported & (1u << GK_MECH_IPSEC)))
		return 0;
	if (access_addresses(io, rc, &ec, err, errlen) < 0)
		return -1;
	if ((rcode = gk_xfrm_open(&fi->xfrm)) < 0) {
		snprintf(err, errlen, "ipsec-3gpp: XFRM netlink: %s", strerror(-rcode));
		return -1;
	}
	fi->el = gk_ipsec_element_new(fi->xfrm, io->loop, &ec, rc->max_terminals, err, errlen);
	if (!fi->el) {
		gk_front_ipsec_stop(fi);
		return -1;
	}
	/* a protected socket beside each ordinary listener of a protocol with ports */
	unsigned n = io->n_sock;
	for (unsigned i = 0; i < n; i++) {
		const struct gk_front_sock *o = &io->sock[i];
		unsigned p = (unsigned)o->codec->proto;
		if (o->ipsec_port || p >= GK_PROTO_COUNT || !rc->ipsec_port_s[p])
			continue;
		if (gk_front_io_listen_protected(io, o->codec, &o->addr, 1, rc->ipsec_port_s[p], fn,
		                                 user, fds) < 0) {
			snprintf(err, errlen, "ipsec-3gpp: cannot open the protected port %u (%s)",
			         rc->ipsec_port_s[p], o->codec->name);
			gk_front_ipsec_stop(fi);
			return -1;
		}
	}
	return 0;
}

void gk_front_ipsec_stop(struct gk_front_ipsec *fi)
{
	gk_ipsec_element_free(fi->el);
	gk_xfrm_close(fi->xfrm);
	fi->el = NULL;
	fi->xfrm = NULL;
}

int gk_front_ipsec_up(struct gk_front_ipsec *fi, const struct gk_binding *b,
                      const struct sockaddr_storage *from, const struct gk_ipsec_end *term,
                      const struct gk_ipsec_end *net, const uint8_t k[GK_KEY_LEN],
                      uint32_t expires_s)
{
	struct gk_binding_info bi;
	int rc;

	if (!fi->el)
		return -EOPNOTSUPP;
	gk_binding_get_info(b, &bi);
	rc = gk_ipsec_element_up(fi->el, &bi, from, term, net, k, expires_s);
	if (rc < 0)
		gk_warn("ipsec-3gpp: SAs for %s refused by the kernel: %s (%s)", bi.idc,
		        strerror(-rc), gk_xfrm_error(fi->xfrm));
	return rc;
}

int gk_front_ipsec_adopt(struct gk_front_ipsec *fi, const struct gk_binding *b)
{
	struct gk_binding_info bi;
	int rc;

	if (!fi->el)
		return -EOPNOTSUPP;
	gk_binding_get_info(b, &bi);
	rc = gk_ipsec_element_adopt(fi->el, &bi);
	if (rc < 0) {
		gk_notice(
		    "ipsec-3gpp: %s not taken back, its SAs are gone (%s): it registers again",
		    bi.idc, strerror(-rc));
	}
	return rc;
}

void gk_front_ipsec_down(struct gk_front_ipsec *fi, const struct gk_binding *b)
{
	struct gk_binding_info bi;

	if (!fi->el)
		return;
	gk_binding_get_info(b, &bi);
	gk_ipsec_element_down(fi->el, &bi);
}

uint32_t gk_front_ipsec_input(struct gk_front_ipsec *fi, struct gk_front_sock *s,
                              const struct sockaddr_storage *from)
{
	uint32_t index = gk_front_io_ipsec_sender(s, from);

	if (!index) {
		fi->unprotected++;
		gk_registrar_count(fi->io->front, GK_R_NOT_REGISTERED);
		return 0;
	}
	gk_ipsec_element_seen(fi->el, index);
	return index;
}

void gk_front_ipsec_ctl_stats(const struct gk_front_ipsec *fi, struct gk_ctl_reply *out)
{
	if (!fi->el)
		return;
	const struct gk_ipsec_element_stats *st = gk_ipsec_element_stats(fi->el);
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
	    {"installed", st->installed},
	    {"refreshed", st->refreshed},
	    {"switched", st->switched},
	    {"switched_on_timeout", st->switched_on_timeout},
	    {"switched_early", st->switched_early},
	    {"reinstalled", st->reinstalled},
	    {"removed", st->removed},
	    {"failed", st->failed},
	    {"adopted", st->adopted},
	    {"adopt_missing", st->adopt_missing},
	    {"install_us", st->install_us},
	    {"pending_switches", gk_ipsec_element_pending(fi->el)},
	    {"unprotected", fi->unprotected},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		gk_ctl_printf(out, "ipsec.%s %llu", rows[i].name, (unsigned long long)rows[i].v);
}
