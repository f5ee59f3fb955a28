/* test_detect_accuracy.c - point-adjusted F1 and false-alarm rate of `analyze` on the synthetic suite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"

/*
 * Usage: test_detect_accuracy SUITE_DIR [--min-f1 F] [--max-far R] [-- analyze options]
 * A segment is detected when an alarm falls in [start, start+60); alarms in
 * [start, max(end, start+59)] belong to it; every other alarm point is a false positive.
 * F1 over the anomalous files, false-alarm rate (alarm points / points) over the clean ones.
 */

#define DETECT_SLACK 60

struct seg {
    size_t start, end;
    char kind[16];
};

static const char *const kinds[] = { "spike", "level", "variance", "drift" };
static size_t kind_tot[4], kind_hit[4];

static int read_labels(const char *path, struct seg **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        struct seg s;

        if (line[0] == '#')
            continue;
        s.kind[0] = 0;
        if (sscanf(line, "%zu %zu %15s", &s.start, &s.end, s.kind) < 2)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = realloc(*out, cap * sizeof(**out));
            if (!*out) {
                fclose(f);
                return -ENOMEM;
            }
        }
        (*out)[(*n)++] = s;
    }
    fclose(f);
    return 0;
}

/* Alarm column of an analyze CSV output; checks the row count against the input. */
static int read_alarms(const char *path, unsigned char **alarm, size_t *rows)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, acap = 0;
    ssize_t len;

    *alarm = NULL;
    if (!f)
        return -errno;
    if (getline(&line, &cap, f) < 0 || strcmp(line, "timestamp,score,threshold,anomaly\n")) {
        fprintf(stderr, "FAIL: %s: expected header 'timestamp,score,threshold,anomaly', got '%s'\n",
                path, line ? line : "(nothing)");
        free(line);
        fclose(f);
        return -EINVAL;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        char *comma = strrchr(line, ',');

        if (n == acap) {
            acap = acap ? acap * 2 : 4096;
            *alarm = realloc(*alarm, acap);
            if (!*alarm)
                return -ENOMEM;
        }
        if (!comma || (comma[1] != '0' && comma[1] != '1')) {
            fprintf(stderr, "FAIL: %s: row %zu has no 0/1 anomaly field: %s", path, n + 1, line);
            free(line);
            fclose(f);
            return -EINVAL;
        }
        (*alarm)[n++] = comma[1] == '1';
    }
    free(line);
    fclose(f);
    *rows = n;
    return 0;
}

