/* analyze_cli.c - `osdctl analyze FILE.csv`: stream a CSV through a detector, one output row per input row. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "analyze.h"
#include "csv.h"
#include "detector.h"

#define AN_CHUNK 4096
#define AN_DEFAULT_DETECTOR DET_SPOT

static const char an_usage[] =
    "Usage: osdctl analyze FILE.csv [options]\n"
    "Detect anomalies offline in a CSV (FILE '-' reads stdin).\n"
    "Input: header row; first column a timestamp (epoch seconds, 'YYYY-MM-DD HH:MM:SS'\n"
    "or ISO 8601), every other column a number. Output: CSV\n"
    "'timestamp,score,threshold,anomaly', one row per input row, in order.\n"
    "\n"
    "  -d, --detector cs|spot|mad  detector (default: spot, the most accurate measured)\n"
    "  -w, --window N     cs: reconstruction window (128); mad: baseline points (120);\n"
    "                     spot: DSPOT local-model depth, 0 = plain SPOT (90)\n"
    "  -s, --stride N     cs: new points per reconstruction (32)\n"
    "  -q, --q RISK       SPOT risk per point, 0 < RISK < 1 (1e-4)\n"
    "      --calib N      SPOT calibration batch, points from the stream (1000)\n"
    "      --seed N       random seed of cs (1); same seed, same output\n"
    "      --set NAME=VAL advanced parameter (see docs/DETECTION.md), repeatable\n"
    "  -j, --json         JSON object {detector, columns, rows[], summary} instead of CSV\n"
    "  -o, --output OUT   write to OUT (replaced atomically) instead of stdout\n"
    "  -h, --help         this text\n"
    "Exit: 0 ok, 2 usage or input error (the message names the line), 1 other failure.\n"
    "Score and threshold are 'nan' (JSON null) while a detector warms up or calibrates.\n";

struct an_opts {
    struct det_params p;
    const char *in, *out;
    int json;
    long window, stride, calib;
    double q;
    uint64_t seed;
    int have_seed;
    const char *set[16]; /* --set NAME=VALUE, applied after the defaults */
    int n_set;
};

/* FIFO of timestamps whose result has not come out of the detector yet. */
struct ts_fifo {
    char **v;
    size_t cap, head, len;
};

static int fifo_push(struct ts_fifo *f, const char *s)
{
    char *c;

    if (f->len == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 1024;
        char **nv = malloc(ncap * sizeof(char *));

        if (!nv)
            return -ENOMEM;
        for (size_t i = 0; i < f->len; i++)
            nv[i] = f->v[(f->head + i) % f->cap];
        free(f->v);
        f->v = nv;
        f->cap = ncap;
        f->head = 0;
    }
    c = strdup(s);
    if (!c)
        return -ENOMEM;
    f->v[(f->head + f->len) % f->cap] = c;
    f->len++;
    return 0;
}

static char *fifo_pop(struct ts_fifo *f)
{
    char *s = f->v[f->head];

    f->head = (f->head + 1) % f->cap;
    f->len--;
    return s;
}

static void fifo_free(struct ts_fifo *f)
{
    while (f->len)
        free(fifo_pop(f));
    free(f->v);
}

struct an_state {
    const struct an_opts *o;
    struct csv_reader *csv;
    FILE *out;
    struct ts_fifo ts;
    struct det_result *res;
    uint64_t rows, anomalies, segments;
    int in_segment;
    char *first_anom, *last_anom;
    uint64_t *top_count;
    size_t n_dims;
};

static int parse_long(const char *s, long min, long max, long *v)
{
    char *end;
    long x;

    errno = 0;
    x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < min || x > max)
        return -EINVAL;
    *v = x;
    return 0;
}

