/* What OpenBLAS runs on this machine: reported by list and bench, warned
 * about by bench and tune. */
#include "blas.h"

#include "args.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OLDER BENCH_BLAS_OLDER
#define AVX2 BENCH_BLAS_AVX2

/*
 * OpenBLAS's x86 core names (openblas_get_corename(), OPENBLAS_CORETYPE)
 * with what their kernels use, by the rule in blas.h: Intel's and VIA's,
 * then AMD's, each in the order of the CPUs they are named after.
 * TODO: a core OpenBLAS adds later is unknown here and never warned
 * about, even one without AVX2; each needs a line.
 */
static const struct {
    const char *name;
    bench_blas_isa isa;
} cores[] = {
    {"Katmai", OLDER},      {"Coppermine", OLDER}, {"Northwood", OLDER},
    {"Banias", OLDER},      {"Prescott", OLDER},   {"Core2", OLDER},
    {"Penryn", OLDER},      {"Dunnington", OLDER}, {"Atom", OLDER},
    {"Nano", OLDER},        {"Nehalem", OLDER},    {"Sandybridge", OLDER},
    {"Haswell", AVX2},      {"SkylakeX", AVX2},    {"Cooperlake", AVX2},
    {"SapphireRapids", AVX2},
    {"Athlon", OLDER},      {"Opteron", OLDER},    {"Opteron_SSE3", OLDER},
    {"Barcelona", OLDER},   {"Bobcat", OLDER},     {"Bulldozer", OLDER},
    {"Piledriver", OLDER},  {"Steamroller", OLDER}, {"Excavator", OLDER},
    {"Zen", AVX2},
};

bench_blas_isa bench_blas_core_isa(const char *core)
{
    if (core == NULL)
        return BENCH_BLAS_UNKNOWN;
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (strcasecmp(core, cores[i].name) == 0)
            return cores[i].isa;
    return BENCH_BLAS_UNKNOWN;
}

bench_blas_info bench_blas_info_now(void)
{
    bench_blas_info b = {openblas_get_config(), openblas_get_corename(),
                         getenv("OPENBLAS_CORETYPE"), 0};

#if defined(__x86_64__) || defined(__i386__)
    b.cpu_avx2 = __builtin_cpu_supports("avx2")
                 && __builtin_cpu_supports("fma");
#endif
    return b;
}

/* "OpenBLAS 0.3.21": the first two words of the build's configuration,
 * or "OpenBLAS" if it does not start so. */
static void version_of(const char *config, char *buf, size_t n)
{
    const char *v;

    snprintf(buf, n, "OpenBLAS");
    if (config == NULL || strncmp(config, "OpenBLAS ", 9) != 0)
        return;
    v = config + 9;
    snprintf(buf, n, "OpenBLAS %.*s", (int)strcspn(v, " "), v);
}

/* A DYNAMIC_ARCH build reads OPENBLAS_CORETYPE; others run the core they
 * were compiled for. */
static int is_dynamic(const bench_blas_info *b)
{
    return b->config != NULL && strstr(b->config, "DYNAMIC_ARCH") != NULL;
}

/* How this build gets to AVX2 kernels. Haswell's, not SkylakeX's, so
 * SGEMM uses the instruction set our kernels and the capped oneDNN use. */
static const char *remedy(const bench_blas_info *b)
{
    if (is_dynamic(b))
        return "OPENBLAS_CORETYPE=Haswell selects its AVX2 kernels";
    return "an OpenBLAS built with DYNAMIC_ARCH=1 or TARGET=HASWELL "
           "would run AVX2 kernels";
}

void bench_blas_core_line(const bench_blas_info *b, char *buf, size_t n)
{
    static const char *const what[] = {
        [BENCH_BLAS_UNKNOWN] = "not a core convbench knows",
        [BENCH_BLAS_OLDER] = "kernels without AVX2",
        [BENCH_BLAS_AVX2] = "AVX2 + FMA kernels",
    };
    bench_blas_isa isa = bench_blas_core_isa(b->core);
    char forced[96] = "", fix[128] = "";

    if (b->forced != NULL)
        snprintf(forced, sizeof forced, " (as OPENBLAS_CORETYPE=%.40s asks)",
                 b->forced);
    if (isa == BENCH_BLAS_OLDER && b->cpu_avx2)
        snprintf(fix, sizeof fix, " though this CPU has AVX2;\n  %s",
                 remedy(b));
    snprintf(buf, n, "OpenBLAS core: %.40s%s, %s%s",
             b->core != NULL ? b->core : "(none)", forced, what[isa], fix);
}

/* Why the core is what it is: asked for, OpenBLAS's fallback for an
 * x86-64 CPU it does not recognise (Prescott), or its own pick. */
static void cause(const bench_blas_info *b, char *buf, size_t n)
{
    if (b->forced != NULL)
        snprintf(buf, n, ", as OPENBLAS_CORETYPE=%.40s asks,", b->forced);
    else if (is_dynamic(b) && strcasecmp(b->core, "Prescott") == 0)
        snprintf(buf, n, " on this CPU (it does not know it),");
    else
        snprintf(buf, n, " on this CPU,");
}

int bench_blas_warning(const bench_blas_info *b, char *buf, size_t n)
{
    char version[64], why[96];

    if (n > 0)
        buf[0] = '\0';
    if (!b->cpu_avx2 || bench_blas_core_isa(b->core) != BENCH_BLAS_OLDER)
        return 0;

    version_of(b->config, version, sizeof version);
    cause(b, why, sizeof why);
    snprintf(buf, n, "%s runs its %s kernels%s without AVX2 though the "
             "CPU has it; conv1x1 and im2col_gemm will be slow; %s",
             version, b->core, why, remedy(b));
    return 1;
}

/* The algorithms that multiply with OpenBLAS's SGEMM. */
static int uses_blas(const char *algo)
{
    return strcmp(algo, "im2col_gemm") == 0 || strcmp(algo, "conv1x1") == 0
           || strcmp(algo, "auto") == 0;
}

void bench_blas_warn(char algos[][32], int nalgos)
{
    bench_blas_info b = bench_blas_info_now();
    char text[512];
    int used = 0;

    for (int i = 0; i < nalgos; i++)
        used |= uses_blas(algos[i]);
    if (used && bench_blas_warning(&b, text, sizeof text))
        bench_error("warning: %s", text);
}
