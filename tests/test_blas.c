/* What OpenBLAS runs: its core names classed by instruction set, the
 * warning bench and tune print, and the line list prints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "blas.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What Debian 12's OpenBLAS says of itself, but for the core. */
#define DEBIAN_CONFIG(core) \
    "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP " \
    core " MAX_THREADS=64"

static void expect_isa(const char *core, bench_blas_isa want)
{
    bench_blas_isa got = bench_blas_core_isa(core);

    if (got != want)
        fprintf(stderr, "core '%s': class %d, want %d\n",
                core != NULL ? core : "(null)", (int)got, (int)want);
    assert_int_equal(got, want);
}

static void expect_in(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fprintf(stderr, "'%s' should contain '%s'\n", text, part);
    assert_non_null(strstr(text, part));
}

static void expect_not_in(const char *text, const char *part)
{
    if (strstr(text, part) != NULL)
        fprintf(stderr, "'%s' should not contain '%s'\n", text, part);
    assert_null(strstr(text, part));
}

/* The kernel sets of CPUs before Haswell and Zen have no AVX2; from them
 * on they have, in whatever case the name is written. */
static void test_core_classes(void **state)
{
    static const char *const older[] = {
        "Katmai", "Northwood", "Prescott", "Core2", "Penryn", "Atom",
        "Nehalem", "Sandybridge", "Opteron_SSE3", "Barcelona", "Bobcat",
        "Bulldozer", "Piledriver", "Steamroller", "Excavator", "Nano",
    };
    static const char *const avx2[] = {
        "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen",
    };

    for (size_t i = 0; i < sizeof older / sizeof older[0]; i++)
        expect_isa(older[i], BENCH_BLAS_OLDER);
    for (size_t i = 0; i < sizeof avx2 / sizeof avx2[0]; i++)
        expect_isa(avx2[i], BENCH_BLAS_AVX2);
    expect_isa("PRESCOTT", BENCH_BLAS_OLDER);
    expect_isa("haswell", BENCH_BLAS_AVX2);
    expect_isa("skylakex", BENCH_BLAS_AVX2);
}

/* A name not in the table is unknown, not guessed from a prefix. */
static void test_unknown_cores(void **state)
{
    static const char *const unknown[] = {
        "", "Unknown", "Haswel", "Haswellx", " Haswell", "Prescott ",
        "Zen4", "NeoverseN1", "generic",
    };

    expect_isa(NULL, BENCH_BLAS_UNKNOWN);
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_isa(unknown[i], BENCH_BLAS_UNKNOWN);
}

/* Prescott on an AVX2 CPU: one line naming the version, the core, why,
 * the algorithms that suffer and the variable that fixes it. */
static void test_warning_on_fallback(void **state)
{
    bench_blas_info b = {DEBIAN_CONFIG("Prescott"), "Prescott", NULL, 1};
    char text[512];

    assert_int_equal(bench_blas_warning(&b, text, sizeof text), 1);
    expect_in(text, "OpenBLAS 0.3.21 ");
    expect_in(text, "Prescott kernels");
    expect_in(text, "does not know");
    expect_in(text, "conv1x1");
    expect_in(text, "im2col_gemm");
    expect_in(text, "OPENBLAS_CORETYPE=Haswell");
    assert_null(strchr(text, '\n'));
}

/* No warning for AVX2 kernels, for a CPU without AVX2, or for a core
 * the table does not know; the buffer is left empty. */
static void test_no_warning(void **state)
{
    static const char *const quiet[] = {"Haswell", "SkylakeX", "Zen",
                                        "Cooperlake", "Foo"};
    bench_blas_info b = {DEBIAN_CONFIG("Prescott"), "Prescott", NULL, 0};
    char text[512] = "x";

    assert_int_equal(bench_blas_warning(&b, text, sizeof text), 0);
    assert_string_equal(text, "");
    b.cpu_avx2 = 1;
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        b.core = quiet[i];
        text[0] = 'x';
        assert_int_equal(bench_blas_warning(&b, text, sizeof text), 0);
        assert_string_equal(text, "");
    }
}

