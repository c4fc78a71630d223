/* The checker: its verdicts, a planted error it must catch, and the exit
 * codes of `convbench check`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "check.h"
#include "shapes.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    bench_shape s;
    float *x, *w, *b, *y;
    double *yref, *beta;
    int64_t ny;
} fixture;

/* A correct im2col_gemm output on exact integer data, and its reference. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    conv_plan *p = NULL;
    ref_exact_fill e;

    assert_int_equal(bench_shape_parse("mb2ic5ih9iw7oc6kh3ph1", 0, &f->s,
                                       err, sizeof err), 0);
    f->ny = conv_desc_output_elems(&f->s.desc);
    f->x = malloc(sizeof(float) * (size_t)conv_desc_input_elems(&f->s.desc));
    f->w = malloc(sizeof(float) * (size_t)conv_desc_weight_elems(&f->s.desc));
    f->b = malloc(sizeof(float) * (size_t)f->s.desc.k);
    f->y = malloc(sizeof(float) * (size_t)f->ny);
    f->yref = malloc(sizeof(double) * (size_t)f->ny);
    f->beta = malloc(sizeof(double) * (size_t)f->ny);

    e = ref_exact_fill_for(&f->s.desc);
    ref_fill_ints(f->x, conv_desc_input_elems(&f->s.desc), e.x_max,
                  e.x_density, 7);
    ref_fill_ints(f->w, conv_desc_weight_elems(&f->s.desc), e.w_max,
                  e.w_density, 8);
    ref_fill_ints(f->b, f->s.desc.k, e.b_max, 1.0, 9);
    assert_int_equal(ref_conv(&f->s.desc, f->x, f->w, f->b, f->yref,
                              f->beta), CONV_OK);

    assert_int_equal(conv_plan_create(&p, &f->s.desc, "im2col_gemm", NULL),
                     CONV_OK);
    assert_int_equal(conv_plan_set_weights(p, f->w, f->b), CONV_OK);
    assert_int_equal(conv_execute(p, f->x, f->y), CONV_OK);
    conv_plan_destroy(p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    free(f->x);
    free(f->w);
    free(f->b);
    free(f->y);
    free(f->yref);
    free(f->beta);
    free(f);
    return 0;
}

static void correct_output_passes(void **state)
{
    fixture *f = *state;
    ref_error e;

    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 1, f->y, f->yref,
                                 f->beta, &e), CHECK_OK);
    assert_int_equal(e.mismatches, 0);
}

/* One output off by one unit in the last place: exact data must fail. */
static void planted_ulp_error_fails_exact(void **state)
{
    fixture *f = *state;
    int64_t i = f->ny / 3;
    ref_error e;

    f->y[i] = nextafterf(f->y[i], INFINITY);
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 1, f->y, f->yref,
                                 f->beta, &e), CHECK_FAIL);
    assert_int_equal(e.mismatches, 1);
    assert_int_equal(e.worst, i);
}

/* A large planted error fails even where only a bound applies. */
static void planted_large_error_fails_bound(void **state)
{
    fixture *f = *state;
    int64_t i = f->ny - 1;
    ref_error e;

    f->y[i] += (float)(f->beta[i] > 0 ? f->beta[i] : 1.0);
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 0, f->y, f->yref,
                                 f->beta, &e), CHECK_FAIL);
    assert_int_equal(e.worst, i);
    assert_true(e.max_eps > 1.0 / FLT_EPSILON / 2);
}

static void nan_output_fails(void **state)
{
    fixture *f = *state;
    ref_error e;

    f->y[0] = NAN;
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 0, f->y, f->yref,
                                 f->beta, &e), CHECK_FAIL);
    assert_int_equal(e.nonfinite, 1);
}

static int run_check(int argc, char **argv)
{
    int rc;

    fflush(stdout);
    rc = check_main(argc, argv);
    fflush(stdout);
    return rc;
}

static void check_command_passes_on_good_shapes(void **state)
{
    char *argv[] = {"check", "--algo", "im2col_gemm,conv1x1",
                    "mb1ic3ih7oc4kh3ph1", "mb1ic8ih9oc5kh1sh2", NULL};

    (void)state;
    assert_int_equal(run_check(5, argv), 0);
}

static void check_command_rejects_bad_input(void **state)
{
    char *bad_desc[] = {"check", "mb1ic3ih7oc4kh0", NULL};
    char *bad_algo[] = {"check", "--algo", "nosuch", "mb1ic3ih7oc4kh3",
                        NULL};
    char *bad_flag[] = {"check", "--threads", "0", "mb1ic3ih7oc4kh3", NULL};
    char *bad_suite[] = {"check", "--suite", "/nonexistent/x.txt", NULL};
    char *nothing[] = {"check", NULL};

    (void)state;
    assert_int_equal(run_check(2, bad_desc), 2);
    assert_int_equal(run_check(4, bad_algo), 2);
    assert_int_equal(run_check(4, bad_flag), 2);
    assert_int_equal(run_check(3, bad_suite), 2);
    assert_int_equal(run_check(1, nothing), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(correct_output_passes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(planted_ulp_error_fails_exact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(planted_large_error_fails_bound,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(nan_output_fails, setup, teardown),
        cmocka_unit_test(check_command_passes_on_good_shapes),
        cmocka_unit_test(check_command_rejects_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
