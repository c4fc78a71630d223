/*
 * fft: stride-1 convolution in the frequency domain, tiled by
 * overlap-save.
 *
 * A th x tw tile of input, circularly correlated with the filter
 * zero-padded to th x tw, yields mh = th - R + 1 by mw = tw - S + 1
 * outputs that do not wrap around. Neighbouring tiles overlap by R - 1
 * rows (S - 1 columns) of input and own disjoint outputs. For real data
 * the correlation is, per frequency f of the real-to-complex transform,
 * a product with the conjugated filter spectrum, and summed over input
 * channels it is one complex matrix product per frequency over all tiles
 * of a block:
 *   Y[f][k][t] = sum_c conj(Wf[f][k][c]) * X[f][c][t].
 *
 * Overlap-save rather than overlap-add: the same number of transforms,
 * but every output is written once instead of accumulated from up to
 * four tiles, so tiles are independent across threads and the bias is
 * added once.
 *
 * execute walks blocks of tiles of one group; for each block all threads
 * transform the input (X), multiply per frequency (Y) and transform back
 * into the output.
 */
#include "fft.h"

#include <fftw3.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

const int fft_sizes[] = {4, 8, 12, 16, 24, 32, 48, 64};
const int fft_nsizes = sizeof fft_sizes / sizeof fft_sizes[0];

/* Bytes of X and Y a block aims for: the spectra a block writes in the
 * input phase should still be cached when the multiply reads them. */
#define BLOCK_BYTES ((int64_t)4 << 20)
/* Fewer tiles per block than this and the filter spectra, read once per
 * block, cost more memory traffic than the products they feed. */
#define BLOCK_MIN_TILES 16

/*
 * Cost model constants, in ns, from single-thread timings on the
 * development machine (FFTW_ESTIMATE plans, the AVX2 product kernel):
 * per transform call; per sample and log2(samples) of one transform
 * (0.15-0.19 measured for sides 4 to 64 without a factor 3); per sample
 * for loading a tile and spreading its spectrum into lane elements, or
 * the reverse; per complex multiply-add; per complex filter coefficient
 * streamed from memory once per block. Sides of 24 and 48 transform
 * 1.3-1.5x slower per sample than the powers of two around them.
 */
#define NS_FFT_CALL 20.0
#define NS_FFT_POINT 0.16
#define NS_FFT_SAMPLE 0.9
#define FFT_SLOW_SIDE 1.4
#define NS_CMAC 0.12
#define NS_WEIGHT 0.6

/* FFTW's planner and plan destruction are not thread-safe; execution of
 * a finished plan on new arrays is. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Geometry ------------------------------------------------------- */

static int64_t div_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static size_t round64(size_t bytes)
{
    return (bytes + 63) & ~(size_t)63;
}

/*
 * Along one axis: output o reads input [o - pad, o - pad + k). The live
 * outputs [lo, hi) read at least one of the input samples [0, lim) that
 * any output reads; the rest see only padding.
 */
static void live_range(int64_t out, int64_t in, int64_t pad, int64_t k,
                       int64_t *lo, int64_t *hi, int64_t *lim)
{
    *lim = min64(in, out - 1 - pad + k);
    *lo = max64(0, pad - k + 1);
    *hi = min64(out, *lim + pad);
    if (*lim <= 0 || *hi <= *lo)
        *lo = *hi = 0;
}

/* Tiles per block: X and Y near BLOCK_BYTES, at least BLOCK_MIN_TILES,
 * balanced so the last block is not a sliver. */
static int64_t tiles_per_block(const fft_geom *q)
{
    int64_t per_tile = q->nfb * (q->cg + q->kg) * FFT_ELEM * 4;
    int64_t cap = max64(BLOCK_MIN_TILES, BLOCK_BYTES / per_tile);

    if (q->tiles == 0)
        return 0;
    return div_up(q->tiles, div_up(q->tiles, cap));
}

