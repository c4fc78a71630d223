/*
 * Every registered algorithm against the fp64 reference, over a table of
 * awkward shapes: bit-exact on integer fills where the tolerance table
 * demands it, within its bound on real-valued fills, at 1 and 2 threads,
 * repeatable, and taking new weights when given them. Plus the API's
 * error paths for each algorithm.
 *
 * TEST_SEED=N in the environment reruns with another base seed; every
 * failure prints the seed, the algorithm and the whole shape.
 */
#include "conv.h"
#include "ref.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define DEFAULT_SEED 20240611u

typedef struct shape {
    const char *name;
    test_geometry geo;
    int bias;
} shape;

/* Deliberately awkward sizes; small so that the whole binary stays fast
 * under AddressSanitizer too. */
static const shape shapes[] = {
    /* n  c   h   w    k  r  s   sh sw  pt pl pb pr  dh dw  g  bias */
    {"prime 13x17 image, 3x3 pad 1",
     {1, 3, 13, 17,   5, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"1x1 image, 3x3 pad 1",
     {2, 4, 1, 1,     3, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"1x1 image, 1x1 kernel",
     {1, 5, 1, 1,     7, 1, 1,   1, 1,   0, 0, 0, 0,   1, 1,   1}, 1},
    {"stride 2, 3x3 pad 1, 15x11",
     {1, 3, 15, 11,   4, 3, 3,   2, 2,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"stride 3, 5x5 pad 2, 17x13",
     {1, 2, 17, 13,   3, 5, 5,   3, 3,   2, 2, 2, 2,   1, 1,   1}, 0},
    {"padding beyond the kernel reach",
     {1, 2, 5, 6,     3, 3, 3,   1, 1,   4, 3, 4, 5,   1, 1,   1}, 1},
    {"asymmetric padding, top 1 bottom 2",
     {1, 3, 10, 9,    4, 3, 3,   1, 1,   1, 0, 2, 1,   1, 1,   1}, 1},
    {"1x1 stride 2, negative end padding, 9x9",
     {2, 6, 9, 9,     5, 1, 1,   2, 2,   0, 0, -1, -1, 1, 1,   1}, 1},
    {"1x1 stride 2, negative end padding, 10x10",
     {1, 6, 10, 10,   5, 1, 1,   2, 2,   0, 0, -1, -1, 1, 1,   1}, 0},
    {"1x1 stride 1, bottom padding -2",
     {2, 6, 9, 7,     4, 1, 1,   1, 1,   0, 0, -2, 0,  1, 1,   1}, 1},
    {"1x1 stride 1, right padding -1",
     {1, 6, 8, 7,     4, 1, 1,   1, 1,   0, 0, 0, -1,  1, 1,   1}, 1},
    {"1x1 stride 2x3",
     {1, 4, 11, 13,   3, 1, 1,   2, 3,   0, 0, 0, 0,   1, 1,   1}, 1},
    {"1x1 dilation 2, stride 2",
     {1, 5, 9, 8,     3, 1, 1,   2, 2,   0, 0, 0, 0,   2, 2,   1}, 1},
    {"1x1 with padding 1",
     {1, 4, 6, 5,     3, 1, 1,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"dilation 2, 3x3 pad 2",
     {1, 3, 12, 11,   4, 3, 3,   1, 1,   2, 2, 2, 2,   2, 2,   1}, 1},
    {"dilation 2x3, stride 2, asymmetric padding",
     {1, 2, 14, 15,   3, 3, 3,   2, 2,   2, 1, 0, 3,   2, 3,   1}, 1},
    {"groups 2, 3x3 pad 1",
     {2, 6, 8, 9,     4, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   2}, 1},
    {"groups 2, 1x1",
     {1, 8, 6, 5,     6, 1, 1,   1, 1,   0, 0, 0, 0,   1, 1,   2}, 1},
    {"depthwise 3x3 pad 1, 11x11",
     {1, 8, 11, 11,   8, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   8}, 1},
    {"depthwise 3x3 stride 2, 13x13",
     {2, 6, 13, 13,   6, 3, 3,   2, 2,   1, 1, 1, 1,   1, 1,   6}, 0},
    {"1x7 kernel, pad 0x3",
     {1, 4, 9, 13,    5, 1, 7,   1, 1,   0, 3, 0, 3,   1, 1,   1}, 1},
    {"3x5 kernel, pad 1x2",
     {1, 3, 11, 12,   4, 3, 5,   1, 1,   1, 2, 1, 2,   1, 1,   1}, 1},
    {"3x3, 23 -> 19 channels",
     {1, 23, 10, 10, 19, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"batch 3, 3x3 pad 1",
     {3, 5, 7, 9,     6, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"batch 4, 1x1 stride 2 (one gather buffer per thread)",
     {4, 32, 28, 28, 16, 1, 1,  2, 2,   0, 0, 0, 0,   1, 1,   1}, 1},
    {"batch 4, 3x3 pad 1 (one patch matrix per thread)",
     {4, 8, 20, 20,  8, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"no bias, 1x1, 16 -> 24 channels",
     {2, 16, 7, 7,   24, 1, 1,   1, 1,   0, 0, 0, 0,   1, 1,   1}, 0},
    {"3x3 stride 1, no padding, 4x4 -> 2x2",
     {1, 7, 4, 4,     5, 3, 3,   1, 1,   0, 0, 0, 0,   1, 1,   1}, 0},
    {"resnet_50:res2a_branch2a",
     {1, 64, 56, 56, 64, 1, 1,   1, 1,   0, 0, 0, 0,   1, 1,   1}, 1},
    {"resnet_50:res3a_branch2a (1x1 stride 2)",
     {1, 256, 56, 56, 128, 1, 1, 2, 2,   0, 0, -1, -1, 1, 1,   1}, 1},
    {"googlenet_v1:inception_3a/5x5",
     {1, 16, 28, 28, 32, 5, 5,   1, 1,   2, 2, 2, 2,   1, 1,   1}, 1},
    {"squeezenet_v1.0:fire2/expand3x3",
     {1, 16, 55, 55, 64, 3, 3,   1, 1,   1, 1, 1, 1,   1, 1,   1}, 1},
    {"mobilenet_v1 depthwise 3x3 stride 2, 64 channels 112 -> 56",
     {1, 64, 112, 112, 64, 3, 3, 2, 2,   1, 1, 0, 0,   1, 1,  64}, 1},
};

#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static uint64_t base_seed = DEFAULT_SEED;

/* "n2 c6 h9 w9 k5 r1 s1 stride 2x2 pad t0 l0 b-1 r-1 dil 1x1 g1 bias
 * -> p4 q4" */
static void format_desc(const shape *s, const conv_desc *d, char *buf,
                        size_t n)
{
    const test_geometry *g = &s->geo;

    snprintf(buf, n, "'%s': n%d c%d h%d w%d k%d r%d s%d stride %dx%d pad "
             "t%d l%d b%d r%d dil %dx%d g%d %s -> p%lld q%lld", s->name,
             g->n, g->c, g->h, g->w, g->k, g->r, g->s, g->sh, g->sw, g->pt,
             g->pl, g->pb, g->pr, g->dh, g->dw, g->g,
             s->bias ? "bias" : "no bias", (long long)d->p, (long long)d->q);
}

/* One data set with its reference answer. */
typedef struct dataset {
    const char *kind;     /* "exact" or "real" */
    uint64_t seed;
    float *x, *w, *b;     /* b is NULL for shapes without bias */
    double *yref, *beta;
} dataset;

/* Everything one shape's checks share. */
typedef struct fixture {
    const shape *s;
    conv_desc d;
    int64_t nx, nw, ny;
    dataset exact, real;
    float *y, *y2, *x_copy, *w_scratch, *b_scratch;
} fixture;

static void dataset_alloc(const fixture *f, dataset *ds)
{
    ds->x = test_alloc((size_t)f->nx, sizeof(float));
    ds->w = test_alloc((size_t)f->nw, sizeof(float));
    ds->b = f->s->bias ? test_alloc((size_t)f->d.k, sizeof(float))
                       : NULL;
    ds->yref = test_alloc((size_t)f->ny, sizeof(double));
    ds->beta = test_alloc((size_t)f->ny, sizeof(double));
}

static void dataset_free(dataset *ds)
{
    free(ds->x);
    free(ds->w);
    free(ds->b);
    free(ds->yref);
    free(ds->beta);
}

/* Integer data that every summation order adds up exactly. */
static void fill_exact(const fixture *f, dataset *ds)
{
    ref_exact_fill e = ref_exact_fill_for(&f->d);

    ds->kind = "exact";
    ref_fill_ints(ds->x, f->nx, e.x_max, e.x_density, ds->seed);
    ref_fill_ints(ds->w, f->nw, e.w_max, e.w_density, ds->seed + 1);
    if (ds->b)
        ref_fill_ints(ds->b, f->d.k, e.b_max, 1.0, ds->seed + 2);
}

static void fill_real(const fixture *f, dataset *ds)
{
    ds->kind = "real";
    ref_fill_real(ds->x, f->nx, ds->seed);
    ref_fill_real(ds->w, f->nw, ds->seed + 1);
    if (ds->b)
        ref_fill_real(ds->b, f->d.k, ds->seed + 2);
}

static int fixture_setup(void **state)
{
    const shape *s = *state;
    fixture *f = test_alloc(1, sizeof *f);
    uint64_t seed = base_seed + 16 * (uint64_t)(s - shapes);

    f->s = s;
    f->d = test_desc(&s->geo);
    assert_int_equal(conv_desc_check(&f->d), CONV_OK);
    f->nx = conv_desc_input_elems(&f->d);
    f->nw = conv_desc_weight_elems(&f->d);
    f->ny = conv_desc_output_elems(&f->d);
    dataset_alloc(f, &f->exact);
    dataset_alloc(f, &f->real);
    f->exact.seed = seed;
    f->real.seed = seed + 8;
    fill_exact(f, &f->exact);
    fill_real(f, &f->real);
    assert_int_equal(ref_conv(&f->d, f->exact.x, f->exact.w, f->exact.b,
                              f->exact.yref, f->exact.beta), CONV_OK);
    assert_int_equal(ref_conv(&f->d, f->real.x, f->real.w, f->real.b,
                              f->real.yref, f->real.beta), CONV_OK);

    f->y = test_alloc((size_t)f->ny, sizeof(float));
    f->y2 = test_alloc((size_t)f->ny, sizeof(float));
    f->x_copy = test_alloc((size_t)f->nx, sizeof(float));
    f->w_scratch = test_alloc((size_t)f->nw, sizeof(float));
    f->b_scratch = test_alloc((size_t)f->d.k, sizeof(float));
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;

    dataset_free(&f->exact);
    dataset_free(&f->real);
    free(f->y);
    free(f->y2);
    free(f->x_copy);
    free(f->w_scratch);
    free(f->b_scratch);
    free(f);
    return 0;
}

/* Fails the test with the algorithm, the shape, the seed and `what`. */
static void report(const fixture *f, const char *algo, int threads,
                   const dataset *ds, const char *fmt, ...)
{
    char shape_text[400], what[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    format_desc(f->s, &f->d, shape_text, sizeof shape_text);
    fail_msg("%s, %d thread(s), %s fill, seed %llu (base TEST_SEED=%llu):"
             "\n  shape %s\n  %s", algo, threads, ds->kind,
             (unsigned long long)ds->seed, (unsigned long long)base_seed,
             shape_text, what);
}

/* The output index i as n, k, p, q. */
static void format_index(const conv_desc *d, int64_t i, char *buf,
                         size_t n)
{
    int64_t q = i % d->q, p = i / d->q % d->p;
    int64_t k = i / (d->p * d->q) % d->k, img = i / (d->k * d->p * d->q);

    snprintf(buf, n, "index %lld (n%lld k%lld p%lld q%lld)", (long long)i,
             (long long)img, (long long)k, (long long)p, (long long)q);
}

/* Hands the weights over through scratch copies that are then poisoned,
 * so a plan that kept the caller's pointers produces NaN. */
static void give_weights(fixture *f, conv_plan *plan, const char *algo,
                         int threads, const dataset *ds)
{
    float *b = ds->b ? f->b_scratch : NULL;
    conv_status st;

    memcpy(f->w_scratch, ds->w, (size_t)f->nw * sizeof(float));
    if (b)
        memcpy(b, ds->b, (size_t)f->d.k * sizeof(float));
    st = conv_plan_set_weights(plan, f->w_scratch, b);
    if (st != CONV_OK)
        report(f, algo, threads, ds, "set_weights: %s (%s)",
               conv_status_str(st), conv_reason());
    test_poison(f->w_scratch, f->nw);
    test_poison(f->b_scratch, f->d.k);
}

/* The output against the reference under the algorithm's tolerance. */
static void compare(const fixture *f, const char *algo, int threads,
                    const dataset *ds)
{
    const ref_tolerance *tol = ref_tolerance_for(algo);
    double bound = ref_tolerance_eps(algo, &f->d);
    ref_error e = ref_compare(f->y, ds->yref, ds->beta, f->ny);
    int exact = tol->exact && strcmp(ds->kind, "exact") == 0;
    char where[128];

    if (e.nonfinite == 0 && (exact ? e.mismatches == 0
                                   : e.max_eps <= bound))
        return;
    format_index(&f->d, e.worst, where, sizeof where);
    report(f, algo, threads, ds, "%lld non-finite, %lld differing, max "
           "error %.3g eps (bound %s%.3g); worst at %s: got %.9g, want "
           "%.9g", (long long)e.nonfinite, (long long)e.mismatches,
           e.max_eps, exact ? "bit-exact, " : "", bound, where,
           e.worst >= 0 ? f->y[e.worst] : 0.0,
           e.worst >= 0 ? ds->yref[e.worst] : 0.0);
}

/* Execute on poisoned output, compare, then again: the same bits. The
 * input must come back untouched. */
static void run_twice(fixture *f, conv_plan *plan, const char *algo,
                      int threads, const dataset *ds)
{
    conv_status st;

    memcpy(f->x_copy, ds->x, (size_t)f->nx * sizeof(float));
    test_poison(f->y, f->ny);
    st = conv_execute(plan, f->x_copy, f->y);
    if (st != CONV_OK)
        report(f, algo, threads, ds, "execute: %s (%s)",
               conv_status_str(st), conv_reason());
    compare(f, algo, threads, ds);

    test_poison(f->y2, f->ny);
    st = conv_execute(plan, f->x_copy, f->y2);
    if (st != CONV_OK)
        report(f, algo, threads, ds, "second execute: %s (%s)",
               conv_status_str(st), conv_reason());
    for (int64_t i = 0; i < f->ny; i++)
        if (memcmp(&f->y[i], &f->y2[i], sizeof(float)) != 0)
            report(f, algo, threads, ds, "second execute differs at "
                   "output %lld: %.9g then %.9g", (long long)i, f->y[i],
                   f->y2[i]);
    if (memcmp(f->x_copy, ds->x, (size_t)f->nx * sizeof(float)) != 0)
        report(f, algo, threads, ds, "execute modified its input x");
}

/* One plan: exact weights, then the real-valued weights replace them. */
static void check_algo(fixture *f, const char *algo, int threads)
{
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;
    conv_status st;

    opt.threads = threads;
    st = conv_plan_create(&plan, &f->d, algo, &opt);
    if (st != CONV_OK)
        report(f, algo, threads, &f->exact, "plan_create: %s (%s)",
               conv_status_str(st), conv_reason());
    if (conv_plan_describe(plan)[0] == '\0')
        report(f, algo, threads, &f->exact, "empty plan description");
    if (conv_plan_workspace_bytes(plan)
        != conv_algo_workspace_bytes(algo, &f->d, threads))
        report(f, algo, threads, &f->exact, "plan owns %zu workspace bytes,"
               " the query says %zu", conv_plan_workspace_bytes(plan),
               conv_algo_workspace_bytes(algo, &f->d, threads));

    give_weights(f, plan, algo, threads, &f->exact);
    run_twice(f, plan, algo, threads, &f->exact);
    give_weights(f, plan, algo, threads, &f->real);
    run_twice(f, plan, algo, threads, &f->real);
    conv_plan_destroy(plan);
}

/* Every algorithm that applies to the shape, at 1 and 2 threads. */
static void test_shape(void **state)
{
    fixture *f = *state;
    char why[256];

    for (int a = 0; a < conv_algo_count(); a++) {
        const char *algo = conv_algo_name(a);

        if (!conv_algo_applies(algo, &f->d, why, sizeof why))
            continue;
        check_algo(f, algo, 1);
        check_algo(f, algo, 2);
    }
}

/* Each algorithm applies to some shape of the table, or the table
 * tests nothing of it. */
static void test_every_algo_covered(void **state)
{
    char why[256];

    assert_true(conv_algo_count() > 0);
    for (int a = 0; a < conv_algo_count(); a++) {
        const char *algo = conv_algo_name(a);
        int used = 0;

        for (int i = 0; i < N_SHAPES; i++) {
            conv_desc d = test_desc(&shapes[i].geo);

            assert_int_equal(conv_desc_check(&d), CONV_OK);
            used += conv_algo_applies(algo, &d, why, sizeof why) != 0;
        }
        if (used == 0)
            fail_msg("%s applies to none of the %d shapes", algo,
                     N_SHAPES);
    }
    assert_null(conv_algo_name(conv_algo_count()));
}

/* A declined shape: EUNSUPPORTED, a reason naming the algorithm. */
static void expect_declined(const char *algo, const shape *s)
{
    conv_desc d = test_desc(&s->geo);
    conv_plan *plan = NULL;
    char why[256] = "";

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(conv_algo_applies(algo, &d, why, sizeof why), 0);
    if (why[0] == '\0')
        fail_msg("%s declines '%s' without a reason", algo, s->name);
    if (conv_plan_create(&plan, &d, algo, NULL) != CONV_EUNSUPPORTED
        || plan != NULL)
        fail_msg("%s on '%s': plan_create must return EUNSUPPORTED and "
                 "no plan", algo, s->name);
    if (strstr(conv_reason(), algo) == NULL)
        fail_msg("%s on '%s': reason '%s' does not name the algorithm",
                 algo, s->name, conv_reason());
}

static void test_declines_with_reason(void **state)
{
    int declined = 0;
    char why[256];

    for (int a = 0; a < conv_algo_count(); a++)
        for (int i = 0; i < N_SHAPES; i++) {
            conv_desc d = test_desc(&shapes[i].geo);

            assert_int_equal(conv_desc_check(&d), CONV_OK);
            if (conv_algo_applies(conv_algo_name(a), &d, why, sizeof why))
                continue;
            expect_declined(conv_algo_name(a), &shapes[i]);
            declined++;
        }

    /* conv1x1 at least declines the 3x3 shapes. */
    assert_true(declined > 0);
}

/* Descriptors that break a rule of the API, whatever the algorithm. */
static void test_invalid_descriptor(void **state)
{
    conv_desc bad[4];

    for (int i = 0; i < 4; i++)
        bad[i] = test_desc(&shapes[0].geo);
    bad[0].c = 0;                      /* no input channels */
    bad[1].groups = 2;                 /* 2 does not divide c = 3 */
    bad[2].r = 20;                     /* kernel taller than the input */
    bad[3].stride_w = 0;
    for (int a = 0; a < conv_algo_count(); a++)
        for (int i = 0; i < 4; i++) {
            conv_plan *plan = NULL;

            assert_int_equal(conv_plan_create(&plan, &bad[i],
                                              conv_algo_name(a), NULL),
                             CONV_EINVAL);
            assert_null(plan);
            assert_true(conv_reason()[0] != '\0');
        }
}

static void test_unknown_algorithm(void **state)
{
    conv_desc d = test_desc(&shapes[0].geo);
    conv_plan *plan = NULL;
    char why[256] = "";

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(conv_plan_create(&plan, &d, "no_such_algo", NULL),
                     CONV_EINVAL);
    assert_null(plan);
    assert_non_null(strstr(conv_reason(), "no_such_algo"));
    assert_int_equal(conv_algo_applies("no_such_algo", &d, why, sizeof why),
                     0);
    assert_true(why[0] != '\0');
}

/* Execute before set_weights is out of order; NULL weights are invalid. */
static void test_call_order(void **state)
{
    char why[256];
    float out[1];

    for (int a = 0; a < conv_algo_count(); a++) {
        const char *algo = conv_algo_name(a);
        conv_desc d;
        conv_plan *plan = NULL;
        int i = 0;

        while (i < N_SHAPES && (d = test_desc(&shapes[i].geo),
                                conv_desc_check(&d) != CONV_OK
                                || !conv_algo_applies(algo, &d, why,
                                                      sizeof why)))
            i++;
        assert_true(i < N_SHAPES);
        assert_int_equal(conv_plan_create(&plan, &d, algo, NULL), CONV_OK);
        assert_int_equal(conv_execute(plan, out, out), CONV_ESTATE);
        assert_true(conv_reason()[0] != '\0');
        assert_int_equal(conv_plan_set_weights(plan, NULL, NULL),
                         CONV_EINVAL);
        conv_plan_destroy(plan);
    }
}

int main(void)
{
    static struct CMUnitTest per_shape[N_SHAPES];
    const struct CMUnitTest api[] = {
        cmocka_unit_test(test_every_algo_covered),
        cmocka_unit_test(test_declines_with_reason),
        cmocka_unit_test(test_invalid_descriptor),
        cmocka_unit_test(test_unknown_algorithm),
        cmocka_unit_test(test_call_order),
    };
    int failed;

    base_seed = test_seed(DEFAULT_SEED);
    printf("test_algos: %d algorithms, %d shapes, seed %llu\n",
           conv_algo_count(), N_SHAPES, (unsigned long long)base_seed);
    for (int i = 0; i < N_SHAPES; i++) {
        per_shape[i].name = shapes[i].name;
        per_shape[i].test_func = test_shape;
        per_shape[i].setup_func = fixture_setup;
        per_shape[i].teardown_func = fixture_teardown;
        per_shape[i].initial_state = (void *)&shapes[i];
    }
    failed = cmocka_run_group_tests_name("algorithm api", api, NULL, NULL);
    failed += _cmocka_run_group_tests("algorithms on shapes", per_shape,
                                      N_SHAPES, NULL, NULL);
    return failed != 0;
}
