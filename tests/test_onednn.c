/* The oneDNN backend: its outputs in both layouts against the fp64
 * reference on awkward shapes, the kernels it picks, and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "onednn.h"
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 20240611u

/* One convolution of the table, written out field by field. */
typedef struct shape {
    const char *name;
    int64_t n, c, h, w, k, r, s;
    int64_t sh, sw, pt, pl, pb, pr, dh, dw, g;
    int bias;
} shape;

static const shape shapes[] = {
    /*  name                      n   c   h   w   k  r  s sh sw pt pl  pb
     *  pr dh dw   g bias */
    {"3x3 pad 1",                 2, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1,  1,
      1, 1, 1,  1, 1},
    {"3x3 stride 2",              1,  8, 15, 15, 12, 3, 3, 2, 2, 1, 1,  1,
      1, 1, 1,  1, 1},
    {"stride 2 by 1, 5x3",        1,  6, 16, 11, 10, 5, 3, 2, 1, 2, 1,  2,
      1, 1, 1,  1, 1},
    {"1x1",                       2, 24,  9,  9, 20, 1, 1, 1, 1, 0, 0,  0,
      0, 1, 1,  1, 1},
    {"1x1 stride 2, end pad -1",  1, 32, 56, 56, 16, 1, 1, 2, 2, 0, 0, -1,
     -1, 1, 1,  1, 1},
    {"3x3 stride 2, end pad -2",  1,  8, 20, 20,  8, 3, 3, 2, 2, 0, 0, -2,
     -2, 1, 1,  1, 1},
    {"end pad -10 (crop)",        1,  8, 20, 23,  8, 3, 3, 1, 1, 0, 1,-10,
     -5, 1, 1,  1, 1},
    {"groups 2 (AlexNet-like)",   1, 16, 13, 13, 24, 5, 5, 1, 1, 2, 2,  2,
      2, 1, 1,  2, 1},
    {"depthwise 32",              1, 32, 17, 17, 32, 3, 3, 1, 1, 1, 1,  1,
      1, 1, 1, 32, 1},
    {"depthwise stride 2",        2, 16, 12, 12, 16, 3, 3, 2, 2, 1, 1,  0,
      0, 1, 1, 16, 1},
    {"dilation 2",                1,  8, 19, 19,  8, 3, 3, 1, 1, 2, 2,  2,
      2, 2, 2,  1, 1},
    {"asymmetric padding",        1,  8, 13, 17,  8, 3, 3, 1, 1, 1, 0,  2,
      1, 1, 1,  1, 1},
    {"padding 4 with 3x3",        1,  4,  9,  9,  8, 3, 3, 1, 1, 4, 4,  4,
      4, 1, 1,  1, 1},
    {"no bias",                   2, 16, 13, 17, 16, 3, 3, 1, 1, 1, 1,  1,
      1, 1, 1,  1, 0},
    {"odd sizes 13x17, c7 k11",   1,  7, 13, 17, 11, 3, 3, 1, 1, 1, 1,  1,
      1, 1, 1,  1, 1},
    {"first layer 7x7 s2, c3",    1,  3, 29, 29, 16, 7, 7, 2, 2, 3, 3,  3,
      3, 1, 1,  1, 1},
    {"resnet_50:res2a_branch2b",  1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1,  1,
      1, 1, 1,  1, 1},
    {"resnet_50:res2b_branch2a",  1,256, 56, 56, 64, 1, 1, 1, 1, 0, 0,  0,
      0, 1, 1,  1, 1},
};

#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static conv_desc desc_of(const shape *t)
{
    conv_desc d = conv_desc_default();

    d.n = t->n;
    d.c = t->c;
    d.h = t->h;
    d.w = t->w;
    d.k = t->k;
    d.r = t->r;
    d.s = t->s;
    d.stride_h = t->sh;
    d.stride_w = t->sw;
    d.pad_top = t->pt;
    d.pad_left = t->pl;
    d.pad_bottom = t->pb;
    d.pad_right = t->pr;
    d.dil_h = t->dh;
    d.dil_w = t->dw;
    d.groups = t->g;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    return d;
}

