/*
 * conv1x1: a 1x1 convolution is a matrix product over channels. For image
 * n and group g, with CG = C/G and KG = K/G:
 *   y[n][g*KG + k][p*Q + q] = b[g*KG + k]
 *       + sum_c w[g*KG + k][c] * x[n][g*CG + c][p*sh][q*sw]
 * With stride 1 and every input column used, the input planes already
 * are the right-hand matrix (row stride H*W; a negative bottom padding only
 * drops trailing rows), so the SGEMM reads x in place. Otherwise the used
 * pixels are gathered into a [CG][P*Q] matrix in the workspace first.
 *
 * Dilation has no effect on a 1x1 kernel, so any is accepted. Positive
 * padding is declined: its border outputs would be the bias alone, a case
 * im2col_gemm and direct already cover.
 */
#include "algo.h"

#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Below this many multiply-adds one GEMM gains little from OpenBLAS
 * threads, so independent (image, group) items go one per thread. */
#define SMALL_GEMM_MACS ((int64_t)1 << 21)

typedef struct conv1x1_state {
    float *w;       /* [K][CG], a copy of the caller's weights */
    float *b;       /* [K] */
    int has_bias;
} conv1x1_state;

/* Whether the SGEMM can read the input planes without a gather. */
static int reads_in_place(const conv_desc *d)
{
    return d->stride_h == 1 && d->stride_w == 1 && d->q == d->w;
}

/* Same rule as im2col_gemm: many small GEMMs one per thread, big ones
 * threaded by OpenBLAS. */
static int per_item_threads(const conv_desc *d, int threads)
{
    int64_t items = d->n * d->groups;
    int64_t macs = d->k / d->groups * (d->c / d->groups) * d->p * d->q;

    if (threads < 2 || items < threads)
        return 0;
    return items % threads == 0 || items >= 4 * (int64_t)threads
           || macs < SMALL_GEMM_MACS;
}

static int conv1x1_applies(const conv_desc *d, char *why, size_t n)
{
    if (d->r != 1 || d->s != 1)
        return conv_why(why, n, "needs a 1x1 kernel (got %lldx%lld)",
                        (long long)d->r, (long long)d->s);
    if (d->pad_top > 0 || d->pad_left > 0 || d->pad_bottom > 0
        || d->pad_right > 0)
        return conv_why(why, n, "needs a 1x1 kernel without padding (got "
                        "top %lld, left %lld, bottom %lld, right %lld)",
                        (long long)d->pad_top, (long long)d->pad_left,
                        (long long)d->pad_bottom, (long long)d->pad_right);
    /* p*q <= h*w here, so this bounds every GEMM dimension too. */
    if (d->h * d->w > INT_MAX)
        return conv_why(why, n, "input pixels h*w = %lld: must fit a BLAS "
                        "int (%d)", (long long)(d->h * d->w), INT_MAX);
    return 1;
}

static size_t conv1x1_workspace(const conv_desc *d, int threads)
{
    size_t copies = per_item_threads(d, threads) ? (size_t)threads : 1;
    size_t bytes;

    if (reads_in_place(d))
        return 0;
    if (!conv_mul_size((size_t)(d->c / d->groups), (size_t)(d->p * d->q),
                       &bytes)
        || !conv_mul_size(bytes, sizeof(float), &bytes)
        || !conv_mul_size(bytes, copies, &bytes))
        return SIZE_MAX;
    return bytes;
}

static void conv1x1_destroy(void *state)
{
    conv1x1_state *st = state;

    if (st == NULL)
        return;
    conv_free(st->w);
    conv_free(st->b);
    conv_free(st);
}

