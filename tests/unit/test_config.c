/* test_config.c - defaults, overlay, and an error naming the key for each bad value. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static void expect_bad(const char *text, const char *needle)
{
    struct config c;
    char err[256] = "";

    config_defaults(&c);
    c.interval_ms = 777;
    CHECK_INT(config_parse(&c, text, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, needle), "%s: error \"%s\" should mention \"%s\"", text, err, needle);
    CHECK_INT(c.interval_ms, 777); /* a refused config changes nothing */
}

int main(void)
{
    struct config c;
    char err[256];
    char path[] = "/tmp/osd-test-config-XXXXXX";
    int fd;

    config_defaults(&c);
    CHECK_STR(c.socket, "/run/osdetd/osdetd.sock");
    CHECK_INT(c.interval_ms, 1000);
    CHECK_INT(c.ring_capacity, 86400);
    CHECK_INT(config_parse(&c, "{\"interval_ms\": 250, \"socket\": \"/tmp/x.sock\", \"log_level\": \"debug\"}", err,
                           sizeof(err)),
              0);
    CHECK_INT(c.interval_ms, 250);
    CHECK_STR(c.socket, "/tmp/x.sock");
    CHECK_INT(c.log_level, 7);
    CHECK_INT(c.ring_capacity, 86400); /* untouched keys keep their value */

    expect_bad("{\"interval_ms\": 5}", "'interval_ms' must be between 100 and 60000, got 5");
    expect_bad("{\"interval_ms\": \"fast\"}", "'interval_ms' must be an integer");
    expect_bad("{\"ring_capacity\": 0}", "'ring_capacity'");
    expect_bad("{\"socket\": \"\"}", "'socket' must be a non-empty string");
    expect_bad("{\"interval_ms\": 200, \"colour\": 1}", "unknown key 'colour'");
    expect_bad("{\"log_level\": \"loud\"}", "'log_level'");
    expect_bad("[1,2]", "JSON object");

    /* syscall latency windows: defaults, bounds, and the window shorter than its period */
    config_defaults(&c);
    CHECK_INT(c.syscall_latency_window_ms, 50);
    CHECK_INT(c.syscall_latency_period_ms, 1000);
    CHECK_INT(config_parse(&c, "{\"syscall_latency_window_ms\": 0}", err, sizeof(err)), 0);
    CHECK_INT(c.syscall_latency_window_ms, 0); /* 0: timed at any moment */
    CHECK_INT(config_parse(&c, "{\"syscall_latency_window_ms\": 200, \"syscall_latency_period_ms\": 400}", err,
                           sizeof(err)),
              0);
    CHECK_INT(c.syscall_latency_window_ms, 200);
    CHECK_INT(c.syscall_latency_period_ms, 400);
    expect_bad("{\"syscall_latency_window_ms\": -1}", "'syscall_latency_window_ms' must be between 0 and 60000, got -1");
    expect_bad("{\"syscall_latency_period_ms\": 50}", "'syscall_latency_period_ms' must be between 100 and 60000, got 50");
    expect_bad("{\"syscall_latency_window_ms\": 1.5}", "'syscall_latency_window_ms' must be an integer");
    expect_bad("{\"syscall_latency_window_ms\": 1000}",
               "'syscall_latency_window_ms' (1000) must be less than 'syscall_latency_period_ms' (1000)");
    expect_bad("{\"syscall_latency_window_ms\": 300, \"syscall_latency_period_ms\": 200}",
               "'syscall_latency_window_ms' (300) must be less than 'syscall_latency_period_ms' (200)");
    expect_bad("{\"interval_ms\": 200,", "line 1");

    fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    CHECK_INT(write(fd, "{\"max_targets\": 3}\n", 19), 19);
    close(fd);
    CHECK_INT(config_load(&c, path, err, sizeof(err)), 0);
    CHECK_INT(c.max_targets, 3);
    unlink(path);
    CHECK_INT(config_load(&c, path, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, path) != NULL, "error names the file: %s", err);
    CHECK_DONE();
}
