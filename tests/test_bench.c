/* `convbench bench` end to end on a tiny suite: the CSV and JSON it
 * writes, one row per shape x algorithm, --resume after a simulated kill,
 * shards, the filter, and bad input that must write nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "bench.h"
#include "csv.h"
#include "gbench.h"
#include "shapes.h"
#include "timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINES 64

/* Layer names with a comma and quotes-free text: the CSV must quote. */
static const char suite_text[] =
    "# a tiny suite for test_bench\n"
    "mb1ic8ih9oc8kh3ph1n\"tiny:conv3x3*2\"\n"
    "mb1ic16ih7oc8kh1n\"tiny:conv1x1\"\n"
    "\n"
    "mb1ic4ih11oc6kh3sh2n\"tiny:stride 2, odd size\"\n";

static const char *const algos[] = {"conv1x1", "im2col_gemm", "onednn"};
#define NALGOS 3

static char dir[256], suite_path[300];

static int setup(void **state)
{
    if (test_make_dir(dir, sizeof dir, "test_bench") != 0)
        return -1;
    snprintf(suite_path, sizeof suite_path, "%s/tiny.txt", dir);
    test_write_file(suite_path, suite_text);
    return 0;
}

static int teardown(void **state)
{
    return test_remove_dir(dir);
}

/* bench_main with the quick flags every run here uses, then `extra`. */
static int run_bench(const char *out, const char *const *extra)
{
    char outflag[400];
    char *argv[32] = {"bench", "--suite", suite_path,
                      "--algo", "conv1x1,im2col_gemm,onednn",
                      "--threads", "1", "--benchmark_min_time=0.01",
                      "--benchmark_repetitions=2",
                      "--benchmark_min_warmup_time=0"};
    int argc = 10;

    snprintf(outflag, sizeof outflag, "--out=%s/%s", dir, out);
    argv[argc++] = outflag;
    for (int i = 0; extra != NULL && extra[i] != NULL; i++)
        argv[argc++] = (char *)extra[i];
    return bench_main(argc, argv);
}

static void path_of(char *buf, size_t n, const char *out, const char *ext)
{
    snprintf(buf, n, "%s/%s.%s", dir, out, ext);
}

