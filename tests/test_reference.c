/*
 * The judges: the fp64 reference against images and kernels worked out by
 * hand, the error metric's rules, the tolerance table's shape, and the
 * fills (ranges, exact counts, determinism, the 2^24 bound).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "ref.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_2_24 16777216.0

/* A named square problem for the table-driven tests. */
typedef struct shape {
    const char *name;
    int64_t n, c, h, k, r, stride, pad, dil, groups;
} shape;

/* The tensors of one problem, owned by the test. */
typedef struct tensors {
    conv_desc d;
    float *x, *w, *b;
    double *y, *beta;
} tensors;

static conv_desc desc_of(const shape *s)
{
    conv_desc d = conv_desc_default();

    d.n = s->n;
    d.c = s->c;
    d.h = d.w = s->h;
    d.k = s->k;
    d.r = d.s = s->r;
    d.stride_h = d.stride_w = s->stride;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = s->pad;
    d.dil_h = d.dil_w = s->dil;
    d.groups = s->groups;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    return d;
}

/* One image, one channel in and out: the hand-worked cases. */
static conv_desc plane_desc(int64_t h, int64_t w, int64_t r, int64_t s)
{
    conv_desc d = conv_desc_default();

    d.n = d.c = d.k = 1;
    d.h = h;
    d.w = w;
    d.r = r;
    d.s = s;
    return d;
}

static void poison(double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = NAN;
}

/* Checks *d (filling p and q) and allocates its tensors. */
static tensors tensors_alloc(conv_desc *d)
{
    tensors t;
    int64_t ny;

    assert_int_equal(conv_desc_check(d), CONV_OK);
    t = (tensors){.d = *d};
    ny = d->n * d->k * d->p * d->q;

    t.x = test_alloc((size_t)(d->n * d->c * d->h * d->w), sizeof(float));
    t.w = test_alloc((size_t)(d->k * (d->c / d->groups) * d->r * d->s),
                  sizeof(float));
    t.b = test_alloc((size_t)d->k, sizeof(float));
    t.y = test_alloc((size_t)ny, sizeof(double));
    t.beta = test_alloc((size_t)ny, sizeof(double));
    return t;
}

static void tensors_free(tensors *t)
{
    free(t->x);
    free(t->w);
    free(t->b);
    free(t->y);
    free(t->beta);
}

/* ref_conv on poisoned outputs; the descriptor must be valid. */
static void run_ref(tensors *t, const float *b)
{
    int64_t ny = t->d.n * t->d.k * t->d.p * t->d.q;

    poison(t->y, ny);
    poison(t->beta, ny);
    assert_int_equal(ref_conv(&t->d, t->x, t->w, b, t->y, t->beta),
                     CONV_OK);
}

/* The 5x5 ramp x[i][j] = 5i + j + 1: rows differ from columns, so a
 * transposed or flipped kernel shows. */
static void ramp5(float *x)
{
    for (int i = 0; i < 25; i++)
        x[i] = (float)(i + 1);
}

static void expect_exact(const double *y, const double *want, int64_t n,
                         const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        if (y[i] != want[i])
            fprintf(stderr, "%s: output %lld is %.17g, want %.17g\n", what,
                    (long long)i, y[i], want[i]);
        assert_true(y[i] == want[i]);
    }
}

/* A 5x5 ramp through a 3x3 kernel with padding p and stride s. */
static void ramp_3x3(const float *k, int64_t pad, int64_t stride,
                     const double *want, const char *what)
{
    conv_desc d = plane_desc(5, 5, 3, 3);
    tensors t;

    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
    d.stride_h = d.stride_w = stride;
    t = tensors_alloc(&d);
    ramp5(t.x);
    memcpy(t.w, k, 9 * sizeof(float));
    run_ref(&t, NULL);
    expect_exact(t.y, want, d.p * d.q, what);
    tensors_free(&t);
}

