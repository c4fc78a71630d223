/*
 * winograd_f2x2, winograd_f4x4, winograd_f6x6: Lavin-Gray minimal
 * filtering F(m x m, 3x3) for 3x3 kernels with stride 1 and no dilation.
 *
 * In one dimension, m outputs of a 3-tap correlation of an alpha = m + 2
 * sample tile d with filter g are
 *   y = A^T [ (G g) .* (B^T d) ]
 * with alpha multiplications instead of 3m; in two dimensions
 *   Y = A^T [ (G g G^T) .* (B^T D B) ] A,
 * alpha^2 multiplications for m^2 outputs instead of 9 m^2. Summed over
 * input channels, the products at each of the alpha^2 transform points xi
 * form a matrix product over channels:
 *   M[xi][k][tile] = sum_c U[xi][k][c] * V[xi][c][tile],
 * U = G g G^T (once, in set_weights), V = B^T D B (per tile).
 *
 * execute walks blocks of tiles; for each block it transforms the input
 * (V), multiplies per point (M) and transforms the output (y), so the
 * block's V and M stay in cache between the three phases. Threads either
 * take whole blocks, each with its own V and M, or, when there are too
 * few blocks to share out, work on one block together, phase by phase.
 * Only outputs whose 3x3 window reaches the input are tiled; the others
 * are the bias. Layers of at most WINO_FUSED_MAX_C channels per group
 * take the fused path instead (winograd_fused.c) where the kernels have
 * it: spans of a tile row, the multiply inside the output transform.
 */
#include "winograd.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Bytes of V and M a block aims for: about half of a 2 MiB L2. */
#define BLOCK_BYTES ((int64_t)1 << 20)
/* Fewer tiles per block than this and U's traffic dominates. */
#define BLOCK_MIN_TILES 32
#define BLOCK_MAX_TILES 512

/*
 * Interpolation points (infinity is always the last point, not listed).
 * Every point is dyadic, so every entry of A^T and B^T is exact in fp32
 * (G is applied in double, once). Chosen by measuring the largest and
 * the mean error, in eps of sum |x*w|, over the 3x3 stride-1 layers of
 * the resnet_50, awkward, mobilenet_v1 and alexnet suites (38 layers,
 * batch 1, ref_fill_real data; mobilenet's depthwise layers are the
 * worst case, as one channel averages no rounding away):
 *   F(2x2): 0, +-1, the only symmetric choice: worst 7.5, mean 1.
 *   F(4x4): Lavin's 0, +-1, +-2 gave worst 106, mean 21; scaled by 3/4
 *     (0, +-3/4, +-3/2): worst 29, mean 7.4. Nearby sets (0, +-1, +-3/2;
 *     0, +-11/16, +-11/8; 0, +-3/4, +-7/4) measured the same within the
 *     noise, 0, +-1, +-1/2 twice as bad (191, 37).
 *   F(6x6): 0, +-1, +-2, +-1/2 gave worst 280, mean 58; moving +-1/2 to
 *     +-11/16 gave 174, 46 (+-9/16: 254, 53; +-5/8: 234, 52; +-3/4: 402,
 *     76). Scaling the whole set by 3/4 or 7/8 was far worse (3413, 538).
 */
static const double points_f2[] = {0.0, 1.0, -1.0};
static const double points_f4[] = {0.0, 0.75, -0.75, 1.5, -1.5};
static const double points_f6[] = {0.0, 1.0, -1.0, 2.0, -2.0, 0.6875,
                                   -0.6875};

static const double *points_for(int m)
{
    return m == 2 ? points_f2 : m == 4 ? points_f4 : points_f6;
}

/* Coefficients of prod over finite points l != skip of (x - p_l). */
static void poly_without(const double *p, int npts, int skip, double *c)
{
    int deg = 0;

    c[0] = 1.0;
    for (int l = 0; l < npts; l++) {
        if (l == skip)
            continue;
        c[deg + 1] = 0.0;
        for (int k = deg + 1; k > 0; k--)
            c[k] = c[k - 1] - p[l] * c[k];
        c[0] = -p[l] * c[0];
        deg++;
    }
}

