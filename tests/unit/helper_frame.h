/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crafted Ethernet frames for the XDP tests and benchmarks, and an independent check of their
 * IPv4 header and UDP checksums.
 */
#ifndef GATEKEY_TEST_HELPER_FRAME_H
#define GATEKEY_TEST_HELPER_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct frame_spec {
	int v6;          /* IPv6 instead of IPv4 */
	int vlans;       /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	int ip_options;  /* IPv4: 4 bytes of options (NOP x3, EOL) */
	int v6_destopts; /* IPv6: a Destination Options header before UDP */
	int no_udp_csum; /* IPv4: UDP checksum 0 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Writes the frame into out (cap bytes); returns its length or 0. */
size_t frame_build(const struct frame_spec *s, const void *payload, size_t plen, uint8_t *out,
                   size_t cap);

/* Where things are in a frame built from s. */
size_t frame_l3(const struct frame_spec *s);
size_t frame_l4(const struct frame_spec *s);

/* 1 if the frame's IP lengths agree with its size, and its IPv4 header checksum and its UDP
 * checksum (IPv4: 0 allowed) verify; recomputed from scratch. */
int frame_check(const struct frame_spec *s, const uint8_t *f, size_t len);

#endif
