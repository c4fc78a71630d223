/* Timing one case: data, plan and reorders outside the timed region,
 * the convolution alone inside it, Google Benchmark's figures into a row;
 * and the plan's per-phase profile, with the phases table's file format.
 */
#include "timing.h"

#include "gbench.h"
#include "onednn.h"
#include "ref.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_REPS 64

void bench_data_free(bench_data *sd)
{
    free(sd->x);
    free(sd->w);
    free(sd->b);
    free(sd->y);
    free(sd->yref);
    free(sd->beta);
    memset(sd, 0, sizeof *sd);
}

float *bench_floats(size_t n)
{
    void *p = NULL;

    if (n > SIZE_MAX / sizeof(float) - 64
        || posix_memalign(&p, 64, n * sizeof(float)) != 0)
        return NULL;
    return p;
}

/* Random reals in [-1, 1): timing does not depend on the values, but
 * denormals and zeros would distort it. */
int bench_data_make(bench_data *sd, const conv_desc *d)
{
    int64_t nx = conv_desc_input_elems(d), nw = conv_desc_weight_elems(d);
    int64_t ny = conv_desc_output_elems(d);

    memset(sd, 0, sizeof *sd);
    sd->d = d;
    sd->x = bench_floats((size_t)nx);
    sd->w = bench_floats((size_t)nw);
    sd->b = bench_floats((size_t)d->k);
    sd->y = bench_floats((size_t)ny);
    if (!sd->x || !sd->w || !sd->b || !sd->y) {
        bench_data_free(sd);
        return -1;
    }
    ref_fill_real(sd->x, nx, 1);
    ref_fill_real(sd->w, nw, 2);
    ref_fill_real(sd->b, d->k, 3);
    return 0;
}

int bench_data_ref_buffers(bench_data *sd)
{
    size_t ny = (size_t)conv_desc_output_elems(sd->d);

    if (sd->yref == NULL)
        sd->yref = malloc(ny * sizeof(double));
    if (sd->beta == NULL)
        sd->beta = malloc(ny * sizeof(double));
    return sd->yref && sd->beta ? 0 : -1;
}

const char *const bench_phase_names[BENCH_NPHASES] = {
    "input_transform", "multiply", "output_transform", "other"};

typedef enum case_kind {
    KIND_PLAN,          /* a library algorithm */
    KIND_ONEDNN,
    KIND_ONEDNN_NCHW,
    KIND_NAIVE
} case_kind;

/* What Google Benchmark reported for one case. */
typedef struct tally {
    double median, min;      /* seconds; NaN until an aggregate says */
    double reps[MAX_REPS];
    int nreps;
    char error[256];
    double phase_ms[BENCH_NPHASES];  /* summed ms x iterations */
    double mean_ms[BENCH_NPHASES];   /* the "mean" aggregate's */
    int64_t executions;
} tally;

/* One case of a shape: what its timed body works on, and its results. */
typedef struct timed {
    bench_data *sd;
    case_kind kind;
    const char *algo;
    char name[512];          /* as registered: "DESC/ALGO" */
    gbench_fn body;
    conv_plan *plan;
    onednn_conv *dnn;
    double flops;
    double peak_flops;       /* 0: unknown */
    double workspace;
    bench_phases *ph;        /* NULL: no profile wanted */
    unsigned phases;         /* bit j: the plan records phase j */
    bench_row *r;
    tally ty;
    int ready;               /* built and run once: awaits its timing */
    int due;                 /* 0: r is a row to write; -1: not run */
} timed;

/* The profile's per-execution phases, in bench_phase_names' order. */
static void phase_seconds(const conv_profile *p, double s[BENCH_NPHASES])
{
    s[BENCH_PHASE_INPUT] = p->input_transform;
    s[BENCH_PHASE_MULTIPLY] = p->multiply;
    s[BENCH_PHASE_OUTPUT] = p->output_transform;
    s[BENCH_PHASE_OTHER] = p->other;
}

/*
 * The mean time per execution of each phase the plan records, in ms, as
 * counters of this run. Google Benchmark aggregates counters only if
 * every repetition has the same ones, so the set is fixed per plan (by
 * its first execution), not by which phases took time in this run.
 */