/*
 * The matrices of F(m, 3) from finite points p[0..alpha-2] and infinity.
 * The correlation y = A^T[(G g) .* (B^T d)] is the transpose of the
 * Toom-Cook product of a degree m-1 and a degree 2 polynomial: A^T is the
 * evaluation at the points (transposed), G the evaluation of the filter,
 * B^T the transposed interpolation. Interpolation row j is the Lagrange
 * polynomial prod_{l != j} (x - p_l) / N_j; its denominator N_j moves into
 * G so that B^T holds the (exact, dyadic) polynomial coefficients.
 */
void wino_matrices_from_points(int m, const double *p, wino_matrices *w)
{
    int alpha = m + 2, nf = alpha - 1;

    memset(w, 0, sizeof *w);
    w->m = m;
    w->alpha = alpha;
    for (int j = 0; j < nf; j++) {
        double nj = 1.0;

        for (int l = 0; l < nf; l++)
            nj *= l == j ? 1.0 : p[j] - p[l];
        for (int i = 0; i < m; i++)
            w->at[i][j] = pow(p[j], i);
        for (int k = 0; k < 3; k++)
            w->g[j][k] = pow(p[j], k) / nj;
        poly_without(p, nf, j, w->bt[j]);
    }

    /* The point at infinity reads the leading coefficients. */
    w->at[m - 1][nf] = 1.0;
    w->g[nf][2] = 1.0;
    poly_without(p, nf, -1, w->bt[nf]);
}

int wino_matrices_for(int m, wino_matrices *w)
{
    if (m != 2 && m != 4 && m != 6)
        return 0;
    wino_matrices_from_points(m, points_for(m), w);
    return 1;
}

static void to_sparse(const double *a, int rows, int cols, wino_sparse *s)
{
    memset(s, 0, sizeof *s);
    s->rows = rows;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double v = a[r * WINO_ALPHA_MAX + c];

            if (v == 0.0)
                continue;
            s->col[r][s->nnz[r]] = c;
            s->val[r][s->nnz[r]++] = (float)v;
        }
}

/* ---- Geometry and workspace ---------------------------------------- */

static int64_t div_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/*
 * Tiles per block: enough that V and M fill about BLOCK_BYTES, at least
 * BLOCK_MIN_TILES so U's traffic per block is paid over many tiles, and
 * balanced so the last block is not a sliver.
 */
static int64_t tiles_per_block(int64_t npts, int64_t cg, int64_t kpad,
                               int64_t tiles)
{
    int64_t per_tile = npts * (cg + kpad) * (int64_t)sizeof(float);
    int64_t cap = BLOCK_BYTES / per_tile / WINO_LANES * WINO_LANES;
    int64_t blocks;

    if (cap < BLOCK_MIN_TILES)
        cap = BLOCK_MIN_TILES;
    if (cap > BLOCK_MAX_TILES)
        cap = BLOCK_MAX_TILES;
    if (tiles == 0)
        return WINO_LANES;
    blocks = div_up(tiles, cap);
    return div_up(div_up(tiles, blocks), WINO_LANES) * WINO_LANES;
}

/*
 * Threads take whole blocks, each with its own V and M and no barrier,
 * when the blocks share out evenly: many of them, or a multiple of the
 * threads with a last block nearly full. Otherwise all threads work on
 * one block at a time, phase by phase.
 */
static int private_blocks(const wino_geom *q, int threads)
{
    int64_t last = q->tiles - (q->nblk - 1) * q->tb;

    if (threads == 1 || q->blocks >= 4 * (int64_t)threads)
        return 1;
    return q->blocks % threads == 0 && (q->nblk == 1
                                        || 4 * last >= 3 * q->tb);
}

/*
 * Outputs [lo, hi) of one dimension whose 3-tap window reaches the input
 * (in [0, in + min(pad1, 0))). The others are the bias alone; tiling them
 * would add rounding noise from the tile's other inputs to an exact
 * value, an unbounded error relative to the bias.
 */