static size_t count_data_rows(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c, prev = '\n';

    if (!f)
        return 0;
    while ((c = getc(f)) != EOF) {
        if (c == '\n')
            n++;
        prev = c;
    }
    if (prev != '\n')
        n++;
    fclose(f);
    return n ? n - 1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir;
    double min_f1 = -1, max_far = -1;
    char **extra = NULL;
    int n_extra = 0, fails = 0;
    size_t tp = 0, fn = 0, fp = 0, anom_points = 0, clean_alarms = 0, clean_points = 0;
    char path[4096], outp[4096];
    char csvn[512], labn[512], type[64];
    FILE *man;
    struct timespec t0, t1;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SUITE_DIR [--min-f1 F] [--max-far R] [-- analyze opts]\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--min-f1") && i + 1 < argc) {
            min_f1 = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--max-far") && i + 1 < argc) {
            max_far = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--")) {
            extra = argv + i + 1;
            n_extra = argc - i - 1;
            break;
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    snprintf(path, sizeof(path), "%s/suite.lst", dir);
    man = fopen(path, "r");
    if (!man) {
        fprintf(stderr, "FAIL: cannot open %s: %s (run osd-gen-suite first)\n", path, strerror(errno));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (fscanf(man, "%511s %511s %63s", csvn, labn, type) == 3) {
        char *av[32];
        int ac = 0, rc;
        unsigned char *alarm = NULL;
        size_t rows = 0, in_rows, n_seg = 0, f_tp = 0, f_fp = 0;
        struct seg *segs = NULL;
        int clean = !strcmp(type, "clean");

        snprintf(path, sizeof(path), "%s/%s", dir, csvn);
        snprintf(outp, sizeof(outp), "%s/%s.out", dir, csvn);
        av[ac++] = "analyze";
        av[ac++] = path;
        av[ac++] = "-o";
        av[ac++] = outp;
        for (int i = 0; i < n_extra && ac < 31; i++)
            av[ac++] = extra[i];
        av[ac] = NULL;
        rc = analyze_main(ac, av);
        if (rc != 0) {
            fprintf(stderr, "FAIL: analyze %s exited %d, expected 0\n", csvn, rc);
            fails++;
            continue;
        }
        if (read_alarms(outp, &alarm, &rows)) {
            fails++;
            continue;
        }
        in_rows = count_data_rows(path);
        if (rows != in_rows) {
            fprintf(stderr, "FAIL: %s: %zu output rows, expected one per input row (%zu)\n", csvn,
                    rows, in_rows);
            fails++;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, labn);
        if (read_labels(path, &segs, &n_seg)) {
            fprintf(stderr, "FAIL: cannot read labels %s\n", path);
            fails++;
            free(alarm);
            continue;
        }
        {
            unsigned char *own = calloc(rows ? rows : 1, 1);

            for (size_t s = 0; s < n_seg; s++) {
                size_t end = segs[s].end > segs[s].start + DETECT_SLACK - 1
                                 ? segs[s].end
                                 : segs[s].start + DETECT_SLACK - 1;
                int hit = 0;

                for (size_t t = segs[s].start; t <= end && t < rows; t++) {
                    own[t] = 1;
                    if (alarm[t] && t < segs[s].start + DETECT_SLACK)
                        hit = 1;
                }
                f_tp += hit;
                for (int kk = 0; kk < 4; kk++) {
                    if (!strcmp(segs[s].kind, kinds[kk])) {
                        kind_tot[kk]++;
                        kind_hit[kk] += hit;
                    }
                }
                if (!hit && getenv("ACC_VERBOSE"))
                    fprintf(stderr, "  missed %s [%zu,%zu]\n", csvn, segs[s].start, segs[s].end);
            }
            for (size_t t = 0; t < rows; t++) {
                if (alarm[t] && !own[t]) {
                    f_fp++;
                    if (getenv("ACC_VERBOSE") && f_fp <= 5)
                        fprintf(stderr, "  false alarm %s row %zu\n", csvn, t);
                }
            }
            free(own);
        }
        if (clean) {
            clean_alarms += f_fp;
            clean_points += rows;
        } else {
            tp += f_tp;
            fn += n_seg - f_tp;
            fp += f_fp;
            anom_points += rows;
        }
        printf("%-22s %-9s rows %6zu segments %3zu detected %3zu false-alarm points %4zu\n", csvn,
               type, rows, n_seg, f_tp, f_fp);
        free(alarm);
        free(segs);
        unlink(outp);
    }
    fclose(man);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    {
        double prec = tp + fp ? (double)tp / (tp + fp) : 0;
        double rec = tp + fn ? (double)tp / (tp + fn) : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        double far = clean_points ? (double)clean_alarms / clean_points : 0;
        double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

        printf("anomalous suite: %zu points, segments %zu, detected %zu, missed %zu, false-alarm "
               "points %zu\n", anom_points, tp + fn, tp, fn, fp);
        printf("precision %.4f recall %.4f F1 %.4f\n", prec, rec, f1);
        printf("recall by kind:");
        for (int kk = 0; kk < 4; kk++)
            printf(" %s %zu/%zu", kinds[kk], kind_hit[kk], kind_tot[kk]);
        printf("\n");
        printf("clean suite: %zu points, %zu alarm points, false-alarm rate %.4f%%\n", clean_points,
               clean_alarms, 100 * far);
        printf("elapsed %.2f s\n", secs);
        if (tp + fn == 0) {
            fprintf(stderr, "FAIL: the suite holds no anomaly segment\n");
            fails++;
        }
        if (min_f1 >= 0 && !(f1 >= min_f1)) {
            fprintf(stderr, "FAIL: F1 expected >= %.3f, got %.4f\n", min_f1, f1);
            fails++;
        }
        if (max_far >= 0 && !(far <= max_far)) {
            fprintf(stderr, "FAIL: false-alarm rate on clean series expected <= %.4f%%, got %.4f%%\n",
                    100 * max_far, 100 * far);
            fails++;
        }
    }
    return fails ? 1 : 0;
}
