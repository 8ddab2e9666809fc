// SPDX-License-Identifier: GPL-2.0-only
/* Text helpers of the MGCP and H.248 codecs: an all-or-nothing output buffer, hex, decimals,
 * the RFC 3329 style mechanism list. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd_priv.h"

void gk_out_mem(struct gk_out *o, const void *s, size_t n)
{
	if (o->err || n > o->cap - o->len) {
		o->err = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

void gk_out_str(struct gk_out *o, const char *s)
{
	gk_out_mem(o, s, strlen(s));
}

void gk_out_fmt(struct gk_out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->err = true;
		return;
	}
	gk_out_mem(o, tmp, (size_t)n);
}

void gk_out_hex(struct gk_out *o, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	char c[2];
	for (size_t i = 0; i < n; i++) {
		c[0] = d[b[i] >> 4];
		c[1] = d[b[i] & 15];
		gk_out_mem(o, c, 2);
	}
}

static int nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gk_hex_parse(const char *s, size_t len, uint8_t *b, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = nib(s[2 * i]), l = nib(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		b[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

int gk_dec_parse(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

bool gk_id_ok(const char *s, size_t len)
{
	if (len == 0 || len > GK_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
	while (*n && blank(**s))
		(*s)++, (*n)--;
	while (*n && blank((*s)[*n - 1]))
		(*n)--;
}

/* "0", "0.9", "0.125", "1", "1.000" -> thousandths. */
static int q_parse(const char *s, size_t n, uint16_t *q)
{
	unsigned v, scale = 100;
	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	v = (unsigned)(s[0] - '0') * 1000;
	if (n == 1) {
		*q = (uint16_t)v;
		return 0;
	}
	if (s[1] != '.' || n > 5 || n == 2)
		return -1;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v += (unsigned)(s[i] - '0') * scale;
	}
	if (v > 1000)
		return -1;
	*q = (uint16_t)v;
	return 0;
}

enum gk_reason gk_mechs_text_parse(const char *s, size_t len, struct gk_msg *m)
{
	unsigned listed = 0;
	size_t i = 0;

	m->n_mechs = 0;
	while (i <= len) {
		size_t e = i;
		while (e < len && s[e] != ',')
			e++;
		const char *it = s + i;
		size_t n = e - i;
		trim(&it, &n);
		if (n == 0)
			return GK_R_PARSE_BAD_VALUE;
		if (++listed > 16)
			return GK_R_PARSE_TOO_LONG;
		size_t nl = 0;
		while (nl < n && it[nl] != ';' && !blank(it[nl]))
			nl++;
		enum gk_mech mech = gk_mech_from_name(it, nl);
		struct gk_ipsec_read ipsec = {0};
		uint16_t q = 1000;
		bool have_q = false;
		size_t p = nl;
		while (p < n) {
			while (p < n && blank(it[p]))
				p++;
			if (p >= n)
				break;
			if (it[p] != ';')
				return GK_R_PARSE_BAD_VALUE;
			p++;
			size_t pe = p;
			while (pe < n && it[pe] != ';')
				pe++;
			const char *par = it + p;
			size_t pn = pe - p;
			trim(&par, &pn);
			if (mech == GK_MECH_IPSEC) {
				/* an ipsec-3gpp end's parameter (TS 33.203 Annex H), as in SIP */
				const char *eq = memchr(par, '=', pn);
				const char *pname = par, *val = eq ? eq + 1 : NULL;
				size_t pnl = eq ? (size_t)(eq - par) : pn;
				size_t vn = eq ? pn - pnl - 1 : 0;

				trim(&pname, &pnl);
				if (val)
					trim(&val, &vn);
				int ir = gk_ipsec_param(&ipsec, pname, pnl, val, vn,
				                        vn && val[0] == '"');
				if (ir < 0)
					return GK_R_PARSE_BAD_VALUE;
				if (ir > 0) {
					p = pe;
					continue;
				}
			}
			if (pn >= 1 && (par[0] == 'q' || par[0] == 'Q') &&
			    (pn == 1 || par[1] == '=' || blank(par[1]))) {
				size_t k = 1;
				while (k < pn && blank(par[k]))
					k++;
				if (k >= pn || par[k] != '=')
					return GK_R_PARSE_BAD_VALUE;
				k++;
				const char *v = par + k;
				size_t vn = pn - k;
				trim(&v, &vn);
				if (have_q)
					return GK_R_PARSE_DUPLICATE;
				if (q_parse(v, vn, &q) < 0)
					return GK_R_PARSE_BAD_VALUE;
				have_q = true;
			}
			p = pe;
		}
		if (nl == 0)
			return GK_R_PARSE_BAD_VALUE;
		/* the first usable ipsec-3gpp entry is the terminal's end; all stay listed */
		if (mech == GK_MECH_IPSEC && !(m->fields & GK_F_IPSEC_TERM) &&
		    gk_ipsec_read_end(&ipsec, &m->ipsec_term))
			m->fields |= GK_F_IPSEC_TERM;
		if (mech != GK_MECH_NONE) {
			if (m->n_mechs >= GK_MECH_MAX)
				return GK_R_PARSE_TOO_LONG;
			m->mechs[m->n_mechs].mech = (uint8_t)mech;
			m->mechs[m->n_mechs].q = q;
			m->n_mechs++;
		}
		i = e + 1;
	}
	return GK_R_OK;
}

