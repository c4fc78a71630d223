/*
 * The fft family: matches the fp64 reference within its tolerance over
 * kernels from 1x1 to 11x11, rectangular kernels, prime image sizes,
 * every kind of padding, groups and batches at 1 and 2 threads; output
 * sizes around the chosen tile; the transform size the cost model picks
 * is legal and never larger than needed; what is not stride 1 without
 * dilation is declined with a reason; profile, description, workspace.
 *
 * TEST_SEED=N in the environment reruns with another base seed; every
 * failure prints the seed and the whole shape.
 */
#include "conv.h"
#include "fft.h"
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

#define DEFAULT_SEED 20251207u

typedef struct shape {
    const char *name;
    int n, c, h, w, k, r, s;
    int pt, pl, pb, pr, g;
    int bias;
} shape;

static const shape shapes[] = {
    /* n  c   h   w   k   r   s  pt pl pb pr g bias */
    {"1x1, 13x17", 1, 3, 13, 17, 5, 1, 1, 0, 0, 0, 0, 1, 1},
    {"2x2, no padding", 1, 3, 12, 9, 4, 2, 2, 0, 0, 0, 0, 1, 1},
    {"3x3 same, prime 31x29", 1, 7, 31, 29, 9, 3, 3, 1, 1, 1, 1, 1, 1},
    {"4x4, asymmetric same", 1, 3, 16, 15, 5, 4, 4, 2, 1, 1, 2, 1, 1},
    {"5x5 same, 17x17", 1, 4, 17, 17, 6, 5, 5, 2, 2, 2, 2, 1, 1},
    {"5x5 no padding, 13x13", 1, 5, 13, 13, 3, 5, 5, 0, 0, 0, 0, 1, 0},
    {"6x6, 20x21", 1, 3, 20, 21, 4, 6, 6, 3, 2, 2, 3, 1, 1},
    {"7x7 same, 31x31", 1, 4, 31, 31, 5, 7, 7, 3, 3, 3, 3, 1, 1},
    {"8x8, 19x23", 1, 3, 19, 23, 3, 8, 8, 0, 4, 0, 3, 1, 1},
    {"9x9 same, 17x13", 1, 3, 17, 13, 4, 9, 9, 4, 4, 4, 4, 1, 1},
    {"10x10, 13x13", 1, 2, 13, 13, 3, 10, 10, 5, 4, 4, 5, 1, 1},
    {"11x11 same, 31x17", 1, 3, 31, 17, 4, 11, 11, 5, 5, 5, 5, 1, 1},
    {"11x11 no padding, 13x13", 1, 3, 13, 13, 4, 11, 11, 0, 0, 0, 0, 1, 1},
    {"1x7, pad 0x3", 1, 5, 13, 17, 6, 1, 7, 0, 3, 0, 3, 1, 1},
    {"7x1, pad 3x0", 1, 5, 17, 13, 6, 7, 1, 3, 0, 3, 0, 1, 1},
    {"3x5, pad 1x2", 2, 3, 13, 11, 4, 3, 5, 1, 2, 1, 2, 1, 1},
    {"image smaller than the kernel", 1, 3, 3, 4, 5, 7, 7, 3, 3, 3, 3, 1, 1},
    {"1x1 image, 5x5 pad 2", 2, 4, 1, 1, 3, 5, 5, 2, 2, 2, 2, 1, 1},
    {"negative end padding", 2, 4, 14, 13, 3, 5, 5, 2, 2, -1, -2, 1, 1},
    {"padding beyond the kernel reach", 1, 2, 6, 7, 3, 3, 3, 5, 4, 6, 5, 1, 1},
    {"beyond the reach, no bias", 1, 2, 6, 7, 3, 5, 5, 7, 6, 6, 7, 1, 0},
    {"no output reads the input", 1, 2, 1, 2, 3, 3, 3, 5, 5, -2, -2, 1, 1},
    {"no output reads the input, no bias", 2, 2, 1, 2, 3, 3, 3,
     5, 5, -2, -2, 1, 0},
    {"groups 2, 5x5", 2, 6, 13, 12, 4, 5, 5, 2, 2, 2, 2, 2, 1},
    {"depthwise 7x7", 1, 8, 17, 17, 8, 7, 7, 3, 3, 3, 3, 8, 1},
    {"1 channel, 5x5", 1, 1, 31, 31, 1, 5, 5, 2, 2, 2, 2, 1, 1},
    {"23 -> 19 channels, batch 2", 2, 23, 13, 17, 19, 5, 5, 2, 2, 2, 2, 1, 1},
    {"googlenet inception 5x5, 16 -> 32", 1, 16, 28, 28, 32, 5, 5,
     2, 2, 2, 2, 1, 1},
};