static const float box[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
static const float outline[9] = {-1, -1, -1, -1, 8, -1, -1, -1, -1};
static const float emboss[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};

/* Sums of each 3x3 neighbourhood, zeros outside: a corner sees 4 pixels
 * (1+2+6+7 = 16), an edge 6, the interior 9 = 9 times the centre. */
static void test_box_same(void **state)
{
    static const double want[25] = {
        16,  27,  33,  39,  28,
        39,  63,  72,  81,  57,
        69, 108, 117, 126,  87,
        99, 153, 162, 171, 117,
        76, 117, 123, 129,  88,
    };

    ramp_3x3(box, 1, 1, want, "box, padding 1");
}

/* The blur box/9: on a ramp (linear) the mean of a window is its centre,
 * up to the rounding of 1/9 to a float. */
static void test_blur_valid(void **state)
{
    static const double centre[9] = {7, 8, 9, 12, 13, 14, 17, 18, 19};
    conv_desc d = plane_desc(5, 5, 3, 3);
    tensors t;

    t = tensors_alloc(&d);
    ramp5(t.x);
    for (int i = 0; i < 9; i++)
        t.w[i] = 1.0f / 9.0f;
    run_ref(&t, NULL);
    for (int i = 0; i < 9; i++)
        assert_true(fabs(t.y[i] - centre[i]) <= centre[i] * 0x1p-23);
    tensors_free(&t);
}

/* 8*centre - neighbours = 9*centre - box: zero inside, since a ramp is
 * linear; e.g. corner (0,0): 8*1 - (2+6+7) = -7. */
static void test_outline_same(void **state)
{
    static const double want[25] = {
         -7,  -9,  -6,  -3,  17,
         15,   0,   0,   0,  33,
         30,   0,   0,   0,  48,
         45,   0,   0,   0,  63,
        113,  81,  84,  87, 137,
    };

    ramp_3x3(outline, 1, 1, want, "outline, padding 1");
}

/* Cross-correlation (no kernel flip): the emboss weights sum to 1 and
 * their first moments in rows and columns are 6 each, so on the ramp
 * y = centre + 5*6 + 6 = centre + 36; a flipped kernel would give -36. */
static void test_emboss_valid(void **state)
{
    static const double want[9] = {43, 44, 45, 48, 49, 50, 53, 54, 55};

    ramp_3x3(emboss, 0, 1, want, "emboss, no padding");
}

/* An impulse at the centre answers with the kernel turned by 180 degrees
 * (y[p][q] = w[3-p][3-q] around it), zeros elsewhere. */
static void test_emboss_impulse(void **state)
{
    static const double want[25] = {
        0,  0,  0,  0, 0,
        0,  2,  1,  0, 0,
        0,  1,  1, -1, 0,
        0,  0, -1, -2, 0,
        0,  0,  0,  0, 0,
    };
    conv_desc d = plane_desc(5, 5, 3, 3);
    tensors t;

    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    t = tensors_alloc(&d);
    memset(t.x, 0, 25 * sizeof(float));
    t.x[12] = 1;
    memcpy(t.w, emboss, sizeof emboss);
    run_ref(&t, NULL);
    expect_exact(t.y, want, 25, "emboss impulse");
    tensors_free(&t);
}

/* Stride 2 keeps every second output of the padded box: rows and
 * columns 0, 2, 4 of test_box_same. */
static void test_stride2(void **state)
{
    static const double want[9] = {16, 33, 28, 69, 117, 87, 76, 123, 88};

    ramp_3x3(box, 1, 2, want, "box, padding 1, stride 2");
}

/* Dilation 2: a 2x2 kernel reads x[p][q], x[p][q+2], x[p+2][q] and
 * x[p+2][q+2], i.e. x0 + 2, x0 + 10, x0 + 12 on the ramp; with weights
 * 1, 10, 100, 1000: y = 1111*x0 + 20 + 1000 + 12000. */
static void test_dilation(void **state)
{
    static const double want[9] = {14131, 15242, 16353, 19686, 20797,
                                   21908, 25241, 26352, 27463};
    conv_desc d = plane_desc(5, 5, 2, 2);
    tensors t;

    d.dil_h = d.dil_w = 2;
    t = tensors_alloc(&d);
    assert_int_equal(d.p, 3);
    ramp5(t.x);
    memcpy(t.w, (const float[4]){1, 10, 100, 1000}, 4 * sizeof(float));
    run_ref(&t, NULL);
    expect_exact(t.y, want, 9, "2x2 kernel, dilation 2");
    tensors_free(&t);
}

/* Asymmetric padding: a 3x1 column of ones with 2 rows of top padding
 * sums x[p-2..p][q]; the end padding -1 with stride 2 drops the last
 * row and column of a 1x1 convolution. */
static void test_asymmetric_padding(void **state)
{
    static const double column[25] = {
         1,  2,  3,  4,  5,
         7,  9, 11, 13, 15,
        18, 21, 24, 27, 30,
        33, 36, 39, 42, 45,
        48, 51, 54, 57, 60,
    };
    static const double picked[4] = {1, 3, 11, 13};
    conv_desc d = plane_desc(5, 5, 3, 1);
    tensors t;

    d.pad_top = 2;
    t = tensors_alloc(&d);
    ramp5(t.x);
    t.w[0] = t.w[1] = t.w[2] = 1;
    run_ref(&t, NULL);
    expect_exact(t.y, column, 25, "3x1 ones, top padding 2");
    tensors_free(&t);

    d = plane_desc(5, 5, 1, 1);
    d.stride_h = d.stride_w = 2;
    d.pad_bottom = d.pad_right = -1;
    t = tensors_alloc(&d);
    ramp5(t.x);
    t.w[0] = 1;
    run_ref(&t, NULL);
    expect_exact(t.y, picked, 4, "1x1, stride 2, end padding -1");
    tensors_free(&t);
}

/* Bias adds to every output and to beta; where padding beyond the
 * kernel's reach leaves no tap, y = b and beta = |b|. */
static void test_bias(void **state)
{
    static const double want[9] = {63.5, 72.5, 81.5, 108.5, 117.5, 126.5,
                                   153.5, 162.5, 171.5};
    const float b = 0.5f, nb = -0.75f;
    conv_desc d = plane_desc(5, 5, 3, 3);
    tensors t;

    t = tensors_alloc(&d);
    ramp5(t.x);
    memcpy(t.w, box, sizeof box);
    run_ref(&t, &b);
    expect_exact(t.y, want, 9, "box with bias 0.5");
    expect_exact(t.beta, want, 9, "beta of box with bias 0.5");
    tensors_free(&t);

    /* 2x2 input, 1x1 weight 3, padding 2: a 6x6 output whose centre 2x2
     * reads the input and whose border is bias alone. */
    d = plane_desc(2, 2, 1, 1);
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 2;
    t = tensors_alloc(&d);
    for (int i = 0; i < 4; i++)
        t.x[i] = (float)(i + 1);
    t.w[0] = 3;
    run_ref(&t, &nb);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t q = 0; q < 6; q++) {
            int inside = p >= 2 && p < 4 && q >= 2 && q < 4;
            double xv = inside ? (double)(2 * (p - 2) + (q - 2) + 1) : 0;

            assert_true(t.y[p * 6 + q] == 3 * xv - 0.75);
            assert_true(t.beta[p * 6 + q] == 3 * xv + 0.75);
        }
    tensors_free(&t);
}

