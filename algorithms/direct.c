/*
 * direct: the convolution as loops over blocked layouts, with a
 * register-tiled FMA micro-kernel (direct_avx2.c) or its portable twin
 * (direct_c.c), chosen when a plan is made. Layouts are in direct.h.
 *
 * set_weights packs w[K][C/G][R][S] once into blocks of 8 input x 8
 * output channels, grouped by register tile (up to 4 oc blocks), zeros
 * past the last channel. execute transposes x (NCHW) into blocks of 8
 * channels, either
 *   - whole images first (parallel over rows), then work items (image,
 *     group, oc group, band of output rows) over the threads, when the
 *     packed image is small enough to stay in L2; or
 *   - band by band inside work items (image, group, band), each packing
 *     the input rows its band reads and running every oc group over them,
 *     so that x, its packed copy and y do not cross L3 twice more.
 * While a pass runs, its tiles prefetch the weights of the next pass
 * towards L2, a line per tap step, when the weights are too large to
 * stay there (res4's and res5's layers).
 * An item sweeps its band once per pass of input-channel blocks and moves
 * the result into y (NCHW) while it is in cache; in 1x1 layers every 24
 * finished pixels go at once, so that those cache-missing stores overlap
 * the FMAs.
 *
 * Padding costs nothing: the output pixels are split into rectangles
 * whose valid kernel taps agree (the interior, each border row and
 * column, the corners), and a tile never leaves its rectangle, so no tap
 * ever reads outside the input. A rectangle is tiled along rows or, when
 * that leaves fewer tiles, down columns (a 1-wide border column of 56
 * rows is 19 tiles instead of 56).
 *
 * A kernel dimension of extent 1 reads only the input rows (columns)
 * o*stride - pad, so packing keeps just those: the kernel then sees
 * stride 1 and no padding there, and a stride-2 1x1 layer packs a quarter
 * of its input.
 *
 * Depthwise (one input and one output channel per group) has its own
 * kernel: lanes are 8 groups, each multiplying its own channel.
 *
 * 1x1 layers with stride 1, no padding and large enough planes, and
 * layers with few input channels and a spatial kernel (conv1), take
 * paths without blocked layouts instead (direct_1x1.c, direct_rows.c).
 */
#include "algo.h"
#include "direct.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output pixels per work item, so that a band's blocked output (128
 * bytes a pixel at 4 oc blocks) stays in L1 and L2. */
#define BAND_PIXELS 256

/* Packed images above this size are packed band by band inside the
 * work items instead: the image, its packed copy and the output would
 * not stay in L2 together, and every byte would cross L3 twice more. */
#define SHARED_PACK_BYTES (512 << 10)

/* Weight bytes of one oc group in one pass over a band (measured on
 * ResNet-50: 32 KB to 128 KB alike, 4% faster than no limit on res5's
 * 3x3 layer). */
#define PASS_WEIGHT_BYTES (128 << 10)

/* With several threads, 1x1 layers with at most this many weight bytes
 * pack by band even when small (see layout_init). */
#define OWN_BAND_WEIGHT_BYTES (512 << 10)

/* Packed weights from this size on are prefetched pass by pass: they
 * do not stay in L2 (1 MB a core on Zen 4) from one execute to the
 * next. */
#define PREFETCH_WEIGHT_BYTES (1 << 20)

/* Input pixels per packing job: enough to amortize the call. */
#define PACK_PIXELS 512

/* Output pixels moved into y at a time while a 1x1 band is computed: a
 * multiple of 8 (the transpose) and of every tile's pixel count. */
#define STREAM_PIXELS 24

static direct_isa_choice isa_choice = DIRECT_ISA_AUTO;

void direct_choose_isa(direct_isa_choice choice)
{
    isa_choice = choice;
}

static const direct_isa *pick_isa(void)
{
    const char *env = getenv("CONVBENCH_NO_AVX2");

    if (isa_choice == DIRECT_ISA_PORTABLE
        || (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0))
        return &direct_isa_c;
    if (conv_cpu_avx2_fma())
        return &direct_isa_avx2;
    return &direct_isa_c;
}