typedef struct run {
    conv_desc d;
    const char *shape;
    int threads;
    uint64_t seed;
} run;

static void describe_run(const run *r, char *buf, size_t n)
{
    const conv_desc *d = &r->d;

    snprintf(buf, n, "%s (n%lld c%lld %lldx%lld k%lld kernel %lldx%lld pad"
             " t%lld l%lld b%lld r%lld g%lld), %d thread(s), seed %llu",
             r->shape, (long long)d->n, (long long)d->c, (long long)d->h,
             (long long)d->w, (long long)d->k, (long long)d->r,
             (long long)d->s, (long long)d->pad_top, (long long)d->pad_left,
             (long long)d->pad_bottom, (long long)d->pad_right,
             (long long)d->groups, r->threads, (unsigned long long)r->seed);
}

/* The plan's y against the reference on real-valued data. */
static void check_run(const run *r, int bias)
{
    conv_desc d = r->d;
    conv_plan *plan;
    test_data t;
    char what[400], named[600];

    describe_run(r, what, sizeof what);
    if (conv_desc_check(&d) != CONV_OK)
        fail_msg("%s: descriptor rejected: %s", what, conv_reason());
    t = test_data_new(&d);
    test_fill_real(&t, &d, r->seed);
    plan = test_plan_run(&t, &d, "fft", r->threads, bias, what);

    /* The bound is the one for the output with the fewest taps. */
    snprintf(named, sizeof named, "%s, %s", what, conv_plan_describe(plan));
    test_reference(&t, &d, bias ? t.b : NULL);
    test_expect_close(&t, ref_tolerance_eps("fft", &d), named);

    conv_plan_destroy(plan);
    test_data_free(&t);
}

/* The family runs stride 1 without dilation only. */
static conv_desc desc_of(const shape *s)
{
    test_geometry g = {s->n, s->c, s->h, s->w, s->k, s->r, s->s, 1, 1,
                       s->pt, s->pl, s->pb, s->pr, 1, 1, s->g};

    return test_desc(&g);
}

/* The table's shape of that name (the tests below pick a few). */
static const shape *shape_named(const char *name)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(shapes[i].name, name) == 0)
            return &shapes[i];
    fail_msg("no shape named '%s' in the table", name);
    return NULL;
}

static void test_shapes(void **state)
{
    uint64_t seed = test_seed(DEFAULT_SEED);

    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = 1; t <= 2; t++) {
            run r = {desc_of(&shapes[i]), shapes[i].name, t, seed + i};

            check_run(&r, shapes[i].bias);
        }
}

/* Square kernels 1 to 11 with "same" padding on a prime image. */
static void test_kernel_sizes(void **state)
{
    uint64_t seed = test_seed(DEFAULT_SEED) + 100;

    (void)state;
    for (int k = 1; k <= 11; k++) {
        shape s = {"square kernel, same padding", 1, 3, 17, 13, 4, k, k,
                   (k - 1) / 2, (k - 1) / 2, k / 2, k / 2, 1, 1};
        run r = {desc_of(&s), s.name, 1 + k % 2, seed + (uint64_t)k};

        check_run(&r, 1);
    }
}

/* Output sizes one below, at and one above one and two tiles of the
 * transform the plan picks for the shape at that size. */
static void test_sizes_around_the_tile(void **state)
{
    uint64_t seed = test_seed(DEFAULT_SEED) + 200;
    static const int kernels[] = {1, 3, 5, 7};

    (void)state;
    for (int i = 0; i < 4; i++) {
        int k = kernels[i], th, tw;
        shape s = {"output tile +-1", 1, 3, 24, 24, 2, k, k,
                   0, 0, 0, 0, 1, 1};
        conv_desc d = desc_of(&s);

        assert_int_equal(conv_desc_check(&d), CONV_OK);
        fft_pick_size(&d, &th, &tw);
        for (int tiles = 1; tiles <= 2; tiles++)
            for (int delta = -1; delta <= 1; delta++) {
                int out_h = tiles * (th - k + 1) + delta;
                int out_w = tiles * (tw - k + 1) + delta;
                run r;

                if (out_h < 1 || out_w < 1)
                    continue;
                s.h = out_h + k - 1;
                s.w = out_w + k - 1;
                r = (run){desc_of(&s), s.name, 1 + (delta != 0), seed++};
                check_run(&r, 1);
            }
    }
}

