/*
 * What the two SGEMM families (im2col_gemm, conv1x1) share: a copy of the
 * weights, the rule for threading over (image, group) items, the bias
 * written before the SGEMM accumulates, and the loop over items.
 */
#ifndef CONV_GEMM_ITEMS_H
#define CONV_GEMM_ITEMS_H

#include "algo.h"

typedef struct gemm_weights {
    float *w;       /* [K][CG*R*S], a copy of the caller's weights */
    float *b;       /* [K] */
    int has_bias;
} gemm_weights;

/* create, set_weights and destroy hooks of a family keeping gemm_weights;
 * `family` names it in a failure reason. */
conv_status gemm_weights_create(const conv_ctx *ctx, const char *family,
                                void **state);
conv_status gemm_weights_set(const conv_ctx *ctx, void *state,
                             const float *w, const float *b);
void gemm_weights_destroy(void *state);

/*
 * Whether execute runs the (image, group) items one per thread, each with
 * its own buffer and a single-threaded SGEMM, instead of one item at a
 * time with the data movement and SGEMM threaded.
 */
int gemm_per_item_threads(const conv_desc *d, int threads);

/* Bytes of one rows x cols float buffer, once per thread when items go
 * one per thread; SIZE_MAX on overflow. */
size_t gemm_workspace(const conv_desc *d, int threads, int64_t rows,
                      int64_t cols);

/* Fills y's slice yg[KG][P*Q] of group g with the bias; returns the
 * SGEMM's beta (1 after a bias, else 0). */
float gemm_init_output(const conv_desc *d, const gemm_weights *st,
                       int64_t g, float *yg);

/* An item's phases into ctx->profile, if any, from its start t0 and the
 * start of its SGEMM t1 to now; only the item-at-a-time path records
 * (inside the per-thread region the phases interleave). */
void gemm_record_item(const conv_ctx *ctx, double t0, double t1);

/*
 * One (image, group) item: `buf` is its buffer in the workspace, `threads`
 * the threads it may use. It records its phases with
 * gemm_record_item.
 */
typedef void gemm_item_fn(const conv_ctx *ctx, const gemm_weights *st,
                          const float *x, float *y, int64_t item,
                          float *buf, int threads);

/* Runs every item, threaded as gemm_per_item_threads says; a thread's
 * buffer is `buf_elems` floats of ws (0: all share ws, unused). */
void gemm_run_items(const conv_ctx *ctx, const gemm_weights *st,
                    const float *x, float *y, void *ws, size_t buf_elems,
                    gemm_item_fn *run_item);

#endif
