/* rpc.h - the Unix-socket JSON-RPC server: accepts clients, frames lines, dispatches
 * to rpc_methods.c, writes replies with back-pressure. */
#ifndef OSD_RPC_H
#define OSD_RPC_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alerts.h"
#include "jsonrpc.h"

struct daemon;
struct rpc_server;
struct rpc_conn;
struct utracer;

/* Listens on cfg.socket, or on the socket-activated fd when systemd passed one. */
int rpc_server_start(struct daemon *d, struct rpc_server **out);
void rpc_server_stop(struct rpc_server *s); /* closes every client and the listener */
size_t rpc_server_clients(const struct rpc_server *s);
const char *rpc_server_path(const struct rpc_server *s);

/* The peer's uid from SO_PEERCRED ((uid_t)-1 if unknown: treated as nobody). */
uid_t rpc_conn_uid(const struct rpc_conn *c);
/* Marks a connection as subscribed to anomaly notifications of the targets f selects
 * (an empty filter: all targets). */
void rpc_conn_subscribe(struct rpc_conn *c, const struct anomaly_filter *f);
/* Sends {"jsonrpc":"2.0","method":method,"params":params} to every subscriber of x's
 * target that may see it: root, or the uid that owns it. */
void rpc_server_notify(struct rpc_server *s, const char *method, json_t *params, const struct anomaly *x);
size_t rpc_server_subscribers(const struct rpc_server *s);
/* Makes the connection a trace stream of a target (by id); released when it closes. 0
 * or -EBUSY if it already traces. */
int rpc_conn_trace(struct rpc_conn *c, uint32_t target_id);
/* Does the connection already stream a trace (syscalls or a user function)? */
bool rpc_conn_tracing(const struct rpc_conn *c);
/* Makes the connection the stream of a user-function tracer (utrace.c), which
 * utrace_release() ends when the connection closes. */
void rpc_conn_set_utracer(struct rpc_conn *c, struct utracer *u);
/* Sends one notification to this connection (it may be closed on the spot if it does not
 * read: see rpc.c). */
void rpc_conn_notify(struct rpc_conn *c, const char *method, json_t *params);
/* Sends a notification to every connection tracing the target. */
void rpc_server_notify_trace(struct rpc_server *s, const char *method, json_t *params, uint32_t target_id);
/* targets.c: a tracing connection of the target went away. */
void target_trace_release(struct daemon *d, uint32_t target_id);

/* rpc_methods.c: runs one parsed request from connection c. Returns the result (new
 * reference), or NULL with e filled. */
json_t *rpc_dispatch(struct daemon *d, struct rpc_conn *c, const struct rpc_request *req, struct rpc_error *e);
#endif