/* Random real-valued tensors for one shape, and the reference output. */
typedef struct problem {
    conv_desc d;
    int64_t nx, nw, ny;
    float *x, *w, *b, *y;
    double *yref, *beta;
} problem;

/* Real values in [-1, 1), or with `exact` the integer fills on which
 * every fp32 product and partial sum is exact. */
static void fill(problem *pb, uint64_t seed, int exact)
{
    ref_exact_fill e = ref_exact_fill_for(&pb->d);

    if (exact) {
        ref_fill_ints(pb->x, pb->nx, e.x_max, e.x_density, seed);
        ref_fill_ints(pb->w, pb->nw, e.w_max, e.w_density, seed + 1);
    } else {
        ref_fill_real(pb->x, pb->nx, seed);
        ref_fill_real(pb->w, pb->nw, seed + 1);
    }
    if (pb->b != NULL && exact)
        ref_fill_ints(pb->b, pb->d.k, e.b_max, 1.0, seed + 2);
    else if (pb->b != NULL)
        ref_fill_real(pb->b, pb->d.k, seed + 2);
}

static void problem_init(problem *pb, const shape *t, uint64_t seed,
                         int exact)
{
    pb->d = desc_of(t);
    pb->nx = conv_desc_input_elems(&pb->d);
    pb->nw = conv_desc_weight_elems(&pb->d);
    pb->ny = conv_desc_output_elems(&pb->d);
    pb->x = malloc(sizeof(float) * (size_t)pb->nx);
    pb->w = malloc(sizeof(float) * (size_t)pb->nw);
    pb->b = t->bias ? malloc(sizeof(float) * (size_t)pb->d.k) : NULL;
    pb->y = malloc(sizeof(float) * (size_t)pb->ny);
    pb->yref = malloc(sizeof(double) * (size_t)pb->ny);
    pb->beta = malloc(sizeof(double) * (size_t)pb->ny);
    assert_non_null(pb->x);
    assert_non_null(pb->w);
    assert_non_null(pb->y);
    assert_non_null(pb->yref);
    assert_non_null(pb->beta);

    fill(pb, seed, exact);
    assert_int_equal(ref_conv(&pb->d, pb->x, pb->w, pb->b, pb->yref,
                              pb->beta), CONV_OK);
}

static void problem_free(problem *pb)
{
    free(pb->x);
    free(pb->w);
    free(pb->b);
    free(pb->y);
    free(pb->yref);
    free(pb->beta);
}

static void expect_ok(conv_status s, const char *what, const shape *t,
                      uint64_t seed)
{
    if (s != CONV_OK)
        fail_msg("%s on '%s' (seed %llu): %s: %s", what, t->name,
                 (unsigned long long)seed, conv_status_str(s),
                 conv_reason());
}

/* Creates, loads and runs a handle; the output lands in pb->y. */
static onednn_conv *run_onednn(problem *pb, const shape *t,
                               onednn_layout layout, int threads,
                               uint64_t seed)
{
    onednn_conv *h = NULL;

    expect_ok(onednn_conv_create(&h, &pb->d, layout, threads), "create",
              t, seed);
    expect_ok(onednn_conv_set_weights(h, pb->w, pb->b), "set_weights", t,
              seed);
    expect_ok(onednn_conv_set_input(h, pb->x), "set_input", t, seed);
    expect_ok(onednn_conv_run(h), "run", t, seed);
    test_poison(pb->y, pb->ny);
    expect_ok(onednn_conv_get_output(h, pb->y), "get_output", t, seed);
    return h;
}

/*
 * oneDNN's kernels accumulate in fp32 in their own order (JIT kernels by
 * input-channel blocks, the GEMM path by GEMM panels): ordinary fp32
 * summation error, a few units of eps relative to beta. The bound is the
 * direct algorithm's, which sums the same way.
 */
