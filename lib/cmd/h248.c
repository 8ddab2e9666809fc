// SPDX-License-Identifier: GPL-2.0-only
/*
 * The H.248.1 / Megaco text codec (RFC 3525): docs/bindings-h248.md. The decoder reads the
 * message into a small tree of `name [op value] [{ children }]` items (the shape every H.248 text
 * construct has), then interprets the tree; the encoder writes one canonical long-token form.
 * Stateless: Pending, retransmission and the reply cache are lib/cmd/cmd_txn.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/types.h>

#include "cmd_priv.h"
#include "gatekey/fastpath/fastpath.h"
#include "gatekey/cmd/h248.h"

#define NODES_MAX 256
#define DEPTH_MAX 16

/* H.248.8 error 510, "Insufficient resources": the error of an overload refusal (GK_R_OVERLOAD),
 * its error text saying how long to wait ("...; Retry-After: <s>"). */
#define H248_OVERLOAD 510
#define H248_RETRY    "Retry-After:"

struct node {
	const char *name, *val;
	uint16_t nn, vn;
	uint8_t op; /* 0, '=', '!', '<', '>', '#' */
	bool quoted;
	int16_t child, next; /* -1: none */
};

struct tree {
	const char *p, *end;
	struct node n[NODES_MAX];
	unsigned count;
	enum gk_reason err;
};

static bool eq_ci(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static bool tok(const struct node *x, const char *lng, const char *shrt)
{
	return eq_ci(x->name, x->nn, lng) || (shrt && eq_ci(x->name, x->nn, shrt));
}

static bool word_char(char c)
{
	return c > 0x20 && c < 0x7f && !strchr(";{},=\"[]<>!#", c);
}

static int bad(struct tree *t, enum gk_reason why)
{
	if (t->err == GK_R_OK)
		t->err = why;
	return -1;
}

/* LWSP: blanks, line ends, ';' comments. Control characters are refused. */
static int lwsp(struct tree *t)
{
	while (t->p < t->end) {
		char c = *t->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			t->p++;
		} else if (c == ';') {
			while (t->p < t->end && *t->p != '\n' && *t->p != '\r')
				t->p++;
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			return bad(t, GK_R_PARSE_SYNTAX);
		} else {
			break;
		}
	}
	return 0;
}

static int quoted(struct tree *t, const char **s, uint16_t *n)
{
	const char *q = ++t->p;
	while (t->p < t->end && *t->p != '"') {
		if ((unsigned char)*t->p < 0x20 && *t->p != '\t')
			return bad(t, GK_R_PARSE_SYNTAX);
		t->p++;
	}
	if (t->p >= t->end)
		return bad(t, GK_R_PARSE_TRUNCATED);
	if (t->p - q > 4096)
		return bad(t, GK_R_PARSE_TOO_LONG);
	*s = q;
	*n = (uint16_t)(t->p - q);
	t->p++;
	return 0;
}

/* A value: quoted string, word, or a bracketed part ([...], <...>) followed by word chars. */
static int value(struct tree *t, const char **s, uint16_t *n)
{
	const char *v = t->p;
	if (t->p < t->end && *t->p == '"')
		return quoted(t, s, n);
	if (t->p < t->end && (*t->p == '[' || *t->p == '<')) {
		char close = *t->p == '[' ? ']' : '>';
		while (t->p < t->end && *t->p != close) {
			if ((unsigned char)*t->p < 0x20 || *t->p == '{' || *t->p == '}')
				return bad(t, GK_R_PARSE_SYNTAX);
			t->p++;
		}
		if (t->p >= t->end)
			return bad(t, GK_R_PARSE_TRUNCATED);
		t->p++;
	}
	while (t->p < t->end && word_char(*t->p))
		t->p++;
	if (t->p == v)
		return bad(t, t->p >= t->end ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_SYNTAX);
	if (t->p - v > 4096)
		return bad(t, GK_R_PARSE_TOO_LONG);
	*s = v;
	*n = (uint16_t)(t->p - v);
	return 0;
}

/* Local, Remote and DigitMap bodies are octet strings: skipped up to the unescaped '}'. */
static bool raw_body(const struct node *x)
{
	return tok(x, "Local", "L") || tok(x, "Remote", "R") || tok(x, "DigitMap", "DM");
}

static int list(struct tree *t, unsigned depth, int16_t *first);