int fft_geom_init(const conv_desc *d, int th, int tw, fft_geom *q)
{
    size_t bytes;

    q->d = d;
    q->th = th;
    q->tw = tw;
    q->mh = th - (int)d->r + 1;
    q->mw = tw - (int)d->s + 1;
    q->nf = (int64_t)th * (tw / 2 + 1);
    q->nfb = div_up(q->nf, FFT_LANES);
    q->cg = d->c / d->groups;
    q->kg = d->k / d->groups;
    live_range(d->p, d->h, d->pad_top, d->r, &q->oy0, &q->oy1, &q->hlim);
    live_range(d->q, d->w, d->pad_left, d->s, &q->ox0, &q->ox1, &q->wlim);
    q->ty = div_up(q->oy1 - q->oy0, q->mh);
    q->tx = div_up(q->ox1 - q->ox0, q->mw);
    q->tiles = q->ty * q->tx == 0 ? 0 : d->n * q->ty * q->tx;
    q->nb = tiles_per_block(q);

    /* X and Y of one block, in bytes. */
    return conv_mul_size((size_t)q->nfb * FFT_ELEM * 4,
                         (size_t)(q->cg + q->kg), &bytes)
           && conv_mul_size(bytes, (size_t)q->nb, &bytes);
}

/* FFTW's relative speed per sample on a side: factors of 3 past 12
 * take its slower codelets. */
static double side_factor(int side)
{
    return side > 12 && side % 3 == 0 ? FFT_SLOW_SIDE : 1.0;
}

double fft_model_ns(const conv_desc *d, int th, int tw)
{
    fft_geom q;
    double transforms, samples, blocks, per_point;

    if (!fft_geom_init(d, th, tw, &q))
        return INFINITY;
    transforms = (double)(d->c + d->k) * (double)q.tiles;
    samples = (double)th * tw;
    blocks = q.tiles == 0 ? 0.0 : (double)div_up(q.tiles, q.nb);
    per_point = NS_FFT_POINT * side_factor(th) * side_factor(tw);
    return transforms * (NS_FFT_CALL + NS_FFT_SAMPLE * samples
                         + per_point * samples * log2(samples))
           + NS_CMAC * (double)q.nfb * FFT_LANES * (double)d->k
             * (double)q.cg * (double)q.tiles
           + NS_WEIGHT * (double)q.nfb * FFT_LANES * (double)d->k
             * (double)q.cg * blocks;
}

/*
 * Smallest side of the list >= k, and how many sides to try along an
 * axis: no larger than the first that covers the live outputs in one
 * tile, since a larger one only transforms more padding.
 */
static int sizes_to_try(int64_t k, int64_t live, int *first)
{
    int i = 0, n;

    while (i < fft_nsizes && fft_sizes[i] < k)
        i++;
    *first = i;
    for (n = i; n < fft_nsizes; n++)
        if (fft_sizes[n] - k + 1 >= live) {
            n++;
            break;
        }
    return n;
}

void fft_pick_size(const conv_desc *d, int *th, int *tw)
{
    fft_geom q;
    double best = INFINITY;
    int h0, w0, hn, wn;

    fft_geom_init(d, FFT_MAX_SIZE, FFT_MAX_SIZE, &q);
    hn = sizes_to_try(d->r, q.oy1 - q.oy0, &h0);
    wn = sizes_to_try(d->s, q.ox1 - q.ox0, &w0);
    *th = fft_sizes[h0];
    *tw = fft_sizes[w0];
    for (int i = h0; i < hn; i++)
        for (int j = w0; j < wn; j++) {
            double ns = fft_model_ns(d, fft_sizes[i], fft_sizes[j]);

            if (ns < best) {
                best = ns;
                *th = fft_sizes[i];
                *tw = fft_sizes[j];
            }
        }
}

/* Bytes of one thread's tile buffers: th x tw reals, nf complex. */
static size_t thread_bytes(const fft_geom *q)
{
    return round64((size_t)q->th * q->tw * sizeof(float))
           + round64((size_t)q->nf * 2 * sizeof(float));
}

