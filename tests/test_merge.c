/* `convbench merge`: disjoint shards join in order, and so do their
 * phases tables; a case measured twice, a foreign header or a missing
 * file leaves the outputs untouched. `merge --median` gives each case
 * the median over runs of the same cases, or refuses runs that differ. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "csv.h"
#include "merge.h"
#include "timing.h"

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
    ROW_HEAD "direct,\"direct, avx2\",2,ok,0.3,0.28,17,0.1,100\n"
    ROW_HEAD "im2col_gemm,x,2,ok,0.4,0.38,13,,2048\n";

/* The profiled cases of part1 and part2: the columns up to threads. */
#define PH_IM2COL "s,s:conv1,mb1ic8ih9oc8kh3ph1,im2col_gemm,"
#define PH_1X1 "s,s:conv2,mb1ic8ih9oc8kh1,conv1x1,1,"

static const char phases1[] =
    BENCH_PHASES_HEADER "\n"
    PH_IM2COL "1,40,0.1,0.5,0.05,0.01,0.2,0.66\n";

static const char phases2[] =
    BENCH_PHASES_HEADER "\n"
    PH_1X1 "120,0,0.08,0,0.002,0.01,0.082\n"
    PH_IM2COL "2,60,0.06,0.3,0.03,0.01,0.2,0.4\n";

static char dir[256];

static int setup(void **state)
{
    return test_make_dir(dir, sizeof dir, "test_merge");
}

static int teardown(void **state)
{
    return test_remove_dir(dir);
}

