/*
 * auto and its tuning cache: a valid, accurate choice for every shape of
 * the awkward suite; a cache entry is obeyed only for its own threads and
 * machine and only if its algorithm applies; a corrupt cache never breaks
 * auto; the cache file reads back what was written, atomically.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "algo.h"
#include "ref.h"
#include "shapes.h"
#include "tuning.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 7

static char dir[256], cache[300];

static int setup(void **state)
{
    if (test_make_dir(dir, sizeof dir, "test_auto") != 0)
        return -1;
    snprintf(cache, sizeof cache, "%s/tuning.txt", dir);

    /* No user's cache may steer the cost-model cases. */
    return setenv("CONVBENCH_TUNING", "/nonexistent/tuning.txt", 1);
}

static int teardown(void **state)
{
    return test_remove_dir(dir);
}

/* One cache line for d, as `tune` would write it. */
static void entry_line(const conv_desc *d, int threads, const char *algo,
                       char *buf, size_t n)
{
    char key[192], machine[160];

    conv_tuning_key(d, key, sizeof key);
    conv_tuning_machine(machine, sizeof machine);
    snprintf(buf, n, "%s\t%d\t%s\t%s\t0.5\n", key, threads, machine, algo);
}

static conv_desc parse(const char *text)
{
    bench_shape s;
    char err[256];

    if (bench_shape_parse(text, 0, &s, err, sizeof err) != 0)
        fail_msg("'%s': %s", text, err);
    return s.desc;
}

/* The algorithm an auto plan for d chooses with `file` and threads. */
static void chosen(const conv_desc *d, const char *file, int threads,
                   char *algo, size_t n)
{
    conv_options o = conv_options_default();
    conv_plan *plan = NULL;

    o.threads = threads;
    o.tuning_file = file;
    if (conv_plan_create(&plan, d, "auto", &o) != CONV_OK)
        fail_msg("auto plan: %s", conv_reason());
    snprintf(algo, n, "%s", conv_plan_algo(plan));
    if (strstr(conv_plan_describe(plan), algo) == NULL)
        fail_msg("describe '%s' does not name %s",
                 conv_plan_describe(plan), algo);
    conv_plan_destroy(plan);
}

/* ---- every awkward shape: a valid choice, accurate output ---- */

static void run_and_compare(const bench_shape *s, conv_plan *plan,
                            const float *x, const float *w, const float *b)
{
    const conv_desc *d = &s->desc;
    int64_t ny = conv_desc_output_elems(d);
    float *y = malloc((size_t)ny * sizeof *y);
    double *yref = malloc((size_t)ny * sizeof *yref);
    double *beta = malloc((size_t)ny * sizeof *beta);
    const char *algo = conv_plan_algo(plan);
    ref_error e;

    assert_true(y && yref && beta);
    for (int64_t i = 0; i < ny; i++)
        y[i] = NAN;
    assert_int_equal(ref_conv(d, x, w, b, yref, beta), CONV_OK);
    assert_int_equal(conv_plan_set_weights(plan, w, b), CONV_OK);
    assert_int_equal(conv_execute(plan, x, y), CONV_OK);
    e = ref_compare(y, yref, beta, ny);
    if (e.nonfinite > 0 || e.max_eps > ref_tolerance_for(algo)->eps)
        fail_msg("%s (seed %d): auto -> %s: error %.3g eps, %lld "
                 "non-finite", s->text, SEED, algo, e.max_eps,
                 (long long)e.nonfinite);
    free(y);
    free(yref);
    free(beta);
}