/* Workspace: X and Y of one block, then every thread's tile buffers;
 * SIZE_MAX on overflow. */
static size_t geom_workspace(const fft_geom *q, int threads, size_t *x_bytes,
                             size_t *y_bytes)
{
    size_t elem = (size_t)q->nfb * FFT_ELEM * sizeof(float);
    size_t x, y, t, total;

    if (!conv_mul_size(elem, (size_t)q->cg, &x)
        || !conv_mul_size(x, (size_t)q->nb, &x)
        || !conv_mul_size(elem, (size_t)q->kg, &y)
        || !conv_mul_size(y, (size_t)q->nb, &y)
        || !conv_mul_size(thread_bytes(q), (size_t)threads, &t)
        || x > SIZE_MAX / 4 || y > SIZE_MAX / 4 || t > SIZE_MAX / 4)
        return SIZE_MAX;
    *x_bytes = round64(x);
    *y_bytes = round64(y);
    total = *x_bytes + *y_bytes + t;
    return total;
}

/*
 * TODO: stride 2 could run as four stride-1 transforms of the input's and
 * the kernel's polyphase parts (even / odd rows and columns), summed;
 * without it strided layers with large kernels (ResNet's 7x7/2 stem) are
 * left to direct and im2col_gemm.
 */
static int fft_applies(const conv_desc *d, char *why, size_t n)
{
    if (d->stride_h != 1 || d->stride_w != 1)
        return conv_why(why, n, "needs stride 1 (got %lldx%lld)",
                        (long long)d->stride_h, (long long)d->stride_w);
    if (d->dil_h != 1 || d->dil_w != 1)
        return conv_why(why, n, "needs no dilation (got dilation "
                        "%lldx%lld)", (long long)d->dil_h,
                        (long long)d->dil_w);
    if (d->r > FFT_MAX_SIZE || d->s > FFT_MAX_SIZE)
        return conv_why(why, n, "kernel %lldx%lld: at most %dx%d, the "
                        "largest transform", (long long)d->r,
                        (long long)d->s, FFT_MAX_SIZE, FFT_MAX_SIZE);
    if (d->c / d->groups > INT_MAX || d->k / d->groups > INT_MAX)
        return conv_why(why, n, "channels per group (%lld in, %lld out): "
                        "must fit a BLAS int (%d)",
                        (long long)(d->c / d->groups),
                        (long long)(d->k / d->groups), INT_MAX);
    return 1;
}

static size_t fft_workspace(const conv_desc *d, int threads)
{
    fft_geom q;
    size_t x, y;
    int th, tw;

    fft_pick_size(d, &th, &tw);
    if (!fft_geom_init(d, th, tw, &q))
        return SIZE_MAX;
    return geom_workspace(&q, threads, &x, &y);
}

/* ---- Pointwise products ------------------------------------------- */

/* The portable fft_multiply_fn: one lane element of y at a time. */
static void multiply_portable(const float *w, const float *x, float *y,
                              int64_t kg, int64_t cg, int64_t nt,
                              int64_t ld)
{
    for (int64_t k = 0; k < kg; k++)
        for (int64_t t = 0; t < nt; t++) {
            float re[FFT_LANES] = {0}, im[FFT_LANES] = {0};

            for (int64_t c = 0; c < cg; c++) {
                const float *we = w + (k * cg + c) * FFT_ELEM;
                const float *xe = x + (c * ld + t) * FFT_ELEM;

                for (int l = 0; l < FFT_LANES; l++) {
                    re[l] += we[l] * xe[l] - we[FFT_LANES + l]
                             * xe[FFT_LANES + l];
                    im[l] += we[l] * xe[FFT_LANES + l]
                             + we[FFT_LANES + l] * xe[l];
                }
            }
            memcpy(y + (k * ld + t) * FFT_ELEM, re, sizeof re);
            memcpy(y + (k * ld + t) * FFT_ELEM + FFT_LANES, im, sizeof im);
        }
}

