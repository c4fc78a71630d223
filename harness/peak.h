/*
 * The machine's fp32 peak, measured: a short AVX2 + FMA throughput probe,
 * so every speed can also be read as a fraction of what this CPU can do
 * with the instructions our kernels use (not AVX-512, even where present).
 */
#ifndef BENCH_PEAK_H
#define BENCH_PEAK_H

#include <stdint.h>

/*
 * GFLOP/s of `threads` threads (<= 0: OpenMP's default) each issuing
 * independent 8-lane FMAs for about 0.2 s; 16 flops per instruction. Each
 * thread counts its best 1 ms window, so other processes on a shared
 * machine lower the figure little. Measured once per thread count and
 * process, then remembered. Returns 0 if the CPU lacks AVX2 or FMA.
 */
double bench_peak_gflops(int threads);

/* The CPU's model name from /proc/cpuinfo ("unknown" if not found). */
const char *bench_cpu_model(void);

/* `convbench peak [--threads T]`: prints the peak at 1 thread and at T
 * (default: every core). */
int peak_main(int argc, char **argv);

/* The probe's kernel (peak_avx2.c): `rounds` rounds of 12 independent
 * 8-lane FMAs. Returns a value that depends on all of them. */
float bench_peak_kernel_avx2(int64_t rounds);

/* FMA instructions one round of the kernel issues. */
#define BENCH_PEAK_FMAS_PER_ROUND 12

#endif