/* beta = |b| + sum |x*w| while y may cancel: x = (1, -2, 3), w = (-1, 1)
 * give y = (-1 - 2, 2 + 3) = (-3, 5) and beta = (3, 5); x = (2, 2) with
 * w = (1, -1) gives y = 0 but beta = 4. */
static void test_beta(void **state)
{
    static const double y1[2] = {-3, 5}, beta1[2] = {3, 5};
    conv_desc d = plane_desc(1, 3, 1, 2);
    tensors t;

    t = tensors_alloc(&d);
    t.x[0] = 1;
    t.x[1] = -2;
    t.x[2] = 3;
    t.w[0] = -1;
    t.w[1] = 1;
    run_ref(&t, NULL);
    expect_exact(t.y, y1, 2, "y of (1,-2,3) * (-1,1)");
    expect_exact(t.beta, beta1, 2, "beta of (1,-2,3) * (-1,1)");

    t.x[0] = t.x[1] = 2;
    t.w[1] = -1;
    t.w[0] = 1;
    run_ref(&t, NULL);
    assert_true(t.y[0] == 0.0 && t.beta[0] == 4.0);
    tensors_free(&t);
}

/* Two groups are two independent convolutions: each half of the input
 * channels through its own half of the filters gives, bit for bit, the
 * matching half of the output channels. */