static fft_multiply_fn pick_multiply(void)
{
    if (conv_cpu_avx2_fma())
        return fft_multiply_avx2;
    return multiply_portable;
}

/* ---- Plans ---------------------------------------------------------- */

typedef struct fft_state {
    fft_geom q;
    fftwf_plan forward;     /* r2c of one tile */
    fftwf_plan inverse;     /* c2r of one tile */
    float *w;               /* W[g][fb][k][c], lane elements */
    float *bias;            /* [K], zeros without a bias */
    size_t x_bytes, y_bytes, ws_bytes;
    fft_multiply_fn multiply;
} fft_state;

static void fft_destroy(void *state)
{
    fft_state *st = state;

    if (st == NULL)
        return;
    pthread_mutex_lock(&planner_lock);
    if (st->forward != NULL)
        fftwf_destroy_plan(st->forward);
    if (st->inverse != NULL)
        fftwf_destroy_plan(st->inverse);
    pthread_mutex_unlock(&planner_lock);
    conv_free(st->w);
    conv_free(st->bias);
    conv_free(st);
}

/*
 * NOTE: FFTW_ESTIMATE, not FFTW_MEASURE. Measured on the development
 * machine, the estimated plans of sides 8 to 64 ran within 5% of the
 * measured ones (24x24 was the exception, 15% slower), while measuring
 * took 6 to 78 ms per size in every plan creation, against 0.5 ms, and
 * wisdom kept across processes would make a plan's speed depend on what
 * ran before. The plans are made on 64-byte aligned scratch, as the
 * workspace buffers execute passes are aligned.
 */
static conv_status make_fftw_plans(fft_state *st)
{
    const fft_geom *q = &st->q;
    float *r = conv_alloc((size_t)q->th * q->tw * sizeof(float));
    fftwf_complex *c = conv_alloc((size_t)q->nf * sizeof(fftwf_complex));

    if (r != NULL && c != NULL) {
        pthread_mutex_lock(&planner_lock);
        st->forward = fftwf_plan_dft_r2c_2d(q->th, q->tw, r, c,
                                            FFTW_ESTIMATE);
        st->inverse = fftwf_plan_dft_c2r_2d(q->th, q->tw, c, r,
                                            FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner_lock);
    }
    conv_free(r);
    conv_free(c);
    if (r == NULL || c == NULL)
        return conv_fail(CONV_ENOMEM, "fft: cannot allocate planning "
                         "buffers");
    if (st->forward == NULL || st->inverse == NULL)
        return conv_fail(CONV_EINTERNAL, "fft: FFTW could not plan a "
                         "%dx%d transform", q->th, q->tw);
    return CONV_OK;
}

static conv_status fft_create(const conv_ctx *ctx, void **state)
{
    const conv_desc *d = ctx->desc;
    fft_state *st = conv_alloc(sizeof *st);
    size_t w_bytes;
    conv_status status;
    int th, tw;

    if (st == NULL)
        return conv_fail(CONV_ENOMEM, "fft: cannot allocate state");
    memset(st, 0, sizeof *st);
    fft_pick_size(d, &th, &tw);
    if (!fft_geom_init(d, th, tw, &st->q)
        || !conv_mul_size((size_t)st->q.nfb * FFT_ELEM * sizeof(float),
                          (size_t)d->k, &w_bytes)
        || !conv_mul_size(w_bytes, (size_t)st->q.cg, &w_bytes)) {
        fft_destroy(st);
        return conv_fail(CONV_EINVAL, "fft: filter spectra of k = %lld by "
                         "c/g = %lld %dx%d transforms: byte size overflows",
                         (long long)d->k, (long long)(d->c / d->groups),
                         th, tw);
    }
    st->ws_bytes = geom_workspace(&st->q, ctx->threads, &st->x_bytes,
                                  &st->y_bytes);
    st->multiply = pick_multiply();
    /* TODO: the spectra take about th*tw/(R*S) times the weights'
     * bytes (84 MiB for 512 -> 512 3x3 with 4x16 transforms); the cost
     * model charges streaming them but no size limit caps them. */
    st->w = conv_alloc(w_bytes);
    st->bias = conv_alloc((size_t)d->k * sizeof(float));
    if (st->w == NULL || st->bias == NULL) {
        fft_destroy(st);
        return conv_fail(CONV_ENOMEM, "fft: cannot allocate %zu bytes of "
                         "filter spectra", w_bytes);
    }

    status = make_fftw_plans(st);
    if (status != CONV_OK) {
        fft_destroy(st);
        return status;
    }
    *state = st;
    return CONV_OK;
}

