/* fuzz_rpc.c - libFuzzer target: the JSON-RPC request handler. Bytes are framed into
 * lines as the server does, parsed, and dispatched to the real methods against a daemon
 * without BPF (procfs sampling) whose state lives in a private temporary directory. Every
 * request must yield exactly one well-formed reply object (or none for a notification). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "linebuf.h"
#include "osd_proto.h"
#include "rpc.h"
#include "state.h"
#include "targets.h"

static struct daemon d;

static void setup(void)
{
    static char dir[] = "/tmp/osd-fuzz-rpc-XXXXXX";

    if (d.loop)
        return;
    if (!mkdtemp(dir))
        abort();
    config_defaults(&d.cfg);
    snprintf(d.cfg.state_dir, sizeof(d.cfg.state_dir), "%s", dir);
    d.cfg.ring_capacity = 16; /* keep per-target memory small */
    d.cfg.max_targets = 4;
    d.loop = uv_default_loop();
    state_init(&d);
    if (alerts_open(dir, 64, &d.alerts))
        abort();
}

static int on_line(char *line, size_t len, void *arg)
{
    struct rpc_request req;
    struct rpc_error e = { 0 };
    json_t *reply, *result;

    (void)arg;
    if (jsonrpc_parse(line, len, &req, &e)) {
        reply = jsonrpc_error(req.id, &e);
        if (!reply || !json_object_get(reply, "error") || e.code >= 0 || !e.msg[0])
            abort();
        json_decref(reply);
        jsonrpc_request_free(&req);
        return 0;
    }
    result = rpc_dispatch(&d, NULL, &req, &e);
    reply = result ? jsonrpc_result(req.id, result) : jsonrpc_error(req.id, &e);
    if (!reply || (!result && (e.code >= 0 || !e.msg[0])))
        abort();
    json_decref(reply);
    jsonrpc_request_free(&req);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linebuf lb;

    setup();
    linebuf_init(&lb, OSD_MAX_MSG);
    linebuf_feed(&lb, (const char *)data, size, on_line, NULL);
    linebuf_free(&lb);
    /* targets watched by this input are dropped before the next one */
    targets_unwatch_all(&d);
    uv_run(d.loop, UV_RUN_NOWAIT);
    return 0;
}
