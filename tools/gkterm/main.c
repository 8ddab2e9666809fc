// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkterm: the terminal emulator and load generator. Registers one terminal or many through the
 * exchange (or, with --digest, as plain Digest phones), prints each terminal's key fingerprint,
 * and can then exercise the registration: gk-mac protected OPTIONS, a replayed ANSWER, SIP calls
 * (call.c), a load run of calls between pairs, deregistration. This file reads the command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/auc/keystore.h"
#include "gatekey/runtime/log.h"
#include "gatekey/h323/ras.h"
#include "gkterm.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: gkterm --server IP:PORT --idsp ID (--key-file FILE | --prefix P --count N "
	    "--key-dir DIR) [options]\n"
	    "       gkterm --digest ALG --server IP:PORT --idsp DOMAIN (--key-file FILE | --prefix "
	    "P\n"
	    "              --count N --key-dir DIR | --user ID --password PW | --prefix P --count "
	    "N\n"
	    "              --password PW) [options]\n"
	    "  --server ADDR      the softswitch (direct) or SBC to register with\n"
	    "  --idsp ID          ID of that element (IDsp)\n"
	    "  --key-file FILE    one terminal: its provisioning file (gkctl subscriber add "
	    "--out)\n"
	    "  --prefix P --count N --key-dir DIR\n"
	    "                     terminals P1..PN with keys DIR/<id>.key (gkctl bulk-add)\n"
	    "  --bind IP[:PORT]   local address (default: the route's source address)\n"
	    "  --proto NAME       sip (default), mgcp, h248 or h323 (RAS) (the server's\n"
	    "                     standard ports: 2727, 2944, 1719; --bind IP:2427 for MGCP's\n"
	    "                     own)\n"
	    "  --ras-arc OID      RAS: the arc of gatekey's H.235 tokens (default\n"
	    "                     " GK_RAS_ARC_DEFAULT ", as the server's ras.arc)\n"
	    "  --mechs LIST       offer, e.g. \"gk-mac;q=0.9,digest;q=0.1\" (default gk-mac;q=1);\n"
	    "                     equal weights keep the list's order (--mechanisms is the same).\n"
	    "                     With ipsec-3gpp each terminal installs its SAs in\n"
	    "                     this namespace and sends from its protected port-c\n"
	    "  --ipsec-ports BASE ipsec-3gpp: terminal i's port-c is BASE + 2i, port-s the next\n"
	    "                     (default 20000)\n"
	    "  --expires S        requested binding lifetime\n"
	    "  --rate R           registrations started per second (default: window-limited)\n"
	    "  --window W         registrations in flight at once (default 1000); also the\n"
	    "                     calls in flight of a load run\n"
	    "  --sockets K        source sockets shared by the terminals (default 1, max 8)\n"
	    "  --refresh N        once registered, re-register N times (before the steps\n"
	    "                     below); a gk-mac terminal seals each refresh under the binding\n"
	    "                     it replaces, so it passes a lockout of its address that others\n"
	    "                     sharing the address caused\n"
	    "  --refresh-interval MS  pause before each refresh (default none)\n"
	    "  --options N        send N gk-mac protected requests after registering (SIP\n"
	    "                     OPTIONS; MGCP, H.248 and RAS keep-alives: NTFY, Notify, RRQ)\n"
	    "  --options-interval MS  pause between those OPTIONS (default none)\n"
	    "  --replay-answer    re-send the ANSWER after success: it must register nothing\n"
	    "                     new (refused, or answered with the same success)\n"
	    "  --abuse            after registering, send forged, replayed, stale, unknown-index\n"
	    "                     and bare datagrams (and one with the old key after\n"
	    "                     --deregister): none may be answered\n"
	    "  --impersonate ID   after registering, send one request sealed with the terminal's\n"
	    "                     own key but naming subscriber ID: it may not be answered\n"
	    "  --keylog FILE      test aid: append \"IDc K-hex\" per registration (0600), like\n"
	    "                     SSLKEYLOGFILE; never use it in production\n"
	    "  --retry-log FILE   test aid: a line per request sent again, \"retry <now_ms>\n"
	    "                     <previous_ms> <IDc> <phase>\" (wall clock, ms; previous: when\n"
	    "                     the copy that went unanswered was sent)\n"
	    "  --call AOR         SIP: then call AOR (\"bob\" at --idsp, \"bob@sbc1\", or a\n"
	    "                     sip: URI): INVITE, the ACK of its 200 and the BYE along\n"
	    "                     its Record-Route, all sealed; repeatable (called in turn).\n"
	    "                     Prints \"call AOR <status> [bye <status>] [setup_ms=<ms>]\n"
	    "                     [route=<route set>] [caller=<IDc>]\" (\"timeout\": none)\n"
	    "  --hold-ms MS       time between a call's ACK and its BYE (default 0)\n"
	    "  --answer           SIP: then stay and answer what comes (INVITE: 180, then 200\n"
	    "                     with SDP; BYE, MESSAGE, OPTIONS: 200); prints \"serving\n"
	    "                     <IDc>\" once ready and \"received <METHOD> from=<From>\n"
	    "                     pai=<P-Asserted-Identity> term=<IDc>\" per request; until\n"
	    "                     --answer-s, --timeout or SIGTERM (every registered SIP\n"
	    "                     terminal answers calls: this makes it stay and print)\n"
	    "  --answer-s S       answer for S seconds, then go on (implies --answer)\n"
	    "  --calls N          SIP load run: with --count 2M, once all registered terminal i\n"
	    "                     calls terminal M+i, N calls in total, at most --window at once;\n"
	    "                     prints \"calls attempted=.. ok=.. failed=.. setup_p50_ms=..\n"
	    "                     setup_p99_ms=.. rate=..\"\n"
	    "  --call-rate R      load run: calls started per second (default: window-limited)\n"
	    "  --deregister       deregister at the end (SIP Expires: 0, MGCP RSIP forced,\n"
	    "                     H.248 ServiceChange Forced, RAS URQ)\n"
	    "  --ts-offset SEC    shift the terminal's clock (to test the skew window)\n"
	    "  --timeout SEC      give up after this long (default 60)\n"
	    "  --quiet            only the summary (and the first failures)\n"
	    "  --sample K         only terminals 1..K take the steps that test the binding\n"
	    "                     (--options, --replay-answer, --impersonate, --abuse); the\n"
	    "                     others are done once registered (default: all take them)\n"
	    "  --histogram        after the summary, registration latencies by bucket (<1, <2,\n"
	    "                     <5 .. <1000, >=1000 ms, each from the bound before): lines\n"
	    "                     \"histogram <bound> ms <count> <percent>%% <bar>\"\n"
	    "  --progress         every 0.5 s on stderr: \"registered=N/M failed=F rate=R\n"
	    "                     reg/s elapsed=S s\" (rate: over the last 2 s; the whole run's\n"
	    "                     on the last line), in place on a terminal, else a line every\n"
	    "                     5 s and the last\n"
	    "  --progress-file F  the same line every 0.5 s in file F, replaced whole (renamed\n"
	    "                     over), with \" reg_ms=T done=0|1\" added (T: the start to the\n"
	    "                     latest registration, in ms)\n"
	    "plain Digest (a phone's registration, no GK1, no key, nothing sealed):\n"
	    "  --digest ALG       SIP only: REGISTER without GK1, answer the 401 (or 407)\n"
	    "                     Digest challenge of algorithm ALG (MD5 or SHA-256; none:\n"
	    "                     failed, reason NO_MECH) with qop=auth (when offered), user =\n"
	    "                     IDc, the challenge's realm, uri = the Request-URI sip:<idsp>;\n"
	    "                     a refresh or --deregister reuses the last nonce (nc one\n"
	    "                     more) and answers a new challenge when it comes. A 503\n"
	    "                     (overload) to a REGISTER, an OPTIONS or the deregistration\n"
	    "                     is waited out as its Retry-After asks (RFC 3261 21.5.4;\n"
	    "                     none: 5 s; counted in overloaded=), then the request goes\n"
	    "                     again, answering a new challenge when one comes; a wait\n"
	    "                     past --timeout fails the terminal, reason OVERLOAD. With\n"
	    "                     --rate, --window, --sockets, --refresh, --expires,\n"
	    "                     --deregister, --timeout, --quiet; --options N sends N plain\n"
	    "                     OPTIONS. The GK1 steps (--mechs, --replay-answer, --abuse,\n"
	    "                     --impersonate, --keylog, --ts-offset, calls) are refused.\n"
	    "                     gatekey pins a Digest terminal to its source address: there,\n"
	    "                     OPTIONS and deregistration work for one terminal per socket\n"
	    "  --password PW      the password of every terminal (a foreign registrar's);\n"
	    "                     without it each terminal's is derived from its key file, as\n"
	    "                     gkctl subscriber digest-password prints it\n"
	    "  --user ID          one terminal named ID, with --password (no key file)\n");
}

