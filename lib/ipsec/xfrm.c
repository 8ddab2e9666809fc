// SPDX-License-Identifier: GPL-2.0-only
/*
 * SAs and policies for ipsec-3gpp over XFRM netlink (see gatekey/ipsec/xfrm.h), built with
 * libnl-xfrm-3's objects. Two things are done by hand, both for the key's sake:
 *
 * - The AEAD attribute is appended to the request here rather than given to the SA object:
 *   libnl keeps a copy of an object's key in a heap block it frees without wiping. Ours lives on
 *   the stack and in the request's buffer, and both are wiped once the request is sent.
 * - The kernel sends every SA's key in a dump. Each dumped message has its key bytes wiped in
 *   libnl's receive buffer before libnl parses it, so no parsed object ever holds a key.
 *
 * The socket asks for capped acknowledgements (an error never echoes the request, key and all)
 * and for extended acks, whose text gk_xfrm_error() returns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/xfrm/lifetime.h>
#include <netlink/xfrm/sa.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/template.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/ipsec/xfrm.h"
#include "gatekey/runtime/loop.h"

/* Dumps arrive in skbs of at most 32 KiB: one receive buffer of this size, never re-allocated
 * (a re-allocation would leave a copy of a dump's keys behind). */
#define RECV_BUF   65536
#define REPLAY_WIN 32

/* An SA takes the key gk_esp_key_derive makes for it. */
_Static_assert(GK_XFRM_KEY_LEN == GK_ESP_KEY_LEN, "ESP key layouts differ");

struct gk_xfrm {
	struct nl_sock *sk;
	int kerr; /* the kernel's answer to the last request, a negative errno; 0 none */
	char why[160];
};