static void set_phase_counters(gbench_state *st, const timed *t)
{
    conv_profile p;
    double sec[BENCH_NPHASES];
    char name[64];

    if (conv_plan_profile(t->plan, &p) != CONV_OK || p.executions == 0)
        return;
    phase_seconds(&p, sec);
    for (int j = 0; j < BENCH_NPHASES; j++) {
        if (!(t->phases & 1u << j))
            continue;
        snprintf(name, sizeof name, "%s_ms", bench_phase_names[j]);
        gbench_set_counter(st, name, sec[j] / (double)p.executions * 1e3,
                           GBENCH_PLAIN);
    }
    if (t->ph->kernel_ms > 0)
        gbench_set_counter(st, "kernel_transform_ms", t->ph->kernel_ms,
                           GBENCH_PLAIN);
}

static void set_counters(gbench_state *st, const timed *t)
{
    gbench_set_counter(st, "flops", t->flops, GBENCH_PER_SECOND);
    if (t->peak_flops > 0)
        gbench_set_counter(st, "peak_fraction", t->flops / t->peak_flops,
                           GBENCH_PER_SECOND);
    /* A zero would make its coefficient of variation 0/0, and JSON has
     * no NaN. */
    if (t->workspace > 0)
        gbench_set_counter(st, "workspace_bytes", t->workspace,
                           GBENCH_PLAIN);
}

/*
 * Google Benchmark calls the body once per run: the warm-up, the trials
 * that choose the iteration count, then each repetition. Resetting the
 * profile here makes the counters of a reported run cover that run's
 * timed executions only (the reset is outside the clock).
 */
static void body_plan(gbench_state *st, void *arg)
{
    timed *t = arg;

    if (t->phases)
        conv_plan_profile_reset(t->plan);
    while (gbench_keep_running(st))
        if (conv_execute(t->plan, t->sd->x, t->sd->y) != CONV_OK)
            gbench_skip_with_error(st, conv_reason());
    set_counters(st, t);
    if (t->phases)
        set_phase_counters(st, t);
}

static void body_onednn(gbench_state *st, void *arg)
{
    timed *t = arg;

    while (gbench_keep_running(st))
        if (onednn_conv_run(t->dnn) != CONV_OK)
            gbench_skip_with_error(st, conv_reason());
    set_counters(st, t);
}

static void body_naive(gbench_state *st, void *arg)
{
    timed *t = arg;
    bench_data *sd = t->sd;

    while (gbench_keep_running(st))
        if (ref_conv(sd->d, sd->x, sd->w, sd->b, sd->yref, sd->beta)
            != CONV_OK)
            gbench_skip_with_error(st, conv_reason());
    set_counters(st, t);
}

/* Which phase counter `name` is ("multiply_ms" -> 1), or -1. */
static int phase_of(const char *name)
{
    size_t n;

    for (int j = 0; j < BENCH_NPHASES; j++) {
        n = strlen(bench_phase_names[j]);
        if (strncmp(name, bench_phase_names[j], n) == 0
            && strcmp(name + n, "_ms") == 0)
            return j;
    }
    return -1;
}

/* The phase counters of a repetition, weighted by its executions, and of
 * the mean (all there is with --benchmark_report_aggregates_only). */
static void collect_phases(tally *t, const gbench_result *r)
{
    int any = 0, j;

    for (int i = 0; i < r->ncounters; i++) {
        if ((j = phase_of(r->counters[i].name)) < 0)
            continue;
        any = 1;
        if (r->aggregate[0] == '\0')
            t->phase_ms[j] += r->counters[i].value * (double)r->iterations;
        else if (strcmp(r->aggregate, "mean") == 0)
            t->mean_ms[j] = r->counters[i].value;
    }
    if (any && r->aggregate[0] == '\0')
        t->executions += r->iterations;
}

static void collect_one(tally *t, const gbench_result *r)
{
    if (r->error[0] != '\0') {
        snprintf(t->error, sizeof t->error, "%s", r->error);
        return;
    }
    collect_phases(t, r);
    if (strcmp(r->aggregate, "median") == 0)
        t->median = r->real_time;
    else if (strcmp(r->aggregate, "min") == 0)
        t->min = r->real_time;
    else if (r->aggregate[0] == '\0' && t->nreps < MAX_REPS)
        t->reps[t->nreps++] = r->real_time;
}

/* The cases timed together; a result goes to the case of its name. */
typedef struct group {
    timed *t;
    int n;
} group;

