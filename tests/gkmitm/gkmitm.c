// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkmitm: a test-only UDP man in the middle. Relays datagrams between one client and a server
 * and rewrites byte strings on the way, to prove that tampering is detected. Not installed.
 *
 *   gkmitm --listen IP:PORT --forward IP:PORT [--edit-up 'OLD|NEW']... [--edit-down 'OLD|NEW']...
 *          [--flip-down PATTERN]   (changes the hex digit that follows PATTERN)
 * An edit 'hex:OLD|NEW' gives both sides as hex octets, for binary protocols (RAS).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/loop.h"

struct edit {
	const char *from, *to; /* bytes, not strings: binary edits may hold NULs */
	size_t from_len, to_len;
	int up;
	int flip; /* change the hex digit right after `from` instead of replacing */
};

static struct edit edits[8];
static unsigned n_edits;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static size_t apply(uint8_t *buf, size_t len, size_t cap, int up)
{
	for (unsigned i = 0; i < n_edits; i++) {
		struct edit *e = &edits[i];
		if (e->up != up || len < e->from_len)
			continue;
		for (size_t off = 0; off + e->from_len <= len; off++) {
			if (memcmp(buf + off, e->from, e->from_len) != 0)
				continue;
			if (e->flip) {
				size_t at = off + e->from_len;
				if (at < len) {
					buf[at] = buf[at] == '0' ? '1' : '0';
					fprintf(stderr, "gkmitm: flipped %s after %s\n",
					        up ? "up" : "down", e->from);
				}
				break;
			}
			if (len - e->from_len + e->to_len > cap)
				break;
			memmove(buf + off + e->to_len, buf + off + e->from_len,
			        len - off - e->from_len);
			memcpy(buf + off, e->to, e->to_len);
			len = len - e->from_len + e->to_len;
			fprintf(stderr, "gkmitm: edited %s (%zu bytes at %zu)\n",
			        up ? "up" : "down", e->from_len, off);
			break;
		}
	}
	return len;
}

static int add_flip(char *arg, int up)
{
	if (n_edits == sizeof(edits) / sizeof(edits[0]))
		return -1;
	edits[n_edits++] = (struct edit){arg, "", strlen(arg), 0, up, 1};
	return 0;
}

static int add_edit(char *arg, int up)
{
	char *eq = strchr(arg, '|');
	if (!eq || n_edits == sizeof(edits) / sizeof(edits[0]))
		return -1;
	*eq = '\0';
	if (strncmp(arg, "hex:", 4) == 0) {
		/* decoded in place: n hex digits make n/2 bytes */
		int a = gk_hex_decode(arg + 4, strlen(arg + 4), (uint8_t *)arg, strlen(arg + 4));
		int b = gk_hex_decode(eq + 1, strlen(eq + 1), (uint8_t *)eq + 1, strlen(eq + 1));
		if (a <= 0 || b < 0)
			return -1;
		edits[n_edits++] = (struct edit){arg, eq + 1, (size_t)a, (size_t)b, up, 0};
		return 0;
	}
	edits[n_edits++] = (struct edit){arg, eq + 1, strlen(arg), strlen(eq + 1), up, 0};
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, 0, 'l'},    {"forward", required_argument, 0, 'f'},
	    {"edit-up", required_argument, 0, 'u'},   {"edit-down", required_argument, 0, 'd'},
	    {"flip-down", required_argument, 0, 'F'}, {0, 0, 0, 0}};
	struct sockaddr_storage listen_a, fwd, client;
	char err[200];
	int c, have_l = 0, have_f = 0, have_client = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l' && gk_parse_addr(optarg, &listen_a, err, sizeof(err)) == 0)
			have_l = 1;
		else if (c == 'f' && gk_parse_addr(optarg, &fwd, err, sizeof(err)) == 0)
			have_f = 1;
		else if ((c == 'u' || c == 'd') && add_edit(optarg, c == 'u') == 0)
			continue;
		else if (c == 'F' && add_flip(optarg, 0) == 0)
			continue;
		else if (c != 'l' && c != 'f') {
			fprintf(stderr,
			        "usage: gkmitm --listen A --forward B [--edit-up 'OLD|NEW'] "
			        "[--edit-down 'OLD|NEW']\n");
			return 2;
		}
	}
	if (!have_l || !have_f) {
		fprintf(stderr, "gkmitm: --listen and --forward are required\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	int front = gk_udp_socket(&listen_a);
	struct sockaddr_storage any;
	memset(&any, 0, sizeof(any));
	any.ss_family = fwd.ss_family;
	int back = gk_udp_socket(&any);
	if (front < 0 || back < 0) {
		fprintf(stderr, "gkmitm: socket: %s\n", strerror(-(front < 0 ? front : back)));
		return 1;
	}
	fprintf(stderr, "gkmitm: ready\n");
	while (!stop) {
		struct pollfd p[2] = {{.fd = front, .events = POLLIN},
		                      {.fd = back, .events = POLLIN}};
		if (poll(p, 2, 200) <= 0)
			continue;
		uint8_t buf[8192];
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(p[i].fd, buf, sizeof(buf) / 2, 0,
			                     (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			size_t len = apply(buf, (size_t)n, sizeof(buf), i == 0);
			if (i == 0) {
				client = from;
				have_client = 1;
				sendto(back, buf, len, 0, (struct sockaddr *)&fwd,
				       gk_sockaddr_len(&fwd));
			} else if (have_client) {
				sendto(front, buf, len, 0, (struct sockaddr *)&client,
				       gk_sockaddr_len(&client));
			}
		}
	}
	return 0;
}
