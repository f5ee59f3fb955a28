/* test_detect_analyze.c - osd-analyze end to end: exit codes, row contract, JSON, stdin, -o. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "test_detect_util.h"

static const char *bin, *dir;

/* Run osd-analyze with args (shell words); stdout/stderr to files; returns exit code. */
static int sh(const char *args, const char *stdin_file)
{
    char cmd[5 * 4096 + 64]; /* room for every argument at its longest: -O3 checks it */
    int rc;

    snprintf(cmd, sizeof(cmd), "'%s' %s >'%s/out' 2>'%s/err' <'%s'", bin, args, dir, dir,
             stdin_file ? stdin_file : "/dev/null");
    rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *name)
{
    char path[4096];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        buf[0] = 0;
    fclose(f);
    return buf;
}

static void put(const char *name, const char *text)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A 1500-row two-metric CSV with ISO timestamps and one spike. */
static void make_input(void)
{
    char path[4096];
    FILE *f;
    unsigned long long seed = 4;

    snprintf(path, sizeof(path), "%s/in.csv", dir);
    f = fopen(path, "w");
    fputs("time,cpu,mem\n", f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, "2024-01-01T%02d:%02d:00Z,%.3f,%.3f\n", i / 60 % 24, i % 60,
                10 + t_norm(&seed) + (i == 1400 ? 15 : 0), 50 + t_norm(&seed));
    fclose(f);
}

