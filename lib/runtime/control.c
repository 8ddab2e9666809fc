// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (control.h). Replies go out with a plain non-blocking sendto, not through
 * the loop's send slots: they are rare and small, and must never take a slot from signalling.
 * Only one command is answered at a time, on the loop thread, into one static reply buffer.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gatekey/runtime/control.h"

#define MAX_COMMANDS 16
#define CTL_DGRAM    4000

struct command {
	char name[32];
	gk_ctl_fn fn;
	void *user;
};

struct gk_control {
	struct gk_loop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct command cmds[MAX_COMMANDS];
	unsigned n_cmds;
};

struct gk_ctl_reply {
	struct gk_control *c;
	struct sockaddr_storage to;
	char buf[CTL_DGRAM];
	size_t len;
};

static void reply_flush(struct gk_ctl_reply *r)
{
	if (!r->len)
		return;
	/* Control replies are rare and small: a blocking-free sendto on the non-blocking socket
	 * is enough, and keeps them off the send slots the signalling needs. */
	sendto(r->c->fd, r->buf, r->len, MSG_DONTWAIT, (struct sockaddr *)&r->to,
	       sizeof(struct sockaddr_un));
	r->len = 0;
}

void gk_ctl_printf(struct gk_ctl_reply *r, const char *fmt, ...)
{
	char line[CTL_DGRAM];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	if (line[n - 1 < 0 ? 0 : n - 1] != '\n')
		line[n++] = '\n';
	if (r->len + (size_t)n > sizeof(r->buf))
		reply_flush(r);
	memcpy(r->buf + r->len, line, (size_t)n);
	r->len += (size_t)n;
}

static void on_command(void *user, int fd, uint8_t *data, size_t len,
                       const struct sockaddr_storage *from)
{
	struct gk_control *c = user;
	static struct gk_ctl_reply r; /* one at a time on the loop thread; too big for the stack */
	char cmd[256];
	(void)fd;

	if (from->ss_family != AF_UNIX)
		return;
	if (len >= sizeof(cmd))
		len = sizeof(cmd) - 1;
	memcpy(cmd, data, len);
	cmd[len] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	char *args = strchr(cmd, ' ');
	if (args)
		*args++ = '\0';
	r.c = c;
	r.to = *from;
	r.len = 0;
	unsigned i;
	for (i = 0; i < c->n_cmds; i++)
		if (strcmp(c->cmds[i].name, cmd) == 0)
			break;
	if (i == c->n_cmds) {
		gk_ctl_printf(&r, "error unknown command \"%s\"; commands:", cmd);
		for (unsigned j = 0; j < c->n_cmds; j++)
			gk_ctl_printf(&r, "  %s", c->cmds[j].name);
	} else {
		c->cmds[i].fn(c->cmds[i].user, args ? args : "", &r);
	}
	reply_flush(&r);
	memcpy(r.buf, ".end\n", 5);
	r.len = 5;
	reply_flush(&r);
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
	free(c);
	return NULL;
}

void gk_control_free(struct gk_control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	free(c);
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

int gk_control_query(const char *path, const char *command, int out, int timeout_ms, char *err,
                     size_t errlen)
{
	struct sockaddr_un me = {.sun_family = AF_UNIX}, srv = {.sun_family = AF_UNIX};
	char buf[CTL_DGRAM + 1];
	int fd, ret = -1;

	if (strlen(path) >= sizeof(srv.sun_path)) {
		snprintf(err, errlen, "socket path too long");
		return -1;
	}
	strcpy(srv.sun_path, path);
	snprintf(me.sun_path, sizeof(me.sun_path), "/tmp/.gkctl-%d-%ld", getpid(), (long)random());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	if (sendto(fd, command, strlen(command), 0, (struct sockaddr *)&srv, sizeof(srv)) < 0) {
		snprintf(err, errlen, "%s: %s (is the daemon running?)", path, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) != 1) {
			snprintf(err, errlen, "%s: no answer within %d ms", path, timeout_ms);
			goto out;
		}
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			goto out;
		}
		if (n == 5 && memcmp(buf, ".end\n", 5) == 0)
			break;
		if (write(out, buf, (size_t)n) != n) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	unlink(me.sun_path);
	return ret;
}
