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
#include "gemm_items.h"

#include <cblas.h>
#include <limits.h>
#include <stdio.h>

/* Whether the SGEMM can read the input planes without a gather. */
static int reads_in_place(const conv_desc *d)
{
    return d->stride_h == 1 && d->stride_w == 1 && d->q == d->w;
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
    if (reads_in_place(d))
        return 0;
    return gemm_workspace(d, threads, d->c / d->groups, d->p * d->q);
}

static conv_status conv1x1_create(const conv_ctx *ctx, void **state)
{
    return gemm_weights_create(ctx, "conv1x1", state);
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

/* One (image, group) item: gather if needed, then SGEMM into y. */
static void run_item(const conv_ctx *ctx, const gemm_weights *st,
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
    beta = gemm_init_output(d, st, g, yg);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)kg,
                (int)cols, (int)cg, 1.0f, st->w + g * kg * cg, (int)cg,
                rhs, (int)ld, beta, yg, (int)cols);
    gemm_record_item(ctx, t0, t1);
}

static conv_status conv1x1_execute(const conv_ctx *ctx, void *state,
                                   const float *x, float *y, void *ws)
{
    const conv_desc *d = ctx->desc;
    size_t elems = reads_in_place(d) ? 0
                   : (size_t)(d->c / d->groups * d->p * d->q);

    /* Each thread working on its own item gathers into its own buffer. */
    gemm_run_items(ctx, state, x, y, ws, elems, run_item);
    return CONV_OK;
}

static void conv1x1_describe(const conv_ctx *ctx, const void *state,
                             char *buf, size_t n)
{
    const conv_desc *d = ctx->desc;
    int per_thread = gemm_per_item_threads(d, ctx->threads);
    char ws[32];

    conv_format_bytes(conv1x1_workspace(d, ctx->threads), ws, sizeof ws);
    snprintf(buf, n, "conv1x1: SGEMM %lldx%lldx%lld (MxNxK) %s%s, ws %s",
             (long long)(d->k / d->groups), (long long)(d->p * d->q),
             (long long)(d->c / d->groups),
             reads_in_place(d) ? "on x in place" : "on gathered pixels",
             per_thread ? ", images per thread" : "", ws);
}

const conv_algo conv_algo_conv1x1 = {
    .name = "conv1x1",
    .applies = conv1x1_applies,
    .workspace_bytes = conv1x1_workspace,
    .create = conv1x1_create,
    .set_weights = gemm_weights_set,
    .execute = conv1x1_execute,
    .describe = conv1x1_describe,
    .destroy = gemm_weights_destroy,
};
