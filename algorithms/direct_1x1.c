/*
 * The direct family's NCHW path for 1x1 layers with stride 1 and no
 * padding: y[k] = b[k] + sum over c of w[k][c] * x[c] is a matrix
 * product over the pixels, and the kernel reads x and writes y in place,
 * vectorised along the pixels of a channel's plane (DIRECT_ROW_OC output
 * channels times 24 pixels a register tile). It skips the two NCHW
 * transposes of the blocked path, which cost 10-20% where each output
 * sums only 64 products.
 *
 * Work items are (image, group, panel of pixels). Each copies its panel
 * of every input channel into a contiguous buffer first (a memcpy per
 * channel, no transpose): read in place, rows one plane apart share few
 * L1 sets and one page each, and 256 channels ran 20% slower. The
 * buffer stays in L1 while all output channels sweep it.
 *
 * Each output's sum runs over c in order from its bias at any thread
 * count and panel split, so results do not depend on either.
 */
#include "direct.h"

#include <omp.h>
#include <string.h>

/*
 * Where the path runs (measured against the blocked path on ResNet-50,
 * one thread, interleaved): 25% faster at 64 channels and 3136 pixels,
 * 6-9% at 256 channels and 3136 pixels or 128 and 784, even at 512 and
 * 784; slower with 196 pixels (5-8%: a masked last tile of 4 pixels, and
 * the blocked path reuses its weights better) and 49 (35%).
 */
#define ROWS_MAX_CHANNELS 512
#define ROWS_MIN_PIXELS 512

/* Bytes of one panel of all input channels: about L1. */
#define PANEL_BYTES (24 << 10)

/* Pixels in one register tile of the kernels. */
#define TILE_PIXELS 24

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Pixels per panel: a multiple of the tile, its channels in
 * PANEL_BYTES. */
static int64_t panel_pixels(const conv_desc *d)
{
    int64_t cpg = d->c / d->groups;
    int64_t tiles = PANEL_BYTES / (cpg * TILE_PIXELS * 4);

    return (tiles < 1 ? 1 : tiles) * TILE_PIXELS;
}

/* Each thread's panel buffer. */
size_t direct_1x1_workspace(const conv_desc *d, int threads)
{
    size_t panel = direct_whole_lines((size_t)(d->c / d->groups
                                               * panel_pixels(d)));

    return panel * (size_t)threads * sizeof(float);
}

/* Layers with stride 1, no padding and 1x1 kernels, within the limits
 * above; not depthwise, which has its own kernel. */
int direct_1x1_applies(const conv_desc *d)
{
    int64_t cpg = d->c / d->groups;

    return d->r == 1 && d->s == 1 && d->stride_h == 1 && d->stride_w == 1
           && d->pad_top == 0 && d->pad_left == 0 && d->pad_bottom == 0
           && d->pad_right == 0 && cpg <= ROWS_MAX_CHANNELS
           && d->h * d->w >= ROWS_MIN_PIXELS
           && !(d->c == d->groups && d->k == d->groups);
}

/* Weights wb[g][k / DIRECT_ROW_OC][c][r][s][DIRECT_ROW_OC] and bias
 * bb[g][k rounded up], zeros past the group's last output channel. */
void direct_1x1_pack(direct_plan *pl, const float *w, const float *b)
{
    const conv_desc *d = pl->d;
    int64_t cpg = d->c / d->groups * d->r * d->s, kpg = d->k / d->groups;
    int64_t kr = (kpg + DIRECT_ROW_OC - 1) / DIRECT_ROW_OC * DIRECT_ROW_OC;
    float *dst = pl->wb;

    for (int64_t g = 0; g < d->groups; g++)
        for (int64_t k0 = 0; k0 < kr; k0 += DIRECT_ROW_OC)
            for (int64_t c = 0; c < cpg; c++)
                for (int64_t k = k0; k < k0 + DIRECT_ROW_OC; k++)
                    *dst++ = k < kpg ? w[(g * kpg + k) * cpg + c] : 0.0f;

    for (int64_t g = 0; g < d->groups; g++)
        for (int64_t k = 0; k < kr; k++)
            pl->bb[g * kr + k] = b != NULL && k < kpg ? b[g * kpg + k]
                                                      : 0.0f;
}