/* The chosen mechanism's name, and for ipsec-3gpp the element's end after it, as in a list
 * entry: "ipsec-3gpp;prot=esp;mod=trans;ealg=aes-gcm;spi-c=..;spi-s=..;port-c=..;port-s=..". */
static enum gk_reason chosen_parse(const char *v, size_t n, struct gk_msg *m)
{
	struct gk_ipsec_read ipsec = {0};
	size_t nl = 0, p;

	while (nl < n && v[nl] != ';' && !blank(v[nl]))
		nl++;
	m->fields |= GK_F_CHOSEN;
	m->chosen = (uint8_t)gk_mech_from_name(v, nl);
	if (m->chosen == GK_MECH_NONE)
		return GK_R_PARSE_BAD_VALUE;
	for (p = nl; p < n;) {
		size_t pe;
		const char *par, *eq, *val;
		size_t pn, pnl, vn;

		while (p < n && blank(v[p]))
			p++;
		if (p >= n)
			break;
		if (v[p] != ';' || m->chosen != GK_MECH_IPSEC)
			return GK_R_PARSE_BAD_VALUE; /* only an ipsec-3gpp end has parameters */
		for (pe = ++p; pe < n && v[pe] != ';'; pe++)
			;
		par = v + p;
		pn = pe - p;
		trim(&par, &pn);
		eq = memchr(par, '=', pn);
		val = eq ? eq + 1 : NULL;
		pnl = eq ? (size_t)(eq - par) : pn;
		vn = eq ? pn - pnl - 1 : 0;
		trim(&par, &pnl);
		if (val)
			trim(&val, &vn);
		if (gk_ipsec_param(&ipsec, par, pnl, val, vn, vn && val[0] == '"') < 0)
			return GK_R_PARSE_BAD_VALUE;
		p = pe;
	}
	if (m->chosen == GK_MECH_IPSEC && gk_ipsec_read_end(&ipsec, &m->ipsec_net))
		m->fields |= GK_F_IPSEC_NET;
	return GK_R_OK;
}

void gk_chosen_text_out(struct gk_out *o, const struct gk_msg *m)
{
	gk_out_str(o, gk_mech_name((enum gk_mech)m->chosen));
	if (m->chosen == GK_MECH_IPSEC && (m->fields & GK_F_IPSEC_NET)) {
		char t[GK_IPSEC_END_TEXT];

		gk_ipsec_end_format(&m->ipsec_net, t);
		gk_out_str(o, t);
	}
}