static int item(struct tree *t, unsigned depth, int16_t *idx)
{
	struct node *x;

	if (t->count >= NODES_MAX)
		return bad(t, GK_R_PARSE_TOO_LONG);
	*idx = (int16_t)t->count;
	x = &t->n[t->count++];
	memset(x, 0, sizeof(*x));
	x->child = x->next = -1;
	if (*t->p == '"') {
		x->quoted = true;
		if (quoted(t, &x->name, &x->nn) < 0)
			return -1;
		return lwsp(t);
	}
	x->name = t->p;
	while (t->p < t->end && word_char(*t->p))
		t->p++;
	if (t->p == x->name)
		return bad(t, GK_R_PARSE_SYNTAX);
	if (t->p - x->name > 4096)
		return bad(t, GK_R_PARSE_TOO_LONG);
	x->nn = (uint16_t)(t->p - x->name);
	if (lwsp(t) < 0)
		return -1;
	if (t->p < t->end && strchr("=!<>#", *t->p)) {
		x->op = (uint8_t)*t->p++;
		if (x->op == '!') {
			if (t->p >= t->end || *t->p != '=')
				return bad(t, GK_R_PARSE_SYNTAX);
			t->p++;
		}
		if (lwsp(t) < 0 || value(t, &x->val, &x->vn) < 0 || lwsp(t) < 0)
			return -1;
	}
	if (t->p < t->end && *t->p == '{') {
		t->p++;
		if (raw_body(x)) {
			while (t->p < t->end && *t->p != '}') {
				if (*t->p == '\\' && t->p + 1 < t->end)
					t->p++;
				t->p++;
			}
			if (t->p >= t->end)
				return bad(t, GK_R_PARSE_TRUNCATED);
			t->p++;
			x->child = -1;
			return lwsp(t);
		}
		if (depth + 1 > DEPTH_MAX)
			return bad(t, GK_R_PARSE_SYNTAX);
		int16_t c;
		if (list(t, depth + 1, &c) < 0)
			return -1;
		t->n[*idx].child = c;
		if (t->p >= t->end)
			return bad(t, GK_R_PARSE_TRUNCATED);
		if (*t->p != '}')
			return bad(t, GK_R_PARSE_SYNTAX);
		t->p++;
		return lwsp(t);
	}
	return 0;
}

/* Items separated by commas (or, at the top, by LWSP); ends at '}' or the end. */
static int list(struct tree *t, unsigned depth, int16_t *first)
{
	int16_t prev = -1;
	*first = -1;
	if (lwsp(t) < 0)
		return -1;
	while (t->p < t->end && *t->p != '}') {
		int16_t i;
		if (item(t, depth, &i) < 0)
			return -1;
		if (prev < 0)
			*first = i;
		else
			t->n[prev].next = i;
		prev = i;
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			if (lwsp(t) < 0)
				return -1;
			if (t->p >= t->end)
				return bad(t, GK_R_PARSE_TRUNCATED);
			if (*t->p == '}')
				return bad(t, GK_R_PARSE_SYNTAX);
		} else if (depth > 0 && t->p < t->end && *t->p != '}') {
			return bad(t, GK_R_PARSE_SYNTAX);
		}
	}
	if (depth == 0 && t->p < t->end)
		return bad(t, GK_R_PARSE_SYNTAX); /* a '}' too many */
	if (depth > 0 && t->p >= t->end)
		return bad(t, GK_R_PARSE_TRUNCATED);
	return 0;
}

/* ---- interpretation ------------------------------------------------------------------------- */

static const struct {
	const char *lng, *shrt;
} commands[] = {
    {"ServiceChange", "SC"}, {"Notify", "N"},   {"Modify", "MF"},     {"Add", "A"},
    {"Move", "MV"},          {"Subtract", "S"}, {"AuditValue", "AV"}, {"AuditCapabilities", "AC"},
};

static const char *const gk_params[GK_CF__N] = {
    "n1", "n2", "ts", "rand", "auth", "key", "mechs", "chosen", "index", "expires", "mac"};

enum gk_event { EV_NONE, EV_REG, EV_DEREG, EV_ANS, EV_KA, EV_CHAL, EV_OK };
static const char *const ev_names[] = {"",      "gk/reg",  "gk/dereg", "gk/ans",
                                       "gk/ka", "gk/chal", "gk/ok"};

struct interp {
	struct tree *t;
	struct gk_msg *m;
	enum gk_event ev;
	int method; /* 0 none, 1 register, 2 deregister */
	bool sc;
	uint32_t seen;
	bool have_idc, have_idsp;
};

static const char *command_name(const struct node *x)
{
	const char *s = x->name;
	size_t n = x->nn;
	/* O- and W- prefixes (optional, wildcarded response) */
	while (n > 2 && s[1] == '-' && (s[0] == 'O' || s[0] == 'o' || s[0] == 'W' || s[0] == 'w'))
		s += 2, n -= 2;
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (eq_ci(s, n, commands[i].lng) || eq_ci(s, n, commands[i].shrt))
			return commands[i].lng;
	return NULL;
}

static int ids_param(struct interp *in, const struct node *p, char *dst, bool *have)
{
	if (*have)
		return bad(in->t, GK_R_PARSE_DUPLICATE);
	*have = true;
	if (p->vn > GK_ID_MAX)
		return bad(in->t, GK_R_PARSE_TOO_LONG);
	if (!gk_id_ok(p->val, p->vn))
		return bad(in->t, GK_R_PARSE_BAD_VALUE);
	memcpy(dst, p->val, p->vn);
	dst[p->vn] = '\0';
	return 0;
}

