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
#include "algo.h"

#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Below this many multiply-adds one GEMM gains little from OpenBLAS
 * threads, so independent (image, group) items go one per thread. */
#define SMALL_GEMM_MACS ((int64_t)1 << 21)

typedef struct im2col_state {
    float *w;       /* [K][CG*R*S], a copy of the caller's weights */
    float *b;       /* [K] */
    int has_bias;
} im2col_state;

/* The patch matrix of one item: rows (CG*R*S) by cols (P*Q). */
static int64_t patch_rows(const conv_desc *d)
{
    return d->c / d->groups * d->r * d->s;
}

static int64_t patch_cols(const conv_desc *d)
{
    return d->p * d->q;
}

/*
 * Whether execute runs the (image, group) items one per thread, each with
 * its own patch matrix and a single-threaded SGEMM, instead of one item
 * at a time with the unfold and SGEMM threaded.
 */
static int per_item_threads(const conv_desc *d, int threads)
{
    int64_t items = d->n * d->groups;
    int64_t macs = d->k / d->groups * patch_rows(d) * patch_cols(d);

    if (threads < 2 || items < threads)
        return 0;
    return items % threads == 0 || items >= 4 * (int64_t)threads
           || macs < SMALL_GEMM_MACS;
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
    size_t copies = per_item_threads(d, threads) ? (size_t)threads : 1;
    size_t bytes;

    if (!conv_mul_size((size_t)patch_rows(d), (size_t)patch_cols(d), &bytes)
        || !conv_mul_size(bytes, sizeof(float), &bytes)
        || !conv_mul_size(bytes, copies, &bytes))
        return SIZE_MAX;
    return bytes;
}

static void im2col_destroy(void *state)
{
    im2col_state *st = state;

    if (st == NULL)
        return;
    conv_free(st->w);
    conv_free(st->b);
    conv_free(st);
}

static conv_status im2col_create(const conv_ctx *ctx, void **state)
{
    const conv_desc *d = ctx->desc;
    im2col_state *st = conv_alloc(sizeof *st);

    if (st == NULL)
        return conv_fail(CONV_ENOMEM, "im2col_gemm: cannot allocate state");
    st->w = conv_alloc((size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->b = conv_alloc((size_t)d->k * sizeof(float));
    st->has_bias = 0;
    if (st->w == NULL || st->b == NULL) {
        im2col_destroy(st);
        return conv_fail(CONV_ENOMEM, "im2col_gemm: cannot allocate %lld "
                         "weights", (long long)conv_desc_weight_elems(d));
    }
    *state = st;
    return CONV_OK;
}

static conv_status im2col_set_weights(const conv_ctx *ctx, void *state,
                                      const float *w, const float *b)
{
    const conv_desc *d = ctx->desc;
    im2col_state *st = state;

    memcpy(st->w, w, (size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->has_bias = b != NULL;
    if (b != NULL)
        memcpy(st->b, b, (size_t)d->k * sizeof(float));
    return CONV_OK;
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

/* y's slice of one item: bias first, so the SGEMM accumulates onto it. */
static float init_output(const conv_desc *d, const im2col_state *st,
                         int64_t g, float *yg)
{
    int64_t kg = d->k / d->groups;
    int64_t cols = patch_cols(d);

    if (!st->has_bias)
        return 0.0f;
    for (int64_t k = 0; k < kg; k++)
        for (int64_t i = 0; i < cols; i++)
            yg[k * cols + i] = st->b[g * kg + k];
    return 1.0f;
}

/* One (image, group) item: unfold, then SGEMM into y's slice. */
static void run_item(const conv_ctx *ctx, const im2col_state *st,
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
    beta = init_output(d, st, g, yg);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)kg,
                (int)cols, (int)rows, 1.0f, st->w + g * kg * rows,
                (int)rows, patches, (int)cols, beta, yg, (int)cols);

    /* Only the item-at-a-time path records phases (see execute). */
    if (ctx->profile != NULL && !omp_in_parallel()) {
        ctx->profile->input_transform += t1 - t0;
        ctx->profile->multiply += conv_now() - t1;
    }
}

static conv_status im2col_execute(const conv_ctx *ctx, void *state,
                                  const float *x, float *y, void *ws)
{
    const conv_desc *d = ctx->desc;
    const im2col_state *st = state;
    int64_t items = d->n * d->groups;
    size_t elems = (size_t)(patch_rows(d) * patch_cols(d));
    double t0 = ctx->profile ? conv_now() : 0;

    if (!per_item_threads(d, ctx->threads)) {
        for (int64_t i = 0; i < items; i++)
            run_item(ctx, st, x, y, i, ws, ctx->threads);
        return CONV_OK;
    }

    /* Items one per thread, each with its own patch matrix; OpenBLAS
     * sees it is inside a parallel region and stays single-threaded.
     * The threads' phases interleave, so the region counts as multiply. */
    #pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < items; i++) {
        float *patches = (float *)ws + (size_t)omp_get_thread_num() * elems;

        run_item(ctx, st, x, y, i, patches, 1);
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

static void im2col_describe(const conv_ctx *ctx, const void *state,
                            char *buf, size_t n)
{
    const conv_desc *d = ctx->desc;
    char ws[32];

    format_bytes(im2col_workspace(d, ctx->threads), ws, sizeof ws);
    snprintf(buf, n, "im2col_gemm: patch matrix %lldx%lld%s, ws %s",
             (long long)patch_rows(d), (long long)patch_cols(d),
             per_item_threads(d, ctx->threads) ? " per thread" : "", ws);
}

const conv_algo conv_algo_im2col_gemm = {
    .name = "im2col_gemm",
    .applies = im2col_applies,
    .workspace_bytes = im2col_workspace,
    .create = im2col_create,
    .set_weights = im2col_set_weights,
    .execute = im2col_execute,
    .describe = im2col_describe,
    .destroy = im2col_destroy,
};
