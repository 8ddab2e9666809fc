// SPDX-License-Identifier: GPL-2.0-only
/* Running tools, writing pcaps, checking seed files (helper_tool.h). */
#include <stdlib.h>
#include <string.h>

#include "helper_tool.h"

int tool_output(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return -1;
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	return pclose(p);
}

void pcap_begin(FILE *f)
{
	static const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(gh, sizeof(gh), 1, f);
}

void pcap_record(FILE *f, uint32_t ts_s, const uint8_t *frame, size_t len)
{
	uint32_t hdr[4] = {ts_s, 0, (uint32_t)len, (uint32_t)len};
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(frame, 1, len, f);
}

int seed_file_check(const char *path, const uint8_t *w, size_t n, bool dump)
{
	FILE *f = fopen(path, dump ? "wb" : "rb");
	int ret = 0;

	if (!f)
		return -1;
	if (dump) {
		fwrite(w, 1, n, f);
	} else {
		uint8_t *have = malloc(n + 1);
		size_t got = have ? fread(have, 1, n + 1, f) : 0;
		ret = !have || got != n || memcmp(w, have, n) != 0;
		free(have);
	}
	fclose(f);
	return ret;
}

const char *repo_path(char *buf, size_t cap, const char *rel)
{
	const char *src = __FILE__; /* .../tests/unit/helper_tool.c */
	const char *tail = strstr(src, "tests/unit/helper_tool.c");

	snprintf(buf, cap, "%.*s%s", tail ? (int)(tail - src) : 0, src, rel);
	return buf;
}

size_t read_repo_file(const char *rel, uint8_t *buf, size_t cap)
{
	char path[4096];
	FILE *f = fopen(repo_path(path, sizeof(path), rel), "rb");

	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}
