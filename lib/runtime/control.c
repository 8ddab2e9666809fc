// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (control.h). Every reply is one datagram, sent with a plain non-blocking
 * sendto, not through the loop's send slots (those are signalling's, and 64 KiB): a listing
 * longer than a datagram is asked for page by page, so a daemon queues at most one page per
 * request and never waits for a client. One command at a time, on the loop thread, into one
 * buffer allocated with the socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gatekey/runtime/control.h"
#include "gatekey/runtime/fdio.h"
#include "gatekey/runtime/steps.h"

#define MAX_COMMANDS 16
#define REQUEST_MAX  256 /* a command and its arguments */
/* Kept back from the lines for the reply's last line(s): ".more" and a 20-digit cursor, or the
 * "reply cut" error and ".end". */
#define TAIL 128

struct command {
	char name[32];
	gk_ctl_fn fn;
	void *user;
};

struct gk_ctl_reply {
	struct gk_control *c;
	struct sockaddr_storage to;
	char *buf;        /* page bytes, allocated with the socket */
	size_t len, room; /* room: page - TAIL, what lines may fill */
	bool full;        /* a line did not fit: it and every line after it are left out */
	bool more;        /* a listing's page: ends with ".more cursor" */
	uint64_t cursor;
};

struct gk_control {
	struct gk_loop *loop;
	int fd;
	size_t page;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct command cmds[MAX_COMMANDS];
	unsigned n_cmds;
	struct gk_ctl_reply reply; /* one at a time, on the loop thread */
};

void gk_ctl_printf(struct gk_ctl_reply *r, const char *fmt, ...)
{
	size_t room = r->room - r->len;
	va_list ap;

	if (r->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(r->buf + r->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n + 1 > room) { /* the line and its '\n' (or vsnprintf's NUL) */
		r->full = true;
		return;
	}
	if (n == 0 || r->buf[r->len + (size_t)n - 1] != '\n')
		r->buf[r->len + (size_t)n++] = '\n';
	r->len += (size_t)n;
}

size_t gk_ctl_render(gk_ctl_fn fn, void *user, const char *args, char *buf, size_t cap, bool *cut)
{
	struct gk_ctl_reply r = {.buf = buf, .room = cap ? cap - 1 : 0}; /* and the NUL */

	if (!cap)
		return 0;
	fn(user, args, &r);
	buf[r.len] = '\0';
	if (cut)
		*cut = r.full;
	return r.len;
}

struct table_lines {
	struct gk_ctl_reply *out;
	uint64_t bytes;
};

static void table_lines(const struct gk_steps *t, void *arg)
{
	struct table_lines *tl = arg;

	gk_ctl_printf(tl->out, "tables.%s.capacity %u", t->key, t->cap);
	gk_ctl_printf(tl->out, "tables.%s.bytes %" PRIu64, t->key, gk_steps_bytes(t));
	gk_ctl_printf(tl->out, "tables.%s.max %u", t->key, t->max);
	gk_ctl_printf(tl->out, "tables.%s.first %u", t->key, t->first);
	gk_ctl_printf(tl->out, "tables.%s.steps %u", t->key, t->grows);
	gk_ctl_printf(tl->out, "tables.%s.peak %u", t->key, t->peak);
	tl->bytes += gk_steps_bytes(t);
}

void gk_ctl_tables(struct gk_ctl_reply *out)
{
	struct table_lines tl = {.out = out};

	gk_steps_each(table_lines, &tl);
	gk_ctl_printf(out, "tables.bytes %" PRIu64, tl.bytes);
}

/* A listing's args: "" or "after CURSOR" (decimal, no sign), spaces around the words allowed.
 * NULL, or what is wrong. */
static const char *parse_cursor(const char *args, uint64_t *after)
{
	const char *p = args + strspn(args, " ");
	uint64_t v = 0;

	*after = 0;
	if (!*p)
		return NULL;
	if (strncmp(p, "after", 5) != 0 || p[5] != ' ')
		return "unknown argument";
	p += 5;
	p += strspn(p, " ");
	if (*p < '0' || *p > '9')
		return "the cursor after \"after\" is not a number";
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "the cursor is out of range";
		v = v * 10 + d;
	}
	p += strspn(p, " ");
	if (*p)
		return "unexpected words after the cursor";
	*after = v;
	return NULL;
}

