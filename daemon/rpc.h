/* rpc.h - the Unix-socket JSON-RPC server: accepts clients, frames lines, dispatches
 * to rpc_methods.c, writes replies with back-pressure. */
#ifndef OSD_RPC_H
#define OSD_RPC_H
#include <jansson.h>
#include <stddef.h>

#include "jsonrpc.h"

struct daemon;
struct rpc_server;

/* Listens on cfg.socket, or on the socket-activated fd when systemd passed one. */
int rpc_server_start(struct daemon *d, struct rpc_server **out);
void rpc_server_stop(struct rpc_server *s); /* closes every client and the listener */
size_t rpc_server_clients(const struct rpc_server *s);
const char *rpc_server_path(const struct rpc_server *s);

/* rpc_methods.c: runs one parsed request. Returns the result (new reference), or NULL
 * with e filled. */
json_t *rpc_dispatch(struct daemon *d, const struct rpc_request *req, struct rpc_error *e);
#endif
