// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbcd's fast path (fastpath.h): attaching XDP, installing and removing terminals, restoring
 * them after a restart. In mode auto a failure to attach falls back to the same decision in
 * userspace, loudly and with the kernel's reason; in native or generic mode it is an error,
 * because the operator asked for XDP and must not silently run without it.
 *
 * Its tables hold registrar.max_terminals terminals (gk_fp_sizes_of), and maps pinned by an
 * earlier run for another size, or another layout, stop sbcd in every mode, with what to do
 * (pin_conflict): they cannot be resized, replacing them loses the registrations they hold, and
 * adopting their size would leave the capacity to history instead of the configuration
 * (lib/fastpath/xdp.c). Not a fallback to userspace either: the program that uses them is most
 * likely still attached, and would drop the datagrams of every terminal that registers anew.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/runtime/log.h"
#include "fastpath.h"

void sbc_fp_settings_defaults(struct sbc_fp_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->want = SBC_FP_AUTO;
	s->admission = true;
	snprintf(s->pin_root, sizeof(s->pin_root), "%s", GK_XDP_PIN_ROOT);
	gk_fp_config_default(&s->cfg);
}

int sbc_fp_parse_mode(const char *value, void *arg, char *err, size_t errlen)
{
	static const char *const names[] = {"auto", "native", "generic", "userspace"};
	struct sbc_fp_settings *s = arg;

	for (unsigned i = 0; i < 4; i++)
		if (strcmp(value, names[i]) == 0) {
			s->want = (enum sbc_fp_want)i;
			return 0;
		}
	snprintf(err, errlen, "expected auto, native, generic or userspace");
	return -1;
}