/* An old core asked for by OPENBLAS_CORETYPE is warned about as asked
 * for; a build without DYNAMIC_ARCH is told to rebuild, since it ignores
 * the variable. */
static void test_warning_causes(void **state)
{
    bench_blas_info b = {DEBIAN_CONFIG("Nehalem"), "Nehalem", "nehalem", 1};
    char text[512], small[16];

    assert_int_equal(bench_blas_warning(&b, text, sizeof text), 1);
    expect_in(text, "OPENBLAS_CORETYPE=nehalem");
    expect_not_in(text, "does not know");
    expect_in(text, "OPENBLAS_CORETYPE=Haswell");

    b = (bench_blas_info){"OpenBLAS 0.3.21 NO_AFFINITY SANDYBRIDGE "
                          "MAX_THREADS=64", "Sandybridge", NULL, 1};
    assert_int_equal(bench_blas_warning(&b, text, sizeof text), 1);
    expect_in(text, "Sandybridge kernels");
    expect_in(text, "DYNAMIC_ARCH");
    expect_not_in(text, "OPENBLAS_CORETYPE");

    assert_int_equal(bench_blas_warning(&b, small, sizeof small), 1);
    assert_true(strlen(small) < sizeof small);
}

/* list's line: the core and its class; the remedy, on a line of its
 * own, only when the CPU has AVX2 and the core does not use it. */
static void test_core_line(void **state)
{
    bench_blas_info b = {DEBIAN_CONFIG("Prescott"), "Prescott", NULL, 1};
    char line[512];

    bench_blas_core_line(&b, line, sizeof line);
    expect_in(line, "OpenBLAS core: Prescott, ");
    expect_in(line, "without AVX2");
    expect_in(line, "\n  OPENBLAS_CORETYPE=Haswell");
    assert_null(strchr(strchr(line, '\n') + 1, '\n'));

    b.cpu_avx2 = 0;
    bench_blas_core_line(&b, line, sizeof line);
    assert_null(strchr(line, '\n'));
    expect_not_in(line, "OPENBLAS_CORETYPE");

    b = (bench_blas_info){DEBIAN_CONFIG("Haswell"), "Haswell", "Haswell", 1};
    bench_blas_core_line(&b, line, sizeof line);
    expect_in(line, "AVX2 + FMA");
    expect_in(line, "Haswell (as OPENBLAS_CORETYPE=Haswell asks)");
    assert_null(strchr(line, '\n'));
}

/* This process's facts are OpenBLAS's own and the environment's, and the
 * core OpenBLAS runs here is one the table knows (a DYNAMIC_ARCH build
 * also names it in its configuration). */
static void test_this_machine(void **state)
{
    bench_blas_info b = bench_blas_info_now();
    const char *env = getenv("OPENBLAS_CORETYPE");
    char line[512], text[512];

    assert_string_equal(b.config, openblas_get_config());
    assert_string_equal(b.core, openblas_get_corename());
    assert_true(strncmp(b.config, "OpenBLAS ", 9) == 0);
    assert_true(env == NULL ? b.forced == NULL
                            : strcmp(b.forced, env) == 0);
    if (strstr(b.config, "DYNAMIC_ARCH") != NULL)
        expect_in(b.config, b.core);
    assert_int_not_equal(bench_blas_core_isa(b.core), BENCH_BLAS_UNKNOWN);

    bench_blas_core_line(&b, line, sizeof line);
    print_message("%s\n%s\n", b.config, line);
    if (bench_blas_warning(&b, text, sizeof text))
        print_message("warning: %s\n", text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_classes),
        cmocka_unit_test(test_unknown_cores),
        cmocka_unit_test(test_warning_on_fallback),
        cmocka_unit_test(test_no_warning),
        cmocka_unit_test(test_warning_causes),
        cmocka_unit_test(test_core_line),
        cmocka_unit_test(test_this_machine),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