static void test_groups(void **state)
{
    const shape s = {"g2 ic4 oc6 ih7 kh3 ph1", 2, 4, 7, 6, 3, 1, 1, 1, 2};
    conv_desc d = desc_of(&s), h;
    int64_t plane = d.h * d.w, out = d.p * d.q;
    tensors t = tensors_alloc(&d), u;

    ref_fill_real(t.x, d.n * d.c * plane, 11);
    ref_fill_real(t.w, d.k * 2 * 9, 12);
    ref_fill_real(t.b, d.k, 13);
    run_ref(&t, t.b);

    h = d;
    h.c = 2;
    h.k = 3;
    h.groups = 1;
    u = tensors_alloc(&h);
    for (int64_t g = 0; g < 2; g++) {
        for (int64_t n = 0; n < d.n; n++)
            memcpy(u.x + n * 2 * plane, t.x + (n * 4 + 2 * g) * plane,
                   (size_t)(2 * plane) * sizeof(float));
        memcpy(u.w, t.w + g * 3 * 2 * 9, 3 * 2 * 9 * sizeof(float));
        run_ref(&u, t.b + 3 * g);
        for (int64_t n = 0; n < d.n; n++) {
            size_t bytes = (size_t)(3 * out) * sizeof(double);
            int64_t at = (n * 6 + 3 * g) * out;

            assert_memory_equal(u.y + n * 3 * out, t.y + at, bytes);
            assert_memory_equal(u.beta + n * 3 * out, t.beta + at, bytes);
        }
    }
    tensors_free(&u);
    tensors_free(&t);
}

/* Bitwise the same result with one thread and with two. */
static void test_thread_count_independent(void **state)
{
    const shape s = {"mb3 g2 ic6 oc4 ih11 kh3 sh2 ph2 dh2", 3, 6, 11, 4, 3,
                     2, 2, 2, 2};
    conv_desc d = desc_of(&s);
    int64_t ny = d.n * d.k * d.p * d.q;
    tensors t = tensors_alloc(&d);
    double *y1 = test_alloc((size_t)ny, sizeof(double));
    double *b1 = test_alloc((size_t)ny, sizeof(double));
    int saved = omp_get_max_threads();

    ref_fill_real(t.x, d.n * d.c * d.h * d.w, 21);
    ref_fill_real(t.w, d.k * 3 * 9, 22);
    ref_fill_real(t.b, d.k, 23);
    omp_set_num_threads(1);
    run_ref(&t, t.b);
    memcpy(y1, t.y, (size_t)ny * sizeof(double));
    memcpy(b1, t.beta, (size_t)ny * sizeof(double));
    omp_set_num_threads(2);
    run_ref(&t, t.b);
    omp_set_num_threads(saved);
    assert_memory_equal(y1, t.y, (size_t)ny * sizeof(double));
    assert_memory_equal(b1, t.beta, (size_t)ny * sizeof(double));
    free(y1);
    free(b1);
    tensors_free(&t);
}

static void test_ref_rejects(void **state)
{
    conv_desc d = plane_desc(5, 5, 3, 3);
    float x[25] = {0}, w[9] = {0};
    double y[25], beta[25];

    /* Unchecked: p and q are still 0. */
    assert_int_equal(ref_conv(&d, x, w, NULL, y, beta), CONV_EINVAL);
    assert_non_null(strstr(conv_reason(), "output"));

    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(ref_conv(&d, NULL, w, NULL, y, beta), CONV_EINVAL);
    d.stride_h = 0;
    assert_int_equal(ref_conv(&d, x, w, NULL, y, beta), CONV_EINVAL);
    assert_non_null(strstr(conv_reason(), "stride_h"));
}