static int gk_event(struct interp *in, const struct node *e, enum gk_event ev)
{
	if (in->ev != EV_NONE)
		return bad(in->t, GK_R_PARSE_DUPLICATE);
	in->ev = ev;
	for (int16_t i = e->child; i >= 0; i = in->t->n[i].next) {
		const struct node *p = &in->t->n[i];
		if (p->quoted)
			return bad(in->t, GK_R_PARSE_SYNTAX);
		if (eq_ci(p->name, p->nn, "idc") || eq_ci(p->name, p->nn, "idsp")) {
			if (p->op != '=')
				return bad(in->t, GK_R_PARSE_BAD_VALUE);
			bool idc = p->nn == 3;
			if (ids_param(in, p, idc ? in->m->idc : in->m->idsp,
			              idc ? &in->have_idc : &in->have_idsp) < 0)
				return -1;
			continue;
		}
		unsigned k;
		for (k = 0; k < GK_CF__N; k++)
			if (eq_ci(p->name, p->nn, gk_params[k]))
				break;
		if (k == GK_CF__N)
			continue; /* another parameter (a stack's own, or a later one of ours) */
		if (in->seen & (1u << k))
			return bad(in->t, GK_R_PARSE_DUPLICATE);
		in->seen |= 1u << k;
		if (p->op != '=' || p->child >= 0)
			return bad(in->t, GK_R_PARSE_BAD_VALUE);
		if (p->vn == 0)
			return bad(in->t, GK_R_PARSE_MISSING);
		enum gk_reason r = gk_cmd_field_parse(in->m, k, p->val, p->vn);
		if (r == GK_R_OK && k == GK_CF_MECHS && (in->m->fields & GK_F_MECHS) &&
		    !in->m->n_mechs)
			r = GK_R_PARSE_BAD_VALUE;
		if (r != GK_R_OK)
			return bad(in->t, r);
	}
	return 0;
}

static enum gk_event event_of(const struct node *x)
{
	const char *s = x->name, *c;
	size_t n = x->nn;
	/* An observed event may carry a time stamp: "20261128T16040300:gk/reg". */
	while ((c = memchr(s, ':', n)) != NULL)
		n -= (size_t)(c + 1 - s), s = c + 1;
	for (unsigned e = EV_REG; e <= EV_OK; e++)
		if (eq_ci(s, n, ev_names[e]))
			return (enum gk_event)e;
	return EV_NONE;
}

static int command(struct interp *in, const struct node *c, const char *name)
{
	struct tree *t = in->t;
	if (strcmp(name, "ServiceChange") == 0) {
		in->sc = true;
		for (int16_t i = c->child; i >= 0; i = t->n[i].next) {
			const struct node *sv = &t->n[i];
			if (!tok(sv, "Services", "SV"))
				continue;
			for (int16_t j = sv->child; j >= 0; j = t->n[j].next) {
				const struct node *p = &t->n[j];
				if (!tok(p, "Method", "MT"))
					continue;
				if (in->method)
					return bad(t, GK_R_PARSE_DUPLICATE);
				if (tok((struct node *)&(struct node){.name = p->val, .nn = p->vn},
				        "Restart", "RS") ||
				    tok(&(struct node){.name = p->val, .nn = p->vn}, "Disconnected",
				        "DC"))
					in->method = 1;
				else if (tok(&(struct node){.name = p->val, .nn = p->vn}, "Forced",
				             "FO") ||
				         tok(&(struct node){.name = p->val, .nn = p->vn},
				             "Graceful", "GR"))
					in->method = 2;
				else
					return bad(t, GK_R_PARSE_UNSUPPORTED);
			}
		}
		if (!in->method)
			return bad(t, GK_R_PARSE_MISSING);
		return 0;
	}
	const char *desc = strcmp(name, "Notify") == 0   ? "ObservedEvents"
	                   : strcmp(name, "Modify") == 0 ? "Signals"
	                                                 : NULL;
	if (!desc)
		return 0;
	for (int16_t i = c->child; i >= 0; i = t->n[i].next) {
		const struct node *d = &t->n[i];
		if (!(desc[0] == 'O' ? tok(d, "ObservedEvents", "OE") : tok(d, "Signals", "SG")))
			continue;
		for (int16_t j = d->child; j >= 0; j = t->n[j].next) {
			enum gk_event ev = event_of(&t->n[j]);
			if (ev == EV_NONE)
				continue;
			bool signal = ev == EV_CHAL || ev == EV_OK;
			if (signal != (desc[0] == 'S'))
				return bad(t, GK_R_PARSE_BAD_VALUE);
			if (gk_event(in, &t->n[j], ev) < 0)
				return -1;
		}
	}
	return 0;
}

static int tid_of(struct tree *t, const struct node *x, uint32_t *tid)
{
	uint64_t v;
	if (x->op != '=' || x->vn == 0)
		return bad(t, GK_R_PARSE_SYNTAX);
	if (gk_dec_parse(x->val, x->vn, UINT32_MAX, &v) < 0 || v == 0)
		return bad(t, GK_R_PARSE_BAD_VALUE);
	*tid = (uint32_t)v;
	return 0;
}

static int add_cmd(struct interp *in, const char *name)
{
	struct gk_h248_ctx *x = &in->m->wire.h248;
	if (x->n_cmds >= 2)
		return bad(in->t, GK_R_PARSE_TOO_LONG);
	if (!x->n_cmds)
		snprintf(x->verb, sizeof(x->verb), "%s", name);
	x->n_cmds++;
	return 0;
}

