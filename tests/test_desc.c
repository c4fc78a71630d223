/* The descriptor: output sizes, rejected descriptors and the reasons
 * given, and benchdnn's flop count, against cases worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conv.h"

#include <stdio.h>
#include <string.h>

/* A one-image, one-channel square problem; tests change what they need. */
static conv_desc square(int64_t h, int64_t r)
{
    conv_desc d = conv_desc_default();

    d.n = d.c = d.k = 1;
    d.h = d.w = h;
    d.r = d.s = r;
    return d;
}

/* Checks d and expects a p x q output. */
static void expect_out(conv_desc d, int64_t p, int64_t q)
{
    conv_status st = conv_desc_check(&d);

    if (st != CONV_OK)
        fprintf(stderr, "rejected: %s\n", conv_reason());
    assert_int_equal(st, CONV_OK);
    assert_int_equal(d.p, p);
    assert_int_equal(d.q, q);
}

/* Checks d and expects EINVAL with a reason that names `field`. */
static void expect_reject(conv_desc d, const char *field)
{
    d.p = d.q = -7;
    assert_int_equal(conv_desc_check(&d), CONV_EINVAL);
    if (strstr(conv_reason(), field) == NULL)
        fprintf(stderr, "reason '%s' does not name '%s'\n", conv_reason(),
                field);
    assert_non_null(strstr(conv_reason(), field));
}

static void test_default(void **state)
{
    conv_desc d = conv_desc_default();

    assert_int_equal(d.stride_h, 1);
    assert_int_equal(d.stride_w, 1);
    assert_int_equal(d.dil_h, 1);
    assert_int_equal(d.dil_w, 1);
    assert_int_equal(d.groups, 1);
    assert_int_equal(d.pad_top + d.pad_left + d.pad_bottom + d.pad_right, 0);
}

static void test_output_sizes(void **state)
{
    conv_desc d;

    /* 7 + 2 - 3 = 6 rows of slack, every second: 4 outputs. */
    d = square(7, 3);
    d.stride_h = d.stride_w = 2;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    expect_out(d, 4, 4);

    /* Dilation 2 makes a 3-tap kernel span 5: 10 - 5 + 1 = 6. */
    d = square(10, 3);
    d.dil_h = d.dil_w = 2;
    expect_out(d, 6, 6);

    /* Rows and columns differ: span 7 and 1 (3 taps, dilation 3 vs 1),
     * padded height 9+2+1 = 12, (12-7)/2+1 = 3; width 4-1+1 = 4. */
    d = square(9, 3);
    d.w = 4;
    d.s = 1;
    d.dil_h = 3;
    d.stride_h = 2;
    d.pad_top = 2;
    d.pad_bottom = 1;
    expect_out(d, 3, 4);

    /* Padding larger than the kernel's reach: 3 + 4 + 4 - 3 + 1 = 9. */
    d = square(3, 3);
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 4;
    expect_out(d, 9, 9);
}

static void test_asymmetric_padding(void **state)
{
    conv_desc d;

    /* Top padding only: 5 + 2 - 3 + 1 = 5 rows; no width padding: 3. */
    d = square(5, 3);
    d.pad_top = 2;
    expect_out(d, 5, 3);

    /* ResNet's stride-2 1x1: (56 - 1)/2 + 1 = 28; the last input row is
     * never read, i.e. end padding -1 in effect. Saying so gives 28 too. */
    d = square(56, 1);
    d.stride_h = d.stride_w = 2;
    expect_out(d, 28, 28);
    d.pad_bottom = d.pad_right = -1;
    expect_out(d, 28, 28);

    /* Negative end padding cuts real rows: 8 - 2 - 3 + 1 = 4. */
    d = square(8, 3);
    d.pad_bottom = -2;
    expect_out(d, 4, 6);
}

static void test_empty_output_rejected(void **state)
{
    conv_desc d;

    /* A 3-tap kernel does not fit 2 rows. */
    d = square(2, 3);
    expect_reject(d, "output");

    /* Nor 4 rows cut by 3 at the end; the width alone would be fine. */
    d = square(4, 3);
    d.pad_bottom = -3;
    expect_reject(d, "output");

    /* Dilation 3 spreads 2 taps over 4 columns of a 3-wide image. */
    d = square(3, 2);
    d.dil_w = 3;
    expect_reject(d, "output");
}