/* Zero beta demands an exact zero; a signed zero is still zero. */
static void test_compare_zero_beta(void **state)
{
    const double yref[3] = {0, 0, 0}, beta[3] = {0, 0, 0};
    const float ok[3] = {0.0f, -0.0f, 0.0f};
    const float tiny[3] = {0.0f, 1e-30f, 0.0f};
    ref_error e;

    e = ref_compare(ok, yref, beta, 3);
    assert_true(e.max_eps == 0.0);
    assert_int_equal(e.mismatches, 0);
    assert_int_equal(e.nonfinite, 0);

    e = ref_compare(tiny, yref, beta, 3);
    assert_true(isinf(e.max_eps));
    assert_int_equal(e.worst, 1);
    assert_int_equal(e.mismatches, 1);
    assert_int_equal(e.nonfinite, 0);
}

static void test_compare_nonfinite(void **state)
{
    const double yref[4] = {1, 2, 3, 4}, beta[4] = {1, 2, 3, 4};
    const float y[4] = {1, NAN, 3, INFINITY};
    ref_error e = ref_compare(y, yref, beta, 4);

    assert_int_equal(e.nonfinite, 2);
    assert_int_equal(e.mismatches, 2);
    assert_true(isinf(e.max_eps));
    assert_int_equal(e.worst, 1);

    e = ref_compare_f32((const float[4]){1, 2, 3, 4}, y, beta, 4);
    assert_int_equal(e.nonfinite, 2);
    assert_true(isinf(e.max_eps));
}

/* A planted error of 2^-18 at index 5 where beta = 8 is
 * 2^-18 / 8 / 2^-23 = 4 eps; a second one of 1 eps at index 2 counts as
 * a mismatch but is not the worst. */
static void test_compare_planted(void **state)
{
    double yref[8], beta[8];
    float y[8], f[8];
    ref_error e;

    for (int i = 0; i < 8; i++) {
        yref[i] = i + 1;
        beta[i] = 8;
        y[i] = f[i] = (float)(i + 1);
    }
    y[5] = (float)(yref[5] + 0x1p-18);
    y[2] = (float)(yref[2] + 8 * FLT_EPSILON);

    e = ref_compare(y, yref, beta, 8);
    assert_int_equal(e.worst, 5);
    assert_true(e.max_eps == 4.0);
    assert_int_equal(e.mismatches, 2);
    assert_int_equal(e.nonfinite, 0);

    e = ref_compare_f32(y, f, beta, 8);
    assert_int_equal(e.worst, 5);
    assert_true(e.max_eps == 4.0);
    assert_int_equal(e.mismatches, 2);

    e = ref_compare(y, yref, beta, 0);
    assert_int_equal(e.worst, -1);
    assert_true(e.max_eps == 0.0);

    /* A float that only rounds 1/3 is a mismatch of at most half an eps
     * relative to beta = 1/3. */
    yref[0] = beta[0] = 1.0 / 3.0;
    y[0] = 1.0f / 3.0f;
    e = ref_compare(y, yref, beta, 1);
    assert_int_equal(e.mismatches, 1);
    assert_true(e.max_eps > 0.0 && e.max_eps <= 0.5);
}

static void test_tolerance_table(void **state)
{
    static const char *names[] = {"direct", "im2col_gemm", "conv1x1",
                                  "winograd_f2x2", "winograd_f4x4",
                                  "winograd_f6x6", "fft"};
    const ref_tolerance *strict = ref_tolerance_for("no_such_algorithm");
    const ref_tolerance *au = ref_tolerance_for("auto");

    /* The dot-product algorithms must be exact; the rest must not be. */
    for (int i = 0; i < 7; i++) {
        const ref_tolerance *t = ref_tolerance_for(names[i]);

        assert_string_equal(t->algo, names[i]);
        assert_int_equal(t->exact, i < 3);
    }

    /* Unknown names, prefixes and NULL get the strictest row. */
    assert_true(strict->exact);
    assert_ptr_equal(ref_tolerance_for("winograd"), strict);
    assert_ptr_equal(ref_tolerance_for(NULL), strict);
    assert_string_equal(au->algo, "auto");
    assert_false(au->exact);
    for (const ref_tolerance *t = ref_tolerances; t->algo; t++) {
        assert_true(t->eps >= strict->eps);
        assert_true(au->eps >= t->eps);
        assert_true(t->eps > 0 && strlen(t->why) > 20);
    }
}