int sbc_fp_parse_port(const char *value, void *arg, char *err, size_t errlen)
{
	static const char *const protos[] = {"", "sip", "mgcp", "h248", "h323"};
	struct sbc_fp_settings *s = arg;
	char proto[16];
	unsigned port, verified = 0, i;
	int n = sscanf(value, "%15s %u %u", proto, &port, &verified);

	for (i = 1; i < 5; i++)
		if (n >= 2 && strcmp(proto, protos[i]) == 0)
			break;
	if (n < 2 || i == 5 || !port || port > 65535 || verified > 65535) {
		snprintf(err, errlen, "expected \"sip|mgcp|h248|h323 <port> [<verified port>]\"");
		return -1;
	}
	if (!s->ports_set) {
		memset(s->cfg.ports, 0, sizeof(s->cfg.ports));
		s->ports_set = true;
	}
	for (unsigned k = 0; k < GK_FP_NPORTS; k++) {
		if (s->cfg.ports[k].port)
			continue;
		s->cfg.ports[k].port = (uint16_t)port;
		s->cfg.ports[k].verified = (uint16_t)(verified ? verified : port + 10000);
		s->cfg.ports[k].proto = (uint8_t)i;
		if (!verified && port + 10000 > 65535) {
			snprintf(err, errlen, "port %u needs an explicit verified port", port);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "at most %d fastpath.port lines", GK_FP_NPORTS);
	return -1;
}

/* The verifier's own words for a refusal: the last line of its log before the statistics. */
static void verifier_verdict(const char *log, char *out, size_t len)
{
	const char *end = log + strlen(log), *line_end, *line;

	out[0] = 0;
	while (end > log) {
		line_end = end;
		line = line_end;
		while (line > log && line[-1] != '\n')
			line--;
		end = line > log ? line - 1 : log;
		if (line_end == line || strncmp(line, "processed ", 10) == 0 ||
		    strncmp(line, "verification time", 17) == 0 ||
		    strncmp(line, "stack depth", 11) == 0)
			continue;
		snprintf(out, len, "%.*s", (int)(line_end - line), line);
		return;
	}
}

/* Why sbcd stops when the pinned maps do not fit (gk_xdp_pin_conflict), and the two ways on. */
static void pin_conflict(const struct sbc_fastpath *f, uint32_t max_terminals, char *err,
                         size_t len)
{
	const struct gk_xdp_pin_conflict *c = gk_xdp_pin_conflict();
	char detach[sizeof(f->set.pin_root) + IF_NAMESIZE + 64], least[64] = "";
	size_t n;

	snprintf(detach, sizeof(detach), "gkctl xdp detach %s%s%s", f->set.interface,
	         strcmp(f->set.pin_root, GK_XDP_PIN_ROOT) ? " --pin-root " : "",
	         strcmp(f->set.pin_root, GK_XDP_PIN_ROOT) ? f->set.pin_root : "");
	if (max_terminals < c->terminals)
		snprintf(least, sizeof(least), " (maps of their least size, %u)", c->terminals);
	snprintf(err, len,
	         "fast path: the maps pinned in %s do not fit registrar.max_terminals = %u%s: %s. "
	         "A pinned map cannot be resized, and sbcd does not replace them: they hold the "
	         "registered terminals. ",
	         c->dir, max_terminals, least, c->what);
	n = strlen(err);
	if (c->pinned_terminals)
		snprintf(err + n, len - n,
		         "Either set registrar.max_terminals = %u%s to keep them, or remove them "
		         "with '%s' and start sbcd again: every terminal must then register again",
		         c->pinned_terminals,
		         c->pinned_terminals == GK_FP_TERMINALS_MIN ? " (or less)" : "", detach);
	else
		snprintf(err + n, len - n,
		         "Remove them with '%s' and start sbcd again: every terminal must then "
		         "register again",
		         detach);
}

static int try_xdp(struct sbc_fastpath *f, uint32_t max_terminals, char *why, size_t whylen)
{
	int ret = gk_xdp_open(&f->xdp, f->set.interface, f->set.pin_root, max_terminals);
	if (ret == -EEXIST && gk_xdp_pin_conflict()->map[0])
		return ret; /* the caller stops */
	if (ret < 0) {
		const char *log = gk_xdp_load_log();
		char verdict[160];

		verifier_verdict(log, verdict, sizeof(verdict));
		snprintf(why, whylen, "loading the XDP program: %s%s%s%s", strerror(-ret),
		         *verdict ? " (the verifier: " : "", verdict, *verdict ? ")" : "");
		/* All of what the kernel said, for whoever has to fix it. */
		for (const char *p = log; *p;) {
			const char *nl = strchr(p, '\n');
			int n = nl ? (int)(nl - p) : (int)strlen(p);

			gk_warn("fast path: verifier: %.*s", n, p);
			p += n + (nl ? 1 : 0);
		}
		return ret;
	}
	ret = gk_xdp_set_config(f->xdp, &f->set.cfg);
	if (ret < 0) {
		snprintf(why, whylen, "fast-path configuration: %s", strerror(-ret));
		goto fail;
	}
	f->mode = f->set.want == SBC_FP_NATIVE    ? GK_XDP_MODE_NATIVE
	          : f->set.want == SBC_FP_GENERIC ? GK_XDP_MODE_GENERIC
	                                          : GK_XDP_MODE_NONE;
	ret = gk_xdp_attach(f->xdp, &f->mode);
	if (ret < 0) {
		snprintf(why, whylen, "attaching to %s: %s", f->set.interface, strerror(-ret));
		goto fail;
	}
	if ((f->set.want == SBC_FP_NATIVE && f->mode != GK_XDP_MODE_NATIVE) ||
	    (f->set.want == SBC_FP_GENERIC && f->mode != GK_XDP_MODE_GENERIC)) {
		snprintf(why, whylen, "%s asked for, %s attached",
		         f->set.want == SBC_FP_NATIVE ? "native" : "generic",
		         gk_xdp_mode_str(f->mode));
		ret = -EOPNOTSUPP;
		goto fail;
	}
	return 0;
fail:
	gk_xdp_close(f->xdp);
	f->xdp = NULL;
	f->mode = GK_XDP_MODE_NONE;
	return ret;
}

#define MIB (1024.0 * 1024.0)

int sbc_fp_start(struct sbc_fastpath *f, uint32_t max_terminals, char *err, size_t errlen)
{
	char *why = f->fallback_reason, detail[256];
	size_t whylen = sizeof(f->fallback_reason);
	uint64_t bytes;
	int ret = -1;

	f->mode = GK_XDP_MODE_NONE;
	snprintf(why, whylen, "%s",
	         f->set.want == SBC_FP_USERSPACE ? "fastpath.mode = userspace"
	                                         : "no fastpath.interface configured");
	if (f->set.want != SBC_FP_USERSPACE && f->set.interface[0])
		ret = try_xdp(f, max_terminals, why, whylen);
	/* Not any EEXIST: attaching natively beside a generic program says it too. */
	if (ret == -EEXIST && gk_xdp_pin_conflict()->map[0]) {
		pin_conflict(f, max_terminals, err, errlen);
		return -1;
	}
	if (ret == 0) {
		why[0] = 0;
		f->attached = true;
		gk_notice("fast path: XDP (%s) on %s, maps pinned in %s/%s",
		          gk_xdp_mode_str(f->mode), f->set.interface, f->set.pin_root,
		          f->set.interface);
		/* What a million terminals cost, where the operator looks at start-up. */
		bytes = gk_xdp_memory(f->xdp, detail, sizeof(detail));
		gk_info("fast path: the XDP maps hold %u terminals and take %.1f MiB of kernel "
		        "memory, %.0f bytes a terminal (%s)",
		        gk_xdp_terminals(f->xdp), bytes / MIB,
		        (double)bytes / gk_xdp_terminals(f->xdp), detail);
		return 0;
	}
	if (f->set.want == SBC_FP_NATIVE || f->set.want == SBC_FP_GENERIC) {
		snprintf(err, errlen, "fastpath.mode: %s", why);
		return -1;
	}
	f->user = gk_fp_user_new(max_terminals);
	if (!f->user) {
		snprintf(err, errlen, "out of memory for the userspace fast path (%u terminals)",
		         max_terminals);
		return -1;
	}
	gk_fp_user_set_config(f->user, &f->set.cfg);
	if (f->set.want == SBC_FP_USERSPACE)
		gk_notice("fast path: userspace (fastpath.mode = userspace)");
	else /* auto: working, but without what the operator most likely runs gatekey for */
		gk_warn("fast path: userspace fallback, XDP not attached: %s", why);
	gk_info("fast path: the userspace tables hold %u terminals in %.1f MiB at most (pages are "
	        "used as terminals register)",
	        gk_fp_user_terminals(f->user), gk_fp_user_memory(f->user) / MIB);
	return 0;
}

static void session_of(const struct gk_binding_record *rec, struct gk_fp_session *s)
{
	struct gk_fp_source src;

	memset(s, 0, sizeof(*s));
	gk_xdp_source_of(&rec->addr, &src);
	s->index = rec->index;
	s->mech = rec->mech;
	s->family = src.family;
	s->port = src.port;
	memcpy(s->addr, src.addr, sizeof(s->addr));
	memcpy(s->uplink, rec->keys.uplink, sizeof(s->uplink));
	memcpy(s->downlink, rec->keys.downlink, sizeof(s->downlink));
	s->seq_down = rec->seq_down;
	s->expires_at_s = rec->expires_at_s;
	snprintf(s->idc, sizeof(s->idc), "%s", rec->idc);
	snprintf(s->fpr, sizeof(s->fpr), "%s", rec->fpr);
	memcpy(s->rand, rec->rand, sizeof(s->rand));
	s->has_rand = rec->has_rand;
	const struct gk_ipsec_end *ends[2] = {&rec->ipsec_term, &rec->ipsec_net};
	for (int i = 0; i < 2; i++) {
		s->ipsec_spi_c[i] = ends[i]->spi_c;
		s->ipsec_spi_s[i] = ends[i]->spi_s;
		s->ipsec_port_c[i] = ends[i]->port_c;
		s->ipsec_port_s[i] = ends[i]->port_s;
	}
}

static enum gk_fp_mech fp_mech(uint8_t mech)
{
	return mech == GK_MECH_GKMAC ? GK_FP_MECH_GKMAC : GK_FP_MECH_DIGEST;
}

static void install(struct sbc_fastpath *f, const struct gk_binding_record *rec)
{
	enum gk_fp_mech m = fp_mech(rec->mech);
	int ret;

	if (f->xdp) {
		struct gk_fp_session s;
		session_of(rec, &s);
		ret = gk_xdp_terminal_add(f->xdp, rec->index, &rec->addr, m, rec->keys.uplink);
		if (ret == 0)
			ret = gk_xdp_session_put(f->xdp, &s);
		gk_wipe(&s, sizeof(s));
	} else {
		ret = gk_fp_user_terminal_add(f->user, rec->index, &rec->addr, m, rec->keys.uplink);
		/* A terminal taken back from the store resumes its window; a new binding's slot
		 * says 0, nothing seen. */
		if (ret == 0 && f->store)
			gk_fp_user_window_restore(f->user, rec->index,
			                          gk_bindstore_top(f->store, rec->index));
	}
	if (ret < 0) {
		/* The terminal is registered but its datagrams will be dropped: say so loudly. */
		f->install_failed++;
		gk_err("fast path: installing %s (index %u) failed: %s", rec->idc, rec->index,
		       strerror(-ret));
	}
}

void sbc_fp_binding_up(struct sbc_fastpath *f, const struct gk_binding *b)
{
	struct gk_binding_record rec;

	gk_binding_record_of(b, &rec);
	install(f, &rec);
	gk_wipe(&rec, sizeof(rec));
}

/* A deregistered binding lingers: its key stays in the terminal map for the deregistration's
 * repeat, but its session record goes, so that a restart meanwhile does not take it back. */
void sbc_fp_binding_lingers(struct sbc_fastpath *f, const struct gk_binding *b)
{
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	if (f->xdp)
		gk_xdp_session_del(f->xdp, bi.index);
}

void sbc_fp_binding_down(struct sbc_fastpath *f, const struct gk_binding *b)
{
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	if (f->xdp) {
		gk_xdp_terminal_del(f->xdp, bi.index);
		gk_xdp_session_del(f->xdp, bi.index);
	} else {
		gk_fp_user_terminal_del(f->user, bi.index);
	}
}

struct restore_ctx {
	struct sbc_fastpath *f;
	struct gk_registrar *r;
	uint32_t *stale; /* indexes to remove once the walk is over */
	unsigned n_stale, cap_stale, restored, kept_stale;
	unsigned orphans; /* of n_stale: keys without a session record (a lingering binding's) */
	unsigned unsaved; /* restored, but the record's new downlink start could not be kept */
};

/* Removing while the walk goes on would make bpf_map_get_next_key start over. */
static void note_stale(struct restore_ctx *c, uint32_t index)
{
	if (c->n_stale == c->cap_stale) {
		unsigned cap = c->cap_stale ? 2 * c->cap_stale : 4096;
		uint32_t *p = realloc(c->stale, cap * sizeof(*p));

		if (!p) {
			/* Left in the maps: its datagrams verify, and go nowhere. */
			c->kept_stale++;
			return;
		}
		c->stale = p;
		c->cap_stale = cap;
	}
	c->stale[c->n_stale++] = index;
}

static int restore_one(const struct gk_fp_session *s, void *arg)
{
	struct restore_ctx *c = arg;
	struct gk_binding_record rec;
	struct gk_fp_source src;

	memset(&rec, 0, sizeof(rec));
	memset(&src, 0, sizeof(src));
	src.family = s->family;
	src.port = s->port;
	memcpy(src.addr, s->addr, sizeof(src.addr));
	gk_xdp_sockaddr_of(&src, &rec.addr);
	rec.index = s->index;
	rec.mech = s->mech;
	memcpy(rec.keys.uplink, s->uplink, sizeof(rec.keys.uplink));
	memcpy(rec.keys.downlink, s->downlink, sizeof(rec.keys.downlink));
	rec.seq_down = s->seq_down;
	rec.expires_at_s = s->expires_at_s;
	memcpy(rec.rand, s->rand, sizeof(rec.rand));
	rec.has_rand = s->has_rand;
	struct gk_ipsec_end *ends[2] = {&rec.ipsec_term, &rec.ipsec_net};
	for (int i = 0; i < 2; i++)
		*ends[i] = (struct gk_ipsec_end){.spi_c = s->ipsec_spi_c[i],
		                                 .spi_s = s->ipsec_spi_s[i],
		                                 .port_c = s->ipsec_port_c[i],
		                                 .port_s = s->ipsec_port_s[i]};
	memcpy(rec.idc, s->idc,
	       sizeof(s->idc) < sizeof(rec.idc) ? sizeof(s->idc) : sizeof(rec.idc));
	rec.idc[sizeof(rec.idc) - 1] = '\0';
	memcpy(rec.fpr, s->fpr, sizeof(rec.fpr) - 1);
	rec.fpr[sizeof(rec.fpr) - 1] = '\0';
	int ret = gk_registrar_restore(c->r, &rec);
	if (ret == 0)
		c->restored++;
	else
		note_stale(c, s->index);
	gk_wipe(&rec, sizeof(rec));
	return 0;
}

/* A restored binding's session record, rewritten to say where its downlink numbering goes on
 * (past a jump, registrar.c), so that the next restart jumps past this run's numbers instead
 * of back to the same ones. After the walk: a hash map update replaces the element, which
 * would make the walk meet it again. */
static void rewrite_one(const struct gk_binding_info *bi, void *arg)
{
	struct restore_ctx *c = arg;
	struct gk_binding *b = gk_registrar_binding_of(c->r, bi->idc);
	struct gk_binding_record rec;
	struct gk_fp_session s;

	if (!b)
		return;
	gk_binding_record_of(b, &rec);
	session_of(&rec, &s);
	if (gk_xdp_session_put(c->f->xdp, &s) < 0)
		c->unsaved++;
	gk_wipe(&s, sizeof(s));
	gk_wipe(&rec, sizeof(rec));
}

/* A terminal-map entry without its session record: a binding that was lingering when sbcd
 * stopped (or one whose record could not be written). Its key goes. */
static int orphan_one(const struct gk_xdp_terminal_info *t, void *arg)
{
	struct restore_ctx *c = arg;

	if (gk_registrar_gkmac_sealer(c->r, t->index, &t->source) ||
	    gk_registrar_is_registered_addr(c->r, &t->source))
		return 0;
	for (unsigned i = 0; i < c->n_stale; i++)
		if (c->stale[i] == t->index)
			return 0; /* its session record was stale: noted already */
	note_stale(c, t->index);
	c->orphans++;
	return 0;
}

int sbc_fp_restore(struct sbc_fastpath *f, struct gk_registrar *r)
{
	struct restore_ctx c = {.f = f, .r = r};

	if (!f->xdp)
		return 0;
	gk_xdp_session_foreach(f->xdp, restore_one, &c);
	gk_xdp_terminal_foreach(f->xdp, orphan_one, &c);
	/* Expired while sbcd was down, or not restorable (an index above registrar.max_terminals
	 * after it was lowered): the kernel must forget them too. */
	for (unsigned i = 0; i < c.n_stale; i++) {
		gk_xdp_terminal_del(f->xdp, c.stale[i]);
		gk_xdp_session_del(f->xdp, c.stale[i]);
	}
	free(c.stale);
	gk_registrar_foreach(r, rewrite_one, &c);
	if (c.restored || c.n_stale)
		gk_notice("fast path: took back %u registered terminal(s) from the pinned maps, "
		          "dropped %u expired and %u deregistered",
		          c.restored, c.n_stale - c.orphans, c.orphans);
	if (c.kept_stale)
		gk_warn("fast path: out of memory: %u expired terminal(s) stay in the pinned maps",
		        c.kept_stale);
	if (c.unsaved)
		gk_err("fast path: the session records of %u terminal(s) could not be rewritten: "
		       "after another restart their downlink numbers could repeat, which their "
		       "terminals would drop until they register again",
		       c.unsaved);
	return (int)c.restored;
}

void sbc_fp_stop(struct sbc_fastpath *f)
{
	if (f->xdp) {
		gk_xdp_close(f->xdp);
		f->xdp = NULL;
		if (f->set.detach_on_exit) {
			int ret = gk_xdp_detach(f->set.interface, f->set.pin_root);
			if (ret < 0)
				gk_warn("fast path: detaching from %s: %s", f->set.interface,
				        strerror(-ret));
			else
				gk_notice("fast path: detached from %s (fastpath.detach_on_exit)",
				          f->set.interface);
		}
	}
	gk_fp_user_free(f->user);
	f->user = NULL;
}

long sbc_fp_check(struct sbc_fastpath *f, uint16_t dport, const struct sockaddr_storage *from,
                  const uint8_t *buf, size_t len, uint64_t now_ns, uint32_t *index,
                  enum gk_fp_stat *stat)
{
	*index = 0;
	if (f->xdp) {
		*stat = GK_FP_PASS_OTHER_TRAFFIC;
		return (long)len;
	}
	if (len > UINT32_MAX) {
		*stat = GK_FP_DROP_MALFORMED;
		return -1;
	}
	long n = gk_fp_user_check(f->user, dport, from, buf, (uint32_t)len, now_ns, index, stat);
	/* Stored before the datagram has any effect: after a crash it is a replay. */
	if (f->store && *stat == GK_FP_PASS_GKMAC && *index)
		gk_bindstore_seen(f->store, *index, gk_fp_user_window_top(f->user, *index));
	return n;
}

uint16_t sbc_fp_verified_port(const struct sbc_fastpath *f, uint16_t port)
{
	if (!f->xdp)
		return 0;
	for (unsigned i = 0; i < GK_FP_NPORTS; i++)
		if (f->set.cfg.ports[i].port == port)
			return f->set.cfg.ports[i].verified;
	return 0;
}

void sbc_fp_admission_tick(struct sbc_fastpath *f, uint32_t depth)
{
	uint32_t before = f->adm.shed;

	if (!f->set.admission || gk_admission_step(&f->adm, depth) == before)
		return;
	f->set.cfg.shed = f->adm.shed;
	if (f->xdp) {
		/* a failed push leaves the last share in place; counted, and tried next tick */
		if (gk_xdp_set_config(f->xdp, &f->set.cfg) < 0) {
			f->shed_push_failed++;
			f->adm.shed = before;
		}
	} else if (f->user) {
		gk_fp_user_set_config(f->user, &f->set.cfg);
	}
}

bool sbc_fp_link_event(struct sbc_fastpath *f, enum gk_link_event ev, int ifindex)
{
	const char *name = f->set.interface;
	enum gk_xdp_mode mode = f->mode;
	int ret;

	switch (ev) {
	case GK_LINK_GONE:
		f->link_gone++;
		f->attached = false;
		gk_warn(
		    "access interface %s is gone%s; waiting for it to come back", name,
		    f->xdp ? ": the XDP program went with it, the terminals stay in the pinned maps"
		           : "");
		return false;
	case GK_LINK_DOWN:
		f->link_down++;
		gk_warn("access interface %s is down", name);
		return false;
	case GK_LINK_NEW:
		f->link_new++;
		gk_notice("access interface %s is there again (index %d)", name, ifindex);
		if (f->xdp)
			gk_xdp_follow(f->xdp, ifindex);
		break;
	case GK_LINK_UP:
		f->link_up++;
		gk_notice("access interface %s is up", name);
		break;
	}
	if (!f->xdp) {
		/* The userspace path holds the terminals, in its binding store; they are not moved
		 * into maps while they pass. A restart with XDP starts from the pinned maps, so its
		 * terminals register again: the operator's call, not sbcd's. */
		if (ev == GK_LINK_NEW && f->set.want == SBC_FP_AUTO)
			gk_notice(
			    "fast path: still in userspace (%s); a restart of sbcd attaches XDP "
			    "to %s, and its terminals then register again",
			    f->fallback_reason, name);
		return true;
	}
	/* Attached again in any case: on the same interface it replaces itself, and one that went
	 * down and up without being deleted may have lost it to someone's `ip link set xdp off`. */
	ret = gk_xdp_attach(f->xdp, &mode);
	if (ret < 0 || mode != f->mode) {
		f->reattach_failed++;
		f->attached = false;
		gk_err("fast path: XDP (%s) cannot be attached to %s again: %s",
		       gk_xdp_mode_str(f->mode), name,
		       ret < 0 ? strerror(-ret) : "another mode attached");
		return true;
	}
	if (!f->attached || ev == GK_LINK_NEW) {
		f->reattached++;
		gk_notice("fast path: XDP (%s) attached to %s again; the pinned maps kept every "
		          "registered terminal",
		          gk_xdp_mode_str(f->mode), name);
	}
	f->attached = true;
	return true;
}

void sbc_fp_ctl_stats(struct sbc_fastpath *f, struct gk_ctl_reply *out)
{
	uint64_t st[GK_FP_STAT__COUNT] = {0};

	gk_ctl_printf(out, "fastpath.mode %s", f->xdp ? gk_xdp_mode_str(f->mode) : "userspace");
	gk_ctl_printf(out, "fastpath.fallback_reason %s", f->xdp ? "none" : f->fallback_reason);
	if (f->xdp)
		gk_xdp_stats(f->xdp, st);
	else if (f->user)
		memcpy(st, gk_fp_user_stats(f->user), sizeof(st));
	for (int i = 0; i < GK_FP_STAT__COUNT; i++)
		gk_ctl_printf(out, "fastpath.%s %llu", gk_fp_stat_name((enum gk_fp_stat)i),
		              (unsigned long long)st[i]);
	gk_ctl_printf(out, "fastpath.install_failed %llu", (unsigned long long)f->install_failed);
	gk_ctl_printf(out, "fastpath.attached %d", f->xdp && f->attached ? 1 : 0);
	gk_ctl_printf(out, "access_link.gone %llu", (unsigned long long)f->link_gone);
	gk_ctl_printf(out, "access_link.new %llu", (unsigned long long)f->link_new);
	gk_ctl_printf(out, "access_link.down %llu", (unsigned long long)f->link_down);
	gk_ctl_printf(out, "access_link.up %llu", (unsigned long long)f->link_up);
	gk_ctl_printf(out, "access_link.xdp_reattached %llu", (unsigned long long)f->reattached);
	gk_ctl_printf(out, "access_link.xdp_reattach_failed %llu",
	              (unsigned long long)f->reattach_failed);
	gk_ctl_printf(out, "admission.enabled %d", f->set.admission ? 1 : 0);
	gk_ctl_printf(out, "admission.shed_permille %u", f->adm.shed);
	gk_ctl_printf(out, "admission.depth_permille %u", f->adm.depth);
	gk_ctl_printf(out, "admission.raised %llu", (unsigned long long)f->adm.raised);
	gk_ctl_printf(out, "admission.lowered %llu", (unsigned long long)f->adm.lowered);
	gk_ctl_printf(out, "admission.push_failed %llu", (unsigned long long)f->shed_push_failed);
}
