/*
 * The AVX2 + FMA kernel of the NCHW depthwise path (direct_dw.c; contract
 * in direct.h): a register tile of up to 3 output rows times 4 vectors of
 * 8 outputs, one broadcast weight per tap. Each tap's FMAs depend on the
 * last tap's, so a tile needs about 8 accumulators to cover the FMA
 * latency; a tile of one row of 4 vectors ran at a quarter of the FMA
 * peak. The buffer is padded past each row's last whole vector, so every
 * load is a full one; a row's last vector is stored masked when it is
 * partial.
 */
#include "direct.h"

#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))
#define ROWS 2
#define VECS 4

/* Rows [0, nr) times outputs [0, 8 * nv) from x and y; the last
 * vector's store keeps the lanes of mask when `masked`. */
INLINE void tile(const direct_dw_plane *p, const float *x, float *y,
                 const int nr, const int nv, const int masked,
                 __m256i mask)
{
    __m256 acc[ROWS][VECS];
    const float *w = p->w;
    const ptrdiff_t *off = p->off, row = p->x_row;
    const int taps = p->taps;

    #pragma GCC unroll 3
    for (int i = 0; i < nr; i++)
        #pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm256_set1_ps(p->bias);
    for (int t = 0; t < taps; t++) {
        __m256 wt = _mm256_broadcast_ss(w + t);
        const float *xt = x + off[t];

        #pragma GCC unroll 3
        for (int i = 0; i < nr; i++)
            #pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm256_fmadd_ps(
                    wt, _mm256_loadu_ps(xt + i * row + 8 * v),
                    acc[i][v]);
    }
    #pragma GCC unroll 3
    for (int i = 0; i < nr; i++)
        #pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            if (masked && v == nv - 1)
                _mm256_maskstore_ps(y + i * p->q + 8 * v, mask, acc[i][v]);
            else
                _mm256_storeu_ps(y + i * p->q + 8 * v, acc[i][v]);
        }
}

/* nv (1 to 3) whole vectors: masked stores are slow on AMD's cores. */
INLINE void whole(const direct_dw_plane *p, const float *x, float *y,
                  const int nr, int nv)
{
    __m256i none = _mm256_setzero_si256();

    if (nv == 1)
        tile(p, x, y, nr, 1, 0, none);
    else if (nv == 2)
        tile(p, x, y, nr, 2, 0, none);
    else
        tile(p, x, y, nr, 3, 0, none);
}

/* Rows [0, nr) of one band: whole tiles of 4 vectors, then the last 1
 * to 31 outputs. */
INLINE void band(const direct_dw_plane *p, const float *x, float *y,
                 const int nr)
{
    int64_t j = 0, rest;
    int nv;
    __m256i mask;

    for (; j + 8 * VECS <= p->q; j += 8 * VECS)
        tile(p, x + j, y + j, nr, VECS, 0, _mm256_setzero_si256());
    if (j == p->q)
        return;
    rest = p->q - j;
    nv = (int)((rest + 7) / 8);
    mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rest - 8 * (nv - 1))),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if (rest % 8 == 0)
        whole(p, x + j, y + j, nr, nv);
    else if (nv == 1)
        tile(p, x + j, y + j, nr, 1, 1, mask);
    else if (nv == 2)
        tile(p, x + j, y + j, nr, 2, 1, mask);
    else if (nv == 3)
        tile(p, x + j, y + j, nr, 3, 1, mask);
    else
        tile(p, x + j, y + j, nr, 4, 1, mask);
}

void direct_dw_plane_avx2(const direct_dw_plane *p)
{
    int64_t i = 0;

    for (; i + ROWS <= p->rows; i += ROWS)
        band(p, p->x + i * p->x_row, p->y + i * p->q, ROWS);
    if (p->rows - i == 2)
        band(p, p->x + i * p->x_row, p->y + i * p->q, 2);
    else if (p->rows - i == 1)
        band(p, p->x + i * p->x_row, p->y + i * p->q, 1);
}
