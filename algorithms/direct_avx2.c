/*
 * The direct family's AVX2 + FMA kernels (built with -mavx2 -mfma; chosen
 * at run time). Layouts and the tile contract are in direct.h.
 *
 * A tile keeps nb * px <= 12 accumulators in ymm registers, each the 8
 * output channels of one oc block at one pixel. Per input channel it
 * broadcasts px input values and loads nb weight vectors, so a 4x3 tile
 * does 12 FMAs for 7 loads. Every shape is its own function, compiled
 * from one inline body with constant nb and px, so that the compiler
 * unrolls the pixel and block loops and keeps the accumulators in
 * registers.
 *
 * NOTE: the `#pragma GCC unroll` on every small loop is what keeps them
 * there. Unrolled only late (after scalar replacement), GCC 12 leaves
 * the accumulator array in memory and stores all 12 after every input
 * channel: 62 instead of 93 GFLOP/s on conv1's 3-channel steps.
 */
#include "direct.h"

#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

/* acc[ob][j] += w[ob] * x[j][0] for one input channel. */
INLINE void channel_step(__m256 *acc, const float *const *x,
                         const float *w, const int nb, const int px)
{
    /* Broadcasts first when all of them and the accumulators fit the 16
     * registers with one weight vector; else weights first. */
    if (nb * px + px + 1 <= 16) {
        __m256 b[DIRECT_MAX_PX];

        #pragma GCC unroll 12
        for (int j = 0; j < px; j++)
            b[j] = _mm256_broadcast_ss(x[j]);
        #pragma GCC unroll 12
        for (int ob = 0; ob < nb; ob++) {
            __m256 wv = _mm256_loadu_ps(w + ob * DIRECT_LANES);

            #pragma GCC unroll 12
            for (int j = 0; j < px; j++)
                acc[ob * px + j] = _mm256_fmadd_ps(wv, b[j],
                                                   acc[ob * px + j]);
        }
    } else {
        __m256 wv[DIRECT_MAX_NB];

        #pragma GCC unroll 12
        for (int ob = 0; ob < nb; ob++)
            wv[ob] = _mm256_loadu_ps(w + ob * DIRECT_LANES);
        #pragma GCC unroll 12
        for (int j = 0; j < px; j++) {
            __m256 b = _mm256_broadcast_ss(x[j]);

            #pragma GCC unroll 12
            for (int ob = 0; ob < nb; ob++)
                acc[ob * px + j] = _mm256_fmadd_ps(wv[ob], b,
                                                   acc[ob * px + j]);
        }
    }
}

/*
 * Every channel block and kernel tap as one flat loop: with nested loops
 * GCC spills the 12 accumulators around each inner loop. The pixel and
 * weight pointers step to the next column tap, and at the end of a kernel
 * row or of a block jump by the differences the caller set in the tile.
 * nic channels a step: 8, or the tail.
 */
INLINE void taps(__m256 *acc, const direct_tile *t, const float **xp,
                 const float **wp, const char **pfp, int64_t steps,
                 const int nic, const int nb, const int px)
{
    const float *w = *wp;
    const char *pf = *pfp;
    const ptrdiff_t w_s = (ptrdiff_t)64 * nb;
    int r = 0, s = 0;

    for (int64_t k = 0; k < steps; k++) {
        ptrdiff_t jump = t->x_s;

        _mm_prefetch(pf, _MM_HINT_T1);
        pf += t->pf_step;

        #pragma GCC unroll 8
        for (int i = 0; i < nic; i++) {
            const float *xi[DIRECT_MAX_PX];

            #pragma GCC unroll 12
            for (int j = 0; j < px; j++)
                xi[j] = xp[j] + i;
            channel_step(acc, xi, w + i * 8 * nb, nb, px);
        }
        w += w_s;
        if (++s == t->ns) {
            s = 0;
            jump += t->x_row;
            w += t->w_row;
            if (++r == t->nr) {
                r = 0;
                jump += t->x_blk;
                w += t->w_blk;
            }
        }
        #pragma GCC unroll 12
        for (int j = 0; j < px; j++)
            xp[j] += jump;
    }
    *wp = w;
    *pfp = pf;
}