static int transaction(struct interp *in, const struct node *tr)
{
	struct tree *t = in->t;
	for (int16_t a = tr->child; a >= 0; a = t->n[a].next) {
		const struct node *ctx = &t->n[a];
		if (!tok(ctx, "Context", "C"))
			continue;
		for (int16_t c = ctx->child; c >= 0; c = t->n[c].next) {
			const char *name = command_name(&t->n[c]);
			if (!name)
				continue; /* context properties */
			if (add_cmd(in, name) < 0 || command(in, &t->n[c], name) < 0)
				return -1;
		}
	}
	if (!in->m->wire.h248.n_cmds)
		return bad(t, GK_R_PARSE_MISSING);
	struct gk_msg *m = in->m;
	if (in->sc) {
		if (in->ev != EV_NONE && in->ev != (in->method == 1 ? EV_REG : EV_DEREG))
			return bad(t, GK_R_PARSE_BAD_VALUE);
		m->type = in->method == 1 ? GK_MSG_REGISTER : GK_MSG_DEREGISTER;
	} else {
		switch (in->ev) {
		case EV_ANS:
			m->type = GK_MSG_ANSWER;
			break;
		case EV_CHAL:
			m->type = GK_MSG_CHALLENGE;
			break;
		case EV_OK:
			m->type = GK_MSG_SUCCESS;
			break;
		case EV_REG:
		case EV_DEREG:
			return bad(t, GK_R_PARSE_MISSING); /* without its ServiceChange */
		default:
			m->type = GK_MSG_OTHER;
		}
	}
	if (in->ev != EV_NONE && in->ev != EV_KA && !(in->have_idc && in->have_idsp))
		return bad(t, GK_R_PARSE_MISSING);
	if (m->type == GK_MSG_OTHER && strcmp(m->wire.h248.verb, "ServiceChange") == 0)
		return bad(t, GK_R_PARSE_UNSUPPORTED);
	if ((m->fields & GK_F_MECHS) && (m->fields & GK_F_WANT_MECHS))
		return bad(t, GK_R_PARSE_BAD_VALUE);
	/* What the encoder could not send again as this type is not this type either. */
	if ((m->type == GK_MSG_CHALLENGE && !(m->fields & GK_F_RAND)) ||
	    (m->type == GK_MSG_ANSWER && !(m->fields & GK_F_AUTH)) ||
	    (m->type == GK_MSG_SUCCESS && !(m->fields & (GK_F_BLOB | GK_F_MAC))))
		return bad(t, GK_R_PARSE_MISSING);
	return 0;
}

static int error_code(struct tree *t, const struct node *e, uint16_t *code)
{
	uint64_t v;
	if (e->op != '=' || gk_dec_parse(e->val, e->vn, 9999, &v) < 0 || v == 0)
		return bad(t, e->op != '=' ? GK_R_PARSE_UNSUPPORTED : GK_R_PARSE_BAD_VALUE);
	*code = (uint16_t)v;
	return 0;
}

/* The seconds an overload error's text asks to wait ("Retry-After: 7" anywhere in it), 0 when it
 * names none: the text is free (H.248.1 ErrorDescriptor), so nothing in it is refused. */
static uint32_t error_retry_after(const struct tree *t, const struct node *e)
{
	const size_t k = sizeof(H248_RETRY) - 1;

	for (int16_t i = e->child; i >= 0; i = t->n[i].next) {
		const struct node *q = &t->n[i];
		if (!q->quoted)
			continue;
		for (size_t at = 0; at + k <= q->nn; at++) {
			if (strncasecmp(q->name + at, H248_RETRY, k) != 0)
				continue;
			size_t d = at + k, n = 0;
			uint64_t v;
			while (d < q->nn && (q->name[d] == ' ' || q->name[d] == '\t'))
				d++;
			while (d + n < q->nn && q->name[d + n] >= '0' && q->name[d + n] <= '9')
				n++;
			return n && gk_dec_parse(q->name + d, n, UINT32_MAX, &v) == 0 ? (uint32_t)v
			                                                              : 0;
		}
		return 0;
	}
	return 0;
}

static int reply(struct interp *in, const struct node *rp)
{
	struct tree *t = in->t;
	struct gk_msg *m = in->m;
	struct gk_cmd_wire *c = &m->wire.h248.cmd;
	const struct node *error = NULL;

	for (int16_t i = rp->child; i >= 0; i = t->n[i].next) {
		const struct node *x = &t->n[i];
		if (tok(x, "ImmAckRequired", "IA")) {
			c->flags |= GK_CMD_F_WANT_ACK;
		} else if (tok(x, "Error", "ER")) {
			if (error_code(t, x, &c->code) < 0)
				return -1;
			error = x;
		} else if (tok(x, "Context", "C")) {
			for (int16_t k = x->child; k >= 0; k = t->n[k].next) {
				const char *name = command_name(&t->n[k]);
				if (!name)
					continue;
				if (add_cmd(in, name) < 0)
					return -1;
				for (int16_t e = t->n[k].child; e >= 0; e = t->n[e].next)
					if (tok(&t->n[e], "Error", "ER")) {
						if (!error && error_code(t, &t->n[e], &c->code) < 0)
							return -1;
						if (!error)
							error = &t->n[e];
					}
			}
		}
	}
	if (error) {
		m->type = GK_MSG_REJECT;
		m->reason = c->code == H248_OVERLOAD ? GK_R_OVERLOAD : GK_R_REFUSED;
		m->retry_after = c->code == H248_OVERLOAD ? error_retry_after(t, error) : 0;
		m->wire.h248.verb[0] = '\0';
		m->wire.h248.n_cmds = 0;
		return 0;
	}
	if (!m->wire.h248.n_cmds)
		return bad(t, GK_R_PARSE_MISSING);
	m->type = GK_MSG_ACK;
	return 0;
}