/* ---- The transform size -------------------------------------------- */

static int listed(int size)
{
    for (int i = 0; i < fft_nsizes; i++)
        if (fft_sizes[i] == size)
            return 1;
    return 0;
}

/* The smallest listed side >= k that covers `live` outputs in one tile,
 * or the largest side if none does. */
static int covering_side(int k, int64_t live)
{
    for (int i = 0; i < fft_nsizes; i++)
        if (fft_sizes[i] >= k && fft_sizes[i] - k + 1 >= live)
            return fft_sizes[i];
    return fft_sizes[fft_nsizes - 1];
}

static void check_pick(const conv_desc *base, const char *what)
{
    conv_desc d = *base;
    fft_geom q;
    int th, tw;

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    fft_pick_size(&d, &th, &tw);
    assert_true(fft_geom_init(&d, th, tw, &q));
    if (!listed(th) || !listed(tw) || th < d.r || tw < d.s)
        fail_msg("%s: %dx%d kernel got transform %dx%d", what, (int)d.r,
                 (int)d.s, th, tw);
    if (th > covering_side((int)d.r, q.oy1 - q.oy0)
        || tw > covering_side((int)d.s, q.ox1 - q.ox0))
        fail_msg("%s: transform %dx%d is larger than one tile over the "
                 "%lldx%lld live outputs needs", what, th, tw,
                 (long long)(q.oy1 - q.oy0), (long long)(q.ox1 - q.ox0));
    if (q.tiles != d.n * q.ty * q.tx
        || (q.oy1 > q.oy0 && (q.ty - 1) * q.mh >= q.oy1 - q.oy0))
        fail_msg("%s: %lld tiles of %dx%d outputs for %lld rows", what,
                 (long long)q.tiles, q.mh, q.mw,
                 (long long)(q.oy1 - q.oy0));
}

static void test_transform_size(void **state)
{
    static const int kernels[] = {1, 2, 3, 4, 5, 7, 8, 11, 12, 16, 17,
                                  31, 32, 33, 63, 64};
    static const int images[] = {1, 3, 4, 5, 13, 28, 56, 100};
    conv_desc d = conv_desc_default();

    (void)state;
    d.n = 1;
    d.c = 16;
    d.k = 32;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 8; j++) {
            char what[80];

            snprintf(what, sizeof what, "kernel %d, image %d, same "
                     "padding", kernels[i], images[j]);
            d.r = d.s = kernels[i];
            d.h = d.w = images[j];
            d.pad_top = d.pad_left = (kernels[i] - 1) / 2;
            d.pad_bottom = d.pad_right = kernels[i] / 2;
            check_pick(&d, what);
            d.s = 1;
            d.pad_left = d.pad_right = 0;
            check_pick(&d, what);
        }
}

/* Outputs that see only padding are outside every tile. */
static void test_live_outputs(void **state)
{
    conv_desc d = desc_of(shape_named("padding beyond the kernel reach"));
    fft_geom q;

    (void)state;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_true(fft_geom_init(&d, 16, 16, &q));

    /* Output row o reads input rows o - 5 .. o - 3 of 6. */
    assert_int_equal(q.oy0, 3);
    assert_int_equal(q.oy1, 11);
    assert_int_equal(q.ox0, 2);
    assert_int_equal(q.ox1, 11);
    assert_int_equal(q.mh, 14);
    assert_int_equal(q.tiles, 1);
}

/* ---- What the family declines -------------------------------------- */

static void expect_declined(const conv_desc *base, const char *needle)
{
    conv_desc d = *base;
    char why[256] = "";
    conv_plan *plan = NULL;

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    if (conv_algo_applies("fft", &d, why, sizeof why))
        fail_msg("fft accepted a shape it should decline ('%s')", needle);
    if (strstr(why, needle) == NULL)
        fail_msg("fft declined with '%s', expected '%s'", why, needle);
    assert_int_equal(conv_plan_create(&plan, &d, "fft", NULL),
                     CONV_EUNSUPPORTED);
    assert_null(plan);
    if (strstr(conv_reason(), "fft: ") == NULL)
        fail_msg("reason '%s' does not name fft", conv_reason());
    assert_int_equal(conv_algo_workspace_bytes("fft", &d, 1), 0);
}

