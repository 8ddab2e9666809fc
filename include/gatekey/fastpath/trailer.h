/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gk-mac trailer (DESIGN §6), appended to the UDP payload of every signalling datagram of a
 * terminal that negotiated gk-mac, in both directions. Shared by userspace and the XDP program,
 * so it uses only fixed-width types and no libc.
 *
 *   offset  size  field
 *   0       2     magic 'G' 'K'
 *   2       1     version (1)
 *   3       1     flags (0; reserved)
 *   4       4     terminal index, big endian
 *   8       8     sequence number, big endian, strictly increasing per direction
 *   16      16    tag = SipHash-2-4-128(direction key, payload || bytes 0..15 of the trailer)
 */
#ifndef GATEKEY_TRAILER_H
#define GATEKEY_TRAILER_H

#define GK_TRAILER_LEN     32
#define GK_TRAILER_HDR_LEN 16
#define GK_TRAILER_MAGIC0  'G'
#define GK_TRAILER_MAGIC1  'K'
#define GK_TRAILER_VERSION 1
#define GK_REPLAY_WINDOW   64

/*
 * What the XDP fast path delivers to sbcd's verified port: the payload followed by the first 8
 * bytes of the trailer (magic, version, flags, terminal index); sequence number and tag are
 * removed. The index tells sbcd which terminal the tag verified for, also when several share
 * one address; only XDP can deliver to that port, so the tail cannot be forged.
 */
#define GK_VERIFIED_TAIL_LEN 8
#define GK_TRAILER_STRIP     (GK_TRAILER_LEN - GK_VERIFIED_TAIL_LEN)

struct gk_trailer {
	unsigned char magic[2];
	unsigned char version;
	unsigned char flags;
	unsigned char index[4];
	unsigned char seq[8];
	unsigned char tag[16];
};

#endif