static void test_bad_fields_rejected(void **state)
{
    conv_desc d;

    d = square(5, 3);
    d.stride_h = 0;
    expect_reject(d, "stride_h");
    d = square(5, 3);
    d.stride_w = 0;
    expect_reject(d, "stride_w");
    d = square(5, 3);
    d.pad_top = -1;
    expect_reject(d, "pad_top");
    d = square(5, 3);
    d.pad_left = -2;
    expect_reject(d, "pad_left");
    d = square(5, 3);
    d.dil_h = 0;
    expect_reject(d, "dil_h");
    d = square(5, 3);
    d.c = 0;
    expect_reject(d, "input channels");
    d = square(5, 0);
    expect_reject(d, "kernel height");
}

static void test_groups_rejected(void **state)
{
    conv_desc d = square(5, 3);

    /* 3 groups divide 6 output channels but not 4 input channels. */
    d.c = 4;
    d.k = 6;
    d.groups = 3;
    expect_reject(d, "groups");

    /* 2 groups divide 4 inputs but not 3 outputs. */
    d.k = 3;
    d.groups = 2;
    expect_reject(d, "groups");

    d.groups = 0;
    expect_reject(d, "groups");

    /* Depthwise is fine. */
    d.k = 4;
    d.groups = 4;
    expect_out(d, 3, 3);
}

static void test_overflow_rejected(void **state)
{
    conv_desc d = square(1, 1);

    /* 2^20 * 2^20 * 2^12 * 2^12 = 2^64 elements: int64 overflows. */
    d.n = d.c = (int64_t)1 << 20;
    d.h = d.w = (int64_t)1 << 12;
    expect_reject(d, "n*c*h*w");

    /* 2^62 elements fit int64, but not 2^64 bytes of floats. */
    d.n = d.c = (int64_t)1 << 30;
    d.h = 4;
    d.w = 1;
    expect_reject(d, "n*c*h*w");

    /* A single size past the int range. */
    d = square(1, 1);
    d.h = (int64_t)1 << 31;
    expect_reject(d, "input height");
}

static void test_elems(void **state)
{
    conv_desc d = square(9, 3);

    /* 2 images, 6 -> 4 channels in 2 groups, 9x7 input, 3x2 kernel. */
    d.n = 2;
    d.c = 6;
    d.k = 4;
    d.groups = 2;
    d.w = 7;
    d.s = 2;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(conv_desc_input_elems(&d), 2 * 6 * 9 * 7);
    assert_int_equal(conv_desc_weight_elems(&d), 4 * 3 * 3 * 2);
    assert_int_equal(conv_desc_output_elems(&d), 2 * 4 * 7 * 6);
}

static void test_flops_exclude_padding(void **state)
{
    conv_desc d;

    /* 3x3 image, 3x3 kernel, padding 1: per dimension the three outputs
     * see 2, 3, 2 real taps, 7 in all; 7*7 = 49 taps, 98 flops (not the
     * 162 that counting padding taps would give). */
    d = square(3, 3);
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_true(conv_desc_flops(&d) == 98.0);

    /* 5 rows, 3 taps at dilation 2, padding 2, stride 2: outputs read
     * rows {-2,0,2}, {0,2,4}, {2,4,6}: 2 + 3 + 2 = 7 per dimension.
     * 2 images, 4 output channels, 6/2 = 3 channels per group:
     * 2 * 2 * 4 * 3 * 7 * 7 = 2352. */
    d = square(5, 3);
    d.n = 2;
    d.c = 6;
    d.k = 4;
    d.groups = 2;
    d.dil_h = d.dil_w = 2;
    d.stride_h = d.stride_w = 2;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 2;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(d.p, 3);
    assert_true(conv_desc_flops(&d) == 2352.0);

    /* Padding beyond the reach: a 1x1 kernel on 2x2 with padding 2 gives
     * 6x6 outputs, of which only 2x2 read the input: 2 * 4 = 8 flops. */
    d = square(2, 1);
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 2;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_int_equal(d.p, 6);
    assert_true(conv_desc_flops(&d) == 8.0);

    /* ResNet stride-2 1x1, 64 -> 128 channels: 28*28 taps, 2*128*64 each. */
    d = square(56, 1);
    d.c = 64;
    d.k = 128;
    d.stride_h = d.stride_w = 2;
    assert_int_equal(conv_desc_check(&d), CONV_OK);
    assert_true(conv_desc_flops(&d) == 2.0 * 128 * 64 * 28 * 28);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_output_sizes),
        cmocka_unit_test(test_asymmetric_padding),
        cmocka_unit_test(test_empty_output_rejected),
        cmocka_unit_test(test_bad_fields_rejected),
        cmocka_unit_test(test_groups_rejected),
        cmocka_unit_test(test_overflow_rejected),
        cmocka_unit_test(test_elems),
        cmocka_unit_test(test_flops_exclude_padding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