static conv_status conv1x1_create(const conv_ctx *ctx, void **state)
{
    const conv_desc *d = ctx->desc;
    conv1x1_state *st = conv_alloc(sizeof *st);

    if (st == NULL)
        return conv_fail(CONV_ENOMEM, "conv1x1: cannot allocate state");
    st->w = conv_alloc((size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->b = conv_alloc((size_t)d->k * sizeof(float));
    st->has_bias = 0;
    if (st->w == NULL || st->b == NULL) {
        conv1x1_destroy(st);
        return conv_fail(CONV_ENOMEM, "conv1x1: cannot allocate %lld "
                         "weights", (long long)conv_desc_weight_elems(d));
    }
    *state = st;
    return CONV_OK;
}

static conv_status conv1x1_set_weights(const conv_ctx *ctx, void *state,
                                       const float *w, const float *b)
{
    const conv_desc *d = ctx->desc;
    conv1x1_state *st = state;

    memcpy(st->w, w, (size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->has_bias = b != NULL;
    if (b != NULL)
        memcpy(st->b, b, (size_t)d->k * sizeof(float));
    return CONV_OK;
}

/* dst[CG][P*Q] = the pixels (p*sh, q*sw) of the group's planes xg. */
static void gather(const conv_desc *d, const float *xg, float *dst,
                   int threads)
{
    int64_t cg = d->c / d->groups;
    int64_t plane = d->h * d->w, cols = d->p * d->q;

    #pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t c = 0; c < cg; c++) {
        for (int64_t p = 0; p < d->p; p++) {
            const float *src = xg + c * plane + p * d->stride_h * d->w;
            float *row = dst + c * cols + p * d->q;

            for (int64_t q = 0; q < d->q; q++)
                row[q] = src[q * d->stride_w];
        }
    }
}

/* y's slice of one item: bias first, so the SGEMM accumulates onto it. */
static float init_output(const conv_desc *d, const conv1x1_state *st,
                         int64_t g, float *yg)
{
    int64_t kg = d->k / d->groups;
    int64_t cols = d->p * d->q;

    if (!st->has_bias)
        return 0.0f;
    for (int64_t k = 0; k < kg; k++)
        for (int64_t i = 0; i < cols; i++)
            yg[k * cols + i] = st->b[g * kg + k];
    return 1.0f;
}

/* One (image, group) item: gather if needed, then SGEMM into y. */
static void run_item(const conv_ctx *ctx, const conv1x1_state *st,
                     const float *x, float *y, int64_t item, float *ws,
                     int threads)
{
    const conv_desc *d = ctx->desc;
    int64_t n = item / d->groups, g = item % d->groups;
    int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    int64_t cols = d->p * d->q;
    const float *xg = x + (n * d->c + g * cg) * d->h * d->w;
    const float *rhs = xg;
    int64_t ld = d->h * d->w;
    float *yg = y + (n * d->k + g * kg) * cols;
    double t0 = ctx->profile ? conv_now() : 0, t1;
    float beta;

    if (!reads_in_place(d)) {
        gather(d, xg, ws, threads);
        rhs = ws;
        ld = cols;
    }
    t1 = ctx->profile ? conv_now() : 0;
    beta = init_output(d, st, g, yg);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)kg,
                (int)cols, (int)cg, 1.0f, st->w + g * kg * cg, (int)cg,
                rhs, (int)ld, beta, yg, (int)cols);

    /* Only the item-at-a-time path records phases (see execute). */
    if (ctx->profile != NULL && !omp_in_parallel()) {
        ctx->profile->input_transform += t1 - t0;
        ctx->profile->multiply += conv_now() - t1;
    }
}

static conv_status conv1x1_execute(const conv_ctx *ctx, void *state,
                                   const float *x, float *y, void *ws)
{
    const conv_desc *d = ctx->desc;
    const conv1x1_state *st = state;
    int64_t items = d->n * d->groups;
    size_t elems = (size_t)(d->c / d->groups * d->p * d->q);
    int in_place = reads_in_place(d);
    double t0 = ctx->profile ? conv_now() : 0;

    if (!per_item_threads(d, ctx->threads)) {
        for (int64_t i = 0; i < items; i++)
            run_item(ctx, st, x, y, i, ws, ctx->threads);
        return CONV_OK;
    }

    /* Items one per thread, each with its own gather buffer; OpenBLAS
     * sees it is inside a parallel region and stays single-threaded.
     * The threads' phases interleave, so the region counts as multiply. */
    #pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < items; i++) {
        float *mine = in_place ? NULL
                      : (float *)ws + (size_t)omp_get_thread_num() * elems;

        run_item(ctx, st, x, y, i, mine, 1);
    }
    if (ctx->profile != NULL)
        ctx->profile->multiply += conv_now() - t0;
    return CONV_OK;
}

/* bytes as "7.2 MiB", "12.0 KiB" or "96 B". */
static void format_bytes(size_t bytes, char *buf, size_t n)
{
    if (bytes >= ((size_t)1 << 20))
        snprintf(buf, n, "%.1f MiB", (double)bytes / (1 << 20));
    else if (bytes >= 1024)
        snprintf(buf, n, "%.1f KiB", (double)bytes / 1024);
    else
        snprintf(buf, n, "%zu B", bytes);
}

static void conv1x1_describe(const conv_ctx *ctx, const void *state,
                             char *buf, size_t n)
{
    const conv_desc *d = ctx->desc;
    char ws[32];

    format_bytes(conv1x1_workspace(d, ctx->threads), ws, sizeof ws);
    snprintf(buf, n, "conv1x1: SGEMM %lldx%lldx%lld (MxNxK) %s%s, ws %s",
             (long long)(d->k / d->groups), (long long)(d->p * d->q),
             (long long)(d->c / d->groups),
             reads_in_place(d) ? "on x in place" : "on gathered pixels",
             per_item_threads(d, ctx->threads) ? ", images per thread" : "",
             ws);
}

const conv_algo conv_algo_conv1x1 = {
    .name = "conv1x1",
    .applies = conv1x1_applies,
    .workspace_bytes = conv1x1_workspace,
    .create = conv1x1_create,
    .set_weights = conv1x1_set_weights,
    .execute = conv1x1_execute,
    .describe = conv1x1_describe,
    .destroy = conv1x1_destroy,
};