static void live_range(int64_t pad0, int64_t in, int64_t pad1, int64_t out,
                       int64_t *lo, int64_t *hi)
{
    int64_t end = in + (pad1 < 0 ? pad1 : 0) + pad0;

    *lo = pad0 > 2 ? pad0 - 2 : 0;
    *hi = end < out ? end : out;
    if (*lo > out)
        *lo = out;
    if (*hi < *lo)
        *hi = *lo;
}

/* Fills everything but the transform matrices; 0 if a size overflows. */
static int geom_init(const conv_desc *d, int m, int threads, wino_geom *q)
{
    size_t vrow;

    q->d = d;
    q->m = m;
    q->alpha = m + 2;
    q->npts = q->alpha * q->alpha;
    q->cg = d->c / d->groups;
    q->kg = d->k / d->groups;
    q->nkb = div_up(q->kg, WINO_MR);
    live_range(d->pad_top, d->h, d->pad_bottom, d->p, &q->oy0, &q->oy1);
    live_range(d->pad_left, d->w, d->pad_right, d->q, &q->ox0, &q->ox1);
    q->th = div_up(q->oy1 - q->oy0, m);
    q->tw = div_up(q->ox1 - q->ox0, m);
    q->tiles = d->n * q->th * q->tw;
    q->tb = tiles_per_block(q->npts, q->cg, q->nkb * WINO_MR, q->tiles);
    q->nblk = div_up(q->tiles, q->tb);
    q->blocks = d->groups * q->nblk;
    q->fused = q->cg <= WINO_FUSED_MAX_C;
    q->span = div_up(q->tw, WINO_LANES) * WINO_LANES;
    q->span = q->span < q->tb ? q->span : q->tb;
    q->nspan = div_up(q->tw, q->span);
    q->shared = !q->fused && !private_blocks(q, threads);
    q->copies = q->shared ? 1 : threads;

    /* Input that valid outputs never read (negative end padding) is
     * left out, so it cannot add rounding error to them. */
    q->hlim = d->pad_bottom < 0 ? d->h + d->pad_bottom : d->h;
    q->wlim = d->pad_right < 0 ? d->w + d->pad_right : d->w;

    /* One extra line per point breaks the power-of-two stride between
     * points, which would make all points collide in one cache set. */
    if (!conv_mul_size((size_t)q->cg, (size_t)q->tb, &vrow)
        || vrow > SIZE_MAX / 2)
        return 0;
    q->v_ld = round16(vrow) + 16;
    q->m_ld = (size_t)q->npts * (size_t)q->tb;
    return 1;
}

/* Floats of V for one block (M follows it), or SIZE_MAX on overflow. */
static size_t geom_v_floats(const wino_geom *q)
{
    size_t floats;

    return conv_mul_size((size_t)q->npts, q->v_ld, &floats) ? floats
                                                             : SIZE_MAX;
}

/* Floats of V and M for one block, or SIZE_MAX on overflow. */
static size_t geom_copy_floats(const wino_geom *q)
{
    size_t vf = geom_v_floats(q), mf;

    if (vf == SIZE_MAX
        || !conv_mul_size((size_t)q->nkb * WINO_MR, q->m_ld, &mf)
        || vf > SIZE_MAX - mf)
        return SIZE_MAX;
    return vf + mf;
}

/* Bytes of all copies of V and M, or SIZE_MAX on overflow. */
static size_t geom_workspace(const wino_geom *q)
{
    size_t floats = geom_copy_floats(q), bytes;

    if (floats == SIZE_MAX
        || !conv_mul_size(floats, (size_t)q->copies, &floats)
        || !conv_mul_size(floats, sizeof(float), &bytes))
        return SIZE_MAX;
    return bytes;
}

static int wino_applies(const conv_desc *d, char *why, size_t n)
{
    if (d->r != 3 || d->s != 3)
        return conv_why(why, n, "needs a 3x3 kernel with stride 1 and no "
                        "dilation (got %lldx%lld)", (long long)d->r,
                        (long long)d->s);
    if (d->stride_h != 1 || d->stride_w != 1)
        return conv_why(why, n, "needs a 3x3 kernel with stride 1 and no "
                        "dilation (got stride %lldx%lld)",
                        (long long)d->stride_h, (long long)d->stride_w);
    if (d->dil_h != 1 || d->dil_w != 1)
        return conv_why(why, n, "needs a 3x3 kernel with stride 1 and no "
                        "dilation (got dilation %lldx%lld)",
                        (long long)d->dil_h, (long long)d->dil_w);
    return 1;
}