/* The rows of results `out`, checked by the strict reader. */
static bench_rows read_rows(const char *out)
{
    char path[400], err[600];
    bench_rows t;

    path_of(path, sizeof path, out, "csv");
    if (bench_csv_read(path, &t, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    assert_non_null(t.rows);
    return t;
}

static bench_suite load_suite(void)
{
    bench_suite s;
    char err[400];

    assert_int_equal(bench_suite_load(suite_path, 0, &s, err, sizeof err),
                     0);
    assert_int_equal(s.n, 3);
    return s;
}

/* How many rows are for shape s and algorithm a. */
static int rows_for(const bench_rows *t, const bench_shape *s,
                    const char *a)
{
    int n = 0;

    for (int i = 0; i < t->n; i++)
        n += strcmp(t->rows[i].desc, s->text) == 0
             && strcmp(t->rows[i].algo, a) == 0;
    return n;
}

/* Every shape x algorithm exactly once, and nothing else. */
static void expect_every_case_once(const bench_rows *t)
{
    bench_suite s = load_suite();

    assert_int_equal(t->n, s.n * NALGOS);
    for (int i = 0; i < s.n; i++)
        for (int a = 0; a < NALGOS; a++) {
            if (rows_for(t, &s.shapes[i], algos[a]) != 1)
                fprintf(stderr, "%s x %s: %d rows\n", s.shapes[i].text,
                        algos[a], rows_for(t, &s.shapes[i], algos[a]));
            assert_int_equal(rows_for(t, &s.shapes[i], algos[a]), 1);
        }
    bench_suite_free(&s);
}

/* ---- a JSON syntax check (Google Benchmark writes NaN as NaN) ---- */

static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

static const char *json_string(const char *s)
{
    if (*s != '"')
        return NULL;
    for (s++; *s != '"'; s++) {
        if ((unsigned char)*s < 0x20)
            return NULL;
        if (*s == '\\' && strchr("\"\\/bfnrtu", *++s) == NULL)
            return NULL;
    }
    return s + 1;
}

static const char *json_container(const char *s, int depth)
{
    int object = *s == '{';
    char close = object ? '}' : ']';

    s = json_ws(s + 1);
    if (*s == close)
        return s + 1;
    for (;;) {
        if (object) {
            s = json_string(json_ws(s));
            if (s == NULL || *(s = json_ws(s)) != ':')
                return NULL;
            s++;
        }
        s = json_value(s, depth + 1);
        if (s == NULL)
            return NULL;
        s = json_ws(s);
        if (*s == close)
            return s + 1;
        if (*s++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *s, int depth)
{
    static const char *const words[] = {"true", "false", "null"};
    char *end = NULL;

    s = json_ws(s);
    if (depth > 32)
        return NULL;
    if (*s == '{' || *s == '[')
        return json_container(s, depth);
    if (*s == '"')
        return json_string(s);
    for (int i = 0; i < 3; i++)
        if (strncmp(s, words[i], strlen(words[i])) == 0)
            return s + strlen(words[i]);
    strtod(s, &end);
    return end > s ? end : NULL;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;

    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* ---- the tests ---- */

/* One whole JSON document with the context and a median for each row
 * that was measured; no temporary file left beside it. */
static void expect_json_matches(const bench_rows *t, const char *out)
{
    char json[400], tmp[420];
    char *text;
    int ok = 0;

    for (int i = 0; i < t->n; i++)
        ok += strcmp(t->rows[i].status, "ok") == 0;
    path_of(json, sizeof json, out, "json");
    text = test_read_file(json);
    assert_non_null(json_value(text, 0));
    assert_string_equal(json_ws(json_value(text, 0)), "");
    assert_int_equal(count_of(text, "\"aggregate_name\": \"median\""), ok);
    assert_non_null(strstr(text, "\"peak_gflops_avx2_fma\""));
    assert_non_null(strstr(text, "\"onednn_isa\""));
    assert_non_null(strstr(text, "\"openblas_core\""));
    snprintf(tmp, sizeof tmp, "%s.tmp", json);
    assert_int_equal(access(tmp, F_OK), -1);
    free(text);
}

/* The shape's cases are timed together: each row must carry its own
 * case's implementation, not a neighbour's. */
static void expect_impl_of(const bench_row *r)
{
    int ours = strcmp(r->algo, "onednn") != 0;
    int named = strncmp(r->impl, r->algo, strlen(r->algo)) == 0;

    if (ours != named)
        fprintf(stderr, "%s %s: impl '%s'\n", r->desc, r->algo, r->impl);
    assert_int_equal(ours, named);
}

/* Numbers consistent within each ok row; n/a only where it must be. */
static void expect_sane_rows(const bench_rows *t)
{
    for (int i = 0; i < t->n; i++) {
        const bench_row *r = &t->rows[i];
        int one_by_one = strstr(r->desc, "kh1") != NULL;

        if (strcmp(r->algo, "conv1x1") == 0 && !one_by_one) {
            assert_int_equal(strncmp(r->status, "n/a:", 4), 0);
            continue;
        }
        if (strcmp(r->status, "ok") != 0)
            fprintf(stderr, "%s %s: %s\n", r->desc, r->algo, r->status);
        assert_string_equal(r->status, "ok");
        assert_true(r->time_ms > 0 && r->time_min_ms > 0);
        assert_true(r->time_min_ms <= r->time_ms);
        assert_true(r->gflops > 0);
        assert_true(r->workspace_bytes >= 0);
        assert_int_equal(r->threads, 1);
        assert_true(r->impl[0] != '\0');
        expect_impl_of(r);
        assert_string_equal(r->suite, "tiny");
        assert_int_equal(r->count, strstr(r->layer, "conv3x3") ? 2 : 1);
    }
}

static void test_sweep_writes_tables(void **state)
{
    bench_rows t;

    assert_int_equal(run_bench("sweep", NULL), 0);
    t = read_rows("sweep");
    expect_every_case_once(&t);
    expect_sane_rows(&t);

    expect_json_matches(&t, "sweep");
    bench_rows_free(&t);

    /* Run again without --resume: the table is replaced, not doubled. */
    assert_int_equal(run_bench("sweep", NULL), 0);
    t = read_rows("sweep");
    expect_every_case_once(&t);
    bench_rows_free(&t);
}

/* ---- the per-phase table ---- */

/* The rows of results/OUT.phases.csv, checked by the strict reader. */
static bench_phases_table read_phases(const char *out)
{
    char path[400], err[600];
    bench_phases_table p;

    path_of(path, sizeof path, out, "phases.csv");
    if (bench_phases_read(path, &p, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    assert_non_null(p.rows);
    return p;
}

/* The ok row of the table that phases row ph is about, or NULL. */
static const bench_row *row_of(const bench_rows *t, const bench_phases *ph)
{
    for (int i = 0; i < t->n; i++) {
        const bench_row *r = &t->rows[i];

        if (r->threads == ph->threads && strcmp(r->status, "ok") == 0
            && !strcmp(r->desc, ph->desc) && !strcmp(r->algo, ph->algo)
            && !strcmp(r->suite, ph->suite) && !strcmp(r->layer, ph->layer))
            return r;
    }
    return NULL;
}

/* How many phases rows are for the case of table row r. */
static int phases_for(const bench_phases_table *p, const bench_row *r)
{
    int n = 0;

    for (int i = 0; i < p->n; i++)
        n += strcmp(p->rows[i].desc, r->desc) == 0
             && strcmp(p->rows[i].algo, r->algo) == 0;
    return n;
}

/*
 * Each phases row answers to one ok row of the table, once; its numbers
 * are means per execution, so they add up to its total, and the total
 * cannot exceed the measured median by more than noise. The margin is
 * wide because a mean over every execution takes in the outliers that a
 * median of repetitions leaves out, on a loaded machine; a sum over the
 * executions instead of a mean would be hundreds of times larger.
 */
static void expect_phases_match(const bench_phases_table *p,
                                const bench_rows *t)
{
    for (int i = 0; i < p->n; i++) {
        const bench_phases *ph = &p->rows[i];
        const bench_row *r = row_of(t, ph);
        double sum = 0;

        if (r == NULL || phases_for(p, r) != 1)
            fprintf(stderr, "phases row %d (%s, %s): %s\n", i + 2, ph->desc,
                    ph->algo, r ? "duplicated" : "no ok row in the table");
        assert_non_null(r);
        assert_int_equal(phases_for(p, r), 1);
        for (int j = 0; j < BENCH_NPHASES; j++)
            sum += ph->ms[j];
        assert_true(ph->executions > 0);
        assert_true(ph->total_ms > 0);
        assert_true(fabs(sum - ph->total_ms) <= 1e-4 * ph->total_ms + 1e-6);
        if (ph->total_ms > 3 * r->time_ms + 0.05)
            fprintf(stderr, "%s %s: phases %.4g ms, measured %.4g ms\n",
                    ph->desc, ph->algo, ph->total_ms, r->time_ms);
        assert_true(ph->total_ms <= 3 * r->time_ms + 0.05);
        assert_true(ph->kernel_ms > 0);
    }
}

static void test_phases_table(void **state)
{
    static const char *const algo[] = {"--algo",
                                       "winograd_f4x4,fft,onednn", NULL};
    bench_phases_table p;
    bench_rows t;
    char *json, path[400];
    int profiled = 0;

    assert_int_equal(run_bench("phases", algo), 0);
    t = read_rows("phases");
    p = read_phases("phases");
    expect_phases_match(&p, &t);

    /* Winograd and FFT record their phases wherever they ran; oneDNN
     * has none to record. */
    for (int i = 0; i < t.n; i++) {
        const bench_row *r = &t.rows[i];
        int ok = strcmp(r->status, "ok") == 0;
        int ours = strcmp(r->algo, "onednn") != 0;

        assert_int_equal(phases_for(&p, r), ok && ours);
        profiled += ok && ours;
    }
    assert_true(profiled >= 2);
    assert_int_equal(p.n, profiled);

    /* The report carries the same phases as counters. */
    path_of(path, sizeof path, "phases", "json");
    json = test_read_file(path);
    assert_true(count_of(json, "\"multiply_ms\"") >= profiled);
    assert_true(count_of(json, "\"kernel_transform_ms\"") >= profiled);
    free(json);
    bench_phases_table_free(&p);
    bench_rows_free(&t);
}

/* The table's lines, for comparing them as text. */
static int read_lines(const char *path, char lines[][1024])
{
    FILE *f = fopen(path, "r");
    int n = 0;

    assert_non_null(f);
    while (n < MAX_LINES && fgets(lines[n], 1024, f) != NULL)
        n++;
    fclose(f);
    return n;
}

static void keep_lines(const char *path, char lines[][1024], int n)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    for (int i = 0; i < n; i++)
        fputs(lines[i], f);
    fclose(f);
}

static void test_resume_after_kill(void **state)
{
    static char before[MAX_LINES][1024], after[MAX_LINES][1024];
    static const char *const resume[] = {"--resume", NULL};
    char path[400];
    bench_phases_table p;
    bench_rows t;
    int n, m, np;

    assert_int_equal(run_bench("resume", NULL), 0);
    path_of(path, sizeof path, "resume", "csv");
    n = read_lines(path, before);
    assert_int_equal(n, 1 + 3 * NALGOS);
    p = read_phases("resume");
    np = p.n;
    bench_phases_table_free(&p);

    /* A kill after the sixth row: the last three never got written. */
    keep_lines(path, before, n - 3);
    assert_int_equal(run_bench("resume", resume), 0);
    m = read_lines(path, after);
    assert_int_equal(m, n);

    /* The kept rows are untouched (not measured again), none is
     * duplicated and none missing. */
    for (int i = 0; i < n - 3; i++)
        assert_string_equal(after[i], before[i]);
    t = read_rows("resume");
    expect_every_case_once(&t);

    /* The phases rows of the cut-off cases were dropped and written
     * again: as many as before, none twice. */
    p = read_phases("resume");
    assert_int_equal(p.n, np);
    expect_phases_match(&p, &t);
    bench_phases_table_free(&p);

    /* The report lists the kept runs and the new ones, once each. */
    expect_json_matches(&t, "resume");
    bench_rows_free(&t);

    /* Resuming a finished table changes nothing. */
    assert_int_equal(run_bench("resume", resume), 0);
    assert_int_equal(read_lines(path, before), m);
    for (int i = 0; i < m; i++)
        assert_string_equal(after[i], before[i]);
}

static void test_shards_cover_the_suite(void **state)
{
    static const char *const first[] = {"--shard", "1/2", NULL};
    static const char *const second[] = {"--shard=2/2", NULL};
    bench_rows a, b, all;

    assert_int_equal(run_bench("shard1", first), 0);
    assert_int_equal(run_bench("shard2", second), 0);
    a = read_rows("shard1");
    b = read_rows("shard2");

    /* Shapes 1 and 3 in the first shard, shape 2 in the second. */
    assert_int_equal(a.n, 2 * NALGOS);
    assert_int_equal(b.n, NALGOS);
    all.n = a.n + b.n;
    all.rows = calloc((size_t)all.n, sizeof *all.rows);
    assert_non_null(all.rows);
    memcpy(all.rows, a.rows, (size_t)a.n * sizeof *a.rows);
    memcpy(all.rows + a.n, b.rows, (size_t)b.n * sizeof *b.rows);
    expect_every_case_once(&all);
    free(all.rows);
    bench_rows_free(&a);
    bench_rows_free(&b);
}

static void test_filter_selects_cases(void **state)
{
    static const char *const only[] = {"--benchmark_filter=/onednn", NULL};
    bench_rows t;

    assert_int_equal(run_bench("filter", only), 0);
    t = read_rows("filter");
    assert_int_equal(t.n, 3);
    for (int i = 0; i < t.n; i++)
        assert_string_equal(t.rows[i].algo, "onednn");
    bench_rows_free(&t);
}

static int exists(const char *out, const char *ext)
{
    char path[400];

    path_of(path, sizeof path, out, ext);
    return access(path, F_OK) == 0;
}

/* ---- interleaving ---- */

/* Which body ran, in call order. */
typedef struct call_log {
    char seq[4096];
    int n;
} call_log;

typedef struct logged {
    call_log *log;
    char id;
} logged;

static void logging_body(gbench_state *st, void *arg)
{
    const logged *b = arg;
    volatile double x = 0;

    if (b->log->n + 1 < (int)sizeof b->log->seq)
        b->log->seq[b->log->n++] = b->id;
    while (gbench_keep_running(st))
        for (int i = 0; i < 100; i++)
            x += i;
}

static void ignore_result(const gbench_result *r, void *user)
{
    (void)r;
    (void)user;
}

/* How often the caller changes from one body to the other. */
static int switches(const call_log *log)
{
    int k = 0;

    for (int i = 1; i < log->n; i++)
        k += log->seq[i] != log->seq[i - 1];
    return k;
}

/*
 * By default the cases registered together (one shape's algorithms)
 * alternate their repetitions: run one after the other, two bodies would
 * change over once. Shuffled, 16 repetitions each change over once with
 * probability 2 / C(32, 16), about 3e-9.
 */
static void test_shape_cases_interleave(void **state)
{
    char *argv[] = {"bench", "--benchmark_repetitions=16",
                    "--benchmark_min_time=0.0005",
                    "--benchmark_min_warmup_time=0", NULL};
    char *sequential[] = {"bench",
                          "--benchmark_enable_random_interleaving=false",
                          "--benchmark_min_time=0.0005",
                          "--benchmark_min_warmup_time=0", NULL};
    int argc = 4;
    call_log log = {.n = 0};
    logged a = {&log, 'a'}, b = {&log, 'b'};

    gbench_init(&argc, argv, NULL);
    assert_int_equal(gbench_register("interleave/a", logging_body, &a), 0);
    assert_int_equal(gbench_register("interleave/b", logging_body, &b), 0);
    assert_int_equal(gbench_run(ignore_result, NULL), 2);
    assert_true(log.n >= 32);
    if (switches(&log) <= 1)
        fprintf(stderr, "calls in order: %.*s\n", log.n, log.seq);
    assert_true(switches(&log) > 1);

    /* Asked not to, they run one after the other. */
    argc = 4;
    gbench_init(&argc, sequential, NULL);
    log.n = 0;
    gbench_register("interleave/a", logging_body, &a);
    gbench_register("interleave/b", logging_body, &b);
    assert_int_equal(gbench_run(ignore_result, NULL), 2);
    assert_int_equal(switches(&log), 1);
    gbench_finish();
}

static void test_bad_input_writes_nothing(void **state)
{
    static const char *const bad[][3] = {
        {"--algo", "conv1x1,bogus", NULL},
        {"--threads", "0", NULL},
        {"--mb", "-1", NULL},
        {"--shard", "3/2", NULL},
        {"--suite", "/nonexistent/suite.txt", NULL},
        {"--benchmark_out=x.json", NULL, NULL},
        {"--no-such-flag", NULL, NULL},
        {"mb1ic3ih5oc3kh7", NULL, NULL},
    };
    static const char *const resume[] = {"--resume", NULL};
    char path[400], *before, *after;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(run_bench("newdir/bad", bad[i]), 2);
        assert_false(exists("newdir/bad", "csv"));
        assert_false(exists("newdir/bad", "json"));
        assert_false(exists("newdir/bad", "phases.csv"));
    }

    /* A malformed table is refused by --resume and left as it was. */
    path_of(path, sizeof path, "broken", "csv");
    test_write_file(path, "suite,layer\n");
    before = test_read_file(path);
    assert_int_equal(run_bench("broken", resume), 2);
    after = test_read_file(path);
    assert_string_equal(before, after);
    assert_false(exists("broken", "json"));
    free(before);
    free(after);

    /* So is a malformed phases table beside a good one. */
    assert_int_equal(run_bench("badphases", NULL), 0);
    path_of(path, sizeof path, "badphases", "phases.csv");
    test_write_file(path, BENCH_PHASES_HEADER "\ncli,a,b,c,1,x\n");
    before = test_read_file(path);
    assert_int_equal(run_bench("badphases", resume), 2);
    after = test_read_file(path);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_writes_tables),
        cmocka_unit_test(test_phases_table),
        cmocka_unit_test(test_resume_after_kill),
        cmocka_unit_test(test_shards_cover_the_suite),
        cmocka_unit_test(test_filter_selects_cases),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_shape_cases_interleave),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
