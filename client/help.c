/* help.c - see help.h. Option lines: two spaces, the option, two or more spaces, its
 * description; deeper-indented lines continue the description. */
#include "help.h"

#include <stddef.h>
#include <string.h>

static const char help_overall[] =
    "Usage: osdctl [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
    "\n"
    "Ask osdetd, the per-process OS anomaly detector, to watch processes, and show\n"
    "what it collected.\n"
    "\n"
    "Commands:\n"
    "  watch PID          start watching a process tree\n"
    "  watch --unit NAME | --cgroup PATH\n"
    "                     watch every process of a systemd unit or cgroup\n"
    "  watch --exec -- CMD [ARGS...]\n"
    "                     run CMD watched from its first instruction\n"
    "  unwatch PID        stop watching a target and discard its samples\n"
    "  list               list the watched targets\n"
    "  status             show the daemon's state, memory and limits\n"
    "  series PID         print the stored samples of a target\n"
    "  threads PID        show per-thread CPU, net, syscalls and heap of a target\n"
    "  syscalls PID       show per-syscall counts, errors and latency of a target\n"
    "  trace PID --syscalls | --uprobe BINARY:FUNCTION\n"
    "                     print a target's syscalls, or the calls and returns\n"
    "                     of a user function, as they happen\n"
    "  export PID --dir DIR\n"
    "                     write a target's samples as CSV files, one per family\n"
    "  anomalies          list the anomalies found; --follow shows new ones live\n"
    "  config [get]       show the daemon's configuration in force\n"
    "  config reload      make the daemon re-read its configuration file\n"
    "  analyze FILE.csv   detect anomalies in a CSV file offline (no daemon)\n"
    "  help [COMMAND]     show this help or the help of COMMAND\n"
    "\n"
    "Global options (before COMMAND):\n"
    "  --socket PATH      talk to osdetd at PATH (default: $OSDETD_SOCKET, else\n"
    "                     /run/osdetd/osdetd.sock)\n"
    "  --json             print JSON instead of text\n"
    "  --timeout SEC      give up when osdetd does not answer within SEC seconds\n"
    "                     (default 10; 0 waits forever)\n"
    "  -h, --help         show this help\n"
    "  --version          print the version\n"
    "\n"
    "Wherever a command takes PID, it also takes a unit name (a word with a '.',\n"
    "like nginx.service) or a cgroup path (starting with '/') of a cgroup target.\n"
    "\n"
    "Exit status: 0 success, 1 error reported by osdetd, 2 usage error,\n"
    "3 osdetd unreachable.\n"
    "Run 'osdctl help COMMAND' or 'osdctl COMMAND --help' for its options.\n";