/* The partial channel block of a full tile with the channel count a
 * constant: a loop over a variable count costs a dispatch and pointer
 * bumps per channel, which layers with 3 input channels (conv1) feel.
 * Edge tiles are rare enough for the variable loop. */
INLINE void tail_taps(__m256 *acc, const direct_tile *t, const float **xp,
                      const float **wp, const char **pf, int64_t steps,
                      const int nb, const int px)
{
    switch (t->tail) {
    case 1: taps(acc, t, xp, wp, pf, steps, 1, nb, px); break;
    case 2: taps(acc, t, xp, wp, pf, steps, 2, nb, px); break;
    case 3: taps(acc, t, xp, wp, pf, steps, 3, nb, px); break;
    case 4: taps(acc, t, xp, wp, pf, steps, 4, nb, px); break;
    case 5: taps(acc, t, xp, wp, pf, steps, 5, nb, px); break;
    case 6: taps(acc, t, xp, wp, pf, steps, 6, nb, px); break;
    default: taps(acc, t, xp, wp, pf, steps, 7, nb, px); break;
    }
}

INLINE void tile_body(const direct_tile *t, const float *x, float *y,
                      const char **pf, const int nb, const int px)
{
    const int64_t per_block = (int64_t)t->nr * t->ns;
    const float *w = t->w, *xp[DIRECT_MAX_PX];
    __m256 acc[DIRECT_ACCS];

    /* One pointer per pixel, so that every broadcast is pointer plus a
     * constant. */
    #pragma GCC unroll 12
    for (int j = 0; j < px; j++)
        xp[j] = x + j * t->x_px;

    #pragma GCC unroll 12
    for (int ob = 0; ob < nb; ob++)
        #pragma GCC unroll 12
        for (int j = 0; j < px; j++)
            acc[ob * px + j] = t->bias
                ? _mm256_loadu_ps(t->bias + ob * DIRECT_LANES)
                : _mm256_loadu_ps(y + ob * t->y_ob + j * t->y_px);

    taps(acc, t, xp, &w, pf, t->n_cb * per_block, DIRECT_LANES, nb, px);
    if (t->tail > 0 && nb * px == DIRECT_ACCS)
        tail_taps(acc, t, xp, &w, pf, per_block, nb, px);
    else if (t->tail > 0)
        taps(acc, t, xp, &w, pf, per_block, t->tail, nb, px);

    #pragma GCC unroll 12
    for (int ob = 0; ob < nb; ob++)
        #pragma GCC unroll 12
        for (int j = 0; j < px; j++)
            _mm256_storeu_ps(y + ob * t->y_ob + j * t->y_px,
                             acc[ob * px + j]);
}

/* The t->tiles tiles of a run, one after the other. */
INLINE void run_body(const direct_tile *t, const int nb, const int px)
{
    const char *pf = t->pf;

    for (int k = 0; k < t->tiles; k++)
        tile_body(t, t->x + k * px * t->x_px, t->y + k * px * t->y_px, &pf,
                  nb, px);
}

/* One function per tile shape, [nb - 1][px - 1]. */
static void t1x1(const direct_tile *t) { run_body(t, 1, 1); }
static void t1x2(const direct_tile *t) { run_body(t, 1, 2); }
static void t1x3(const direct_tile *t) { run_body(t, 1, 3); }
static void t1x4(const direct_tile *t) { run_body(t, 1, 4); }
static void t1x5(const direct_tile *t) { run_body(t, 1, 5); }
static void t1x6(const direct_tile *t) { run_body(t, 1, 6); }
static void t1x7(const direct_tile *t) { run_body(t, 1, 7); }
static void t1x8(const direct_tile *t) { run_body(t, 1, 8); }
static void t1x9(const direct_tile *t) { run_body(t, 1, 9); }
static void t1x10(const direct_tile *t) { run_body(t, 1, 10); }
static void t1x11(const direct_tile *t) { run_body(t, 1, 11); }
static void t1x12(const direct_tile *t) { run_body(t, 1, 12); }
static void t2x1(const direct_tile *t) { run_body(t, 2, 1); }
static void t2x2(const direct_tile *t) { run_body(t, 2, 2); }
static void t2x3(const direct_tile *t) { run_body(t, 2, 3); }
static void t2x4(const direct_tile *t) { run_body(t, 2, 4); }
static void t2x5(const direct_tile *t) { run_body(t, 2, 5); }
static void t2x6(const direct_tile *t) { run_body(t, 2, 6); }
static void t3x1(const direct_tile *t) { run_body(t, 3, 1); }
static void t3x2(const direct_tile *t) { run_body(t, 3, 2); }
static void t3x3(const direct_tile *t) { run_body(t, 3, 3); }
static void t3x4(const direct_tile *t) { run_body(t, 3, 4); }
static void t4x1(const direct_tile *t) { run_body(t, 4, 1); }
static void t4x2(const direct_tile *t) { run_body(t, 4, 2); }
static void t4x3(const direct_tile *t) { run_body(t, 4, 3); }

