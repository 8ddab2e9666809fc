/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MGCP binding (RFC 3435) of the exchange: docs/bindings-mgcp.md. Stateless: transactions
 * (retransmission, response cache, provisional responses) are lib/cmd/cmd_txn.c's.
 */
#ifndef GATEKEY_MGCP_H
#define GATEKEY_MGCP_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/codec/codec.h"
#include "gatekey/codec/msg.h"

#define GK_MGCP_PORT_GW 2427 /* gateways: the terminals */
#define GK_MGCP_PORT_CA 2727 /* call agents: sbcd, softswitchd */

/* 0, or -1 with *reason a GK_R_PARSE_* code. m is fully overwritten. */
int gk_mgcp_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason);
/* Bytes written, or -EINVAL (not expressible), -ENOSPC (cap too small; nothing usable). */
int gk_mgcp_encode(const struct gk_msg *m, uint8_t *buf, size_t cap);
/* An RSIP or NTFY command line: the XDP classifier's automaton. */
int gk_mgcp_is_registration(const uint8_t *buf, size_t len);

extern const struct gk_codec gk_mgcp_codec;

#endif