const char *direct_isa_name(void)
{
    return pick_isa()->name;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Pixels per tile for nb oc blocks: 12 accumulators in all. */
static int tile_pixels(int nb)
{
    return DIRECT_ACCS / nb;
}

static void dim_init(direct_dim *dp, int64_t in, int64_t out, int64_t k,
                     int64_t stride, int64_t pad, int64_t dil)
{
    dp->orig = in;
    dp->out = out;
    if (k == 1) {
        dp->in = out;
        dp->k = dp->stride = dp->dil = 1;
        dp->pad = 0;
        dp->sub = stride;
        dp->off = -pad;
    } else {
        dp->in = in;
        dp->k = k;
        dp->stride = stride;
        dp->pad = pad;
        dp->dil = dil;
        dp->sub = 1;
        dp->off = 0;
    }
    dp->runs = NULL;
    dp->nruns = 0;
}

/* The taps of output o that land inside the packed input. */
static void tap_range(const direct_dim *dp, int64_t o, int *t0, int *nt)
{
    int64_t first = o * dp->stride - dp->pad;
    int64_t lo = first >= 0 ? 0 : (-first + dp->dil - 1) / dp->dil;
    int64_t hi = dp->in - 1 - first < 0 ? -1
                 : (dp->in - 1 - first) / dp->dil;

    hi = min64(hi, dp->k - 1);
    *nt = hi >= lo ? (int)(hi - lo + 1) : 0;
    *t0 = *nt > 0 ? (int)lo : 0;
}

/* Splits the outputs into runs of equal tap ranges; counts them when
 * runs is NULL. */
static int runs_fill(const direct_dim *dp, direct_run *runs)
{
    int n = 0, t0, nt, last_t0 = 0, last_nt = -1;

    for (int64_t o = 0; o < dp->out; o++) {
        tap_range(dp, o, &t0, &nt);
        if (t0 == last_t0 && nt == last_nt) {
            if (runs != NULL)
                runs[n - 1].o1 = o + 1;
            continue;
        }
        if (runs != NULL)
            runs[n] = (direct_run){o, o + 1, t0, nt};
        n++;
        last_t0 = t0;
        last_nt = nt;
    }
    return n;
}

static conv_status runs_build(direct_dim *dp)
{
    dp->nruns = runs_fill(dp, NULL);
    dp->runs = conv_alloc((size_t)dp->nruns * sizeof *dp->runs);
    if (dp->runs == NULL)
        return conv_fail(CONV_ENOMEM, "direct: cannot allocate %d tap "
                         "runs", dp->nruns);
    runs_fill(dp, dp->runs);
    return CONV_OK;
}

/* Rows per band: about `pixels` pixels, fewer until the `items` items a
 * band makes give each thread one or more and keep them 90% busy. */
static int64_t band_rows(const conv_desc *d, int64_t pixels, int64_t items,
                         int threads)
{
    int64_t rows = min64(d->p, d->q < pixels ? pixels / d->q : 1);

    for (; rows > 1 && threads > 1; rows--) {
        int64_t n = items * ceil_div(d->p, rows);
        double busiest = (double)ceil_div(n, threads) * (double)rows;
        double even = (double)items * (double)d->p / threads;

        if (n >= threads && even >= 0.9 * busiest)
            break;
    }
    return rows;
}

/* Channel blocks per pass over a band: an oc group's weights for one
 * pass (R*S*8*32 floats a block) stay in L2 beside the band, where a
 * 3x3 layer with 512 channels would otherwise stream 590 KB per tile. */
static int64_t chunk_blocks(const conv_desc *d, const direct_layout *l)
{
    int64_t block_bytes = d->r * d->s * DIRECT_MAX_NB * 64 * 4;
    int64_t n = PASS_WEIGHT_BYTES / block_bytes;

    return n < 1 ? 1 : min64(n, l->icb);
}

static void layout_init(direct_layout *l, const conv_desc *d, int threads)
{
    int64_t image_bytes, per_band;

    dim_init(&l->rows, d->h, d->p, d->r, d->stride_h, d->pad_top,
             d->dil_h);
    dim_init(&l->cols, d->w, d->q, d->s, d->stride_w, d->pad_left,
             d->dil_w);
    l->depthwise = d->c == d->groups && d->k == d->groups;
    l->groups = l->depthwise ? 1 : d->groups;
    l->cpg = d->c / l->groups;
    l->kpg = d->k / l->groups;
    l->icb = ceil_div(l->cpg, DIRECT_LANES);
    l->ocb = ceil_div(l->kpg, DIRECT_LANES);
    l->ocgs = l->depthwise ? l->icb : ceil_div(l->ocb, DIRECT_MAX_NB);
    image_bytes = l->groups * l->icb * DIRECT_LANES * l->rows.in
                  * l->cols.in * (int64_t)sizeof(float);
    /*
     * TODO: layers with a short sum per output that the NCHW paths do
     * not take (1x1 layers with under 512 pixels or with stride 2,
     * grouped ones) spend 10-40% of their time in the two NCHW
     * transposes, which the onednn rows do not count. mobilenet_v1's
     * conv1 (NCHW rows path) is still at 0.69x onednn: its 27 products
     * per output leave the kernel's loop overhead and the band copy
     * exposed.
     */
    /* Threads that pack a whole image together then read each other's
     * halves. Bands of a 1x1 layer (no halo to pack twice) that split
     * evenly keep each thread on its own rows, if every band can read
     * all the weights again from L2. */
    l->band_pack = !l->depthwise
                   && (image_bytes > SHARED_PACK_BYTES
                       || (threads > 1 && d->r == 1 && d->p % threads == 0
                           && conv_desc_weight_elems(d) * 4
                              <= OWN_BAND_WEIGHT_BYTES));
    l->images = l->band_pack ? d->n : min64(d->n, threads);
    per_band = l->images * l->groups * (l->band_pack ? 1 : l->ocgs);
    /* Wider bands when each re-packs its kernel's halo rows. */
    l->band = band_rows(d, l->band_pack && d->r > 1 ? 2 * BAND_PIXELS
                                                    : BAND_PIXELS,
                        per_band, threads);
    l->bands = ceil_div(d->p, l->band);
    l->band_in = min64(l->rows.in, (l->band - 1) * l->rows.stride
                                   + (l->rows.k - 1) * l->rows.dil + 1);
    l->chunk = chunk_blocks(d, l);
    l->pack_rows = min64(l->rows.in, ceil_div(PACK_PIXELS, l->cols.in));
}

/* First oc block and block count of oc group i (balanced: 5 blocks are
 * 2 + 3, not 4 + 1, so no tile runs with a single block). */
void direct_ocg_blocks(const direct_layout *l, int64_t i, int64_t *ob0,
                       int *nb)
{
    int64_t a = i * l->ocb / l->ocgs, b = (i + 1) * l->ocb / l->ocgs;

    *ob0 = a;
    *nb = (int)(b - a);
}

/* The workspace of layout l in floats; 0 on overflow. */
static int layout_floats(const direct_layout *l, const conv_desc *d,
                         direct_ws *f)
{
    size_t nb = l->depthwise ? 1 : DIRECT_MAX_NB, plane;
    int64_t rows = l->band_pack ? l->band_in : l->rows.in;

    if (!conv_mul_size((size_t)(l->icb * DIRECT_LANES),
                       (size_t)(rows * l->cols.in), &plane)
        || !conv_mul_size(nb * DIRECT_LANES, (size_t)(l->band * d->q),
                          &f->band_y))
        return 0;
    f->band_x = l->band_pack ? direct_whole_lines(plane) : 0;
    f->shared = 0;
    if (l->band_pack)
        return 1;
    if (!conv_mul_size(plane, (size_t)(l->images * l->groups), &f->shared))
        return 0;
    f->shared = direct_whole_lines(f->shared);
    return 1;
}

static int direct_applies(const conv_desc *d, char *why, size_t n)
{
    return 1;
}

static size_t direct_workspace(const conv_desc *d, int threads)
{
    direct_layout l;
    direct_ws f;
    size_t own, bytes;

    if (direct_1x1_applies(d))
        return direct_1x1_workspace(d, threads);
    if (direct_rows_applies(d))
        return direct_rows_workspace(d, threads);
    if (direct_dw_applies(d))
        return direct_dw_workspace(d, threads);
    layout_init(&l, d, threads);
    if (!layout_floats(&l, d, &f) || f.band_x > SIZE_MAX - f.band_y
        || !conv_mul_size(f.band_x + f.band_y, (size_t)threads, &own)
        || f.shared > SIZE_MAX - own
        || !conv_mul_size(f.shared + own, sizeof(float), &bytes))
        return SIZE_MAX;
    return bytes;
}

static void direct_destroy(void *state)
{
    direct_plan *pl = state;

    if (pl == NULL)
        return;
    conv_free(pl->lay.rows.runs);
    conv_free(pl->lay.cols.runs);
    conv_free(pl->wb);
    conv_free(pl->bb);
    conv_free(pl->off);
    free(pl);
}

static size_t packed_weight_floats(const direct_layout *l, const conv_desc *d)
{
    size_t per_lane = (size_t)(l->groups * l->icb * d->r * d->s);

    return l->depthwise ? per_lane * DIRECT_LANES
                        : per_lane * (size_t)l->ocb * 64;
}

static conv_status direct_create(const conv_ctx *ctx, void **state)
{
    const conv_desc *d = ctx->desc;
    direct_plan *pl = calloc(1, sizeof *pl);
    size_t wfloats;

    if (pl == NULL)
        return conv_fail(CONV_ENOMEM, "direct: cannot allocate a plan");
    pl->isa = pick_isa();
    pl->d = d;
    pl->nchw_1x1 = direct_1x1_applies(d);
    pl->nchw_rows = !pl->nchw_1x1 && direct_rows_applies(d);
    pl->nchw_dw = !pl->nchw_1x1 && !pl->nchw_rows && direct_dw_applies(d);
    pl->threads = ctx->threads;
    layout_init(&pl->lay, d, ctx->threads);
    layout_floats(&pl->lay, d, &pl->ws);
    wfloats = packed_weight_floats(&pl->lay, d);
    pl->wfloats = wfloats;
    pl->wb = conv_alloc(wfloats * sizeof(float));
    pl->bb = conv_alloc((size_t)(pl->lay.groups * pl->lay.ocb)
                        * DIRECT_LANES * sizeof(float));
    if (pl->wb == NULL || pl->bb == NULL) {
        direct_destroy(pl);
        return conv_fail(CONV_ENOMEM, "direct: cannot allocate %zu packed "
                         "weights", wfloats);
    }
    if (pl->nchw_rows || pl->nchw_dw)
        pl->off = conv_alloc((size_t)((pl->nchw_rows ? d->c : 1) * d->r
                                      * d->s) * sizeof *pl->off);
    if ((pl->nchw_rows || pl->nchw_dw) && pl->off == NULL) {
        direct_destroy(pl);
        return conv_fail(CONV_ENOMEM, "direct: cannot allocate tap "
                         "offsets");
    }
    if (pl->nchw_rows)
        direct_rows_offsets(d, ctx->threads, pl->off);
    if (pl->nchw_dw)
        direct_dw_offsets(d, pl->off);
    if (runs_build(&pl->lay.rows) != CONV_OK
        || runs_build(&pl->lay.cols) != CONV_OK) {
        direct_destroy(pl);
        return CONV_ENOMEM;
    }
    *state = pl;
    return CONV_OK;
}

static conv_status direct_set_weights(const conv_ctx *ctx, void *state,
                                      const float *w, const float *b)
{
    direct_plan *pl = state;

    if (pl->nchw_1x1 || pl->nchw_rows)
        direct_1x1_pack(pl, w, b);
    else if (pl->nchw_dw)
        direct_dw_pack(pl, w, b);
    else
        direct_pack_weights(pl, w, b);
    return CONV_OK;
}

/* Packed weight floats from one kernel tap to the next. */
static ptrdiff_t weight_tap(const direct_plan *pl, int nb)
{
    return pl->lay.depthwise ? DIRECT_LANES : (ptrdiff_t)64 * nb;
}

/* What one work item needs besides the plan. */
typedef struct item {
    const float *xg;     /* packed input of its image and group */
    const float *w;      /* its oc group's weights at the chunk's block */
    float *yb;           /* its thread's band buffer */
    int64_t p0, p1;      /* output rows */
    int64_t row0;        /* packed input row that xg starts with */
    ptrdiff_t x_cb;      /* floats from one channel block to the next */
    float *yg;           /* y of its image and group (NCHW) */
    int64_t ob0;         /* its first oc block */
    const char *pf, *pf_end;  /* weights to prefetch during the pass */
} item;

/* The kernel taps [0, nr) x [0, ns) of a rectangle, and the pointer
 * jumps that walk them block by block. */
static void tile_taps(const direct_plan *pl, const item *it,
                      direct_tile *t, int nr, int ns)
{
    ptrdiff_t w_s = weight_tap(pl, t->nb), w_r = pl->d->s * w_s;
    ptrdiff_t x_r = pl->lay.rows.dil * pl->lay.cols.in * DIRECT_LANES;

    t->nr = nr;
    t->ns = ns;
    t->x_row = x_r - ns * t->x_s;
    t->w_row = w_r - ns * w_s;
    t->x_blk = it->x_cb - nr * x_r;
    t->w_blk = pl->d->r * w_r - nr * w_r;
}

/* The tile at output (oh, ow) for taps from (r0, s0) on. */
static void tile_at(const direct_plan *pl, const item *it, direct_tile *t,
                    int64_t oh, int64_t ow, int r0, int s0)
{
    const direct_dim *rp = &pl->lay.rows, *cp = &pl->lay.cols;
    int64_t ih = oh * rp->stride - rp->pad + r0 * rp->dil;
    int64_t iw = ow * cp->stride - cp->pad + s0 * cp->dil;
    ptrdiff_t w_s = weight_tap(pl, t->nb);

    t->x = t->nr > 0 && t->ns > 0
           ? it->xg + ((ih - it->row0) * cp->in + iw) * DIRECT_LANES
           : it->xg;
    t->w = it->w + (r0 * pl->d->s + s0) * w_s;
    t->y = it->yb + ((oh - it->p0) * pl->d->q + ow) * DIRECT_LANES;
}

/* Whether whole output rows can be tiled as one run: the input pixel
 * after the last of a row is the first of the next (1x1 layers). */
static int rows_join(const direct_plan *pl, int64_t c0, int64_t c1)
{
    const direct_layout *l = &pl->lay;

    return c0 == 0 && c1 == pl->d->q
           && l->rows.stride * l->cols.in == pl->d->q * l->cols.stride;
}

/* Which lines of the next pass's weights the kernel call t prefetches:
 * one per tap step while they last (the rest at once when the call has
 * more lines left than steps). */
static void prefetch_slice(item *it, direct_tile *t)
{
    int64_t steps = (int64_t)t->tiles * (t->n_cb + (t->tail > 0)) * t->nr
                    * t->ns;
    int64_t left = (it->pf_end - it->pf) / 64;

    t->pf = it->pf;
    t->pf_step = 64;
    if (left >= steps) {
        it->pf += steps * 64;
        return;
    }
    for (; it->pf < it->pf_end; it->pf += 64)
        __builtin_prefetch(it->pf, 0, 2);
    /* Done: the kernel touches the tile's own first weights. */
    t->pf = (const char *)t->w;
    t->pf_step = 0;
}

/* The kernel calls for `len` pixels of a run from output (oh, ow), along
 * the row or down the column: the full tiles in one call, then the
 * rest. */
static void run_tiles(const direct_plan *pl, item *it, direct_tile *t,
                      int64_t oh, int64_t ow, int64_t len, int down, int r0,
                      int s0)
{
    void (*kernel)(const direct_tile *) =
        pl->lay.depthwise ? pl->isa->dw_tile : pl->isa->tile;
    int64_t most = tile_pixels(t->nb);

    for (int64_t j = 0; j < len; j += t->px * t->tiles) {
        t->tiles = len - j >= most ? (int)((len - j) / most) : 1;
        t->px = (int)min64(most, len - j);
        tile_at(pl, it, t, oh + (down ? j : 0), ow + (down ? 0 : j), r0, s0);
        prefetch_slice(it, t);
        kernel(t);
    }
}

/* Run direction: pixel steps in the input and in the band buffer. */
static void run_steps(const direct_plan *pl, direct_tile *t, int down)
{
    t->x_px = DIRECT_LANES * (down ? pl->lay.rows.stride * pl->lay.cols.in
                                   : pl->lay.cols.stride);
    t->y_px = DIRECT_LANES * (down ? pl->d->q : 1);
}

/*
 * Tiles the rectangle [a, b) x [c0, c1) of pixels with equal taps as
 * runs of pixels: along its rows, down its columns when that leaves
 * fewer tiles, or as a single run when its rows join.
 */
static void sweep_rect(const direct_plan *pl, item *it,
                       direct_tile *t, int64_t a, int64_t b, int64_t c0,
                       int64_t c1, int r0, int s0)
{
    int64_t most = tile_pixels(t->nb), h = b - a, w = c1 - c0;
    int join = rows_join(pl, c0, c1);
    int down = !join && w * ceil_div(h, most) < h * ceil_div(w, most);
    int64_t runs = join ? 1 : down ? w : h;
    int64_t len = join ? h * w : down ? h : w;

    run_steps(pl, t, down);
    for (int64_t i = 0; i < runs; i++)
        run_tiles(pl, it, t, down ? a : a + i, down ? c0 + i : c0, len,
                  down, r0, s0);
}

/* One pass over the item's band: every rectangle of equal taps. */
static void sweep_band(const direct_plan *pl, item *it,
                       direct_tile *t)
{
    const direct_dim *rp = &pl->lay.rows, *cp = &pl->lay.cols;

    for (int i = 0; i < rp->nruns; i++) {
        int64_t a = rp->runs[i].o0 > it->p0 ? rp->runs[i].o0 : it->p0;
        int64_t b = min64(rp->runs[i].o1, it->p1);

        if (a >= b)
            continue;
        for (int j = 0; j < cp->nruns; j++) {
            tile_taps(pl, it, t, rp->runs[i].nt, cp->runs[j].nt);
            sweep_rect(pl, it, t, a, b, cp->runs[j].o0, cp->runs[j].o1,
                       rp->runs[i].t0, cp->runs[j].t0);
        }
    }
}

/* Pixels [first, first + count) of the band's blocked output
 * [nb][pixels][8] into y (NCHW). */
static void unpack_range(const direct_plan *pl, const item *it, int nb,
                         int64_t first, int64_t count)
{
    const conv_desc *d = pl->d;
    int64_t pixels = (it->p1 - it->p0) * d->q;

    for (int ob = 0; ob < nb; ob++) {
        float *dst[DIRECT_LANES];

        for (int lane = 0; lane < DIRECT_LANES; lane++) {
            int64_t oc = (it->ob0 + ob) * DIRECT_LANES + lane;

            dst[lane] = oc < pl->lay.kpg
                        ? it->yg + (oc * d->p + it->p0) * d->q + first
                        : NULL;
        }
        pl->isa->unpack8(it->yb + (ob * pixels + first) * DIRECT_LANES,
                         dst, count);
    }
}

/*
 * The last pass over a band that is one run of pixels (1x1 layers),
 * moving each STREAM_PIXELS of output into y as soon as they are final:
 * the stores to y, which miss the caches, then overlap the next pixels'
 * FMAs instead of stalling a transpose of the whole band.
 */
static void sweep_streaming(const direct_plan *pl, item *it,
                            direct_tile *t)
{
    int64_t pixels = (it->p1 - it->p0) * pl->d->q;

    tile_taps(pl, it, t, pl->lay.rows.runs[0].nt, pl->lay.cols.runs[0].nt);
    run_steps(pl, t, 0);
    for (int64_t j = 0; j < pixels; j += STREAM_PIXELS) {
        int64_t n = min64(STREAM_PIXELS, pixels - j);

        run_tiles(pl, it, t, it->p0, j, n, 0, pl->lay.rows.runs[0].t0,
                  pl->lay.cols.runs[0].t0);
        unpack_range(pl, it, t->nb, j, n);
    }
}

/* Whether a band's pixels form one run with one set of taps, so that
 * sweep_streaming() applies. */
static int band_is_one_run(const direct_plan *pl)
{
    return pl->lay.rows.nruns == 1 && pl->lay.cols.nruns == 1
           && rows_join(pl, 0, pl->d->q);
}

/*
 * The weights a pass of n floats from it->w reads next, whichever comes
 * next (the next channel blocks, the next oc group, the next group):
 * packed oc groups follow each other, so they are the n floats after.
 * Read first by the pass's first tile, they would come from L3 at its
 * speed (res5's layers stream 2-9 MB of weights per image).
 */
static void next_weights(const direct_plan *pl, item *it, int64_t n)
{
    size_t at = (size_t)(it->w - pl->wb) + (size_t)n;

    /* Weights that stay in L2 need none, and the prefetches would evict
     * the pass's own weights from L1 (res3a_branch1: 0.88x -> 0.77x). */
    if (pl->wfloats * sizeof(float) < PREFETCH_WEIGHT_BYTES) {
        it->pf = it->pf_end = (const char *)it->w;
        return;
    }
    size_t a = at < pl->wfloats ? at : pl->wfloats;
    size_t b = at + (size_t)n < pl->wfloats ? at + (size_t)n : pl->wfloats;

    it->pf = (const char *)(pl->wb + a);
    it->pf_end = (const char *)(pl->wb + b);
}

/* Channel passes over the band, blocks [c0, c0 + chunk) each, then the
 * band into y. */
static void compute_item(const direct_plan *pl, item *it, int nb,
                         const float *bias)
{
    const direct_layout *l = &pl->lay;
    const float *w = it->w, *xg = it->xg;
    int tail = (int)(l->cpg % DIRECT_LANES);
    /* A depthwise item owns one channel block: one pass. */
    int64_t blocks = l->depthwise ? 1 : l->icb;
    ptrdiff_t w_cb = pl->d->r * pl->d->s * weight_tap(pl, nb);
    direct_tile t;

    t.nb = nb;
    t.x_s = l->cols.dil * DIRECT_LANES;
    t.y_ob = (it->p1 - it->p0) * pl->d->q * DIRECT_LANES;
    for (int64_t c0 = 0; c0 < blocks; c0 += l->chunk) {
        int64_t c1 = min64(blocks, c0 + l->chunk);

        t.bias = c0 == 0 ? bias : NULL;
        t.tail = c1 == l->icb && !l->depthwise ? tail : 0;
        t.n_cb = (int)(c1 - c0) - (t.tail > 0);
        it->w = w + c0 * w_cb;
        it->xg = xg + c0 * it->x_cb;
        next_weights(pl, it, (c1 - c0) * w_cb);
        if (c1 == blocks && band_is_one_run(pl)) {
            sweep_streaming(pl, it, &t);
            return;
        }
        sweep_band(pl, it, &t);
    }
    unpack_range(pl, it, nb, 0, (it->p1 - it->p0) * pl->d->q);
}

/* Work item `index` of the images packed in xb (shared packing), whose
 * outputs start at y: (image, group, oc group, band), band fastest. */
static void run_item(const direct_plan *pl, const float *xb, float *y,
                     float *yb, int64_t index)
{
    const direct_layout *l = &pl->lay;
    int64_t band = index % l->bands, ocg = index / l->bands % l->ocgs;
    int64_t g = index / (l->bands * l->ocgs) % l->groups;
    int64_t img = index / (l->bands * l->ocgs * l->groups), ob0;
    int64_t x_img = l->groups * l->icb * l->rows.in * l->cols.in;
    int nb = 1;
    item it;

    if (l->depthwise)
        ob0 = ocg;
    else
        direct_ocg_blocks(l, ocg, &ob0, &nb);
    it.xg = xb + (img * x_img + (l->depthwise ? ocg : g * l->icb)
                  * l->rows.in * l->cols.in) * DIRECT_LANES;
    it.w = direct_ocg_weights(pl, g, ocg);
    it.yb = yb;
    it.row0 = 0;
    it.x_cb = l->rows.in * l->cols.in * DIRECT_LANES;
    it.p0 = band * l->band;
    it.p1 = min64(pl->d->p, it.p0 + l->band);
    it.yg = y + (img * pl->d->k + g * l->kpg) * pl->d->p * pl->d->q;
    it.ob0 = ob0;
    compute_item(pl, &it, nb, pl->bb + (g * l->ocb + ob0) * DIRECT_LANES);
}

/* Band-packed work item `index`: (image, group, band), band fastest.
 * Packs the input rows the band reads into the thread's buffer xb, then
 * runs every oc group over them. */
static void run_band_item(const direct_plan *pl, const float *x, float *y,
                          float *xb, float *yb, int64_t index)
{
    const conv_desc *d = pl->d;
    const direct_layout *l = &pl->lay;
    int64_t band = index % l->bands, g = index / l->bands % l->groups;
    int64_t img = index / (l->bands * l->groups), ob0, rows;
    int nb;
    item it;

    it.p0 = band * l->band;
    it.p1 = min64(d->p, it.p0 + l->band);
    it.yb = yb;
    it.yg = y + (img * d->k + g * l->kpg) * d->p * d->q;
    it.row0 = it.p0 * l->rows.stride - l->rows.pad;
    it.row0 = it.row0 < 0 ? 0 : it.row0;
    it.x_cb = l->band_in * l->cols.in * DIRECT_LANES;
    x += img * d->c * d->h * d->w;
    rows = min64(l->band_in, l->rows.in - it.row0);
    for (int64_t cb = 0; cb < l->icb; cb++) {
        if (cb + 1 < l->icb)
            direct_prefetch_rows(pl, x, g, cb + 1, it.row0, rows);
        direct_pack_rows(pl, x, g, cb, it.row0, rows, xb + cb * it.x_cb);
    }

    for (int64_t ocg = 0; ocg < l->ocgs; ocg++) {
        direct_ocg_blocks(l, ocg, &ob0, &nb);
        it.xg = xb;
        it.w = direct_ocg_weights(pl, g, ocg);
        it.ob0 = ob0;
        compute_item(pl, &it, nb, pl->bb + (g * l->ocb + ob0) * DIRECT_LANES);
    }
}

/* Packs images [n0, n0 + count) and runs their work items; called by
 * every thread of the team. */
static void run_images(const direct_plan *pl, const float *x, float *y,
                       float *xb, float *yb, int64_t n0, int64_t count)
{
    const conv_desc *d = pl->d;
    const direct_layout *l = &pl->lay;
    int64_t planes = l->groups * l->icb, plane = l->rows.in * l->cols.in;
    int64_t runs = ceil_div(l->rows.in, l->pack_rows);
    int64_t items = l->groups * l->ocgs * l->bands;

    /*
     * Jobs of up to pack_rows rows of one channel block.
     * TODO: stride-2 1x1 layers on small planes (res4a_branch2a,
     * res5a_branch2a) spend 9-11% of their time here, gathering every
     * other row of x from L3 before the first FMA (perf samples, 1
     * thread; prefetching the next job's rows did not help). Packing
     * chunk by chunk inside the first oc group's passes, the kernel
     * prefetching the next chunk's rows, would overlap it with FMAs.
     */
    #pragma omp for schedule(static)
    for (int64_t i = 0; i < count * planes * runs; i++) {
        int64_t img = i / (planes * runs), pi = i / runs % planes;
        int64_t first = i % runs * l->pack_rows;

        direct_pack_rows(pl, x + (n0 + img) * d->c * d->h * d->w, pi / l->icb,
                  pi % l->icb, first, min64(l->pack_rows, l->rows.in - first),
                  xb + ((img * planes + pi) * plane + first * l->cols.in)
                       * DIRECT_LANES);
    }

    #pragma omp for schedule(static)
    for (int64_t i = 0; i < count * items; i++)
        run_item(pl, xb, y + n0 * d->k * d->p * d->q, yb, i);
}

static conv_status direct_execute(const conv_ctx *ctx, void *state,
                                  const float *x, float *y, void *ws)
{
    const direct_plan *pl = state;
    const direct_layout *l = &pl->lay;
    float *shared = ws;

    if (pl->nchw_1x1) {
        direct_1x1_execute(pl, x, y, ws, ctx->threads);
        return CONV_OK;
    }
    if (pl->nchw_rows) {
        direct_rows_execute(pl, x, y, ws);
        return CONV_OK;
    }
    if (pl->nchw_dw) {
        direct_dw_execute(pl, x, y, ws, ctx->threads);
        return CONV_OK;
    }
    #pragma omp parallel num_threads(ctx->threads)
    {
        float *xb = shared + pl->ws.shared + (size_t)omp_get_thread_num()
                             * (pl->ws.band_x + pl->ws.band_y);
        float *yb = xb + pl->ws.band_x;

        /* Static schedules: each thread gets the same items at every
         * execute, so its rows of x and y stay in its own L2 (dynamic
         * ones cost up to 15% on two threads). */
        if (l->band_pack) {
            #pragma omp for schedule(static)
            for (int64_t i = 0; i < pl->d->n * l->groups * l->bands; i++)
                run_band_item(pl, x, y, xb, yb, i);
        } else {
            for (int64_t n0 = 0; n0 < pl->d->n; n0 += l->images)
                run_images(pl, x, y, shared, yb, n0,
                           min64(l->images, pl->d->n - n0));
        }
    }
    return CONV_OK;
}

static void direct_describe(const conv_ctx *ctx, const void *state,
                            char *buf, size_t n)
{
    const direct_plan *pl = state;
    const direct_layout *l = &pl->lay;
    int64_t ob0;
    int nb;

    if (pl->nchw_1x1 || pl->nchw_rows) {
        snprintf(buf, n, "direct %s nchw %s, tile %d oc x 24 px",
                 pl->isa->name, pl->nchw_1x1 ? "1x1" : "rows",
                 DIRECT_ROW_OC);
        return;
    }
    if (pl->nchw_dw) {
        snprintf(buf, n, "direct %s nchw depthwise, tile 32 px",
                 pl->isa->name);
        return;
    }
    direct_ocg_blocks(l, 0, &ob0, &nb);
    if (l->depthwise)
        nb = 1;
    snprintf(buf, n, "direct %s%s, tile %d oc x %d px, %lld-row bands, "
             "%lld channels a pass, input packed %s, ws %.1f MiB",
             pl->isa->name, l->depthwise ? " depthwise" : "",
             nb * DIRECT_LANES, tile_pixels(nb), (long long)l->band,
             (long long)(l->depthwise ? 1 : l->chunk * DIRECT_LANES),
             l->band_pack ? "by band" : "whole",
             (double)direct_workspace(pl->d, ctx->threads) / (1 << 20));
}

const conv_algo conv_algo_direct = {
    .name = "direct",
    .applies = direct_applies,
    .workspace_bytes = direct_workspace,
    .create = direct_create,
    .set_weights = direct_set_weights,
    .execute = direct_execute,
    .describe = direct_describe,
    .destroy = direct_destroy,
};