/* Integers in range, and in every chunk exactly the documented number of
 * non-zero entries, so any window holds at most the promised count. */
static void test_fill_ints_counts(void **state)
{
    const int64_t chunk = REF_FILL_CHUNK, n = 2 * chunk + 1000;
    const double density[] = {0.0, 0.3, 0.01, 1.0};
    float *a = test_alloc((size_t)n, sizeof(float));

    for (int t = 0; t < 4; t++) {
        int64_t per_chunk = (int64_t)floor(density[t] * chunk + 0.5);
        int64_t last = (int64_t)floor(density[t] * 1000 + 0.5);

        ref_fill_ints(a, n, 5, density[t], 31);
        for (int64_t j = 0; j < 3; j++) {
            int64_t len = j < 2 ? chunk : 1000, nz = 0;

            for (int64_t i = j * chunk; i < j * chunk + len; i++) {
                assert_true(a[i] == floorf(a[i]) && fabsf(a[i]) <= 5);
                nz += a[i] != 0;
            }
            if (nz != (j < 2 ? per_chunk : last))
                fprintf(stderr, "seed 31 density %g chunk %lld: %lld "
                        "non-zero\n", density[t], (long long)j,
                        (long long)nz);
            assert_int_equal(nz, j < 2 ? per_chunk : last);
        }
    }

    /* Every value of [-5, 5] but 0 shows up among 8000 dense draws. */
    ref_fill_ints(a, 8000, 5, 1.0, 32);
    for (int v = -5; v <= 5; v++) {
        int seen = 0;

        for (int64_t i = 0; i < 8000 && !seen; i++)
            seen = a[i] == (float)v;
        assert_int_equal(seen, v != 0);
    }
    free(a);
}

static void test_fill_real_range(void **state)
{
    const int64_t n = 100000;
    float *a = test_alloc((size_t)n, sizeof(float));
    double sum = 0;

    ref_fill_real(a, n, 41);
    for (int64_t i = 0; i < n; i++) {
        assert_true(a[i] >= -1.0f && a[i] < 1.0f);
        sum += a[i];
    }
    /* The mean of 10^5 uniform draws has a standard deviation of 0.0018;
     * the seed is fixed, so this cannot flake. */
    assert_true(fabs(sum / (double)n) < 0.01);
    free(a);
}

/* Same seed, same data, with one thread or two; another seed differs. */
static void test_fill_deterministic(void **state)
{
    const int64_t n = 5 * REF_FILL_CHUNK + 17;
    float *a = test_alloc((size_t)n, sizeof(float));
    float *b = test_alloc((size_t)n, sizeof(float));
    int saved = omp_get_max_threads();

    omp_set_num_threads(1);
    ref_fill_ints(a, n, 7, 0.4, 51);
    omp_set_num_threads(2);
    ref_fill_ints(b, n, 7, 0.4, 51);
    assert_memory_equal(a, b, (size_t)n * sizeof(float));

    omp_set_num_threads(1);
    ref_fill_real(a, n, 52);
    omp_set_num_threads(2);
    ref_fill_real(b, n, 52);
    assert_memory_equal(a, b, (size_t)n * sizeof(float));

    ref_fill_real(b, n, 53);
    assert_true(memcmp(a, b, (size_t)n * sizeof(float)) != 0);
    omp_set_num_threads(saved);
    free(a);
    free(b);
}

/* y[n][k][p][q] in fp32, one sequential sum, bias first: the worst
 * order an algorithm may use, to model what the tolerances must cover. */