/* ---- Filter spectra ------------------------------------------------- */

/* e^(+2 pi i j / n) for j < n, in double. */
static void twiddles(int n, double *re, double *im)
{
    const double two_pi = 6.283185307179586476925286766559;

    for (int j = 0; j < n; j++) {
        re[j] = cos(two_pi * j / n);
        im[j] = sin(two_pi * j / n);
    }
}

typedef struct spectrum_tables {
    double hre[FFT_MAX_SIZE], him[FFT_MAX_SIZE];   /* th-th roots */
    double wre[FFT_MAX_SIZE], wim[FFT_MAX_SIZE];   /* tw-th roots */
} spectrum_tables;

/*
 * The conjugated DFT of filter g[R][S] zero-padded to th x tw, scaled by
 * 1/(th*tw) (which the unnormalized inverse transform leaves over), in
 * double and rounded once, into lane elements `ld` floats apart from one
 * frequency group to the next. Rows first, then columns.
 */
static void filter_spectrum(const fft_geom *q, const spectrum_tables *tb,
                            const float *g, float *out, size_t ld)
{
    int nv = q->tw / 2 + 1, r = (int)q->d->r, s = (int)q->d->s;
    double are[FFT_MAX_SIZE][FFT_MAX_SIZE / 2 + 1];
    double aim[FFT_MAX_SIZE][FFT_MAX_SIZE / 2 + 1];
    double scale = 1.0 / ((double)q->th * q->tw);

    /* A[i][v] = sum_j g[i][j] e^(+2 pi i v j / tw) */
    for (int i = 0; i < r; i++)
        for (int v = 0; v < nv; v++) {
            double sr = 0.0, si = 0.0;

            for (int j = 0; j < s; j++) {
                int e = v * j % q->tw;

                sr += g[i * s + j] * tb->wre[e];
                si += g[i * s + j] * tb->wim[e];
            }
            are[i][v] = sr;
            aim[i][v] = si;
        }

    /* out[u][v] = sum_i A[i][v] e^(+2 pi i u i / th) */
    for (int u = 0; u < q->th; u++)
        for (int v = 0; v < nv; v++) {
            size_t f = (size_t)u * nv + v;
            float *o = out + f / FFT_LANES * ld + f % FFT_LANES;
            double sr = 0.0, si = 0.0;

            for (int i = 0; i < r; i++) {
                int e = u * i % q->th;

                sr += are[i][v] * tb->hre[e] - aim[i][v] * tb->him[e];
                si += are[i][v] * tb->him[e] + aim[i][v] * tb->hre[e];
            }
            o[0] = (float)(sr * scale);
            o[FFT_LANES] = (float)(si * scale);
        }
}

static conv_status fft_set_weights(const conv_ctx *ctx, void *state,
                                   const float *w, const float *b)
{
    const conv_desc *d = ctx->desc;
    fft_state *st = state;
    const fft_geom *q = &st->q;
    size_t ld = (size_t)q->kg * q->cg * FFT_ELEM;
    spectrum_tables tb;

    /* Lanes past nf stay zero. */
    memset(st->w, 0, (size_t)q->nfb * d->k * q->cg * FFT_ELEM
                     * sizeof(float));
    twiddles(q->th, tb.hre, tb.him);
    twiddles(q->tw, tb.wre, tb.wim);
    #pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t k = 0; k < d->k; k++) {
        int64_t g = k / q->kg, kk = k % q->kg;

        for (int64_t c = 0; c < q->cg; c++)
            filter_spectrum(q, &tb, w + (k * q->cg + c) * d->r * d->s,
                            st->w + (size_t)g * q->nfb * ld
                            + ((size_t)kk * q->cg + c) * FFT_ELEM, ld);
    }
    for (int64_t k = 0; k < d->k; k++)
        st->bias[k] = b != NULL ? b[k] : 0.0f;
    return CONV_OK;
}

