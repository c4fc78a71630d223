/* `convbench merge`: disjoint shards join in order; a case measured twice,
 * a foreign header or a missing file leaves the output untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "csv.h"
#include "merge.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROW_HEAD "s,s:conv1,1,mb1ic8ih9oc8kh3ph1,"

static const char part1[] =
    BENCH_CSV_HEADER "\n"
    ROW_HEAD "direct,\"direct, avx2\",1,ok,0.5,0.45,10,0.1,100\n"
    ROW_HEAD "im2col_gemm,x,1,ok,0.75,0.7,7,,2048\n";

static const char part2[] =
    BENCH_CSV_HEADER "\n"
    ROW_HEAD "conv1x1,,1,n/a:needs a 1x1 kernel,,,,,\n"
    "s,s:conv2,2,mb1ic8ih9oc8kh1,conv1x1,x,1,ok,0.1,0.09,5,,0\n"
    ROW_HEAD "direct,\"direct, avx2\",2,ok,0.3,0.28,17,0.1,100\n";

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_merge_%ld", (long)getpid());
    return mkdir(dir, 0777);
}

static int teardown(void **state)
{
    char cmd[400];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *put(const char *name, const char *text)
{
    static char paths[8][300];
    static int next;
    char *path = paths[next++ % 8];
    FILE *f;

    snprintf(path, 300, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static int merge(const char *out, const char *a, const char *b)
{
    char *argv[] = {"merge", (char *)out, (char *)a, (char *)b, NULL};

    return merge_main(b ? 4 : 3, argv);
}

static int same_row(const bench_row *x, const bench_row *y)
{
    char lx[2048], ly[2048];

    assert_true(bench_csv_format(x, lx, sizeof lx) > 0);
    assert_true(bench_csv_format(y, ly, sizeof ly) > 0);
    return strcmp(lx, ly) == 0;
}

static void test_disjoint_shards(void **state)
{
    const char *a = put("part1.csv", part1), *b = put("part2.csv", part2);
    const char *out = put("all.csv", "old contents\n");
    bench_rows ra, rb, all;
    char err[512];

    assert_int_equal(merge(out, a, b), 0);
    assert_int_equal(bench_csv_read(a, &ra, err, sizeof err), 0);
    assert_int_equal(bench_csv_read(b, &rb, err, sizeof err), 0);
    if (bench_csv_read(out, &all, err, sizeof err) != 0)
        fail_msg("merged table: %s", err);
    assert_int_equal(all.n, ra.n + rb.n);
    for (int i = 0; i < ra.n; i++)
        assert_true(same_row(&all.rows[i], &ra.rows[i]));
    for (int i = 0; i < rb.n; i++)
        assert_true(same_row(&all.rows[ra.n + i], &rb.rows[i]));
    bench_rows_free(&ra);
    bench_rows_free(&rb);
    bench_rows_free(&all);

    /* The output may be an input: it is read before it is replaced. */
    assert_int_equal(merge(a, a, NULL), 0);
    assert_int_equal(bench_csv_read(a, &ra, err, sizeof err), 0);
    assert_int_equal(ra.n, 2);
    bench_rows_free(&ra);
}

static void expect_untouched(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_string_equal(buf, text);
}

/* Nothing but the files the test made: no temporary left behind. */
static void expect_no_temporaries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp") != NULL)
            fail_msg("left behind: %s/%s", dir, e->d_name);
    closedir(d);
}

static void test_duplicates_rejected(void **state)
{
    const char *a = put("part1.csv", part1);
    const char *dup = put("dup.csv", BENCH_CSV_HEADER "\n"
                          "s,s:conv9,1,mb1ic8ih9oc8kh1,direct,x,1,ok,1,1,"
                          "1,,0\n" ROW_HEAD "im2col_gemm,y,1,ok,0.8,0.7,"
                          "6,,2048\n");
    const char *self = put("self.csv", BENCH_CSV_HEADER "\n"
                           ROW_HEAD "direct,x,1,ok,1,1,1,,0\n"
                           ROW_HEAD "direct,x,1,ok,2,2,1,,0\n");
    const char *out = put("out.csv", "keep me\n");

    assert_int_equal(merge(out, a, dup), 2);
    assert_int_equal(merge(out, self, NULL), 2);
    expect_untouched(out, "keep me\n");
    expect_no_temporaries();
}

static void test_bad_input(void **state)
{
    const char *a = put("part1.csv", part1);
    const char *other = put("other.csv", "a,b,c\n1,2,3\n");
    const char *cut = put("cut.csv", BENCH_CSV_HEADER "\n"
                          ROW_HEAD "direct,x,1,ok,1,1");
    const char *out = put("out.csv", "keep me\n");
    char missing[300];
    char *argv[] = {"merge", (char *)out, NULL};

    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    assert_int_equal(merge(out, a, other), 2);
    assert_int_equal(merge(out, a, cut), 2);
    assert_int_equal(merge(out, a, missing), 2);
    assert_int_equal(merge_main(2, argv), 2);
    expect_untouched(out, "keep me\n");
    expect_no_temporaries();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disjoint_shards),
        cmocka_unit_test(test_duplicates_rejected),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests_name("merge", tests, setup, teardown);
}
