/* The parts the SGEMM families share; see gemm_items.h. */
#include "gemm_items.h"

#include <omp.h>
#include <string.h>

/* Below this many multiply-adds one GEMM gains little from OpenBLAS
 * threads, so independent (image, group) items go one per thread. */
#define SMALL_GEMM_MACS ((int64_t)1 << 21)

void gemm_weights_destroy(void *state)
{
    gemm_weights *st = state;

    if (st == NULL)
        return;
    conv_free(st->w);
    conv_free(st->b);
    conv_free(st);
}

conv_status gemm_weights_create(const conv_ctx *ctx, const char *family,
                                void **state)
{
    const conv_desc *d = ctx->desc;
    gemm_weights *st = conv_alloc(sizeof *st);

    if (st == NULL)
        return conv_fail(CONV_ENOMEM, "%s: cannot allocate state", family);
    st->w = conv_alloc((size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->b = conv_alloc((size_t)d->k * sizeof(float));
    st->has_bias = 0;
    if (st->w == NULL || st->b == NULL) {
        gemm_weights_destroy(st);
        return conv_fail(CONV_ENOMEM, "%s: cannot allocate %lld weights",
                         family, (long long)conv_desc_weight_elems(d));
    }
    *state = st;
    return CONV_OK;
}

conv_status gemm_weights_set(const conv_ctx *ctx, void *state,
                             const float *w, const float *b)
{
    const conv_desc *d = ctx->desc;
    gemm_weights *st = state;

    memcpy(st->w, w, (size_t)conv_desc_weight_elems(d) * sizeof(float));
    st->has_bias = b != NULL;
    if (b != NULL)
        memcpy(st->b, b, (size_t)d->k * sizeof(float));
    return CONV_OK;
}

int gemm_per_item_threads(const conv_desc *d, int threads)
{
    int64_t items = d->n * d->groups;
    int64_t macs = d->k / d->groups * (d->c / d->groups * d->r * d->s)
                   * (d->p * d->q);

    if (threads < 2 || items < threads)
        return 0;
    return items % threads == 0 || items >= 4 * (int64_t)threads
           || macs < SMALL_GEMM_MACS;
}

size_t gemm_workspace(const conv_desc *d, int threads, int64_t rows,
                      int64_t cols)
{
    size_t copies = gemm_per_item_threads(d, threads) ? (size_t)threads : 1;
    size_t bytes;

    if (!conv_mul_size((size_t)rows, (size_t)cols, &bytes)
        || !conv_mul_size(bytes, sizeof(float), &bytes)
        || !conv_mul_size(bytes, copies, &bytes))
        return SIZE_MAX;
    return bytes;
}

float gemm_init_output(const conv_desc *d, const gemm_weights *st,
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

void gemm_record_item(const conv_ctx *ctx, double t0, double t1)
{
    if (ctx->profile != NULL && !omp_in_parallel()) {
        ctx->profile->input_transform += t1 - t0;
        ctx->profile->multiply += conv_now() - t1;
    }
}

void gemm_run_items(const conv_ctx *ctx, const gemm_weights *st,
                    const float *x, float *y, void *ws, size_t buf_elems,
                    gemm_item_fn *run_item)
{
    const conv_desc *d = ctx->desc;
    int64_t items = d->n * d->groups;
    double t0 = ctx->profile ? conv_now() : 0;

    if (!gemm_per_item_threads(d, ctx->threads)) {
        for (int64_t i = 0; i < items; i++)
            run_item(ctx, st, x, y, i, ws, ctx->threads);
        return;
    }

    /* Items one per thread, each with its own buffer; OpenBLAS sees it
     * is inside a parallel region and stays single-threaded. The
     * threads' phases interleave, so the region counts as multiply. */
    #pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < items; i++) {
        float *mine = buf_elems == 0 ? ws
            : (float *)ws + (size_t)omp_get_thread_num() * buf_elems;

        run_item(ctx, st, x, y, i, mine, 1);
    }
    if (ctx->profile != NULL)
        ctx->profile->multiply += conv_now() - t0;
}
