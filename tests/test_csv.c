/* The results table: quoting, the header, rows read back as written, the
 * resume skip set, and malformed files refused with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scratch file name unique to this process. */
static void scratch(char *path, size_t n, const char *tag)
{
    snprintf(path, n, "/tmp/test_csv_%ld_%s.csv", (long)getpid(), tag);
}

static void expect_field(const char *text, const char *want)
{
    char out[128];
    int n = bench_csv_field(text, out, sizeof out);

    if (n < 0 || strcmp(out, want) != 0)
        fprintf(stderr, "field '%s': got '%s', want '%s'\n", text,
                n < 0 ? "(error)" : out, want);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want);
}

static void test_field_quoting(void **state)
{
    char small[6];

    expect_field("", "");
    expect_field("direct", "direct");
    expect_field("n/a:needs 3x3, stride 1", "\"n/a:needs 3x3, stride 1\"");
    expect_field("n\"resnet\"", "\"n\"\"resnet\"\"\"");
    expect_field("a,\"b\"", "\"a,\"\"b\"\"\"");
    expect_field("two\nlines\r", "two lines ");

    /* "a,b" quoted needs 5 characters and the terminator: 6 fits, 5 not. */
    assert_int_equal(bench_csv_field("a,b", small, 6), 5);
    assert_int_equal(bench_csv_field("a,b", small, 5), -1);
}

/* A row with awkward text in every text column. */
static bench_row sample_row(int i)
{
    bench_row r = bench_row_empty();

    snprintf(r.suite, sizeof r.suite, "suite%d", i % 2);
    snprintf(r.layer, sizeof r.layer, "net:layer,%d \"x\"", i);
    r.count = 1 + i % 3;
    snprintf(r.desc, sizeof r.desc, "mb1ic%dih7oc5kh3n\"net:l%d*2\"",
             3 + i, i);
    snprintf(r.algo, sizeof r.algo, "algo%d", i);
    r.threads = 1 + i % 4;
    if (i % 3 == 2) {
        snprintf(r.status, sizeof r.status, "n/a:needs a 1x1 kernel, "
                 "got \"3x3\"");
        return r;
    }
    snprintf(r.impl, sizeof r.impl, "tile 6x6, ws %d KiB", i);
    snprintf(r.status, sizeof r.status, "ok");
    r.time_ms = 1.25 + i;
    r.time_min_ms = 1.0 + i;
    r.gflops = 87.125 * (i + 1);
    r.peak_fraction = i % 4 == 1 ? NAN : 0.78 + 0.01 * i;
    r.workspace_bytes = 4096 * i;
    return r;
}

static void expect_number(double got, double want)
{
    if (isnan(want)) {
        assert_true(isnan(got));
        return;
    }
    assert_true(fabs(got - want) <= 1e-5 * fabs(want));
}

static void expect_same_row(const bench_row *a, const bench_row *b)
{
    assert_string_equal(a->suite, b->suite);
    assert_string_equal(a->layer, b->layer);
    assert_int_equal(a->count, b->count);
    assert_string_equal(a->desc, b->desc);
    assert_string_equal(a->algo, b->algo);
    assert_string_equal(a->impl, b->impl);
    assert_int_equal(a->threads, b->threads);
    assert_string_equal(a->status, b->status);
    expect_number(a->time_ms, b->time_ms);
    expect_number(a->time_min_ms, b->time_min_ms);
    expect_number(a->gflops, b->gflops);
    expect_number(a->peak_fraction, b->peak_fraction);
    assert_true(a->workspace_bytes == b->workspace_bytes);
}

