/*
 * The direct family's portable C kernels, for CPUs without AVX2 + FMA
 * (and for tests: CONVBENCH_NO_AVX2, direct_choose_isa()). The same
 * walks and summation order per output as direct_avx2.c, lane by lane,
 * so both give the same bits wherever fp32 sums are exact. Layouts and
 * the tile contract are in direct.h.
 */
#include "direct.h"

#include <stddef.h>
#include <stdint.h>

/* acc[j][l] += w[l] * x[j * x_px] for px pixels: one oc block, one
 * input channel. */
static void lanes_c(float (*restrict acc)[DIRECT_LANES],
                    const float *restrict w, const float *restrict x,
                    ptrdiff_t x_px, int px)
{
    for (int j = 0; j < px; j++) {
        float xv = x[j * x_px];

        #pragma omp simd
        for (int l = 0; l < DIRECT_LANES; l++)
            acc[j][l] += w[l] * xv;
    }
}

/* The walk of taps() in direct_avx2.c, lane by lane. */
static void taps_c(float (*restrict acc)[DIRECT_LANES],
                   const direct_tile *t, const float **xp, const float **wp,
                   int64_t steps, int nic)
{
    const float *x = *xp, *w = *wp;
    int r = 0, s = 0;

    for (int64_t k = 0; k < steps; k++) {
        for (int i = 0; i < nic; i++)
            for (int ob = 0; ob < t->nb; ob++)
                lanes_c(acc + ob * t->px, w + (i * t->nb + ob) * DIRECT_LANES,
                        x + i, t->x_px, t->px);
        x += t->x_s;
        w += 64 * t->nb;
        if (++s == t->ns) {
            s = 0;
            x += t->x_row;
            w += t->w_row;
            if (++r == t->nr) {
                r = 0;
                x += t->x_blk;
                w += t->w_blk;
            }
        }
    }
    *xp = x;
    *wp = w;
}

static void load_acc(float acc[][DIRECT_LANES], const direct_tile *t)
{
    for (int ob = 0; ob < t->nb; ob++)
        for (int j = 0; j < t->px; j++)
            for (int l = 0; l < DIRECT_LANES; l++)
                acc[ob * t->px + j][l] = t->bias
                    ? t->bias[ob * DIRECT_LANES + l]
                    : t->y[ob * t->y_ob + j * t->y_px + l];
}

static void store_acc(float acc[][DIRECT_LANES], const direct_tile *t)
{
    for (int ob = 0; ob < t->nb; ob++)
        for (int j = 0; j < t->px; j++)
            for (int l = 0; l < DIRECT_LANES; l++)
                t->y[ob * t->y_ob + j * t->y_px + l] =
                    acc[ob * t->px + j][l];
}

static void tile_c1(const direct_tile *t)
{
    float acc[DIRECT_ACCS][DIRECT_LANES];
    const float *x = t->x, *w = t->w;

    load_acc(acc, t);
    taps_c(acc, t, &x, &w, (int64_t)t->n_cb * t->nr * t->ns, DIRECT_LANES);
    if (t->tail > 0)
        taps_c(acc, t, &x, &w, (int64_t)t->nr * t->ns, t->tail);
    store_acc(acc, t);
}

static void dw_tile_c1(const direct_tile *t)
{
    float acc[DIRECT_MAX_PX][DIRECT_LANES];
    const float *x = t->x, *w = t->w;
    direct_tile one = *t;

    one.nb = 1;
    load_acc(acc, &one);
    for (int r = 0; r < t->nr; r++) {
        for (int s = 0; s < t->ns; s++) {
            for (int j = 0; j < t->px; j++)
                for (int l = 0; l < DIRECT_LANES; l++)
                    acc[j][l] += w[l] * x[j * t->x_px + l];
            x += t->x_s;
            w += DIRECT_LANES;
        }
        x += t->x_row;
        w += t->w_row;
    }
    store_acc(acc, &one);
}

/* Runs of tiles, one tile at a time. */
static void run_c(const direct_tile *t, void (*one)(const direct_tile *))
{
    direct_tile u = *t;

    for (int k = 0; k < t->tiles; k++) {
        u.x = t->x + k * t->px * t->x_px;
        u.y = t->y + k * t->px * t->y_px;
        one(&u);
    }
}

static void tile_c(const direct_tile *t)
{
    run_c(t, tile_c1);
}

static void dw_tile_c(const direct_tile *t)
{
    run_c(t, dw_tile_c1);
}

static void pack8_c(const float *const src[DIRECT_LANES], ptrdiff_t step,
                    float *dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        for (int l = 0; l < DIRECT_LANES; l++)
            dst[i * DIRECT_LANES + l] = src[l] != NULL ? src[l][i * step]
                                                       : 0.0f;
}

static void unpack8_c(const float *src, float *const dst[DIRECT_LANES],
                      ptrdiff_t n)
{
    for (int l = 0; l < DIRECT_LANES; l++)
        for (ptrdiff_t i = 0; dst[l] != NULL && i < n; i++)
            dst[l][i] = src[i * DIRECT_LANES + l];
}

/* The summation order of direct_rows_avx2(), output by output. */
void direct_rows_c(const direct_rows *r)
{
    for (int k = 0; k < r->nk; k++)
        for (int64_t j = 0; j < r->n; j++) {
            float acc = r->bias[k];

            for (int64_t c = 0; c < r->channels; c++)
                acc += r->w[c * DIRECT_ROW_OC + k]
                       * r->x[(r->off ? r->off[c] : c * r->x_c) + j];
            r->y[k * r->y_k + j] = acc;
        }
}

/* The summation order of direct_dw_plane_avx2(), output by output. */
void direct_dw_plane_c(const direct_dw_plane *p)
{
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->q; j++) {
            const float *x = p->x + i * p->x_row + j;
            float acc = p->bias;

            for (int t = 0; t < p->taps; t++)
                acc += p->w[t] * x[p->off[t]];
            p->y[i * p->q + j] = acc;
        }
}

const direct_isa direct_isa_c = {
    .name = "c",
    .tile = tile_c,
    .dw_tile = dw_tile_c,
    .pack8 = pack8_c,
    .unpack8 = unpack8_c,
    .rows = direct_rows_c,
    .dw_plane = direct_dw_plane_c,
};
