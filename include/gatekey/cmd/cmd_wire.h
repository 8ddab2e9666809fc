/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wire context of the command/response protocols (MGCP, H.248 text): every message of the
 * exchange is a command acknowledged by a response with the same transaction id. The part both
 * share, struct gk_cmd_wire, is what lib/cmd/cmd_txn.c reads; see docs/bindings-mgcp.md.
 */
#ifndef GATEKEY_CMD_WIRE_H
#define GATEKEY_CMD_WIRE_H

#include <stdint.h>

enum gk_cmd_kind {
	GK_CMD_NONE = 0,
	GK_CMD_REQUEST,  /* MGCP command, H.248 Transaction */
	GK_CMD_REPLY,    /* final response: MGCP 2xx/4xx/5xx/8xx, H.248 Reply */
	GK_CMD_PENDING,  /* MGCP 100/101 provisional, H.248 Pending */
	GK_CMD_RESP_ACK, /* MGCP 000, H.248 TransactionResponseAck */
};

/* The final reply asks for a response acknowledgement (MGCP empty "K:", H.248 ImmAckRequired). */
#define GK_CMD_F_WANT_ACK 0x01

#define GK_CMD_ACKS_MAX 4
#define GK_CMD_TID_MAX  999999999u /* MGCP: 1 to 9 digits; H.248 uses the same range here */

struct gk_cmd_wire {
	uint8_t kind;  /* enum gk_cmd_kind */
	uint8_t flags; /* GK_CMD_F_* */
	uint16_t code; /* REPLY/PENDING: response or error code; 0 = protocol default */
	uint32_t tid;  /* transaction id */
	uint8_t n_acks;
	struct {
		uint32_t first, last;
	} acks[GK_CMD_ACKS_MAX]; /* responses acknowledged (MGCP K:, 000; H.248 K{}) */
};

struct gk_mgcp_ctx {
	struct gk_cmd_wire cmd;
	char verb[5]; /* commands: upper-case verb, e.g. "RSIP" */
};

struct gk_h248_ctx {
	struct gk_cmd_wire cmd;
	char mid[64];   /* the sender's own mId when encoding; the decoder leaves it empty */
	char verb[20];  /* first command (long name) of the request, or of the reply */
	uint8_t n_cmds; /* commands in the transaction (1 or 2) */
};

#endif
