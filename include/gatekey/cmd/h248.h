/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The H.248.1 / Megaco text binding (RFC 3525) of the exchange: docs/bindings-h248.md.
 * Stateless: transactions (Pending, retransmission, reply cache) are lib/cmd/cmd_txn.c's.
 */
#ifndef GATEKEY_H248_H
#define GATEKEY_H248_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/codec/codec.h"
#include "gatekey/codec/msg.h"

#define GK_H248_PORT 2944

/* 0, or -1 with *reason a GK_R_PARSE_* code. m is fully overwritten. */
int gk_h248_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason);
/* Bytes written, or -EINVAL (not expressible), -ENOSPC (cap too small; nothing usable). */
int gk_h248_encode(const struct gk_msg *m, uint8_t *buf, size_t cap);
/* A Transaction whose first command is ServiceChange or Notify: the XDP classifier's automaton. */
int gk_h248_is_registration(const uint8_t *buf, size_t len);

extern const struct gk_codec gk_h248_codec;

#endif
