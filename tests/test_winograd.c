/*
 * The Winograd family: the transform matrices reproduce a 1-D correlation
 * (a property of the interpolation points), each variant matches the fp64
 * reference within its tolerance over sizes around its tile and other
 * awkward shapes at 1 and 2 threads, and everything that is not a 3x3
 * stride-1 undilated kernel is declined with a reason.
 *
 * TEST_SEED=N in the environment reruns with another base seed; every
 * failure prints the seed, the variant and the whole shape.
 */
#include "conv.h"
#include "ref.h"
#include "winograd.h"

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

#define DEFAULT_SEED 20251203u

static const char *const variants[] = {
    "winograd_f2x2", "winograd_f4x4", "winograd_f6x6",
};
static const int tile_m[] = {2, 4, 6};

/* xorshift64*: reals in [-1, 1) for the property tests. */
static double next_real(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) * 0x1p-52 - 1.0;
}

/* ---- The transforms -------------------------------------------------- */

/* A^T [(G g) .* (B^T d)] against the direct correlation of d and g,
 * relative to sum |g| |d| over each output's taps. */
static double transform_error(const wino_matrices *w, uint64_t *seed)
{
    double d[WINO_ALPHA_MAX], g[3], prod[WINO_ALPHA_MAX], worst = 0.0;

    for (int i = 0; i < w->alpha; i++)
        d[i] = next_real(seed);
    for (int k = 0; k < 3; k++)
        g[k] = next_real(seed);
    for (int j = 0; j < w->alpha; j++) {
        double gg = 0.0, dd = 0.0;

        for (int k = 0; k < 3; k++)
            gg += w->g[j][k] * g[k];
        for (int i = 0; i < w->alpha; i++)
            dd += w->bt[j][i] * d[i];
        prod[j] = gg * dd;
    }
    for (int i = 0; i < w->m; i++) {
        double y = 0.0, direct = 0.0, scale = 0.0;

        for (int j = 0; j < w->alpha; j++)
            y += w->at[i][j] * prod[j];
        for (int k = 0; k < 3; k++) {
            direct += g[k] * d[i + k];
            scale += fabs(g[k] * d[i + k]);
        }
        if (fabs(y - direct) / scale > worst)
            worst = fabs(y - direct) / scale;
    }
    return worst;
}

static void check_points(int m, const wino_matrices *w, const char *what)
{
    uint64_t seed = test_seed(DEFAULT_SEED) * 2654435761u + (uint64_t)m;
    uint64_t start = seed;

    assert_int_equal(w->m, m);
    assert_int_equal(w->alpha, m + 2);
    for (int trial = 0; trial < 1000; trial++) {
        double e = transform_error(w, &seed);

        if (e > 1e-12)
            fail_msg("F(%d,3) with %s: correlation off by %.3g (relative)"
                     " at trial %d, seed %llu", m, what, e, trial,
                     (unsigned long long)start);
    }
}

/* The plans' matrices, and the construction itself on other points. */
static void test_transforms_correlate(void **state)
{
    static const double other[] = {0.0, 1.0, -1.0, 3.0, -0.25, 0.75, -3.0};
    wino_matrices w;

    (void)state;
    for (int v = 0; v < 3; v++) {
        assert_true(wino_matrices_for(tile_m[v], &w));
        check_points(tile_m[v], &w, "the plan's points");
        wino_matrices_from_points(tile_m[v], other, &w);
        check_points(tile_m[v], &w, "points 0, 1, -1, 3, -1/4, 3/4, -3");
    }
    assert_false(wino_matrices_for(3, &w));
}

/* ---- Convolutions against the reference ------------------------------ */

typedef struct shape {
    const char *name;
    int n, c, h, w, k;
    int pt, pl, pb, pr, g;
    int bias;
} shape;