void gk_ctl_list(struct gk_ctl_reply *r, const char *args, gk_ctl_item_fn item, void *user)
{
	uint64_t after, pos;
	const char *why = parse_cursor(args, &after);
	size_t start = r->len;

	if (why) {
		gk_ctl_printf(r,
		              "error %s: a listing takes nothing, or \"after CURSOR\" (got \"%s\")",
		              why, args);
		return;
	}
	while (!r->full) {
		size_t mark = r->len;
		if (!item(user, after, &pos, r))
			return; /* the end: ".end" follows */
		if (r->full) {
			/* This item's line did not fit: the page ends before it, the next one
			 * starts with it. */
			r->len = mark;
			r->full = false;
			if (mark == start) {
				gk_ctl_printf(
				    r, "error the item after %" PRIu64 " is longer than a page",
				    after);
				return;
			}
			r->more = true;
			r->cursor = after;
			return;
		}
		if (pos <= after) { /* an iterator going back would page for ever */
			r->len = mark;
			gk_ctl_printf(r, "error the listing went back from %" PRIu64 " to %" PRIu64,
			              after, pos);
			return;
		}
		after = pos;
	}
}

/* Ends the reply and sends it: one datagram, non-blocking. A client that does not read, or is
 * gone, loses its answer (and times out); the loop never waits for it. */
static void reply_send(struct gk_ctl_reply *r)
{
	size_t page = r->c->page;
	int n;

	if (r->more) {
		n = snprintf(r->buf + r->len, page - r->len, ".more %" PRIu64 "\n", r->cursor);
	} else {
		if (r->full)
			r->len +=
			    (size_t)snprintf(r->buf + r->len, page - r->len,
			                     "error reply cut at %zu bytes: one datagram holds "
			                     "no more\n",
			                     r->len);
		n = snprintf(r->buf + r->len, page - r->len, ".end\n");
	}
	r->len += (size_t)n;
	sendto(r->c->fd, r->buf, r->len, MSG_DONTWAIT, (struct sockaddr *)&r->to,
	       sizeof(struct sockaddr_un));
}

static void on_command(void *user, int fd, uint8_t *data, size_t len,
                       const struct sockaddr_storage *from)
{
	struct gk_control *c = user;
	struct gk_ctl_reply *r = &c->reply;
	char cmd[REQUEST_MAX];
	(void)fd;

	if (from->ss_family != AF_UNIX)
		return;
	r->to = *from;
	r->len = 0;
	r->full = r->more = false;
	if (len >= sizeof(cmd)) {
		gk_ctl_printf(r, "error request of %zu bytes: a command is at most %zu", len,
		              sizeof(cmd) - 1);
		reply_send(r);
		return;
	}
	memcpy(cmd, data, len);
	cmd[len] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	char *args = strchr(cmd, ' ');
	if (args)
		*args++ = '\0';
	unsigned i;
	for (i = 0; i < c->n_cmds; i++)
		if (strcmp(c->cmds[i].name, cmd) == 0)
			break;
	if (i == c->n_cmds) {
		gk_ctl_printf(r, "error unknown command \"%s\"; commands:", cmd);
		for (unsigned j = 0; j < c->n_cmds; j++)
			gk_ctl_printf(r, "  %s", c->cmds[j].name);
	} else {
		c->cmds[i].fn(c->cmds[i].user, args ? args : "", r);
	}
	reply_send(r);
}

