/* The FMA throughput kernel of the peak probe, built for AVX2 + FMA. */
#include "peak.h"

#include <immintrin.h>

/*
 * Two FMA ports with a latency of 4 to 5 cycles keep up to 10 FMAs in
 * flight, so 12 independent accumulator chains saturate both ports.
 * Each chain is a = a * m + c with |m| < 1, which settles at c / (1 - m):
 * no overflow and no denormals, however long it runs.
 */
float bench_peak_kernel_avx2(int64_t rounds)
{
    const __m256 m = _mm256_set1_ps(0.9999f);
    const __m256 c = _mm256_set1_ps(1e-4f);
    __m256 acc[BENCH_PEAK_FMAS_PER_ROUND];
    __m256 sum = _mm256_setzero_ps();
    float lanes[8], total = 0;

    for (int j = 0; j < BENCH_PEAK_FMAS_PER_ROUND; j++)
        acc[j] = _mm256_set1_ps((float)j);
    for (int64_t i = 0; i < rounds; i++)
        for (int j = 0; j < BENCH_PEAK_FMAS_PER_ROUND; j++)
            acc[j] = _mm256_fmadd_ps(acc[j], m, c);

    for (int j = 0; j < BENCH_PEAK_FMAS_PER_ROUND; j++)
        sum = _mm256_add_ps(sum, acc[j]);
    _mm256_storeu_ps(lanes, sum);
    for (int j = 0; j < 8; j++)
        total += lanes[j];
    return total;
}