static void test_declines_with_reason(void **state)
{
    conv_desc d = desc_of(shape_named("5x5 same, 17x17"));

    (void)state;
    d.stride_h = d.stride_w = 2;
    expect_declined(&d, "needs stride 1 (got 2x2)");

    d = desc_of(shape_named("5x5 same, 17x17"));
    d.stride_w = 3;
    expect_declined(&d, "needs stride 1 (got 1x3)");

    d = desc_of(shape_named("5x5 same, 17x17"));
    d.dil_h = 2;
    expect_declined(&d, "dilation 2x1");

    d = desc_of(shape_named("5x5 same, 17x17"));
    d.h = d.w = 70;
    d.r = 65;
    d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 0;
    expect_declined(&d, "kernel 65x5");
}

/* ---- Plan properties ----------------------------------------------- */

/* The profile splits execute into the three phases it reports; the
 * workspace query agrees with the plan; the description names the tile. */
static void test_profile_and_workspace(void **state)
{
    conv_desc d = desc_of(shape_named("23 -> 19 channels, batch 2"));
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;
    conv_profile p;
    float *x, *w, *y;

    (void)state;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    x = calloc((size_t)conv_desc_input_elems(&d), sizeof *x);
    w = calloc((size_t)conv_desc_weight_elems(&d), sizeof *w);
    y = calloc((size_t)conv_desc_output_elems(&d), sizeof *y);
    assert_true(x != NULL && w != NULL && y != NULL);
    opt.profile = 1;
    for (opt.threads = 1; opt.threads <= 2; opt.threads++) {
        assert_int_equal(conv_plan_create(&plan, &d, "fft", &opt), CONV_OK);
        assert_int_equal(conv_plan_set_weights(plan, w, NULL), CONV_OK);
        assert_int_equal(conv_execute(plan, x, y), CONV_OK);
        assert_int_equal(conv_execute(plan, x, y), CONV_OK);
        assert_int_equal(conv_plan_profile(plan, &p), CONV_OK);
        assert_int_equal(p.executions, 2);
        assert_true(p.input_transform > 0.0 && p.multiply > 0.0
                    && p.output_transform > 0.0);
        assert_int_equal(conv_plan_workspace_bytes(plan),
                         conv_algo_workspace_bytes("fft", &d, opt.threads));
        assert_non_null(strstr(conv_plan_describe(plan), "fft tile"));
        conv_plan_destroy(plan);
    }
    assert_true(conv_algo_workspace_bytes("fft", &d, 2)
                > conv_algo_workspace_bytes("fft", &d, 1));
    free(x);
    free(w);
    free(y);
}

/* New weights replace the old spectra (and the bias) entirely. */
static void test_weights_replaced(void **state)
{
    conv_desc d = desc_of(shape_named("5x5 same, 17x17"));
    conv_plan *plan = NULL, *fresh = NULL;
    test_data t;
    float *y2;

    (void)state;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    t = test_data_new(&d);
    test_fill_real(&t, &d, test_seed(DEFAULT_SEED) + 300);
    y2 = test_alloc((size_t)t.ny, sizeof *y2);
    test_poison(t.y, t.ny);
    test_poison(y2, t.ny);

    assert_int_equal(conv_plan_create(&plan, &d, "fft", NULL), CONV_OK);
    assert_int_equal(conv_plan_set_weights(plan, t.w, t.b), CONV_OK);
    ref_fill_real(t.w, t.nw, test_seed(DEFAULT_SEED) + 303);
    assert_int_equal(conv_plan_set_weights(plan, t.w, NULL), CONV_OK);
    assert_int_equal(conv_execute(plan, t.x, t.y), CONV_OK);
    assert_int_equal(conv_plan_create(&fresh, &d, "fft", NULL), CONV_OK);
    assert_int_equal(conv_plan_set_weights(fresh, t.w, NULL), CONV_OK);
    assert_int_equal(conv_execute(fresh, t.x, y2), CONV_OK);
    assert_memory_equal(t.y, y2, (size_t)t.ny * sizeof *y2);

    conv_plan_destroy(plan);
    conv_plan_destroy(fresh);
    test_data_free(&t);
    free(y2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_kernel_sizes),
        cmocka_unit_test(test_sizes_around_the_tile),
        cmocka_unit_test(test_transform_size),
        cmocka_unit_test(test_live_outputs),
        cmocka_unit_test(test_declines_with_reason),
        cmocka_unit_test(test_profile_and_workspace),
        cmocka_unit_test(test_weights_replaced),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