static void collect(const gbench_result *r, void *user)
{
    const group *g = user;

    for (int i = 0; i < g->n; i++)
        if (g->t[i].ready && strcmp(g->t[i].name, r->name) == 0) {
            collect_one(&g->t[i].ty, r);
            return;
        }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Without repetitions there are no aggregates: use the runs themselves. */
static void settle(tally *t)
{
    if (t->nreps == 0)
        return;
    qsort(t->reps, (size_t)t->nreps, sizeof t->reps[0], cmp_double);
    if (isnan(t->median))
        t->median = t->nreps % 2 ? t->reps[t->nreps / 2]
                    : 0.5 * (t->reps[t->nreps / 2 - 1]
                             + t->reps[t->nreps / 2]);
    if (isnan(t->min))
        t->min = t->reps[0];
}

static void set_status(bench_row *r, const char *kind, const char *why)
{
    snprintf(r->status, sizeof r->status, "%s:%s", kind,
             why[0] ? why : "(no reason given)");
}

/* A case that cannot run: "n/a" if unsupported, else "error". */
static conv_status refuse(timed *t, conv_status st)
{
    set_status(t->r, st == CONV_EUNSUPPORTED ? "n/a" : "error",
               conv_reason());
    return st;
}

/* The means per execution into ph, and their sum. */
static void settle_phases(const tally *ty, bench_phases *ph)
{
    ph->executions = ty->executions;
    ph->total_ms = 0;
    for (int j = 0; j < BENCH_NPHASES; j++) {
        ph->ms[j] = ty->executions > 0
                    ? ty->phase_ms[j] / (double)ty->executions
                    : ty->mean_ms[j];
        ph->total_ms += ph->ms[j];
    }
}

/* After set_weights and one execution: the filter transform's time, and
 * which phases the plan records. */
static void note_phases(timed *t)
{
    conv_profile p;
    double sec[BENCH_NPHASES];

    if (conv_plan_profile(t->plan, &p) != CONV_OK)
        return;
    t->ph->kernel_ms = p.kernel_transform * 1e3;
    phase_seconds(&p, sec);
    for (int j = 0; j < BENCH_NPHASES; j++)
        if (sec[j] > 0)
            t->phases |= 1u << j;
}

/* ---- building a case, timing a group of them ---- */

/* A library plan: created, given weights, run once. */
static conv_status prepare_plan(timed *t, int threads)
{
    conv_options opt = conv_options_default();
    conv_status st;

    opt.threads = threads;
    opt.profile = t->ph != NULL;
    st = conv_plan_create(&t->plan, t->sd->d, t->algo, &opt);
    if (st == CONV_OK)
        st = conv_plan_set_weights(t->plan, t->sd->w, t->sd->b);
    if (st == CONV_OK)
        st = conv_execute(t->plan, t->sd->x, t->sd->y);
    if (st != CONV_OK) {
        refuse(t, st);
        conv_plan_destroy(t->plan);
        t->plan = NULL;
        return st;
    }
    snprintf(t->r->impl, sizeof t->r->impl, "%s",
             conv_plan_describe(t->plan));
    t->workspace = (double)conv_plan_workspace_bytes(t->plan);
    if (t->ph != NULL)
        note_phases(t);
    t->body = body_plan;
    return CONV_OK;
}

/* oneDNN: weights and input reordered once; only the primitive timed. */
static conv_status prepare_onednn(timed *t, int threads)
{
    onednn_layout layout = t->kind == KIND_ONEDNN_NCHW ? ONEDNN_NCHW
                                                       : ONEDNN_ANY;
    conv_status st;

    st = onednn_conv_ready(&t->dnn, t->sd->d, layout, threads, t->sd->w,
                           t->sd->b, t->sd->x);
    if (st != CONV_OK) {
        t->dnn = NULL;
        return refuse(t, st);
    }
    snprintf(t->r->impl, sizeof t->r->impl, "%s",
             onednn_conv_impl(t->dnn));
    t->workspace = (double)onednn_conv_workspace_bytes(t->dnn);
    t->body = body_onednn;
    return CONV_OK;
}

static conv_status prepare_naive(timed *t)
{
    if (bench_data_ref_buffers(t->sd) != 0) {
        set_status(t->r, "error", "cannot allocate the reference's output");
        return CONV_ENOMEM;
    }
    snprintf(t->r->impl, sizeof t->r->impl, "ref_conv fp64");
    t->workspace = 0;
    t->body = body_naive;
    return CONV_OK;
}

/* Builds case t; on failure its row carries the status. */
static conv_status prepare(timed *t, int threads)
{
    conv_status st;

    switch (t->kind) {
    case KIND_ONEDNN:
    case KIND_ONEDNN_NCHW:
        st = prepare_onednn(t, threads);
        break;
    case KIND_NAIVE:
        st = prepare_naive(t);
        break;
    default:
        st = prepare_plan(t, threads);
    }
    t->ready = st == CONV_OK;
    return st;
}

static void release(timed *t)
{
    conv_plan_destroy(t->plan);
    onednn_conv_destroy(t->dnn);
    t->plan = NULL;
    t->dnn = NULL;
    t->ready = 0;
}

/* The row's status and numbers from what Google Benchmark reported. */
static void settle_case(timed *t, int ran)
{
    tally *ty = &t->ty;
    bench_row *r = t->r;

    settle(ty);
    if (ran < 0 || ty->error[0] != '\0') {
        set_status(r, "error", ran < 0 ? "Google Benchmark failed"
                                       : ty->error);
        return;
    }
    if (isnan(ty->median)) {
        t->due = -1;
        return;
    }
    if (t->phases)
        settle_phases(ty, t->ph);
    snprintf(r->status, sizeof r->status, "ok");
    r->time_ms = ty->median * 1e3;
    r->time_min_ms = ty->min * 1e3;
    r->gflops = t->flops / ty->median * 1e-9;
    if (t->peak_flops > 0)
        r->peak_fraction = t->flops / ty->median / t->peak_flops;
    r->workspace_bytes = (int64_t)t->workspace;
}

/*
 * Times the ready cases of t[0..n) in one Google Benchmark run, so that
 * with --benchmark_enable_random_interleaving (on by default) their
 * repetitions alternate, then releases them.
 */
static void time_ready(timed *t, int n)
{
    group g = {t, n};
    int ran;

    for (int i = 0; i < n; i++)
        if (t[i].ready && gbench_register(t[i].name, t[i].body, &t[i])
                              != 0) {
            set_status(t[i].r, "error", "Google Benchmark refused the case");
            release(&t[i]);
        }
    ran = gbench_run(collect, &g);
    for (int i = 0; i < n; i++)
        if (t[i].ready) {
            settle_case(&t[i], ran);
            release(&t[i]);
        }
}

/*
 * Builds every case, then times them together. A case that runs out of
 * memory while others wait first lets those be timed and freed, then is
 * built again: a shape whose plans do not all fit at once is timed in
 * groups rather than not at all.
 * TODO: untested; a test needs a way to make a plan's allocation fail.
 */
static void build_and_time(timed *t, int n, int threads)
{
    int waiting = 0;

    for (int i = 0; i < n; i++) {
        if (prepare(&t[i], threads) == CONV_ENOMEM && waiting > 0) {
            time_ready(t, i);
            waiting = 0;
            prepare(&t[i], threads);
        }
        waiting += t[i].ready;
    }
    time_ready(t, n);
}

static case_kind kind_of(const char *algo)
{
    if (strcmp(algo, "onednn") == 0)
        return KIND_ONEDNN;
    if (strcmp(algo, "onednn_nchw") == 0)
        return KIND_ONEDNN_NCHW;
    if (strcmp(algo, "naive") == 0)
        return KIND_NAIVE;
    return KIND_PLAN;
}

int bench_case_applies(const char *algo, const conv_desc *d, char *why,
                       size_t n)
{
    if (kind_of(algo) != KIND_PLAN)
        return 1;
    return conv_algo_applies(algo, d, why, n);
}

void bench_case_name(const bench_shape *s, const char *algo, char *buf,
                     size_t n)
{
    snprintf(buf, n, "%s/%s", s->text, algo);
}

int bench_time_shape(const char *const *algos, int n, const bench_shape *s,
                     bench_data *sd, double peak_gflops, int threads,
                     bench_row *rows, bench_phases *ph, int *due)
{
    timed *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);

    if (t == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        t[i].sd = sd;
        t[i].kind = kind_of(algos[i]);
        t[i].algo = algos[i];
        bench_case_name(s, algos[i], t[i].name, sizeof t[i].name);
        t[i].flops = conv_desc_flops(&s->desc);
        t[i].peak_flops = peak_gflops * 1e9;
        t[i].ph = ph != NULL ? &ph[i] : NULL;
        t[i].r = &rows[i];
        t[i].ty.median = t[i].ty.min = NAN;
        if (ph != NULL)
            memset(&ph[i], 0, sizeof ph[i]);
    }
    build_and_time(t, n, threads);
    for (int i = 0; i < n; i++)
        due[i] = t[i].due;
    free(t);
    return 0;
}