/* A --call target: "bob", "bob@sbc1" or a sip: URI; printable, no space, quote or <>. */
static bool aor_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 200 || s[0] == '@')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("<>\"\\,", *s))
			return false;
	return true;
}

static int parse_offer(const char *s, struct gkt_opts *o)
{
	o->n_offer = 0;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		size_t n = strcspn(s, ";, ");
		enum gk_mech m = gk_mech_from_name(s, n);
		if (m == GK_MECH_NONE || o->n_offer == GK_MECH_MAX)
			return -1;
		uint16_t q = 1000;
		s += n;
		if (strncmp(s, ";q=", 3) == 0) {
			char *end;
			double v = strtod(s + 3, &end);
			if (end == s + 3 || v < 0 || v > 1)
				return -1;
			q = (uint16_t)(v * 1000 + 0.5);
			s = end;
		}
		o->offer[o->n_offer].mech = (uint8_t)m;
		o->offer[o->n_offer].q = q;
		o->n_offer++;
	}
	return o->n_offer ? 0 : -1;
}

/* The local address the kernel would use towards the server, for Via/Contact. */
static int route_source(const struct sockaddr_storage *server, struct sockaddr_storage *out)
{
	int fd = socket(server->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*out);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)server, gk_sockaddr_len(server)) < 0 ||
	    getsockname(fd, (struct sockaddr *)out, &len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)a)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
	                                      : ((const struct sockaddr_in *)a)->sin_port);
}

