/*
 * The Winograd kernels for AVX2 + FMA: transforms on 8 tiles at once (one
 * tile per lane; each lane reads and writes its tile by rows, and 8x8
 * transposes move between rows of a tile and lanes), and the multiply as
 * a register-tiled product of WINO_MR output channels by 16 tiles; and
 * the fused path's kernels (few input channels, winograd_fused.c).
 * Chosen at run time by winograd.c.
 */
#include "winograd.h"

#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

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

/*
 * Where each lane reads its alpha x alpha tile: from its top-left corner
 * in the input, rows [i0, i1) and the columns set in `cols` (the parts
 * inside the readable input; the rest of the tile is zero padding).
 * NOTE: a live tile starts at most 2 columns left of the input, so a
 * row pointer may point up to 2 floats before its row (and the first
 * row's before the tensor); the masked load never touches them.
 */
typedef struct lane_src {
    const float *first[WINO_LANES];
    __m256i cols[WINO_LANES];
    int i0[WINO_LANES], i1[WINO_LANES];
} lane_src;

/* Lanes of 0 <= base + j < lim, for j < a. */
static __m256i col_mask(int64_t base, int64_t lim, int a)
{
    __m256i j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int64_t lo = base < 0 ? -base : 0;
    int64_t hi = lim - base < a ? lim - base : a;

    lo = lo > a ? a : lo;
    hi = hi < lo ? lo : hi;
    return _mm256_and_si256(
        _mm256_cmpgt_epi32(j, _mm256_set1_epi32((int32_t)lo - 1)),
        _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)hi), j));
}

/* Sources of lane group l0 of block b, channel c of its group. */
static void lane_sources(const wino_geom *q, const wino_block *b,
                         int64_t c, int64_t l0, const float *x, lane_src *s)
{
    const conv_desc *d = q->d;
    int a = q->alpha;
    wino_walk w;

    wino_walk_start(q, b->t0 + l0, &w);
    for (int l = 0; l < WINO_LANES; l++, wino_walk_next(q, &w)) {
        int64_t iy = w.oy - d->pad_top, ix = w.ox - d->pad_left;
        int64_t i0 = iy < 0 ? -iy : 0, i1 = q->hlim - iy;

        s->i0[l] = 0;
        s->i1[l] = 0;
        s->first[l] = x;
        s->cols[l] = _mm256_setzero_si256();
        if (l0 + l >= b->nt)
            continue;
        s->i0[l] = (int)(i0 < a ? i0 : a);
        s->i1[l] = (int)(i1 < a ? (i1 > 0 ? i1 : 0) : a);
        s->cols[l] = col_mask(ix, q->wlim, a);
        s->first[l] = x + (w.n * d->c + b->g * q->cg + c) * d->h * d->w
                      + iy * d->w + ix;
    }
}

/* d[i][j] per lane: each lane loads its tile's rows (masked to the
 * input) and a transpose turns rows into lanes. */
INLINE void load_rows(const wino_geom *q, const lane_src *s, __m256 *d,
                      const int a)
{
    int64_t w = q->d->w;

    for (int i = 0; i < a; i++) {
        __m256 r[WINO_LANES];

        for (int l = 0; l < WINO_LANES; l++)
            r[l] = i >= s->i0[l] && i < s->i1[l]
                   ? _mm256_maskload_ps(s->first[l] + i * w, s->cols[l])
                   : _mm256_setzero_ps();
        transpose8(r);
        for (int j = 0; j < a; j++)
            d[i * a + j] = r[j];
    }
}

/*
 * TODO: find what bounds the transforms (30-55% of the time on layers of
 * 64-128 channels). Not arithmetic, shuffles or stack traffic: dense
 * matrices (60% more FMAs), transposes with a third fewer shuffles, and
 * the row pass kept in registers all measured the same. The loads of x
 * and the stores to V are left; this VM shows no hardware counters.
 */
