/*
 * The direct family's NCHW path for layers with few input channels and
 * a spatial kernel (ResNet-50's conv1: 3 channels, 7x7, stride 2): the
 * kernel of direct_1x1.c, vectorised along an output row, sums over
 * every (channel, kernel row, kernel column) instead of channels, and
 * writes y in place. The blocked path spends 9% of conv1 moving its
 * output into NCHW: this one ran conv1 4-9% faster (0.80x -> 0.86x
 * onednn, one thread, interleaved), mobilenet_v1's conv1 (3x3) 10-17%.
 *
 * TODO: conv1 runs at 0.83 of peak, 0.91x onednn, on the Emerald
 * Rapids guest (one thread and two, three runs each, fifth session) and
 * 0.91-0.95x on one thread on the Zen 4 (fourth session), while the
 * same kernel on hot data reaches 90-97% of peak: the band copy and the
 * output's write misses are suspected, not measured (neither VM has
 * hardware counters). Earlier sessions measured 0.6 of peak on the
 * Zen 4 and 0.59-0.80x on two threads on the Emerald Rapids, before
 * each thread's buffer started on a cache line of its own; whether that
 * change or a quieter machine made the difference is not known.
 *
 * Work items are (image, band of output rows). Each copies the input
 * rows its band reads into a buffer, with the padding as zeros and each
 * row split into its stride's column phases (phase f holds columns f,
 * f + stride, ...), so that the input of 8 consecutive outputs at one
 * kernel tap is 8 consecutive floats.
 */
#include "direct.h"

#include <omp.h>

/*
 * Where the path runs (measured against the blocked path, one thread):
 * up to 8 input channels and an output of 1 MiB or more per image, which
 * the blocked path's transpose moves through L3: conv1 of resnet_50 and
 * mobilenet_v1 (3 channels, 112x112 outputs), 8 channels 3x3 at 112x112
 * 8% faster, 3 channels 3x3 at 224x224 30%. Slower with 16 channels
 * (4%), or outputs of 300 to 400 KB (7-12%, their transpose stays in
 * L2).
 */
#define ROWS_MAX_CHANNELS 8
#define ROWS_MIN_OUT_BYTES (1 << 20)

/* Output rows per band: about 100 KB of buffer at conv1. */
#define BAND_OUT_ROWS 16

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Ungrouped layers with R*S > 1, column stride 1 or 2, no dilation and
 * rows of 24 outputs or more, within the limits above. */
int direct_rows_applies(const conv_desc *d)
{
    return d->groups == 1 && d->r * d->s > 1 && d->stride_w <= 2
           && d->dil_h == 1 && d->dil_w == 1 && d->q >= 24
           && d->c <= ROWS_MAX_CHANNELS
           && d->k * d->p * d->q * (int64_t)sizeof(float)
              >= ROWS_MIN_OUT_BYTES;
}

/* Floats of one column phase of a buffered row. */
static int64_t phase_len(const conv_desc *d)
{
    return d->q - 1 + ceil_div(d->s, d->stride_w);
}

/* Output rows per band: bands of about BAND_OUT_ROWS rows, their count
 * a multiple of the threads when one image cannot feed them all. */
static int64_t band_rows(const conv_desc *d, int threads)
{
    int64_t bands = ceil_div(d->p, BAND_OUT_ROWS);

    if (d->n < threads)
        bands = ceil_div(bands, threads) * threads;
    return ceil_div(d->p, bands < d->p ? bands : d->p);
}

/* Input rows one band reads. */
static int64_t band_in_rows(const conv_desc *d, int threads)
{
    return (band_rows(d, threads) - 1) * d->stride_h + d->r;
}

/* Each thread's band buffer. */
size_t direct_rows_workspace(const conv_desc *d, int threads)
{
    size_t band = direct_whole_lines((size_t)(d->c
                                              * band_in_rows(d, threads)
                                              * d->stride_w * phase_len(d)));

    return band * (size_t)threads * sizeof(float);
}

/* off[(c * R + r) * S + s]: where tap (c, r, s) of an output row's
 * first output is in the band buffer, from its first input row. */
