/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Why something was refused or dropped. Every rejection in gatekey carries one of these codes, is
 * counted under it, and is logged with its name. Codecs use the GK_R_PARSE_* ones to say what was
 * wrong with an input; the exchange uses the others. OVERLOAD (no room for the request now) is
 * the one reason the wire tells a terminal, as "try again later" (msg.h); TABLE_FULL (no room
 * for another terminal at all) is not transient and reads "forbidden", like the rest.
 */
#ifndef GATEKEY_REASON_H
#define GATEKEY_REASON_H

#include <stdbool.h>
#include <stdint.h>

#define GK_REASONS(X)                                                                              \
	X(OK, "ok")                                                                                \
	X(PARSE_TRUNCATED, "parse: truncated")                                                     \
	X(PARSE_SYNTAX, "parse: syntax error")                                                     \
	X(PARSE_TOO_LONG, "parse: field too long")                                                 \
	X(PARSE_MISSING, "parse: required field missing")                                          \
	X(PARSE_DUPLICATE, "parse: duplicate field")                                               \
	X(PARSE_BAD_VALUE, "parse: bad field value")                                               \
	X(PARSE_UNSUPPORTED, "parse: unsupported message")                                         \
	X(PARSE_BAD_AUTH, "parse: bad message authenticator")                                      \
	X(STALE_TS, "timestamp outside skew window")                                               \
	X(REPLAY_N1, "replayed N1")                                                                \
	X(BAD_N2, "N2 does not echo the challenge")                                                \
	X(NO_CHALLENGE, "answer without an outstanding challenge")                                 \
	X(WRONG_AUTH, "AUTH does not match XAUTH")                                                 \
	X(LOCKED_OUT, "IDc locked out after repeated failures")                                    \
	X(NO_MECH, "no acceptable security mechanism")                                             \
	X(UNWRAP_FAILED, "key blob does not unwrap")                                               \
	X(AUC_REJECT, "authentication centre refused")                                             \
	X(AUC_TIMEOUT, "authentication centre did not answer")                                     \
	X(OVERLOAD, "no free transaction slot")                                                    \
	X(WRONG_IDSP, "request addressed to another element")                                      \
	X(NOT_REGISTERED, "source is not registered")                                              \
	X(BAD_TRAILER, "gk-mac trailer missing or malformed")                                      \
	X(BAD_TAG, "gk-mac tag does not verify")                                                   \
	X(REPLAY_SEQ, "gk-mac sequence replayed")                                                  \
	X(OLD_SEQ, "gk-mac sequence behind the replay window")                                     \
	X(UNKNOWN_INDEX, "gk-mac terminal index unknown")                                          \
	X(WRONG_SOURCE, "datagram from another address than the registration")                     \
	X(BAD_RESPONSE_MAC, "success response MAC does not verify")                                \
	X(MECH_DOWNGRADE, "echoed mechanism list differs from the offer")                          \
	X(UNKNOWN_CLIENT, "RADIUS client not configured")                                          \
	X(UNKNOWN_ELEMENT, "network element not provisioned")                                      \
	X(REFUSED, "the network refused the registration")                                         \
	X(TIMEOUT, "no answer in time")                                                            \
	X(INTERNAL, "internal error")                                                              \
	X(SUPERSEDED, "a newer attempt for the same IDc replaced this one")                        \
	X(IDENTITY_MISMATCH, "request claims another identity than its binding's")                 \
	X(NOT_SERVED, "request this element does not serve")                                       \
	X(BAD_VERSION, "protocol version not supported")                                           \
	X(BAD_SCHEME, "request URI scheme not supported")                                          \
	X(BAD_EXTENSION, "requires an extension this element does not support")                    \
	X(BAD_MEDIA, "carries a body this element does not accept")                                \
	X(IDENTITY_MISSING, "core-leg request without an asserted identity")                       \
	X(TABLE_FULL, "no free record for another terminal (max_terminals)")                       \
	X(SEC_VERIFY, "request under ipsec-3gpp SAs without the element's end in Security-Verify")

/* clang-format off */
enum gk_reason {
#define GK_REASON_ENUM(n, s) GK_R_##n,
	GK_REASONS(GK_REASON_ENUM)
#undef GK_REASON_ENUM
	GK_R__COUNT
};
/* clang-format on */

const char *gk_reason_str(enum gk_reason r);
/* Short machine-friendly name, e.g. "WRONG_AUTH", used for counters. */
const char *gk_reason_name(enum gk_reason r);

/* A refusal that says nothing about the terminal, only that the network could not decide now
 * (no room, or the AuC did not answer in time): the terminal hears its protocol's overload
 * answer with a Retry-After and comes back, instead of "forbidden", after which it would give
 * up. Counted under its own reason either way. */
static inline bool gk_reason_is_temporary(enum gk_reason r)
{
	return r == GK_R_OVERLOAD || r == GK_R_AUC_TIMEOUT;
}

/* A reason counter set: one per daemon, dumped by the stats interface. */
struct gk_reason_counters {
	uint64_t n[GK_R__COUNT];
};

#endif
