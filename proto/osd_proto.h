/* osd_proto.h - names, error codes and limits shared by osdetd and osdctl.
 * The method catalogue with params and results is proto/osd-rpc.md. */
#ifndef OSD_PROTO_H
#define OSD_PROTO_H

#define OSD_VERSION "0.1.0"

/* Transport */
#define OSD_DEFAULT_SOCKET "/run/osdetd/osdetd.sock"
#define OSD_SOCKET_ENV "OSDETD_SOCKET"
#define OSD_MAX_MSG (1024 * 1024) /* bytes per request line, newline excluded */

/* Methods (names may grow, never change) */
#define OSD_M_WATCH "watch"
#define OSD_M_UNWATCH "unwatch"
#define OSD_M_LIST "list"
#define OSD_M_STATUS "status"
#define OSD_M_SERIES "series"
#define OSD_M_THREADS "threads"
#define OSD_M_ANOMALIES "anomalies"
#define OSD_M_SUBSCRIBE "subscribe"
#define OSD_M_SYSCALLS "syscalls"
#define OSD_M_TRACE "trace"
#define OSD_N_TRACE "trace"           /* notification: one syscall enter/exit, or user-function enter/return */
#define OSD_N_TRACE_DROPPED "trace.dropped"
#define OSD_M_CONFIG_GET "config.get"
#define OSD_M_CONFIG_RELOAD "config.reload"
#define OSD_N_ANOMALY "anomaly" /* notification sent to subscribers */

/* Metric families accepted by "series" */
#define OSD_METRIC_CPU "cpu"
#define OSD_METRIC_MEM "mem"
#define OSD_METRIC_NET "net"
#define OSD_METRIC_SYSCALL "syscall"
#define OSD_METRIC_HEAP "heap"
#define OSD_METRIC_FUNC "func" /* per traced user function; with "function" */

/* JSON-RPC 2.0 standard errors */
#define OSD_E_PARSE (-32700)
#define OSD_E_INVALID_REQUEST (-32600)
#define OSD_E_METHOD_NOT_FOUND (-32601)
#define OSD_E_INVALID_PARAMS (-32602)
#define OSD_E_INTERNAL (-32603)

/* Project errors */
#define OSD_E_NO_SUCH_PROCESS (-32000)
#define OSD_E_ALREADY_WATCHED (-32001)
#define OSD_E_NOT_WATCHED (-32002)
#define OSD_E_TOO_LARGE (-32003)
#define OSD_E_LIMIT (-32004)
#define OSD_E_PERMISSION (-32005)
#define OSD_E_BPF (-32006)
#define OSD_E_CONFIG (-32007)

/* Limits and defaults */
#define OSD_INTERVAL_MIN_MS 100
#define OSD_INTERVAL_MAX_MS 60000
#define OSD_INTERVAL_DEFAULT_MS 1000
#define OSD_RING_DEFAULT_CAP 86400 /* 24 h at 1 s */
#define OSD_MAX_TARGETS_DEFAULT 1024

/* osdctl exit codes */
#define OSD_EXIT_OK 0
#define OSD_EXIT_DAEMON_ERROR 1
#define OSD_EXIT_USAGE 2
#define OSD_EXIT_UNREACHABLE 3

#endif