struct gk_control *gk_control_new(struct gk_loop *loop, const char *path, char *err, size_t errlen)
{
	struct gk_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (!c || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		free(c);
		return NULL;
	}
	c->loop = loop;
	strcpy(c->path, path);
	strcpy(sun.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* A datagram may be SO_SNDBUF less 32 bytes long, and the queued replies a client has not
	 * read yet count against it: room for two pages keeps one slow gkctl from holding up the
	 * next. The kernel doubles what is asked, capped at net.core.wmem_max. */
	int sndbuf = GK_CTL_PAGE_MAX;
	socklen_t sl = sizeof(sndbuf);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
		goto fail;
	c->page = (size_t)sndbuf / 2 < GK_CTL_PAGE_MAX ? (size_t)sndbuf / 2 : GK_CTL_PAGE_MAX;
	c->reply.c = c;
	c->reply.room = c->page - TAIL;
	c->reply.buf = malloc(c->page);
	if (!c->reply.buf)
		goto fail;
	/* The default lives under /run/gatekey, which a fresh host does not have yet. */
	char dir[sizeof(c->path)];
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	unlink(path);
	mode_t old = umask(0077);
	int ret = bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret < 0)
		goto fail;
	if (gk_loop_add_udp(loop, c->fd, on_command, c) < 0)
		goto fail;
	return c;
fail:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (c->fd >= 0)
		close(c->fd);
	free(c->reply.buf);
	free(c);
	return NULL;
}

void gk_control_free(struct gk_control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	free(c->reply.buf);
	free(c);
}

size_t gk_control_page(const struct gk_control *c)
{
	return c->page;
}

int gk_control_add(struct gk_control *c, const char *command, gk_ctl_fn fn, void *user)
{
	if (c->n_cmds == MAX_COMMANDS || strlen(command) >= sizeof(c->cmds[0].name))
		return -ENOSPC;
	struct command *k = &c->cmds[c->n_cmds++];
	strcpy(k->name, command);
	k->fn = fn;
	k->user = user;
	return 0;
}

/* The cursor of a ".more CURSOR" line, which must be beyond the last one (a listing only goes
 * forward); 0 when it is not. */