static int acks(struct interp *in, const struct node *k)
{
	struct gk_cmd_wire *c = &in->m->wire.h248.cmd;
	for (int16_t i = k->child; i >= 0; i = in->t->n[i].next) {
		const struct node *x = &in->t->n[i];
		const char *dash = memchr(x->name, '-', x->nn);
		size_t an = dash ? (size_t)(dash - x->name) : x->nn;
		uint64_t a, b;
		if (x->quoted || x->op || x->child >= 0 ||
		    gk_dec_parse(x->name, an, UINT32_MAX, &a) < 0 ||
		    gk_dec_parse(dash ? dash + 1 : x->name, dash ? x->nn - an - 1 : x->nn,
		                 UINT32_MAX, &b) < 0 ||
		    a == 0 || b < a)
			return bad(in->t, GK_R_PARSE_BAD_VALUE);
		if (c->n_acks >= GK_CMD_ACKS_MAX)
			return bad(in->t, GK_R_PARSE_TOO_LONG);
		c->acks[c->n_acks].first = (uint32_t)a;
		c->acks[c->n_acks].last = (uint32_t)b;
		c->n_acks++;
	}
	if (!k->child || k->child < 0)
		return bad(in->t, GK_R_PARSE_MISSING);
	return 0;
}

/* "MEGACO/1 mId" (or "!/1"), after an optional Authentication header. */
static int header(struct tree *t, unsigned *version)
{
	if (lwsp(t) < 0)
		return -1;
	const char *s = t->p;
	while (t->p < t->end && ((*t->p | 0x20) >= 'a' && (*t->p | 0x20) <= 'z'))
		t->p++;
	if ((eq_ci(s, (size_t)(t->p - s), "Authentication") ||
	     eq_ci(s, (size_t)(t->p - s), "AU"))) {
		const char *v;
		uint16_t n;
		if (lwsp(t) < 0)
			return -1;
		if (t->p >= t->end || *t->p != '=')
			return bad(t, t->p >= t->end ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_SYNTAX);
		t->p++;
		if (lwsp(t) < 0 || value(t, &v, &n) < 0 || lwsp(t) < 0)
			return -1;
		s = t->p;
		while (t->p < t->end && ((*t->p | 0x20) >= 'a' && (*t->p | 0x20) <= 'z'))
			t->p++;
	}
	if (t->p == s && t->p < t->end && *t->p == '!')
		t->p++;
	else if (!eq_ci(s, (size_t)(t->p - s), "MEGACO"))
		return bad(t, t->p >= t->end ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_SYNTAX);
	if (t->p >= t->end)
		return bad(t, GK_R_PARSE_TRUNCATED);
	if (*t->p++ != '/')
		return bad(t, GK_R_PARSE_SYNTAX);
	s = t->p;
	while (t->p < t->end && *t->p >= '0' && *t->p <= '9' && t->p - s < 3)
		t->p++;
	uint64_t v;
	if (t->p - s < 1 || t->p - s > 2 || gk_dec_parse(s, (size_t)(t->p - s), 99, &v) < 0)
		return bad(t, t->p >= t->end ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_SYNTAX);
	if (v < 1 || v > 3)
		return bad(t, GK_R_PARSE_UNSUPPORTED);
	*version = (unsigned)v;
	s = t->p;
	if (lwsp(t) < 0)
		return -1;
	if (t->p == s)
		return bad(t, t->p >= t->end ? GK_R_PARSE_TRUNCATED : GK_R_PARSE_SYNTAX);
	const char *mid;
	uint16_t mn;
	if (t->p >= t->end)
		return bad(t, GK_R_PARSE_MISSING);
	if (value(t, &mid, &mn) < 0)
		return -1;
	if (*mid == '"')
		return bad(t, GK_R_PARSE_SYNTAX);
	if (mn >= sizeof(((struct gk_h248_ctx *)0)->mid))
		return bad(t, GK_R_PARSE_TOO_LONG);
	return 0;
}