static int parse_opts(int argc, char **argv, struct an_opts *o)
{
    static const struct option lopts[] = {
        { "detector", required_argument, NULL, 'd' },
        { "window", required_argument, NULL, 'w' },
        { "stride", required_argument, NULL, 's' },
        { "q", required_argument, NULL, 'q' },
        { "calib", required_argument, NULL, 'C' },
        { "seed", required_argument, NULL, 'S' },
        { "json", no_argument, NULL, 'j' },
        { "output", required_argument, NULL, 'o' },
        { "set", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    enum det_kind kind = AN_DEFAULT_DETECTOR;
    int c;

    memset(o, 0, sizeof(*o));
    o->window = o->stride = o->calib = -1;
    o->q = NAN;
    optind = 0; /* full re-initialisation: osdctl may have run getopt already */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:w:s:q:o:jh", lopts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'd':
            if (det_kind_parse(optarg, &kind)) {
                fprintf(stderr, "analyze: unknown detector '%s' (want cs, spot or mad)\n", optarg);
                return -EINVAL;
            }
            break;
        case 'w':
            if (parse_long(optarg, 0, 1000000, &o->window)) {
                fprintf(stderr, "analyze: --window wants an integer 0..1000000, got '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 's':
            if (parse_long(optarg, 1, 1000000, &o->stride)) {
                fprintf(stderr, "analyze: --stride wants an integer >= 1, got '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'C':
            if (parse_long(optarg, 10, 100000000, &o->calib)) {
                fprintf(stderr, "analyze: --calib wants an integer >= 10, got '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'q':
            errno = 0;
            o->q = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o->q > 0 && o->q < 1)) {
                fprintf(stderr, "analyze: --q wants a risk 0 < q < 1, got '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'S': {
            unsigned long long v;

            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "analyze: --seed wants a non-negative integer, got '%s'\n", optarg);
                return -EINVAL;
            }
            o->seed = v;
            o->have_seed = 1;
            break;
        }
        case 'P':
            if (o->n_set == 16 || !strchr(optarg, '=')) {
                fprintf(stderr, "analyze: --set wants NAME=VALUE (at most 16), got '%s'\n", optarg);
                return -EINVAL;
            }
            o->set[o->n_set++] = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'h':
            fputs(an_usage, stdout);
            return 1;
        default:
            if (optopt && strchr("dwsqo", optopt))
                fprintf(stderr, "analyze: option -%c needs a value\n", optopt);
            else
                fprintf(stderr, "analyze: unknown option '%s'\n", argv[optind - 1]);
            fputs("Try 'osdctl analyze --help'.\n", stderr);
            return -EINVAL;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "analyze: missing FILE.csv (use '-' for stdin)\n");
        fputs("Try 'osdctl analyze --help'.\n", stderr);
        return -EINVAL;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "analyze: unexpected argument '%s' after FILE\n", argv[optind + 1]);
        return -EINVAL;
    }
    o->in = argv[optind];
    o->p.kind = kind;
    return 0;
}

/* One advanced --set NAME=VALUE; names are the det_params fields. */
static int apply_set(struct det_params *p, const char *kv)
{
    static const struct {
        const char *name;
        int is_size;
        size_t off;
    } tab[] = {
        { "depth", 1, offsetof(struct det_params, depth) },
        { "two_sided", 2, offsetof(struct det_params, two_sided) },
        { "relearn", 1, offsetof(struct det_params, relearn) },
        { "trend", 2, offsetof(struct det_params, trend) },
        { "gap", 1, offsetof(struct det_params, gap) },
        { "init_level", 0, offsetof(struct det_params, init_level) },
        { "floor_rel", 0, offsetof(struct det_params, floor_rel) },
        { "mad_window", 1, offsetof(struct det_params, mad_window) },
        { "mad_k", 0, offsetof(struct det_params, mad_k) },
        { "sample_ratio", 0, offsetof(struct det_params, sample_ratio) },
        { "sparsity", 1, offsetof(struct det_params, sparsity) },
        { "cluster_thresh", 0, offsetof(struct det_params, cluster_thresh) },
        { "lesinn_t", 1, offsetof(struct det_params, lesinn_t) },
        { "lesinn_phi", 1, offsetof(struct det_params, lesinn_phi) },
        { "solver", 3, offsetof(struct det_params, solver) },
    };
    const char *eq = strchr(kv, '=');
    size_t nlen = (size_t)(eq - kv);
    const char *val = eq + 1;
    char *end;

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        char *field = (char *)p + tab[i].off;

        if (strlen(tab[i].name) != nlen || strncmp(tab[i].name, kv, nlen))
            continue;
        errno = 0;
        if (tab[i].is_size == 3) {
            if (!strcmp(val, "omp"))
                *(enum det_solver *)(void *)field = DET_SOLVER_OMP;
            else if (!strcmp(val, "fista"))
                *(enum det_solver *)(void *)field = DET_SOLVER_FISTA;
            else
                return -EINVAL;
        } else if (tab[i].is_size) {
            unsigned long v = strtoul(val, &end, 10);

            if (errno || end == val || *end || val[0] == '-')
                return -EINVAL;
            if (tab[i].is_size == 2)
                *(int *)(void *)field = v != 0;
            else
                *(size_t *)(void *)field = v;
        } else {
            double v = strtod(val, &end);

            if (errno || end == val || *end || !isfinite(v))
                return -EINVAL;
            *(double *)(void *)field = v;
        }
        return 0;
    }
    return -ENOENT;
}

/* Apply the command-line overrides onto the detector defaults for n_dims. */
static int build_params(struct an_opts *o, size_t n_dims)
{
    enum det_kind kind = o->p.kind;

    det_params_default(&o->p, kind, n_dims);
    if (o->window >= 0) {
        if (kind == DET_CS)
            o->p.window = (size_t)o->window;
        else if (kind == DET_MAD)
            o->p.mad_window = (size_t)o->window;
        else
            o->p.depth = (size_t)o->window;
    }
    if (o->stride > 0)
        o->p.stride = (size_t)o->stride;
    if (kind == DET_CS && o->window >= 0 && o->stride <= 0 && o->p.stride > o->p.window)
        o->p.stride = o->p.window / 4 ? o->p.window / 4 : 1;
    if (o->calib > 0)
        o->p.calib = (size_t)o->calib;
    if (!isnan(o->q))
        o->p.q = o->q;
    if (o->have_seed)
        o->p.seed = o->seed;
    for (int i = 0; i < o->n_set; i++) {
        if (apply_set(&o->p, o->set[i])) {
            fprintf(stderr, "analyze: --set %s: unknown name or bad value (names: depth, "
                            "two_sided, init_level, floor_rel, mad_window, mad_k, sample_ratio, sparsity, "
                            "cluster_thresh, lesinn_t, lesinn_phi, solver=omp|fista)\n", o->set[i]);
            return -EINVAL;
        }
    }
    if (det_params_check(&o->p)) {
        if (kind == DET_CS)
            fprintf(stderr, "analyze: invalid cs parameters: need 16 <= window <= 4096 and "
                            "1 <= stride <= window (window %zu, stride %zu)\n",
                    o->p.window, o->p.stride);
        else if (kind == DET_MAD)
            fprintf(stderr, "analyze: invalid mad parameters: need window >= 3 (got %zu)\n",
                    o->p.mad_window);
        else
            fprintf(stderr, "analyze: invalid spot parameters\n");
        return -EINVAL;
    }
    return 0;
}

static void put_number(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else
        fprintf(f, "%.6g", v);
}

/* Echo a timestamp as given, quoting it only if CSV needs it. */
static void put_ts(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static json_t *json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int emit_rows(struct an_state *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct det_result *r = &st->res[i];
        char *ts = fifo_pop(&st->ts);
        int err = 0;

        if (r->anomaly) {
            st->anomalies++;
            if (!st->in_segment)
                st->segments++;
            if (!st->first_anom)
                st->first_anom = strdup(ts);
            free(st->last_anom);
            st->last_anom = strdup(ts);
            if (r->n_top > 0)
                st->top_count[r->top_dim[0]]++;
        }
        st->in_segment = r->anomaly;
        if (st->o->json) {
            json_t *row = json_pack("{s:s, s:o, s:o, s:i}", "timestamp", ts, "score",
                                    json_num(r->score), "threshold", json_num(r->threshold),
                                    "anomaly", r->anomaly);

            if (row && r->anomaly && r->n_top > 0) {
                json_t *top = json_array();

                for (int k = 0; top && k < r->n_top; k++)
                    json_array_append_new(top, json_string(csv_dim_name(st->csv, r->top_dim[k])));
                json_object_set_new(row, "top", top);
            }
            if (!row) {
                err = -ENOMEM;
            } else {
                if (st->rows)
                    fputs(",\n", st->out);
                if (json_dumpf(row, st->out, JSON_COMPACT | JSON_REAL_PRECISION(10)))
                    err = -EIO;
                json_decref(row);
            }
        } else {
            put_ts(st->out, ts);
            fputc(',', st->out);
            put_number(st->out, r->score);
            fputc(',', st->out);
            put_number(st->out, r->threshold);
            fprintf(st->out, ",%d\n", r->anomaly);
        }
        free(ts);
        st->rows++;
        if (err)
            return err;
    }
    return ferror(st->out) ? -EIO : 0;
}

static int drain(struct an_state *st, struct detector *d)
{
    size_t n;
    int err;

    while ((n = det_pull(d, st->res, AN_CHUNK)) > 0) {
        err = emit_rows(st, n);
        if (err)
            return err;
    }
    return 0;
}

static int write_json_head(struct an_state *st)
{
    const struct det_params *p = &st->o->p;
    json_t *params = json_pack("{s:f, s:I, s:I}", "q", p->q, "calib", (json_int_t)p->calib,
                               "seed", (json_int_t)p->seed);
    json_t *cols = json_array();
    char *s1 = NULL, *s2 = NULL;
    int err = -ENOMEM;

    if (!params || !cols)
        goto out;
    if (p->kind == DET_CS) {
        json_object_set_new(params, "window", json_integer((json_int_t)p->window));
        json_object_set_new(params, "stride", json_integer((json_int_t)p->stride));
    } else if (p->kind == DET_MAD) {
        json_object_set_new(params, "window", json_integer((json_int_t)p->mad_window));
        json_object_set_new(params, "k", json_real(p->mad_k));
    } else {
        json_object_set_new(params, "depth", json_integer((json_int_t)p->depth));
        json_object_set_new(params, "gap", json_integer((json_int_t)p->gap));
        json_object_set_new(params, "trend", json_boolean(p->trend));
        json_object_set_new(params, "relearn", json_integer((json_int_t)p->relearn));
        json_object_set_new(params, "two_sided", json_boolean(p->two_sided));
        json_object_set_new(params, "floor_rel", json_real(p->floor_rel));
    }
    for (size_t i = 0; i < st->n_dims; i++)
        json_array_append_new(cols, json_string(csv_dim_name(st->csv, i)));
    s1 = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(10));
    s2 = json_dumps(cols, JSON_COMPACT);
    if (!s1 || !s2)
        goto out;
    fprintf(st->out, "{\"detector\":\"%s\",\"params\":%s,\"columns\":%s,\"rows\":[\n",
            det_kind_name(p->kind), s1, s2);
    err = 0;
out:
    free(s1);
    free(s2);
    json_decref(params);
    json_decref(cols);
    return err;
}

