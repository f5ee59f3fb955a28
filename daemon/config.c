/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "osd_proto.h"
#include "syscall.h"

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->socket, sizeof(c->socket), "%s", OSD_DEFAULT_SOCKET);
    snprintf(c->state_dir, sizeof(c->state_dir), "%s", "/var/lib/osdetd");
    c->interval_ms = OSD_INTERVAL_DEFAULT_MS;
    c->ring_capacity = OSD_RING_DEFAULT_CAP;
    c->retention_s = 0;
    c->max_targets = OSD_MAX_TARGETS_DEFAULT;
    c->max_clients = 256;
    c->log_level = LOG_INFO;
    c->detect.on = true;
    c->detect.kind = DET_SPOT;
    c->detect.stride = 10;
    c->detect.q = 1e-4;
    c->detect.calib = 300;
    c->detect.window = 128;
    c->anomaly_history = 10000;
    c->syscall_latency_sample = OSD_SYS_SAMPLE_DEFAULT;
    c->syscall_latency_window_ms = OSD_SYS_WINDOW_DEFAULT_MS;
    c->syscall_latency_period_ms = OSD_SYS_PERIOD_DEFAULT_MS;
}

json_t *config_json(const struct config *c)
{
    static const char *const levels[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

    return json_pack("{s:s, s:s, s:i, s:I, s:i, s:i, s:i, s:s, s:s, s:I, s:I, s:I, s:f, s:I, s:s, s:i, s:i, s:i}", "socket", c->socket,
                     "state_dir", c->state_dir, "interval_ms", c->interval_ms, "ring_capacity",
                     (json_int_t)c->ring_capacity, "retention_s", c->retention_s, "max_targets", c->max_targets,
                     "max_clients", c->max_clients, "log_level", levels[c->log_level & 7], "detector",
                     c->detect.on ? det_kind_name(c->detect.kind) : "none", "detect_stride",
                     (json_int_t)c->detect.stride, "detect_calib", (json_int_t)c->detect.calib, "detect_window",
                     (json_int_t)c->detect.window, "detect_q", c->detect.q, "anomaly_history",
                     (json_int_t)c->anomaly_history, "heap_scope", c->heap_process ? "process" : "tree",
                     "syscall_latency_sample", c->syscall_latency_sample, "syscall_latency_window_ms",
                     c->syscall_latency_window_ms, "syscall_latency_period_ms", c->syscall_latency_period_ms);
}

static int get_real(json_t *v, const char *key, double lo, double hi, double *out, char *err, size_t errlen)
{
    if (!json_is_number(v)) {
        snprintf(err, errlen, "key '%s' must be a number", key);
        return -EINVAL;
    }
    *out = json_number_value(v);
    if (!(*out > lo && *out < hi)) {
        snprintf(err, errlen, "key '%s' must be between %g and %g (exclusive), got %g", key, lo, hi, *out);
        return -EINVAL;
    }
    return 0;
}

static int get_int(json_t *v, const char *key, long long lo, long long hi, long long *out, char *err, size_t errlen)
{
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "key '%s' must be an integer", key);
        return -EINVAL;
    }
    *out = json_integer_value(v);
    if (*out < lo || *out > hi) {
        snprintf(err, errlen, "key '%s' must be between %lld and %lld, got %lld", key, lo, hi, *out);
        return -EINVAL;
    }
    return 0;
}

static int get_str(json_t *v, const char *key, char *dst, size_t dstlen, char *err, size_t errlen)
{
    if (!json_is_string(v) || !json_string_length(v)) {
        snprintf(err, errlen, "key '%s' must be a non-empty string", key);
        return -EINVAL;
    }
    if (json_string_length(v) >= dstlen) {
        snprintf(err, errlen, "key '%s' is longer than %zu bytes", key, dstlen - 1);
        return -EINVAL;
    }
    snprintf(dst, dstlen, "%s", json_string_value(v));
    return 0;
}

