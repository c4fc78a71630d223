/*
 * The Winograd kernels for AVX2 + FMA: transforms on 8 tiles at once (one
 * tile per lane), and the multiply as a register-tiled product of
 * WINO_MR output channels by 16 tiles. Chosen at run time by winograd.c.
 */
#include "winograd.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

/*
 * out(r, f) = sum_e val[r][e] * in(col[r][e], f) for f < nfree, with
 * in(i, f) = in[i*in_i + f*in_f], out(r, f) = out[r*out_r + f*out_f].
 * nfree is a constant after inlining, so the accumulators of one row
 * live in registers and each coefficient is broadcast once per row.
 */
INLINE void apply(const wino_sparse *mt, const __m256 *in, int in_i,
                  int in_f, __m256 *out, int out_r, int out_f,
                  const int nfree)
{
    for (int r = 0; r < mt->rows; r++) {
        __m256 acc[WINO_ALPHA_MAX];

#pragma GCC unroll 8
        for (int f = 0; f < nfree; f++)
            acc[f] = _mm256_setzero_ps();
        for (int e = 0; e < mt->nnz[r]; e++) {
            __m256 a = _mm256_broadcast_ss(&mt->val[r][e]);
            const __m256 *src = in + mt->col[r][e] * in_i;

#pragma GCC unroll 8
            for (int f = 0; f < nfree; f++)
                acc[f] = _mm256_fmadd_ps(a, src[f * in_f], acc[f]);
        }
#pragma GCC unroll 8
        for (int f = 0; f < nfree; f++)
            out[r * out_r + f * out_f] = acc[f];
    }
}

/* Per lane: the tile's input row and column (clamped to just outside the
 * readable input, which keeps them in int32) and its offset into the
 * input; `inside`: all 8 lanes are tiles that lie wholly in the input. */
typedef struct lanes {
    __m256i iy, ix, off;
    int32_t offs[WINO_LANES];
    int inside;
} lanes;

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The lanes of nl tiles from tile t; lanes >= nl read nothing. */
static lanes lanes_at(const wino_geom *q, int64_t t, int64_t nl)
{
    const conv_desc *d = q->d;
    int32_t iy[WINO_LANES], ix[WINO_LANES], off[WINO_LANES];
    int64_t n, oy, ox;
    lanes v;

    wino_tile_origin(q, t, &n, &oy, &ox);
    v.inside = nl >= WINO_LANES;
    for (int l = 0; l < WINO_LANES; l++) {
        iy[l] = (int32_t)clamp(oy - d->pad_top, -WINO_ALPHA_MAX, q->hlim);
        ix[l] = (int32_t)clamp(ox - d->pad_left, -WINO_ALPHA_MAX, q->wlim);
        if (l >= nl)
            iy[l] = (int32_t)q->hlim;
        off[l] = (int32_t)((n * d->c * d->h + iy[l]) * d->w + ix[l]);
        v.offs[l] = off[l];
        v.inside &= iy[l] >= 0 && iy[l] + q->alpha <= q->hlim
                    && ix[l] >= 0 && ix[l] + q->alpha <= q->wlim;

        /* The next tile: along the row, then down, then the next image. */
        ox += q->m;
        if (ox >= q->tw * q->m) {
            ox = 0;
            oy += q->m;
        }
        if (oy >= q->th * q->m) {
            oy = 0;
            n++;
        }
    }
    v.iy = _mm256_loadu_si256((const __m256i *)iy);
    v.ix = _mm256_loadu_si256((const __m256i *)ix);
    v.off = _mm256_loadu_si256((const __m256i *)off);
    return v;
}

/* Lanes whose p + i lies in [0, lim). */
INLINE __m256i inside(__m256i p, int i, int64_t lim)
{
    __m256i v = _mm256_add_epi32(p, _mm256_set1_epi32(i));

    return _mm256_and_si256(
        _mm256_cmpgt_epi32(v, _mm256_set1_epi32(-1)),
        _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)lim), v));
}

/* d[i][j] = x[tile row + i][tile col + j] per lane, 0 outside. */
INLINE void gather(const wino_geom *q, const lanes *ln, const float *xc,
                   __m256 *d, const int a)
{
    int32_t w = (int32_t)q->d->w;
    __m256i colok[WINO_ALPHA_MAX];

    for (int j = 0; j < a; j++)
        colok[j] = inside(ln->ix, j, q->wlim);
    for (int i = 0; i < a; i++) {
        __m256i rowok = inside(ln->iy, i, q->hlim);
        __m256i base = _mm256_add_epi32(ln->off, _mm256_set1_epi32(i * w));

        for (int j = 0; j < a; j++) {
            __m256 ok = _mm256_castsi256_ps(
                _mm256_and_si256(rowok, colok[j]));
            __m256i idx = _mm256_add_epi32(base, _mm256_set1_epi32(j));

            d[i * a + j] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(),
                                                    xc, idx, ok, 4);
        }
    }
}