static const shape shapes[] = {
    /* n  c   h   w   k   pt pl pb pr  g  bias */
    {"prime 13x17", 1, 3, 13, 17, 5, 1, 1, 1, 1, 1, 1},
    {"prime 31x29, 7 -> 9 channels", 1, 7, 31, 29, 9, 1, 1, 1, 1, 1, 1},
    {"1x1 image, padding 1", 2, 4, 1, 1, 3, 1, 1, 1, 1, 1, 1},
    {"padding 0", 1, 5, 11, 12, 4, 0, 0, 0, 0, 1, 1},
    {"padding 2", 1, 3, 9, 10, 4, 2, 2, 2, 2, 1, 0},
    {"asymmetric padding, top 1 bottom 2", 1, 3, 10, 9, 4, 1, 0, 2, 1, 1, 1},
    {"negative end padding", 2, 4, 12, 11, 3, 1, 1, -1, -2, 1, 1},
    {"padding beyond the kernel reach", 1, 2, 5, 6, 3, 4, 3, 4, 5, 1, 1},
    {"groups 2", 2, 6, 8, 9, 4, 1, 1, 1, 1, 2, 1},
    {"depthwise 11x11", 1, 8, 11, 11, 8, 1, 1, 1, 1, 8, 1},
    {"1 channel", 1, 1, 14, 15, 1, 1, 1, 1, 1, 1, 1},
    {"23 -> 19 channels, batch 2", 2, 23, 15, 13, 19, 1, 1, 1, 1, 1, 1},
    {"ResNet-50 res5 3x3, 32 channels", 1, 32, 7, 7, 32, 1, 1, 1, 1, 1, 1},
    {"more tiles than one block", 1, 4, 64, 63, 7, 1, 1, 1, 1, 1, 1},
    {"many blocks, 64 output channels", 1, 2, 128, 131, 64,
     1, 1, 1, 1, 1, 1},
    {"blocks across images", 2, 1, 48, 47, 256, 1, 1, 1, 1, 1, 1},
    {"no output reaches the input", 1, 2, 2, 5, 3, 3, 1, -2, 1, 1, 1},

    /* Few channels per group: the multiply fused into the output. */
    {"fused: 1 -> 7 channels, 29x23", 1, 1, 29, 23, 7, 1, 1, 1, 1, 1, 1},
    {"fused: 2 -> 64 channels, batch 2", 2, 2, 19, 33, 64,
     1, 1, 1, 1, 1, 0},
    {"fused: 3 -> 64 channels, 37x41", 1, 3, 37, 41, 64, 1, 1, 1, 1, 1, 1},
    {"fused: 5 -> 7 channels, padding 2", 1, 5, 21, 27, 7,
     2, 2, 2, 2, 1, 1},
    {"fused: 8 -> 64 channels, 17x45", 1, 8, 17, 45, 64, 1, 1, 1, 1, 1, 1},
    {"unfused: 9 -> 7 channels", 1, 9, 23, 19, 7, 1, 1, 1, 1, 1, 1},
    {"fused: groups 3 of 2 -> 7 channels", 1, 6, 15, 26, 21,
     1, 1, 1, 1, 3, 1},
    {"fused: 1100 wide, more than one span", 1, 2, 3, 1100, 3,
     1, 1, 1, 1, 1, 1},
};

typedef struct run {
    conv_desc d;
    const char *variant;
    const char *shape;
    int threads;
    uint64_t seed;
    int portable;     /* the portable C kernels instead of AVX2's */
} run;

static void describe_run(const run *r, char *buf, size_t n)
{
    const conv_desc *d = &r->d;

    snprintf(buf, n, "%s%s, %s (n%lld c%lld %lldx%lld k%lld pad t%lld l%lld"
             " b%lld r%lld g%lld), %d thread(s), seed %llu", r->variant,
             r->portable ? " (portable C)" : "",
             r->shape, (long long)d->n, (long long)d->c, (long long)d->h,
             (long long)d->w, (long long)d->k, (long long)d->pad_top,
             (long long)d->pad_left, (long long)d->pad_bottom,
             (long long)d->pad_right, (long long)d->groups, r->threads,
             (unsigned long long)r->seed);
}