INLINE void input_tiles(const wino_geom *q, const wino_block *b,
                        int64_t c, const float *x, float *v, const int a)
{
    float *vc = v + c * q->tb;
    lane_src src;

    for (int64_t l0 = 0; l0 < b->nt; l0 += WINO_LANES) {
        __m256 dt[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 t[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
        __m256 o[WINO_ALPHA_MAX * WINO_ALPHA_MAX];

        lane_sources(q, b, c, l0, x, &src);
        load_rows(q, &src, dt, a);

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

/*
 * NOTE: measured against OpenBLAS's cblas_sgemm per point on the same
 * blocks (U laid out [xi][k][c]): SGEMM was 8-17% faster on layers of
 * 64-128 channels and 1.5-1.8x slower on 256-512 channels with few
 * tiles (ResNet res4, res5), where this kernel streams U once with
 * prefetching; overall this kernel is faster.
 * TODO: pick SGEMM per shape for the small-channel layers (about 4% of
 * their time).
 */
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

/* Where each lane writes its tile: the first output and how many rows
 * and columns of the m x m tile lie inside the output (0 rows for lanes
 * past the block). */
typedef struct lane_dst {
    float *first[WINO_LANES];
    int rows[WINO_LANES], cols[WINO_LANES];
} lane_dst;

static void lane_dests(const wino_geom *q, const wino_block *b, int64_t k,
                       int64_t l0, float *y, lane_dst *dst)
{
    const conv_desc *d = q->d;
    wino_walk w;

    wino_walk_start(q, b->t0 + l0, &w);
    for (int l = 0; l < WINO_LANES; l++, wino_walk_next(q, &w)) {
        int64_t plane = w.n * d->k + b->g * q->kg + k;

        dst->rows[l] = l0 + l >= b->nt ? 0 : wino_tile_rows(q, w.oy);
        dst->cols[l] = wino_tile_cols(q, w.ox);
        dst->first[l] = dst->rows[l] == 0 ? y
                        : y + (plane * d->p + w.oy) * d->q + w.ox;
    }
}

/* Lane l's row of m outputs (the rest of r is ignored). */
INLINE void store_row(float *p, __m256 r, int cols, const int m)
{
    __m128 lo = _mm256_castps256_ps128(r);
    float tmp[WINO_LANES];

    if (cols < m) {
        _mm256_storeu_ps(tmp, r);
        memcpy(p, tmp, (size_t)cols * sizeof(float));
    } else if (m == 2) {
        _mm_storel_pi((__m64 *)p, lo);
    } else {
        _mm_storeu_ps(p, lo);
        if (m == 6)
            _mm_storel_pi((__m64 *)(p + 4), _mm256_extractf128_ps(r, 1));
    }
}

/* Y[i][j] per lane into the lanes' tiles: a transpose per output row
 * turns lanes back into tiles' rows. */
INLINE void store_rows(const wino_geom *q, const __m256 *o,
                       const lane_dst *dst, const int m)
{
    for (int i = 0; i < m; i++) {
        __m256 r[WINO_LANES];

        for (int j = 0; j < WINO_LANES; j++)
            r[j] = j < m ? o[i * m + j] : _mm256_setzero_ps();
        transpose8(r);
        for (int l = 0; l < WINO_LANES; l++)
            if (i < dst->rows[l])
                store_row(dst->first[l] + i * q->d->q, r[l], dst->cols[l],
                          m);
    }
}

/* NOTE: with few input channels per group (VGG conv1_1, C = 3) this
 * phase's cost per output does not shrink with C, and it was three
 * quarters of the time; such layers take the fused path below. */
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
        lane_dst dst;

        for (int xi = 0; xi < a * a; xi++)
            dt[xi] = _mm256_loadu_ps(mk + xi * q->tb + l0);

        /* T = A^T M (m x alpha), then Y = T A (m x m), then the bias. */
        apply(&q->at, dt, a, 1, t, a, 1, a);
        apply(&q->at, t, 1, a, o, 1, m, m);
        for (int i = 0; i < m * m; i++)
            o[i] = _mm256_add_ps(o[i], bv);
        lane_dests(q, b, k, l0, y, &dst);
        store_rows(q, o, &dst, m);
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

/* ---- The fused path (few input channels) ----------------------------- */

/*
 * The tile of lane l in its lane group. For m = 2 and 4 the lanes hold
 * the tiles in the order that lets fused_store_row interleave them
 * without crossing the vectors' 128-bit halves (low half: tiles 0, 2, 4,
 * 6 for m = 4); for m = 6 in order.
 */
INLINE int fused_lane_tile(int l, const int m)
{
    if (m == 4)
        return l % 4 * 2 + l / 4;
    if (m == 2)
        return (l & 1) + (l >> 2 & 1) * 2 + (l >> 1 & 1) * 4;
    return l;
}

/*
 * Lane group gx of span s, channel c: lane l reads the alpha x alpha
 * tile from column fused_lane_tile(l)*m of the input rows the tile row
 * covers (8 floats per lane and row; a transpose turns them into lanes),
 * or, where that would leave the readable input, from a zero-padded copy
 * of the row.
 */
INLINE void fused_gather(const wino_geom *q, const wino_span *s, int64_t gx,
                         int64_t c, const float *x, __m256 *dt, const int a,
                         const int m)
{
    const conv_desc *d = q->d;
    float patch[WINO_LANES * 6 + WINO_LANES];
    int64_t iy = q->oy0 + s->ty * m - d->pad_top;
    int64_t ix = q->ox0 + (s->tx0 + gx * WINO_LANES) * m - d->pad_left;
    int64_t lo = ix < 0 ? -ix : 0, hi = q->wlim - ix;
    int inside = lo == 0 && hi >= 7 * m + WINO_LANES;
    const float *xc = x + (s->n * d->c + s->g * q->cg + c) * d->h * d->w;

    hi = hi < 8 * m + 2 ? hi : 8 * m + 2;
    for (int i = 0; i < a; i++) {
        __m256 r[WINO_LANES];
        const float *src;

        if (iy + i < 0 || iy + i >= q->hlim || hi <= lo) {
            for (int j = 0; j < a; j++)
                dt[i * a + j] = _mm256_setzero_ps();
            continue;
        }
        src = xc + (iy + i) * d->w + ix;
        if (!inside) {
            memset(patch, 0, sizeof patch);
            memcpy(&patch[lo], src + lo, (size_t)(hi - lo) * sizeof(float));
            src = patch;
        }
        for (int l = 0; l < WINO_LANES; l++)
            r[l] = _mm256_loadu_ps(src + fused_lane_tile(l, m) * m);
        transpose8(r);
        for (int j = 0; j < a; j++)
            dt[i * a + j] = r[j];
    }
}

/*
 * y[r*ys] = (B^T x)[r] for r < alpha from x[c*xs] through the paired
 * shape of B^T (wino_pair_coefficients; cb: B^T broadcast).
 */
INLINE void bt_pairs(const __m256 *x, int xs, __m256 *y, int ys,
                     const __m256 cb[][WINO_ALPHA_MAX], const int a)
{
    __m256 acc = _mm256_mul_ps(cb[0][0], x[0]);

    for (int c = 2; c < a - 1; c += 2)
        acc = _mm256_fmadd_ps(cb[0][c], x[c * xs], acc);
    y[0] = acc;
    for (int r = 1; r < a - 1; r += 2) {
        __m256 e = _mm256_mul_ps(cb[r][2], x[2 * xs]);
        __m256 o = _mm256_mul_ps(cb[r][1], x[xs]);

        for (int c = 4; c < a - 1; c += 2)
            e = _mm256_fmadd_ps(cb[r][c], x[c * xs], e);
        for (int c = 3; c < a - 1; c += 2)
            o = _mm256_fmadd_ps(cb[r][c], x[c * xs], o);
        y[r * ys] = _mm256_add_ps(e, o);
        y[(r + 1) * ys] = _mm256_sub_ps(e, o);
    }
    acc = x[(a - 1) * xs];
    for (int c = 1; c < a - 1; c += 2)
        acc = _mm256_fmadd_ps(cb[a - 1][c], x[c * xs], acc);
    y[(a - 1) * ys] = acc;
}

INLINE void fused_input_tiles(const wino_geom *q, const wino_span *s,
                              const float *x, float *v, const int a,
                              const int m)
{
    __m256 cb[WINO_ALPHA_MAX][WINO_ALPHA_MAX];

    for (int r = 0; r < a; r++)
        for (int c = 0; c < a; c++)
            cb[r][c] = _mm256_set1_ps(q->bt_dense[r][c]);
    for (int64_t gx = 0; gx * WINO_LANES < s->ntx; gx++)
        for (int64_t c = 0; c < q->cg; c++) {
            __m256 dt[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
            __m256 t[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
            __m256 o[WINO_ALPHA_MAX * WINO_ALPHA_MAX];
            float *vc = v + (gx * q->cg + c) * q->npts * WINO_LANES;

            /* T = B^T D by columns, then V = T B by rows. */
            fused_gather(q, s, gx, c, x, dt, a, m);
            for (int j = 0; j < a; j++)
                bt_pairs(dt + j, a, t + j, a, cb, a);
            for (int i = 0; i < a; i++)
                bt_pairs(t + i * a, 1, o + i * a, 1, cb, a);
            for (int xi = 0; xi < a * a; xi++)
                _mm256_storeu_ps(vc + xi * WINO_LANES, o[xi]);
        }
}

static void fused_input_avx2(const wino_geom *q, const wino_span *s,
                             const float *x, float *v)
{
    if (q->m == 2)
        fused_input_tiles(q, s, x, v, 4, 2);
    else if (q->m == 4)
        fused_input_tiles(q, s, x, v, 6, 4);
    else
        fused_input_tiles(q, s, x, v, 8, 6);
}

/* out[0..m) = the lanes' rows interleaved (lane l of y[j]: column j of
 * tile fused_lane_tile(l)), out[i] the outputs 8*i to 8*i + 7 of the
 * row: unpacks and shuffles inside the 128-bit halves (8 per row for
 * m = 4, where a full transpose took 12). */
INLINE void interleave(const __m256 *y, __m256 *out, const int m)
{
    __m256 lo = _mm256_unpacklo_ps(y[0], y[1]);
    __m256 hi = _mm256_unpackhi_ps(y[0], y[1]);

    if (m == 2) {
        out[0] = lo;
        out[1] = hi;
    } else {
        __m256 lo2 = _mm256_unpacklo_ps(y[2], y[3]);
        __m256 hi2 = _mm256_unpackhi_ps(y[2], y[3]);

        out[0] = _mm256_shuffle_ps(lo, lo2, _MM_SHUFFLE(1, 0, 1, 0));
        out[1] = _mm256_shuffle_ps(lo, lo2, _MM_SHUFFLE(3, 2, 3, 2));
        out[2] = _mm256_shuffle_ps(hi, hi2, _MM_SHUFFLE(1, 0, 1, 0));
        out[3] = _mm256_shuffle_ps(hi, hi2, _MM_SHUFFLE(3, 2, 3, 2));
    }
}

/*
 * A row of a lane group's tiles, o[j] per lane, to the `cols` outputs
 * from p: lane l's m values go to p + fused_lane_tile(l)*m. F(6x6) goes
 * through a transpose, a row of 6 per lane. `stream`: the row is whole
 * and 32-byte aligned, and goes out in streaming stores.
 */
INLINE void fused_store_row(const __m256 *o, float *p, int64_t cols,
                            int stream, const int m)
{
    __m256 r[WINO_LANES];
    float stage[WINO_LANES * 6 + WINO_LANES];
    int full = cols == WINO_LANES * m;
    float *dst = full ? p : stage;

    if (m == 6) {
        for (int j = 0; j < WINO_LANES; j++)
            r[j] = j < m ? o[j] : _mm256_setzero_ps();
        transpose8(r);
        for (int l = 0; l < WINO_LANES; l++)
            if (full)
                store_row(dst + l * m, r[l], m, m);
            else
                _mm256_storeu_ps(dst + l * m, r[l]);
    } else {
        interleave(o, r, m);
        for (int j = 0; j < m; j++)
            if (stream)
                _mm256_stream_ps(dst + j * WINO_LANES, r[j]);
            else
                _mm256_storeu_ps(dst + j * WINO_LANES, r[j]);
    }
    if (!full)
        memcpy(p, stage, (size_t)cols * sizeof(float));
}

/*
 * y[i*ys] = (A^T x)[i] for i < m from x[j*xs], j < alpha, through the
 * pair sums and differences (c[i][k]: wino_geom.at_pair, broadcast).
 * Only row 0 reads x[0] and only row m-1 reads x[alpha-1] (A^T's columns
 * of points 0 and infinity are (1, 0, ..., 0) and (0, ..., 0, 1)), so
 * those rows start their sums at them and x[0], x[alpha-1] must carry
 * b there themselves; the rows between start at b. That saves the add
 * of x[alpha-1] (12 operations for m = 4, where 13 were).
 */
INLINE void at_pairs(const __m256 *x, int xs, __m256 *y, int ys,
                     const __m256 c[][3], __m256 b, const int a,
                     const int m)
{
    const int np = (a - 2) / 2;
    __m256 sum[3], dif[3];

    for (int k = 0; k < np; k++) {
        sum[k] = _mm256_add_ps(x[(2 * k + 1) * xs], x[(2 * k + 2) * xs]);
        dif[k] = _mm256_sub_ps(x[(2 * k + 1) * xs], x[(2 * k + 2) * xs]);
    }
    for (int i = 0; i < m; i++) {
        const __m256 *pr = i % 2 ? dif : sum;
        __m256 acc;

        if (i == 0)
            acc = _mm256_add_ps(x[0], pr[0]);
        else
            acc = _mm256_fmadd_ps(c[i][0], pr[0],
                                  i == m - 1 ? x[(a - 1) * xs] : b);
        for (int k = 1; k < np; k++)
            acc = i == 0 ? _mm256_add_ps(acc, pr[k])
                         : _mm256_fmadd_ps(c[i][k], pr[k], acc);
        y[i * ys] = acc;
    }
}

/*
 * The fused output works on two jobs at once, each one lane group and
 * one output channel: two lane groups of a channel (they share U's
 * broadcasts) or, for a span's odd lane group, one lane group for two
 * channels (they share V's loads); a lone job where neither pairs.
 */
enum { FUSED_GROUPS, FUSED_CHANNELS, FUSED_ONE };

/* One job: where its operands are and where its tile row goes. */
typedef struct fused_job {
    const float *v;             /* V of the lane group: [c][xi][8] */
    const float *u;             /* U of the output channel: [xi][c] */
    float *y;                   /* the tiles' first output */
    float *pf;                  /* the place to prefetch for writing */
    int stream;                 /* rows go out in streaming stores */
    int64_t cols;               /* live outputs of each row from y */
    __m256 b;                   /* the channel's bias */
} fused_job;

/*
 * Column j of T = A^T M for the jobs: the column's M summed over the nc
 * channels in registers, then its A^T pass into t[s*a*a + i*a + j] for
 * job s. Columns 0 and alpha-1 get the bias in every row (M's points 0
 * and alpha-1 of the column start at it, at_pairs adds it to the rows
 * between); the others get 0.
 */
INLINE void fused_column(const fused_job *jb, const __m256 c[][3],
                         __m256 *t, int j, const int a, const int m,
                         const int nc, const int mode)
{
    const int nj = mode == FUSED_ONE ? 1 : 2;
    __m256 col[2][WINO_ALPHA_MAX], b[2];

    for (int s = 0; s < nj; s++)
        b[s] = j == 0 || j == a - 1 ? jb[s].b : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < a; i++) {
        int xi = i * a + j;

#pragma GCC unroll 8
        for (int ch = 0; ch < nc; ch++) {
            size_t ou = (size_t)(xi * nc + ch);
            size_t ov = (size_t)(ch * a * a + xi) * WINO_LANES;
            __m256 w[2], p[2];

            w[0] = _mm256_broadcast_ss(jb[0].u + ou);
            p[0] = _mm256_loadu_ps(jb[0].v + ov);
            w[1] = mode == FUSED_CHANNELS
                   ? _mm256_broadcast_ss(jb[1].u + ou) : w[0];
            p[1] = mode == FUSED_GROUPS
                   ? _mm256_loadu_ps(jb[1].v + ov) : p[0];
            for (int s = 0; s < nj; s++)
                if (ch > 0)
                    col[s][i] = _mm256_fmadd_ps(w[s], p[s], col[s][i]);
                else if (i == 0 || i == a - 1)
                    col[s][i] = _mm256_fmadd_ps(w[s], p[s], b[s]);
                else
                    col[s][i] = _mm256_mul_ps(w[s], p[s]);
        }
    }
    for (int s = 0; s < nj; s++)
        at_pairs(col[s], 1, t + s * a * a + j, a, c, b[s], a, m);
}

/*
 * Y = T A + b for the jobs, a row at a time, each row stored as it is
 * made (rows [0, rows) of the tiles, ldy floats apart). The bias costs
 * no operation: T's columns 0 and alpha-1 carry it into Y's columns 0
 * and m-1, the others start their sums at it.
 */
INLINE void fused_rows(const fused_job *jb, const __m256 *t,
                       const __m256 c[][3], int64_t rows, int64_t ldy,
                       const int a, const int m, const int mode)
{
    const int nj = mode == FUSED_ONE ? 1 : 2;

    for (int i = 0; i < m && i < rows; i++)
        for (int s = 0; s < nj; s++) {
            __m256 o[WINO_ALPHA_MAX];

            at_pairs(t + s * a * a + i * a, 1, o, 1, c, jb[s].b, a, m);
            fused_store_row(o, jb[s].y + i * ldy, jb[s].cols,
                            jb[s].stream, m);
        }
}

/*
 * The jobs: products, both transforms, the bias, the stores. Rows that
 * cover whole cache lines go out in streaming stores (fused_stream):
 * on VGG conv1_1 (Xeon Emerald Rapids, 1 thread) sending them to an L1
 * buffer instead was only 3-5% faster, so the 12.8 MB of y is hidden.
 * The writes of other jobs' rows are asked for (two planes on) after
 * the column pass: asked for before it they slowed its loads, after
 * each row's stores they came too late (both 4-10% slower on a Zen 4).
 * TODO: on conv1_1 the column pass bounds this path (with the row pass
 * and the stores taken out it ran no faster): per job (8 tiles, one
 * output channel) 108 product FMAs and 72 of the transforms' 120 FP
 * operations, about 160 cycles a job where two FP ports allow ~115.
 * Not the loads here: without U's broadcasts it ran 2-3% faster (27% on
 * the Zen 4, which was load-bound); one register per A^T coefficient
 * shared by both jobs (not a load folded into each FMA) ran 6% slower,
 * the column loop unrolled 18% slower; spans of 16-32 tiles (V of 7-14
 * KiB, not 24) ran the same. What is left is fewer FP operations per
 * output, which the tile sizes barely change (counted per output of a
 * tile, each operation on 8 tiles, at C = 3: F(4x4) 14.3, F(6x6) 14.7,
 * F(4x6) 14.0, F(2x2) 18.0).
 */
INLINE void fused_jobs(const fused_job *jb, const __m256 c[][3],
                       int64_t rows, int64_t ldy, const int a, const int m,
                       const int nc, const int mode)
{
    __m256 t[2 * WINO_ALPHA_MAX * WINO_ALPHA_MAX];

    for (int j = 0; j < a; j++)
        fused_column(jb, c, t, j, a, m, nc, mode);
    for (int s = 0; s < (mode == FUSED_ONE ? 1 : 2); s++)
        for (int i = 0; i < m && i < rows; i++)
            for (int f = 0; f < WINO_LANES * m; f += 16)
                if (!jb[s].stream && f < jb[s].cols)
                    __builtin_prefetch(jb[s].pf + i * ldy + f, 1, 3);
    fused_rows(jb, t, c, rows, ldy, a, m, mode);
}

/* Where the output transform of span s writes: its tile row's first
 * output in plane 0 of the group, plane by plane, and the rows. */
typedef struct fused_out {
    float *y0;
    int64_t plane, rows;
} fused_out;

/*
 * Whether a job's rows go out in streaming stores: where each row is
 * whole and covers whole cache lines (64-byte aligned rows of 8*m
 * floats, m = 2 or 4). Partial lines would make them far slower: rows
 * 16 bytes off a line ran 3.5x slower than plain stores on VGG conv1_1.
 */
INLINE int fused_stream(const float *y, int64_t ldy, int64_t cols,
                        const int m)
{
    uintptr_t at = (uintptr_t)y | (uintptr_t)ldy * sizeof(float);

    return m < 6 && cols == WINO_LANES * m && at % 64 == 0;
}

/* Job of lane group gx of span s, channel k of its group. */
INLINE fused_job fused_job_at(const wino_geom *q, const wino_span *s,
                              const fused_out *fo, const float *u,
                              const float *v, const float *bias,
                              int64_t gx, int64_t k, const int a,
                              const int m, const int nc)
{
    int64_t ox = q->ox0 + (s->tx0 + gx * WINO_LANES) * m;
    int64_t lanes = s->ntx - gx * WINO_LANES, cols = q->ox1 - ox;
    int64_t ahead = k + 2 < q->kg ? 2 * fo->plane : 0;
    fused_job jb;

    lanes = lanes < WINO_LANES ? lanes : WINO_LANES;
    jb.cols = cols < lanes * m ? cols : lanes * m;
    jb.v = v + gx * nc * a * a * WINO_LANES;
    jb.u = u + k * a * a * nc;
    jb.y = fo->y0 + k * fo->plane + ox;
    jb.pf = jb.y + ahead;
    jb.stream = fused_stream(jb.y, q->d->q, jb.cols, m);
    jb.b = _mm256_set1_ps(bias[s->g * q->kg + k]);
    return jb;
}

/*
 * Output channels in pairs; for each, its lane groups in pairs, then an
 * odd one for both channels of the pair. Each job not streamed asks for
 * the place it writes two planes on (the next pair's), where the stores
 * miss; the streaming stores are fenced once the span is done.
 */
INLINE void fused_output_tiles(const wino_geom *q, const wino_span *s,
                               const float *u, const float *v,
                               const float *bias, float *y, const int a,
                               const int m, const int nc)
{
    const conv_desc *d = q->d;
    int64_t oy = q->oy0 + s->ty * m;
    int64_t ngx = (s->ntx + WINO_LANES - 1) / WINO_LANES;
    int64_t odd = ngx % 2 ? ngx - 1 : -1;
    __m256 c[WINO_ALPHA_MAX][3];
    fused_out fo;

    fo.plane = d->p * d->q;
    fo.rows = wino_tile_rows(q, oy);
    fo.y0 = y + ((s->n * d->k + s->g * q->kg) * d->p + oy) * d->q;
    for (int i = 0; i < m; i++)
        for (int k = 0; k < (a - 2) / 2; k++)
            c[i][k] = _mm256_set1_ps(q->at_pair[i][k]);
    for (int64_t k = 0; k < q->kg; k += 2) {
        int64_t nk = k + 1 < q->kg ? 2 : 1;
        fused_job jb[2];

        for (int64_t kk = k; kk < k + nk; kk++)
            for (int64_t gx = 0; gx + 1 < ngx; gx += 2) {
                jb[0] = fused_job_at(q, s, &fo, u, v, bias, gx, kk, a, m,
                                     nc);
                jb[1] = fused_job_at(q, s, &fo, u, v, bias, gx + 1, kk, a,
                                     m, nc);
                fused_jobs(jb, c, fo.rows, d->q, a, m, nc,
                           FUSED_GROUPS);
            }
        if (odd < 0)
            continue;
        for (int64_t kk = 0; kk < nk; kk++)
            jb[kk] = fused_job_at(q, s, &fo, u, v, bias, odd, k + kk, a,
                                  m, nc);
        if (nk == 2)
            fused_jobs(jb, c, fo.rows, d->q, a, m, nc, FUSED_CHANNELS);
        else
            fused_jobs(jb, c, fo.rows, d->q, a, m, nc, FUSED_ONE);
    }
    _mm_sfence();
}

/* The channel count is a constant in each instance, so the products'
 * loop unrolls into the column pass. */
INLINE void fused_output_m(const wino_geom *q, const wino_span *s,
                           const float *u, const float *v,
                           const float *bias, float *y, const int a,
                           const int m)
{
    switch (q->cg) {
    case 1: fused_output_tiles(q, s, u, v, bias, y, a, m, 1); break;
    case 2: fused_output_tiles(q, s, u, v, bias, y, a, m, 2); break;
    case 3: fused_output_tiles(q, s, u, v, bias, y, a, m, 3); break;
    case 4: fused_output_tiles(q, s, u, v, bias, y, a, m, 4); break;
    case 5: fused_output_tiles(q, s, u, v, bias, y, a, m, 5); break;
    case 6: fused_output_tiles(q, s, u, v, bias, y, a, m, 6); break;
    case 7: fused_output_tiles(q, s, u, v, bias, y, a, m, 7); break;
    default: fused_output_tiles(q, s, u, v, bias, y, a, m, 8); break;
    }
}

static void fused_output_avx2(const wino_geom *q, const wino_span *s,
                              const float *u, const float *v,
                              const float *bias, float *y)
{
    assert(q->cg >= 1 && q->cg <= WINO_FUSED_MAX_C);
    if (q->m == 2)
        fused_output_m(q, s, u, v, bias, y, 4, 2);
    else if (q->m == 4)
        fused_output_m(q, s, u, v, bias, y, 6, 4);
    else
        fused_output_m(q, s, u, v, bias, y, 8, 6);
}

const wino_kernels wino_kernels_avx2 = {
    input_avx2, multiply_avx2, output_avx2, fused_input_avx2,
    fused_output_avx2,
};
