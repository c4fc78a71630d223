/* Timing one case: data, plan and reorders outside the timed region,
 * the convolution alone inside it, Google Benchmark's figures into a row.
 */
#include "timing.h"

#include "gbench.h"
#include "onednn.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Random reals in [-1, 1): timing does not depend on the values, but
 * denormals and zeros would distort it. */
int bench_data_make(bench_data *sd, const conv_desc *d)
{
    int64_t nx = conv_desc_input_elems(d), nw = conv_desc_weight_elems(d);
    int64_t ny = conv_desc_output_elems(d);

    memset(sd, 0, sizeof *sd);
    sd->d = d;
    sd->x = malloc((size_t)nx * sizeof(float));
    sd->w = malloc((size_t)nw * sizeof(float));
    sd->b = malloc((size_t)d->k * sizeof(float));
    sd->y = malloc((size_t)ny * sizeof(float));
    if (!sd->x || !sd->w || !sd->b || !sd->y) {
        bench_data_free(sd);
        return -1;
    }
    ref_fill_real(sd->x, nx, 1);
    ref_fill_real(sd->w, nw, 2);
    ref_fill_real(sd->b, d->k, 3);
    return 0;
}

static int make_naive_data(bench_data *sd)
{
    size_t ny = (size_t)conv_desc_output_elems(sd->d);

    if (sd->yref == NULL)
        sd->yref = malloc(ny * sizeof(double));
    if (sd->beta == NULL)
        sd->beta = malloc(ny * sizeof(double));
    return sd->yref && sd->beta ? 0 : -1;
}

/* What a timed body works on. */
typedef struct timed {
    bench_data *sd;
    conv_plan *plan;
    onednn_conv *dnn;
    double flops;
    double peak_flops;       /* 0: unknown */
    double workspace;
} timed;

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

static void body_plan(gbench_state *st, void *arg)
{
    timed *t = arg;

    while (gbench_keep_running(st))
        if (conv_execute(t->plan, t->sd->x, t->sd->y) != CONV_OK)
            gbench_skip_with_error(st, conv_reason());
    set_counters(st, t);
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

/* What Google Benchmark reported for one case. */
typedef struct tally {
    double median, min;      /* seconds; NaN until an aggregate says */
    double reps[MAX_REPS];
    int nreps;
    char error[256];
} tally;

static void collect(const gbench_result *r, void *user)
{
    tally *t = user;

    if (r->error[0] != '\0')
        snprintf(t->error, sizeof t->error, "%s", r->error);
    else if (strcmp(r->aggregate, "median") == 0)
        t->median = r->real_time;
    else if (strcmp(r->aggregate, "min") == 0)
        t->min = r->real_time;
    else if (r->aggregate[0] == '\0' && t->nreps < MAX_REPS)
        t->reps[t->nreps++] = r->real_time;
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

/*
 * Runs the registered body through Google Benchmark and fills the row's
 * status and numbers. Returns 0 if a row is due, -1 if the case did not
 * run (--benchmark_filter or --benchmark_list_tests).
 */
static int measure(const char *name, gbench_fn body, timed *t,
                   bench_row *r)
{
    tally ty = {.median = NAN, .min = NAN};
    int ran;

    if (gbench_register(name, body, t) != 0) {
        set_status(r, "error", "Google Benchmark refused the case");
        return 0;
    }
    ran = gbench_run(collect, &ty);
    settle(&ty);
    if (ran < 0 || ty.error[0] != '\0') {
        set_status(r, "error", ran < 0 ? "Google Benchmark failed"
                                       : ty.error);
        return 0;
    }
    if (isnan(ty.median))
        return -1;
    snprintf(r->status, sizeof r->status, "ok");
    r->time_ms = ty.median * 1e3;
    r->time_min_ms = ty.min * 1e3;
    r->gflops = t->flops / ty.median * 1e-9;
    if (t->peak_flops > 0)
        r->peak_fraction = t->flops / ty.median / t->peak_flops;
    r->workspace_bytes = (int64_t)t->workspace;
    return 0;
}

/* A library plan: created, given weights, run once, then timed. */
static int time_plan(const char *name, const char *algo, int threads,
                     timed *t, bench_row *r)
{
    conv_options opt = conv_options_default();
    conv_status st;
    int due;

    opt.threads = threads;
    st = conv_plan_create(&t->plan, t->sd->d, algo, &opt);
    if (st == CONV_OK)
        st = conv_plan_set_weights(t->plan, t->sd->w, t->sd->b);
    if (st == CONV_OK)
        st = conv_execute(t->plan, t->sd->x, t->sd->y);
    if (st != CONV_OK) {
        set_status(r, st == CONV_EUNSUPPORTED ? "n/a" : "error",
                   conv_reason());
        conv_plan_destroy(t->plan);
        return 0;
    }
    snprintf(r->impl, sizeof r->impl, "%s", conv_plan_describe(t->plan));
    t->workspace = (double)conv_plan_workspace_bytes(t->plan);
    due = measure(name, body_plan, t, r);
    conv_plan_destroy(t->plan);
    return due;
}

/* oneDNN: weights and input reordered once; only the primitive timed. */
static int time_onednn(const char *name, onednn_layout layout, int threads,
                       timed *t, bench_row *r)
{
    conv_status st;
    int due;

    st = onednn_conv_create(&t->dnn, t->sd->d, layout, threads);
    if (st == CONV_OK)
        st = onednn_conv_set_weights(t->dnn, t->sd->w, t->sd->b);
    if (st == CONV_OK)
        st = onednn_conv_set_input(t->dnn, t->sd->x);
    if (st == CONV_OK)
        st = onednn_conv_run(t->dnn);
    if (st != CONV_OK) {
        set_status(r, st == CONV_EUNSUPPORTED ? "n/a" : "error",
                   conv_reason());
        onednn_conv_destroy(t->dnn);
        return 0;
    }
    snprintf(r->impl, sizeof r->impl, "%s", onednn_conv_impl(t->dnn));
    t->workspace = (double)onednn_conv_workspace_bytes(t->dnn);
    due = measure(name, body_onednn, t, r);
    onednn_conv_destroy(t->dnn);
    return due;
}

static int time_naive(const char *name, timed *t, bench_row *r)
{
    if (make_naive_data(t->sd) != 0) {
        set_status(r, "error", "cannot allocate the reference's output");
        return 0;
    }
    snprintf(r->impl, sizeof r->impl, "ref_conv fp64");
    t->workspace = 0;
    return measure(name, body_naive, t, r);
}

typedef enum case_kind {
    KIND_PLAN,          /* a library algorithm */
    KIND_ONEDNN,
    KIND_ONEDNN_NCHW,
    KIND_NAIVE
} case_kind;

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

int bench_time_case(const char *algo, const bench_shape *s,
                    bench_data *sd, double peak_gflops, int threads,
                    bench_row *r)
{
    timed t = {sd, NULL, NULL, conv_desc_flops(&s->desc),
               peak_gflops * 1e9, 0};
    char name[512];

    bench_case_name(s, algo, name, sizeof name);
    switch (kind_of(algo)) {
    case KIND_ONEDNN:
        return time_onednn(name, ONEDNN_ANY, threads, &t, r);
    case KIND_ONEDNN_NCHW:
        return time_onednn(name, ONEDNN_NCHW, threads, &t, r);
    case KIND_NAIVE:
        return time_naive(name, &t, r);
    default:
        return time_plan(name, algo, threads, &t, r);
    }
}