static size_t wino_workspace(const conv_desc *d, int m, int threads)
{
    wino_geom q;

    if (!geom_init(d, m, threads, &q))
        return SIZE_MAX;
    return geom_workspace(&q);
}

/* ---- Portable kernels ---------------------------------------------- */

/*
 * Lane arrays: element (i, j) of 8 tiles is the 8 floats at
 * a + (i*si + j*sj) * WINO_LANES.
 * out(r, f) = sum_e val[r][e] * in(col[r][e], f), f < nfree, where
 * in(i, f) = in[i*in_i + f*in_f] and out(r, f) = out[r*out_r + f*out_f].
 */
static void apply_lanes(const wino_sparse *mt, const float *in, int in_i,
                        int in_f, float *out, int out_r, int out_f,
                        int nfree)
{
    for (int r = 0; r < mt->rows; r++)
        for (int f = 0; f < nfree; f++) {
            float acc[WINO_LANES] = {0};

            for (int e = 0; e < mt->nnz[r]; e++) {
                const float *src = in + (mt->col[r][e] * in_i + f * in_f)
                                        * WINO_LANES;

                for (int l = 0; l < WINO_LANES; l++)
                    acc[l] += mt->val[r][e] * src[l];
            }
            memcpy(out + (r * out_r + f * out_f) * WINO_LANES, acc,
                   sizeof acc);
        }
}

/* The alpha x alpha input tiles of `nl` tiles from tile t, channel c of
 * group g, into lanes (zeros outside the input and for lanes >= nl). */
static void gather_lanes(const wino_geom *q, int64_t g, int64_t c,
                         int64_t t, int64_t nl, const float *x, float *d)
{
    const conv_desc *cd = q->d;
    int a = q->alpha;
    wino_walk w;

    memset(d, 0, (size_t)a * a * WINO_LANES * sizeof(float));
    wino_walk_start(q, t, &w);
    for (int64_t l = 0; l < nl && l < WINO_LANES; l++) {
        const float *xc = x + ((w.n * cd->c + g * q->cg + c) * cd->h)
                              * cd->w;

        for (int i = 0; i < a; i++) {
            int64_t iy = w.oy - cd->pad_top + i;

            for (int j = 0; j < a && iy >= 0 && iy < q->hlim; j++) {
                int64_t ix = w.ox - cd->pad_left + j;

                if (ix >= 0 && ix < q->wlim)
                    d[(i * a + j) * WINO_LANES + l] = xc[iy * cd->w + ix];
            }
        }
        wino_walk_next(q, &w);
    }
}

static void input_portable(const wino_geom *q, const wino_block *b,
                           int64_t c, const float *x, float *v)
{
    int a = q->alpha;
    float d[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];
    float t[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];
    float o[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];

    for (int64_t l0 = 0; l0 < b->nt; l0 += WINO_LANES) {
        gather_lanes(q, b->g, c, b->t0 + l0, b->nt - l0, x, d);

        /* T = B^T D, then V = T B (as rows of B^T against rows of T). */
        apply_lanes(&q->bt, d, a, 1, t, a, 1, a);
        apply_lanes(&q->bt, t, 1, a, o, 1, a, a);
        for (int xi = 0; xi < q->npts; xi++)
            memcpy(v + xi * q->v_ld + c * q->tb + l0, o + xi * WINO_LANES,
                   WINO_LANES * sizeof(float));
    }
}

