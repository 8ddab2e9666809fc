/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tests that check gatekey against other tools share: running a tool and reading what it
 * printed, writing classic pcap files for tshark, and comparing a committed seed file with what the
 * encoder writes now (or writing it anew, when a test is asked to dump its corpus).
 */
#ifndef GATEKEY_TEST_HELPER_TOOL_H
#define GATEKEY_TEST_HELPER_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Runs cmd through the shell; its standard output, cut to cap - 1 bytes, goes to out. Returns
 * pclose's status (0: the command exited 0), -1 when it could not start. */
int tool_output(const char *cmd, char *out, size_t cap);

/* A classic pcap file: the global header (Ethernet, snaplen 65535), then one record a frame. */
void pcap_begin(FILE *f);
void pcap_record(FILE *f, uint32_t ts_s, const uint8_t *frame, size_t len);

/* With dump, writes the n bytes at w to path and returns 0. Else compares path with them: 0 when
 * equal, -1 when path cannot be read, 1 when its length or its bytes differ. */
int seed_file_check(const char *path, const uint8_t *w, size_t n, bool dump);

/* The path of rel (e.g. "tests/corpus/sip") inside the source tree these tests were built from. */
const char *repo_path(char *buf, size_t cap, const char *rel);
/* Reads the file at rel inside the source tree into buf: its length, or 0 when it cannot. */
size_t read_repo_file(const char *rel, uint8_t *buf, size_t cap);

#endif