static const char help_watch[] =
    "Usage: osdctl watch PID [OPTIONS]\n"
    "       osdctl watch --unit NAME [OPTIONS]\n"
    "       osdctl watch --cgroup PATH [OPTIONS]\n"
    "       osdctl watch [OPTIONS] --exec [--follow] -- CMD [ARGS...]\n"
    "\n"
    "Start watching process PID and, unless --no-children, its descendants.\n"
    "With --unit or --cgroup, watch every process of a cgroup v2 and of the\n"
    "cgroups below it, including processes that enter it later; the target lives\n"
    "while the cgroup exists. PID may also be written as a unit name (NAME.service)\n"
    "or a cgroup path (/sys/fs/cgroup/...).\n"
    "With --exec, start CMD stopped, watch it, then let it run, so none of its\n"
    "instructions runs unwatched; wait for CMD and exit with its exit status\n"
    "(128+N if signal N killed it).\n"
    "\n"
    "Options:\n"
    "  --cpu              collect CPU use and context switches\n"
    "  --mem              collect memory (RSS and virtual size)\n"
    "  --net              collect network bytes and calls (TCP and UDP, sent and\n"
    "                     received)\n"
    "  --syscall          collect syscall counts, errors and latency (see osdctl\n"
    "                     syscalls and osdctl trace)\n"
    "  --heap             collect the libc heap (live bytes, allocations) and\n"
    "                     report memory misuse as anomalies; naming\n"
    "                     any of --cpu, --mem, --net, --syscall and --heap collects\n"
    "                     only those, naming none collects cpu and mem\n"
    "  --heap-scope SCOPE where the heap probes go (default: the daemon's\n"
    "                     heap_scope, tree): tree = on the shared libc, every\n"
    "                     process using it pays ~4 us per malloc/free, children\n"
    "                     are exact from their first call; process = in the\n"
    "                     members only, other processes pay nothing, a new child\n"
    "                     is probed from its first sample on\n"
    "  --uprobe BINARY:FUNCTION\n"
    "                     count the calls and latency of a user function for the\n"
    "                     target's whole life (series --metric func); repeatable,\n"
    "                     up to 16\n"
    "  --no-children      do not watch descendants\n"
    "  --threads          also keep every collected family per thread\n"
    "                     (see osdctl threads)\n"
    "  --interval MS      sampling interval in milliseconds, 100..60000\n"
    "                     (default: the daemon's interval_ms)\n"
    "  --detector NAME    online anomaly detector: spot, cs, mad or none\n"
    "                     (default: the daemon's detector)\n"
    "  --no-detect        no anomaly detection (--detector none)\n"
    "  --stride N         points handed to the detector at a time, 1..100000;\n"
    "                     3 strides of normal points end an anomaly\n"
    "  --q RISK           SPOT risk, 0 < RISK < 0.5: the probability that a\n"
    "                     normal point exceeds the threshold (e.g. 1e-4)\n"
    "  --calib N          points used to calibrate SPOT before it scores (>= 20)\n"
    "  --window N         cs reconstruction window in points (>= 16)\n"
    "  --unit NAME        watch the cgroup of systemd unit NAME (e.g.\n"
    "                     nginx.service): system.slice/NAME under the cgroup2\n"
    "                     mount, else the one cgroup of that name\n"
    "  --cgroup PATH      watch the cgroup v2 directory PATH (absolute, or\n"
    "                     relative to the cgroup2 mount)\n"
    "  --exec             run CMD, given after --, under watch\n"
    "  --follow           with --exec: print samples while CMD runs, as\n"
    "                     series --follow does\n"
    "  --json             print JSON: the target object\n"
    "  -h, --help         show this help\n";

static const char help_unwatch[] =
    "Usage: osdctl unwatch PID|UNIT|CGROUP [OPTIONS]\n"
    "\n"
    "Stop watching the target rooted at PID (or watching unit UNIT, or cgroup\n"
    "path CGROUP) and discard its samples.\n"
    "\n"
    "Options:\n"
    "  --json             print JSON: the pid and the number of discarded samples\n"
    "  -h, --help         show this help\n";

static const char help_list[] =
    "Usage: osdctl list [OPTIONS]\n"
    "\n"
    "List the watched targets, oldest first: root pid (for a cgroup target its\n"
    "unit, else its cgroup path), command, state, processes in the tree, stored\n"
    "samples, last CPU and RSS, interval and age.\n"
    "\n"
    "Options:\n"
    "  --json             print JSON: the list of target objects\n"
    "  -h, --help         show this help\n";

static const char help_status[] =
    "Usage: osdctl status [OPTIONS]\n"
    "\n"
    "Show the daemon's version, uptime, socket, targets, clients, memory, BPF\n"
    "maps and configuration.\n"
    "\n"
    "Options:\n"
    "  --json             print JSON: the status object\n"
    "  -h, --help         show this help\n";

static const char help_series[] =
    "Usage: osdctl series PID|UNIT|CGROUP [OPTIONS]\n"
    "\n"
    "Print the samples stored for the target rooted at PID (or watching unit\n"
    "UNIT, or cgroup path CGROUP), oldest first.\n"
    "Text shows local time and humanised values; CSV and JSON keep epoch\n"
    "seconds and raw numbers.\n"
    "\n"
    "Options:\n"
    "  --metric FAMILY    cpu, mem, net, syscall, heap, func or all (default cpu);\n"
    "                     all joins the families the target collects, one row\n"
    "                     per time\n"
    "  --function BINARY:FUNCTION\n"
    "                     with --metric func: the traced user function (calls,\n"
    "                     avg_ns, p50_ns, p99_ns per interval)\n"
    "  --since DUR        only points from DUR ago on: 30s, 10m, 1h, 2d, 1w,\n"
    "                     1h30m or plain seconds (default: all stored points)\n"
    "  --until DUR        only points up to DUR ago\n"
    "  --limit N          only the newest N points\n"
    "  --csv              print CSV: a header row, then one row per point with\n"
    "                     the time in epoch seconds\n"
    "  --json             print JSON: the series object\n"
    "  --follow           keep printing new points every interval until the\n"
    "                     target has exited and no new points remain; Ctrl-C\n"
    "                     stops with status 0; --limit applies to the first\n"
    "                     batch only; with --json, one object per batch, one\n"
    "                     per line\n"
    "  -h, --help         show this help\n";