/* ---- Execution ------------------------------------------------------ */

/* One block of tiles of one group. */
typedef struct fft_block {
    int64_t g;
    int64_t t0, nt;             /* first tile and count (nt <= nb) */
} fft_block;

/* One thread's tile buffers in the workspace. */
typedef struct tile_bufs {
    float *r;                   /* [th][tw] */
    float *spec;                /* [nf] complex */
} tile_bufs;

/* Tile t's image and its first output row and column. */
static void tile_origin(const fft_geom *q, int64_t t, int64_t *n,
                        int64_t *oy, int64_t *ox)
{
    int64_t per_image = q->ty * q->tx, rem = t % per_image;

    *n = t / per_image;
    *oy = q->oy0 + rem / q->tx * q->mh;
    *ox = q->ox0 + rem % q->tx * q->mw;
}

/* The th x tw input window of the outputs from (oy, ox) in one channel
 * plane, zero where it leaves [0, hlim) x [0, wlim). */
static void load_tile(const fft_geom *q, const float *plane, int64_t oy,
                      int64_t ox, float *r)
{
    const conv_desc *d = q->d;
    int64_t y0 = oy - d->pad_top, x0 = ox - d->pad_left;
    int64_t j0 = max64(0, -x0), j1 = min64(q->tw, q->wlim - x0);

    for (int i = 0; i < q->th; i++) {
        float *row = r + (size_t)i * q->tw;
        int64_t iy = y0 + i;

        memset(row, 0, (size_t)q->tw * sizeof(float));
        if (iy >= 0 && iy < q->hlim && j1 > j0)
            memcpy(row + j0, plane + iy * d->w + x0 + j0,
                   (size_t)(j1 - j0) * sizeof(float));
    }
}

/* Interleaved complex spec[nf] to lane elements `step` floats apart,
 * zero past nf. Whole groups first, in a loop the compiler vectorizes. */
static void to_lanes(const float *spec, int64_t nf, float *dst, size_t step)
{
    int64_t full = nf / FFT_LANES, f0 = full * FFT_LANES;

    for (int64_t fb = 0; fb < full; fb++, dst += step, spec += FFT_ELEM)
        for (int l = 0; l < FFT_LANES; l++) {
            dst[l] = spec[2 * l];
            dst[FFT_LANES + l] = spec[2 * l + 1];
        }
    if (f0 == nf)
        return;
    for (int64_t l = 0; l < FFT_LANES; l++) {
        int in = f0 + l < nf;

        dst[l] = in ? spec[2 * l] : 0.0f;
        dst[FFT_LANES + l] = in ? spec[2 * l + 1] : 0.0f;
    }
}

/* The inverse of to_lanes for the first nf frequencies. */
static void from_lanes(const float *src, size_t step, int64_t nf,
                       float *spec)
{
    int64_t full = nf / FFT_LANES, f0 = full * FFT_LANES;

    for (int64_t fb = 0; fb < full; fb++, src += step, spec += FFT_ELEM)
        for (int l = 0; l < FFT_LANES; l++) {
            spec[2 * l] = src[l];
            spec[2 * l + 1] = src[FFT_LANES + l];
        }
    for (int64_t l = 0; f0 + l < nf; l++) {
        spec[2 * l] = src[l];
        spec[2 * l + 1] = src[FFT_LANES + l];
    }
}

