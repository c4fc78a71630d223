/* `convbench check`: every algorithm against the fp64 reference and
 * oneDNN, shape by shape, on exact integer data and on real data. */
#include "check.h"

#include "args.h"
#include "onednn.h"
#include "shapes.h"
#include "timing.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALGOS 32
#define MAX_SUITES 16

typedef struct check_opts {
    char algos[MAX_ALGOS][32];
    int nalgos;
    int threads;
    int64_t mb;
    uint64_t seed;
    int onednn;
} check_opts;

/* One shape's data: inputs, the reference and its bound, one output. */
typedef struct check_data {
    const conv_desc *d;
    float *x, *w, *b, *y, *y_onednn;
    double *yref, *beta;
    int exact;
    int have_onednn;
} check_data;

/* What a shape x algorithm row shows, worst over both data sets. */
typedef struct check_row {
    check_verdict verdict;
    double err_ref, err_onednn;
    char note[200];
} check_row;

check_verdict check_judge(const char *algo, const conv_desc *d,
                          int exact_data, const float *y,
                          const double *yref, const double *beta,
                          ref_error *err)
{
    const ref_tolerance *tol = ref_tolerance_for(algo);

    *err = ref_compare(y, yref, beta, conv_desc_output_elems(d));
    if (err->nonfinite > 0)
        return CHECK_FAIL;
    if (exact_data && tol->exact)
        return err->mismatches == 0 ? CHECK_OK : CHECK_FAIL;
    return err->max_eps <= ref_tolerance_eps(algo, d) ? CHECK_OK
                                                       : CHECK_FAIL;
}

static void row_fail(check_row *r, const char *fmt, const char *what)
{
    r->verdict = CHECK_FAIL;
    snprintf(r->note, sizeof r->note, fmt, what);
}

/* Folds one data set's result into the row, keeping the worst. */
static void row_merge(check_row *r, check_verdict v, const ref_error *e,
                      double err_onednn, int exact)
{
    if (e->max_eps > r->err_ref)
        r->err_ref = e->max_eps;
    if (err_onednn > r->err_onednn)
        r->err_onednn = err_onednn;
    if (v != CHECK_FAIL || r->verdict == CHECK_FAIL)
        return;
    r->verdict = CHECK_FAIL;
    if (e->nonfinite > 0)
        snprintf(r->note, sizeof r->note, "%lld non-finite outputs",
                 (long long)e->nonfinite);
    else if (exact)
        snprintf(r->note, sizeof r->note, "not bit-exact on integer data: "
                 "%lld outputs differ, worst at %lld",
                 (long long)e->mismatches, (long long)e->worst);
    else
        snprintf(r->note, sizeof r->note, "error %.3g eps at output %lld "
                 "exceeds the tolerance", e->max_eps, (long long)e->worst);
}

static double onednn_error(const check_data *cd, const float *y)
{
    ref_error e;

    if (!cd->have_onednn)
        return 0;
    e = ref_compare_f32(y, cd->y_onednn, cd->beta,
                        conv_desc_output_elems(cd->d));
    return e.max_eps;
}

static void poison(float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = NAN;
}

/* Runs one library algorithm on the current data and judges it. */
static void run_algo(const char *algo, const check_data *cd, int threads,
                     check_row *r)
{
    conv_options o = conv_options_default();
    int64_t n = conv_desc_output_elems(cd->d);
    conv_plan *plan = NULL;
    check_verdict v;
    ref_error e;

    o.threads = threads;
    if (conv_plan_create(&plan, cd->d, algo, &o) != CONV_OK
        || conv_plan_set_weights(plan, cd->w, cd->b) != CONV_OK) {
        row_fail(r, "%s", conv_reason());
        conv_plan_destroy(plan);
        return;
    }
    poison(cd->y, n);
    if (conv_execute(plan, cd->x, cd->y) != CONV_OK) {
        row_fail(r, "%s", conv_reason());
        conv_plan_destroy(plan);
        return;
    }
    /* auto is judged by the algorithm it ran. */
    v = check_judge(conv_plan_algo(plan), cd->d, cd->exact, cd->y,
                    cd->yref, cd->beta, &e);
    conv_plan_destroy(plan);
    row_merge(r, v, &e, onednn_error(cd, cd->y), cd->exact);
}

/* Runs oneDNN (format any) into cd->y_onednn and judges it. */
static void run_onednn(check_data *cd, int threads, check_row *r,
                       char *impl, size_t impl_n)
{
    int64_t n = conv_desc_output_elems(cd->d);
    onednn_conv *h = NULL;
    conv_status st;
    check_verdict v;
    ref_error e;

    cd->have_onednn = 0;
    poison(cd->y_onednn, n);
    st = onednn_conv_ready(&h, cd->d, ONEDNN_ANY, threads, cd->w, cd->b,
                           cd->x);
    if (st == CONV_OK)
        st = onednn_conv_get_output(h, cd->y_onednn);
    if (st == CONV_OK)
        snprintf(impl, impl_n, "%s", onednn_conv_impl(h));
    onednn_conv_destroy(h);
    if (st != CONV_OK) {
        row_fail(r, "%s", conv_reason());
        return;
    }
    v = check_judge("onednn", cd->d, cd->exact, cd->y_onednn, cd->yref,
                    cd->beta, &e);
    row_merge(r, v, &e, 0, cd->exact);
    cd->have_onednn = 1;
}