/* ---- NAME.phases.csv ---- */

/* Appends text field by field; -1 once the line is full. */
static int put_field(char *line, size_t n, size_t *at, const char *text)
{
    int k = bench_csv_field(text, line + *at, n - *at);

    if (k < 0 || *at + (size_t)k + 1 >= n)
        return -1;
    *at += (size_t)k;
    line[(*at)++] = ',';
    line[*at] = '\0';
    return 0;
}

int bench_phases_append(FILE *f, const bench_phases *ph)
{
    char line[2048];
    size_t at = 0;
    int k;

    line[0] = '\0';
    if (put_field(line, sizeof line, &at, ph->suite) != 0
        || put_field(line, sizeof line, &at, ph->layer) != 0
        || put_field(line, sizeof line, &at, ph->desc) != 0
        || put_field(line, sizeof line, &at, ph->algo) != 0)
        return -1;
    k = snprintf(line + at, sizeof line - at,
                 "%d,%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", ph->threads,
                 (long long)ph->executions, ph->ms[0], ph->ms[1], ph->ms[2],
                 ph->ms[3], ph->kernel_ms, ph->total_ms);
    if (k < 0 || (size_t)k >= sizeof line - at)
        return -1;
    if (fputs(line, f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0)
        return -1;
    return 0;
}

#define PHASE_FIELDS 12

/*
 * Splits a CSV line in place into exactly PHASE_FIELDS fields, undoing
 * RFC 4180 quoting. Returns 0, or -1 with the reason in *why.
 */
static int split_line(char *s, char **field, const char **why)
{
    int n = 0;
    char c = '\0';

    while (n < PHASE_FIELDS) {
        char *out = s;

        field[n++] = s;
        if (*s == '"') {
            for (s++; *s != '\0' && !(*s == '"' && s[1] != '"'); s++)
                *out++ = *s == '"' ? *s++ : *s;
            if (*s++ != '"') {
                *why = "a quoted field is not closed";
                return -1;
            }
        } else {
            while (*s != '\0' && *s != ',')
                *out++ = *s++;
        }
        c = *s;
        *out = '\0';
        if (c == '\0')
            break;
        if (c != ',') {
            *why = "text after a quoted field";
            return -1;
        }
        s++;
    }
    *why = "not 12 fields";
    return n == PHASE_FIELDS && c == '\0' ? 0 : -1;
}

/* A number >= 0 filling the whole field, or -1. */
static int nonneg(const char *text, double *v)
{
    char *end;

    *v = strtod(text, &end);
    return end != text && *end == '\0' && *v >= 0 && isfinite(*v) ? 0
                                                                   : -1;
}

static int parse_phases(char *line, bench_phases *ph, const char **why)
{
    char *f[PHASE_FIELDS];
    double v[PHASE_FIELDS];

    if (split_line(line, f, why) != 0)
        return -1;
    for (int i = 4; i < PHASE_FIELDS; i++)
        if (nonneg(f[i], &v[i]) != 0) {
            *why = "a number column is not a number >= 0";
            return -1;
        }
    memset(ph, 0, sizeof *ph);
    snprintf(ph->suite, sizeof ph->suite, "%s", f[0]);
    snprintf(ph->layer, sizeof ph->layer, "%s", f[1]);
    snprintf(ph->desc, sizeof ph->desc, "%s", f[2]);
    snprintf(ph->algo, sizeof ph->algo, "%s", f[3]);
    ph->threads = (int)v[4];
    ph->executions = (int64_t)v[5];
    for (int j = 0; j < BENCH_NPHASES; j++)
        ph->ms[j] = v[6 + j];
    ph->kernel_ms = v[10];
    ph->total_ms = v[11];
    return 0;
}

static int push_phases(bench_phases_table *t, const bench_phases *ph)
{
    bench_phases *rows = realloc(t->rows, (size_t)(t->n + 1) * sizeof *rows);

    if (rows == NULL)
        return -1;
    t->rows = rows;
    t->rows[t->n++] = *ph;
    return 0;
}

/* Every line after the header; -1 with err set at the first bad one. */
static int read_phase_rows(FILE *f, const char *path, bench_phases_table *t,
                           char *err, size_t n)
{
    char line[4096];
    const char *why;
    bench_phases ph;

    for (int no = 2; fgets(line, sizeof line, f) != NULL; no++) {
        size_t len = strcspn(line, "\r\n");

        why = "";
        if (line[len] == '\0' && !feof(f))
            why = "line too long";
        line[len] = '\0';
        if (why[0] != '\0' || parse_phases(line, &ph, &why) != 0) {
            snprintf(err, n, "%s:%d: %s", path, no, why);
            return -1;
        }
        if (push_phases(t, &ph) != 0) {
            snprintf(err, n, "%s: out of memory", path);
            return -1;
        }
    }
    return 0;
}

int bench_phases_read(const char *path, bench_phases_table *t, char *err,
                      size_t n)
{
    FILE *f = fopen(path, "r");
    char head[512];
    int st = -1;

    memset(t, 0, sizeof *t);
    if (f == NULL) {
        snprintf(err, n, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    if (fgets(head, sizeof head, f) == NULL
        || (head[strcspn(head, "\r\n")] = '\0',
            strcmp(head, BENCH_PHASES_HEADER) != 0))
        snprintf(err, n, "%s:1: the header is not \"%s\"", path,
                 BENCH_PHASES_HEADER);
    else
        st = read_phase_rows(f, path, t, err, n);
    fclose(f);
    if (st != 0)
        bench_phases_table_free(t);
    return st;
}

void bench_phases_table_free(bench_phases_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

FILE *bench_phases_open(const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "a");

    if (f == NULL) {
        snprintf(err, n, "%s: cannot open for writing: %s", path,
                 strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < 0
        || (ftell(f) == 0
            && (fputs(BENCH_PHASES_HEADER "\n", f) == EOF
                || fflush(f) != 0))) {
        snprintf(err, n, "%s: cannot write: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    return f;
}

/* Whether a row of `done` not used yet is ph's case; marks it used. */
static int answered(const bench_rows *done, unsigned char *used,
                    const bench_phases *ph)
{
    for (int i = 0; i < done->n; i++) {
        const bench_row *r = &done->rows[i];

        if (used[i] || r->threads != ph->threads
            || strcmp(r->suite, ph->suite) != 0
            || strcmp(r->layer, ph->layer) != 0
            || strcmp(r->desc, ph->desc) != 0
            || strcmp(r->algo, ph->algo) != 0)
            continue;
        used[i] = 1;
        return 1;
    }
    return 0;
}

/* Writes the header and rows to path.tmp and renames it over path. */
static int rewrite_phases(const char *path, const bench_phases_table *t,
                          char *err, size_t n)
{
    char tmp[1100];
    FILE *f;
    int st = 0;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    f = bench_phases_open(tmp, err, n);
    if (f == NULL)
        return -1;
    for (int i = 0; i < t->n && st == 0; i++)
        st = bench_phases_append(f, &t->rows[i]);
    if (fclose(f) != 0 || st != 0 || rename(tmp, path) != 0) {
        snprintf(err, n, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int bench_phases_keep(const char *path, const bench_rows *done, char *err,
                      size_t n)
{
    bench_phases_table t;
    unsigned char *used;
    int kept = 0, st;

    if (access(path, F_OK) != 0)
        return 0;
    if (bench_phases_read(path, &t, err, n) != 0)
        return -1;
    used = calloc((size_t)done->n + 1, 1);
    if (used == NULL) {
        snprintf(err, n, "%s: out of memory", path);
        bench_phases_table_free(&t);
        return -1;
    }
    for (int i = 0; i < t.n; i++)
        if (answered(done, used, &t.rows[i]))
            t.rows[kept++] = t.rows[i];
    t.n = kept;
    st = kept > 0 ? rewrite_phases(path, &t, err, n) : unlink(path);
    if (st != 0 && kept == 0)
        snprintf(err, n, "%s: cannot remove: %s", path, strerror(errno));
    free(used);
    bench_phases_table_free(&t);
    return st;
}
