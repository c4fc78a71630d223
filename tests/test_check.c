/* The checker: its verdicts, a planted error it must catch, and the exit
 * codes of `convbench check`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "check.h"
#include "shapes.h"
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    bench_shape s;
    test_data t;
} fixture;

/* A correct im2col_gemm output on exact integer data, and its reference. */
static int setup(void **state)
{
    fixture *f = test_alloc(1, sizeof *f);
    char err[256];
    conv_plan *p = NULL;

    assert_int_equal(bench_shape_parse("mb2ic5ih9iw7oc6kh3ph1", 0, &f->s,
                                       err, sizeof err), 0);
    f->t = test_data_new(&f->s.desc);
    test_fill_exact(&f->t, &f->s.desc, 7);
    test_reference(&f->t, &f->s.desc, f->t.b);

    assert_int_equal(conv_plan_create(&p, &f->s.desc, "im2col_gemm", NULL),
                     CONV_OK);
    assert_int_equal(conv_plan_set_weights(p, f->t.w, f->t.b), CONV_OK);
    assert_int_equal(conv_execute(p, f->t.x, f->t.y), CONV_OK);
    conv_plan_destroy(p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    test_data_free(&f->t);
    free(f);
    return 0;
}

static void correct_output_passes(void **state)
{
    fixture *f = *state;
    ref_error e;

    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 1, f->t.y,
                                 f->t.yref, f->t.beta, &e), CHECK_OK);
    assert_int_equal(e.mismatches, 0);
}

/* One output off by one unit in the last place: exact data must fail. */
static void planted_ulp_error_fails_exact(void **state)
{
    fixture *f = *state;
    int64_t i = f->t.ny / 3;
    ref_error e;

    f->t.y[i] = nextafterf(f->t.y[i], INFINITY);
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 1, f->t.y,
                                 f->t.yref, f->t.beta, &e), CHECK_FAIL);
    assert_int_equal(e.mismatches, 1);
    assert_int_equal(e.worst, i);
}

/* A large planted error fails even where only a bound applies. */
static void planted_large_error_fails_bound(void **state)
{
    fixture *f = *state;
    int64_t i = f->t.ny - 1;
    ref_error e;

    f->t.y[i] += (float)(f->t.beta[i] > 0 ? f->t.beta[i] : 1.0);
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 0, f->t.y,
                                 f->t.yref, f->t.beta, &e), CHECK_FAIL);
    assert_int_equal(e.worst, i);
    assert_true(e.max_eps > 1.0 / FLT_EPSILON / 2);
}

static void nan_output_fails(void **state)
{
    fixture *f = *state;
    ref_error e;

    f->t.y[0] = NAN;
    assert_int_equal(check_judge("im2col_gemm", &f->s.desc, 0, f->t.y,
                                 f->t.yref, f->t.beta, &e), CHECK_FAIL);
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
