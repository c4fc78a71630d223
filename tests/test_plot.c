/*
 * `convbench plot` on small tables written here: the charts it must draw,
 * whole-network totals worked out by hand, what it skips, and how it
 * refuses bad input (exit status 2, file:line, nothing left behind).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "plot.h"
#include "csv.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A directory with a space and a quote, which gnuplot must survive. */
static char dir[PATH_MAX];

/*
 * Two network layers (counts 3 and 1) and a two-point kernel sweep, at
 * 2 threads. Worked by hand: direct 3*2 + 1*5 = 11 ms; im2col_gemm runs
 * only on a (3*1 = 3 ms; b is n/a); onednn 3*3 + 1*4 = 13 ms; the best of
 * ours per layer is im2col_gemm on a and direct on b, 3 + 5 = 8 ms. Every
 * ok row has gflops / peak_fraction = 100: the peak.
 */
static const char *const table[] = {
    BENCH_CSV_HEADER,
    "tiny,net:a,3,mb1_ic8ih8oc8oh8kh3ph1,direct,\"direct, 8x8\",2,ok,"
    "2,1.9,10,0.1,0",
    "tiny,net:a,3,mb1_ic8ih8oc8oh8kh3ph1,im2col_gemm,gemm,2,ok,"
    "1,0.9,20,0.2,1048576",
    "tiny,net:a,3,mb1_ic8ih8oc8oh8kh3ph1,onednn,jit:avx2,2,ok,"
    "3,2.9,5,0.05,0",
    "tiny,net:b,1,mb1_ic8ih8oc8oh8kh1,direct,\"direct, 8x8\",2,ok,"
    "5,4.9,30,0.3,0",
    "tiny,net:b,1,mb1_ic8ih8oc8oh8kh1,im2col_gemm,,2,"
    "n/a:im2col_gemm: not today,,,,,",
    "tiny,net:b,1,mb1_ic8ih8oc8oh8kh1,onednn,jit_1x1:avx2,2,ok,"
    "4,3.9,40,0.4,0",
    "tiny,sweep_kernel:k=3,1,mb1_ic8ih8oc8oh8kh3ph1,direct,d,2,ok,"
    "1,1,50,0.5,0",
    "tiny,sweep_kernel:k=3,1,mb1_ic8ih8oc8oh8kh3ph1,onednn,jit:avx2,2,ok,"
    "1,1,60,0.6,0",
    "tiny,sweep_kernel:k=1,1,mb1_ic8ih8oc8oh8kh1,direct,d,2,ok,"
    "1,1,70,0.7,0",
    "tiny,sweep_kernel:k=1,1,mb1_ic8ih8oc8oh8kh1,onednn,jit:avx2,2,ok,"
    "1,1,80,0.8,0",
};

static void write_lines(const char *path, const char *const *lines, int n)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
    assert_int_equal(fclose(f), 0);
}