int main(int argc, char **argv)
{
	static struct gkt_run r;
	struct gkt_opts *o = &r.o;
	const char *key_file = NULL, *prefix = NULL, *key_dir = NULL, *bind_s = NULL, *user = NULL;
	unsigned long count = 0;
	char err[256];
	bool server_set = false, gk1_only = false;
	enum {
		O_SERVER = 256,
		O_IDSP,
		O_KEYFILE,
		O_PREFIX,
		O_COUNT,
		O_KEYDIR,
		O_BIND,
		O_PROTO,
		O_MECHS,
		O_EXPIRES,
		O_RATE,
		O_WINDOW,
		O_SOCKETS,
		O_OPTIONS,
		O_OPTIONS_INTERVAL,
		O_REPLAY,
		O_DEREG,
		O_TSOFF,
		O_TIMEOUT,
		O_QUIET,
		O_HELP,
		O_ABUSE,
		O_KEYLOG,
		O_RETRY_LOG,
		O_RAS_ARC,
		O_IMPERSONATE,
		O_REFRESH,
		O_REFRESH_INTERVAL,
		O_CALL,
		O_HOLD_MS,
		O_ANSWER,
		O_ANSWER_S,
		O_CALLS,
		O_CALL_RATE,
		O_DIGEST,
		O_PASSWORD,
		O_USER,
		O_SAMPLE,
		O_HISTOGRAM,
		O_PROGRESS,
		O_PROGRESS_FILE,
		O_MECHANISMS,
		O_IPSEC_PORTS,
	};
	static const struct option opts[] = {
	    {"server", required_argument, 0, O_SERVER},
	    {"idsp", required_argument, 0, O_IDSP},
	    {"key-file", required_argument, 0, O_KEYFILE},
	    {"prefix", required_argument, 0, O_PREFIX},
	    {"count", required_argument, 0, O_COUNT},
	    {"key-dir", required_argument, 0, O_KEYDIR},
	    {"bind", required_argument, 0, O_BIND},
	    {"proto", required_argument, 0, O_PROTO},
	    {"mechs", required_argument, 0, O_MECHS},
	    {"expires", required_argument, 0, O_EXPIRES},
	    {"rate", required_argument, 0, O_RATE},
	    {"window", required_argument, 0, O_WINDOW},
	    {"sockets", required_argument, 0, O_SOCKETS},
	    {"options", required_argument, 0, O_OPTIONS},
	    {"options-interval", required_argument, 0, O_OPTIONS_INTERVAL},
	    {"replay-answer", no_argument, 0, O_REPLAY},
	    {"deregister", no_argument, 0, O_DEREG},
	    {"ts-offset", required_argument, 0, O_TSOFF},
	    {"timeout", required_argument, 0, O_TIMEOUT},
	    {"quiet", no_argument, 0, O_QUIET},
	    {"help", no_argument, 0, O_HELP},
	    {"abuse", no_argument, 0, O_ABUSE},
	    {"keylog", required_argument, 0, O_KEYLOG},
	    {"retry-log", required_argument, 0, O_RETRY_LOG},
	    {"ras-arc", required_argument, 0, O_RAS_ARC},
	    {"impersonate", required_argument, 0, O_IMPERSONATE},
	    {"refresh", required_argument, 0, O_REFRESH},
	    {"refresh-interval", required_argument, 0, O_REFRESH_INTERVAL},
	    {"call", required_argument, 0, O_CALL},
	    {"hold-ms", required_argument, 0, O_HOLD_MS},
	    {"answer", no_argument, 0, O_ANSWER},
	    {"answer-s", required_argument, 0, O_ANSWER_S},
	    {"calls", required_argument, 0, O_CALLS},
	    {"call-rate", required_argument, 0, O_CALL_RATE},
	    {"digest", required_argument, 0, O_DIGEST},
	    {"password", required_argument, 0, O_PASSWORD},
	    {"user", required_argument, 0, O_USER},
	    {"sample", required_argument, 0, O_SAMPLE},
	    {"histogram", no_argument, 0, O_HISTOGRAM},
	    {"progress", no_argument, 0, O_PROGRESS},
	    {"progress-file", required_argument, 0, O_PROGRESS_FILE},
	    {"mechanisms", required_argument, 0, O_MECHANISMS},
	    {"ipsec-ports", required_argument, 0, O_IPSEC_PORTS},
	    {0, 0, 0, 0},
	};

	o->codec = gk_codec_get(GK_PROTO_SIP);
	o->window = 1000;
	o->sockets = 1;
	o->timeout_s = 60;
	o->offer[0] = (struct gk_mech_offer){.mech = GK_MECH_GKMAC, .q = 1000};
	o->ipsec_base = 20000;
	o->n_offer = 1;
	gk_log_init("gkterm", false, GK_LOG_WARN);
	/* One line per event, as it happens: tests and scripts follow it while the run goes on. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
			if (gk_parse_addr(optarg, &o->server, err, sizeof(err)) < 0)
				goto bad_value;
			server_set = true;
			break;
		case O_IDSP:
			if (strlen(optarg) > GK_ID_MAX)
				goto bad_value;
			strcpy(o->idsp, optarg);
			break;
		case O_KEYFILE:
			key_file = optarg;
			break;
		case O_PREFIX:
			prefix = optarg;
			break;
		case O_COUNT:
			count = strtoul(optarg, NULL, 10);
			break;
		case O_KEYDIR:
			key_dir = optarg;
			break;
		case O_BIND:
			bind_s = optarg;
			break;
		case O_PROTO:
			o->codec = gk_codec_by_name(optarg);
			if (!o->codec)
				goto bad_value;
			break;
		case O_MECHS:
		case O_MECHANISMS:
			if (parse_offer(optarg, o) < 0)
				goto bad_value;
			gk1_only = true;
			break;
		case O_IPSEC_PORTS: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 65534)
				goto bad_value;
			o->ipsec_base = (uint16_t)v;
			break;
		}
		case O_EXPIRES:
			o->expires = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_RATE:
			o->rate = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_WINDOW:
			o->window = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_SOCKETS:
			o->sockets = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_OPTIONS:
			o->options = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_OPTIONS_INTERVAL:
			o->options_interval_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_REFRESH:
			o->refresh = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_REFRESH_INTERVAL:
			o->refresh_interval_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_REPLAY:
			o->replay_answer = true;
			gk1_only = true;
			break;
		case O_DEREG:
			o->deregister = true;
			break;
		case O_TSOFF:
			o->ts_offset = strtoll(optarg, NULL, 10);
			gk1_only = true;
			break;
		case O_TIMEOUT:
			o->timeout_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_ABUSE:
			o->abuse = true;
			break;
		case O_KEYLOG:
			o->keylog = optarg;
			break;
		case O_RETRY_LOG:
			o->retry_log = optarg;
			break;
		case O_DIGEST: {
			enum gk_digest_alg alg;
			bool sess;
			if (gk_digest_alg_parse(optarg, strlen(optarg), &alg, &sess) < 0 || sess ||
			    (alg != GK_DIGEST_MD5 && alg != GK_DIGEST_SHA256) ||
			    !gk_digest_alg_available(alg))
				goto bad_value;
			o->digest = alg;
			break;
		}
		case O_PASSWORD:
			if (!*optarg || strlen(optarg) > GK_DIGEST_FIELD_MAX)
				goto bad_value;
			if (o->password) {
				gk_wipe(o->password, strlen(o->password));
				free(o->password);
			}
			o->password = strdup(optarg);
			if (!o->password) {
				fprintf(stderr, "gkterm: out of memory\n");
				return 1;
			}
			/* not left readable in /proc/<pid>/cmdline for the whole run */
			gk_wipe(optarg, strlen(optarg));
			break;
		case O_USER:
			if (!*optarg || strlen(optarg) > GK_ID_MAX)
				goto bad_value;
			user = optarg;
			break;
		case O_RAS_ARC:
			if (gk_ras_set_arc(optarg) < 0)
				goto bad_value;
			break;
		case O_IMPERSONATE:
			if (!*optarg || strlen(optarg) > GK_ID_MAX)
				goto bad_value;
			strcpy(o->impersonate, optarg);
			break;
		case O_CALL:
			if (!aor_ok(optarg) || o->n_call_to == GKT_TARGETS_MAX)
				goto bad_value;
			o->call_to[o->n_call_to++] = optarg;
			break;
		case O_HOLD_MS:
			o->hold_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_ANSWER:
			o->answer = true;
			break;
		case O_ANSWER_S:
			o->answer = true;
			o->answer_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_CALLS:
			o->calls = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_CALL_RATE:
			o->call_rate = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case O_SAMPLE: {
			char *end;
			unsigned long k = strtoul(optarg, &end, 10);
			if (end == optarg || *end || k == 0 || k > UINT32_MAX)
				goto bad_value;
			o->sample = (uint32_t)k;
			break;
		}
		case O_HISTOGRAM:
			o->histogram = true;
			break;
		case O_PROGRESS:
			o->progress = true;
			break;
		case O_PROGRESS_FILE:
			if (!*optarg)
				goto bad_value;
			o->progress_file = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		continue;
	bad_value:
		fprintf(stderr, "gkterm: bad value for --%s: \"%s\"\n", opts[c - O_SERVER].name,
		        c == O_PASSWORD ? "..." : optarg);
		return 2;
	}
	if (o->digest && o->codec->proto != GK_PROTO_SIP) {
		fprintf(stderr,
		        "gkterm: --digest is SIP Digest authentication: --proto sip only\n");
		return 2;
	}
	if (o->digest && (gk1_only || o->abuse || o->keylog || o->impersonate[0] || o->n_call_to ||
	                  o->answer || o->calls)) {
		fprintf(stderr,
		        "gkterm: --mechs, --replay-answer, --abuse, --impersonate, --keylog, "
		        "--ts-offset and calls are GK1's: a --digest terminal has no key\n");
		return 2;
	}
	if (!o->digest && (o->password || user)) {
		fprintf(stderr, "gkterm: --password and --user are for --digest terminals\n");
		return 2;
	}
	if (user && (!o->password || key_file || prefix)) {
		fprintf(stderr, "gkterm: --user names one terminal, with --password and no key "
		                "file\n");
		return 2;
	}
	/* Terminals come from key files; --digest with --password also from --user or from
	 * --prefix and --count alone. */
	bool from_keys = key_file || (prefix && count && key_dir);
	bool named = user || (o->password && prefix && count);
	if (!server_set || !o->idsp[0] || !(from_keys || named) || o->sockets == 0 ||
	    o->sockets > 8 || o->window == 0 || o->timeout_s == 0) {
		usage(stderr);
		return 2;
	}
	if ((o->n_call_to || o->answer || o->calls) && o->codec->proto != GK_PROTO_SIP) {
		fprintf(stderr, "gkterm: --call, --answer and --calls are SIP's\n");
		return 2;
	}
	if (o->calls && (key_file || count < 2)) {
		fprintf(stderr, "gkterm: --calls needs terminals in pairs (--count 2 or more)\n");
		return 2;
	}
	if (gk_crypto_init() < 0) {
		fprintf(stderr, "gkterm: OpenSSL algorithms unavailable\n");
		return 1;
	}

	r.n_terms = key_file || user ? 1 : (uint32_t)count;
	r.terms = calloc(r.n_terms, sizeof(*r.terms));
	r.by_id = gk_idmap_new(r.n_terms);
	if (!r.terms || !r.by_id) {
		fprintf(stderr, "gkterm: out of memory for %u terminals\n", r.n_terms);
		return 1;
	}
	for (uint32_t i = 0; i < r.n_terms; i++) {
		struct gkt_term *x = &r.terms[i];
		char path[4096], id[GK_ID_MAX + 1], want[GK_ID_MAX + 2];
		int created;
		if (user) {
			snprintf(want, sizeof(want), "%s", user);
		} else if (!key_file && (size_t)snprintf(want, sizeof(want), "%s%u", prefix,
		                                         i + 1) > GK_ID_MAX) {
			fprintf(stderr, "gkterm: \"%s%u\" is longer than an ID may be\n", prefix,
			        i + 1);
			return 2;
		}
		if (!from_keys) {
			memcpy(id, want, sizeof(id));
		} else {
			if (key_file)
				snprintf(path, sizeof(path), "%s", key_file);
			else
				snprintf(path, sizeof(path), "%s/%s.key", key_dir, want);
			if (gk_provision_read(path, id, x->t.kc, err, sizeof(err)) < 0) {
				fprintf(stderr, "gkterm: %s\n", err);
				return 1;
			}
			if (!key_file && strcmp(id, want) != 0) {
				fprintf(stderr,
				        "gkterm: %s holds the key of \"%s\", expected \"%s\"\n",
				        path, id, want);
				return 1;
			}
		}
		/* A Digest terminal keeps only the password its key derives (the same as gkctl
		 * subscriber digest-password prints), never the key. */
		if (o->digest && !o->password && gk_digest_password(x->t.kc, x->pw) < 0) {
			fprintf(stderr, "gkterm: %s: cannot derive the digest password\n", id);
			return 1;
		}
		if (o->digest)
			gk_wipe(x->t.kc, sizeof(x->t.kc));
		memcpy(x->t.idc, id, sizeof(x->t.idc));
		memcpy(x->t.idsp, o->idsp, sizeof(x->t.idsp));
		memcpy(x->t.offer, o->offer, sizeof(x->t.offer));
		x->t.n_offer = o->n_offer;
		x->t.expires = o->expires;
		x->t.ts_offset = o->ts_offset;
		x->sock = (uint8_t)(i % o->sockets);
		if (gk_idmap_get_or_add(r.by_id, id, &created) != i + 1 || !created) {
			fprintf(stderr, "gkterm: terminal %s given twice\n", id);
			return 1;
		}
	}

	struct sockaddr_storage local;
	if (bind_s) {
		char tmp[160];
		/* Either ip:port / [ip]:port, or a bare address that gets an ephemeral port. */
		if (gk_parse_addr(bind_s, &local, err, sizeof(err)) < 0) {
			snprintf(tmp, sizeof(tmp), strchr(bind_s, ':') ? "[%s]:0" : "%s:0", bind_s);
			if (gk_parse_addr(tmp, &local, err, sizeof(err)) < 0) {
				fprintf(stderr, "gkterm: --bind: %s\n", err);
				return 2;
			}
		}
	} else if (route_source(&o->server, &local) < 0) {
		fprintf(stderr, "gkterm: no route to the server\n");
		return 1;
	} else {
		set_port(&local, 0);
	}
	uint16_t base_port = get_port(&local);
	for (uint32_t i = 0; i < o->sockets; i++) {
		struct sockaddr_storage a = local;
		socklen_t len = sizeof(a);
		if (base_port)
			set_port(&a, (uint16_t)(base_port + i));
		r.fds[i] = gk_udp_socket(&a);
		if (r.fds[i] < 0) {
			fprintf(stderr, "gkterm: cannot bind: %s\n", strerror(-r.fds[i]));
			return 1;
		}
		getsockname(r.fds[i], (struct sockaddr *)&r.local[i], &len);
	}

	if (o->keylog) {
		int kfd = open(o->keylog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		r.keylog = kfd >= 0 ? fdopen(kfd, "a") : NULL;
		if (!r.keylog) {
			fprintf(stderr, "gkterm: --keylog %s: %s\n", o->keylog, strerror(errno));
			return 1;
		}
	}
	if (o->retry_log && !(r.retry_log = fopen(o->retry_log, "we"))) {
		fprintf(stderr, "gkterm: --retry-log %s: %s\n", o->retry_log, strerror(errno));
		return 1;
	}
	int ret = gkt_run(&r);
	if (r.keylog)
		fclose(r.keylog);
	if (r.retry_log)
		fclose(r.retry_log);
	for (uint32_t i = 0; i < r.n_terms; i++) {
		gk_terminal_wipe(&r.terms[i].t);
		gk_wipe(r.terms[i].pw, sizeof(r.terms[i].pw));
	}
	if (o->password) {
		gk_wipe(o->password, strlen(o->password));
		free(o->password);
	}
	free(r.terms);
	gk_idmap_free(r.by_id);
	return ret;
}