/* r[j] = (r[0][j], ..., r[7][j]): an 8x8 transpose in registers. */
INLINE void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];

    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2],
                                     _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3],
                                     _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3],
                                     _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* The gather's result for tiles wholly inside the input: each lane loads
 * its tile's rows (alpha floats, masked below 8) and a transpose turns
 * rows of one tile into lanes of one element. */
INLINE void load_rows(const wino_geom *q, const lanes *ln, const float *xc,
                      __m256 *d, const int a)
{
    int64_t w = q->d->w;
    __m256i first = _mm256_cmpgt_epi32(_mm256_set1_epi32(a),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5,
                                                         6, 7));

    for (int i = 0; i < a; i++) {
        __m256 r[WINO_LANES];

        for (int l = 0; l < WINO_LANES; l++) {
            const float *row = xc + ln->offs[l] + i * w;

            r[l] = a == 8 ? _mm256_loadu_ps(row)
                          : _mm256_maskload_ps(row, first);
        }
        transpose8(r);
        for (int j = 0; j < a; j++)
            d[i * a + j] = r[j];
    }
}

INLINE void input_tiles(const wino_geom *q, const wino_block *b,
                        int64_t c, const float *x, float *v, const int a)
{
    const conv_desc *d = q->d;
    const float *xc = x + (b->g * q->cg + c) * d->h * d->w;
    float *vc = v + c * q->tb;

    for (int64_t l0 = 0; l0 < b->nt; l0 += WINO_LANES) {
        lanes ln = lanes_at(q, b->t0 + l0, b->nt - l0);
        __m256 dt[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 t[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 o[WINO_ALPHA_MAX * WINO_ALPHA_MAX];

        if (ln.inside)
            load_rows(q, &ln, xc, dt, a);
        else
            gather(q, &ln, xc, dt, a);

        /* T = B^T D, then V = T B (rows of B^T against rows of T). */
        apply(&q->bt, dt, a, 1, t, a, 1, a);
        apply(&q->bt, t, 1, a, o, 1, a, a);
        for (int xi = 0; xi < a * a; xi++)
            _mm256_storeu_ps(vc + xi * q->v_ld + l0, o[xi]);
    }
}

static void input_avx2(const wino_geom *q, const wino_block *b, int64_t c,
                       const float *x, float *v)
{
    if (q->alpha == 4)
        input_tiles(q, b, c, x, v, 4);
    else if (q->alpha == 6)
        input_tiles(q, b, c, x, v, 6);
    else
        input_tiles(q, b, c, x, v, 8);
}

/*
 * mo[r][0..8*nv) = sum_c up[c][r] * v[c][0..8*nv) for r < WINO_MR: a
 * WINO_MR x 16 (or x 8) block of M in 12 (6) accumulators.
 */
INLINE void micro(const float *up, const float *v, int64_t cg, int64_t ld,
                  float *mo, int64_t ldm, const int nv)
{
    __m256 acc[WINO_MR][2];

    for (int r = 0; r < WINO_MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t c = 0; c < cg; c++) {
        __m256 v0 = _mm256_loadu_ps(v + c * ld);
        __m256 v1 = nv > 1 ? _mm256_loadu_ps(v + c * ld + 8) : v0;

        /* U streams from L3 when it is large; the hardware prefetcher
         * alone leaves the loop waiting on it. */
        if (c % 4 == 0)
            _mm_prefetch((const char *)(up + (c + 128) * WINO_MR),
                         _MM_HINT_T0);
        for (int r = 0; r < WINO_MR; r++) {
            __m256 a = _mm256_broadcast_ss(up + c * WINO_MR + r);

            acc[r][0] = _mm256_fmadd_ps(a, v0, acc[r][0]);
            if (nv > 1)
                acc[r][1] = _mm256_fmadd_ps(a, v1, acc[r][1]);
        }
    }
    for (int r = 0; r < WINO_MR; r++) {
        _mm256_storeu_ps(mo + r * ldm, acc[r][0]);
        if (nv > 1)
            _mm256_storeu_ps(mo + r * ldm + 8, acc[r][1]);
    }
}

static void multiply_avx2(const wino_geom *q, const wino_block *b,
                          const float *u, const float *v, float *mm)
{
    int64_t nt8 = (b->nt + WINO_LANES - 1) / WINO_LANES * WINO_LANES;

    for (int64_t kb = 0; kb < q->nkb; kb++) {
        const float *up = u + kb * q->cg * WINO_MR;
        float *mo = mm + kb * WINO_MR * q->m_ld;
        int64_t t = 0;

        for (; t + 16 <= nt8; t += 16)
            micro(up, v + t, q->cg, q->tb, mo + t, q->m_ld, 2);
        if (t < nt8)
            micro(up, v + t, q->cg, q->tb, mo + t, q->m_ld, 1);
    }
}

/* Offsets of the 8 tiles' first outputs in channel k of the group, or 0
 * if one of them is cropped or missing (then the scalar store runs). */
static int out_offsets(const wino_geom *q, const wino_block *b, int64_t k,
                       int64_t l0, int64_t off[WINO_LANES])
{
    const conv_desc *d = q->d;
    int64_t n, oy, ox;

    if (b->nt - l0 < WINO_LANES)
        return 0;
    wino_tile_origin(q, b->t0 + l0, &n, &oy, &ox);
    for (int l = 0; l < WINO_LANES; l++) {
        if (oy + q->m > d->p || ox + q->m > d->q)
            return 0;
        off[l] = ((n * d->k + b->g * q->kg + k) * d->p + oy) * d->q + ox;
        ox += q->m;
        if (ox >= q->tw * q->m) {
            ox = 0;
            oy += q->m;
        }
        if (oy >= q->th * q->m) {
            oy = 0;
            n++;
        }
    }
    return 1;
}

/* Rows of m outputs per lane: a transpose makes lanes into tiles again. */
INLINE void store_rows(const wino_geom *q, const __m256 *o,
                       const int64_t off[WINO_LANES], float *y, const int m)
{
    for (int i = 0; i < m; i++) {
        __m256 r[WINO_LANES];

        for (int j = 0; j < WINO_LANES; j++)
            r[j] = j < m ? o[i * m + j] : _mm256_setzero_ps();
        transpose8(r);
        for (int l = 0; l < WINO_LANES; l++) {
            float *dst = y + off[l] + i * q->d->q;
            __m128 lo = _mm256_castps256_ps128(r[l]);

            if (m == 2) {
                _mm_storel_pi((__m64 *)dst, lo);
            } else {
                _mm_storeu_ps(dst, lo);
                if (m == 6)
                    _mm_storel_pi((__m64 *)(dst + 4),
                                  _mm256_extractf128_ps(r[l], 1));
            }
        }
    }
}

INLINE void output_tiles(const wino_geom *q, const wino_block *b,
                         int64_t k, const float *mm, const float *bias,
                         float *y, const int a, const int m)
{
    const float *mk = mm + k * q->m_ld;
    __m256 bv = _mm256_set1_ps(bias[b->g * q->kg + k]);

    for (int64_t l0 = 0; l0 < b->nt; l0 += WINO_LANES) {
        __m256 dt[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 t[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 o[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        float ylanes[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];
        int64_t off[WINO_LANES];

        for (int xi = 0; xi < a * a; xi++)
            dt[xi] = _mm256_loadu_ps(mk + xi * q->tb + l0);

        /* T = A^T M (m x alpha), then Y = T A (m x m), then the bias. */
        apply(&q->at, dt, a, 1, t, a, 1, a);
        apply(&q->at, t, 1, a, o, 1, m, m);
        for (int i = 0; i < m * m; i++)
            o[i] = _mm256_add_ps(o[i], bv);
        if (out_offsets(q, b, k, l0, off)) {
            store_rows(q, o, off, y, m);
            continue;
        }
        for (int i = 0; i < m * m; i++)
            _mm256_storeu_ps(ylanes + i * WINO_LANES, o[i]);
        wino_store_lanes(q, b, k, l0, ylanes, y);
    }
}

static void output_avx2(const wino_geom *q, const wino_block *b, int64_t k,
                        const float *mm, const float *bias, float *y)
{
    if (q->m == 2)
        output_tiles(q, b, k, mm, bias, y, 4, 2);
    else if (q->m == 4)
        output_tiles(q, b, k, mm, bias, y, 6, 4);
    else
        output_tiles(q, b, k, mm, bias, y, 8, 6);
}

const wino_kernels wino_kernels_avx2 = {
    input_avx2, multiply_avx2, output_avx2,
};
