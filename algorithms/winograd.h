/*
 * Internal to the Winograd family (winograd.c, winograd_avx2.c): the
 * geometry of a plan, the transform matrices, and the three kernels each
 * instruction set provides.
 *
 * Names: m is the output tile (2, 4 or 6), alpha = m + 2 the input tile,
 * xi one of the alpha*alpha transform points. Tiles of all images of the
 * batch are numbered t = (n*TH + ty)*TW + tx and processed in blocks of
 * `tb` tiles; inside a block, 8 consecutive tiles share one vector (a
 * "lane group"), so every transform works on 8 tiles at once.
 *
 * Buffers of one block, for group g:
 *   V[xi][c][t]   transformed input   (row c of point xi: tb floats)
 *   M[k][xi][t]   products            (row xi of channel k: tb floats;
 *                 a channel's points together, as the output reads them)
 *   U[g][xi][kb][c][WINO_MR]  transformed weights, output channels packed
 *                 WINO_MR at a time (k = kb*WINO_MR + r; rows past K/G
 *                 are zero), so the multiply broadcasts WINO_MR weights
 *                 per channel. Plans on the fused path lay each group's
 *                 U out as U[k][xi][c] instead (one output channel's
 *                 weights together, as its jobs read them).
 */
#ifndef CONV_WINOGRAD_H
#define CONV_WINOGRAD_H

#include "algo.h"

#define WINO_LANES 8       /* tiles per vector */
#define WINO_MR 6          /* output channels per multiply micro-tile */
#define WINO_ALPHA_MAX 8   /* input tile of F(6x6, 3x3) */
#define WINO_FUSED_MAX_C 8 /* channels per group for the fused path */

/* A transform matrix row by row with its zeros dropped: row r is
 * sum over e < nnz[r] of val[r][e] * (input col[r][e]). */
typedef struct wino_sparse {
    int rows;
    int nnz[WINO_ALPHA_MAX];
    int col[WINO_ALPHA_MAX][WINO_ALPHA_MAX];
    float val[WINO_ALPHA_MAX][WINO_ALPHA_MAX];
} wino_sparse;

/* The transforms of F(m, 3) in double: y = A^T [(G g) .* (B^T d)] for a
 * tile d of alpha = m + 2 samples and a filter g of 3. */
typedef struct wino_matrices {
    int m, alpha;
    double at[WINO_ALPHA_MAX][WINO_ALPHA_MAX];  /* m x alpha */
    double g[WINO_ALPHA_MAX][3];                /* alpha x 3 */
    double bt[WINO_ALPHA_MAX][WINO_ALPHA_MAX];  /* alpha x alpha */
} wino_matrices;

/* The matrices for finite points p[0..m] and infinity. */
void wino_matrices_from_points(int m, const double *p, wino_matrices *w);

/* The matrices the plans use for m = 2, 4 or 6 (0 for another m). */
int wino_matrices_for(int m, wino_matrices *w);

/* Everything execute needs to know about the shape, fixed at create. */
typedef struct wino_geom {
    const conv_desc *d;
    int m, alpha, npts;         /* npts = alpha * alpha */
    int64_t cg, kg, nkb;        /* channels per group; kg / WINO_MR up */
    int64_t oy0, ox0, oy1, ox1; /* live outputs: [oy0, oy1) x [ox0, ox1),
                                   those whose window reaches the input */
    int64_t th, tw, tiles;      /* tiles per image (TH x TW), in all */
    int64_t tb;                 /* tiles per block, a multiple of 8 */
    int64_t nblk, blocks;       /* blocks per group; in all (groups too) */
    int shared;                 /* all threads work on one block at a
                                   time; else each takes whole blocks */
    int copies;                 /* V and M buffers: 1 or one per thread */
    int64_t hlim, wlim;         /* input rows / cols that may be read */
    size_t v_ld;                /* floats from one point to the next in V */
    size_t m_ld;                /* floats from one channel to the next in M */
    int fused;                  /* few channels: multiply inside output */
    int64_t span, nspan;        /* fused: tiles of a row per item (a
                                   multiple of 8, <= tb); items per row */
    wino_sparse bt, at;         /* B^T (alpha x alpha), A^T (m x alpha) */
    float at_pair[WINO_ALPHA_MAX][3];  /* A^T by point pairs, below */
    float bt_dense[WINO_ALPHA_MAX][WINO_ALPHA_MAX];  /* B^T, for pairs */
} wino_geom;