/* M[k][t] for the block's tiles: U rows packed WINO_MR at a time. */
static void multiply_portable(const wino_geom *q, const wino_block *b,
                              const float *u, const float *v, float *mm)
{
    int64_t nt8 = div_up(b->nt, WINO_LANES) * WINO_LANES;

    for (int64_t kb = 0; kb < q->nkb; kb++) {
        const float *up = u + kb * q->cg * WINO_MR;

        for (int64_t t = 0; t < nt8; t += WINO_LANES) {
            float acc[WINO_MR][WINO_LANES] = {{0}};

            for (int64_t c = 0; c < q->cg; c++)
                for (int r = 0; r < WINO_MR; r++)
                    for (int l = 0; l < WINO_LANES; l++)
                        acc[r][l] += up[c * WINO_MR + r]
                                     * v[c * q->tb + t + l];
            for (int r = 0; r < WINO_MR; r++)
                memcpy(mm + (kb * WINO_MR + r) * q->m_ld + t, acc[r],
                       sizeof acc[r]);
        }
    }
}

/* Lanes [l0, l0+8) of block b, ylanes[m*m][8], to output channel k of
 * the group (cropping tiles that pass the live outputs' edge). */
static void store_lanes(const wino_geom *q, const wino_block *b, int64_t k,
                        int64_t l0, const float *ylanes, float *y)
{
    const conv_desc *d = q->d;
    int m = q->m;
    wino_walk w;

    wino_walk_start(q, b->t0 + l0, &w);
    for (int64_t l = 0; l < WINO_LANES && l0 + l < b->nt; l++) {
        float *yk = y + ((w.n * d->k + b->g * q->kg + k) * d->p) * d->q;
        int64_t rows = wino_tile_rows(q, w.oy);
        int64_t cols = wino_tile_cols(q, w.ox);

        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                yk[(w.oy + i) * d->q + w.ox + j] =
                    ylanes[(i * m + j) * WINO_LANES + l];
        wino_walk_next(q, &w);
    }
}

static void output_portable(const wino_geom *q, const wino_block *b,
                            int64_t k, const float *mm, const float *bias,
                            float *y)
{
    int a = q->alpha, m = q->m;
    float d[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];
    float t[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];
    float o[WINO_ALPHA_MAX * WINO_ALPHA_MAX * WINO_LANES];

    for (int64_t l0 = 0; l0 < b->nt; l0 += WINO_LANES) {
        for (int xi = 0; xi < q->npts; xi++)
            memcpy(d + xi * WINO_LANES, mm + k * q->m_ld + xi * q->tb + l0,
                   WINO_LANES * sizeof(float));

        /* T = A^T M (m x alpha), then Y = T A (m x m), then the bias. */
        apply_lanes(&q->at, d, a, 1, t, a, 1, a);
        apply_lanes(&q->at, t, 1, a, o, 1, m, m);
        for (int i = 0; i < m * m * WINO_LANES; i++)
            o[i] += bias[b->g * q->kg + k];
        store_lanes(q, b, k, l0, o, y);
    }
}

static const wino_kernels kernels_portable = {
    input_portable, multiply_portable, output_portable, NULL, NULL,
};

/* ---- Plans ----------------------------------------------------------- */

typedef struct wino_state {
    const char *name;
    wino_geom q;
    float *u;          /* [G][npts][nkb][cg][WINO_MR] */
    float *bias;       /* [K], zeros without a bias */
    size_t u_floats;
    size_t ws_bytes;
    wino_kernels kern;
} wino_state;

/* Set by tests only, before plans are made (so no lock). */
static int force_portable;

void wino_force_portable(int on)
{
    force_portable = on;
}

static wino_kernels pick_kernels(void)
{
    wino_kernels k = kernels_portable;

    if (!force_portable && conv_cpu_avx2_fma())
        k = wino_kernels_avx2;
    return k;
}

static void wino_destroy(void *state)
{
    wino_state *st = state;

    if (st == NULL)
        return;
    conv_free(st->u);
    conv_free(st->bias);
    conv_free(st);
}