static uint64_t more_cursor(const char *line, size_t len, uint64_t last)
{
	uint64_t v = 0;

	if (len < 7 || memcmp(line, ".more ", 6) != 0 || len > 6 + 20)
		return 0;
	for (size_t i = 6; i < len; i++) {
		unsigned d = (unsigned)(line[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v > last ? v : 0;
}

/* A request not answered within this is sent again, and each next wait doubles, until the
 * caller's timeout. */
#define RESEND_FIRST_MS 250

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The client's socket, bound to a name of its own (me); -1 with errno. */
static int client_socket(struct sockaddr_un *me)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(me->sun_path, sizeof(me->sun_path), "/tmp/.gkctl-%d-%ld", getpid(),
	         (long)random());
	if (fd < 0 || bind(fd, (struct sockaddr *)me, sizeof(*me)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		me->sun_path[0] = '\0'; /* not ours to unlink */
		errno = e;
		return -1;
	}
	return fd;
}

static int send_request(int fd, const char *req, const struct sockaddr_un *srv, const char *path,
                        char *err, size_t errlen)
{
	if (sendto(fd, req, strlen(req), 0, (const struct sockaddr *)srv, sizeof(*srv)) < 0) {
		snprintf(err, errlen, "%s: %s (is the daemon running?)", path, strerror(errno));
		return -1;
	}
	return 0;
}

int gk_control_query(const char *path, const char *command, int out, int timeout_ms,
                     unsigned *pages, char *err, size_t errlen)
{
	struct sockaddr_un me = {.sun_family = AF_UNIX}, srv = {.sun_family = AF_UNIX};
	size_t name_len = strcspn(command, " ");
	char req[REQUEST_MAX];
	char *buf = NULL;
	uint64_t cursor = 0;
	unsigned n_pages = 0;
	bool resent = false; /* this request went twice: its page may come twice */
	int fd = -1, ret = -1;

	if (pages)
		*pages = 0;
	if (strlen(path) >= sizeof(srv.sun_path)) {
		snprintf(err, errlen, "socket path too long");
		return -1;
	}
	if (strlen(command) >= sizeof(req)) {
		snprintf(err, errlen, "command longer than %zu bytes", sizeof(req) - 1);
		return -1;
	}
	strcpy(req, command);
	strcpy(srv.sun_path, path);
	buf = malloc(GK_CTL_PAGE_MAX + 1);
	if (!buf || (fd = client_socket(&me)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	for (;;) { /* one request: the command, then "COMMAND after CURSOR" per page */
		uint64_t deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
		int wait_ms = RESEND_FIRST_MS;
		if (send_request(fd, req, &srv, path, err, errlen) < 0)
			goto out;
		for (;;) { /* its reply: one datagram (older daemons: several, then ".end") */
			struct pollfd p = {.fd = fd, .events = POLLIN};
			uint64_t now = mono_ms();
			int left = now < deadline ? (int)(deadline - now) : 0;
			int r = poll(&p, 1, wait_ms < left ? wait_ms : left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r != 1 && left > wait_ms) {
				/* Lost, e.g. to the socket of a daemon that just died, still bound
				 * while its ring is torn down: every command only reads, so asking
				 * again is safe; a page that then comes twice is taken once
				 * (below). */
				if (send_request(fd, req, &srv, path, err, errlen) < 0)
					goto out;
				resent = true;
				wait_ms *= 2;
				continue;
			}
			if (r != 1) {
				snprintf(err, errlen, "%s: no answer within %d ms%s", path,
				         timeout_ms,
				         n_pages ? " to the request for the next page" : "");
				goto out;
			}
			ssize_t n = recv(fd, buf, GK_CTL_PAGE_MAX + 1, MSG_TRUNC);
			if (n < 0) {
				snprintf(err, errlen, "recv: %s", strerror(errno));
				goto out;
			}
			if (n > GK_CTL_PAGE_MAX) {
				snprintf(err, errlen,
				         "%s: a reply of %zd bytes, over the %d this gkctl "
				         "reads (gkctl and daemon of different builds?)",
				         path, n, GK_CTL_PAGE_MAX);
				goto out;
			}
			n_pages++;
			/* The last line says what follows: ".end" nothing, ".more CURSOR" the next
			 * page. A datagram ending otherwise is part of a longer reply, as older
			 * daemons sent (several datagrams, then ".end" alone). */
			size_t len = (size_t)n, ls = len;
			if (len && buf[len - 1] == '\n') {
				char *nl = len > 1 ? memrchr(buf, '\n', len - 1) : NULL;
				ls = nl ? (size_t)(nl - buf) + 1 : 0;
			}
			const char *last = buf + ls;
			size_t last_len = ls < len ? len - ls - 1 : 0;
			bool is_end = ls < len && last_len == 4 && memcmp(last, ".end", 4) == 0;
			bool is_more = ls < len && last_len >= 6 && memcmp(last, ".more ", 6) == 0;
			uint64_t next = is_more ? more_cursor(last, last_len, cursor) : 0;
			if (is_more && !next) {
				snprintf(err, errlen,
				         "%s: bad continuation \"%.*s\" after cursor %" PRIu64,
				         path, (int)(last_len > 40 ? 40 : last_len), last, cursor);
				goto out;
			}
			if (gk_write_all(out, buf, is_end || is_more ? ls : len) < 0) {
				snprintf(err, errlen, "write: %s", strerror(errno));
				goto out;
			}
			if (is_end) {
				ret = 0;
				goto out;
			}
			if (is_more) {
				/* A request sent twice may be answered twice, and not with the same
				 * bytes (a listing's counters move between the two): the copy to
				 * come would be taken for the next page. It comes to this socket,
				 * which asks nothing more; the next request goes from a new one. */
				if (resent) {
					close(fd);
					unlink(me.sun_path);
					if ((fd = client_socket(&me)) < 0) {
						snprintf(err, errlen, "socket: %s",
						         strerror(errno));
						goto out;
					}
					resent = false;
				}
				cursor = next;
				snprintf(req, sizeof(req), "%.*s after %" PRIu64, (int)name_len,
				         command, cursor);
				break;
			}
		}
	}
out:
	if (pages)
		*pages = n_pages;
	if (fd >= 0)
		close(fd);
	unlink(me.sun_path);
	free(buf);
	return ret;
}
