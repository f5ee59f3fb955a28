/* rpc.h - the Unix-socket JSON-RPC server: accepts clients, frames lines, dispatches
 * to rpc_methods.c, writes replies with back-pressure. */
#ifndef OSD_RPC_H
#define OSD_RPC_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
/* Marks a connection as subscribed to anomaly notifications (pid 0 = all targets). */
void rpc_conn_subscribe(struct rpc_conn *c, pid_t pid);
/* Sends {"jsonrpc":"2.0","method":method,"params":params} to every subscriber of pid
 * that may see it: root, or the uid that owns it. */
void rpc_server_notify(struct rpc_server *s, const char *method, json_t *params, pid_t pid, uid_t owner);
size_t rpc_server_subscribers(const struct rpc_server *s);
/* Makes the connection a trace stream of target pid; released when it closes. 0 or
 * -EBUSY if it already traces. */
int rpc_conn_trace(struct rpc_conn *c, pid_t pid);
/* Does the connection already stream a trace (syscalls or a user function)? */
bool rpc_conn_tracing(const struct rpc_conn *c);
/* Makes the connection the stream of a user-function tracer (utrace.c), which
 * utrace_release() ends when the connection closes. */
void rpc_conn_set_utracer(struct rpc_conn *c, struct utracer *u);
/* Sends one notification to this connection (it may be closed on the spot if it does not
 * read: see rpc.c). */
void rpc_conn_notify(struct rpc_conn *c, const char *method, json_t *params);
/* Sends a notification to every connection tracing pid. */
void rpc_server_notify_trace(struct rpc_server *s, const char *method, json_t *params, pid_t pid);
/* targets.c: a tracing connection of pid went away. */
void target_trace_release(struct daemon *d, pid_t pid);

/* rpc_methods.c: runs one parsed request from connection c. Returns the result (new
 * reference), or NULL with e filled. */
json_t *rpc_dispatch(struct daemon *d, struct rpc_conn *c, const struct rpc_request *req, struct rpc_error *e);
#endif