static int write_json_tail(struct an_state *st)
{
    json_t *sum, *top = json_array();
    int err = 0;

    for (int k = 0; top && k < 5; k++) {
        size_t best = st->n_dims;

        for (size_t i = 0; i < st->n_dims; i++)
            if (st->top_count[i] && (best == st->n_dims || st->top_count[i] > st->top_count[best]))
                best = i;
        if (best == st->n_dims)
            break;
        json_array_append_new(top, json_pack("{s:s, s:I}", "dim", csv_dim_name(st->csv, best),
                                             "count", (json_int_t)st->top_count[best]));
        st->top_count[best] = 0;
    }
    sum = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "rows", (json_int_t)st->rows,
                    "anomalies", (json_int_t)st->anomalies, "segments",
                    (json_int_t)st->segments, "first_anomaly",
                    st->first_anom ? json_string(st->first_anom) : json_null(), "last_anomaly",
                    st->last_anom ? json_string(st->last_anom) : json_null(), "top_dims",
                    top ? top : json_array());
    if (!sum)
        return -ENOMEM;
    fputs("\n],\"summary\":", st->out);
    if (json_dumpf(sum, st->out, JSON_COMPACT))
        err = -EIO;
    fputs("}\n", st->out);
    json_decref(sum);
    return err;
}