static void check_shape(const bench_shape *s)
{
    const conv_desc *d = &s->desc;
    int64_t nx = conv_desc_input_elems(d), nw = conv_desc_weight_elems(d);
    float *x = malloc((size_t)nx * sizeof *x);
    float *w = malloc((size_t)nw * sizeof *w);
    float *b = malloc((size_t)d->k * sizeof *b);
    conv_plan *plan = NULL;
    const char *algo;

    assert_true(x && w && b);
    ref_fill_real(x, nx, SEED);
    ref_fill_real(w, nw, SEED + 1);
    ref_fill_real(b, d->k, SEED + 2);
    assert_true(conv_algo_applies("auto", d, NULL, 0));
    if (conv_plan_create(&plan, d, "auto", NULL) != CONV_OK)
        fail_msg("%s: auto plan: %s", s->text, conv_reason());
    algo = conv_plan_algo(plan);
    if (strcmp(algo, "auto") == 0 || !conv_algo_applies(algo, d, NULL, 0))
        fail_msg("%s: auto chose '%s'", s->text, algo);

    /* The plan's workspace is the chosen plan's, and the query agrees. */
    assert_int_equal(conv_plan_workspace_bytes(plan),
                     conv_algo_workspace_bytes("auto", d, 0));
    assert_int_equal(conv_plan_workspace_bytes(plan),
                     conv_algo_workspace_bytes(algo, d, 0));
    run_and_compare(s, plan, x, w, b);
    conv_plan_destroy(plan);
    free(x);
    free(w);
    free(b);
}

static void test_awkward_suite(void **state)
{
    bench_suite suite;
    char err[512];

    if (bench_suite_load("awkward", 0, &suite, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(suite.n > 10);
    for (int i = 0; i < suite.n; i++)
        check_shape(&suite.shapes[i]);
    bench_suite_free(&suite);
}

/* The cost model's documented picks, on shapes where each applies. */
static void test_cost_model(void **state)
{
    const struct {
        const char *desc, *algo;
    } cases[] = {
        {"mb1ic32ih14oc64kh1", "direct"},
        {"mb1ic32ih14oc32kh3ph1", "winograd_f4x4"},
        {"mb1ic32ih15oc32kh5ph2", "fft"},
        {"mb1ic32ih14oc32kh3sh2ph1", "direct"},
        {"g32mb1ic32ih14oc32kh3ph1", "direct"},
        {"mb1ic3ih14oc8kh3ph1", "direct"},
    };
    char algo[32];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv_desc d = parse(cases[i].desc);

        if (conv_algo_find(cases[i].algo) == NULL)
            continue;
        chosen(&d, NULL, 1, algo, sizeof algo);
        if (strcmp(algo, cases[i].algo) != 0)
            fail_msg("%s: cost model chose %s, documented %s",
                     cases[i].desc, algo, cases[i].algo);
    }
}

/* ---- the cache steers auto ---- */

static void test_cache_obeyed(void **state)
{
    conv_desc d = parse("mb1ic16ih12oc16kh3ph1");
    char line[512], algo[32];
    conv_plan *plan = NULL;
    conv_options o = conv_options_default();

    entry_line(&d, 1, "im2col_gemm", line, sizeof line);
    test_write_file(cache, line);
    chosen(&d, cache, 1, algo, sizeof algo);
    assert_string_equal(algo, "im2col_gemm");

    /* Another thread count has no entry: the cost model answers. */
    chosen(&d, cache, 2, algo, sizeof algo);
    assert_string_not_equal(algo, "im2col_gemm");

    /* The default path, through $CONVBENCH_TUNING; "" is no cache. */
    assert_int_equal(setenv("CONVBENCH_TUNING", cache, 1), 0);
    chosen(&d, NULL, 1, algo, sizeof algo);
    assert_string_equal(algo, "im2col_gemm");
    chosen(&d, "", 1, algo, sizeof algo);
    assert_string_not_equal(algo, "im2col_gemm");
    o.threads = 1;
    assert_int_equal(conv_plan_create(&plan, &d, "auto", &o), CONV_OK);
    assert_non_null(strstr(conv_plan_describe(plan), "(tuned)"));
    assert_int_equal(conv_plan_workspace_bytes(plan),
                     conv_algo_workspace_bytes("im2col_gemm", &d, 1));
    conv_plan_destroy(plan);
    assert_int_equal(setenv("CONVBENCH_TUNING", "/nonexistent/t.txt", 1),
                     0);
}

/* Another machine's entry is not this machine's measurement. */
static void test_other_machine_ignored(void **state)
{
    conv_desc d = parse("mb1ic16ih12oc16kh3ph1");
    char key[192], line[512], algo[32];

    conv_tuning_key(&d, key, sizeof key);
    snprintf(line, sizeof line, "%s\t1\tsome other cpu/avx2\tim2col_gemm"
             "\t0.5\n", key);
    test_write_file(cache, line);
    chosen(&d, cache, 1, algo, sizeof algo);
    assert_string_not_equal(algo, "im2col_gemm");
}

/* The same CPU with other OpenBLAS kernels is another machine: an entry
 * tuned under a different core is not used. */
static void test_other_blas_core_ignored(void **state)
{
    conv_desc d = parse("mb1ic16ih12oc16kh3ph1");
    char key[192], machine[160], line[512], algo[32];
    const char *core = openblas_get_corename();
    size_t n = strlen(core), m;

    conv_tuning_machine(machine, sizeof machine);
    m = strlen(machine);
    assert_true(m > n + 9);
    assert_int_equal(strncmp(machine + m - n - 9, "openblas-", 9), 0);
    assert_string_equal(machine + m - n, core);

    snprintf(machine + m - n, sizeof machine - (m - n), "%s",
             strcmp(core, "Haswell") == 0 ? "Prescott" : "Haswell");
    conv_tuning_key(&d, key, sizeof key);
    snprintf(line, sizeof line, "%s\t1\t%s\tim2col_gemm\t0.5\n", key,
             machine);
    test_write_file(cache, line);
    chosen(&d, cache, 1, algo, sizeof algo);
    assert_string_not_equal(algo, "im2col_gemm");
}

/* Entries auto cannot run are ignored: it never chooses a failure. */
static void test_inapplicable_entry_ignored(void **state)
{
    const char *const bad[] = {"conv1x1", "auto", "no_such_algo"};
    conv_desc d = parse("mb1ic16ih12oc16kh3sh2ph1");
    char line[512], algo[32], expect[32];

    chosen(&d, "/nonexistent/t.txt", 1, expect, sizeof expect);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        entry_line(&d, 1, bad[i], line, sizeof line);
        test_write_file(cache, line);
        chosen(&d, cache, 1, algo, sizeof algo);
        if (strcmp(algo, expect) != 0)
            fail_msg("entry '%s': auto chose %s, the cost model %s",
                     bad[i], algo, expect);
    }
}

