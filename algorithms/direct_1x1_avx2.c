/*
 * The AVX2 + FMA kernel of the direct family's NCHW paths (direct_1x1.c,
 * direct_rows.c; contract in direct.h): 4 output channels times 3
 * vectors of 8 pixels, 12 accumulators. Per input channel it loads 3
 * pixel vectors of x's row and broadcasts 4 weights: 12 FMAs for 7
 * loads. The last 1 to 23 pixels of a run take 1 to 3 vectors, the last
 * one masked when partial (masks for all three spilled accumulators).
 */
#include "direct.h"

#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))
#define VECS 3

/* Output channels r->nk of 8 * nv pixels from pixel j; `masked`: the
 * last vector keeps only the lanes of `mask`; `off`: r->off gives the
 * channels' rows. */
INLINE void tile(const direct_rows *r, int64_t j, const int nv,
                 const int masked, __m256i mask, const int off)
{
    __m256 acc[DIRECT_ROW_OC][VECS];
    const float *x = r->x + j, *w = r->w;

    #pragma GCC unroll 4
    for (int k = 0; k < DIRECT_ROW_OC; k++)
        #pragma GCC unroll 3
        for (int v = 0; v < nv; v++)
            acc[k][v] = _mm256_broadcast_ss(r->bias + k);

    for (int64_t c = 0; c < r->channels; c++) {
        __m256 xv[VECS];

        if (off)
            x = r->x + j + r->off[c];
        #pragma GCC unroll 3
        for (int v = 0; v < nv; v++)
            xv[v] = masked && v == nv - 1
                    ? _mm256_maskload_ps(x + 8 * v, mask)
                    : _mm256_loadu_ps(x + 8 * v);
        #pragma GCC unroll 4
        for (int k = 0; k < DIRECT_ROW_OC; k++) {
            __m256 wk = _mm256_broadcast_ss(w + k);

            #pragma GCC unroll 3
            for (int v = 0; v < nv; v++)
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
        for (int v = 0; v < nv; v++) {
            if (masked && v == nv - 1)
                _mm256_maskstore_ps(y + 8 * v, mask, acc[k][v]);
            else
                _mm256_storeu_ps(y + 8 * v, acc[k][v]);
        }
    }
}

/* The last 1 to 23 pixels from pixel j, as 1 to 3 vectors with the
 * last one masked when it is partial. */
INLINE void rows_rest(const direct_rows *r, int64_t j, const int off)
{
    int64_t rest = r->n - j;
    int nv = (int)((rest + 7) / 8), masked = rest % 8 != 0;
    __m256i mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32((int)(rest - 8 * (nv - 1))),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));

    if (nv == 1)
        masked ? tile(r, j, 1, 1, mask, off) : tile(r, j, 1, 0, mask, off);
    else if (nv == 2)
        masked ? tile(r, j, 2, 1, mask, off) : tile(r, j, 2, 0, mask, off);
    else
        masked ? tile(r, j, 3, 1, mask, off) : tile(r, j, 3, 0, mask, off);
}

/* All tiles of a run: off constant, so that each call of tile() is
 * compiled for its shape. */
INLINE void rows_all(const direct_rows *r, const int off)
{
    int64_t j = 0;
    __m256i none = _mm256_setzero_si256();

    for (; j + 8 * VECS <= r->n; j += 8 * VECS)
        tile(r, j, VECS, 0, none, off);
    if (j < r->n)
        rows_rest(r, j, off);
}

void direct_rows_avx2(const direct_rows *r)
{
    if (r->off != NULL)
        rows_all(r, 1);
    else
        rows_all(r, 0);
}
