/* test_client_args.c - value parsing (durations, pids, integers, seconds) and the option
 * iterator of osdctl. */
#include <errno.h>
#include <stdint.h>

#include "args.h"
#include "check.h"
#include "opts.h"

static void duration_ok(const char *s, int64_t want)
{
    int64_t got = -12345;
    int err = args_parse_duration(s, &got);

    CHECK(err == 0 && got == want, "duration '%s': expected 0 and %lld s, got %d and %lld s", s, (long long)want, err,
          (long long)got);
}

static void duration_bad(const char *s, int want_err)
{
    int64_t got = -12345;
    int err = args_parse_duration(s, &got);

    CHECK(err == want_err, "duration '%s': expected error %d, got %d (value %lld)", s, want_err, err, (long long)got);
    CHECK(got == -12345, "duration '%s': output written on error (%lld)", s, (long long)got);
}

static void test_durations(void)
{
    duration_ok("30s", 30);
    duration_ok("10m", 600);
    duration_ok("1h", 3600);
    duration_ok("2d", 172800);
    duration_ok("1w", 604800);
    duration_ok("45", 45);
    duration_ok("0", 0);
    duration_ok("0s", 0);
    duration_ok("1h30m", 5400);
    duration_ok("1d2h3m4s", 93784);
    duration_ok("007m", 420);
    duration_ok("9223372036854775807", INT64_MAX);
    duration_ok("106751991167300d", 106751991167300LL * 86400);

    duration_bad("", -EINVAL);
    duration_bad("m", -EINVAL);
    duration_bad("10x", -EINVAL);
    duration_bad("10M", -EINVAL);
    duration_bad("-5", -EINVAL);
    duration_bad("+5", -EINVAL);
    duration_bad(" 10", -EINVAL);
    duration_bad("10 ", -EINVAL);
    duration_bad("1.5h", -EINVAL);
    duration_bad("1h30", -EINVAL);  /* a bare number after a unit is ambiguous */
    duration_bad("30m1h", -EINVAL); /* units largest first */
    duration_bad("1m1m", -EINVAL);
    duration_bad("10ms", -EINVAL);
    duration_bad("9223372036854775808", -ERANGE);
    duration_bad("99999999999999999999s", -ERANGE);
    duration_bad("106751991167301d", -ERANGE); /* fits as a number, overflows as seconds */
    duration_bad("9223372036854775807s1", -EINVAL);
    duration_bad("106751991167300d99999999999999h", -ERANGE); /* the sum overflows */
}