int analyze_main(int argc, char **argv)
{
    struct an_opts o;
    struct an_state st = { .o = &o };
    struct csv_rows rows = { 0 };
    struct detector *det = NULL;
    FILE *in = NULL;
    char *tmp_path = NULL;
    int ret = 1, err;

    err = parse_opts(argc, argv, &o);
    if (err)
        return err == 1 ? 0 : 2;
    in = strcmp(o.in, "-") == 0 ? stdin : fopen(o.in, "r");
    if (!in) {
        fprintf(stderr, "analyze: cannot open %s: %s\n", o.in, strerror(errno));
        return 2;
    }
    err = csv_open(in, strcmp(o.in, "-") == 0 ? "<stdin>" : o.in, &st.csv);
    if (err) {
        if (err == -EINVAL || err == -EIO)
            fprintf(stderr, "analyze: %s\n", csv_error(st.csv));
        else
            fprintf(stderr, "analyze: %s\n", strerror(-err));
        ret = err == -ENOMEM ? 1 : 2;
        goto out;
    }
    st.n_dims = csv_n_dims(st.csv);
    if (build_params(&o, st.n_dims)) {
        ret = 2;
        goto out;
    }
    st.res = malloc(AN_CHUNK * sizeof(*st.res));
    st.top_count = calloc(st.n_dims, sizeof(*st.top_count));
    if (!st.res || !st.top_count) {
        fprintf(stderr, "analyze: out of memory\n");
        goto out;
    }
    if (det_create(&o.p, &det)) {
        fprintf(stderr, "analyze: cannot create the %s detector\n", det_kind_name(o.p.kind));
        goto out;
    }
    if (o.out && strcmp(o.out, "-") != 0) {
        int fd;

        if (asprintf(&tmp_path, "%s.tmpXXXXXX", o.out) < 0) {
            tmp_path = NULL;
            goto out;
        }
        fd = mkstemp(tmp_path);
        if (fd < 0 || !(st.out = fdopen(fd, "w"))) {
            fprintf(stderr, "analyze: cannot write %s: %s\n", o.out, strerror(errno));
            if (fd >= 0)
                close(fd);
            free(tmp_path);
            tmp_path = NULL;
            goto out;
        }
    } else {
        st.out = stdout;
    }
    if (o.json)
        err = write_json_head(&st);
    else
        err = fputs("timestamp,score,threshold,anomaly\n", st.out) < 0 ? -EIO : 0;
    if (err)
        goto out_io;
    for (;;) {
        long got = csv_read(st.csv, &rows, AN_CHUNK);

        if (got < 0) {
            if (got == -ENOMEM) {
                fprintf(stderr, "analyze: out of memory\n");
            } else {
                fprintf(stderr, "analyze: %s\n", csv_error(st.csv));
                ret = 2;
            }
            goto out;
        }
        if (got == 0)
            break;
        for (long i = 0; i < got; i++) {
            err = fifo_push(&st.ts, rows.ts_text[i]);
            if (err)
                goto out_io;
        }
        err = det_push(det, rows.vals, (size_t)got);
        if (!err)
            err = drain(&st, det);
        if (err)
            goto out_io;
    }
    err = det_flush(det);
    if (!err)
        err = drain(&st, det);
    if (!err && st.ts.len != 0)
        err = -EPROTO; /* a detector owes results: a bug, never silently drop rows */
    if (!err && o.json)
        err = write_json_tail(&st);
    if (!err && fflush(st.out))
        err = -EIO;
    if (err)
        goto out_io;
    if (tmp_path) {
        if (fclose(st.out)) {
            st.out = NULL;
            err = -EIO;
            goto out_io;
        }
        st.out = NULL;
        if (rename(tmp_path, o.out)) {
            fprintf(stderr, "analyze: cannot write %s: %s\n", o.out, strerror(errno));
            goto out;
        }
        free(tmp_path);
        tmp_path = NULL;
    }
    ret = 0;
    goto out;
out_io:
    fprintf(stderr, "analyze: %s\n", strerror(-err));
out:
    if (st.out && st.out != stdout)
        fclose(st.out);
    if (tmp_path) {
        unlink(tmp_path);
        free(tmp_path);
    }
    if (in && in != stdin)
        fclose(in);
    det_free(det);
    csv_close(st.csv);
    csv_rows_free(&rows);
    fifo_free(&st.ts);
    free(st.res);
    free(st.top_count);
    free(st.first_anom);
    free(st.last_anom);
    return ret;
}