/* Fills the inputs: exact small integers, or reals in [-1, 1). */
static void fill(check_data *cd, uint64_t seed)
{
    const conv_desc *d = cd->d;
    int64_t nx = conv_desc_input_elems(d), nw = conv_desc_weight_elems(d);

    if (cd->exact) {
        ref_exact_fill f = ref_exact_fill_for(d);

        ref_fill_ints(cd->x, nx, f.x_max, f.x_density, seed);
        ref_fill_ints(cd->w, nw, f.w_max, f.w_density, seed + 1);
        ref_fill_ints(cd->b, d->k, f.b_max, 1.0, seed + 2);
    } else {
        ref_fill_real(cd->x, nx, seed);
        ref_fill_real(cd->w, nw, seed + 1);
        ref_fill_real(cd->b, d->k, seed + 2);
    }
}

static void data_free(check_data *cd)
{
    free(cd->x);
    free(cd->w);
    free(cd->b);
    free(cd->y);
    free(cd->y_onednn);
    free(cd->yref);
    free(cd->beta);
}

static int data_alloc(check_data *cd, const conv_desc *d)
{
    size_t nx = (size_t)conv_desc_input_elems(d);
    size_t nw = (size_t)conv_desc_weight_elems(d);
    size_t ny = (size_t)conv_desc_output_elems(d);

    memset(cd, 0, sizeof *cd);
    cd->d = d;
    cd->x = bench_floats(nx);
    cd->w = bench_floats(nw);
    cd->b = bench_floats((size_t)d->k);
    cd->y = bench_floats(ny);
    cd->y_onednn = bench_floats(ny);
    cd->yref = malloc(ny * sizeof(double));
    cd->beta = malloc(ny * sizeof(double));
    if (cd->x && cd->w && cd->b && cd->y && cd->y_onednn && cd->yref
        && cd->beta)
        return 0;
    data_free(cd);
    return -1;
}

typedef struct check_tally {
    int ok, fail, na;
} check_tally;

static void print_row(const char *layer, const char *algo,
                      const check_row *r, check_tally *t)
{
    static const char *const word[] = {"ok", "FAIL", "n/a"};

    if (r->verdict == CHECK_NA) {
        printf("%-34.34s %-14s %-5s %s\n", layer, algo, "n/a", r->note);
        t->na++;
        return;
    }
    printf("%-34.34s %-14s %-5s %12.3g %12.3g  %s\n", layer, algo,
           word[r->verdict], r->err_ref, r->err_onednn, r->note);
    if (r->verdict == CHECK_OK)
        t->ok++;
    else
        t->fail++;
}

/* Both data sets through the reference, oneDNN and every algorithm. */
static void check_passes(check_data *cd, const check_opts *o,
                         check_row *rows, check_row *dnn, char *impl)
{
    for (int pass = 0; pass < 2; pass++) {
        cd->exact = pass == 0;
        fill(cd, o->seed + 8 * (uint64_t)pass);
        ref_conv(cd->d, cd->x, cd->w, cd->b, cd->yref, cd->beta);
        if (o->onednn)
            run_onednn(cd, o->threads, dnn, impl, 64);
        for (int a = 0; a < o->nalgos; a++)
            if (rows[a].verdict != CHECK_NA)
                run_algo(o->algos[a], cd, o->threads, &rows[a]);
    }
}

static void check_shape(const bench_shape *s, const check_opts *o,
                        check_tally *t)
{
    const char *layer = s->name[0] ? s->name : s->text;
    check_row rows[MAX_ALGOS] = {{0}}, dnn = {0};
    char impl[64] = "";
    check_data cd;

    if (data_alloc(&cd, &s->desc) != 0) {
        snprintf(dnn.note, sizeof dnn.note, "cannot allocate the data");
        dnn.verdict = CHECK_FAIL;
        print_row(layer, "(all)", &dnn, t);
        return;
    }
    for (int a = 0; a < o->nalgos; a++)
        if (!conv_algo_applies(o->algos[a], &s->desc, rows[a].note,
                               sizeof rows[a].note))
            rows[a].verdict = CHECK_NA;

    check_passes(&cd, o, rows, &dnn, impl);

    printf("# %s\n", s->text);
    for (int a = 0; a < o->nalgos; a++)
        print_row(layer, o->algos[a], &rows[a], t);
    if (o->onednn) {
        if (dnn.verdict == CHECK_OK)
            snprintf(dnn.note, sizeof dnn.note, "%s", impl);
        print_row(layer, "onednn", &dnn, t);
    }
    data_free(&cd);
}