static conv_status wino_create(const conv_ctx *ctx, void **state, int m,
                               const char *name)
{
    const conv_desc *d = ctx->desc;
    wino_state *st = conv_alloc(sizeof *st);
    wino_matrices w;
    size_t u_bytes;

    if (st == NULL)
        return conv_fail(CONV_ENOMEM, "%s: cannot allocate state", name);
    memset(st, 0, sizeof *st);
    st->name = name;
    if (!geom_init(d, m, ctx->threads, &st->q)
        || !conv_mul_size((size_t)d->groups * st->q.npts,
                          (size_t)st->q.nkb * WINO_MR, &st->u_floats)
        || !conv_mul_size(st->u_floats, (size_t)st->q.cg, &st->u_floats)
        || !conv_mul_size(st->u_floats, sizeof(float), &u_bytes)) {
        wino_destroy(st);
        return conv_fail(CONV_EINVAL, "%s: transformed weights' size "
                         "overflows", name);
    }
    wino_matrices_for(m, &w);
    to_sparse(&w.bt[0][0], st->q.alpha, st->q.alpha, &st->q.bt);
    to_sparse(&w.at[0][0], m, st->q.alpha, &st->q.at);
    wino_pair_coefficients(&w, &st->q);
    st->ws_bytes = geom_workspace(&st->q);
    st->kern = pick_kernels();
    st->q.fused = st->q.fused && st->kern.fused_input != NULL;

    /* Rows of U past K/G stay zero for good. */
    st->u = conv_alloc(u_bytes);
    st->bias = conv_alloc((size_t)d->k * sizeof(float));
    if (st->u == NULL || st->bias == NULL) {
        wino_destroy(st);
        return conv_fail(CONV_ENOMEM, "%s: cannot allocate %zu bytes of "
                         "transformed weights", name, u_bytes);
    }
    memset(st->u, 0, u_bytes);
    *state = st;
    return CONV_OK;
}

/* U = G g G^T for one filter g[3][3], in double. */
static void filter_transform(const wino_matrices *w, const float *g,
                             double u[WINO_ALPHA_MAX][WINO_ALPHA_MAX])
{
    double gg[WINO_ALPHA_MAX][3];

    for (int i = 0; i < w->alpha; i++)
        for (int j = 0; j < 3; j++)
            gg[i][j] = w->g[i][0] * g[j] + w->g[i][1] * g[3 + j]
                       + w->g[i][2] * g[6 + j];
    for (int i = 0; i < w->alpha; i++)
        for (int j = 0; j < w->alpha; j++)
            u[i][j] = gg[i][0] * w->g[j][0] + gg[i][1] * w->g[j][1]
                      + gg[i][2] * w->g[j][2];
}

static conv_status wino_set_weights(const conv_ctx *ctx, void *state,
                                    const float *wt, const float *b)
{
    const conv_desc *d = ctx->desc;
    wino_state *st = state;
    const wino_geom *q = &st->q;
    size_t per_point = (size_t)q->nkb * WINO_MR * q->cg;
    wino_matrices w;

    wino_matrices_for(q->m, &w);
    #pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t k = 0; k < d->k; k++) {
        int64_t g = k / q->kg, kk = k % q->kg;
        float *ug = st->u + (size_t)g * q->npts * per_point;
        size_t ld = per_point, cs = WINO_MR;

        /* The fused path reads one channel's U at a time: U[k][xi][c]. */
        if (q->fused) {
            ug += (size_t)kk * q->npts * q->cg;
            ld = (size_t)q->cg;
            cs = 1;
        } else {
            ug += (size_t)(kk / WINO_MR) * q->cg * WINO_MR + kk % WINO_MR;
        }
        for (int64_t c = 0; c < q->cg; c++) {
            double u[WINO_ALPHA_MAX][WINO_ALPHA_MAX];

            filter_transform(&w, wt + (k * q->cg + c) * 9, u);
            for (int xi = 0; xi < q->npts; xi++)
                ug[xi * ld + c * cs] =
                    (float)u[xi / q->alpha][xi % q->alpha];
        }
    }
    for (int64_t k = 0; k < d->k; k++)
        st->bias[k] = b != NULL ? b[k] : 0.0f;
    return CONV_OK;
}

/* TODO: a group's blocks (or spans, on the fused path) carry all three
 * phases even when the group has a single input channel, so depthwise
 * layers (C/G = 1) pay a transform per product and run far slower than
 * direct; they are supported for correctness only. */