/* Input phase for tile i of the block in channel c: to X[.][c][i]. */
static void input_tile(const fft_state *st, const fft_block *b, int64_t c,
                       int64_t i, const float *x, float *xs,
                       const tile_bufs *tb)
{
    const fft_geom *q = &st->q;
    const conv_desc *d = q->d;
    int64_t n, oy, ox;

    tile_origin(q, b->t0 + i, &n, &oy, &ox);
    load_tile(q, x + (n * d->c + b->g * q->cg + c) * d->h * d->w, oy, ox,
              tb->r);
    fftwf_execute_dft_r2c(st->forward, tb->r, (fftwf_complex *)tb->spec);
    to_lanes(tb->spec, q->nf, xs + (c * q->nb + i) * FFT_ELEM,
             (size_t)q->cg * q->nb * FFT_ELEM);
}

/* Y[fb] = W[g][fb] X[fb] over the block's tiles. */
static void multiply_group(const fft_state *st, const fft_block *b,
                           int64_t fb, const float *xs, float *ys)
{
    const fft_geom *q = &st->q;
    size_t wf = ((size_t)b->g * q->nfb + fb) * q->kg * q->cg;

    st->multiply(st->w + wf * FFT_ELEM,
                 xs + (size_t)fb * q->cg * q->nb * FFT_ELEM,
                 ys + (size_t)fb * q->kg * q->nb * FFT_ELEM, q->kg, q->cg,
                 b->nt, q->nb);
}

/* The valid mh x mw corner of an inverse-transformed tile, plus the
 * bias, to the outputs from (oy, ox), cropped to the live outputs. */
static void store_tile(const fft_geom *q, const float *r, float bias,
                       float *plane, int64_t oy, int64_t ox)
{
    int64_t rows = min64(q->mh, q->oy1 - oy);
    int64_t cols = min64(q->mw, q->ox1 - ox);

    for (int64_t i = 0; i < rows; i++) {
        float *dst = plane + (oy + i) * q->d->q + ox;
        const float *src = r + i * q->tw;

        for (int64_t j = 0; j < cols; j++)
            dst[j] = src[j] + bias;
    }
}

/* Output phase for tile i of the block in channel k of the group:
 * Y[.][k][i] to y. */
static void output_tile(const fft_state *st, const fft_block *b, int64_t k,
                        int64_t i, const float *ys, float *y,
                        const tile_bufs *tb)
{
    const fft_geom *q = &st->q;
    const conv_desc *d = q->d;
    int64_t kk = b->g * q->kg + k;
    int64_t n, oy, ox;

    from_lanes(ys + (k * q->nb + i) * FFT_ELEM,
               (size_t)q->kg * q->nb * FFT_ELEM, q->nf, tb->spec);
    fftwf_execute_dft_c2r(st->inverse, (fftwf_complex *)tb->spec, tb->r);
    tile_origin(q, b->t0 + i, &n, &oy, &ox);
    store_tile(q, tb->r, st->bias[kk], y + (n * d->k + kk) * d->p * d->q,
               oy, ox);
}

/* Outputs whose window lies wholly in the padding: the bias alone. */
static void fill_dead(const fft_state *st, float *y)
{
    const fft_geom *q = &st->q;
    const conv_desc *d = q->d;

    #pragma omp for schedule(static)
    for (int64_t plane = 0; plane < d->n * d->k; plane++) {
        float bias = st->bias[plane % d->k];
        float *yp = y + plane * d->p * d->q;

        for (int64_t oy = 0; oy < d->p; oy++)
            for (int64_t ox = 0; ox < d->q; ox++)
                if (oy < q->oy0 || oy >= q->oy1 || ox < q->ox0
                    || ox >= q->ox1)
                    yp[oy * d->q + ox] = bias;
    }
}

/* The three phases of one block, run by every thread of the team; the
 * first thread adds each phase's wall time (barrier to barrier) to t. */
