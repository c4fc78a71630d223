/*
 * The Winograd family's fused path, for layers of few input channels per
 * group (VGG-16 conv1_1: 3). There the output transform's cost, per
 * output and output channel, does not shrink with the channels, and the
 * M buffer between multiply and output costs as much as the products.
 * So the work is split by spans of a tile row instead of blocks: a span's
 * V (all its channels, a few KiB) stays in L1, and for each output
 * channel the kernel sums the products for 8 tiles at a time in registers
 * and transforms them at once, writing the span's output rows of that
 * channel in order (in streaming stores where the rows cover whole
 * cache lines). Only the AVX2 kernels have it; the portable ones run
 * every layer through blocks. On VGG conv1_1 (1 thread, Xeon Emerald
 * Rapids, four bench runs on a shared machine) F(4x4) ran at 1.10-1.34x
 * oneDNN's speed (0.99-1.19x before the streaming stores, lane order
 * and U layout), F(2x2) at 0.71-0.95x, F(6x6) at 0.76-0.94x.
 */
#include "winograd.h"

#include <assert.h>
#include <omp.h>

/* Whether B^T's entry (r, c) may be non-zero in the paired shape. */
static int bt_entry_used(int a, int r, int c)
{
    if (r == 0)
        return c % 2 == 0 && c < a - 1;
    if (r == a - 1)
        return c % 2 == 1;
    return c > 0 && c < a - 1;
}

void wino_pair_coefficients(const wino_matrices *w, wino_geom *q)
{
    int a = w->alpha;

    for (int i = 0; i < w->m; i++)
        for (int k = 0; 2 * k + 2 < a - 1; k++) {
            assert(w->at[i][2 * k + 2] == (i % 2 ? -1 : 1)
                   * w->at[i][2 * k + 1]);
            q->at_pair[i][k] = (float)w->at[i][2 * k + 1];
        }
    for (int r = 0; r < a; r++)
        for (int c = 0; c < a; c++) {
            assert(bt_entry_used(a, r, c) || w->bt[r][c] == 0.0);
            assert(r % 2 == 1 || r == 0 || r == a - 1
                   || w->bt[r][c] == (c % 2 ? -1 : 1) * w->bt[r - 1][c]);
            q->bt_dense[r][c] = (float)w->bt[r][c];
        }
}

/* Span i of all: spans along the row, then tile rows, images, groups. */
static wino_span span_at(const wino_geom *q, int64_t i)
{
    int64_t per_image = q->th * q->nspan;
    int64_t per_group = q->d->n * per_image, r = i % per_group;
    wino_span s;

    s.g = i / per_group;
    s.n = r / per_image;
    s.ty = r % per_image / q->nspan;
    s.tx0 = r % q->nspan * q->span;
    s.ntx = q->tw - s.tx0 < q->span ? q->tw - s.tx0 : q->span;
    return s;
}

/*
 * NOTE: the products are summed inside the output transform, one lane
 * group and output channel at a time, too finely interleaved to time
 * apart; the profile counts that fused phase as output transform and
 * leaves the multiply at zero.
 */
void wino_run_spans(const wino_geom *q, const wino_kernels *kern,
                    const float *u, const float *bias, const float *x,
                    float *y, float *v, double *t)
{
    int64_t items = q->d->groups * q->d->n * q->th * q->nspan;
    size_t per_group = (size_t)q->npts * q->nkb * WINO_MR * q->cg;

    #pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < items; i++) {
        wino_span s = span_at(q, i);
        double t0 = t ? conv_now() : 0.0, t1 = 0.0;

        kern->fused_input(q, &s, x, v);
        if (t)
            t1 = conv_now();
        kern->fused_output(q, &s, u + (size_t)s.g * per_group, v, bias, y);
        if (t) {
            t[0] += t1 - t0;
            t[2] += conv_now() - t1;
        }
    }
}