int gk_h248_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason)
{
	static __thread struct tree t;
	struct interp in = {.t = &t, .m = m};
	struct gk_cmd_wire *c = &m->wire.h248.cmd;
	unsigned version;
	int16_t first;
	int trans = 0;

	gk_msg_clear(m);
	m->proto = GK_PROTO_H248;
	memset(&t, 0, offsetof(struct tree, n));
	t.p = (const char *)buf;
	t.end = t.p + len;
	t.err = GK_R_OK;
	t.count = 0;
	*reason = GK_R_OK;
	if (len == 0) {
		*reason = GK_R_PARSE_TRUNCATED;
		return -1;
	}
	if (len > 65535 || header(&t, &version) < 0 || list(&t, 0, &first) < 0)
		goto out;
	for (int16_t i = first; i >= 0; i = t.n[i].next) {
		const struct node *x = &t.n[i];
		if (tok(x, "TransactionResponseAck", "K")) {
			if (acks(&in, x) < 0)
				goto out;
			continue;
		}
		bool request = tok(x, "Transaction", "T"), rep = tok(x, "Reply", "P"),
		     pend = tok(x, "Pending", "PN");
		if (!request && !rep && !pend) {
			bad(&t, tok(x, "Error", "ER") ? GK_R_PARSE_UNSUPPORTED : GK_R_PARSE_SYNTAX);
			goto out;
		}
		if (trans++) {
			bad(&t, GK_R_PARSE_DUPLICATE);
			goto out;
		}
		if (tid_of(&t, x, &c->tid) < 0)
			goto out;
		if (request) {
			c->kind = GK_CMD_REQUEST;
			if (transaction(&in, x) < 0)
				goto out;
		} else if (rep) {
			c->kind = GK_CMD_REPLY;
			if (reply(&in, x) < 0)
				goto out;
		} else {
			c->kind = GK_CMD_PENDING;
			m->type = GK_MSG_ACK;
		}
	}
	if (!trans) {
		if (!c->n_acks) {
			bad(&t, GK_R_PARSE_MISSING);
			goto out;
		}
		c->kind = GK_CMD_RESP_ACK;
		c->tid = c->acks[0].first;
		m->type = GK_MSG_ACK;
	}
	if (t.err == GK_R_OK)
		return 0;
out:
	*reason = t.err != GK_R_OK ? t.err : GK_R_PARSE_SYNTAX;
	{
		enum gk_reason keep = *reason;
		gk_msg_clear(m);
		m->proto = GK_PROTO_H248;
		*reason = keep;
	}
	return -1;
}

/* ---- encoder ---------------------------------------------------------------------------- */

