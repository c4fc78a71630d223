/* tune's rule for overturning the cost model's pick. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tune.h"

static bench_row row(double median_ms, double min_ms)
{
    bench_row r = {0};

    r.time_ms = median_ms;
    r.time_min_ms = min_ms;
    return r;
}

/* A gain that shows in both estimates, beyond 3%, is believed. */
static void gain_in_both_counts(void **state)
{
    bench_row f6 = row(8.8, 8.6), f4 = row(10.1, 9.9);

    (void)state;
    assert_true(tune_clearly_faster(&f6, &f4));
    assert_false(tune_clearly_faster(&f4, &f6));
}

/* One estimate alone (a lucky minimum, a slow median) is not enough. */
static void gain_in_one_estimate_is_noise(void **state)
{
    bench_row a = row(10.0, 7.0), b = row(10.1, 9.9);
    bench_row c = row(8.0, 9.95), d = row(10.0, 10.0);

    (void)state;
    assert_false(tune_clearly_faster(&a, &b));
    assert_false(tune_clearly_faster(&c, &d));
}

/* Gains at or under the 3% floor are not believed. */
static void gain_under_floor_is_noise(void **state)
{
    bench_row a = row(1.0, 1.0), b = row(1.029, 1.029);
    bench_row c = row(1.0, 1.0), d = row(1.031, 1.031);

    (void)state;
    assert_false(tune_clearly_faster(&a, &b));
    assert_true(tune_clearly_faster(&c, &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gain_in_both_counts),
        cmocka_unit_test(gain_in_one_estimate_is_noise),
        cmocka_unit_test(gain_under_floor_is_noise),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