int config_parse(struct config *c, const char *text, char *err, size_t errlen)
{
    struct config n = *c; /* applied only if every key is valid */
    json_error_t jerr;
    json_t *root, *v;
    const char *key;
    long long x = 0; /* -O3 cannot see that get_int sets it when it returns 0 */
    int ret = 0;

    root = json_loads(text, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return -EINVAL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "the configuration must be a JSON object");
        ret = -EINVAL;
        goto out;
    }
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "socket")) {
            ret = get_str(v, key, n.socket, sizeof(n.socket), err, errlen);
        } else if (!strcmp(key, "state_dir")) {
            ret = get_str(v, key, n.state_dir, sizeof(n.state_dir), err, errlen);
        } else if (!strcmp(key, "interval_ms")) {
            ret = get_int(v, key, OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS, &x, err, errlen);
            n.interval_ms = (int)x;
        } else if (!strcmp(key, "ring_capacity")) {
            ret = get_int(v, key, 16, 10 * 1000 * 1000, &x, err, errlen);
            n.ring_capacity = (size_t)x;
        } else if (!strcmp(key, "retention_s")) {
            ret = get_int(v, key, 0, 365LL * 86400, &x, err, errlen);
            n.retention_s = (int)x;
        } else if (!strcmp(key, "max_targets")) {
            ret = get_int(v, key, 1, 100000, &x, err, errlen);
            n.max_targets = (int)x;
        } else if (!strcmp(key, "max_clients")) {
            ret = get_int(v, key, 1, 100000, &x, err, errlen);
            n.max_clients = (int)x;
        } else if (!strcmp(key, "detector")) {
            const char *name = json_string_value(v);
            if (name && !strcmp(name, "none")) {
                n.detect.on = false;
            } else if (!name || det_kind_parse(name, &n.detect.kind)) {
                snprintf(err, errlen, "key 'detector' must be one of spot, cs, mad, none");
                ret = -EINVAL;
            } else {
                n.detect.on = true;
            }
        } else if (!strcmp(key, "heap_scope")) {
            const char *name = json_string_value(v);
            if (!name || (strcmp(name, "tree") && strcmp(name, "process"))) {
                snprintf(err, errlen, "key 'heap_scope' must be \"tree\" or \"process\"");
                ret = -EINVAL;
            } else {
                n.heap_process = !strcmp(name, "process");
            }
        } else if (!strcmp(key, "detect_stride")) {
            ret = get_int(v, key, 1, 100000, &x, err, errlen);
            n.detect.stride = (size_t)x;
        } else if (!strcmp(key, "detect_calib")) {
            ret = get_int(v, key, 20, 1000000, &x, err, errlen);
            n.detect.calib = (size_t)x;
        } else if (!strcmp(key, "detect_window")) {
            ret = get_int(v, key, 16, 100000, &x, err, errlen);
            n.detect.window = (size_t)x;
        } else if (!strcmp(key, "detect_q")) {
            ret = get_real(v, key, 0, 0.5, &n.detect.q, err, errlen);
        } else if (!strcmp(key, "anomaly_history")) {
            ret = get_int(v, key, 1, 10000000, &x, err, errlen);
            n.anomaly_history = (size_t)x;
        } else if (!strcmp(key, "syscall_latency_sample")) {
            ret = get_int(v, key, 1, OSD_SYS_SAMPLE_MAX, &x, err, errlen);
            n.syscall_latency_sample = (int)x;
        } else if (!strcmp(key, "syscall_latency_window_ms")) {
            ret = get_int(v, key, 0, OSD_SYS_PERIOD_MAX_MS, &x, err, errlen);
            n.syscall_latency_window_ms = (int)x;
        } else if (!strcmp(key, "syscall_latency_period_ms")) {
            ret = get_int(v, key, OSD_SYS_PERIOD_MIN_MS, OSD_SYS_PERIOD_MAX_MS, &x, err, errlen);
            n.syscall_latency_period_ms = (int)x;
        } else if (!strcmp(key, "log_level")) {
            int lvl = json_is_string(v) ? log_parse_level(json_string_value(v)) : -EINVAL;
            if (lvl < 0) {
                snprintf(err, errlen, "key 'log_level' must be one of err, warning, notice, info, debug");
                ret = -EINVAL;
            }
            n.log_level = lvl;
        } else {
            snprintf(err, errlen, "unknown key '%s'", key);
            ret = -EINVAL;
        }
        if (ret)
            goto out;
    }
    if (n.syscall_latency_window_ms >= n.syscall_latency_period_ms) {
        snprintf(err, errlen,
                 "key 'syscall_latency_window_ms' (%d) must be less than 'syscall_latency_period_ms' (%d), "
                 "or 0 to time syscalls at any moment",
                 n.syscall_latency_window_ms, n.syscall_latency_period_ms);
        ret = -EINVAL;
        goto out;
    }
    *c = n;
out:
    json_decref(root);
    return ret;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
    char msg[256];
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t cap = 0, len = 0;
    int ret;

    if (!f) {
        ret = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-ret));
        return ret;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *nt;
            if (cap > (1 << 20)) {
                snprintf(err, errlen, "%s: larger than 1 MiB", path);
                ret = -EFBIG;
                goto out;
            }
            cap = cap ? cap * 2 : 8192;
            nt = realloc(text, cap);
            if (!nt) {
                ret = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            text = nt;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    text[len] = '\0';
    ret = config_parse(c, text, msg, sizeof(msg));
    if (ret)
        snprintf(err, errlen, "%s: %s", path, msg);
out:
    free(text);
    fclose(f);
    return ret;
}
