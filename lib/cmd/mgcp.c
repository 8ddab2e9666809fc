// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MGCP codec (RFC 3435): docs/bindings-mgcp.md. Tolerant decoder (case, blanks, CRLF or LF,
 * unknown parameters), strict encoder (one canonical form, refuses what would read back as
 * another message). Stateless: the transactions are lib/cmd/cmd_txn.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <linux/types.h>

#include "cmd_priv.h"
#include "gatekey/fastpath/fastpath.h"
#include "gatekey/cmd/mgcp.h"

#define EP_MAX 127

/* RFC 3435 §2.4: "The transaction could not be executed because of internal overload." The
 * error code of an overload refusal (GK_R_OVERLOAD), with the wait in X-GK-Retry-After. */
#define MGCP_OVERLOAD 409

static const char *const verbs[] = {"EPCF", "CRCX", "MDCX", "DLCX", "RQNT",
                                    "NTFY", "AUEP", "AUCX", "RSIP", "MESG"};

/* X-GK parameter names, in the order the encoder writes them (enum gk_cmd_field). */
static const char *const xp_names[GK_CF__N] = {"N1",    "N2",     "TS",    "Rand",    "Auth", "Key",
                                               "Mechs", "Chosen", "Index", "Expires", "MAC"};

struct line {
	const char *p;
	size_t n;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool eq_ci(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && blank(**s))
		(*s)++, (*n)--;
	while (*n && blank((*s)[*n - 1]))
		(*n)--;
}

/* Next whitespace-separated word of a line. */
static bool word(struct line *l, struct line *w)
{
	while (l->n && blank(*l->p))
		l->p++, l->n--;
	if (!l->n)
		return false;
	w->p = l->p;
	w->n = 0;
	while (l->n && !blank(*l->p))
		l->p++, l->n--, w->n++;
	return true;
}

static int tid_parse(const struct line *w, uint32_t *tid)
{
	uint64_t v;
	if (w->n < 1 || w->n > 9 || gk_dec_parse(w->p, w->n, GK_CMD_TID_MAX, &v) < 0 || v == 0)
		return -1;
	*tid = (uint32_t)v;
	return 0;
}

/* "K: 6234-6255, 6257" */
static enum gk_reason acks_parse(const char *s, size_t n, struct gk_cmd_wire *c)
{
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != ',')
			e++;
		const char *it = s + i;
		size_t in = e - i;
		trim(&it, &in);
		const char *dash = memchr(it, '-', in);
		uint64_t a, b;
		size_t an = dash ? (size_t)(dash - it) : in;
		const char *bp = dash ? dash + 1 : it;
		size_t bn = dash ? in - an - 1 : in;
		while (an && blank(it[an - 1]))
			an--;
		while (bn && blank(*bp))
			bp++, bn--;
		if (an < 1 || an > 9 || bn < 1 || bn > 9 ||
		    gk_dec_parse(it, an, GK_CMD_TID_MAX, &a) < 0 ||
		    gk_dec_parse(bp, bn, GK_CMD_TID_MAX, &b) < 0 || a == 0 || b < a)
			return GK_R_PARSE_BAD_VALUE;
		if (c->n_acks >= GK_CMD_ACKS_MAX)
			return GK_R_PARSE_TOO_LONG;
		c->acks[c->n_acks].first = (uint32_t)a;
		c->acks[c->n_acks].last = (uint32_t)b;
		c->n_acks++;
		i = e + 1;
	}
	return GK_R_OK;
}

static int fail(enum gk_reason *reason, enum gk_reason why)
{
	*reason = why;
	return -1;
}