static bool domain_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 61 || /* "<" name ">" fits an mId of 63 */
	    (!((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') && !(*s >= '0' && *s <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static bool mid_ok(const char *s)
{
	size_t n = strnlen(s, 64);
	if (n == 0 || n >= 64)
		return false;
	struct tree t = {.p = s, .end = s + n};
	const char *v;
	uint16_t vn;
	return *s != '"' && value(&t, &v, &vn) == 0 && vn == n;
}

static bool verb_known(const char *v)
{
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(v, commands[i].lng) == 0)
			return true;
	return false;
}

static void event_out(struct gk_out *o, const struct gk_msg *m, enum gk_event ev, const char *ind)
{
	bool any = m->idc[0] || m->idsp[0] || m->fields;
	gk_out_fmt(o, "%s%s", ind, ev_names[ev]);
	if (!any) {
		gk_out_str(o, "\r\n");
		return;
	}
	gk_out_str(o, " {\r\n");
	bool first = true;
	if (m->idc[0]) {
		gk_out_fmt(o, "%s\tidc = \"%s\"", ind, m->idc);
		first = false;
	}
	if (m->idsp[0]) {
		gk_out_fmt(o, "%s%s\tidsp = \"%s\"", first ? "" : ",\r\n", ind, m->idsp);
		first = false;
	}
	for (unsigned k = 0; k < GK_CF__N; k++) {
		if (!gk_cmd_field_has(m, k))
			continue;
		gk_out_fmt(o, "%s%s\t%s = ", first ? "" : ",\r\n", ind, gk_params[k]);
		gk_cmd_field_out(o, m, k, "\"");
		first = false;
	}
	gk_out_fmt(o, "\r\n%s}\r\n", ind);
}

static uint32_t request_id(const struct gk_msg *m)
{
	if (!(m->fields & GK_F_N2))
		return 0;
	return (uint32_t)m->n2[12] << 24 | (uint32_t)m->n2[13] << 16 | (uint32_t)m->n2[14] << 8 |
	       m->n2[15];
}

static int encode_reply(const struct gk_msg *m, struct gk_out *o)
{
	const struct gk_h248_ctx *x = &m->wire.h248;
	const struct gk_cmd_wire *c = &x->cmd;

	if (c->tid == 0)
		return -EINVAL;
	if (m->type == GK_MSG_ACK && c->kind == GK_CMD_PENDING) {
		if (m->fields)
			return -EINVAL;
		gk_out_fmt(o, "Pending = %u {\r\n}\r\n", c->tid);
		return 0;
	}
	gk_out_fmt(o, "Reply = %u {\r\n", c->tid);
	if (c->flags & GK_CMD_F_WANT_ACK)
		gk_out_str(o, "\tImmAckRequired,\r\n");
	if (m->type == GK_MSG_REJECT) {
		unsigned code = c->code && c->code <= 9999 ? c->code : 402;
		if (m->reason == GK_R_NOT_SERVED)
			code = 501; /* H.248.8: not implemented */
		else if (m->reason == GK_R_OVERLOAD)
			code = H248_OVERLOAD;
		else if (code == H248_OVERLOAD)
			code = 402; /* it would read back as an overload */
		if (m->fields)
			return -EINVAL;
		if (code == H248_OVERLOAD && m->retry_after) {
			gk_out_fmt(o,
			           "\tError = %u {\r\n\t\t\"Insufficient resources; " H248_RETRY
			           " %u\"\r\n\t}\r\n}\r\n",
			           code, m->retry_after);
			return 0;
		}
		gk_out_fmt(o, "\tError = %u {\r\n\t\t\"%s\"\r\n\t}\r\n}\r\n", code,
		           code == 402             ? "Unauthorized"
		           : code == 501           ? "Not Implemented"
		           : code == H248_OVERLOAD ? "Insufficient resources"
		                                   : "Error");
		return 0;
	}
	uint32_t allowed = m->type == GK_MSG_DEREG_OK ? GK_F_EXPIRES : 0;
	if ((m->fields & ~allowed) || ((m->fields & GK_F_EXPIRES) && m->expires))
		return -EINVAL;
	if (!verb_known(x->verb) || x->n_cmds > 2)
		return -EINVAL;
	gk_out_fmt(o, "\tContext = - {\r\n\t\t%s = ROOT%s\r\n\t}\r\n}\r\n", x->verb,
	           x->n_cmds == 2 ? ",\r\n\t\tNotify = ROOT" : "");
	return 0;
}

int gk_h248_encode(const struct gk_msg *m, uint8_t *buf, size_t cap)
{
	const struct gk_h248_ctx *x = &m->wire.h248;
	const struct gk_cmd_wire *c = &x->cmd;
	struct gk_out o = {.p = (char *)buf, .cap = cap};
	uint32_t f = m->fields;

	if (x->mid[0] && !mid_ok(x->mid))
		return -EINVAL;
	gk_out_str(&o, "MEGACO/1 ");
	if (x->mid[0])
		gk_out_str(&o, x->mid);
	else
		gk_out_fmt(&o, "<%s>", domain_ok(m->idsp) ? m->idsp : "gatekey");
	gk_out_str(&o, "\r\n");

	if (c->n_acks || (m->type == GK_MSG_ACK && c->kind == GK_CMD_RESP_ACK)) {
		if (!c->n_acks || c->n_acks > GK_CMD_ACKS_MAX)
			return -EINVAL;
		gk_out_str(&o, "TransactionResponseAck {\r\n");
		for (unsigned i = 0; i < c->n_acks; i++) {
			uint32_t a = c->acks[i].first, b = c->acks[i].last;
			if (a == 0 || b < a)
				return -EINVAL;
			if (a == b)
				gk_out_fmt(&o, "\t%u%s\r\n", a, i + 1 < c->n_acks ? "," : "");
			else
				gk_out_fmt(&o, "\t%u-%u%s\r\n", a, b, i + 1 < c->n_acks ? "," : "");
		}
		gk_out_str(&o, "}\r\n");
		if (m->type == GK_MSG_ACK && c->kind == GK_CMD_RESP_ACK) {
			if (f || c->tid != c->acks[0].first)
				return -EINVAL;
			return o.err ? -ENOSPC : (int)o.len;
		}
	}
	switch (m->type) {
	case GK_MSG_REJECT:
	case GK_MSG_ACK:
	case GK_MSG_DEREG_OK:
	case GK_MSG_OTHER_OK: {
		int r = encode_reply(m, &o);
		if (r < 0)
			return r;
		return o.err ? -ENOSPC : (int)o.len;
	}
	case GK_MSG_REGISTER:
	case GK_MSG_DEREGISTER:
	case GK_MSG_ANSWER:
	case GK_MSG_CHALLENGE:
	case GK_MSG_SUCCESS:
	case GK_MSG_OTHER:
		break;
	default:
		return -EINVAL;
	}
	if (c->tid == 0 || !gk_cmd_fields_ok(m))
		return -EINVAL;
	bool ids = m->idc[0] || m->idsp[0];
	if ((m->idc[0] && !gk_id_ok(m->idc, strnlen(m->idc, GK_ID_MAX + 1))) ||
	    (m->idsp[0] && !gk_id_ok(m->idsp, strnlen(m->idsp, GK_ID_MAX + 1))))
		return -EINVAL;
	const char *verb = m->type == GK_MSG_OTHER && x->verb[0] ? x->verb : NULL;
	if (m->type != GK_MSG_OTHER || (verb && strcmp(verb, "Notify") != 0)) {
		/* Every type but a keep-alive names its terminal; a non-Notify OTHER carries
		 * nothing. */
		if (m->type != GK_MSG_OTHER && !(m->idc[0] && m->idsp[0]) &&
		    !((m->type == GK_MSG_REGISTER || m->type == GK_MSG_DEREGISTER) && !ids && !f))
			return -EINVAL;
	}
	if (m->type == GK_MSG_OTHER && verb &&
	    (!verb_known(verb) || strcmp(verb, "ServiceChange") == 0 ||
	     (strcmp(verb, "Notify") != 0 && (ids || f))))
		return -EINVAL;

	gk_out_fmt(&o, "Transaction = %u {\r\n\tContext = - {\r\n", c->tid);
	switch (m->type) {
	case GK_MSG_REGISTER:
	case GK_MSG_DEREGISTER:
		gk_out_fmt(
		    &o,
		    "\t\tServiceChange = ROOT {\r\n\t\t\tServices {\r\n\t\t\t\tMethod = %s,\r\n"
		    "\t\t\t\tReason = \"%s\"\r\n\t\t\t}\r\n\t\t}",
		    m->type == GK_MSG_REGISTER ? "Restart" : "Forced",
		    m->type == GK_MSG_REGISTER ? "901 Cold Boot"
		                               : "905 Termination taken out of service");
		if (!ids) { /* a stack's bare ServiceChange, sent again as it came */
			gk_out_str(&o, "\r\n");
			break;
		}
		gk_out_str(&o, ",\r\n\t\tNotify = ROOT {\r\n\t\t\tObservedEvents = 0 {\r\n");
		event_out(&o, m, m->type == GK_MSG_REGISTER ? EV_REG : EV_DEREG, "\t\t\t\t");
		gk_out_str(&o, "\t\t\t}\r\n\t\t}\r\n");
		break;
	case GK_MSG_ANSWER:
	case GK_MSG_OTHER:
		if (verb && strcmp(verb, "Notify") != 0) {
			gk_out_fmt(&o, "\t\t%s = ROOT {\r\n\t\t\tAudit {\r\n\t\t\t}\r\n\t\t}\r\n",
			           verb);
			break;
		}
		gk_out_fmt(&o, "\t\tNotify = ROOT {\r\n\t\t\tObservedEvents = %u {\r\n",
		           request_id(m));
		event_out(&o, m, m->type == GK_MSG_ANSWER ? EV_ANS : EV_KA, "\t\t\t\t");
		gk_out_str(&o, "\t\t\t}\r\n\t\t}\r\n");
		break;
	case GK_MSG_CHALLENGE:
	case GK_MSG_SUCCESS:
		gk_out_str(&o, "\t\tModify = ROOT {\r\n");
		if (m->type == GK_MSG_CHALLENGE)
			gk_out_fmt(&o, "\t\t\tEvents = %u {\r\n\t\t\t\tgk/ans\r\n\t\t\t},\r\n",
			           request_id(m));
		gk_out_str(&o, "\t\t\tSignals {\r\n");
		event_out(&o, m, m->type == GK_MSG_CHALLENGE ? EV_CHAL : EV_OK, "\t\t\t\t");
		gk_out_str(&o, "\t\t\t}\r\n\t\t}\r\n");
		break;
	default:
		return -EINVAL;
	}
	gk_out_str(&o, "\t}\r\n}\r\n");
	return o.err ? -ENOSPC : (int)o.len;
}

int gk_h248_is_registration(const uint8_t *buf, size_t len)
{
	struct gk_fp_dfa d;
	return gk_fp_is_registration(GK_FP_PROTO_H248, buf,
	                             (__u32)(len > UINT32_MAX ? UINT32_MAX : len), &d);
}

/* ---- codec table entry ---------------------------------------------------------------------- */

/* "[198.18.0.2]:2944", "[2001:db8::2]:2944": the H.248 IPv4/IPv6 mId of an address. */
static int mid_of_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	} else {
		return -1;
	}
	int n = port ? snprintf(out, cap, "[%s]:%u", ip, port) : snprintf(out, cap, "[%s]", ip);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static void h248_request_init(struct gk_msg *m, const struct gk_request_ctx *c)
{
	struct gk_h248_ctx *x = &m->wire.h248;
	char a[64];

	memset(x, 0, sizeof(*x));
	x->cmd.kind = GK_CMD_REQUEST;
	x->cmd.tid = c->seq % GK_CMD_TID_MAX;
	if (!x->cmd.tid)
		x->cmd.tid = 1;
	if (c->local && mid_of_addr(c->local, a, sizeof(a)) == 0)
		snprintf(x->mid, sizeof(x->mid), "%s", a);
	if (c->method && verb_known(c->method))
		snprintf(x->verb, sizeof(x->verb), "%s", c->method);
}

static void h248_response_init(struct gk_msg *m)
{
	/* The reply names the commands of the request: the copied context has them. The mId is
	 * the responder's, not the requester's. */
	m->wire.h248.mid[0] = '\0';
}

static uint64_t h248_transaction_ref(const struct gk_msg *m)
{
	const struct gk_cmd_wire *c = &m->wire.h248.cmd;
	return c->kind == GK_CMD_REQUEST ? 0 : c->tid;
}

static const char *h248_request_method(const struct gk_msg *m)
{
	switch (m->type) {
	case GK_MSG_REGISTER:
	case GK_MSG_DEREGISTER:
		return "ServiceChange";
	case GK_MSG_ANSWER:
		return "Notify";
	case GK_MSG_CHALLENGE:
	case GK_MSG_SUCCESS:
		return "Modify";
	case GK_MSG_OTHER:
		return m->wire.h248.verb[0] ? m->wire.h248.verb : "Notify";
	default:
		return "";
	}
}

/* A Notify outside the exchange is the MG's keep-alive (an inactivity-timer or similar event);
 * adding, moving and subtracting terminations need call control this element does not have
 * yet: error 501, not a false reply. */
static enum gk_other_kind h248_other_kind(const struct gk_msg *m)
{
	const char *v = m->wire.h248.verb;
	return !v[0] || strcmp(v, "Notify") == 0 ? GK_OTHER_PROBE : GK_OTHER_UNSERVED;
}

const struct gk_codec gk_h248_codec = {
    .proto = GK_PROTO_H248,
    .name = "h248",
    .default_port = GK_H248_PORT,
    .decode = gk_h248_decode,
    .encode = gk_h248_encode,
    .is_registration = gk_h248_is_registration,
    .request_init = h248_request_init,
    .response_init = h248_response_init,
    .transaction_ref = h248_transaction_ref,
    .request_method = h248_request_method,
    .other_kind = h248_other_kind,
};