static void run_block(const fft_state *st, const fft_block *b,
                      const float *x, float *y, float *xs, float *ys,
                      const tile_bufs *tb, double *t)
{
    const fft_geom *q = &st->q;
    int timer = t != NULL && omp_get_thread_num() == 0;
    double t0 = timer ? conv_now() : 0.0, t1 = 0.0, t2 = 0.0;

    /* (channel, tile) items, so few channels still spread over threads;
     * a static schedule keeps a channel's tiles together. */
    #pragma omp for schedule(static)
    for (int64_t i = 0; i < q->cg * b->nt; i++)
        input_tile(st, b, i / b->nt, i % b->nt, x, xs, tb);
    if (timer)
        t1 = conv_now();

    #pragma omp for schedule(static)
    for (int64_t fb = 0; fb < q->nfb; fb++)
        multiply_group(st, b, fb, xs, ys);
    if (timer)
        t2 = conv_now();

    #pragma omp for schedule(static)
    for (int64_t i = 0; i < q->kg * b->nt; i++)
        output_tile(st, b, i / b->nt, i % b->nt, ys, y, tb);
    if (timer) {
        t[0] += t1 - t0;
        t[1] += t2 - t1;
        t[2] += conv_now() - t2;
    }
}

static tile_bufs thread_bufs(const fft_state *st, void *ws)
{
    char *base = (char *)ws + st->x_bytes + st->y_bytes
                 + (size_t)omp_get_thread_num() * thread_bytes(&st->q);
    tile_bufs tb;

    tb.r = (float *)base;
    tb.spec = (float *)(base + round64((size_t)st->q.th * st->q.tw
                                       * sizeof(float)));
    return tb;
}

static conv_status fft_execute(const conv_ctx *ctx, void *state,
                               const float *x, float *y, void *ws)
{
    const fft_state *st = state;
    const fft_geom *q = &st->q;
    const conv_desc *d = ctx->desc;
    float *xs = ws;
    float *ys = (float *)((char *)ws + st->x_bytes);
    int64_t nblk = q->tiles == 0 ? 0 : div_up(q->tiles, q->nb);
    int dead = q->oy0 > 0 || q->oy1 < d->p || q->ox0 > 0 || q->ox1 < d->q;
    double t[3] = {0.0, 0.0, 0.0};

    #pragma omp parallel num_threads(ctx->threads)
    {
        tile_bufs tb = thread_bufs(st, ws);
        double t0 = conv_now();

        if (dead)
            fill_dead(st, y);
        if (ctx->profile && omp_get_thread_num() == 0)
            t[2] += conv_now() - t0;
        /* TODO: each group of each block runs three phases between
         * barriers, so depthwise layers pay 3*C barriers per block;
         * blocks spanning groups would remove most of them. */
        for (int64_t i = 0; i < d->groups * nblk; i++) {
            fft_block b;

            b.g = i / nblk;
            b.t0 = i % nblk * q->nb;
            b.nt = min64(q->nb, q->tiles - b.t0);
            run_block(st, &b, x, y, xs, ys, &tb, ctx->profile ? t : NULL);
        }
    }

    if (ctx->profile) {
        ctx->profile->input_transform += t[0];
        ctx->profile->multiply += t[1];
        ctx->profile->output_transform += t[2];
    }
    return CONV_OK;
}

static void fft_describe(const conv_ctx *ctx, const void *state, char *buf,
                         size_t n)
{
    const fft_state *st = state;
    const fft_geom *q = &st->q;

    snprintf(buf, n, "fft tile %dx%d (%dx%d outputs), %lld tiles/block, "
             "ws %.1f MiB", q->th, q->tw, q->mh, q->mw, (long long)q->nb,
             (double)st->ws_bytes / (1 << 20));
}

const conv_algo conv_algo_fft = {
    .name = "fft",
    .applies = fft_applies,
    .workspace_bytes = fft_workspace,
    .create = fft_create,
    .set_weights = fft_set_weights,
    .execute = fft_execute,
    .describe = fft_describe,
    .destroy = fft_destroy,
};