typedef void (*tile_fn)(const direct_tile *t);

static const tile_fn tiles[DIRECT_MAX_NB][DIRECT_MAX_PX] = {
    {t1x1, t1x2, t1x3, t1x4, t1x5, t1x6, t1x7, t1x8, t1x9, t1x10, t1x11,
     t1x12},
    {t2x1, t2x2, t2x3, t2x4, t2x5, t2x6},
    {t3x1, t3x2, t3x3, t3x4},
    {t4x1, t4x2, t4x3},
};

static void tile_avx2(const direct_tile *t)
{
    tiles[t->nb - 1][t->px - 1](t);
}

/*
 * Depthwise: acc[j] += w[tap] * x[j][tap], lane by lane; the taps walk
 * as in taps(), one block.
 * TODO: depthwise layers that the NCHW path (direct_dw.c) does not take,
 * stride 2 or rows under 32, run at 0.2-0.45x onednn on mobilenet_v1:
 * with 9 multiply-adds per output the transposes from and to NCHW
 * dominate.
 */
INLINE void dw_body(const direct_tile *t, const float *x, float *y,
                    const int px)
{
    const float *w = t->w;
    __m256 acc[DIRECT_MAX_PX];

    #pragma GCC unroll 12
    for (int j = 0; j < px; j++)
        acc[j] = t->bias ? _mm256_loadu_ps(t->bias)
                         : _mm256_loadu_ps(y + j * t->y_px);

    for (int r = 0; r < t->nr; r++) {
        for (int s = 0; s < t->ns; s++) {
            __m256 wv = _mm256_loadu_ps(w);

            #pragma GCC unroll 12
            for (int j = 0; j < px; j++)
                acc[j] = _mm256_fmadd_ps(
                    wv, _mm256_loadu_ps(x + j * t->x_px), acc[j]);
            x += t->x_s;
            w += DIRECT_LANES;
        }
        x += t->x_row;
        w += t->w_row;
    }

    #pragma GCC unroll 12
    for (int j = 0; j < px; j++)
        _mm256_storeu_ps(y + j * t->y_px, acc[j]);
}

INLINE void dw_run(const direct_tile *t, const int px)
{
    for (int k = 0; k < t->tiles; k++)
        dw_body(t, t->x + k * px * t->x_px, t->y + k * px * t->y_px, px);
}

static void d1(const direct_tile *t) { dw_run(t, 1); }
static void d2(const direct_tile *t) { dw_run(t, 2); }
static void d3(const direct_tile *t) { dw_run(t, 3); }
static void d4(const direct_tile *t) { dw_run(t, 4); }
static void d5(const direct_tile *t) { dw_run(t, 5); }
static void d6(const direct_tile *t) { dw_run(t, 6); }
static void d7(const direct_tile *t) { dw_run(t, 7); }
static void d8(const direct_tile *t) { dw_run(t, 8); }
static void d9(const direct_tile *t) { dw_run(t, 9); }
static void d10(const direct_tile *t) { dw_run(t, 10); }
static void d11(const direct_tile *t) { dw_run(t, 11); }
static void d12(const direct_tile *t) { dw_run(t, 12); }

static const tile_fn dw_tiles[DIRECT_MAX_PX] = {
    d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12,
};

