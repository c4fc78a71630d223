/*
 * The AVX2 + FMA kernel of the direct family's NCHW 1x1 path
 * (direct_1x1.c; contract in direct.h): 4 output channels times 3
 * vectors of 8 pixels, 12 accumulators. Per input channel it loads 3
 * pixel vectors of x's row and broadcasts 4 weights: 12 FMAs for 7
 * loads. The last pixels of a run go through masked loads and stores.
 */
#include "direct.h"

#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))
#define VECS 3

/* Output channels r->nk of 24 pixels from pixel j; `mask` NULL: all of
 * them, else the lanes each vector keeps. */
INLINE void tile(const direct_rows *r, int64_t j, const __m256i *mask)
{
    __m256 acc[DIRECT_ROW_OC][VECS];
    const float *x = r->x + j, *w = r->w;

    #pragma GCC unroll 4
    for (int k = 0; k < DIRECT_ROW_OC; k++)
        #pragma GCC unroll 3
        for (int v = 0; v < VECS; v++)
            acc[k][v] = _mm256_broadcast_ss(r->bias + k);

    for (int64_t c = 0; c < r->channels; c++) {
        __m256 xv[VECS];

        #pragma GCC unroll 3
        for (int v = 0; v < VECS; v++)
            xv[v] = mask ? _mm256_maskload_ps(x + 8 * v, mask[v])
                         : _mm256_loadu_ps(x + 8 * v);
        #pragma GCC unroll 4
        for (int k = 0; k < DIRECT_ROW_OC; k++) {
            __m256 wk = _mm256_broadcast_ss(w + k);

            #pragma GCC unroll 3
            for (int v = 0; v < VECS; v++)
                acc[k][v] = _mm256_fmadd_ps(wk, xv[v], acc[k][v]);
        }
        x += r->x_c;
        w += DIRECT_ROW_OC;
    }

    #pragma GCC unroll 4
    for (int k = 0; k < DIRECT_ROW_OC; k++) {
        float *y = r->y + k * r->y_k + j;

        if (k >= r->nk)
            break;
        #pragma GCC unroll 3
        for (int v = 0; v < VECS; v++) {
            if (mask)
                _mm256_maskstore_ps(y + 8 * v, mask[v], acc[k][v]);
            else
                _mm256_storeu_ps(y + 8 * v, acc[k][v]);
        }
    }
}

void direct_rows_avx2(const direct_rows *r)
{
    int64_t j = 0;

    for (; j + 8 * VECS <= r->n; j += 8 * VECS)
        tile(r, j, NULL);
    if (j < r->n) {
        __m256i mask[VECS];
        __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

        for (int v = 0; v < VECS; v++)
            mask[v] = _mm256_cmpgt_epi32(
                _mm256_set1_epi32((int)(r->n - j - 8 * v)), lane);
        tile(r, j, mask);
    }
}