void direct_rows_offsets(const conv_desc *d, int threads, ptrdiff_t *off)
{
    int64_t rows = band_in_rows(d, threads), len = phase_len(d);
    int64_t sw = d->stride_w;

    for (int64_t c = 0; c < d->c; c++)
        for (int64_t r = 0; r < d->r; r++)
            for (int64_t s = 0; s < d->s; s++)
                *off++ = ((c * rows + r) * sw + s % sw) * len + s / sw;
}

/* Column phase f of input row ih of plane x into dst[len], zeros
 * outside the input. */
static void fill_phase(const conv_desc *d, const float *x, int64_t ih,
                       int64_t f, float *dst)
{
    int64_t len = phase_len(d), sw = d->stride_w, j = 0;
    /* Columns j * sw + f - pad_left inside [0, w) for j in [lo, hi). */
    int64_t first = f - d->pad_left;
    int64_t lo = first >= 0 ? 0 : ceil_div(-first, sw);
    int64_t hi = d->w - first <= 0 ? 0 : ceil_div(d->w - first, sw);

    if (ih < 0 || ih >= d->h)
        lo = hi = len;
    hi = hi < len ? hi : len;
    for (; j < lo && j < len; j++)
        dst[j] = 0.0f;
    for (; j < hi; j++)
        dst[j] = x[ih * d->w + j * sw + first];
    for (; j < len; j++)
        dst[j] = 0.0f;
}

/* Band [p0, p1) of image img: its input rows into buf, then each output
 * row, DIRECT_ROW_OC output channels at a time; channels outermost, so
 * that their weights (2.3 KB at conv1) stay in L1 over the band rather
 * than all 37 KB passing through it for every row (conv1 0.72x -> 0.78x
 * onednn on a 32 KB L1, one thread, interleaved, three runs each). */
static void run_band(const direct_plan *pl, const float *x, float *y,
                     float *buf, int64_t img, int64_t p0, int64_t p1)
{
    const conv_desc *d = pl->d;
    int64_t rows = band_in_rows(d, pl->threads), len = phase_len(d);
    int64_t ih0 = p0 * d->stride_h - d->pad_top, plane = d->p * d->q;
    int64_t taps = d->c * d->r * d->s;
    direct_rows r;

    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < (p1 - p0 - 1) * d->stride_h + d->r; i++)
            for (int64_t f = 0; f < d->stride_w; f++)
                fill_phase(d, x + (img * d->c + c) * d->h * d->w, ih0 + i,
                           f, buf + ((c * rows + i) * d->stride_w + f) * len);

    r.off = pl->off;
    r.channels = taps;
    r.n = d->q;
    r.y_k = plane;
    for (int64_t k0 = 0; k0 < d->k; k0 += DIRECT_ROW_OC)
        for (int64_t oh = p0; oh < p1; oh++) {
            r.x = buf + (oh - p0) * d->stride_h * d->stride_w * len;
            r.w = pl->wb + k0 * taps;
            r.bias = pl->bb + k0;
            r.y = y + (img * d->k + k0) * plane + oh * d->q;
            r.nk = (int)(d->k - k0 < DIRECT_ROW_OC ? d->k - k0
                                                  : DIRECT_ROW_OC);
            pl->isa->rows(&r);
        }
}

void direct_rows_execute(const direct_plan *pl, const float *x, float *y,
                         float *ws)
{
    const conv_desc *d = pl->d;
    int64_t band = band_rows(d, pl->threads), bands = ceil_div(d->p, band);
    size_t per = direct_rows_workspace(d, pl->threads) / sizeof(float)
                 / (size_t)pl->threads;

    /* Static: each thread reads and writes the same rows every time. */
    #pragma omp parallel for schedule(static) num_threads(pl->threads)
    for (int64_t i = 0; i < d->n * bands; i++) {
        int64_t p0 = i % bands * band, p1 = p0 + band;

        run_band(pl, x, y, ws + omp_get_thread_num() * per, i / bands, p0,
                 p1 < d->p ? p1 : d->p);
    }
}