static const char *put(const char *name, const char *text)
{
    static char paths[8][300];
    static int next;
    char *path = paths[next++ % 8];

    snprintf(path, 300, "%s/%s", dir, name);
    test_write_file(path, text);
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

static int exists(const char *name)
{
    char path[300];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_disjoint_shards(void **state)
{
    const char *a = put("part1.csv", part1), *b = put("part2.csv", part2);
    const char *out = put("all.csv", "old contents\n");
    bench_rows ra, rb, all;
    char err[512];

    /* A phases table of an earlier merge would not belong to this one. */
    put("all.phases.csv", BENCH_PHASES_HEADER "\n"
        PH_1X1 "1,1,1,1,1,1,4\n");
    assert_int_equal(merge(out, a, b), 0);
    assert_false(exists("all.phases.csv"));
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
    const char *pout = put("out.phases.csv", "keep me too\n");

    put("part1.phases.csv", phases1);
    assert_int_equal(merge(out, a, dup), 2);
    assert_int_equal(merge(out, self, NULL), 2);
    expect_untouched(out, "keep me\n");
    expect_untouched(pout, "keep me too\n");
    expect_no_temporaries();
}

/* Every column of the two phases rows is the same. */
static void expect_same_phases(const bench_phases *x, const bench_phases *y)
{
    assert_string_equal(x->suite, y->suite);
    assert_string_equal(x->layer, y->layer);
    assert_string_equal(x->desc, y->desc);
    assert_string_equal(x->algo, y->algo);
    assert_int_equal(x->threads, y->threads);
    assert_int_equal(x->executions, y->executions);
    for (int j = 0; j < BENCH_NPHASES; j++)
        assert_true(x->ms[j] == y->ms[j]);
    assert_true(x->kernel_ms == y->kernel_ms);
    assert_true(x->total_ms == y->total_ms);
}

static void read_phases(const char *name, bench_phases_table *t)
{
    char path[300], err[512];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (bench_phases_read(path, t, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* The phases table `name` holds exactly the rows of `want`, in order. */
static void expect_phases_file(const char *name,
                               const bench_phases_table *want)
{
    bench_phases_table got;

    read_phases(name, &got);
    assert_int_equal(got.n, want->n);
    for (int i = 0; i < want->n; i++)
        expect_same_phases(&got.rows[i], &want->rows[i]);
    bench_phases_table_free(&got);
}

static void test_phases_joined(void **state)
{
    const char *a = put("part1.csv", part1), *b = put("part2.csv", part2);
    const char *out = put("all.csv", "old contents\n");
    bench_phases_table pa, pb, all;

    put("part1.phases.csv", phases1);
    put("part2.phases.csv", phases2);
    put("all.phases.csv", "old phases\n");
    assert_int_equal(merge(out, a, b), 0);
    read_phases("part1.phases.csv", &pa);
    read_phases("part2.phases.csv", &pb);
    read_phases("all.phases.csv", &all);
    assert_int_equal(all.n, pa.n + pb.n);
    for (int i = 0; i < pa.n; i++)
        expect_same_phases(&all.rows[i], &pa.rows[i]);
    for (int i = 0; i < pb.n; i++)
        expect_same_phases(&all.rows[pa.n + i], &pb.rows[i]);
    bench_phases_table_free(&all);

    /* A shard without a phases table adds none to the join. */
    assert_int_equal(unlink(put("part2.phases.csv", "")), 0);
    assert_int_equal(merge(out, a, b), 0);
    expect_phases_file("all.phases.csv", &pa);

    /* OUT may be an input: its phases table is read before it goes. */
    assert_int_equal(merge(a, a, NULL), 0);
    expect_phases_file("part1.phases.csv", &pa);
    bench_phases_table_free(&pa);
    bench_phases_table_free(&pb);
    expect_no_temporaries();
}

/* merge(), with what it printed to stderr in msg. */
static int merge_said(const char *out, const char *a, const char *b,
                      char *msg, size_t n)
{
    char *argv[] = {"merge", (char *)out, (char *)a, (char *)b, NULL};
    char *text;
    int st = test_stderr_of(merge_main, b ? 4 : 3, argv, dir, &text);

    snprintf(msg, n, "%s", text);
    free(text);
    return st;
}

static void expect_said(const char *msg, const char *what)
{
    char want[400];

    snprintf(want, sizeof want, "%s/%s", dir, what);
    if (strstr(msg, want) == NULL)
        fail_msg("expected '%s' in: %s", want, msg);
}

static void test_phases_duplicates_rejected(void **state)
{
    const char *a = put("part1.csv", part1), *b = put("part2.csv", part2);
    const char *out = put("out.csv", "keep me\n");
    const char *pout = put("out.phases.csv", "keep me too\n");
    char msg[2048];

    /* The same case profiled by both shards. */
    put("part1.phases.csv", phases1);
    put("part2.phases.csv", BENCH_PHASES_HEADER "\n"
        PH_1X1 "120,0,0.08,0,0.002,0.01,0.082\n"
        PH_IM2COL "1,40,0.2,0.4,0.05,0.01,0.2,0.66\n");
    assert_int_equal(merge_said(out, a, b, msg, sizeof msg), 2);
    expect_said(msg, "part2.phases.csv:3: duplicate of ");
    expect_said(msg, "part1.phases.csv:2:");

    /* And twice in one phases table. */
    put("part2.phases.csv", phases2);
    put("part1.phases.csv", BENCH_PHASES_HEADER "\n"
        PH_IM2COL "1,40,0.1,0.5,0.05,0.01,0.2,0.66\n"
        PH_IM2COL "1,41,0.1,0.5,0.05,0.01,0.2,0.66\n");
    assert_int_equal(merge_said(out, a, b, msg, sizeof msg), 2);
    expect_said(msg, "part1.phases.csv:3: duplicate of ");
    expect_said(msg, "part1.phases.csv:2:");

    expect_untouched(out, "keep me\n");
    expect_untouched(pout, "keep me too\n");
    expect_no_temporaries();
}

/* A phases row is kept only beside its case's row: bench leaves one
 * without it when killed between the two. */
static void test_orphan_phases_dropped(void **state)
{
    const char *a = put("part1.csv", part1), *b = put("part2.csv", part2);
    const char *out = put("all.csv", "old contents\n");
    bench_phases_table pa;
    char msg[2048];

    put("part1.phases.csv", phases1);
    put("part2.phases.csv", BENCH_PHASES_HEADER "\n"
        "s,s:conv7,mb1ic8ih9oc8kh1,conv1x1,1,9,0,1,0,0,0,1\n");
    assert_int_equal(merge_said(out, a, b, msg, sizeof msg), 0);
    expect_said(msg, "part2.phases.csv:2:");
    read_phases("part1.phases.csv", &pa);
    expect_phases_file("all.phases.csv", &pa);

    /* Beside the other shard's table, a case is still an orphan. */
    put("part2.phases.csv", BENCH_PHASES_HEADER "\n"
        PH_IM2COL "1,40,0.1,0.5,0.05,0.01,0.2,0.66\n");
    put("part1.phases.csv", BENCH_PHASES_HEADER "\n");
    assert_int_equal(merge_said(out, a, b, msg, sizeof msg), 0);
    expect_said(msg, "part2.phases.csv:2:");
    assert_false(exists("all.phases.csv"));
    bench_phases_table_free(&pa);
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
    put("part1.phases.csv", PH_IM2COL "1,40,0.1,0.5,0.05,0.01,0.2,0.66\n");
    assert_int_equal(merge(out, a, NULL), 2);
    expect_untouched(out, "keep me\n");
    expect_no_temporaries();
}

/* Three runs of the same two cases, the rows in another order in one
 * of them: direct at 1, 3 and 2 ms (minima 0.9, 2.5, 1.5; 10 GFLOP/s
 * at 1 ms), and a case that did not apply. */
#define RUN_DIRECT(t, tmin, gf, pk) \
    ROW_HEAD "direct,\"direct, avx2\",1,ok," t "," tmin "," gf "," pk \
    ",100\n"
#define RUN_NA ROW_HEAD "conv1x1,,1,n/a:needs a 1x1 kernel,,,,,\n"

static const char run1[] =
    BENCH_CSV_HEADER "\n" RUN_DIRECT("1", "0.9", "10", "0.1") RUN_NA;
static const char run2[] =
    BENCH_CSV_HEADER "\n" RUN_NA RUN_DIRECT("3", "2.5", "3.33", "0.033");
static const char run3[] =
    BENCH_CSV_HEADER "\n" RUN_DIRECT("2", "1.5", "5", "0.05") RUN_NA;

static int median(const char *out, const char *a, const char *b,
                  const char *c)
{
    char *argv[] = {"merge", "--median", (char *)out, (char *)a,
                    (char *)b, (char *)c, NULL};

    return merge_main(c ? 6 : 5, argv);
}

static void test_median_of_runs(void **state)
{
    const char *a = put("run1.csv", run1), *b = put("run2.csv", run2);
    const char *c = put("run3.csv", run3), *out = put("med.csv", "old\n");
    bench_rows m;
    char err[512];

    put("med.phases.csv", BENCH_PHASES_HEADER "\n");
    assert_int_equal(median(out, a, b, c), 0);
    assert_false(exists("med.phases.csv"));
    if (bench_csv_read(out, &m, err, sizeof err) != 0)
        fail_msg("median table: %s", err);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.rows[0].algo, "direct");
    assert_string_equal(m.rows[0].impl, "direct, avx2");
    assert_true(m.rows[0].time_ms == 2.0);
    assert_true(m.rows[0].time_min_ms == 0.9);
    assert_true(m.rows[0].gflops == 5.0);
    assert_true(m.rows[0].peak_fraction == 0.05);
    assert_string_equal(m.rows[1].status, "n/a:needs a 1x1 kernel");
    bench_rows_free(&m);

    /* Two runs: the mean of the middle two. */
    assert_int_equal(median(out, a, b, NULL), 0);
    assert_int_equal(bench_csv_read(out, &m, err, sizeof err), 0);
    assert_true(m.rows[0].time_ms == 2.0);
    assert_true(m.rows[0].time_min_ms == 0.9);
    bench_rows_free(&m);
    expect_no_temporaries();
}

/* Runs that differ in their cases, or in a case's status or
 * implementation, cannot give a median; nothing is written. */
static void test_median_needs_same_cases(void **state)
{
    const char *a = put("run1.csv", run1);
    const char *fewer = put("fewer.csv", BENCH_CSV_HEADER "\n"
                            RUN_DIRECT("1", "1", "10", "0.1"));
    const char *other = put("other.csv", BENCH_CSV_HEADER "\n"
                            RUN_DIRECT("1", "1", "10", "0.1")
                            ROW_HEAD "fft,x,1,ok,1,1,1,1,0\n");
    const char *failed = put("failed.csv", BENCH_CSV_HEADER "\n"
                             ROW_HEAD "direct,,1,error:timed out,,,,,\n"
                             RUN_NA);
    const char *twice = put("twice.csv", BENCH_CSV_HEADER "\n" RUN_NA
                            RUN_NA);
    const char *impl = put("impl.csv", BENCH_CSV_HEADER "\n"
                           ROW_HEAD "direct,other,1,ok,1,1,10,0.1,100\n"
                           RUN_NA);
    const char *out = put("med.csv", "keep me\n");
    char *argv[] = {"merge", "--median", (char *)out, NULL};

    assert_int_equal(median(out, a, fewer, NULL), 2);
    assert_int_equal(median(out, a, other, NULL), 2);
    assert_int_equal(median(out, a, failed, NULL), 2);
    assert_int_equal(median(out, a, twice, NULL), 2);
    assert_int_equal(median(out, a, impl, NULL), 2);
    assert_int_equal(merge_main(3, argv), 2);
    expect_untouched(out, "keep me\n");
    expect_no_temporaries();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disjoint_shards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_phases_joined, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_phases_duplicates_rejected,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_phases_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_median_of_runs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_median_needs_same_cases,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