static double onednn_tolerance(void)
{
    return ref_tolerance_for("direct")->eps;
}

static const char *layout_name(onednn_layout l)
{
    return l == ONEDNN_ANY ? "any" : "nchw";
}

static void check_against_reference(onednn_layout layout)
{
    double tol = onednn_tolerance(), worst = 0;

    for (int i = 0; i < NSHAPES; i++) {
        const shape *t = &shapes[i];
        uint64_t seed = SEED + 16u * (uint64_t)i;
        int threads = 1 + i % 2;
        problem pb;
        onednn_conv *h;
        ref_error e;

        problem_init(&pb, t, seed, 0);
        h = run_onednn(&pb, t, layout, threads, seed);
        e = ref_compare(pb.y, pb.yref, pb.beta, pb.ny);
        print_message("  %-4s %-14s %-26s %6.2f eps  ws %zu B\n",
                      layout_name(layout), onednn_conv_impl(h), t->name,
                      e.max_eps, onednn_conv_workspace_bytes(h));
        if (e.nonfinite != 0 || !(e.max_eps <= tol))
            fail_msg("'%s' layout %s threads %d (seed %llu): error %.2f "
                     "eps at output %lld, bound %.1f eps; %lld not finite",
                     t->name, layout_name(layout), threads,
                     (unsigned long long)seed, e.max_eps,
                     (long long)e.worst, tol, (long long)e.nonfinite);
        assert_true(onednn_conv_reorder_seconds(h) >= 0.0);
        if (e.max_eps > worst)
            worst = e.max_eps;
        onednn_conv_destroy(h);
        problem_free(&pb);
    }
    print_message("  %s: largest error %.2f eps (bound %.1f)\n",
                  layout_name(layout), worst, tol);
}

static void any_layout_matches_reference(void **state)
{
    (void)state;
    check_against_reference(ONEDNN_ANY);
}

static void nchw_layout_matches_reference(void **state)
{
    (void)state;
    check_against_reference(ONEDNN_NCHW);
}

/* On exact fills every product and partial sum is an integer below
 * 2^24, so any order of summation gives the reference exactly: a wrong
 * tap, a shifted window or a lost bias shows, however small. */
static void check_exact(onednn_layout layout)
{
    for (int i = 0; i < NSHAPES; i++) {
        const shape *t = &shapes[i];
        uint64_t seed = SEED + 16u * (uint64_t)i + 8u;
        problem pb;
        onednn_conv *h;
        ref_error e;

        problem_init(&pb, t, seed, 1);
        h = run_onednn(&pb, t, layout, 0, seed);
        e = ref_compare(pb.y, pb.yref, pb.beta, pb.ny);
        if (e.mismatches != 0)
            fail_msg("'%s' layout %s, exact fill (seed %llu): %lld of %lld"
                     " outputs differ, worst at %lld: %.9g, reference "
                     "%.9g", t->name, layout_name(layout),
                     (unsigned long long)seed, (long long)e.mismatches,
                     (long long)pb.ny, (long long)e.worst,
                     (double)pb.y[e.worst], pb.yref[e.worst]);
        onednn_conv_destroy(h);
        problem_free(&pb);
    }
}

static void any_layout_is_exact_on_integers(void **state)
{
    (void)state;
    check_exact(ONEDNN_ANY);
}

static void nchw_layout_is_exact_on_integers(void **state)
{
    (void)state;
    check_exact(ONEDNN_NCHW);
}

/* The name of the kernel oneDNN picks in layout `any` for shape t. */
static void expect_impl(const shape *t, const char *want)
{
    conv_desc d = desc_of(t);
    onednn_conv *h = NULL;

    expect_ok(onednn_conv_create(&h, &d, ONEDNN_ANY, 0), "create", t, 0);
    if (strstr(onednn_conv_impl(h), want) == NULL)
        fail_msg("'%s': oneDNN picked '%s', expected a '%s' kernel",
                 t->name, onednn_conv_impl(h), want);
    onednn_conv_destroy(h);
}