static wino_block block_at(const wino_geom *q, int64_t i)
{
    wino_block b;

    b.g = i / q->nblk;
    b.t0 = i % q->nblk * q->tb;
    b.nt = q->tiles - b.t0 < q->tb ? q->tiles - b.t0 : q->tb;
    return b;
}

/* U of the block's group, and the size of one point's part of it. */
static const float *group_u(const wino_state *st, const wino_block *b,
                            size_t *per_point)
{
    const wino_geom *q = &st->q;

    *per_point = (size_t)q->nkb * WINO_MR * q->cg;
    return st->u + (size_t)b->g * q->npts * *per_point;
}

/* The three phases of one block by the calling thread alone; adds each
 * phase's time to t unless t is NULL. */
static void run_block_alone(const wino_state *st, const wino_block *b,
                            const float *x, float *y, float *v, float *mm,
                            double *t)
{
    const wino_geom *q = &st->q;
    size_t per_point;
    const float *ug = group_u(st, b, &per_point);
    double t0 = t ? conv_now() : 0.0, t1 = 0.0, t2 = 0.0;

    for (int64_t c = 0; c < q->cg; c++)
        st->kern.input(q, b, c, x, v);
    if (t)
        t1 = conv_now();
    for (int xi = 0; xi < q->npts; xi++)
        st->kern.multiply(q, b, ug + xi * per_point, v + xi * q->v_ld,
                          mm + xi * q->tb);
    if (t)
        t2 = conv_now();
    for (int64_t k = 0; k < q->kg; k++)
        st->kern.output(q, b, k, mm, st->bias, y);
    if (t) {
        t[0] += t1 - t0;
        t[1] += t2 - t1;
        t[2] += conv_now() - t2;
    }
}

/* The three phases of one block, shared by every thread of the team;
 * the first thread adds each phase's wall time (barrier to barrier) to t
 * unless t is NULL. */
static void run_block_shared(const wino_state *st, const wino_block *b,
                             const float *x, float *y, float *v, float *mm,
                             double *t)
{
    const wino_geom *q = &st->q;
    size_t per_point;
    const float *ug = group_u(st, b, &per_point);
    int timer = t != NULL && omp_get_thread_num() == 0;
    double t0 = timer ? conv_now() : 0.0, t1 = 0.0, t2 = 0.0;

    #pragma omp for schedule(static)
    for (int64_t c = 0; c < q->cg; c++)
        st->kern.input(q, b, c, x, v);
    if (timer)
        t1 = conv_now();

    /* TODO: with more threads than points (16 for F(2x2)) some idle here;
     * splitting the output channels as well would keep them busy. */
    #pragma omp for schedule(static)
    for (int xi = 0; xi < q->npts; xi++)
        st->kern.multiply(q, b, ug + xi * per_point, v + xi * q->v_ld,
                          mm + xi * q->tb);
    if (timer)
        t2 = conv_now();

    #pragma omp for schedule(static)
    for (int64_t k = 0; k < q->kg; k++)
        st->kern.output(q, b, k, mm, st->bias, y);
    if (timer) {
        t[0] += t1 - t0;
        t[1] += t2 - t1;
        t[2] += conv_now() - t2;
    }
}

/* Outputs outside the live region are the bias alone. */
static void fill_dead(const wino_state *st, float *y)
{
    const wino_geom *q = &st->q;
    const conv_desc *d = q->d;

    if (q->oy0 == 0 && q->oy1 == d->p && q->ox0 == 0 && q->ox1 == d->q)
        return;
    #pragma omp for schedule(static)
    for (int64_t plane = 0; plane < d->n * d->k; plane++) {
        float b = st->bias[plane % d->k];

        for (int64_t i = 0; i < d->p; i++) {
            float *row = y + (plane * d->p + i) * d->q;
            int live = i >= q->oy0 && i < q->oy1;

            for (int64_t j = 0; j < d->q; j++)
                if (!live || j < q->ox0 || j >= q->ox1)
                    row[j] = b;
        }
    }
}

/*
 * NOTE: the profile is wall time per phase when the threads share blocks
 * (phases end at barriers), and the threads' summed time per phase
 * divided by the thread count when each thread runs whole blocks, so in
 * both cases the phases add up to about the execution's wall time.
 */