/*
 * Every point set is 0, then pairs +p, -p, then infinity, so A^T (p^i in
 * column p) is read through sums (even rows) and differences (odd rows)
 * of each pair's two columns: at_pair[i][k] = p_k^i for pair k. The two
 * rows of B^T of a pair are E + O and E - O, E on even and O on odd
 * columns; row 0 has only even and the last row only odd columns and
 * the last one. Fills at_pair and bt_dense (asserting that shape).
 */
void wino_pair_coefficients(const wino_matrices *w, wino_geom *q);

/* One block of tiles of one group. */
typedef struct wino_block {
    int64_t g;                  /* group */
    int64_t t0, nt;             /* first tile and count (nt <= tb) */
} wino_block;

/*
 * The fused path's unit of work: tiles [tx0, tx0 + ntx) of tile row ty
 * of image n, group g. Its V is V[lane group][c][xi][8 lanes].
 */
typedef struct wino_span {
    int64_t g, n, ty, tx0, ntx;
} wino_span;

/*
 * The kernels of one instruction set.
 *   input:    channel c of block b: x -> V[.][c][.]; lanes past nt are 0.
 *   multiply: one point: M[.][xi] = U[g][xi] * V[xi] for the block's
 *             tiles (u, v, mm point at that point's first element).
 *   output:   channel k of block b: M[.][k][.] -> y (+ bias, cropped).
 *   fused_input, fused_output (NULL where missing): for a span, all
 *             channels of x -> V; then per output channel the products
 *             summed over channels and their output transform -> y.
 */
typedef struct wino_kernels {
    void (*input)(const wino_geom *q, const wino_block *b, int64_t c,
                  const float *x, float *v);
    void (*multiply)(const wino_geom *q, const wino_block *b,
                     const float *u, const float *v, float *mm);
    void (*output)(const wino_geom *q, const wino_block *b, int64_t k,
                   const float *mm, const float *bias, float *y);
    void (*fused_input)(const wino_geom *q, const wino_span *s,
                        const float *x, float *v);
    void (*fused_output)(const wino_geom *q, const wino_span *s,
                         const float *u, const float *v, const float *bias,
                         float *y);
} wino_kernels;

/* The fused path (winograd_fused.c), inside a parallel region: the
 * threads share out the spans, each with its own V; adds the input and
 * the fused output phase's times to t[0] and t[2] unless t is NULL. */
void wino_run_spans(const wino_geom *q, const wino_kernels *kern,
                    const float *u, const float *bias, const float *x,
                    float *y, float *v, double *t);

/* For tests: non-zero makes plans created afterwards use the portable
 * C kernels even where AVX2 is available. */
void wino_force_portable(int on);

/* The AVX2 + FMA kernels (winograd_avx2.c). */
extern const wino_kernels wino_kernels_avx2;

/* Tile t's image and top-left output position. */
static inline void wino_tile_origin(const wino_geom *q, int64_t t,
                                    int64_t *n, int64_t *oy, int64_t *ox)
{
    int64_t per_image = q->th * q->tw;
    int64_t rem = t % per_image;

    *n = t / per_image;
    *oy = q->oy0 + rem / q->tw * q->m;
    *ox = q->ox0 + rem % q->tw * q->m;
}

/* Rows and columns of a tile at (oy, ox) that are live outputs. */
static inline int wino_tile_rows(const wino_geom *q, int64_t oy)
{
    return (int)(q->oy1 - oy < q->m ? q->oy1 - oy : q->m);
}

static inline int wino_tile_cols(const wino_geom *q, int64_t ox)
{
    return (int)(q->ox1 - ox < q->m ? q->ox1 - ox : q->m);
}

/* Walks tiles in order: along the row, then down, then the next image. */
typedef struct wino_walk {
    int64_t n, oy, ox;          /* image, top-left output position */
} wino_walk;

static inline void wino_walk_start(const wino_geom *q, int64_t t,
                                   wino_walk *w)
{
    wino_tile_origin(q, t, &w->n, &w->oy, &w->ox);
}

static inline void wino_walk_next(const wino_geom *q, wino_walk *w)
{
    w->ox += q->m;
    if (w->ox < q->ox0 + q->tw * q->m)
        return;
    w->ox = q->ox0;
    w->oy += q->m;
    if (w->oy < q->oy0 + q->th * q->m)
        return;
    w->oy = q->oy0;
    w->n++;
}

#endif