static void test_header_and_empty_fields(void **state)
{
    char path[256], err[512], *text;
    bench_row r = sample_row(2);
    FILE *f;

    scratch(path, sizeof path, "header");
    f = bench_csv_open(path, 0, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(bench_csv_append(f, &r), 0);
    fclose(f);

    /* An n/a row leaves impl and every number empty. */
    text = test_read_file(path);
    assert_string_equal(text, BENCH_CSV_HEADER "\n"
                        "suite0,\"net:layer,2 \"\"x\"\"\",3,"
                        "\"mb1ic5ih7oc5kh3n\"\"net:l2*2\"\"\",algo2,,3,"
                        "\"n/a:needs a 1x1 kernel, got \"\"3x3\"\"\","
                        ",,,,\n");
    free(text);
    unlink(path);
}

static void test_round_trip(void **state)
{
    char path[256], err[512];
    bench_rows t;
    FILE *f;

    scratch(path, sizeof path, "trip");
    f = bench_csv_open(path, 0, err, sizeof err);
    assert_non_null(f);
    for (int i = 0; i < 5; i++) {
        bench_row r = sample_row(i);

        assert_int_equal(bench_csv_append(f, &r), 0);
    }
    fclose(f);

    /* Reopened to keep its rows: appends without a second header. */
    f = bench_csv_open(path, 1, err, sizeof err);
    assert_non_null(f);
    for (int i = 5; i < 8; i++) {
        bench_row r = sample_row(i);

        assert_int_equal(bench_csv_append(f, &r), 0);
    }
    fclose(f);

    if (bench_csv_read(path, &t, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(t.n, 8);
    for (int i = 0; i < 8; i++) {
        bench_row want = sample_row(i);

        expect_same_row(&t.rows[i], &want);
    }
    bench_rows_free(&t);
    unlink(path);
}

/* Without keep, an existing table is emptied to its header. */
static void test_open_replaces(void **state)
{
    char path[256], err[512], *text;
    FILE *f;

    scratch(path, sizeof path, "replace");
    test_write_file(path, "old contents\n");
    f = bench_csv_open(path, 0, err, sizeof err);
    assert_non_null(f);
    fclose(f);
    text = test_read_file(path);
    assert_string_equal(text, BENCH_CSV_HEADER "\n");
    free(text);
    unlink(path);

    assert_null(bench_csv_open("/nonexistent-dir/x.csv", 0, err,
                               sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.csv"));
}

static void test_take(void **state)
{
    bench_row rows[4] = {sample_row(0), sample_row(1), sample_row(1),
                         sample_row(3)};
    unsigned char taken[4] = {0};
    bench_rows t = {rows, taken, 4};
    bench_row key = sample_row(1);

    /* A case listed twice is skipped twice, then no more. */
    assert_int_equal(bench_rows_take(&t, &key), 1);
    assert_int_equal(bench_rows_take(&t, &key), 1);
    assert_int_equal(bench_rows_take(&t, &key), 0);

    /* Every identifying column counts; the measured ones do not. */
    key = sample_row(0);
    key.threads++;
    assert_int_equal(bench_rows_take(&t, &key), 0);
    key = sample_row(0);
    snprintf(key.algo, sizeof key.algo, "other");
    assert_int_equal(bench_rows_take(&t, &key), 0);
    key = sample_row(0);
    snprintf(key.suite, sizeof key.suite, "other");
    assert_int_equal(bench_rows_take(&t, &key), 0);
    key = sample_row(0);
    key.desc[0] = 'M';
    assert_int_equal(bench_rows_take(&t, &key), 0);
    key = sample_row(0);
    key.time_ms = 99;
    snprintf(key.status, sizeof key.status, "error:x");
    assert_int_equal(bench_rows_take(&t, &key), 1);
    assert_int_equal(taken[3], 0);
}

typedef struct bad_file {
    const char *text;
    int line;             /* the line the message must name */
    const char *says;     /* a phrase the message must hold */
} bad_file;

#define H BENCH_CSV_HEADER "\n"
#define OK_ROW "s,l,1,mb1ic3ih5oc3kh3,direct,impl,2,ok,1.5,1.2,3.4,0.5,0\n"

static const bad_file bad_files[] = {
    {"", 1, "empty file"},
    {"suite,layer\n" OK_ROW, 1, "header"},
    {H OK_ROW "s,l,1,d,a,i,2,ok,1,1,1,1\n", 3, "12 fields"},
    {H "s,l,1,d,a,i,2,ok,1,1,1,1,0,9\n", 2, "14 fields"},
    {H "s,\"l,1,d,a,i,2,ok,1,1,1,1,0\n", 2, "not closed"},
    {H "s,\"l\"x,1,d,a,i,2,ok,1,1,1,1,0\n", 2, "closing quote"},
    {H "s,l\"x,1,d,a,i,2,ok,1,1,1,1,0\n", 2, "quote inside"},
    {H "s,l,0,d,a,i,2,ok,1,1,1,1,0\n", 2, "count '0'"},
    {H "s,l,1,d,a,i,two,ok,1,1,1,1,0\n", 2, "threads 'two'"},
    {H "s,l,1,d,a,i,2,fine,1,1,1,1,0\n", 2, "status 'fine'"},
    {H "s,l,1,d,a,i,2,ok,,1,1,1,0\n", 2, "time_ms ''"},
    {H "s,l,1,d,a,i,2,ok,1,1,-3,1,0\n", 2, "gflops '-3'"},
    {H "s,l,1,d,a,i,2,ok,1,1,1,1,1.5\n", 2, "workspace_bytes '1.5'"},
    {H "s,l,1,d,a,,2,n/a:why,1,,,,\n", 2, "time_ms '1'"},
    {H "s,l,1,d,,i,2,ok,1,1,1,1,0\n", 2, "algo"},
    {H OK_ROW "\n" OK_ROW, 3, "empty line"},
    {H OK_ROW "s,l,1,d,a,i,2,ok,1,1,1", 3, "incomplete"},
};

static void test_malformed(void **state)
{
    char path[256], err[512], want[300];
    int n = (int)(sizeof bad_files / sizeof bad_files[0]);

    scratch(path, sizeof path, "bad");
    for (int i = 0; i < n; i++) {
        bench_rows t = {NULL, NULL, -1};

        test_write_file(path, bad_files[i].text);
        err[0] = '\0';
        snprintf(want, sizeof want, "%s:%d: ", path, bad_files[i].line);
        assert_int_equal(bench_csv_read(path, &t, err, sizeof err), -1);
        if (strncmp(err, want, strlen(want)) != 0
            || strstr(err, bad_files[i].says) == NULL)
            fprintf(stderr, "case %d: message '%s' should start with '%s' "
                    "and say '%s'\n", i, err, want, bad_files[i].says);
        assert_int_equal(strncmp(err, want, strlen(want)), 0);
        assert_non_null(strstr(err, bad_files[i].says));
        assert_null(t.rows);
        assert_int_equal(t.n, 0);
    }
    unlink(path);

    assert_int_equal(bench_csv_read("/nonexistent.csv", &(bench_rows){0},
                                    err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent.csv"));
}

/* A table with only its header, or CRLF line ends, is fine. */
static void test_lenient_where_harmless(void **state)
{
    char path[256], err[512];
    bench_rows t;

    scratch(path, sizeof path, "ok");
    test_write_file(path, H);
    assert_int_equal(bench_csv_read(path, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 0);
    bench_rows_free(&t);

    test_write_file(path, BENCH_CSV_HEADER "\r\n"
               "s,l,1,d,a,i,2,ok,1,1,1,,0\r\n");
    if (bench_csv_read(path, &t, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(t.n, 1);
    assert_true(isnan(t.rows[0].peak_fraction));
    assert_true(t.rows[0].workspace_bytes == 0);
    bench_rows_free(&t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_quoting),
        cmocka_unit_test(test_header_and_empty_fields),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_open_replaces),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_lenient_where_harmless),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
