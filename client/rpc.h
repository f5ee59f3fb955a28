/* rpc.h - JSON-RPC 2.0 framing for osdctl: encode a request, decode and check its reply. */
#ifndef OSDCTL_RPC_H
#define OSDCTL_RPC_H
#include <jansson.h>

#include "conn.h"

#define RPC_DAEMON_ERROR 1 /* returned when the reply carries an error object */

/* Encodes one request line (no newline); params may be NULL. Caller frees. NULL on ENOMEM. */
char *rpc_request_encode(json_int_t id, const char *method, json_t *params);
/* Decodes a reply line expected to answer request id. 0 with *result, RPC_DAEMON_ERROR with
 * *error (both new references), or -EPROTO with a reason in why. */
int rpc_reply_decode(const char *line, size_t len, json_int_t id, json_t **result, json_t **error,
                     char *why, size_t whylen);
/* Sends a request and reads its reply: 0, RPC_DAEMON_ERROR, -EPROTO (why says why) or a
 * transport -errno from conn. params may be NULL and is not consumed. Notifications that
 * arrive before the reply are dropped. */
int rpc_call(struct conn *c, json_int_t id, const char *method, json_t *params, json_t **result,
             json_t **error, char *why, size_t whylen);

/* Receives a notification read while waiting for a reply; params may be NULL. */
typedef void (*rpc_notify_fn)(void *arg, const char *method, json_t *params);

/* Sends one request line: 0, -ENOMEM or a transport -errno from conn. */
int rpc_send(struct conn *c, json_int_t id, const char *method, json_t *params);
/* Reads lines until the reply to id, before deadline (conn_now_ms() clock; < 0: none).
 * A subscribed connection interleaves notifications with replies: each one read first goes
 * to fn (dropped when fn is NULL). Returns as rpc_call(). */
int rpc_recv_reply(struct conn *c, json_int_t id, int64_t deadline, rpc_notify_fn fn, void *arg,
                   json_t **result, json_t **error, char *why, size_t whylen);
/* 1 when msg is a JSON-RPC 2.0 notification: an object with a string "method" and no "id". */
int rpc_is_notification(const json_t *msg);
/* Waits with no deadline for the next line, which must be a notification: 0 with *msg (the
 * whole message, new reference), -EPROTO (why) for anything else, or a transport -errno. */
int rpc_recv_notification(struct conn *c, json_t **msg, char *why, size_t whylen);
/* Fields of an error object, with safe fallbacks for a malformed one. */
int rpc_error_code(const json_t *error);
const char *rpc_error_message(const json_t *error);
#endif