/* Capped to AVX2, layout `any` must reach the JIT kernels the timings
 * are compared against, not a GEMM or reference fallback. */
static void any_layout_picks_jit_kernels(void **state)
{
    (void)state;
    expect_impl(&shapes[NSHAPES - 2], "jit");
    expect_impl(&shapes[NSHAPES - 2], "avx2");
    expect_impl(&shapes[NSHAPES - 1], "jit");
    expect_impl(&shapes[NSHAPES - 1], "avx2");
}

/* New weights on the same handle give the new convolution. */
static void weights_can_be_replaced(void **state)
{
    const shape *t = &shapes[7];
    problem pb;
    onednn_conv *h;
    ref_error e;

    (void)state;
    problem_init(&pb, t, SEED + 1000, 0);
    h = run_onednn(&pb, t, ONEDNN_ANY, 0, SEED + 1000);

    ref_fill_real(pb.w, pb.nw, SEED + 1001);
    assert_int_equal(ref_conv(&pb.d, pb.x, pb.w, NULL, pb.yref, pb.beta),
                     CONV_OK);
    assert_int_equal(onednn_conv_set_weights(h, pb.w, NULL), CONV_OK);
    assert_int_equal(onednn_conv_run(h), CONV_OK);
    test_poison(pb.y, pb.ny);
    assert_int_equal(onednn_conv_get_output(h, pb.y), CONV_OK);
    e = ref_compare(pb.y, pb.yref, pb.beta, pb.ny);
    assert_int_equal(e.nonfinite, 0);
    assert_true(e.max_eps <= onednn_tolerance());

    onednn_conv_destroy(h);
    problem_free(&pb);
}

static void expect_status(conv_status got, conv_status want,
                          const char *what)
{
    if (got != want)
        fail_msg("%s: got '%s', expected '%s' (reason: %s)", what,
                 conv_status_str(got), conv_status_str(want),
                 conv_reason());
    if (want != CONV_OK && conv_reason()[0] == '\0')
        fail_msg("%s: '%s' without a reason", what, conv_status_str(got));
}

static void bad_isa_names_are_rejected(void **state)
{
    (void)state;
    expect_status(onednn_set_max_isa("avx9"), CONV_EINVAL, "ISA 'avx9'");
    assert_non_null(strstr(conv_reason(), "avx9"));
    expect_status(onednn_set_max_isa(NULL), CONV_EINVAL, "ISA NULL");

    /* The limit is fixed by now: the same one again is fine, another is
     * refused rather than silently ignored. */
    expect_status(onednn_set_max_isa("avx2"), CONV_OK, "ISA avx2 again");
    expect_status(onednn_set_max_isa("native"), CONV_ESTATE,
                  "ISA native after avx2");
    assert_string_equal(onednn_isa(), "Intel AVX2");
}

static void bad_descriptors_are_rejected(void **state)
{
    conv_desc d = conv_desc_default();
    onednn_conv *h = (onednn_conv *)&d;

    (void)state;
    d.n = 1;
    d.c = 6;
    d.h = d.w = 5;
    d.k = 4;
    d.r = d.s = 1;
    d.groups = 4;
    expect_status(onednn_conv_create(&h, &d, ONEDNN_ANY, 0), CONV_EINVAL,
                  "groups 4 with 6 channels");
    assert_null(h);

    /* Every tap of every output row lands in the top padding: valid for
     * the library, but oneDNN cannot be told to read no input row. */
    d.groups = 1;
    d.pad_top = 10;
    d.pad_bottom = -10;
    expect_status(onednn_conv_create(&h, &d, ONEDNN_ANY, 0),
                  CONV_EUNSUPPORTED, "input entirely in padding");
    assert_null(h);

    d.pad_top = d.pad_bottom = 0;
    expect_status(onednn_conv_create(&h, &d, ONEDNN_NCHW, -1), CONV_EINVAL,
                  "threads -1");
    expect_status(onednn_conv_create(&h, &d, (onednn_layout)7, 0),
                  CONV_EINVAL, "layout 7");
    expect_status(onednn_conv_create(NULL, &d, ONEDNN_ANY, 0), CONV_EINVAL,
                  "NULL handle pointer");
    expect_status(onednn_conv_create(&h, NULL, ONEDNN_ANY, 0), CONV_EINVAL,
                  "NULL descriptor");
}