static int run_plot(const char *csv, char **msg)
{
    char *argv[] = {"plot", (char *)csv, NULL};
    int rc = test_stderr_of(plot_main, 2, argv, dir, msg);

    fprintf(stderr, "plot %s -> %d\n%s", csv, rc, *msg);
    return rc;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool gnuplot_installed(void)
{
    const char *path = getenv("PATH");
    char exe[PATH_MAX];

    for (const char *p = path ? path : ""; *p; p += *p == ':') {
        size_t n = strcspn(p, ":");
        snprintf(exe, sizeof exe, "%.*s/gnuplot", (int)n, p);
        if (n > 0 && access(exe, X_OK) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Removes dir/sub (files only, then the directory). */
static void remove_dir(const char *sub)
{
    char path[2 * PATH_MAX], file[3 * PATH_MAX];
    DIR *d;

    snprintf(path, sizeof path, "%s/%s", dir, sub);
    d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (e->d_name[0] != '.')
            unlink(file);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

/* No hidden temporary directory may be left beside the outputs. */
static void assert_no_temporaries(void)
{
    DIR *d = opendir(dir);

    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp")) {
            fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
            fail();
        }
    closedir(d);
}

/* The line of summary.md starting with `start`, or fail. */
static const char *line_of(const char *text, const char *start)
{
    for (const char *p = text; p; p = strchr(p, '\n')) {
        p += *p == '\n';
        if (strncmp(p, start, strlen(start)) == 0)
            return p;
    }
    fprintf(stderr, "summary.md has no line starting '%s'\n", start);
    fail();
    return NULL;
}

/* The table line whose first cell is want's must be want. */
static void assert_line(const char *text, const char *want)
{
    char first[128];
    size_t n = strlen(want);

    snprintf(first, sizeof first, "%.*s", (int)(strchr(want + 1, '|')
                                                 - want + 1), want);
    const char *got = line_of(text, first);

    if (strncmp(got, want, n) != 0 || (got[n] != '\n' && got[n] != '\0')) {
        fprintf(stderr, "got  '%.*s'\nwant '%s'\n",
                (int)strcspn(got, "\n"), got, want);
        fail();
    }
}

/* Writes tiny.csv and plots it; gnuplot must not even warn. */
static void plot_tiny(void)
{
    char csv[PATH_MAX + 32], *msg;

    snprintf(csv, sizeof csv, "%s/tiny.csv", dir);
    write_lines(csv, table, sizeof table / sizeof *table);
    assert_int_equal(run_plot(csv, &msg), 0);
    assert_null(strstr(msg, "gnuplot said"));
    free(msg);
    assert_no_temporaries();
}

static void test_summary_totals(void **state)
{
    char path[PATH_MAX + 64], *md;

    plot_tiny();
    snprintf(path, sizeof path, "%s/tiny/summary.md", dir);
    md = test_read_file(path);

    /* Weighted by count; the n/a row adds nothing and counts as skipped. */
    assert_line(md, "| direct | 2 | 0 | 11.000 | 13.000 | 1.18x |");
    assert_line(md, "| im2col_gemm | 1 | 1 | 3.000 | 9.000 | 3.00x |");
    assert_line(md, "| onednn | 2 | 0 | 13.000 | 13.000 | 1.00x |");
    assert_non_null(strstr(line_of(md, "| best of ours per layer |"),
                           "| 2 | 0 | 8.000 | 13.000 |"));

    /* Per layer: the best of ours and its speed-up over oneDNN. */
    assert_line(md, "| a | 3 | im2col_gemm | 1.000 | 20.0 | 20% | 3.000 | "
                    "jit:avx2 | 3.00x |");
    assert_line(md, "| b | 1 | direct | 5.000 | 30.0 | 30% | 4.000 | "
                    "jit_1x1:avx2 | 0.80x |");
    assert_non_null(strstr(md, "2 threads: 100.0 GFLOP/s"));
    assert_non_null(strstr(md, "im2col_gemm: n/a:im2col_gemm: not today "
                               "(1 row)"));
    free(md);
    remove_dir("tiny");
}

/* A file that exists, is not empty and starts like its format. */
static void assert_chart(const char *stem, const char *ext)
{
    char path[2 * PATH_MAX];
    const char *magic = strcmp(ext, "png") == 0 ? "\x89PNG" : "<?xml";
    char head[8] = "";
    FILE *f;

    snprintf(path, sizeof path, "%s/tiny/%s.%s", dir, stem, ext);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing: %s\n", path);
        fail();
    }
    assert_true(fread(head, 1, 5, f) == 5);
    fclose(f);
    assert_memory_equal(head, magic, strlen(magic));
}

static void test_charts(void **state)
{
    static const char *const stems[] = {
        "gflops_net", "speedup_net", "workspace_net",
        "gflops_sweep_kernel", "speedup_sweep_kernel", "sweep_kernel",
    };

    if (!gnuplot_installed())
        skip();
    plot_tiny();
    for (size_t i = 0; i < sizeof stems / sizeof *stems; i++) {
        assert_chart(stems[i], "png");
        assert_chart(stems[i], "svg");
    }
    remove_dir("tiny");
}

/* The tables: n/a is NaN; a sweep is ordered by its swept value. */
static void test_tables(void **state)
{
    char path[2 * PATH_MAX], *dat;

    plot_tiny();
    snprintf(path, sizeof path, "%s/tiny/gflops_net.dat", dir);
    dat = test_read_file(path);
    assert_string_equal(dat, "position\tlayer\tdirect\tim2col_gemm\tonednn\n"
                             "0\ta\t10\t20\t5\n1\tb\t30\tNaN\t40\n");
    free(dat);
    snprintf(path, sizeof path, "%s/tiny/sweep_kernel.dat", dir);
    dat = test_read_file(path);
    assert_string_equal(dat, "k\tlayer\tdirect\tonednn\n"
                             "1\tk=1\t70\t80\n3\tk=3\t50\t60\n");
    free(dat);

    /* No algorithm of the sweep has a workspace: no chart for it. */
    snprintf(path, sizeof path, "%s/tiny/workspace_sweep_kernel.dat", dir);
    assert_false(exists(path));
    remove_dir("tiny");
}

/* A stale chart of an earlier run goes; the user's own file stays. */
static void test_replaces_earlier_run(void **state)
{
    char path[2 * PATH_MAX];

    snprintf(path, sizeof path, "%s/tiny", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/tiny/gflops_old_run.png", dir);
    write_lines(path, table, 1);
    snprintf(path, sizeof path, "%s/tiny/notes.txt", dir);
    write_lines(path, table, 1);
    plot_tiny();
    snprintf(path, sizeof path, "%s/tiny/gflops_old_run.png", dir);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/tiny/notes.txt", dir);
    assert_true(exists(path));
    remove_dir("tiny");
}

/*
 * auto against the fastest of the others: on a it ran im2col_gemm, 4%
 * slower than the im2col_gemm row (within 5%); on b it ran direct, 20%
 * slower than direct (not within); on c it ran direct, 3% faster than
 * the direct row (within), so it is the best of ours there. onednn is
 * not one of ours.
 */
static const char *const auto_table_rows[] = {
    BENCH_CSV_HEADER,
    "au,net:a,2,mb1_ic8ih8oc8oh8kh3ph1,direct,d,1,ok,2,2,1,0.1,0",
    "au,net:a,2,mb1_ic8ih8oc8oh8kh3ph1,im2col_gemm,g,1,ok,1,1,1,0.1,0",
    "au,net:a,2,mb1_ic8ih8oc8oh8kh3ph1,auto,"
    "\"auto -> im2col_gemm (tuned): g\",1,ok,1.04,1,1,0.1,0",
    "au,net:a,2,mb1_ic8ih8oc8oh8kh3ph1,onednn,jit,1,ok,0.5,0.5,1,0.1,0",
    "au,net:b,1,mb1_ic8ih8oc8oh8kh1,direct,d,1,ok,5,5,1,0.1,0",
    "au,net:b,1,mb1_ic8ih8oc8oh8kh1,auto,"
    "\"auto -> direct (cost model): d\",1,ok,6,6,1,0.1,0",
    "au,net:b,1,mb1_ic8ih8oc8oh8kh1,onednn,jit,1,ok,0.5,0.5,1,0.1,0",
    "au,net:c,1,mb1_ic8ih16oc8oh8kh1sh2,direct,d,1,ok,3,3,1,0.1,0",
    "au,net:c,1,mb1_ic8ih16oc8oh8kh1sh2,auto,"
    "\"auto -> direct (tuned): d\",1,ok,2.91,2.9,2,0.2,0",
    "au,net:c,1,mb1_ic8ih16oc8oh8kh1sh2,onednn,jit,1,ok,0.5,0.5,1,0.1,0",
};

static void test_summary_auto(void **state)
{
    char csv[PATH_MAX + 32], path[PATH_MAX + 64], *msg, *md;
    const char *at;

    snprintf(csv, sizeof csv, "%s/au.csv", dir);
    write_lines(csv, auto_table_rows,
                sizeof auto_table_rows / sizeof *auto_table_rows);
    assert_int_equal(run_plot(csv, &msg), 0);
    free(msg);
    snprintf(path, sizeof path, "%s/au/summary.md", dir);
    md = test_read_file(path);
    at = strstr(md, "### auto");
    assert_non_null(at);

    assert_line(at, "| a | 2 | im2col_gemm | 1.040 | im2col_gemm | 1.000 | "
                    "1.040x |");
    assert_line(at, "| b | 1 | direct | 6.000 | direct | 5.000 | 1.200x |");
    assert_line(at, "| c | 1 | direct | 2.910 | direct | 3.000 | 0.970x |");
    assert_non_null(strstr(at, "auto within 5% of the fastest other on 2 "
                               "of 3 layers."));

    /* The per-layer table names what auto ran where auto is fastest. */
    at = strstr(md, "### Per layer");
    assert_non_null(at);
    assert_line(at, "| a | 2 | im2col_gemm | 1.000 | 1.0 | 10% | 0.500 | "
                    "jit | 0.50x |");
    assert_line(at, "| c | 1 | auto (direct) | 2.910 | 2.0 | 20% | 0.500 | "
                    "jit | 0.17x |");
    free(md);
    remove_dir("au");
    unlink(csv);
}

/* A run without auto has no auto table. */
static void test_summary_no_auto(void **state)
{
    char path[PATH_MAX + 64], *md;

    plot_tiny();
    snprintf(path, sizeof path, "%s/tiny/summary.md", dir);
    md = test_read_file(path);
    assert_null(strstr(md, "### auto"));
    free(md);
    remove_dir("tiny");
}

/* Without gnuplot: status 2, the apt-get hint, summary.md still there. */
static void test_without_gnuplot(void **state)
{
    char csv[PATH_MAX + 32], path[PATH_MAX + 64], *msg, *md;
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");

    snprintf(csv, sizeof csv, "%s/tiny.csv", dir);
    write_lines(csv, table, sizeof table / sizeof *table);
    setenv("PATH", "/nonexistent", 1);
    int rc = run_plot(csv, &msg);
    setenv("PATH", saved, 1);
    free(saved);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(msg, "apt-get install gnuplot-nox"));
    free(msg);
    snprintf(path, sizeof path, "%s/tiny/summary.md", dir);
    md = test_read_file(path);
    assert_non_null(strstr(md, "| direct | 2 | 0 | 11.000 |"));
    assert_null(strstr(md, ".png"));
    free(md);
    snprintf(path, sizeof path, "%s/tiny/gflops_net.png", dir);
    assert_false(exists(path));
    remove_dir("tiny");
}

/* A bad table: status 2, the message names where, no output directory. */
static void expect_refusal(const char *name, const char *const *lines,
                           int n, const char *where)
{
    char csv[PATH_MAX + 32], out[PATH_MAX + 32], want[2 * PATH_MAX];
    char *msg;

    snprintf(csv, sizeof csv, "%s/%s.csv", dir, name);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    if (lines)
        write_lines(csv, lines, n);
    snprintf(want, sizeof want, "%s%s", csv, where);
    assert_int_equal(run_plot(csv, &msg), 2);
    if (!strstr(msg, want)) {
        fprintf(stderr, "message '%s' should name '%s'\n", msg, want);
        fail();
    }
    free(msg);
    assert_false(exists(out));
    assert_no_temporaries();
    unlink(csv);
}

static void test_bad_input(void **state)
{
    const char *bad_header[] = {"suite,layer,count", table[1]};
    const char *bad_number[] = {table[0], table[1], table[2], table[3]};
    const char *nothing_ok[] = {table[0], table[5]};
    char line3[512];

    snprintf(line3, sizeof line3, "%s", table[3]);
    memcpy(strstr(line3, ",ok,3,") + 4, "x", 1);
    bad_number[3] = line3;
    expect_refusal("header", bad_header, 2, ":1:");
    expect_refusal("number", bad_number, 4, ":4: time_ms 'x'");
    expect_refusal("nothing_ok", nothing_ok, 2, ": no row has status");
    expect_refusal("missing", NULL, 0, ": cannot open");
}

/*
 * Phases beside the table: direct and im2col_gemm on layer a; rows for a
 * case that did not run (im2col_gemm on b is n/a) or is not in the table
 * at all must be ignored.
 */
static const char *const phases[] = {
    "suite,layer,desc,algo,threads,executions,input_transform_ms,"
    "multiply_ms,output_transform_ms,other_ms,kernel_transform_ms,total_ms",
    "tiny,net:a,mb1_ic8ih8oc8oh8kh3ph1,direct,2,100,0.5,1,0.25,0.25,3,2",
    "tiny,net:a,mb1_ic8ih8oc8oh8kh3ph1,im2col_gemm,2,50,0.2,0.8,0,0,"
    "0.1,1",
    "tiny,net:b,mb1_ic8ih8oc8oh8kh1,im2col_gemm,2,50,1,1,1,1,1,4",
    "tiny,net:c,mb1_ic8ih8oc8oh8kh1,direct,2,50,1,1,1,1,1,4",
};

static void phases_path(char *path, size_t n)
{
    snprintf(path, n, "%s/tiny.phases.csv", dir);
}

/* With the file: the chart, its table and the summary's table, for the
 * cases the CSV holds measured only. */
static void test_phases(void **state)
{
    char path[2 * PATH_MAX], *text;

    phases_path(path, sizeof path);
    write_lines(path, phases, sizeof phases / sizeof *phases);
    plot_tiny();
    if (gnuplot_installed()) {
        assert_chart("phases_net", "png");
        assert_chart("phases_net", "svg");
    }
    snprintf(path, sizeof path, "%s/tiny/phases_net.dat", dir);
    text = test_read_file(path);
    assert_non_null(strstr(text, "# direct\n# position\tlayer\t"));
    assert_non_null(strstr(text, "\n0\ta\t0.5\t1\t0.25\t0.25\t2\n"
                                 "1\tb\tNaN\tNaN\tNaN\tNaN\tNaN\n"));
    assert_non_null(strstr(text, "\n0\ta\t0.2\t0.8\t0\t0\t1\n"
                                 "1\tb\tNaN\tNaN\tNaN\tNaN\tNaN\n"));
    assert_null(strstr(text, "onednn"));
    free(text);
    snprintf(path, sizeof path, "%s/tiny/phases_sweep_kernel.dat", dir);
    assert_false(exists(path));

    snprintf(path, sizeof path, "%s/tiny/summary.md", dir);
    text = test_read_file(path);
    assert_non_null(strstr(text, "\n| a | direct | 0.500 | 1.000 | 0.250 "
                                 "| 0.250 | 2.000 | 2.000 | 3.000 |\n"));
    assert_non_null(strstr(text, "\n| a | im2col_gemm | 0.200 | 0.800 | "
                                 "0.000 | 0.000 | 1.000 | 1.000 | 0.100 "
                                 "|\n"));
    assert_null(strstr(text, "| b | im2col_gemm |"));
    assert_non_null(strstr(text, "(phases_net.png)"));
    free(text);
    remove_dir("tiny");
}

/* A bad line is refused with file:line and nothing written; without the
 * file there is no trace of phases. */
static void test_phases_bad_or_absent(void **state)
{
    char path[2 * PATH_MAX], csv[PATH_MAX + 32], *text;

    phases_path(path, sizeof path);
    write_lines(path, phases, 2);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("tiny,net:a,mb1,direct,2,100,0.5,-1,0,0,0,0\n", f);
    fclose(f);
    remove_dir("tiny");
    snprintf(csv, sizeof csv, "%s/tiny.csv", dir);
    assert_int_equal(run_plot(csv, &text), 2);
    snprintf(path, sizeof path, "%s/tiny.phases.csv:3:", dir);
    assert_non_null(strstr(text, path));
    free(text);
    snprintf(path, sizeof path, "%s/tiny", dir);
    assert_false(exists(path));

    /* Without the file, no trace of phases. */
    phases_path(path, sizeof path);
    unlink(path);
    plot_tiny();
    snprintf(path, sizeof path, "%s/tiny/phases_net.dat", dir);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/tiny/summary.md", dir);
    text = test_read_file(path);
    assert_null(strstr(text, "Where the time goes"));
    free(text);
    remove_dir("tiny");
}

static int make_dir(void **state)
{
    char exe[PATH_MAX], plots[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    /* build/tests/test_plot -> harness/plots of the source tree. */
    if (!getenv("CONVBENCH_PLOTS") && n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(plots, sizeof plots, "%s/../../harness/plots", exe);
        setenv("CONVBENCH_PLOTS", plots, 1);
    }
    snprintf(dir, sizeof dir, "/tmp/test plot 'q' XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_all(void **state)
{
    char csv[PATH_MAX + 32];

    snprintf(csv, sizeof csv, "%s/tiny.csv", dir);
    unlink(csv);
    phases_path(csv, sizeof csv);
    unlink(csv);
    remove_dir("tiny");
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_totals),
        cmocka_unit_test(test_summary_auto),
        cmocka_unit_test(test_summary_no_auto),
        cmocka_unit_test(test_charts),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_replaces_earlier_run),
        cmocka_unit_test(test_without_gnuplot),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_phases),
        cmocka_unit_test(test_phases_bad_or_absent),
    };

    return cmocka_run_group_tests(tests, make_dir, remove_all);
}