static const char help_threads[] =
    "Usage: osdctl threads PID|UNIT|CGROUP [OPTIONS]\n"
    "\n"
    "Show the threads of a target watched with --threads, busiest first: CPU and\n"
    "context switches over the last interval, and for each other family the target\n"
    "collects, the thread's own figures of that interval: NET-TX/NET-RX bytes\n"
    "(--net), SYSCALLS/ERRORS and the P99 latency (--syscall), HEAP-LIVE bytes it\n"
    "allocated and still holds, ALLOCS/FREES (--heap). --json also gives totals\n"
    "since the watch and each thread's most frequent syscalls.\n"
    "\n"
    "Options:\n"
    "  --sort KEY         cpu (default), net (bytes moved), syscall (calls) or\n"
    "                     heap (live bytes); ties go by the totals since the watch\n"
    "  --json             print JSON: the threads object\n"
    "  -h, --help         show this help\n";

static const char help_syscalls[] =
    "Usage: osdctl syscalls PID|UNIT|CGROUP [OPTIONS]\n"
    "\n"
    "Show per-syscall totals of a target watched with --syscall, since the watch\n"
    "began: calls, failed calls (returns of -4095..-1), total and average time,\n"
    "and the median and 99th-percentile latency.\n"
    "\n"
    "Options:\n"
    "  --sort KEY         count (most calls first; the default) or time (most\n"
    "                     total time first)\n"
    "  --limit N          only the first N syscalls\n"
    "  --json             print JSON: the syscalls object\n"
    "  -h, --help         show this help\n";

static const char help_trace[] =
    "Usage: osdctl trace PID|UNIT|CGROUP --syscalls [OPTIONS]\n"
    "       osdctl trace PID|UNIT|CGROUP --uprobe BINARY:FUNCTION [--enter FMT] [--return FMT]\n"
    "                    [OPTIONS]\n"
    "\n"
    "With --syscalls, print every syscall entry and exit of a target watched with\n"
    "--syscall as osdetd streams them. An entry is \"HH:MM:SS.uuuuuu TID\n"
    "NAME(ARGS)\" with the six raw arguments (decimal when small, else hex); an\n"
    "exit is \"HH:MM:SS.uuuuuu TID NAME = RET\" (a failure as \"-2 ENOENT\").\n"
    "\n"
    "With --uprobe, probe FUNCTION in BINARY (an ELF executable or library with\n"
    "FUNCTION in .symtab or .dynsym; an absolute or relative path, or the name\n"
    "of a file the target maps, e.g. libc.so.6) for the target and its children\n"
    "(any watched target), and print \"HH:MM:SS.uuuuuu TID BINARY:FUNCTION\n"
    "enter|return MESSAGE\" per call and return. The probe's call count and\n"
    "latency go to the target's series (osdctl series PID --metric func\n"
    "--function BINARY:FUNCTION), kept after the trace ends.\n"
    "\n"
    "Either runs until Ctrl-C, --count or --duration (status 0) or until osdetd\n"
    "closes the connection (status 3). Events that osdetd could not keep are\n"
    "counted in a warning on standard error.\n"
    "\n"
    "Options:\n"
    "  --syscalls         trace syscalls\n"
    "  --uprobe BINARY:FUNCTION\n"
    "                     trace a user function\n"
    "  --enter FMT        message at each call: a printf format, then the\n"
    "                     argument names (arg1..arg6) one per conversion, e.g.\n"
    "                     'n=%d name=%s arg1 arg2' or \"'n=%d' % (arg1)\";\n"
    "                     %d %i %u %x %ld %lu %lx %lld %llu %llx %p %s %c %%\n"
    "                     (default \"enter FUNCTION\")\n"
    "  --return FMT       message at each return, naming retval, e.g.\n"
    "                     'ret=%d retval' (default \"return FUNCTION ret=%ld\")\n"
    "  --count N          stop after N events\n"
    "  --duration S       stop after S seconds\n"
    "  --json             print JSON: the params of each notification, one object\n"
    "                     per line\n"
    "  -h, --help         show this help\n";