static const char check_usage[] =
    "usage: convbench check [--suite NAME|FILE]... [--algo A,B|all]\n"
    "                       [--threads T] [--mb N] [--seed N]\n"
    "                       [--no-onednn] [--onednn-isa ISA] [DESC...]\n";

typedef struct check_input {
    bench_suite suites[MAX_SUITES];
    int nsuites;
    bench_suite bare;          /* descriptors given as arguments */
    const char *suite_names[MAX_SUITES];
    const char *algo_list;
    const char *isa;
    char **descs;              /* positional arguments, parsed last */
    int ndescs;
} check_input;

/* One flag at argv[*i]: 1 if taken, 0 if not a flag, -1 on error. */
static int check_flag(int argc, char **argv, int *i, check_opts *o,
                      check_input *in)
{
    const char *v = NULL;
    int64_t n;
    int r;

    if ((r = bench_flag_value(argc, argv, i, "--suite", &v)) != 0) {
        if (r > 0 && in->nsuites == MAX_SUITES) {
            bench_error("--suite: at most %d suites", MAX_SUITES);
            return -1;
        }
        if (r > 0)
            in->suite_names[in->nsuites++] = v;
        return r;
    }
    if ((r = bench_flag_value(argc, argv, i, "--algo", &v)) != 0) {
        in->algo_list = v;
        return r;
    }
    if ((r = bench_flag_value(argc, argv, i, "--onednn-isa", &v)) != 0) {
        in->isa = v;
        return r;
    }
    if ((r = bench_run_flag(argc, argv, i, &o->threads, &o->mb)) != 0)
        return r;
    if ((r = bench_int_flag(argc, argv, i, "--seed", 0, INT64_MAX, &n)) > 0)
        o->seed = (uint64_t)n;
    if (r != 0)
        return r;
    if (strcmp(argv[*i], "--no-onednn") == 0) {
        o->onednn = 0;
        return 1;
    }
    return 0;
}

/* Reads every flag, suite and descriptor; prints why on failure. */
static int check_args(int argc, char **argv, check_opts *o, check_input *in)
{
    static const char *const extra[] = {NULL};
    char err[1024];
    int i;

    for (i = 1; i < argc; i++) {
        int r = check_flag(argc, argv, &i, o, in);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (strncmp(argv[i], "--", 2) == 0) {
            bench_error("'%s': unknown flag\n%s", argv[i], check_usage);
            return -1;
        }
        in->descs[in->ndescs++] = argv[i];
    }
    for (i = 0; i < in->ndescs; i++)
        if (bench_add_descriptor(&in->bare, in->descs[i], o->mb) != 0)
            return -1;
    for (i = 0; i < in->nsuites; i++)
        if (bench_suite_load(in->suite_names[i], o->mb, &in->suites[i],
                             err, sizeof err) != 0) {
            bench_error("%s", err);
            in->nsuites = i;
            return -1;
        }
    o->nalgos = bench_parse_algos(in->algo_list, extra, NULL, o->algos,
                                  MAX_ALGOS);
    if (o->nalgos < 0)
        return -1;
    if (onednn_set_max_isa(in->isa) != CONV_OK) {
        bench_error("--onednn-isa '%s': %s", in->isa, conv_reason());
        return -1;
    }
    return 0;
}

static void input_free(check_input *in)
{
    for (int i = 0; i < in->nsuites; i++)
        bench_suite_free(&in->suites[i]);
    free(in->bare.shapes);
    free(in->descs);
}

static void check_suite(const bench_suite *s, const check_opts *o,
                        check_tally *t)
{
    for (int i = 0; i < s->n; i++) {
        check_shape(&s->shapes[i], o, t);
        fflush(stdout);
    }
}

int check_main(int argc, char **argv)
{
    check_opts o = {.threads = 0, .mb = 0, .seed = 1, .onednn = 1};
    check_input in = {.algo_list = "all", .isa = "avx2"};
    check_tally t = {0};

    in.descs = calloc((size_t)argc, sizeof *in.descs);
    if (in.descs == NULL || check_args(argc, argv, &o, &in) != 0) {
        input_free(&in);
        return BENCH_EXIT_USAGE;
    }
    if (in.nsuites == 0 && in.bare.n == 0) {
        bench_error("check: no shapes: give --suite or descriptors\n%s",
                    check_usage);
        input_free(&in);
        return BENCH_EXIT_USAGE;
    }
    if (o.threads == 0)
        o.threads = omp_get_max_threads();

    printf("%-34s %-14s %-5s %12s %12s  %s\n", "layer", "algo", "result",
           "vs ref (eps)", "vs onednn", "note");
    for (int i = 0; i < in.nsuites; i++)
        check_suite(&in.suites[i], &o, &t);
    check_suite(&in.bare, &o, &t);
    printf("%d ok, %d failed, %d n/a (seed %llu, %d threads)\n", t.ok,
           t.fail, t.na, (unsigned long long)o.seed, o.threads);
    input_free(&in);
    return t.fail == 0 ? 0 : 1;
}