/* Rows [c0, c1) of n floats each, x_c apart, towards L2. */
static void prefetch_rows(const float *x, ptrdiff_t x_c, int64_t n,
                          int64_t c0, int64_t c1)
{
    for (int64_t c = c0; c < c1; c++) {
        const char *row = (const char *)(x + c * x_c);

        for (int64_t b = 0; b < n * 4; b += 64)
            __builtin_prefetch(row + b, 0, 2);
        __builtin_prefetch(row + n * 4 - 1, 0, 2);
    }
}

/* Work item: every output channel of one group over pixels
 * [j0, j0 + n) of one image. */
static void run_panel(const direct_plan *pl, const float *x, float *y,
                      float *buf, int64_t img, int64_t g, int64_t j0,
                      int64_t n)
{
    const conv_desc *d = pl->d;
    int64_t cpg = d->c / d->groups, kpg = d->k / d->groups;
    int64_t kr = (kpg + DIRECT_ROW_OC - 1) / DIRECT_ROW_OC * DIRECT_ROW_OC;
    int64_t plane = d->p * d->q, next_n = min64(n, plane - j0 - n);
    const float *next;
    direct_rows r;

    r.x = x + (img * d->c + g * cpg) * plane + j0;
    for (int64_t c = 0; c < cpg; c++)
        memcpy(buf + c * n, r.x + c * plane, (size_t)n * sizeof(float));
    next = r.x + n;
    r.x = buf;
    r.x_c = n;
    r.off = NULL;
    r.y_k = plane;
    r.channels = cpg;
    r.n = n;
    for (int64_t k0 = 0; k0 < kpg; k0 += DIRECT_ROW_OC) {
        /* A slice of the next panel's rows each call: the copy of its
         * cpg rows, too many streams for the hardware prefetchers, ran
         * at L3 latency (20% of res2b_branch2a's time, 7% after).
         * TODO: on the Emerald Rapids guest res2b_branch2a still spends
         * 15-17% outside the kernel (perf samples: the copy 8%, stalls
         * at these prefetches 8%), the share that puts the path at
         * 0.85-0.9x onednn. Prefetching two panels ahead, into L1, one
         * line every 8 channels from inside the kernel, or copying
         * 1 KB rows at a time each left the copy at 7-11%. */
        if (next_n > 0)
            prefetch_rows(next, plane, next_n, k0 * cpg / kr,
                          (k0 + DIRECT_ROW_OC) * cpg / kr);
        r.w = pl->wb + (g * kr + k0) * cpg;
        r.bias = pl->bb + g * kr + k0;
        r.y = y + (img * d->k + g * kpg + k0) * plane + j0;
        r.nk = (int)min64(DIRECT_ROW_OC, kpg - k0);
        pl->isa->rows(&r);
    }
}

void direct_1x1_execute(const direct_plan *pl, const float *x, float *y,
                        float *ws, int threads)
{
    const conv_desc *d = pl->d;
    int64_t plane = d->p * d->q, panel = panel_pixels(d);
    int64_t cpg = d->c / d->groups;
    int64_t panels = (plane + panel - 1) / panel;
    int64_t items = d->n * d->groups * panels;
    size_t per = direct_whole_lines((size_t)(cpg * panel));

    /* Static: each thread reads and writes the same pixels every time. */
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < items; i++) {
        int64_t j0 = i % panels * panel;

        run_panel(pl, x, y, ws + omp_get_thread_num() * per,
                  i / (panels * d->groups), i / panels % d->groups, j0,
                  min64(panel, plane - j0));
    }
}