static void test_pids(void)
{
    static const struct {
        const char *s;
        int err;
        pid_t pid;
    } cases[] = {
        { "1", 0, 1 },        { "4194304", 0, 4194304 }, { "2147483647", 0, 2147483647 },
        { "0", -ERANGE, 0 },  { "2147483648", -ERANGE, 0 }, { "99999999999999999999", -ERANGE, 0 },
        { "-1", -EINVAL, 0 }, { "+5", -EINVAL, 0 },       { "abc", -EINVAL, 0 },
        { "12a", -EINVAL, 0 }, { "", -EINVAL, 0 },        { " 5", -EINVAL, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pid_t pid = -7;
        int err = args_parse_pid(cases[i].s, &pid);

        CHECK(err == cases[i].err, "pid '%s': expected error %d, got %d", cases[i].s, cases[i].err, err);
        if (!cases[i].err)
            CHECK(pid == cases[i].pid, "pid '%s': expected %d, got %d", cases[i].s, (int)cases[i].pid, (int)pid);
        else
            CHECK(pid == -7, "pid '%s': output written on error", cases[i].s);
    }
}

static void test_ints_and_seconds(void)
{
    long long v = 0;
    double d = -1;

    CHECK_INT(args_parse_int("100", 100, 60000, &v), 0);
    CHECK_INT(v, 100);
    CHECK_INT(args_parse_int("60000", 100, 60000, &v), 0);
    CHECK_INT(args_parse_int("99", 100, 60000, &v), -ERANGE);
    CHECK_INT(args_parse_int("60001", 100, 60000, &v), -ERANGE);
    CHECK_INT(args_parse_int("-3", -5, 5, &v), 0);
    CHECK_INT(v, -3);
    CHECK_INT(args_parse_int("-3", 0, 5, &v), -EINVAL);
    CHECK_INT(args_parse_int("1e3", 0, 5000, &v), -EINVAL);

    CHECK_INT(args_parse_seconds("10", 86400, &d), 0);
    CHECK(d == 10, "seconds '10': got %g", d);
    CHECK_INT(args_parse_seconds("0.25", 86400, &d), 0);
    CHECK(d == 0.25, "seconds '0.25': got %g", d);
    CHECK_INT(args_parse_seconds("0", 86400, &d), 0);
    CHECK_INT(args_parse_seconds("86401", 86400, &d), -ERANGE);
    CHECK_INT(args_parse_seconds("-1", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("1e3", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("0x10", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("inf", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("nan", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("5s", 86400, &d), -EINVAL);
    CHECK_INT(args_parse_seconds("", 86400, &d), -EINVAL);

    /* Reals (watch --q): exponents are fine, signs, hex, inf and nan are not. */
    CHECK_INT(args_parse_real("1e-4", &d), 0);
    CHECK(d == 1e-4, "real '1e-4': got %g", d);
    CHECK_INT(args_parse_real("0.001", &d), 0);
    CHECK(d == 0.001, "real '0.001': got %g", d);
    CHECK_INT(args_parse_real(".25", &d), 0);
    CHECK(d == 0.25, "real '.25': got %g", d);
    CHECK_INT(args_parse_real("-0.1", &d), -EINVAL);
    CHECK_INT(args_parse_real("+0.1", &d), -EINVAL);
    CHECK_INT(args_parse_real("0x1p-3", &d), -EINVAL);
    CHECK_INT(args_parse_real("inf", &d), -EINVAL);
    CHECK_INT(args_parse_real("nan", &d), -EINVAL);
    CHECK_INT(args_parse_real("1e-4x", &d), -EINVAL);
    CHECK_INT(args_parse_real(".", &d), -EINVAL);
    CHECK_INT(args_parse_real("", &d), -EINVAL);
    CHECK_INT(args_parse_real("1e999", &d), -ERANGE);
}

enum { K_A = 1, K_B, K_H };

static const struct opt_def defs[] = {
    { "alpha", 0, 0, K_A },
    { "beta", 'b', 1, K_B },
    { "help", 'h', 0, K_H },
    { NULL, 0, 0, 0 },
};

static void test_opts(void)
{
    char *argv[] = { "cmd", "--alpha", "p1", "--beta", "x", "-b", "y", "--beta=z", "-h", "p2", "--", "--alpha", "-",
                     NULL };
    int argc = sizeof(argv) / sizeof(argv[0]) - 1;
    static const struct {
        int key;
        const char *arg;
    } want[] = {
        { K_A, NULL }, { OPTS_POS, "p1" }, { K_B, "x" }, { K_B, "y" },          { K_B, "z" },
        { K_H, NULL }, { OPTS_POS, "p2" }, { OPTS_POS, "--alpha" }, { OPTS_POS, "-" }, { OPTS_END, NULL },
    };
    struct opts o;
    size_t i;

    opts_init(&o, argc, argv, 1, defs);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int key = opts_next(&o);

        CHECK(key == want[i].key, "step %zu: expected key %d, got %d (%s)", i, want[i].key, key, o.err);
        if (want[i].arg)
            CHECK_STR(o.arg, want[i].arg);
    }

    {
        char *bad1[] = { "cmd", "--gamma", NULL };
        char *bad2[] = { "cmd", "--beta", NULL };
        char *bad3[] = { "cmd", "--alpha=1", NULL };
        char *bad4[] = { "cmd", "-x", NULL };
        char *bad5[] = { "cmd", "-hb", NULL };
        char *bad6[] = { "cmd", "--gamma=5", NULL };

        opts_init(&o, 2, bad1, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        CHECK_STR(o.err, "unknown option '--gamma'");
        opts_init(&o, 2, bad2, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        CHECK_STR(o.err, "option '--beta' needs a value");
        opts_init(&o, 2, bad3, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        CHECK_STR(o.err, "option '--alpha' takes no value");
        opts_init(&o, 2, bad4, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        CHECK_STR(o.err, "unknown option '-x'");
        opts_init(&o, 2, bad5, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        opts_init(&o, 2, bad6, 1, defs);
        CHECK_INT(opts_next(&o), OPTS_ERR);
        CHECK_STR(o.err, "unknown option '--gamma'");
    }
}

int main(void)
{
    test_durations();
    test_pids();
    test_ints_and_seconds();
    test_opts();
    CHECK_DONE();
}