/* Bad lines are skipped and the first is named; good ones still count. */
static void test_corrupt_cache(void **state)
{
    conv_desc d = parse("mb1ic16ih12oc16kh3ph1");
    char good[512], text[4096], algo[32], expect[40];
    conv_tuning t = {0};

    entry_line(&d, 1, "im2col_gemm", good, sizeof good);
    memset(text, 'x', 2000);
    snprintf(text + 2000, sizeof text - 2000, "\n");
    test_write_file(cache, text);
    chosen(&d, cache, 1, algo, sizeof algo);
    assert_string_not_equal(algo, "im2col_gemm");

    snprintf(text, sizeof text, "# comment\nnot a cache line\n"
             "mb1_ic16\t1\tm\tdirect\t1\n%s%.*s\t0\tm\tdirect\t-1\n%s",
             good, (int)(strchr(good, '\t') - good), good, good);
    test_write_file(cache, text);
    chosen(&d, cache, 1, algo, sizeof algo);
    assert_string_equal(algo, "im2col_gemm");

    assert_int_equal(conv_tuning_read(cache, &t), CONV_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.bad_lines, 3);
    snprintf(expect, sizeof expect, "tuning.txt:2: ");
    if (strstr(t.first_bad, expect) == NULL)
        fail_msg("first bad line reported as '%s'", t.first_bad);
    conv_tuning_free(&t);
}

/* ---- the file ---- */

static conv_tuning_entry entry(const char *key, int threads,
                               const char *algo, double ms)
{
    conv_tuning_entry e;

    memset(&e, 0, sizeof e);
    snprintf(e.key, sizeof e.key, "%s", key);
    e.threads = threads;
    snprintf(e.machine, sizeof e.machine, "cpu model/avx2");
    snprintf(e.algo, sizeof e.algo, "%s", algo);
    e.time_ms = ms;
    return e;
}