static float f32_point(const conv_desc *d, const float *x, const float *w,
                       float b, int64_t n, int64_t k, int64_t p, int64_t q)
{
    int64_t cg = d->c / d->groups, g = k / (d->k / d->groups);
    float acc = b;

    for (int64_t c = 0; c < cg; c++) {
        const float *xc = x + (n * d->c + g * cg + c) * d->h * d->w;
        const float *wc = w + (k * cg + c) * d->r * d->s;

        for (int64_t r = 0; r < d->r; r++) {
            int64_t ih = p * d->stride_h - d->pad_top + r * d->dil_h;

            for (int64_t s = 0; s < d->s; s++) {
                int64_t iw = q * d->stride_w - d->pad_left + s * d->dil_w;

                if (ih >= 0 && ih < d->h && iw >= 0 && iw < d->w)
                    acc += xc[ih * d->w + iw] * wc[r * d->s + s];
            }
        }
    }
    return acc;
}

static void f32_conv(const conv_desc *d, const float *x, const float *w,
                     const float *b, float *y)
{
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t k = 0; k < d->k; k++)
            for (int64_t p = 0; p < d->p; p++)
                for (int64_t q = 0; q < d->q; q++)
                    *y++ = f32_point(d, x, w, b[k], n, k, p, q);
}

/* Exact fills on shapes from 3 taps to 17 million: the largest beta over
 * all outputs stays within 2^24, and a plain fp32 sum then matches the
 * reference bit for bit. */
static const shape exact_shapes[] = {
    {"ic3 ih13 oc5 kh3 ph1", 2, 3, 13, 5, 3, 1, 1, 1, 1},
    {"ic1024 ih7 oc2 kh3 ph1", 1, 1024, 7, 2, 3, 1, 1, 1, 1},
    {"alexnet conv1: ic3 ih227 oc2 kh11 sh4", 1, 3, 227, 2, 11, 4, 0, 1, 1},
    {"g32 ic32 oc32 ih9 kh3 dh2 ph3", 1, 32, 9, 32, 3, 1, 3, 2, 32},
    {"ic4096 ih11 oc2 kh11 (range 4)", 1, 4096, 11, 2, 11, 1, 0, 1, 1},
    {"ic16384 ih11 oc1 kh11 (range 2)", 1, 16384, 11, 1, 11, 1, 0, 1, 1},
    {"ic65536 ih11 oc1 kh11 (range 1)", 1, 65536, 11, 1, 11, 1, 0, 1, 1},
    {"ic140000 ih11 oc1 kh11 (sparse)", 1, 140000, 11, 1, 11, 1, 0, 1, 1},
};

static void check_exact_shape(const shape *s, uint64_t seed)
{
    conv_desc d = desc_of(s);
    int64_t ny = d.n * d.k * d.p * d.q;
    int64_t taps = d.c / d.groups * d.r * d.s;
    ref_exact_fill f = ref_exact_fill_for(&d);
    tensors t = tensors_alloc(&d);
    float *y = test_alloc((size_t)ny, sizeof(float));
    double worst = 0;
    ref_error e;

    ref_fill_ints(t.x, d.n * d.c * d.h * d.w, f.x_max, f.x_density, seed);
    ref_fill_ints(t.w, d.k * taps, f.w_max, f.w_density, seed + 1);
    ref_fill_ints(t.b, d.k, f.b_max, 1.0, seed + 2);
    run_ref(&t, t.b);
    for (int64_t i = 0; i < ny; i++)
        worst = fmax(worst, t.beta[i]);
    for (int64_t i = 0; i < ny; i++)
        y[i] = NAN;
    f32_conv(&d, t.x, t.w, t.b, y);
    e = ref_compare(y, t.y, t.beta, ny);

    if (worst > LIMIT_2_24 || e.mismatches != 0)
        fprintf(stderr, "%s seed %llu: x,w,b in +-%d,%d,%d, densities "
                "%g,%g: max beta %.0f, %lld outputs not exact\n", s->name,
                (unsigned long long)seed, f.x_max, f.w_max, f.b_max,
                f.x_density, f.w_density, worst, (long long)e.mismatches);
    assert_true(worst <= LIMIT_2_24);
    assert_int_equal(e.mismatches, 0);
    assert_int_equal(e.nonfinite, 0);
    /* Dense fills must fit by the worst case alone. */
    if (f.x_density == 1.0 && f.w_density == 1.0)
        assert_true(f.b_max + (double)taps * f.x_max * f.w_max
                    <= LIMIT_2_24);
    /* The sparse fill is no emptier than it has to be. */
    if (taps > 1 << 24)
        assert_true(worst > LIMIT_2_24 / 2);
    free(y);
    tensors_free(&t);
}