void gk_mechs_text_out(struct gk_out *o, const struct gk_msg *m)
{
	bool ipsec_said = false;

	for (unsigned i = 0; i < m->n_mechs && i < GK_MECH_MAX; i++) {
		unsigned q = m->mechs[i].q;
		gk_out_str(o, i ? ", " : "");
		gk_out_str(o, gk_mech_name((enum gk_mech)m->mechs[i].mech));
		if (q >= 1000)
			gk_out_str(o, ";q=1");
		else if (q == 0)
			gk_out_str(o, ";q=0");
		else if (q % 100 == 0)
			gk_out_fmt(o, ";q=0.%u", q / 100);
		else if (q % 10 == 0)
			gk_out_fmt(o, ";q=0.%02u", q / 10);
		else
			gk_out_fmt(o, ";q=0.%03u", q);
		if (m->mechs[i].mech == GK_MECH_IPSEC && (m->fields & GK_F_IPSEC_TERM) &&
		    !ipsec_said) {
			char t[GK_IPSEC_END_TEXT];

			gk_ipsec_end_format(&m->ipsec_term, t);
			gk_out_str(o, t);
			ipsec_said = true;
		}
	}
}

bool gk_mechs_ok(const struct gk_msg *m)
{
	if (m->n_mechs == 0 || m->n_mechs > GK_MECH_MAX)
		return false;
	for (unsigned i = 0; i < m->n_mechs; i++)
		if (m->mechs[i].mech < GK_MECH_GKMAC || m->mechs[i].mech > GK_MECH_DIGEST ||
		    m->mechs[i].q > 1000)
			return false;
	return true;
}

