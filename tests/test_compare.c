/*
 * `convbench compare`: the noise rule on single pairs, then whole tables:
 * a table against itself changes nothing, a 2x slower copy is slower on
 * every row, two thread counts join only with --ignore-threads, and bad
 * input stops with status 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "compare.h"
#include "csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    return test_make_dir(dir, sizeof dir, "test_compare");
}

static int teardown(void **state)
{
    return test_remove_dir(dir);
}

static bench_row timed(double median, double min)
{
    bench_row r = bench_row_empty();

    snprintf(r.status, sizeof r.status, "ok");
    r.time_ms = median;
    r.time_min_ms = min;
    return r;
}

static compare_verdict judge(double ma, double mina, double mb,
                             double minb)
{
    bench_row a = timed(ma, mina), b = timed(mb, minb);
    double ratio, threshold;
    compare_verdict v = compare_judge(&a, &b, 0.03, &ratio, &threshold);

    assert_true(fabs(ratio - ma / mb) < 1e-12);
    assert_true(threshold >= log(1.03) - 1e-12);
    return v;
}

static void test_noise_rule(void **state)
{
    /* Identical: no change. 2x either way: a change. */
    assert_int_equal(judge(1, 0.99, 1, 0.99), COMPARE_SAME);
    assert_int_equal(judge(1, 0.99, 2, 1.98), COMPARE_SLOWER);
    assert_int_equal(judge(2, 1.98, 1, 0.99), COMPARE_FASTER);

    /* 2% with tight runs is under the floor. */
    assert_int_equal(judge(1, 0.995, 1.02, 1.015), COMPARE_SAME);

    /* 10% is a change when runs agree within 1%, not when one side's
     * own runs spread by 20%. */
    assert_int_equal(judge(1, 0.99, 1.1, 1.09), COMPARE_SLOWER);
    assert_int_equal(judge(1, 0.8, 1.1, 1.09), COMPARE_SAME);
    assert_int_equal(judge(1, 0.99, 1.1, 0.9), COMPARE_SAME);
}

/* ---- whole tables ---- */

#define ROWS 4

static const char *const layers[ROWS] = {"n:conv1", "n:conv1", "n:conv2",
                                         "n:conv3"};
static const char *const algos[ROWS] = {"direct", "im2col_gemm", "conv1x1",
                                        "direct"};

/* A table of ROWS ok rows at `threads`, times scaled by `scale`, and one
 * n/a row that must be left out. */
static const char *table(const char *name, int threads, double scale)
{
    static char paths[8][300];
    static int next;
    char *path = paths[next++ % 8];
    FILE *f;

    snprintf(path, 300, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", BENCH_CSV_HEADER);
    for (int i = 0; i < ROWS; i++)
        fprintf(f, "n,%s,2,mb1ic8ih%dow8kh3,%s,x,%d,ok,%g,%g,1,,0\n",
                layers[i], 8 + i, algos[i], threads, scale * (i + 1),
                scale * (i + 1) * 0.98);
    fprintf(f, "n,n:conv2,1,mb1ic8ih10ow8kh3,winograd_f4x4,,%d,n/a:no,,,,,"
            "\n", threads);
    assert_int_equal(fclose(f), 0);
    return path;
}

static int compare(const char *a, const char *b, const char *flag)
{
    char out[300];
    char *argv[] = {"compare", (char *)a, (char *)b, "--out", out,
                    "--no-plot", (char *)flag, NULL};

    snprintf(out, sizeof out, "%s/cmp", dir);
    return compare_main(flag ? 7 : 6, argv);
}

/* The verdicts compare.dat lists, counted. */
static void count_verdicts(int count[3])
{
    char path[300], line[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/cmp/compare.dat", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    count[0] = count[1] = count[2] = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        const char *v;

        line[strcspn(line, "\n")] = '\0';
        v = strrchr(line, '\t') + 1;
        count[strcmp(v, "same") == 0 ? 0 : strcmp(v, "faster") == 0 ? 1
                                                                     : 2]++;
    }
    fclose(f);
}

static void test_tables(void **state)
{
    const char *a = table("a.csv", 2, 1.0);
    const char *slow = table("slow.csv", 2, 2.0);
    const char *t1 = table("t1.csv", 1, 1.7);
    int count[3];

    assert_int_equal(compare(a, a, NULL), 0);
    count_verdicts(count);
    assert_int_equal(count[0], ROWS);

    assert_int_equal(compare(a, slow, NULL), 0);
    count_verdicts(count);
    assert_int_equal(count[2], ROWS);
    assert_int_equal(compare(slow, a, NULL), 0);
    count_verdicts(count);
    assert_int_equal(count[1], ROWS);

    /* Two thread counts share no key until threads are ignored. */
    assert_int_equal(compare(a, t1, NULL), 0);
    count_verdicts(count);
    assert_int_equal(count[0] + count[1] + count[2], 0);
    assert_int_equal(compare(a, t1, "--ignore-threads"), 0);
    count_verdicts(count);
    assert_int_equal(count[2], ROWS);
}

static void test_bad_input(void **state)
{
    const char *a = table("a.csv", 2, 1.0);
    const char *cut = table("cut.csv", 2, 1.0);
    char both[300], missing[300];
    char *one[] = {"compare", (char *)a, NULL};
    char *three[] = {"compare", (char *)a, (char *)a, (char *)a, NULL};
    char *floor_bad[] = {"compare", (char *)a, (char *)a, "--floor", "-1",
                         NULL};
    FILE *f;

    assert_int_equal(truncate(cut, 150), 0);
    assert_int_equal(compare(a, cut, NULL), 2);
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    assert_int_equal(compare(a, missing, NULL), 2);
    assert_int_equal(compare(a, a, "--no-such-flag"), 2);
    assert_int_equal(compare_main(2, one), 2);
    assert_int_equal(compare_main(4, three), 2);
    assert_int_equal(compare_main(5, floor_bad), 2);

    /* Rows of two thread counts in one table collide once threads are
     * ignored: which one to compare would be a guess. */
    snprintf(both, sizeof both, "%s/both.csv", dir);
    f = fopen(both, "w");
    assert_non_null(f);
    fprintf(f, "%s\nn,n:c,1,d,direct,x,1,ok,1,1,1,,0\n"
            "n,n:c,1,d,direct,x,2,ok,1,1,1,,0\n", BENCH_CSV_HEADER);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(compare(both, both, NULL), 0);
    assert_int_equal(compare(both, both, "--ignore-threads"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_rule),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests_name("compare", tests, setup, teardown);
}