static void test_exact_fill_bound(void **state)
{
    for (size_t i = 0; i < sizeof exact_shapes / sizeof exact_shapes[0];
         i++)
        check_exact_shape(&exact_shapes[i], 61 + 10 * i);
}

/* The strict tolerance holds for the worst summation order on real data,
 * from one tap to 4608 (512 channels, 3x3) and beyond. */
static void test_dot_tolerance_holds(void **state)
{
    static const shape shapes[] = {
        {"ic1 ih9 oc4 kh1", 2, 1, 9, 4, 1, 1, 0, 1, 1},
        {"ic1 ih17 oc4 kh3 ph1", 4, 1, 17, 4, 3, 1, 1, 1, 1},
        {"ic3 ih23 oc8 kh3 sh2 ph2", 2, 3, 23, 8, 3, 2, 2, 1, 1},
        {"ic64 ih7 oc16 kh5 ph2", 1, 64, 7, 16, 5, 1, 2, 1, 1},
        {"ic512 ih5 oc8 kh3 ph1", 1, 512, 5, 8, 3, 1, 1, 1, 1},
        {"ic2048 ih3 oc8 kh3", 1, 2048, 3, 8, 3, 1, 0, 1, 1},
    };
    const ref_tolerance *tol = ref_tolerance_for("direct");

    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        conv_desc d = desc_of(&shapes[i]);
        int64_t ny = d.n * d.k * d.p * d.q;
        tensors t = tensors_alloc(&d);
        float *y = test_alloc((size_t)ny, sizeof(float));
        uint64_t seed = 71 + i;
        ref_error e;

        ref_fill_real(t.x, d.n * d.c * d.h * d.w, seed);
        ref_fill_real(t.w, d.k * d.c * d.r * d.s, seed + 1);
        ref_fill_real(t.b, d.k, seed + 2);
        run_ref(&t, t.b);
        for (int64_t j = 0; j < ny; j++)
            y[j] = NAN;
        f32_conv(&d, t.x, t.w, t.b, y);
        e = ref_compare(y, t.y, t.beta, ny);
        if (e.max_eps > tol->eps)
            fprintf(stderr, "%s seed %llu: %.2f eps at %lld\n",
                    shapes[i].name, (unsigned long long)seed, e.max_eps,
                    (long long)e.worst);
        assert_true(e.max_eps <= tol->eps);
        assert_true(e.max_eps > 0);
        free(y);
        tensors_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_box_same),
        cmocka_unit_test(test_blur_valid),
        cmocka_unit_test(test_outline_same),
        cmocka_unit_test(test_emboss_valid),
        cmocka_unit_test(test_emboss_impulse),
        cmocka_unit_test(test_stride2),
        cmocka_unit_test(test_dilation),
        cmocka_unit_test(test_asymmetric_padding),
        cmocka_unit_test(test_bias),
        cmocka_unit_test(test_beta),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_ref_rejects),
        cmocka_unit_test(test_compare_zero_beta),
        cmocka_unit_test(test_compare_nonfinite),
        cmocka_unit_test(test_compare_planted),
        cmocka_unit_test(test_tolerance_table),
        cmocka_unit_test(test_fill_ints_counts),
        cmocka_unit_test(test_fill_real_range),
        cmocka_unit_test(test_fill_deterministic),
        cmocka_unit_test(test_exact_fill_bound),
        cmocka_unit_test(test_dot_tolerance_holds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