static void dw_tile_avx2(const direct_tile *t)
{
    dw_tiles[t->px - 1](t);
}

/* In-register transpose of the 8x8 block r[0..7] (rows become columns). */
static inline void transpose8(__m256 r[8])
{
    __m256 a[8], b[8];

    for (int i = 0; i < 8; i += 2) {
        a[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        a[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        b[i] = _mm256_shuffle_ps(a[i], a[i + 2], 0x44);
        b[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], 0xee);
        b[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0x44);
        b[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x31);
    }
}

/* src[0, 8 * step) as the 8 values src[0], src[step], ...: a load for
 * step 1, two loads and the even lanes for step 2. */
static inline __m256 load_step(const float *src, ptrdiff_t step)
{
    __m256 lo, hi;

    if (step == 1)
        return _mm256_loadu_ps(src);
    lo = _mm256_loadu_ps(src);
    hi = _mm256_loadu_ps(src + 8);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
}

/* Pixels [i, i + 8) of pack8_avx2(). */
static inline void pack8_block(const float *const src[DIRECT_LANES],
                               ptrdiff_t step, float *dst, ptrdiff_t i)
{
    __m256 r[8];

    for (int l = 0; l < 8; l++)
        r[l] = src[l] != NULL ? load_step(src[l] + i * step, step)
                              : _mm256_setzero_ps();
    transpose8(r);
    for (int k = 0; k < 8; k++)
        _mm256_storeu_ps(dst + (i + k) * DIRECT_LANES, r[k]);
}

static void pack8_avx2(const float *const src[DIRECT_LANES], ptrdiff_t step,
                       float *dst, ptrdiff_t n)
{
    /* With step 2 the last vector must not read past src[(n - 1) * 2]. */
    ptrdiff_t i = 0, vec = step == 1 ? n : step == 2 ? n - 1 : 0;

    for (; i + 8 <= vec; i += 8)
        pack8_block(src, step, dst, i);
    /* A last vector overlapping the one before (same values twice)
     * instead of up to 7 pixels a lane in scalar code. */
    if (i < vec && vec >= 8) {
        pack8_block(src, step, dst, vec - 8);
        i = vec;
    }
    if (i < n) {
        const float *rest[DIRECT_LANES];

        for (int l = 0; l < DIRECT_LANES; l++)
            rest[l] = src[l] != NULL ? src[l] + i * step : NULL;
        direct_isa_c.pack8(rest, step, dst + i * DIRECT_LANES, n - i);
    }
}

/* Pixels [i, i + 8) of unpack8_avx2(). */
static inline void unpack8_block(const float *src,
                                 float *const dst[DIRECT_LANES], ptrdiff_t i)
{
    __m256 r[8];

    for (int k = 0; k < 8; k++)
        r[k] = _mm256_loadu_ps(src + (i + k) * DIRECT_LANES);
    transpose8(r);
    for (int l = 0; l < 8; l++)
        if (dst[l] != NULL)
            _mm256_storeu_ps(dst[l] + i, r[l]);
}

static void unpack8_avx2(const float *src, float *const dst[DIRECT_LANES],
                         ptrdiff_t n)
{
    ptrdiff_t i = 0;

    for (; i + 8 <= n; i += 8)
        unpack8_block(src, dst, i);
    /* As in pack8_avx2(): an overlapping last vector. */
    if (i < n && n >= 8) {
        unpack8_block(src, dst, n - 8);
        i = n;
    }
    if (i < n) {
        float *rest[DIRECT_LANES];

        for (int l = 0; l < DIRECT_LANES; l++)
            rest[l] = dst[l] != NULL ? dst[l] + i : NULL;
        direct_isa_c.unpack8(src + i * DIRECT_LANES, rest, n - i);
    }
}

const direct_isa direct_isa_avx2 = {
    .name = "avx2",
    .tile = tile_avx2,
    .dw_tile = dw_tile_avx2,
    .pack8 = pack8_avx2,
    .unpack8 = unpack8_avx2,
    .rows = direct_rows_avx2,
    .dw_plane = direct_dw_plane_avx2,
};