int main(int argc, char **argv)
{
    char args[4096], *out, *err, path[4096];
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s OSD_ANALYZE TMPDIR\n", argv[0]);
        return 2;
    }
    bin = argv[1];
    dir = argv[2];
    mkdir(dir, 0755);
    make_input();

    rc = sh("--help", NULL);
    out = slurp("out");
    CHECK(rc == 0 && strstr(out, "Usage:"), "--help: expected exit 0 and usage, got %d", rc);
    free(out);

    rc = sh("", NULL);
    err = slurp("err");
    CHECK(rc == 2 && strstr(err, "missing FILE"), "no FILE: expected exit 2, got %d: %s", rc, err);
    free(err);

    snprintf(args, sizeof(args), "'%s/in.csv' --detector lstm", dir);
    rc = sh(args, NULL);
    CHECK(rc == 2, "unknown detector: expected exit 2, got %d", rc);
    snprintf(args, sizeof(args), "'%s/in.csv' --window 3 -d cs", dir);
    rc = sh(args, NULL);
    CHECK(rc == 2, "cs window 3: expected exit 2, got %d", rc);
    snprintf(args, sizeof(args), "'%s/in.csv' --q 2", dir);
    CHECK(sh(args, NULL) == 2, "--q 2: expected exit 2");
    snprintf(args, sizeof(args), "'%s/nonexistent.csv'", dir);
    CHECK(sh(args, NULL) == 2, "missing file: expected exit 2");

    put("bad.csv", "t,a\n1,2\n2,3\n3,x\n");
    snprintf(args, sizeof(args), "'%s/bad.csv'", dir);
    rc = sh(args, NULL);
    err = slurp("err");
    CHECK(rc == 2 && strstr(err, "line 4"), "bad cell: expected exit 2 naming line 4, got %d: %s",
          rc, err);
    free(err);
    /* a failed run must not leave a half-written -o file behind */
    snprintf(args, sizeof(args), "'%s/bad.csv' -o '%s/bad.out'", dir, dir);
    CHECK(sh(args, NULL) == 2, "bad input with -o: exit 2");
    snprintf(path, sizeof(path), "%s/bad.out", dir);
    CHECK(access(path, F_OK) != 0, "bad input: %s must not exist", path);

    /* the contract: header, one row per input row, timestamps echoed, 0/1 anomaly */
    for (int k = 0; k < 3; k++) {
        static const char *const dets[] = { "spot", "mad", "cs" };
        char *lines, *save = NULL, *ln;
        size_t row = 0;
        int bad = 0, flagged = 0;

        snprintf(args, sizeof(args), "'%s/in.csv' -d %s --calib 300", dir, dets[k]);
        rc = sh(args, NULL);
        out = slurp("out");
        CHECK(rc == 0, "%s: expected exit 0, got %d", dets[k], rc);
        CHECK(!strncmp(out, "timestamp,score,threshold,anomaly\n", 34), "%s: header wrong",
              dets[k]);
        CHECK(count_lines(out) == 1501, "%s: expected 1501 lines, got %zu", dets[k],
              count_lines(out));
        lines = out;
        for (ln = strtok_r(lines, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save), row++) {
            char want[64];
            const char *last = strrchr(ln, ',');

            if (row == 0)
                continue;
            snprintf(want, sizeof(want), "2024-01-01T%02zu:%02zu:00Z,", (row - 1) / 60 % 24,
                     (row - 1) % 60);
            if (strncmp(ln, want, strlen(want)) || !last || (strcmp(last, ",0") && strcmp(last, ",1")))
                bad++;
            if (row - 1 == 1400 && last && !strcmp(last, ",1"))
                flagged = 1;
        }
        CHECK(bad == 0, "%s: %d rows break the timestamp/anomaly contract", dets[k], bad);
        CHECK(flagged, "%s: the 15-sigma spike at row 1400 was not flagged", dets[k]);
        free(out);
    }

    /* stdin and -o, same bytes as the file path */
    {
        char *a, *b;

        snprintf(args, sizeof(args), "'%s/in.csv' -o '%s/file.out'", dir, dir);
        CHECK(sh(args, NULL) == 0, "-o: exit 0");
        snprintf(path, sizeof(path), "%s/in.csv", dir);
        CHECK(sh("-", path) == 0, "stdin: exit 0");
        a = slurp("file.out");
        b = slurp("out");
        CHECK(strlen(a) > 0 && !strcmp(a, b), "stdin output differs from file output");
        free(a);
        free(b);
    }

    /* cs is deterministic for a given seed */
    {
        char *a, *b;

        snprintf(args, sizeof(args), "'%s/in.csv' -d cs --seed 7 -o '%s/s1.out'", dir, dir);
        CHECK(sh(args, NULL) == 0, "cs seed run 1");
        snprintf(args, sizeof(args), "'%s/in.csv' -d cs --seed 7 -o '%s/s2.out'", dir, dir);
        CHECK(sh(args, NULL) == 0, "cs seed run 2");
        a = slurp("s1.out");
        b = slurp("s2.out");
        CHECK(strlen(a) > 0 && !strcmp(a, b), "cs --seed 7: two runs differ");
        free(a);
        free(b);
    }

    /* JSON: rows plus a summary, valid for jansson */
    {
        json_error_t je;
        json_t *root, *rows, *sum;

        snprintf(args, sizeof(args), "'%s/in.csv' --json --calib 300", dir);
        CHECK(sh(args, NULL) == 0, "--json: exit 0");
        snprintf(path, sizeof(path), "%s/out", dir);
        root = json_load_file(path, 0, &je);
        CHECK(root != NULL, "--json: not valid JSON: %s (line %d)", je.text, je.line);
        rows = json_object_get(root, "rows");
        sum = json_object_get(root, "summary");
        CHECK(json_is_array(rows) && json_array_size(rows) == 1500,
              "--json: expected 1500 rows, got %zu", json_array_size(rows));
        CHECK(json_is_object(sum) &&
                  json_integer_value(json_object_get(sum, "rows")) == 1500 &&
                  json_integer_value(json_object_get(sum, "anomalies")) >= 1,
              "--json: summary must count 1500 rows and >= 1 anomaly");
        CHECK(json_is_null(json_object_get(json_array_get(rows, 0), "threshold")),
              "--json: threshold during calibration must be null");
        {
            json_t *r1400 = json_array_get(rows, 1400);
            const char *top = json_string_value(json_array_get(json_object_get(r1400, "top"), 0));

            CHECK(json_integer_value(json_object_get(r1400, "anomaly")) == 1 && top &&
                      !strcmp(top, "cpu"),
                  "--json: row 1400 should be an anomaly with top dim 'cpu'");
        }
        json_decref(root);
    }
    return t_done("test_detect_analyze");
}