int gk_mgcp_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason)
{
	struct gk_mgcp_ctx *x = &m->wire.mgcp;
	struct line lines[64];
	unsigned n_lines = 0;
	size_t i = 0;
	bool response;
	uint32_t seen = 0;
	struct line rm = {0};
	bool have_rm = false, have_x = false, have_k = false, have_ra = false;

	gk_msg_clear(m);
	m->proto = GK_PROTO_MGCP;
	*reason = GK_R_OK;
	if (len == 0)
		return fail(reason, GK_R_PARSE_TRUNCATED);
	/* Lines up to the empty line (a body after it, such as SDP, is not ours). */
	while (i < len) {
		size_t s = i;
		while (i < len && buf[i] != '\n' && buf[i] != '\r') {
			if ((buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f)
				return fail(reason, GK_R_PARSE_SYNTAX);
			i++;
		}
		size_t e = i;
		if (i < len && buf[i] == '\r') {
			if (i + 1 >= len || buf[i + 1] != '\n')
				return fail(reason, GK_R_PARSE_SYNTAX);
			i++;
		}
		if (i < len)
			i++; /* the LF */
		if (e == s)
			break;
		if (n_lines == sizeof(lines) / sizeof(lines[0]))
			return fail(reason, GK_R_PARSE_TOO_LONG);
		lines[n_lines].p = (const char *)buf + s;
		lines[n_lines].n = e - s;
		if (n_lines && lines[n_lines].n == 1 && lines[n_lines].p[0] == '.')
			return fail(reason, GK_R_PARSE_SYNTAX); /* piggy-backed messages */
		n_lines++;
	}
	if (n_lines == 0)
		return fail(reason, GK_R_PARSE_SYNTAX);

	struct line l = lines[0], w1, w2, w3, w4, w5;
	if (!word(&l, &w1) || !word(&l, &w2))
		return fail(reason, GK_R_PARSE_SYNTAX);
	response = w1.n == 3 && w1.p[0] >= '0' && w1.p[0] <= '9' && w1.p[1] >= '0' &&
	           w1.p[1] <= '9' && w1.p[2] >= '0' && w1.p[2] <= '9';
	if (tid_parse(&w2, &x->cmd.tid) < 0)
		return fail(reason, GK_R_PARSE_SYNTAX);
	if (response) {
		unsigned code = (unsigned)(w1.p[0] - '0') * 100 + (unsigned)(w1.p[1] - '0') * 10 +
		                (unsigned)(w1.p[2] - '0');
		x->cmd.code = (uint16_t)code;
		if (code == 0) {
			x->cmd.kind = GK_CMD_RESP_ACK;
			x->cmd.n_acks = 1;
			x->cmd.acks[0].first = x->cmd.acks[0].last = x->cmd.tid;
			m->type = GK_MSG_ACK;
		} else if (code == 100 || code == 101) {
			x->cmd.kind = GK_CMD_PENDING;
			m->type = GK_MSG_ACK;
		} else if (code >= 200 && code <= 299) {
			x->cmd.kind = GK_CMD_REPLY;
			m->type = GK_MSG_ACK;
		} else if ((code >= 400 && code <= 599) || (code >= 800 && code <= 899)) {
			x->cmd.kind = GK_CMD_REPLY;
			m->type = GK_MSG_REJECT;
			m->reason = code == MGCP_OVERLOAD ? GK_R_OVERLOAD : GK_R_REFUSED;
		} else {
			return fail(reason, GK_R_PARSE_UNSUPPORTED);
		}
	} else {
		unsigned v;
		if (w1.n != 4)
			return fail(reason, GK_R_PARSE_SYNTAX);
		for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
			if (eq_ci(w1.p, 4, verbs[v]))
				break;
		if (v == sizeof(verbs) / sizeof(verbs[0])) {
			for (unsigned k = 0; k < 4; k++)
				if (!((w1.p[k] | 0x20) >= 'a' && (w1.p[k] | 0x20) <= 'z'))
					return fail(reason, GK_R_PARSE_SYNTAX);
			return fail(reason, GK_R_PARSE_UNSUPPORTED);
		}
		memcpy(x->verb, verbs[v], 5);
		x->cmd.kind = GK_CMD_REQUEST;
		if (!word(&l, &w3) || !word(&l, &w4) || !word(&l, &w5))
			return fail(reason, GK_R_PARSE_SYNTAX);
		if (!eq_ci(w4.p, w4.n, "MGCP"))
			return fail(reason, GK_R_PARSE_SYNTAX);
		const char *dot = memchr(w5.p, '.', w5.n);
		uint64_t maj, min;
		if (!dot || gk_dec_parse(w5.p, (size_t)(dot - w5.p), 99, &maj) < 0 ||
		    gk_dec_parse(dot + 1, w5.n - (size_t)(dot - w5.p) - 1, 99, &min) < 0)
			return fail(reason, GK_R_PARSE_SYNTAX);
		if (maj != 1)
			return fail(reason, GK_R_PARSE_UNSUPPORTED);
		/* The endpoint name: IDc@IDsp. */
		if (w3.n > EP_MAX)
			return fail(reason, GK_R_PARSE_TOO_LONG);
		const char *at = memchr(w3.p, '@', w3.n);
		if (!at)
			return fail(reason, GK_R_PARSE_MISSING);
		size_t ln = (size_t)(at - w3.p), dn = w3.n - ln - 1;
		if (ln > GK_ID_MAX || dn > GK_ID_MAX)
			return fail(reason, GK_R_PARSE_TOO_LONG);
		if (!gk_id_ok(w3.p, ln) || !gk_id_ok(at + 1, dn) || memchr(at + 1, '@', dn))
			return fail(reason, GK_R_PARSE_BAD_VALUE);
		memcpy(m->idc, w3.p, ln);
		memcpy(m->idsp, at + 1, dn);
	}

	for (unsigned k = 1; k < n_lines; k++) {
		const char *p = lines[k].p, *colon = memchr(p, ':', lines[k].n);
		if (!colon)
			return fail(reason, GK_R_PARSE_SYNTAX);
		const char *name = p, *val = colon + 1;
		size_t nn = (size_t)(colon - p), vn = lines[k].n - nn - 1;
		trim(&name, &nn);
		trim(&val, &vn);
		if (nn == 0)
			return fail(reason, GK_R_PARSE_SYNTAX);
		if (eq_ci(name, nn, "K")) {
			if (have_k)
				return fail(reason, GK_R_PARSE_DUPLICATE);
			have_k = true;
			if (vn == 0) {
				if (response && x->cmd.kind == GK_CMD_REPLY)
					x->cmd.flags |= GK_CMD_F_WANT_ACK;
				continue;
			}
			if (response)
				continue;
			enum gk_reason r = acks_parse(val, vn, &x->cmd);
			if (r != GK_R_OK)
				return fail(reason, r);
			continue;
		}
		if (response && m->reason == GK_R_OVERLOAD && eq_ci(name, nn, "X-GK-Retry-After")) {
			uint64_t v;
			if (have_ra)
				return fail(reason, GK_R_PARSE_DUPLICATE);
			have_ra = true;
			if (gk_dec_parse(val, vn, UINT32_MAX, &v) < 0)
				return fail(reason, GK_R_PARSE_BAD_VALUE);
			m->retry_after = (uint32_t)v;
			continue;
		}
		if (response)
			continue; /* responses carry nothing else of ours */
		if (eq_ci(name, nn, "RM")) {
			if (have_rm)
				return fail(reason, GK_R_PARSE_DUPLICATE);
			have_rm = true;
			rm.p = val;
			rm.n = vn;
			continue;
		}
		if (eq_ci(name, nn, "X")) {
			if (have_x)
				return fail(reason, GK_R_PARSE_DUPLICATE);
			have_x = true;
			if (vn < 1 || vn > 32)
				return fail(reason, GK_R_PARSE_BAD_VALUE);
			for (size_t c = 0; c < vn; c++)
				if (!strchr("0123456789abcdefABCDEF", val[c]))
					return fail(reason, GK_R_PARSE_BAD_VALUE);
			continue;
		}
		if (nn > 5 && strncasecmp(name, "X-GK-", 5) == 0) {
			unsigned xp;
			for (xp = 0; xp < GK_CF__N; xp++)
				if (eq_ci(name + 5, nn - 5, xp_names[xp]))
					break;
			if (xp == GK_CF__N)
				continue; /* a later extension of ours */
			if (seen & (1u << xp))
				return fail(reason, GK_R_PARSE_DUPLICATE);
			seen |= 1u << xp;
			if (vn == 0)
				return fail(reason, GK_R_PARSE_MISSING);
			enum gk_reason r = gk_cmd_field_parse(m, xp, val, vn);
			if (r != GK_R_OK)
				return fail(reason, r);
		}
	}
	if (response)
		return 0;
	if ((m->fields & GK_F_MECHS) && (m->fields & GK_F_WANT_MECHS))
		return fail(reason, GK_R_PARSE_BAD_VALUE);

	if (strcmp(x->verb, "RSIP") == 0) {
		if (!have_rm || rm.n == 0)
			return fail(reason, GK_R_PARSE_MISSING);
		if (eq_ci(rm.p, rm.n, "restart") || eq_ci(rm.p, rm.n, "disconnected"))
			m->type = GK_MSG_REGISTER;
		else if (eq_ci(rm.p, rm.n, "forced") || eq_ci(rm.p, rm.n, "graceful"))
			m->type = GK_MSG_DEREGISTER;
		else
			return fail(reason, GK_R_PARSE_UNSUPPORTED);
	} else if (strcmp(x->verb, "NTFY") == 0) {
		m->type = (m->fields & GK_F_AUTH) ? GK_MSG_ANSWER : GK_MSG_OTHER;
	} else if (strcmp(x->verb, "RQNT") == 0) {
		if (m->fields & (GK_F_BLOB | GK_F_MAC))
			m->type = GK_MSG_SUCCESS;
		else if (m->fields & GK_F_RAND)
			m->type = GK_MSG_CHALLENGE;
		else
			m->type = GK_MSG_OTHER;
	} else {
		m->type = GK_MSG_OTHER;
	}
	return 0;
}

/* ---- encoder ---------------------------------------------------------------------------- */

static const char *verb_of(const struct gk_msg *m)
{
	switch (m->type) {
	case GK_MSG_REGISTER:
	case GK_MSG_DEREGISTER:
		return "RSIP";
	case GK_MSG_ANSWER:
		return "NTFY";
	case GK_MSG_CHALLENGE:
	case GK_MSG_SUCCESS:
		return "RQNT";
	case GK_MSG_OTHER:
		return m->wire.mgcp.verb[0] ? m->wire.mgcp.verb : "NTFY";
	default:
		return NULL;
	}
}

static bool known_verb(const char *v)
{
	for (unsigned i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(v, verbs[i]) == 0)
			return true;
	return false;
}

static bool id_part_ok(const char *s)
{
	size_t n = strnlen(s, GK_ID_MAX + 1);
	return gk_id_ok(s, n) && !memchr(s, '@', n);
}

static int finish(struct gk_out *o)
{
	return o->err ? -ENOSPC : (int)o->len;
}

static int encode_response(const struct gk_msg *m, struct gk_out *o)
{
	const struct gk_cmd_wire *c = &m->wire.mgcp.cmd;
	unsigned code;

	if (c->tid < 1 || c->tid > GK_CMD_TID_MAX)
		return -EINVAL;
	if (m->type == GK_MSG_REJECT) {
		code = c->code;
		if (m->reason == GK_R_NOT_SERVED)
			code = 504; /* RFC 3435 §2.4: unknown or unsupported command */
		else if (m->reason == GK_R_OVERLOAD)
			code = MGCP_OVERLOAD;
		else if (code == MGCP_OVERLOAD)
			code = 500; /* it would read back as an overload */
		if (!((code >= 400 && code <= 599) || (code >= 800 && code <= 899)))
			code = 500;
		if (m->fields)
			return -EINVAL;
		gk_out_fmt(o, "%03u %u %s\r\n", code, c->tid,
		           code == 500             ? "Endpoint unknown"
		           : code == 504           ? "Unknown or unsupported command"
		           : code == MGCP_OVERLOAD ? "Overload"
		                                   : "Error");
		if (code == MGCP_OVERLOAD && m->retry_after)
			gk_out_fmt(o, "X-GK-Retry-After: %u\r\n", m->retry_after);
	} else if (m->type == GK_MSG_ACK && c->kind == GK_CMD_RESP_ACK) {
		if (m->fields)
			return -EINVAL;
		gk_out_fmt(o, "000 %u\r\n", c->tid);
		return finish(o);
	} else if (m->type == GK_MSG_ACK && c->kind == GK_CMD_PENDING) {
		code = c->code == 101 ? 101 : 100;
		if (m->fields)
			return -EINVAL;
		gk_out_fmt(o, "%u %u %s\r\n", code, c->tid, code == 101 ? "Queued" : "Pending");
		return finish(o);
	} else {
		/* ACK (final), DEREG_OK, OTHER_OK: a 2xx. DEREG_OK's zero lifetime is implied. */
		uint32_t allowed = m->type == GK_MSG_DEREG_OK ? GK_F_EXPIRES : 0;
		if ((m->fields & ~allowed) || ((m->fields & GK_F_EXPIRES) && m->expires))
			return -EINVAL;
		if (m->type == GK_MSG_ACK && c->kind != GK_CMD_REPLY && c->kind != GK_CMD_REQUEST &&
		    c->kind != GK_CMD_NONE)
			return -EINVAL;
		code = c->code >= 200 && c->code <= 299 ? c->code : 200;
		gk_out_fmt(o, "%u %u OK\r\n", code, c->tid);
	}
	if (c->flags & GK_CMD_F_WANT_ACK)
		gk_out_str(o, "K:\r\n");
	return finish(o);
}

static void xp_line(struct gk_out *o, unsigned k)
{
	gk_out_str(o, "X-GK-");
	gk_out_str(o, xp_names[k]);
	gk_out_str(o, ": ");
}

int gk_mgcp_encode(const struct gk_msg *m, uint8_t *buf, size_t cap)
{
	const struct gk_mgcp_ctx *x = &m->wire.mgcp;
	struct gk_out o = {.p = (char *)buf, .cap = cap};
	const char *verb;
	uint32_t f = m->fields;

	if (m->type == GK_MSG_REJECT || m->type == GK_MSG_ACK || m->type == GK_MSG_DEREG_OK ||
	    m->type == GK_MSG_OTHER_OK) {
		int n = encode_response(m, &o);
		return n;
	}
	verb = verb_of(m);
	if (!verb || !known_verb(verb))
		return -EINVAL;
	if (x->cmd.tid < 1 || x->cmd.tid > GK_CMD_TID_MAX)
		return -EINVAL;
	if (!id_part_ok(m->idc) || !id_part_ok(m->idsp))
		return -EINVAL;
	if (!gk_cmd_fields_ok(m))
		return -EINVAL;
	if (m->type == GK_MSG_OTHER &&
	    (strcmp(verb, "RSIP") == 0 || (strcmp(verb, "NTFY") == 0 && (f & GK_F_AUTH)) ||
	     (strcmp(verb, "RQNT") == 0 && (f & (GK_F_BLOB | GK_F_MAC | GK_F_RAND)))))
		return -EINVAL;

	gk_out_fmt(&o, "%s %u %s@%s MGCP 1.0\r\n", verb, x->cmd.tid, m->idc, m->idsp);
	if (x->cmd.n_acks) {
		if (x->cmd.n_acks > GK_CMD_ACKS_MAX)
			return -EINVAL;
		gk_out_str(&o, "K: ");
		for (unsigned i = 0; i < x->cmd.n_acks; i++) {
			uint32_t a = x->cmd.acks[i].first, b = x->cmd.acks[i].last;
			if (a < 1 || b < a || b > GK_CMD_TID_MAX)
				return -EINVAL;
			gk_out_str(&o, i ? ", " : "");
			if (a == b)
				gk_out_fmt(&o, "%u", a);
			else
				gk_out_fmt(&o, "%u-%u", a, b);
		}
		gk_out_str(&o, "\r\n");
	}
	if (m->type == GK_MSG_REGISTER)
		gk_out_str(&o, "RM: restart\r\n");
	else if (m->type == GK_MSG_DEREGISTER)
		gk_out_str(&o, "RM: forced\r\n");
	if (strcmp(verb, "NTFY") == 0 || strcmp(verb, "RQNT") == 0) {
		gk_out_str(&o, "X: ");
		if (f & GK_F_N2)
			gk_out_hex(&o, m->n2, GK_NONCE_LEN);
		else
			gk_out_str(&o, "0");
		gk_out_str(&o, "\r\n");
	}
	if (m->type == GK_MSG_CHALLENGE)
		gk_out_str(&o, "R: gk/ans\r\nS: gk/chal\r\n");
	else if (m->type == GK_MSG_SUCCESS)
		gk_out_str(&o, "S: gk/ok\r\n");
	else if (m->type == GK_MSG_ANSWER)
		gk_out_str(&o, "O: gk/ans\r\n");
	else if (m->type == GK_MSG_OTHER && strcmp(verb, "NTFY") == 0)
		gk_out_str(&o, "O: gk/ka\r\n");

	if (f & GK_F_N1) {
		xp_line(&o, GK_CF_N1);
		gk_out_hex(&o, m->n1, GK_NONCE_LEN);
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_N2) {
		xp_line(&o, GK_CF_N2);
		gk_out_hex(&o, m->n2, GK_NONCE_LEN);
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_TS) {
		xp_line(&o, GK_CF_TS);
		gk_out_fmt(&o, "%llu\r\n", (unsigned long long)m->ts);
	}
	if (f & GK_F_RAND) {
		xp_line(&o, GK_CF_RAND);
		gk_out_hex(&o, m->rand, GK_RAND_LEN);
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_AUTH) {
		xp_line(&o, GK_CF_AUTH);
		gk_out_hex(&o, m->auth, GK_AUTH_LEN);
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_BLOB) {
		xp_line(&o, GK_CF_KEY);
		gk_out_hex(&o, m->blob, GK_BLOB_LEN);
		gk_out_str(&o, "\r\n");
	}
	if (f & (GK_F_MECHS | GK_F_WANT_MECHS)) {
		xp_line(&o, GK_CF_MECHS);
		if (f & GK_F_MECHS)
			gk_mechs_text_out(&o, m);
		else
			gk_out_str(&o, "required");
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_CHOSEN) {
		xp_line(&o, GK_CF_CHOSEN);
		gk_chosen_text_out(&o, m);
		gk_out_str(&o, "\r\n");
	}
	if (f & GK_F_INDEX) {
		xp_line(&o, GK_CF_INDEX);
		gk_out_fmt(&o, "%u\r\n", m->index);
	}
	if (f & GK_F_EXPIRES) {
		xp_line(&o, GK_CF_EXPIRES);
		gk_out_fmt(&o, "%u\r\n", m->expires);
	}
	if (f & GK_F_MAC) {
		xp_line(&o, GK_CF_MAC);
		gk_out_hex(&o, m->mac, GK_MAC_LEN);
		gk_out_str(&o, "\r\n");
	}
	return finish(&o);
}

int gk_mgcp_is_registration(const uint8_t *buf, size_t len)
{
	struct gk_fp_dfa d;
	return gk_fp_is_registration(GK_FP_PROTO_MGCP, buf,
	                             (__u32)(len > UINT32_MAX ? UINT32_MAX : len), &d);
}

/* ---- codec table entry ---------------------------------------------------------------------- */

static void mgcp_request_init(struct gk_msg *m, const struct gk_request_ctx *c)
{
	struct gk_mgcp_ctx *x = &m->wire.mgcp;

	memset(x, 0, sizeof(*x));
	x->cmd.kind = GK_CMD_REQUEST;
	x->cmd.tid = c->seq % GK_CMD_TID_MAX;
	if (!x->cmd.tid)
		x->cmd.tid = 1;
	if (c->method)
		for (unsigned i = 0; i < 4 && c->method[i]; i++)
			x->verb[i] = (char)(c->method[i] & ~0x20);
}

static void mgcp_response_init(struct gk_msg *m)
{
	(void)m; /* the request's transaction id is all a response needs */
}

static uint64_t mgcp_transaction_ref(const struct gk_msg *m)
{
	const struct gk_cmd_wire *c = &m->wire.mgcp.cmd;
	return c->kind == GK_CMD_REQUEST ? 0 : c->tid;
}

static const char *mgcp_request_method(const struct gk_msg *m)
{
	const char *v = verb_of(m);
	return v ? v : "";
}

/* A gateway's NTFY outside the exchange is its keep-alive; connection handling (CRCX, MDCX,
 * ...) and the rest need call control this element does not have yet: 504, not a false 200. */
static enum gk_other_kind mgcp_other_kind(const struct gk_msg *m)
{
	const char *v = verb_of(m);
	return v && strcmp(v, "NTFY") == 0 ? GK_OTHER_PROBE : GK_OTHER_UNSERVED;
}

const struct gk_codec gk_mgcp_codec = {
    .proto = GK_PROTO_MGCP,
    .name = "mgcp",
    .default_port = GK_MGCP_PORT_CA,
    .decode = gk_mgcp_decode,
    .encode = gk_mgcp_encode,
    .is_registration = gk_mgcp_is_registration,
    .request_init = mgcp_request_init,
    .response_init = mgcp_response_init,
    .transaction_ref = mgcp_transaction_ref,
    .request_method = mgcp_request_method,
    .other_kind = mgcp_other_kind,
};