/* The variant's y against the reference on real-valued data. */
static void check_run(const run *r, int bias)
{
    conv_desc d = r->d;
    conv_plan *plan;
    test_data t;
    char what[320];

    describe_run(r, what, sizeof what);
    if (conv_desc_check(&d) != CONV_OK)
        fail_msg("%s: descriptor rejected: %s", what, conv_reason());
    t = test_data_new(&d);
    test_fill_real(&t, &d, r->seed);
    wino_force_portable(r->portable);
    plan = test_plan_run(&t, &d, r->variant, r->threads, bias, what);
    test_reference(&t, &d, bias ? t.b : NULL);
    test_expect_close(&t, ref_tolerance_for(r->variant)->eps, what);

    conv_plan_destroy(plan);
    wino_force_portable(0);
    test_data_free(&t);
}

/* The family's kernel: 3x3, stride 1, no dilation. */
static conv_desc desc_of(const shape *s)
{
    test_geometry g = {s->n, s->c, s->h, s->w, s->k, 3, 3, 1, 1,
                       s->pt, s->pl, s->pb, s->pr, 1, 1, s->g};

    return test_desc(&g);
}

/* Every shape, variant and thread count, with the kernels this machine
 * picks and with the portable C ones. */
static void test_awkward_shapes(void **state)
{
    uint64_t seed = test_seed(DEFAULT_SEED);

    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int v = 0; v < 3; v++)
            for (int t = 1; t <= 2; t++)
                for (int portable = 0; portable <= 1; portable++) {
                    run r = {desc_of(&shapes[i]), variants[v],
                             shapes[i].name, t, seed + i, portable};

                    check_run(&r, shapes[i].bias);
                }
}

/* Output sizes one below, at and one above one and two tiles. */
static void test_sizes_around_the_tile(void **state)
{
    uint64_t seed = test_seed(DEFAULT_SEED) + 1000;

    (void)state;
    for (int v = 0; v < 3; v++)
        for (int tiles = 1; tiles <= 2; tiles++)
            for (int delta = -1; delta <= 1; delta++) {
                int out = tiles * tile_m[v] + delta;
                shape s = {"tile +-1", 1, 3, out, out + 1, 4,
                           1, 1, 1, 1, 1, 1};
                run r = {desc_of(&s), variants[v], "output tile +-1",
                         1 + (delta != 0), seed++, 0};

                /* Padding 1 keeps the output at the input's size. */
                check_run(&r, 1);
            }
}

/* ---- What the family declines ---------------------------------------- */

static void expect_declined(const conv_desc *base, const char *field,
                            const char *needle)
{
    conv_desc d = *base;
    char why[256] = "";
    conv_plan *plan = NULL;

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    for (int v = 0; v < 3; v++) {
        if (conv_algo_applies(variants[v], &d, why, sizeof why))
            fail_msg("%s accepted %s", variants[v], field);
        if (strstr(why, "3x3 kernel with stride 1") == NULL
            || strstr(why, needle) == NULL)
            fail_msg("%s declined %s with '%s'", variants[v], field, why);
        assert_int_equal(conv_plan_create(&plan, &d, variants[v], NULL),
                         CONV_EUNSUPPORTED);
        assert_null(plan);
    }
}

static void test_declines_with_reason(void **state)
{
    conv_desc d = desc_of(&shapes[0]);

    (void)state;
    d.r = d.s = 5;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 2;
    expect_declined(&d, "a 5x5 kernel", "5x5");

    d = desc_of(&shapes[0]);
    d.stride_h = d.stride_w = 2;
    expect_declined(&d, "stride 2", "stride 2x2");

    d = desc_of(&shapes[0]);
    d.dil_h = 2;
    expect_declined(&d, "dilation 2", "dilation 2x1");

    d = desc_of(&shapes[0]);
    d.r = 1;
    d.pad_top = d.pad_bottom = 0;
    expect_declined(&d, "a 1x3 kernel", "1x3");
}

/* The profile splits execute into the three phases it reports. */
/* One execution's profile and description, for a shape of few input
 * channels (fused where the kernels allow) and one of many. */