static conv_status wino_execute(const conv_ctx *ctx, void *state,
                                const float *x, float *y, void *ws)
{
    const wino_state *st = state;
    const wino_geom *q = &st->q;
    size_t copy = geom_copy_floats(q), vf = geom_v_floats(q);
    double t[3] = {0.0, 0.0, 0.0};

    #pragma omp parallel num_threads(ctx->threads)
    {
        double mine[3] = {0.0, 0.0, 0.0};
        double *tp = ctx->profile ? mine : NULL;
        int tid = q->shared ? 0 : omp_get_thread_num();
        float *v = (float *)ws + (size_t)tid * copy;

        fill_dead(st, y);
        if (q->fused) {
            wino_run_spans(q, &st->kern, st->u, st->bias, x, y, v, tp);
        } else if (!q->shared) {
            #pragma omp for schedule(dynamic, 1)
            for (int64_t i = 0; i < q->blocks; i++) {
                wino_block b = block_at(q, i);

                run_block_alone(st, &b, x, y, v, v + vf, tp);
            }
        } else {
            for (int64_t i = 0; i < q->blocks; i++) {
                wino_block b = block_at(q, i);

                run_block_shared(st, &b, x, y, v, v + vf, tp);
            }
        }
        #pragma omp critical
        for (int i = 0; i < 3; i++)
            t[i] += q->shared ? mine[i] : mine[i] / q->copies;
    }

    if (ctx->profile) {
        ctx->profile->input_transform += t[0];
        ctx->profile->multiply += t[1];
        ctx->profile->output_transform += t[2];
    }
    return CONV_OK;
}

static void wino_describe(const conv_ctx *ctx, const void *state,
                          char *buf, size_t n)
{
    const wino_state *st = state;

    snprintf(buf, n, "%s tile %dx%d, %lld tiles/block, %s, ws %.1f MiB,"
             " %s", st->name, st->q.alpha, st->q.alpha,
             (long long)(st->q.fused ? st->q.span : st->q.tb),
             st->q.fused ? "multiply fused into output"
             : st->q.shared ? "blocks shared" : "block per thread",
             (double)st->ws_bytes / (1 << 20),
             st->kern.multiply == kernels_portable.multiply
             ? "portable C" : "AVX2");
}

/* ---- The three tables ------------------------------------------------ */

static size_t workspace_f2(const conv_desc *d, int threads)
{
    return wino_workspace(d, 2, threads);
}

static size_t workspace_f4(const conv_desc *d, int threads)
{
    return wino_workspace(d, 4, threads);
}

static size_t workspace_f6(const conv_desc *d, int threads)
{
    return wino_workspace(d, 6, threads);
}

static conv_status create_f2(const conv_ctx *ctx, void **state)
{
    return wino_create(ctx, state, 2, "winograd_f2x2");
}

static conv_status create_f4(const conv_ctx *ctx, void **state)
{
    return wino_create(ctx, state, 4, "winograd_f4x4");
}

static conv_status create_f6(const conv_ctx *ctx, void **state)
{
    return wino_create(ctx, state, 6, "winograd_f6x6");
}

const conv_algo conv_algo_winograd_f2x2 = {
    .name = "winograd_f2x2",
    .applies = wino_applies,
    .workspace_bytes = workspace_f2,
    .create = create_f2,
    .set_weights = wino_set_weights,
    .execute = wino_execute,
    .describe = wino_describe,
    .destroy = wino_destroy,
};

const conv_algo conv_algo_winograd_f4x4 = {
    .name = "winograd_f4x4",
    .applies = wino_applies,
    .workspace_bytes = workspace_f4,
    .create = create_f4,
    .set_weights = wino_set_weights,
    .execute = wino_execute,
    .describe = wino_describe,
    .destroy = wino_destroy,
};

const conv_algo conv_algo_winograd_f6x6 = {
    .name = "winograd_f6x6",
    .applies = wino_applies,
    .workspace_bytes = workspace_f6,
    .create = create_f6,
    .set_weights = wino_set_weights,
    .execute = wino_execute,
    .describe = wino_describe,
    .destroy = wino_destroy,
};