static void calls_out_of_order_are_rejected(void **state)
{
    const shape *t = &shapes[3];
    conv_desc d = desc_of(t);
    float x[2 * 24 * 9 * 9] = {0}, y[2 * 20 * 9 * 9];
    onednn_conv *h = NULL;

    (void)state;
    expect_ok(onednn_conv_create(&h, &d, ONEDNN_NCHW, 1), "create", t, 0);
    expect_status(onednn_conv_run(h), CONV_ESTATE, "run before weights");
    expect_status(onednn_conv_set_input(h, x), CONV_OK, "set_input");
    expect_status(onednn_conv_run(h), CONV_ESTATE, "run before weights");
    expect_status(onednn_conv_get_output(h, y), CONV_ESTATE,
                  "get_output before run");
    expect_status(onednn_conv_set_weights(h, NULL, NULL), CONV_EINVAL,
                  "NULL weights");
    expect_status(onednn_conv_set_input(h, NULL), CONV_EINVAL,
                  "NULL input");
    expect_status(onednn_conv_get_output(h, NULL), CONV_EINVAL,
                  "NULL output");
    onednn_conv_destroy(h);
    onednn_conv_destroy(NULL);
}

/* ready() runs the first steps in one call, and on a failing step
 * leaves no handle behind. */
static void ready_runs_or_leaves_nothing(void **state)
{
    const shape *t = &shapes[3];
    conv_desc d = desc_of(t);
    float x[2 * 24 * 9 * 9] = {0}, w[20 * 24] = {0};
    float y[2 * 20 * 9 * 9];
    onednn_conv *h = NULL;

    (void)state;
    expect_ok(onednn_conv_ready(&h, &d, ONEDNN_ANY, 1, w, NULL, x), "ready",
              t, 0);
    expect_status(onednn_conv_get_output(h, y), CONV_OK, "get_output");
    assert_true(y[0] == 0.0f && y[2 * 20 * 9 * 9 - 1] == 0.0f);
    onednn_conv_destroy(h);

    h = (onednn_conv *)&d;
    expect_status(onednn_conv_ready(&h, &d, ONEDNN_ANY, 1, NULL, NULL, x),
                  CONV_EINVAL, "ready with NULL weights");
    assert_null(h);
}

/* The harness caps oneDNN to AVX2 before anything else; so do we. */
static int cap_isa(void **state)
{
    (void)state;
    if (onednn_set_max_isa("avx2") != CONV_OK) {
        print_error("onednn_set_max_isa(\"avx2\"): %s\n", conv_reason());
        return -1;
    }
    print_message("oneDNN %s on %s\n", onednn_version(), onednn_isa());
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_layout_matches_reference),
        cmocka_unit_test(nchw_layout_matches_reference),
        cmocka_unit_test(any_layout_is_exact_on_integers),
        cmocka_unit_test(nchw_layout_is_exact_on_integers),
        cmocka_unit_test(any_layout_picks_jit_kernels),
        cmocka_unit_test(weights_can_be_replaced),
        cmocka_unit_test(bad_isa_names_are_rejected),
        cmocka_unit_test(bad_descriptors_are_rejected),
        cmocka_unit_test(calls_out_of_order_are_rejected),
        cmocka_unit_test(ready_runs_or_leaves_nothing),
    };

    return cmocka_run_group_tests(tests, cap_isa, NULL);
}