static const char help_export[] =
    "Usage: osdctl export PID|UNIT|CGROUP --dir DIR [OPTIONS]\n"
    "\n"
    "Write the samples of the target rooted at PID to DIR, one CSV file per\n"
    "metric family it collects (cpu.csv, mem.csv, net.csv, syscall.csv): a header\n"
    "row \"timestamp,COLUMN,...\", then one row per point with the time in epoch\n"
    "seconds. osdctl analyze reads these files. DIR is created if needed.\n"
    "\n"
    "Options:\n"
    "  --dir DIR          the directory to write to (required)\n"
    "  --since DUR        only points from DUR ago on: 30s, 10m, 1h, 2d, 1w,\n"
    "                     1h30m or plain seconds (default: all stored points)\n"
    "  --force            overwrite existing files (default: refuse, write nothing)\n"
    "  --json             print JSON: the files written, their rows and columns\n"
    "  -h, --help         show this help\n";

static const char help_anomalies[] =
    "Usage: osdctl anomalies [OPTIONS]\n"
    "\n"
    "List the anomalies osdetd found, oldest first, one line each: local start\n"
    "time, duration (\"ongoing\" while open), pid and command, metrics, peak score,\n"
    "threshold, detector and id.\n"
    "\n"
    "Options:\n"
    "  --since DUR        only anomalies that end DUR ago or later: 30s, 10m, 1h,\n"
    "                     2d, 1w, 1h30m or plain seconds (default: all kept)\n"
    "  --until DUR        only anomalies that start DUR ago or earlier\n"
    "  --pid PID          only anomalies of the target rooted at PID\n"
    "  --unit NAME        only anomalies of the target watching unit NAME\n"
    "  --cgroup PATH      only anomalies of the target watching cgroup PATH\n"
    "  --metric M         only anomalies whose metrics contain M (cpu, rss_bytes)\n"
    "  --limit N          only the newest N anomalies\n"
    "  --follow           after the history, print anomalies as they begin and\n"
    "                     end (\"ended\" lines) until Ctrl-C (status 0) or until\n"
    "                     osdetd closes the connection (status 3); not with\n"
    "                     --until\n"
    "  --json             print JSON: the anomalies object; with --follow one\n"
    "                     object per line, each anomaly of the history, then\n"
    "                     each notification ({\"event\": ..., \"anomaly\": ...})\n"
    "  -h, --help         show this help\n";

static const char help_config[] =
    "Usage: osdctl config [get] [OPTIONS]\n"
    "       osdctl config reload [OPTIONS]\n"
    "\n"
    "Show the configuration osdetd has in force, as key = value lines after the\n"
    "path of its file. With reload, make osdetd re-read that file first (root\n"
    "only; as SIGHUP does); an invalid file is refused, the daemon's message\n"
    "names the key, and the configuration in force stays.\n"
    "\n"
    "Options:\n"
    "  --json             print JSON: the path and the config object\n"
    "  -h, --help         show this help\n";

static const char help_help[] =
    "Usage: osdctl help [COMMAND]\n"
    "\n"
    "Show the overall help, or the help of COMMAND.\n";

const char *help_text(const char *cmd)
{
    static const struct {
        const char *name, *text;
    } texts[] = {
        { "watch", help_watch },   { "unwatch", help_unwatch }, { "list", help_list },
        { "status", help_status }, { "series", help_series },   { "threads", help_threads },
        { "anomalies", help_anomalies }, { "config", help_config }, { "syscalls", help_syscalls },
        { "trace", help_trace },   { "export", help_export },   { "help", help_help },
    };
    size_t i;

    if (!cmd)
        return help_overall;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (!strcmp(cmd, texts[i].name))
            return texts[i].text;
    }
    return NULL;
}
