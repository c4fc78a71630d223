/*
 * The direct family against the fp64 reference on the shapes its blocking
 * makes awkward: channel counts around the blocks of 8, output widths
 * around each register tile's pixel count (12, 6, 4 and 3 pixels for 1 to
 * 4 oc blocks), several passes over the input channels (128 KB of
 * weights each), both ways of packing the input (whole images, and band
 * by band above 512 KiB), depthwise, and ResNet-50's layers at a reduced
 * image size. Each shape runs with the AVX2 kernels and the portable C
 * kernels at 1 and 2 threads: bit-exact against the reference on integer
 * data, and the two kernel sets bit-identical to each other there.
 *
 * TEST_SEED=N in the environment reruns with another base seed; every
 * failure prints the seed, the kernels, the threads and the shape.
 */
#include "conv.h"
#include "direct.h"
#include "ref.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define DEFAULT_SEED 20240612u

typedef struct shape {
    const char *name;
    test_geometry geo;
} shape;

static const shape shapes[] = {
    /* n  c   h   w    k  r  s   sh sw  pt pl pb pr  dh dw  g */
    {"1 -> 1 channel", {1, 1, 9, 10, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"7 -> 9 channels", {1, 7, 9, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"8 -> 8 channels", {1, 8, 9, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"9 -> 7 channels", {1, 9, 9, 10, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"15 -> 17 channels", {2, 15, 7, 8, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"16 -> 16 channels", {1, 16, 7, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"17 -> 15 channels", {1, 17, 7, 8, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"5 oc blocks split 2 + 3", {1, 8, 6, 7, 40, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    /* 32 oc: tiles of 3 pixels, widths 2..4 and 7 */
    {"32 oc, width 2", {1, 8, 5, 2, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"32 oc, width 3", {1, 8, 5, 3, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"32 oc, width 4", {1, 8, 5, 4, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"32 oc, width 7", {1, 8, 5, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    /* 24 oc: tiles of 4 pixels */
    {"24 oc, width 5 (3 + 2 edges)", {1, 9, 4, 5, 24, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"24 oc, 1x1 width 4", {1, 9, 3, 4, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"24 oc, 1x1 width 5", {1, 9, 3, 5, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    /* 16 oc: tiles of 6 pixels */
    {"16 oc, width 7 (6 + 2 edges)", {1, 5, 4, 7, 16, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"16 oc, 1x1 width 6", {1, 5, 2, 6, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"16 oc, 1x1 width 7", {1, 5, 2, 7, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    /* 8 oc: tiles of 12 pixels */
    {"8 oc, width 11", {1, 3, 3, 11, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"8 oc, width 12", {1, 3, 3, 12, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"8 oc, width 13", {1, 3, 3, 13, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"8 oc, 3x3 width 15", {1, 3, 13, 15, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"padding beyond the kernel reach", {1, 9, 4, 5, 11, 3, 3,
     1, 1, 4, 5, 3, 6, 1, 1, 1}},
    {"dilation 2x3, stride 2x1, asymmetric padding", {1, 10, 13, 14, 12,
     3, 3, 2, 1, 2, 0, 1, 3, 2, 3, 1}},
    {"1x1 stride 3x2, padding 1, end padding -1", {1, 12, 11, 12, 10, 1, 1,
     3, 2, 1, 1, -1, -1, 1, 1, 1}},
    {"groups 3, 5 -> 4 channels each", {2, 15, 7, 6, 12, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 3}},
    {"depthwise, 13 channels, stride 2", {1, 13, 11, 9, 13, 3, 3,
     2, 2, 1, 1, 1, 1, 1, 1, 13}},
    {"depthwise 5x5, 16 channels", {1, 16, 9, 14, 16, 5, 5,
     1, 1, 2, 2, 2, 2, 1, 1, 16}},
    {"channel passes of 112, 121 channels", {1, 121, 6, 7, 20, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"channel passes of 1024, 1x1, 1031 channels", {1, 1031, 3, 5, 9, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    /* 520 channels: too many for the NCHW 1x1 path */
    {"band packing, 1x1, 520 channels 48x48", {1, 520, 48, 48, 12, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    /* NCHW 1x1 path (512 pixels or more): tiles of 4 oc x 24 pixels,
     * panels of 96 pixels at 64 channels, of the whole plane at 1 to 3;
     * last tiles of 1, 7, 8, 9, 23, 24 pixels */
    {"nchw 1x1, 529 pixels, 64 channels", {1, 64, 1, 529, 10, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 535 pixels, 3 channels", {1, 3, 1, 535, 5, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 536 pixels, 1 channel", {1, 1, 8, 67, 4, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 537 pixels, 64 channels", {1, 64, 3, 179, 9, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 551 pixels, 3 channels", {1, 3, 19, 29, 7, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 552 pixels, 64 channels", {1, 64, 23, 24, 13, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, 553 pixels, 17 channels, 2 images", {2, 17, 7, 79, 6, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, groups 3, 4 -> 5 channels each", {2, 12, 23, 25, 15, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 3}},
    {"nchw 1x1, 64 channels 40x41 (panel tail)", {1, 64, 40, 41, 70, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw 1x1, resnet_50 res2a_branch2a at 28x28", {1, 64, 28, 28, 64, 1,
     1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"band packing, 1x1 stride 2, 64 channels 96 -> 48", {1, 64, 96, 96, 12,
     1, 1, 2, 2, 0, 0, -1, -1, 1, 1, 1}},
    {"band packing, 3x3, 41 channels 56x57", {1, 41, 56, 57, 9, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    /* 4 channels: too many products for the NCHW rows path */
    {"band packing, stride 2 7x7, 4 channels (conv1 at 130)", {1, 4, 130,
     130, 16, 7, 7, 2, 2, 3, 3, 2, 2, 1, 1, 1}},
    /* NCHW rows path (<= 8 channels, 1 MiB of output or more, rows of
     * 24 outputs or more): rows of 24, 25, 33, 40, 47, 65 outputs */
    {"nchw rows, conv1 at 130 (65 wide)", {1, 3, 130, 130, 63, 7, 7,
     2, 2, 3, 3, 2, 2, 1, 1, 1}},
    {"nchw rows, 3x3 stride 2, 3 -> 261 channels, 47 wide", {2, 3, 44, 94,
     261, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1}},
    {"nchw rows, 3x3, 1 channel, 24 wide", {1, 1, 22, 26, 555, 3, 3,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"nchw rows, 5x3 stride 3x1, padding beyond the reach, 25 wide", {1, 2,
     71, 13, 405, 5, 3, 3, 1, 6, 4, 5, 10, 1, 1, 1}},
    {"nchw rows, 1x7 stride 1x2, 33 wide", {1, 5, 40, 67, 199, 1, 7,
     1, 2, 0, 3, 0, 2, 1, 1, 1}},
    {"nchw rows, 7x1, 40 wide", {1, 8, 12, 40, 547, 7, 1,
     1, 1, 3, 0, 3, 0, 1, 1, 1}},
    /* NCHW depthwise path (stride 1, rows of 32 outputs or more): tiles
     * of 3 rows x 4 vectors, last vectors of 1 to 8 lanes */
    {"nchw depthwise, 3x3, 32 wide, 2 images", {2, 5, 9, 32, 5, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 5}},
    {"nchw depthwise, 3x3 without padding, 33 wide", {1, 4, 8, 35, 4, 3, 3,
     1, 1, 0, 0, 0, 0, 1, 1, 4}},
    {"nchw depthwise, 5x5 dilation 2, padding beyond the reach, 38 wide",
     {1, 3, 12, 37, 3, 5, 5, 1, 1, 5, 6, 4, 3, 2, 2, 3}},
    {"nchw depthwise, 1x1, end padding -1, 47 wide", {1, 2, 5, 48, 2, 1, 1,
     1, 1, 0, 0, -1, -1, 1, 1, 2}},
    {"nchw depthwise, 3x7, 63 wide, 1 row", {1, 9, 1, 63, 9, 3, 7,
     1, 1, 1, 3, 1, 3, 1, 1, 9}},
    {"resnet_50 res2a_branch2b at 14x14", {1, 64, 14, 14, 64, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"resnet_50 res3a_branch2a at 14 -> 7", {1, 256, 14, 14, 128, 1, 1,
     2, 2, 0, 0, -1, -1, 1, 1, 1}},
    {"resnet_50 res4a_branch2c at 7x7", {1, 256, 7, 7, 1024, 1, 1,
     1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {"resnet_50 res5a_branch2b at 5x5", {1, 512, 5, 5, 64, 3, 3,
     1, 1, 1, 1, 1, 1, 1, 1, 1}},
};

#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static uint64_t base_seed = DEFAULT_SEED;

/* One shape's data, reference and outputs. */
typedef struct fixture {
    const shape *s;
    conv_desc d;
    uint64_t seed;
    test_data t;
    float *y_first;     /* the AVX2 kernels' output at 1 thread */
} fixture;

static void fail_for(const fixture *f, const char *isa, int threads,
                     const char *fill, const char *fmt, ...)
{
    char what[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    fail_msg("direct, %s kernels, %d thread(s), %s fill, seed %llu (base "
             "TEST_SEED=%llu):\n  shape '%s': n%lld c%lld h%lld w%lld "
             "k%lld r%lld s%lld stride %lldx%lld pad t%lld l%lld b%lld "
             "r%lld dil %lldx%lld g%lld -> p%lld q%lld\n  %s", isa, threads,
             fill, (unsigned long long)f->seed,
             (unsigned long long)base_seed, f->s->name, (long long)f->d.n,
             (long long)f->d.c, (long long)f->d.h, (long long)f->d.w,
             (long long)f->d.k, (long long)f->d.r, (long long)f->d.s,
             (long long)f->d.stride_h, (long long)f->d.stride_w,
             (long long)f->d.pad_top, (long long)f->d.pad_left,
             (long long)f->d.pad_bottom, (long long)f->d.pad_right,
             (long long)f->d.dil_h, (long long)f->d.dil_w,
             (long long)f->d.groups, (long long)f->d.p, (long long)f->d.q,
             what);
}

static void fill(fixture *f, int exact)
{
    if (exact)
        test_fill_exact(&f->t, &f->d, f->seed);
    else
        test_fill_real(&f->t, &f->d, f->seed + 3);
    test_reference(&f->t, &f->d, f->t.b);
}

static int setup(void **state)
{
    const shape *s = *state;
    fixture *f = test_alloc(1, sizeof *f);

    f->s = s;
    f->d = test_desc(&s->geo);
    assert_int_equal(conv_desc_check(&f->d), CONV_OK);
    f->seed = base_seed + 16 * (uint64_t)(s - shapes);
    f->t = test_data_new(&f->d);
    f->y_first = test_alloc((size_t)f->t.ny, sizeof(float));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    test_data_free(&f->t);
    free(f->y_first);
    free(f);
    direct_choose_isa(DIRECT_ISA_AUTO);
    return 0;
}

/* One plan with the chosen kernels: y = direct(x) on a poisoned y. */
static void run(fixture *f, direct_isa_choice choice, int threads,
                const char *fill_name)
{
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;
    const char *isa, *line;
    char want[32];
    size_t len;
    conv_status st;

    direct_choose_isa(choice);
    isa = direct_isa_name();
    opt.threads = threads;
    st = conv_plan_create(&plan, &f->d, "direct", &opt);
    if (st != CONV_OK)
        fail_for(f, isa, threads, fill_name, "plan_create: %s (%s)",
                 conv_status_str(st), conv_reason());
    line = conv_plan_describe(plan);
    len = (size_t)snprintf(want, sizeof want, "direct %s", isa);
    if (strncmp(line, want, len) != 0
        || (line[len] != ',' && line[len] != ' '))
        fail_for(f, isa, threads, fill_name, "the plan '%s' does not use "
                 "the %s kernels", line, isa);
    if (strncmp(f->s->name, "band packing", 12) == 0
        && strstr(line, "input packed by band") == NULL)
        fail_for(f, isa, threads, fill_name, "the plan '%s' does not pack "
                 "its input band by band", line);
    if (strncmp(f->s->name, "nchw ", 5) == 0
        && strncmp(strstr(line, "nchw") ? strstr(line, "nchw") : "",
                   f->s->name, 8) != 0)
        fail_for(f, isa, threads, fill_name, "the plan '%s' does not take "
                 "the path its name says", line);
    test_poison(f->t.y, f->t.ny);
    st = conv_plan_set_weights(plan, f->t.w, f->t.b);
    if (st == CONV_OK)
        st = conv_execute(plan, f->t.x, f->t.y);
    if (st != CONV_OK)
        fail_for(f, isa, threads, fill_name, "%s (%s)", conv_status_str(st),
                 conv_reason());
    conv_plan_destroy(plan);
}

/* Exact fill: every run bit-exact against the reference and the same
 * bits as the first run (AVX2, 1 thread). */
static void check_exact(fixture *f, direct_isa_choice choice, int threads)
{
    const char *isa;
    ref_error e;

    run(f, choice, threads, "exact");
    isa = direct_isa_name();
    e = ref_compare(f->t.y, f->t.yref, f->t.beta, f->t.ny);
    if (e.nonfinite != 0 || e.mismatches != 0)
        fail_for(f, isa, threads, "exact", "%lld non-finite, %lld differ "
                 "from the reference; first worst at %lld: %.9g, want %.9g",
                 (long long)e.nonfinite, (long long)e.mismatches,
                 (long long)e.worst, e.worst >= 0 ? f->t.y[e.worst] : 0.0,
                 e.worst >= 0 ? f->t.yref[e.worst] : 0.0);
    for (int64_t i = 0; i < f->t.ny; i++)
        if (memcmp(&f->t.y[i], &f->y_first[i], sizeof(float)) != 0)
            fail_for(f, isa, threads, "exact", "output %lld is %.9g, the "
                     "AVX2 kernels at 1 thread gave %.9g", (long long)i,
                     f->t.y[i], f->y_first[i]);
}

static void check_real(fixture *f, direct_isa_choice choice, int threads)
{
    const ref_tolerance *tol = ref_tolerance_for("direct");
    ref_error e;

    run(f, choice, threads, "real");
    e = ref_compare(f->t.y, f->t.yref, f->t.beta, f->t.ny);
    if (e.nonfinite != 0 || !(e.max_eps <= tol->eps))
        fail_for(f, direct_isa_name(), threads, "real", "%lld non-finite, "
                 "max error %.3g eps at %lld (bound %.3g)",
                 (long long)e.nonfinite, e.max_eps, (long long)e.worst,
                 tol->eps);
}

static void test_shape(void **state)
{
    fixture *f = *state;
    const direct_isa_choice choices[] = {DIRECT_ISA_AUTO,
                                         DIRECT_ISA_PORTABLE};

    fill(f, 1);
    run(f, DIRECT_ISA_AUTO, 1, "exact");
    memcpy(f->y_first, f->t.y, (size_t)f->t.ny * sizeof(float));
    for (int i = 0; i < 2; i++)
        for (int threads = 1; threads <= 2; threads++)
            check_exact(f, choices[i], threads);

    fill(f, 0);
    for (int i = 0; i < 2; i++)
        for (int threads = 1; threads <= 2; threads++)
            check_real(f, choices[i], threads);
}

/* CONVBENCH_NO_AVX2 selects the portable kernels, "0" does not. */
static void test_environment_switch(void **state)
{
    const char *old = getenv("CONVBENCH_NO_AVX2");
    char *saved = old ? strdup(old) : NULL;

    direct_choose_isa(DIRECT_ISA_AUTO);
    assert_int_equal(setenv("CONVBENCH_NO_AVX2", "1", 1), 0);
    assert_string_equal(direct_isa_name(), "c");
    assert_int_equal(setenv("CONVBENCH_NO_AVX2", "0", 1), 0);
    assert_string_equal(direct_isa_name(), __builtin_cpu_supports("avx2")
                        && __builtin_cpu_supports("fma") ? "avx2" : "c");
    direct_choose_isa(DIRECT_ISA_PORTABLE);
    assert_string_equal(direct_isa_name(), "c");
    direct_choose_isa(DIRECT_ISA_AUTO);
    if (saved != NULL)
        setenv("CONVBENCH_NO_AVX2", saved, 1);
    else
        unsetenv("CONVBENCH_NO_AVX2");
    free(saved);
}

/* The depthwise shapes named "nchw depthwise" take the NCHW depthwise
 * path; the other depthwise ones (stride 2, rows under 32) the blocked
 * one. */
static void test_depthwise_paths(void **state)
{
    int nchw = 0, blocked = 0;

    for (int i = 0; i < N_SHAPES; i++) {
        conv_desc d = test_desc(&shapes[i].geo);
        int named = strncmp(shapes[i].name, "nchw depthwise", 14) == 0;

        assert_int_equal(conv_desc_check(&d), CONV_OK);
        if (d.c != d.groups || d.k != d.groups)
            continue;
        if (direct_dw_applies(&d) != named)
            fail_msg("%s: direct_dw_applies() says %d", shapes[i].name,
                     !named);
        nchw += named;
        blocked += !named;
    }
    assert_true(nchw >= 5 && blocked >= 2);
}

int main(void)
{
    static struct CMUnitTest tests[N_SHAPES + 2];

    base_seed = test_seed(DEFAULT_SEED);
    printf("test_direct: %d shapes, seed %llu\n", N_SHAPES,
           (unsigned long long)base_seed);
    for (int i = 0; i < N_SHAPES; i++) {
        tests[i].name = shapes[i].name;
        tests[i].test_func = test_shape;
        tests[i].setup_func = setup;
        tests[i].teardown_func = teardown;
        tests[i].initial_state = (void *)&shapes[i];
    }
    tests[N_SHAPES] = (struct CMUnitTest)cmocka_unit_test(
        test_environment_switch);
    tests[N_SHAPES + 1] = (struct CMUnitTest)cmocka_unit_test(
        test_depthwise_paths);
    return cmocka_run_group_tests_name("direct", tests, NULL, NULL) != 0;
}
