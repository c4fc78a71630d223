/*
 * The direct family's NCHW path for depthwise layers (one input and one
 * output channel per group) with stride 1 and rows of 32 outputs or
 * more: each channel's plane is its own small convolution with R*S
 * taps, vectorised along an output row. The blocked path spends most of
 * such a layer in its two NCHW transposes (9 multiply-adds per output at
 * 3x3): this path ran MobileNet v1's conv_dw_1 (112x112) at 0.63x onednn
 * against the blocked path's 0.47x, conv_dw_3 (56x56) at 0.57-0.62x
 * against 0.40x (one thread, Zen 4).
 *
 * Work items are (image, channel). Each copies its plane's rows, a few
 * ahead of the kernel, into its thread's buffer, whose padding stays
 * zero from the start of execute (every plane writes the same entries).
 * Rows are padded past the last output so that the kernel's full vectors
 * never leave the buffer; only its stores are masked.
 *
 * TODO: conv_dw_1 runs at 0.34 of the FMA peak (oneDNN 0.43-0.52): the
 * kernel takes 77% of the time at about 0.45 of peak, the row copies
 * 20%, reading x from L3 (1.6 MB of it, like y, exceeds L2).
 * Aligning every load (a wrong-result experiment) gained only 15%.
 * Narrower rows or stride 2 ran slower than the blocked path (a scalar
 * split of each row into its even and odd columns: 0.2-0.3x onednn);
 * oneDNN's jit_dw keeps channels in the vector lanes instead.
 *
 * Each output's sum runs over the taps in order from its bias, so
 * results do not depend on the threads.
 */
#include "direct.h"

#include <omp.h>
#include <string.h>

/* A plane's buffer at most this big (a 224x224 plane at stride 1 takes
 * 205 KB); bigger ones take the blocked path.
 * TODO: bands of rows with their halo would take any plane. */
#define DW_MAX_BUFFER_BYTES (256 << 10)

/* Output rows the kernel runs per call, the buffer filled just ahead. */
#define DW_BAND_ROWS 6

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Floats of a buffer row: every output of a row rounded up to whole
 * vectors, plus the columns the kernel's taps reach past the first. */
static int64_t row_floats(const conv_desc *d)
{
    return ceil_div(d->q, 8) * 8 + (d->s - 1) * d->dil_w;
}

/* Buffer rows: every input row some output reads, padding included. */
static int64_t buffer_rows(const conv_desc *d)
{
    return d->p + (d->r - 1) * d->dil_h;
}

static int64_t buffer_floats(const conv_desc *d)
{
    return buffer_rows(d) * row_floats(d);
}

/* Depthwise, stride 1, rows of 32 outputs or more, within the buffer
 * limit above. */
int direct_dw_applies(const conv_desc *d)
{
    return d->c == d->groups && d->k == d->groups && d->stride_h == 1
           && d->stride_w == 1 && d->q >= 32
           && buffer_floats(d) * (int64_t)sizeof(float)
              <= DW_MAX_BUFFER_BYTES;
}

size_t direct_dw_workspace(const conv_desc *d, int threads)
{
    return direct_whole_lines((size_t)buffer_floats(d)) * (size_t)threads
           * sizeof(float);
}

/* Weights wb[c][r][s] as given, bias bb[c] (zeros without one). */
void direct_dw_pack(direct_plan *pl, const float *w, const float *b)
{
    const conv_desc *d = pl->d;

    memcpy(pl->wb, w, (size_t)(d->c * d->r * d->s) * sizeof(float));
    for (int64_t c = 0; c < d->c; c++)
        pl->bb[c] = b != NULL ? b[c] : 0.0f;
}

/* Each tap's offset in the buffer from its output's first tap. */
void direct_dw_offsets(const conv_desc *d, ptrdiff_t *off)
{
    for (int64_t r = 0; r < d->r; r++)
        for (int64_t s = 0; s < d->s; s++)
            off[r * d->s + s] = r * d->dil_h * row_floats(d) + s * d->dil_w;
}

/* Buffer rows [r0, r1) of plane x, those that hold input rows
 * (r - pad_top): the input's columns from pad_left on, the rest left
 * alone (zeros, see direct_dw_execute). */
static void fill_rows(const conv_desc *d, const float *x, float *buf,
                      int64_t r0, int64_t r1)
{
    int64_t first = -d->pad_left, n = row_floats(d);
    int64_t i0 = clamp64(-first, 0, n), i1 = clamp64(d->w - first, i0, n);

    r0 = clamp64(r0, d->pad_top, d->pad_top + d->h);
    r1 = clamp64(r1, r0, d->pad_top + d->h);
    for (int64_t r = r0; r < r1; r++)
        memcpy(buf + r * n + i0, x + (r - d->pad_top) * d->w + first + i0,
               (size_t)(i1 - i0) * sizeof *buf);
}

/* Work item: channel c of image img. */
static void run_plane(const direct_plan *pl, const float *x, float *y,
                      float *buf, int64_t img, int64_t c)
{
    const conv_desc *d = pl->d;
    int64_t filled = 0;
    direct_dw_plane p;

    x += (img * d->c + c) * d->h * d->w;
    p.w = pl->wb + c * d->r * d->s;
    p.bias = pl->bb[c];
    p.off = pl->off;
    p.taps = (int)(d->r * d->s);
    p.x_row = row_floats(d);
    p.q = d->q;
    for (int64_t i0 = 0; i0 < d->p; i0 += DW_BAND_ROWS) {
        int64_t rows = min64(DW_BAND_ROWS, d->p - i0);
        int64_t need = i0 + rows + (d->r - 1) * d->dil_h;

        fill_rows(d, x, buf, filled, need);
        filled = need;
        p.x = buf + i0 * p.x_row;
        p.y = y + ((img * d->k + c) * d->p + i0) * d->q;
        p.rows = rows;
        pl->isa->dw_plane(&p);
    }
}

void direct_dw_execute(const direct_plan *pl, const float *x, float *y,
                       float *ws, int threads)
{
    const conv_desc *d = pl->d;
    int64_t items = d->n * d->c, nbuf = buffer_floats(d);

    #pragma omp parallel num_threads(threads)
    {
        float *buf = ws + omp_get_thread_num()
                          * direct_whole_lines((size_t)nbuf);

        /* Every plane writes the same entries of the buffer: the
         * padding, zeroed here, stays zero. */
        memset(buf, 0, (size_t)nbuf * sizeof *buf);

        /* Static: each thread reads and writes the same planes every
         * time. */
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < items; i++)
            run_plane(pl, x, y, buf, i / d->c, i % d->c);
    }
}
