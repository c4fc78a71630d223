/*
 * im2col_gemm: unfold the input patches of one image and group into a
 * matrix, then one OpenBLAS SGEMM multiplies the group's weights by it.
 *
 * For image n and group g, with CG = C/G input and KG = K/G output
 * channels per group:
 *   patches[(c*R + r)*S + s][p*Q + q]
 *       = x[n][g*CG + c][p*sh - pt + r*dh][q*sw - pl + s*dw]
 *         (0 where that lands in padding)
 *   y[n][g*KG + k][p*Q + q]
 *       = b[g*KG + k] + sum_row w[g*KG + k][row] * patches[row][p*Q + q]
 * w[K][CG][R][S] is already row-major [K][CG*R*S], so each group's weights
 * are a plain matrix slice.
 */
#include "gemm_items.h"

#include <cblas.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The patch matrix of one item: rows (CG*R*S) by cols (P*Q). */
static int64_t patch_rows(const conv_desc *d)
{
    return d->c / d->groups * d->r * d->s;
}

static int64_t patch_cols(const conv_desc *d)
{
    return d->p * d->q;
}

static int im2col_applies(const conv_desc *d, char *why, size_t n)
{
    if (patch_rows(d) > INT_MAX)
        return conv_why(why, n, "patch rows (c/g)*r*s = %lld: must fit a "
                        "BLAS int (%d)", (long long)patch_rows(d), INT_MAX);
    if (patch_cols(d) > INT_MAX)
        return conv_why(why, n, "output pixels p*q = %lld: must fit a BLAS "
                        "int (%d)", (long long)patch_cols(d), INT_MAX);
    return 1;
}

/*
 * TODO: the patch matrix grows with the whole output image (115 MiB for a
 * 3x3 layer of 64 channels at 224x224) and falls out of cache before the
 * SGEMM reads it; unfolding a band of output rows at a time would bound
 * the workspace and keep the band in cache.
 */
static size_t im2col_workspace(const conv_desc *d, int threads)
{
    return gemm_workspace(d, threads, patch_rows(d), patch_cols(d));
}

static conv_status im2col_create(const conv_ctx *ctx, void **state)
{
    return gemm_weights_create(ctx, "im2col_gemm", state);
}

/*
 * The output columns q whose input column q*sw + off lies in [0, w):
 * q0 <= q < q1, both within [0, q_out].
 */
static void inside_range(int64_t off, int64_t stride, int64_t w,
                         int64_t q_out, int64_t *q0, int64_t *q1)
{
    int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t hi = off > w - 1 ? 0 : (w - 1 - off) / stride + 1;

    *q0 = lo < q_out ? lo : q_out;
    *q1 = hi < q_out ? hi : q_out;
    if (*q1 < *q0)
        *q1 = *q0;
}

/* One patch-matrix row: kernel tap (r, s) over the channel plane xc. */
static void unfold_row(const conv_desc *d, const float *xc, int64_t r,
                       int64_t s, float *row)
{
    int64_t off = s * d->dil_w - d->pad_left;
    int64_t q0, q1;

    inside_range(off, d->stride_w, d->w, d->q, &q0, &q1);
    for (int64_t p = 0; p < d->p; p++) {
        float *dst = row + p * d->q;
        int64_t ih = p * d->stride_h - d->pad_top + r * d->dil_h;
        const float *src;

        if (ih < 0 || ih >= d->h) {
            memset(dst, 0, (size_t)d->q * sizeof(float));
            continue;
        }
        src = xc + ih * d->w;
        memset(dst, 0, (size_t)q0 * sizeof(float));
        if (d->stride_w == 1 && q1 > q0)
            memcpy(dst + q0, src + (q0 + off),
                   (size_t)(q1 - q0) * sizeof(float));
        else
            for (int64_t q = q0; q < q1; q++)
                dst[q] = src[q * d->stride_w + off];
        memset(dst + q1, 0, (size_t)(d->q - q1) * sizeof(float));
    }
}

/* patches[CG*R*S][P*Q] from the group's channels xg[CG][H][W]. */
static void unfold(const conv_desc *d, const float *xg, float *patches,
                   int threads)
{
    int64_t cg = d->c / d->groups;
    int64_t plane = d->h * d->w;
    int64_t cols = patch_cols(d);

    #pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t cr = 0; cr < cg * d->r; cr++) {
        int64_t c = cr / d->r, r = cr % d->r;

        for (int64_t s = 0; s < d->s; s++)
            unfold_row(d, xg + c * plane, r, s,
                       patches + (cr * d->s + s) * cols);
    }
}

/* One (image, group) item: unfold, then SGEMM into y's slice. */
static void run_item(const conv_ctx *ctx, const gemm_weights *st,
                     const float *x, float *y, int64_t item,
                     float *patches, int threads)
{
    const conv_desc *d = ctx->desc;
    int64_t n = item / d->groups, g = item % d->groups;
    int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    int64_t rows = patch_rows(d), cols = patch_cols(d);
    float *yg = y + (n * d->k + g * kg) * cols;
    double t0 = ctx->profile ? conv_now() : 0, t1;
    float beta;

    unfold(d, x + (n * d->c + g * cg) * d->h * d->w, patches, threads);
    t1 = ctx->profile ? conv_now() : 0;
    beta = gemm_init_output(d, st, g, yg);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)kg,
                (int)cols, (int)rows, 1.0f, st->w + g * kg * rows,
                (int)rows, patches, (int)cols, beta, yg, (int)cols);
    gemm_record_item(ctx, t0, t1);
}

static conv_status im2col_execute(const conv_ctx *ctx, void *state,
                                  const float *x, float *y, void *ws)
{
    const conv_desc *d = ctx->desc;
    size_t elems = (size_t)(patch_rows(d) * patch_cols(d));

    /* Each thread working on its own item unfolds into its own matrix. */
    gemm_run_items(ctx, state, x, y, ws, elems, run_item);
    return CONV_OK;
}

static void im2col_describe(const conv_ctx *ctx, const void *state,
                            char *buf, size_t n)
{
    const conv_desc *d = ctx->desc;
    char ws[32];

    conv_format_bytes(im2col_workspace(d, ctx->threads), ws, sizeof ws);
    snprintf(buf, n, "im2col_gemm: patch matrix %lldx%lld%s, ws %s",
             (long long)patch_rows(d), (long long)patch_cols(d),
             gemm_per_item_threads(d, ctx->threads) ? " per thread" : "", ws);
}

const conv_algo conv_algo_im2col_gemm = {
    .name = "im2col_gemm",
    .applies = im2col_applies,
    .workspace_bytes = im2col_workspace,
    .create = im2col_create,
    .set_weights = gemm_weights_set,
    .execute = im2col_execute,
    .describe = im2col_describe,
    .destroy = gemm_weights_destroy,
};