enum gk_reason gk_cmd_field_parse(struct gk_msg *m, unsigned k, const char *v, size_t n)
{
	uint64_t x;
	switch (k) {
	case GK_CF_N1:
		m->fields |= GK_F_N1;
		return gk_hex_parse(v, n, m->n1, GK_NONCE_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_N2:
		m->fields |= GK_F_N2;
		return gk_hex_parse(v, n, m->n2, GK_NONCE_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_RAND:
		m->fields |= GK_F_RAND;
		return gk_hex_parse(v, n, m->rand, GK_RAND_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_AUTH:
		m->fields |= GK_F_AUTH;
		return gk_hex_parse(v, n, m->auth, GK_AUTH_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_KEY:
		m->fields |= GK_F_BLOB;
		return gk_hex_parse(v, n, m->blob, GK_BLOB_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_MAC:
		m->fields |= GK_F_MAC;
		return gk_hex_parse(v, n, m->mac, GK_MAC_LEN) ? GK_R_PARSE_BAD_VALUE : GK_R_OK;
	case GK_CF_TS:
		m->fields |= GK_F_TS;
		if (gk_dec_parse(v, n, UINT64_MAX, &x) < 0)
			return GK_R_PARSE_BAD_VALUE;
		m->ts = x;
		return GK_R_OK;
	case GK_CF_EXPIRES:
	case GK_CF_INDEX:
		if (gk_dec_parse(v, n, UINT32_MAX, &x) < 0)
			return GK_R_PARSE_BAD_VALUE;
		if (k == GK_CF_EXPIRES) {
			m->fields |= GK_F_EXPIRES;
			m->expires = (uint32_t)x;
		} else {
			m->fields |= GK_F_INDEX;
			m->index = (uint32_t)x;
		}
		return GK_R_OK;
	case GK_CF_CHOSEN:
		return chosen_parse(v, n, m);
	case GK_CF_MECHS:
		if (n == 8 && strncasecmp(v, "required", 8) == 0) {
			m->fields |= GK_F_WANT_MECHS;
			return GK_R_OK;
		}
		m->fields |= GK_F_MECHS;
		enum gk_reason r = gk_mechs_text_parse(v, n, m);
		return r != GK_R_OK ? r : m->n_mechs ? GK_R_OK : GK_R_PARSE_BAD_VALUE;
	default:
		return GK_R_OK;
	}
}

bool gk_cmd_field_has(const struct gk_msg *m, unsigned k)
{
	static const uint32_t bit[GK_CF__N] = {
	    [GK_CF_N1] = GK_F_N1,
	    [GK_CF_N2] = GK_F_N2,
	    [GK_CF_TS] = GK_F_TS,
	    [GK_CF_RAND] = GK_F_RAND,
	    [GK_CF_AUTH] = GK_F_AUTH,
	    [GK_CF_KEY] = GK_F_BLOB,
	    [GK_CF_MECHS] = GK_F_MECHS | GK_F_WANT_MECHS,
	    [GK_CF_CHOSEN] = GK_F_CHOSEN,
	    [GK_CF_INDEX] = GK_F_INDEX,
	    [GK_CF_EXPIRES] = GK_F_EXPIRES,
	    [GK_CF_MAC] = GK_F_MAC,
	};
	return k < GK_CF__N && (m->fields & bit[k]);
}

void gk_cmd_field_out(struct gk_out *o, const struct gk_msg *m, unsigned k, const char *quote)
{
	switch (k) {
	case GK_CF_N1:
		gk_out_hex(o, m->n1, GK_NONCE_LEN);
		break;
	case GK_CF_N2:
		gk_out_hex(o, m->n2, GK_NONCE_LEN);
		break;
	case GK_CF_TS:
		gk_out_fmt(o, "%llu", (unsigned long long)m->ts);
		break;
	case GK_CF_RAND:
		gk_out_hex(o, m->rand, GK_RAND_LEN);
		break;
	case GK_CF_AUTH:
		gk_out_hex(o, m->auth, GK_AUTH_LEN);
		break;
	case GK_CF_KEY:
		gk_out_hex(o, m->blob, GK_BLOB_LEN);
		break;
	case GK_CF_MECHS:
		gk_out_str(o, quote);
		if (m->fields & GK_F_MECHS)
			gk_mechs_text_out(o, m);
		else
			gk_out_str(o, "required");
		gk_out_str(o, quote);
		break;
	case GK_CF_CHOSEN:
		/* with an end, quoted where the protocol needs it (H.248: ';' starts a comment) */
		if (m->chosen == GK_MECH_IPSEC && (m->fields & GK_F_IPSEC_NET)) {
			gk_out_str(o, quote);
			gk_chosen_text_out(o, m);
			gk_out_str(o, quote);
		} else {
			gk_chosen_text_out(o, m);
		}
		break;
	case GK_CF_INDEX:
		gk_out_fmt(o, "%u", m->index);
		break;
	case GK_CF_EXPIRES:
		gk_out_fmt(o, "%u", m->expires);
		break;
	case GK_CF_MAC:
		gk_out_hex(o, m->mac, GK_MAC_LEN);
		break;
	default:
		o->err = true;
	}
}

/* What both command encoders check before writing fields. */
bool gk_cmd_fields_ok(const struct gk_msg *m)
{
	uint32_t f = m->fields;
	if (f & ~GK_CMD_FIELDS)
		return false;
	if ((f & GK_F_MECHS) && ((f & GK_F_WANT_MECHS) || !gk_mechs_ok(m)))
		return false;
	/* an end goes out after an ipsec-3gpp entry, and only a usable one reads back */
	if (f & GK_F_IPSEC_TERM) {
		bool listed = false;
		for (unsigned i = 0; (f & GK_F_MECHS) && i < m->n_mechs; i++)
			listed |= m->mechs[i].mech == GK_MECH_IPSEC;
		if (!listed || !gk_ipsec_end_ok(&m->ipsec_term))
			return false;
	}
	if ((f & GK_F_IPSEC_NET) &&
	    (!(f & GK_F_CHOSEN) || m->chosen != GK_MECH_IPSEC || !gk_ipsec_end_ok(&m->ipsec_net)))
		return false;
	if ((f & GK_F_CHOSEN) && (m->chosen < GK_MECH_GKMAC || m->chosen > GK_MECH_DIGEST))
		return false;
	/* Nothing may read back as another type. */
	switch (m->type) {
	case GK_MSG_ANSWER:
		return f & GK_F_AUTH;
	case GK_MSG_CHALLENGE:
		return (f & GK_F_RAND) && !(f & (GK_F_BLOB | GK_F_MAC));
	case GK_MSG_SUCCESS:
		return f & (GK_F_BLOB | GK_F_MAC);
	default:
		return true;
	}
}