static void test_write_read_back(void **state)
{
    conv_desc d = parse("mb3ic5ih17iw13oc7kh3kw2sh2sw1ph4pw0dh1");
    char key[192], path[400];
    conv_tuning t = {0}, back = {0};
    conv_tuning_entry e;

    conv_tuning_key(&d, key, sizeof key);
    e = entry(key, 2, "direct", 1.25);
    assert_int_equal(conv_tuning_put(&t, &e), CONV_OK);
    e = entry(key, 1, "im2col_gemm", 2.5);
    assert_int_equal(conv_tuning_put(&t, &e), CONV_OK);
    e = entry(key, 2, "fft", 0.75);
    assert_int_equal(conv_tuning_put(&t, &e), CONV_OK);
    assert_int_equal(t.n, 2);

    /* Missing directories are made. */
    snprintf(path, sizeof path, "%s/a/b/tuning.txt", dir);
    assert_int_equal(conv_tuning_write(&t, path), CONV_OK);
    assert_int_equal(conv_tuning_read(path, &back), CONV_OK);
    assert_int_equal(back.n, 2);
    assert_int_equal(back.bad_lines, 0);
    assert_string_equal(conv_tuning_find(&back, key, 2,
                                         "cpu model/avx2")->algo, "fft");
    assert_true(conv_tuning_find(&back, key, 1, "cpu model/avx2")->time_ms
                == 2.5);
    assert_null(conv_tuning_find(&back, key, 3, "cpu model/avx2"));
    conv_tuning_free(&t);
    conv_tuning_free(&back);
}

static void test_bad_entries_and_paths(void **state)
{
    conv_tuning t = {0};
    conv_tuning_entry e = entry("mb1_ic1", 1, "direct", 1.0);

    e.machine[2] = '\t';
    assert_int_equal(conv_tuning_put(&t, &e), CONV_EINVAL);
    e = entry("k", 0, "direct", 1.0);
    assert_int_equal(conv_tuning_put(&t, &e), CONV_EINVAL);
    e = entry("k", 1, "direct", NAN);
    assert_int_equal(conv_tuning_put(&t, &e), CONV_EINVAL);
    assert_int_equal(t.n, 0);

    /* A directory is not a readable cache; /proc takes no new files. */
    assert_int_equal(conv_tuning_read(dir, &t), CONV_EINVAL);
    assert_non_null(strstr(conv_reason(), dir));
    assert_int_equal(conv_tuning_write(&t, "/proc/convbench/t.txt"),
                     CONV_EINVAL);
    assert_non_null(strstr(conv_reason(), "/proc/convbench/t.txt"));
    conv_tuning_free(&t);
}

static void test_default_path(void **state)
{
    char path[512];

    assert_int_equal(setenv("CONVBENCH_TUNING", "/x/t.txt", 1), 0);
    assert_int_equal(setenv("XDG_CACHE_HOME", "/xdg", 1), 0);
    assert_int_equal(setenv("HOME", "/home/u", 1), 0);
    conv_tuning_default_path(path, sizeof path);
    assert_string_equal(path, "/x/t.txt");
    unsetenv("CONVBENCH_TUNING");
    conv_tuning_default_path(path, sizeof path);
    assert_string_equal(path, "/xdg/convbench/tuning.txt");
    unsetenv("XDG_CACHE_HOME");
    conv_tuning_default_path(path, sizeof path);
    assert_string_equal(path, "/home/u/.cache/convbench/tuning.txt");
    unsetenv("HOME");
    assert_int_equal(conv_tuning_default_path(path, sizeof path), -1);
    assert_string_equal(path, "");
    assert_int_equal(setenv("CONVBENCH_TUNING", "/nonexistent/t.txt", 1),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_suite),
        cmocka_unit_test(test_cost_model),
        cmocka_unit_test(test_cache_obeyed),
        cmocka_unit_test(test_other_machine_ignored),
        cmocka_unit_test(test_other_blas_core_ignored),
        cmocka_unit_test(test_inapplicable_entry_ignored),
        cmocka_unit_test(test_corrupt_cache),
        cmocka_unit_test(test_write_read_back),
        cmocka_unit_test(test_bad_entries_and_paths),
        cmocka_unit_test(test_default_path),
    };

    return cmocka_run_group_tests_name("auto", tests, setup, teardown);
}
