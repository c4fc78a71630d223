/*
 * The OpenBLAS that im2col_gemm and conv1x1 multiply with: its build, the
 * kernel set ("core") it chose for this CPU, and whether that set uses
 * AVX2. A DYNAMIC_ARCH OpenBLAS (Debian's) picks its core when it loads,
 * from the CPU's vendor, family and model; an x86-64 CPU it does not know
 * gets its oldest 64-bit set, Prescott (SSE3), and $OPENBLAS_CORETYPE
 * overrides the pick. OpenBLAS 0.3.21 does not know Emerald Rapids
 * (family 6, model 207) and runs Prescott there: conv1x1 takes 4.4 ms
 * against direct's 1.6 ms on ResNet-50's res2a_branch2c (one thread).
 * convbench never sets $OPENBLAS_CORETYPE; it reports the core and warns.
 */
#ifndef BENCH_BLAS_H
#define BENCH_BLAS_H

#include <stddef.h>

/* What an OpenBLAS core's kernels use. */
typedef enum bench_blas_isa {
    BENCH_BLAS_UNKNOWN,   /* not one of OpenBLAS's x86 core names */
    BENCH_BLAS_OLDER,     /* SSE or AVX (and FMA), no AVX2 */
    BENCH_BLAS_AVX2       /* AVX2 and FMA, some with AVX-512 besides */
} bench_blas_isa;

/*
 * The class of OpenBLAS core `core` (as openblas_get_corename() names it,
 * in any case; NULL is unknown). The rule: OpenBLAS names each x86 kernel
 * set after the CPU it was written for; the sets named after Intel CPUs
 * from Haswell on (Haswell, SkylakeX, Cooperlake, SapphireRapids) and AMD
 * CPUs from Zen on (Zen) use AVX2 and FMA, and the sets named after
 * earlier CPUs do not; Excavator's SGEMM is Piledriver's (AVX, FMA3)
 * though the CPU has AVX2.
 */
bench_blas_isa bench_blas_core_isa(const char *core);

/* The facts the report and the warning are made from. */
typedef struct bench_blas_info {
    const char *config;   /* openblas_get_config(): "OpenBLAS 0.3.21 ..." */
    const char *core;     /* openblas_get_corename(): "Prescott" */
    const char *forced;   /* $OPENBLAS_CORETYPE, or NULL if unset */
    int cpu_avx2;         /* the CPU (and the OS) can run AVX2 and FMA */
} bench_blas_info;

/* This process's OpenBLAS, environment and CPU. */
bench_blas_info bench_blas_info_now(void);

/*
 * For `convbench list`, without a final newline: "OpenBLAS core: NAME, "
 * what its kernels use, whether OPENBLAS_CORETYPE chose it, and, when
 * the CPU has AVX2 and the core does not use it, a second line, indented,
 * with the way to AVX2 kernels.
 */
void bench_blas_core_line(const bench_blas_info *b, char *buf, size_t n);

/*
 * The warning bench and tune print, without the "convbench: " prefix and
 * the newline, into buf[n]: returns 1 if the CPU has AVX2 and FMA but
 * the core's kernels do not use them, else 0 with buf empty. The text
 * names the OpenBLAS version, the core, the algorithms that suffer and
 * the remedy (OPENBLAS_CORETYPE=Haswell for a DYNAMIC_ARCH build).
 */
int bench_blas_warning(const bench_blas_info *b, char *buf, size_t n);

/*
 * Prints the warning to stderr as "convbench: warning: ..." if it
 * applies and one of algos[0..nalgos) multiplies with OpenBLAS
 * (im2col_gemm, conv1x1, or auto, which may pick them).
 */
void bench_blas_warn(char algos[][32], int nalgos);

#endif