static void check_profile(const conv_desc *d, const float *x,
                          const float *w, float *y)
{
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;
    conv_profile p;

    opt.profile = 1;
    opt.threads = 2;
    for (int v = 0; v < 3; v++) {
        assert_int_equal(conv_plan_create(&plan, d, variants[v], &opt),
                         CONV_OK);
        assert_int_equal(conv_plan_set_weights(plan, w, NULL), CONV_OK);
        assert_int_equal(conv_execute(plan, x, y), CONV_OK);
        assert_int_equal(conv_execute(plan, x, y), CONV_OK);
        assert_int_equal(conv_plan_profile(plan, &p), CONV_OK);
        assert_int_equal(p.executions, 2);
        assert_true(p.input_transform > 0.0 && p.output_transform > 0.0);
        assert_true(conv_plan_workspace_bytes(plan) > 0);
        assert_non_null(strstr(conv_plan_describe(plan), variants[v]));

        /* A fused plan counts its products as output transform. */
        if (strstr(conv_plan_describe(plan), "fused") != NULL)
            assert_true(d->c / d->groups <= WINO_FUSED_MAX_C
                        && p.multiply == 0.0);
        else
            assert_true(p.multiply > 0.0);
        conv_plan_destroy(plan);
    }
}

static void test_profile_and_description(void **state)
{
    conv_desc d = desc_of(&shapes[1]), many = desc_of(&shapes[11]);
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;
    float *x, *w, *y;

    (void)state;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(conv_desc_check(&many), CONV_OK);
    x = test_alloc((size_t)(conv_desc_input_elems(&d)
                            + conv_desc_input_elems(&many)), sizeof *x);
    w = test_alloc((size_t)(conv_desc_weight_elems(&d)
                            + conv_desc_weight_elems(&many)), sizeof *w);
    y = test_alloc((size_t)(conv_desc_output_elems(&d)
                            + conv_desc_output_elems(&many)), sizeof *y);
    check_profile(&d, x, w, y);
    check_profile(&many, x, w, y);

    /* The switch the shape tests use does reach the plan. */
    wino_force_portable(1);
    assert_int_equal(conv_plan_create(&plan, &d, variants[0], &opt),
                     CONV_OK);
    wino_force_portable(0);
    assert_non_null(strstr(conv_plan_describe(plan), "portable C"));
    conv_plan_destroy(plan);
    free(x);
    free(w);
    free(y);
}

/*
 * The fused path streams rows that cover whole cache lines (y 64-byte
 * aligned, 8*m floats per lane group) and stores the others plainly: an
 * output 64 wide, at an aligned address and 16 bytes off, matches the
 * reference both ways and gives the same floats.
 */
static void test_streamed_rows(void **state)
{
    test_geometry g = {1, 3, 20, 64, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    conv_desc d = test_desc(&g);
    uint64_t seed = test_seed(DEFAULT_SEED) + 2000;
    void *mem = NULL;

    (void)state;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    for (int v = 0; v < 3; v++)
        for (int t = 1; t <= 2; t++) {
            test_data td = test_data_new(&d);
            float *off;
            conv_plan *plan;
            char what[200];

            snprintf(what, sizeof what, "%s, streamed rows (n1 c3 20x64 k9)"
                     ", %d thread(s), seed %llu", variants[v], t,
                     (unsigned long long)seed);
            assert_int_equal(posix_memalign(&mem, 64, (size_t)td.ny
                                            * sizeof(float)), 0);
            free(td.y);
            td.y = mem;
            test_fill_real(&td, &d, seed);
            plan = test_plan_run(&td, &d, variants[v], t, 1, what);
            test_reference(&td, &d, td.b);
            test_expect_close(&td, ref_tolerance_for(variants[v])->eps,
                              what);

            /* The same plan into a buffer 16 bytes off a cache line. */
            assert_int_equal(posix_memalign(&mem, 64, (size_t)(td.ny + 4)
                                            * sizeof(float)), 0);
            off = mem;
            test_poison(off + 4, td.ny);
            assert_int_equal(conv_execute(plan, td.x, off + 4), CONV_OK);
            if (memcmp(off + 4, td.y, (size_t)td.ny * sizeof(float)) != 0)
                fail_msg("%s: plain and streamed stores differ", what);
            conv_plan_destroy(plan);
            free(off);
            test_data_free(&td);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transforms_correlate),
        cmocka_unit_test(test_awkward_shapes),
        cmocka_unit_test(test_sizes_around_the_tile),
        cmocka_unit_test(test_declines_with_reason),
        cmocka_unit_test(test_profile_and_description),
        cmocka_unit_test(test_streamed_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
