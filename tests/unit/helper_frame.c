// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames written field by field from the RFCs (791, 768, 8200), sharing nothing with the XDP
 * program, so that its checksum updates are checked against an independent computation.
 */
#include <string.h>

#include "helper_frame.h"

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

size_t frame_l3(const struct frame_spec *s)
{
	return 14 + 4 * (size_t)s->vlans;
}

size_t frame_l4(const struct frame_spec *s)
{
	if (s->v6)
		return frame_l3(s) + 40 + (s->v6_destopts ? 8 : 0);
	return frame_l3(s) + 20 + (s->ip_options ? 4 : 0);
}

static uint16_t udp_csum(const struct frame_spec *s, const uint8_t *f, size_t l4, size_t ulen)
{
	uint32_t acc = 0;
	uint8_t ph[4];

	if (s->v6) {
		acc = sum(acc, f + frame_l3(s) + 8, 32);
	} else {
		acc = sum(acc, f + frame_l3(s) + 12, 8);
	}
	be16(ph, 17);
	be16(ph + 2, (unsigned)ulen);
	acc = sum(acc, ph, 4);
	acc = sum(acc, f + l4, ulen);
	return fold(acc);
}

size_t frame_build(const struct frame_spec *s, const void *payload, size_t plen, uint8_t *out,
                   size_t cap)
{
	size_t l3 = frame_l3(s), l4 = frame_l4(s), len = l4 + 8 + plen, off = 12;
	uint8_t *ip = out + l3, *udp = out + l4;

	if (len > cap)
		return 0;
	memset(out, 0, len);
	memcpy(out, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (s->vlans == 2) {
		be16(out + off, 0x88a8);
		be16(out + off + 2, 100);
		off += 4;
	}
	if (s->vlans >= 1) {
		be16(out + off, 0x8100);
		be16(out + off + 2, 200);
		off += 4;
	}
	be16(out + off, s->v6 ? 0x86dd : 0x0800);
	if (s->v6) {
		ip[0] = 0x60;
		be16(ip + 4, (unsigned)(len - l3 - 40));
		ip[6] = s->v6_destopts ? 60 : 17;
		ip[7] = 64;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		if (s->v6_destopts) {
			ip[40] = 17; /* next header; length 0 = 8 bytes; PadN of 4 */
			ip[42] = 1;
			ip[43] = 4;
		}
	} else {
		ip[0] = (uint8_t)(0x40 | (s->ip_options ? 6 : 5));
		be16(ip + 2, (unsigned)(len - l3));
		be16(ip + 4, 0x1234);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		if (s->ip_options)
			memset(ip + 20, 1, 3); /* NOP NOP NOP EOL */
		be16(ip + 10, (unsigned)(uint16_t)~fold(sum(0, ip, l4 - l3)));
	}
	be16(udp, s->sport);
	be16(udp + 2, s->dport);
	be16(udp + 4, (unsigned)(8 + plen));
	memcpy(udp + 8, payload, plen);
	if (s->v6 || !s->no_udp_csum) {
		uint16_t c = (uint16_t)~udp_csum(s, out, l4, 8 + plen);
		be16(udp + 6, c ? c : 0xffff);
	}
	return len;
}

int frame_check(const struct frame_spec *s, const uint8_t *f, size_t len)
{
	size_t l3 = frame_l3(s), l4 = frame_l4(s), ulen;

	if (len < l4 + 8)
		return 0;
	ulen = get16(f + l4 + 4);
	if (l4 + ulen != len)
		return 0;
	if (s->v6) {
		if (get16(f + l3 + 4) != len - l3 - 40)
			return 0;
	} else {
		if (get16(f + l3 + 2) != len - l3)
			return 0;
		if (fold(sum(0, f + l3, l4 - l3)) != 0xffff)
			return 0;
		if (get16(f + l4 + 6) == 0)
			return 1;
	}
	return udp_csum(s, f, l4, ulen) == 0xffff;
}
