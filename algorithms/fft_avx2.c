/*
 * The fft family's pointwise products with AVX2 + FMA: one complex
 * matrix product per frequency, eight frequencies per vector (see the
 * lane elements in fft.h), so no lane ever mixes with another and no
 * shuffles are needed: a complex multiply-add of eight lanes is four FMAs
 * on the split real and imaginary parts.
 */
#include "fft.h"

#include <immintrin.h>

/* Output channels and tiles of one register block: 2 x 3 complex
 * accumulators (12 registers) and 2 weights (4 more); the inputs are
 * read from memory by the FMAs. Two FMAs in a row on each accumulator
 * per channel take 8 cycles of latency; 24 FMAs per channel keep both
 * FMA ports busy past that. */
#define KR 2
#define TR 3

/*
 * y[k][t] for k < kr, t < tr from w (kr rows of cg elements) and x
 * (cg rows of ld elements). Inlined with constant kr and tr, so the
 * arrays below live in registers.
 */
static inline __attribute__((always_inline))
void block(const float *w, const float *x, float *y, int64_t cg,
           int64_t ld, int kr, int tr)
{
    __m256 re[KR][TR], im[KR][TR];

    for (int i = 0; i < kr; i++)
        for (int j = 0; j < tr; j++)
            re[i][j] = im[i][j] = _mm256_setzero_ps();

    for (int64_t c = 0; c < cg; c++) {
        __m256 wr[KR], wi[KR], xr[TR], xi[TR];

        /* The next rows of w, which the hardware prefetcher would
         * fetch only after a miss each: a full row pass fits in L1. */
        for (int i = 0; i < kr; i++)
            _mm_prefetch((const char *)(w + ((kr + i) * cg + c)
                                        * FFT_ELEM), _MM_HINT_T0);
        for (int i = 0; i < kr; i++) {
            wr[i] = _mm256_load_ps(w + (i * cg + c) * FFT_ELEM);
            wi[i] = _mm256_load_ps(w + (i * cg + c) * FFT_ELEM + FFT_LANES);
        }
        for (int j = 0; j < tr; j++) {
            xr[j] = _mm256_load_ps(x + (c * ld + j) * FFT_ELEM);
            xi[j] = _mm256_load_ps(x + (c * ld + j) * FFT_ELEM + FFT_LANES);
        }

        /* (wr + i wi)(xr + i xi) = wr xr - wi xi + i (wr xi + wi xr) */
        for (int i = 0; i < kr; i++)
            for (int j = 0; j < tr; j++) {
                re[i][j] = _mm256_fmadd_ps(wr[i], xr[j], re[i][j]);
                re[i][j] = _mm256_fnmadd_ps(wi[i], xi[j], re[i][j]);
                im[i][j] = _mm256_fmadd_ps(wr[i], xi[j], im[i][j]);
                im[i][j] = _mm256_fmadd_ps(wi[i], xr[j], im[i][j]);
            }
    }

    for (int i = 0; i < kr; i++)
        for (int j = 0; j < tr; j++) {
            _mm256_store_ps(y + (i * ld + j) * FFT_ELEM, re[i][j]);
            _mm256_store_ps(y + (i * ld + j) * FFT_ELEM + FFT_LANES,
                            im[i][j]);
        }
}

/*
 * All tiles of kr output channels.
 * TODO: a leftover 2x1 block has two dependent FMAs per accumulator and
 * channel and only 8 FMAs to hide them, so it runs at about half speed
 * (one tile in seven at AlexNet conv2's 7 tiles per block).
 */
static inline __attribute__((always_inline))
void channel_rows(const float *w, const float *x, float *y, int64_t cg,
                  int64_t nt, int64_t ld, int kr)
{
    int64_t t = 0;

    for (; t + TR <= nt; t += TR)
        block(w, x + t * FFT_ELEM, y + t * FFT_ELEM, cg, ld, kr, TR);
    if (nt - t == 2)
        block(w, x + t * FFT_ELEM, y + t * FFT_ELEM, cg, ld, kr, 2);
    else if (nt - t == 1)
        block(w, x + t * FFT_ELEM, y + t * FFT_ELEM, cg, ld, kr, 1);
}

void fft_multiply_avx2(const float *w, const float *x, float *y,
                       int64_t kg, int64_t cg, int64_t nt, int64_t ld)
{
    int64_t k = 0;

    for (; k + KR <= kg; k += KR)
        channel_rows(w + k * cg * FFT_ELEM, x, y + k * ld * FFT_ELEM, cg,
                     nt, ld, KR);
    if (k < kg)
        channel_rows(w + k * cg * FFT_ELEM, x, y + k * ld * FFT_ELEM, cg,
                     nt, ld, 1);
}