static int to_errno(const struct gk_xfrm *h, int nlerr)
{
	if (h->kerr)
		return h->kerr;
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

/* The ack that reports an error: its errno and the extended ack's message, if any. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct gk_xfrm *h = arg;
	const struct nlmsghdr *ack = (const void *)((const char *)e - NLMSG_HDRLEN);
	size_t payload = sizeof(*e);
	size_t off;

	(void)nla;
	h->kerr = e->error < 0 ? e->error : -EIO;
	if (!(ack->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
		payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
	if ((ack->nlmsg_flags & NLM_F_ACK_TLVS) && ack->nlmsg_len > off) {
		struct nlattr *m = nla_find((struct nlattr *)((char *)ack + off),
		                            (int)(ack->nlmsg_len - off), NLMSGERR_ATTR_MSG);
		if (m)
			snprintf(h->why, sizeof(h->why), "%.*s",
			         (int)strnlen(nla_data(m), (size_t)nla_len(m)),
			         (char *)nla_data(m));
	}
	return NL_STOP;
}

int gk_xfrm_open(struct gk_xfrm **out)
{
	struct gk_xfrm *h = calloc(1, sizeof(*h));
	int one = 1;
	int rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->sk = nl_socket_alloc();
	if (!h->sk) {
		free(h);
		return -ENOMEM;
	}
	rc = nl_connect(h->sk, NETLINK_XFRM);
	if (rc < 0) {
		rc = rc == -NLE_PROTO_MISMATCH ? -EPROTONOSUPPORT : to_errno(h, rc);
		goto fail;
	}
	nl_socket_disable_msg_peek(h->sk);
	if (nl_socket_set_msg_buf_size(h->sk, RECV_BUF) < 0 ||
	    nl_socket_modify_err_cb(h->sk, NL_CB_CUSTOM, on_error, h) < 0 ||
	    setsockopt(nl_socket_get_fd(h->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) <
	        0 ||
	    setsockopt(nl_socket_get_fd(h->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) <
	        0) {
		rc = errno ? -errno : -EIO;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	nl_socket_free(h->sk);
	free(h);
	return rc;
}

void gk_xfrm_close(struct gk_xfrm *h)
{
	if (!h)
		return;
	nl_socket_free(h->sk);
	free(h);
}

const char *gk_xfrm_error(const struct gk_xfrm *h)
{
	return h ? h->why : "";
}

/* ---- flows ---- */

static struct nl_addr *addr_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return nl_addr_build(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	return nl_addr_build(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* ss = the address of a, with port. */
static void sockaddr_of(const struct nl_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (!a || nl_addr_fill_sockaddr(a, (struct sockaddr *)ss, &len) < 0)
		return;
	gk_sockaddr_set_port(ss, port);
}

static int flow_check(const struct gk_xfrm_flow *f, bool need_spi)
{
	int fam;

	if (!f)
		return -EINVAL;
	fam = f->local.ss_family;
	if ((fam != AF_INET && fam != AF_INET6) || f->peer.ss_family != fam)
		return -EINVAL;
	if (f->dir != GK_XFRM_IN && f->dir != GK_XFRM_OUT)
		return -EINVAL;
	if (!gk_sockaddr_port(&f->local) || !gk_sockaddr_port(&f->peer))
		return -EINVAL;
	if (need_spi && f->spi < 256)
		return -EINVAL;
	return 0;
}

static uint32_t reqid_of(const struct gk_xfrm_flow *f)
{
	return GK_XFRM_REQID_TAG | f->owner;
}

static bool ours(uint32_t reqid, int owner)
{
	if ((reqid & GK_XFRM_REQID_MASK) != GK_XFRM_REQID_TAG)
		return false;
	return owner == GK_XFRM_ANY_OWNER || (uint32_t)owner == (reqid & 0xffffu);
}

/* The datagrams' source and destination: local to peer outbound, peer to local inbound. */
static void ends(const struct gk_xfrm_flow *f, const struct sockaddr_storage **src,
                 const struct sockaddr_storage **dst)
{
	*src = f->dir == GK_XFRM_OUT ? &f->local : &f->peer;
	*dst = f->dir == GK_XFRM_OUT ? &f->peer : &f->local;
}

/* The selector: UDP from src address and port to dst address and port, nothing wider. */
static struct xfrmnl_sel *selector(const struct gk_xfrm_flow *f)
{
	const struct sockaddr_storage *src, *dst;
	struct xfrmnl_sel *sel = xfrmnl_sel_alloc();
	struct nl_addr *s, *d;
	unsigned bits = f->local.ss_family == AF_INET ? 32 : 128;

	if (!sel)
		return NULL;
	ends(f, &src, &dst);
	s = addr_of(src);
	d = addr_of(dst);
	if (!s || !d) {
		nl_addr_put(s);
		nl_addr_put(d);
		xfrmnl_sel_put(sel);
		return NULL;
	}
	xfrmnl_sel_set_saddr(sel, s);
	xfrmnl_sel_set_daddr(sel, d);
	nl_addr_put(s);
	nl_addr_put(d);
	xfrmnl_sel_set_prefixlen_s(sel, bits);
	xfrmnl_sel_set_prefixlen_d(sel, bits);
	xfrmnl_sel_set_sport(sel, gk_sockaddr_port(src));
	xfrmnl_sel_set_sportmask(sel, 0xffff);
	xfrmnl_sel_set_dport(sel, gk_sockaddr_port(dst));
	xfrmnl_sel_set_dportmask(sel, 0xffff);
	xfrmnl_sel_set_proto(sel, IPPROTO_UDP);
	xfrmnl_sel_set_family(sel, f->local.ss_family);
	return sel;
}

/* Byte and packet limits infinite (zero would expire at once), hard expiry after add_s. */
static struct xfrmnl_ltime_cfg *lifetime(uint32_t add_s)
{
	struct xfrmnl_ltime_cfg *l = xfrmnl_ltime_cfg_alloc();

	if (!l)
		return NULL;
	xfrmnl_ltime_cfg_set_soft_bytelimit(l, XFRM_INF);
	xfrmnl_ltime_cfg_set_hard_bytelimit(l, XFRM_INF);
	xfrmnl_ltime_cfg_set_soft_packetlimit(l, XFRM_INF);
	xfrmnl_ltime_cfg_set_hard_packetlimit(l, XFRM_INF);
	xfrmnl_ltime_cfg_set_hard_addexpires(l, add_s);
	return l;
}

/* ---- talking to the kernel ---- */

/* Sends msg, waits for the ack, wipes and frees msg (it may hold a key). */
static int transact(struct gk_xfrm *h, struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int rc;

	h->kerr = 0;
	h->why[0] = '\0';
	rc = nl_send_auto(h->sk, msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(h->sk);
	gk_wipe(nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
	return rc < 0 ? to_errno(h, rc) : 0;
}

/* A dump of type (XFRM_MSG_GETSA, XFRM_MSG_GETPOLICY), each message to fn. */
static int dump(struct gk_xfrm *h, int type, nl_recvmsg_msg_cb_t fn, void *arg)
{
	int rc;

	h->kerr = 0;
	h->why[0] = '\0';
	rc = nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	if (rc >= 0)
		rc = nl_send_simple(h->sk, type, NLM_F_DUMP, NULL, 0);
	if (rc >= 0)
		rc = nl_recvmsgs_default(h->sk);
	nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	return rc < 0 ? to_errno(h, rc) : 0;
}

/* ---- SAs ---- */

static struct xfrmnl_sa *sa_object(const struct gk_xfrm_flow *f)
{
	const struct sockaddr_storage *src, *dst;
	struct xfrmnl_sa *sa = xfrmnl_sa_alloc();
	struct xfrmnl_sel *sel = selector(f);
	struct xfrmnl_ltime_cfg *lft = lifetime(f->lifetime_s);
	struct nl_addr *s, *d;

	ends(f, &src, &dst);
	s = addr_of(src);
	d = addr_of(dst);
	if (!sa || !sel || !lft || !s || !d) {
		xfrmnl_sa_put(sa);
		sa = NULL;
		goto out;
	}
	xfrmnl_sa_set_family(sa, f->local.ss_family);
	xfrmnl_sa_set_saddr(sa, s);
	xfrmnl_sa_set_daddr(sa, d);
	xfrmnl_sa_set_spi(sa, f->spi);
	xfrmnl_sa_set_proto(sa, IPPROTO_ESP);
	xfrmnl_sa_set_mode(sa, XFRM_MODE_TRANSPORT);
	xfrmnl_sa_set_reqid(sa, reqid_of(f));
	xfrmnl_sa_set_replay_window(sa, REPLAY_WIN);
	xfrmnl_sa_set_sel(sa, sel);
	xfrmnl_sa_set_lifetime_cfg(sa, lft);
out:
	if (sel)
		xfrmnl_sel_put(sel);
	if (lft)
		xfrmnl_ltime_cfg_put(lft);
	nl_addr_put(s);
	nl_addr_put(d);
	return sa;
}

static int sa_send(struct gk_xfrm *h, const struct gk_xfrm_flow *f, const uint8_t *key,
                   size_t key_len, bool update)
{
	union {
		struct xfrm_algo_aead alg;
		uint8_t raw[sizeof(struct xfrm_algo_aead) + GK_XFRM_KEY_LEN];
	} aead;
	struct xfrmnl_sa *sa;
	struct nl_msg *msg = NULL;
	int rc = flow_check(f, true);

	if (rc)
		return rc;
	if (!key || key_len != GK_XFRM_KEY_LEN)
		return -EINVAL;
	sa = sa_object(f);
	if (!sa)
		return -ENOMEM;
	rc = update ? xfrmnl_sa_build_update_request(sa, 0, &msg)
	            : xfrmnl_sa_build_add_request(sa, NLM_F_CREATE | NLM_F_EXCL, &msg);
	xfrmnl_sa_put(sa);
	if (rc < 0)
		return to_errno(h, rc);

	memset(&aead, 0, sizeof(aead));
	snprintf(aead.alg.alg_name, sizeof(aead.alg.alg_name), "%s", GK_XFRM_ALG);
	aead.alg.alg_key_len = GK_XFRM_KEY_LEN * 8;
	aead.alg.alg_icv_len = GK_XFRM_ICV_BITS;
	memcpy(aead.alg.alg_key, key, GK_XFRM_KEY_LEN);
	rc = nla_put(msg, XFRMA_ALG_AEAD, sizeof(aead.raw), aead.raw);
	gk_wipe(&aead, sizeof(aead));
	if (rc < 0) {
		struct nlmsghdr *nlh = nlmsg_hdr(msg);
		gk_wipe(nlh, nlh->nlmsg_len);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return transact(h, msg);
}

int gk_xfrm_sa_add(struct gk_xfrm *h, const struct gk_xfrm_flow *f, const uint8_t *key,
                   size_t key_len)
{
	return sa_send(h, f, key, key_len, false);
}

int gk_xfrm_sa_update(struct gk_xfrm *h, const struct gk_xfrm_flow *f, const uint8_t *key,
                      size_t key_len)
{
	return sa_send(h, f, key, key_len, true);
}

int gk_xfrm_sa_del(struct gk_xfrm *h, const struct gk_xfrm_flow *f)
{
	struct xfrmnl_sa *sa;
	struct nl_msg *msg;
	int rc = flow_check(f, true);

	if (rc)
		return rc;
	sa = sa_object(f);
	if (!sa)
		return -ENOMEM;
	rc = xfrmnl_sa_build_delete_request(sa, 0, &msg);
	xfrmnl_sa_put(sa);
	if (rc < 0)
		return to_errno(h, rc);
	return transact(h, msg);
}

/* Wipes the key bytes of every algorithm attribute of a dumped SA, in place. */
static void wipe_keys(struct nlmsghdr *nlh)
{
	struct nlattr *a;
	int rem;

	if (nlh->nlmsg_len < (uint32_t)nlmsg_size(sizeof(struct xfrm_usersa_info)))
		return;
	nlmsg_for_each_attr(a, nlh, sizeof(struct xfrm_usersa_info), rem)
	{
		size_t head;

		switch (nla_type(a)) {
		case XFRMA_ALG_AEAD:
			head = sizeof(struct xfrm_algo_aead);
			break;
		case XFRMA_ALG_AUTH_TRUNC:
			head = sizeof(struct xfrm_algo_auth);
			break;
		case XFRMA_ALG_AUTH:
		case XFRMA_ALG_CRYPT:
			head = sizeof(struct xfrm_algo);
			break;
		default:
			continue;
		}
		if ((size_t)nla_len(a) > head)
			gk_wipe((uint8_t *)nla_data(a) + head, (size_t)nla_len(a) - head);
	}
}

/* What a dump of SAs or of policies collects: gatekey's entries (of owner, or any), each size
 * bytes, in a growing array. */
struct listing {
	int owner;
	size_t size;
	void *v;
	size_t n, cap;
	int err;
};

/* The next entry, zeroed; NULL (and err set) without memory. */
static void *listing_add(struct listing *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * l->size);
		if (!v) {
			l->err = -ENOMEM;
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	void *e = (uint8_t *)l->v + l->n++ * l->size;
	memset(e, 0, l->size);
	return e;
}

static int listing_dump(struct gk_xfrm *h, int type, int (*cb)(struct nl_msg *, void *),
                        struct listing *l)
{
	int rc = dump(h, type, cb, l);

	if (!rc)
		rc = l->err;
	if (rc) {
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
	return rc;
}

/* Copies up to max entries to out and returns how many there were, or a negative errno. */
static int listing_copy(struct gk_xfrm *h, int type, int (*cb)(struct nl_msg *, void *), int owner,
                        size_t size, void *out, size_t max)
{
	struct listing l = {.owner = owner, .size = size};
	int rc;

	if (owner < GK_XFRM_ANY_OWNER || owner > 0xffff || (max && !out))
		return -EINVAL;
	rc = listing_dump(h, type, cb, &l);
	if (rc)
		return rc;
	if (out && l.n)
		memcpy(out, l.v, (l.n < max ? l.n : max) * size);
	free(l.v);
	return (int)l.n;
}

static int on_sa(struct nl_msg *msg, void *arg)
{
	struct listing *d = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct xfrmnl_sa *sa = NULL;
	struct xfrmnl_sel *sel;
	struct xfrmnl_ltime_cfg *lft;
	struct gk_xfrm_sa_info *i;
	unsigned long long bytes, packets, added, used;
	uint32_t reqid;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return NL_OK;
	wipe_keys(nlh);
	if (xfrmnl_sa_parse(nlh, &sa) < 0) {
		d->err = -EBADMSG;
		return NL_OK;
	}
	reqid = (uint32_t)xfrmnl_sa_get_reqid(sa);
	sel = xfrmnl_sa_get_sel(sa);
	if (!ours(reqid, d->owner) || !sel || xfrmnl_sa_get_proto(sa) != IPPROTO_ESP ||
	    xfrmnl_sa_get_mode(sa) != XFRM_MODE_TRANSPORT)
		goto out;
	i = listing_add(d);
	if (!i)
		goto out;
	i->owner = reqid & 0xffffu;
	i->spi = (uint32_t)xfrmnl_sa_get_spi(sa);
	sockaddr_of(xfrmnl_sa_get_saddr(sa), xfrmnl_sel_get_sport(sel), &i->src);
	sockaddr_of(xfrmnl_sa_get_daddr(sa), xfrmnl_sel_get_dport(sel), &i->dst);
	lft = xfrmnl_sa_get_lifetime_cfg(sa);
	if (lft)
		i->lifetime_s = (uint32_t)xfrmnl_ltime_cfg_get_hard_addexpires(lft);
	if (xfrmnl_sa_get_curlifetime(sa, &bytes, &packets, &added, &used) == 0) {
		i->bytes = bytes;
		i->packets = packets;
		i->added = added;
		i->expires = i->lifetime_s ? added + i->lifetime_s : 0;
	}
out:
	xfrmnl_sa_put(sa);
	return NL_OK;
}

static int sa_dump(struct gk_xfrm *h, struct listing *d)
{
	return listing_dump(h, XFRM_MSG_GETSA, on_sa, d);
}

int gk_xfrm_sa_list(struct gk_xfrm *h, int owner, struct gk_xfrm_sa_info *out, size_t max)
{
	return listing_copy(h, XFRM_MSG_GETSA, on_sa, owner, sizeof(*out), out, max);
}

int gk_xfrm_sa_get(struct gk_xfrm *h, const struct gk_xfrm_flow *f, struct gk_xfrm_sa_info *info)
{
	struct listing d;
	const struct sockaddr_storage *src, *dst;
	int rc = flow_check(f, true);

	if (rc || !info)
		return -EINVAL;
	d = (struct listing){.owner = f->owner, .size = sizeof(struct gk_xfrm_sa_info)};
	rc = sa_dump(h, &d);
	if (rc)
		return rc;
	ends(f, &src, &dst);
	rc = -ENOENT;
	for (size_t k = 0; k < d.n; k++) {
		const struct gk_xfrm_sa_info *i = (const struct gk_xfrm_sa_info *)d.v + k;
		if (i->spi == f->spi && gk_sockaddr_same_host(&i->dst, dst)) {
			*info = *i;
			rc = 0;
			break;
		}
	}
	free(d.v);
	return rc;
}

/* ---- policies ---- */

static struct xfrmnl_sp *sp_object(const struct gk_xfrm_flow *f, bool full)
{
	const struct sockaddr_storage *src, *dst;
	struct xfrmnl_sp *sp = xfrmnl_sp_alloc();
	struct xfrmnl_sel *sel = selector(f);
	struct xfrmnl_ltime_cfg *lft = NULL;
	struct xfrmnl_user_tmpl *t = NULL;
	struct nl_addr *s = NULL, *d = NULL;

	if (!sp || !sel)
		goto fail;
	xfrmnl_sp_set_sel(sp, sel);
	xfrmnl_sp_set_dir(sp, f->dir == GK_XFRM_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN);
	if (full) {
		ends(f, &src, &dst);
		lft = lifetime(0);
		t = xfrmnl_user_tmpl_alloc();
		s = addr_of(src);
		d = addr_of(dst);
		if (!lft || !t || !s || !d)
			goto fail;
		xfrmnl_sp_set_action(sp, XFRM_POLICY_ALLOW);
		xfrmnl_sp_set_lifetime_cfg(sp, lft);
		xfrmnl_user_tmpl_set_family(t, f->local.ss_family);
		xfrmnl_user_tmpl_set_saddr(t, s);
		xfrmnl_user_tmpl_set_daddr(t, d);
		xfrmnl_user_tmpl_set_proto(t, IPPROTO_ESP);
		xfrmnl_user_tmpl_set_spi(t, f->dir == GK_XFRM_OUT ? f->spi : 0);
		xfrmnl_user_tmpl_set_reqid(t, reqid_of(f));
		xfrmnl_user_tmpl_set_mode(t, XFRM_MODE_TRANSPORT);
		/* Any algorithm: the kernel reads all ones as "all", zero as "none allowed". */
		xfrmnl_user_tmpl_set_aalgos(t, ~0u);
		xfrmnl_user_tmpl_set_ealgos(t, ~0u);
		xfrmnl_user_tmpl_set_calgos(t, ~0u);
		xfrmnl_sp_add_usertemplate(sp, t);
		t = NULL;
	}
	goto out;
fail:
	if (sp)
		xfrmnl_sp_put(sp);
	sp = NULL;
out:
	if (t)
		xfrmnl_user_tmpl_free(t);
	if (sel)
		xfrmnl_sel_put(sel);
	if (lft)
		xfrmnl_ltime_cfg_put(lft);
	nl_addr_put(s);
	nl_addr_put(d);
	return sp;
}

int gk_xfrm_policy_set(struct gk_xfrm *h, const struct gk_xfrm_flow *f)
{
	struct xfrmnl_sp *sp;
	struct nl_msg *msg;
	int rc = flow_check(f, f && f->dir == GK_XFRM_OUT);

	if (rc)
		return rc;
	sp = sp_object(f, true);
	if (!sp)
		return -ENOMEM;
	rc = xfrmnl_sp_build_update_request(sp, NLM_F_CREATE, &msg);
	xfrmnl_sp_put(sp);
	if (rc < 0)
		return to_errno(h, rc);
	return transact(h, msg);
}

int gk_xfrm_policy_del(struct gk_xfrm *h, const struct gk_xfrm_flow *f)
{
	struct xfrmnl_sp *sp;
	struct nl_msg *msg;
	int rc = flow_check(f, false);

	if (rc)
		return rc;
	sp = sp_object(f, false);
	if (!sp)
		return -ENOMEM;
	rc = xfrmnl_sp_build_delete_request(sp, 0, &msg);
	xfrmnl_sp_put(sp);
	if (rc < 0)
		return to_errno(h, rc);
	return transact(h, msg);
}

static int on_policy(struct nl_msg *msg, void *arg)
{
	struct listing *d = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct xfrmnl_sp *sp = NULL;
	struct xfrmnl_user_tmpl *t;
	struct xfrmnl_sel *sel;
	struct gk_xfrm_flow *f;
	uint32_t reqid;
	bool out;
	int dir;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY)
		return NL_OK;
	if (xfrmnl_sp_parse(nlh, &sp) < 0) {
		d->err = -EBADMSG;
		return NL_OK;
	}
	dir = xfrmnl_sp_get_dir(sp);
	sel = xfrmnl_sp_get_sel(sp);
	t = xfrmnl_sp_get_nusertemplates(sp) == 1 ? xfrmnl_sp_usertemplate_n(sp, 0) : NULL;
	if (!t || !sel || (dir != XFRM_POLICY_IN && dir != XFRM_POLICY_OUT))
		goto out;
	reqid = (uint32_t)xfrmnl_user_tmpl_get_reqid(t);
	if (!ours(reqid, d->owner))
		goto out;
	f = listing_add(d);
	if (!f)
		goto out;
	f->dir = dir == XFRM_POLICY_OUT ? GK_XFRM_OUT : GK_XFRM_IN;
	f->owner = reqid & 0xffffu;
	f->spi = (uint32_t)xfrmnl_user_tmpl_get_spi(t);
	out = f->dir == GK_XFRM_OUT;
	sockaddr_of(xfrmnl_sel_get_saddr(sel), xfrmnl_sel_get_sport(sel),
	            out ? &f->local : &f->peer);
	sockaddr_of(xfrmnl_sel_get_daddr(sel), xfrmnl_sel_get_dport(sel),
	            out ? &f->peer : &f->local);
out:
	xfrmnl_sp_put(sp);
	return NL_OK;
}

static int sp_dump(struct gk_xfrm *h, struct listing *d)
{
	return listing_dump(h, XFRM_MSG_GETPOLICY, on_policy, d);
}

int gk_xfrm_policy_list(struct gk_xfrm *h, int owner, struct gk_xfrm_flow *out, size_t max)
{
	return listing_copy(h, XFRM_MSG_GETPOLICY, on_policy, owner, sizeof(*out), out, max);
}

int gk_xfrm_flush(struct gk_xfrm *h, int owner)
{
	struct listing sas = {.owner = owner, .size = sizeof(struct gk_xfrm_sa_info)};
	struct listing sps = {.owner = owner, .size = sizeof(struct gk_xfrm_flow)};
	int rc, done = 0;

	if (owner < GK_XFRM_ANY_OWNER || owner > 0xffff)
		return -EINVAL;
	/* Policies first: with an outbound policy left and its SA gone, datagrams would wait for
	 * an SA that nobody is going to add. */
	rc = sp_dump(h, &sps);
	for (size_t k = 0; !rc && k < sps.n; k++) {
		rc = gk_xfrm_policy_del(h, (const struct gk_xfrm_flow *)sps.v + k);
		done += !rc;
		rc = rc == -ENOENT ? 0 : rc; /* gone meanwhile */
	}
	free(sps.v);
	if (!rc)
		rc = sa_dump(h, &sas);
	for (size_t k = 0; !rc && k < sas.n; k++) {
		const struct gk_xfrm_sa_info *i = (const struct gk_xfrm_sa_info *)sas.v + k;
		/* As the sender's flow: source local, destination peer. */
		struct gk_xfrm_flow f = {.dir = GK_XFRM_OUT, .spi = i->spi, .owner = i->owner};
		f.local = i->src;
		f.peer = i->dst;
		rc = gk_xfrm_sa_del(h, &f);
		done += !rc;
		rc = rc == -ESRCH ? 0 : rc;
	}
	free(sas.v);
	return rc ? rc : done;
}
