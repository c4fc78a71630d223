/*
 * Internal to the direct family: what direct.c (planning, threads),
 * direct_pack.c (reorders into the blocked layouts), direct_avx2.c (AVX2
 * + FMA kernels) and direct_c.c (portable kernels) share. Not part of the
 * library's API.
 *
 * Layouts, with channels in blocks of 8 ("lanes"):
 *   input   xb[group][cb][H'][W'][8]   channel cb*8 + lane of the group
 *   weights wb[group][ocg][cb][r][s][ic 8][nb][oc 8]   nb = oc blocks of
 *           the oc group ocg (at most DIRECT_MAX_NB); depthwise:
 *           wb[cb][r][s][8]
 *   output  yb[nb][pixels][8]           one thread's band of rows
 * H' and W' are the input extents after squeezing 1-wide kernel
 * dimensions (see direct.c).
 */
#ifndef CONV_DIRECT_H
#define CONV_DIRECT_H

#include "conv.h"

#include <stddef.h>
#include <stdint.h>

#define DIRECT_LANES 8
#define DIRECT_MAX_NB 4    /* oc blocks in one register tile */
#define DIRECT_ACCS 12     /* accumulators per tile: nb * pixels */
#define DIRECT_MAX_PX 12   /* pixels per tile (nb = 1) */

/*
 * One register tile: `px` output pixels (a run along a row or down a
 * column) times `nb` blocks of 8 output channels, accumulated over
 * n_cb full channel blocks, then `tail` channels of one partial block,
 * and the kernel taps [0, nr) x [0, ns) counted from the tile's first
 * valid tap. Every tap read is inside the input: the caller groups
 * pixels whose valid taps agree.
 */
typedef struct direct_tile {
    const float *x;      /* pixel 0's input at the first tap and channel */
    const float *w;      /* packed weights at the first block and tap */
    float *y;            /* pixel 0, oc block 0 of the blocked output */
    const float *bias;   /* nb * 8 start values; NULL: accumulate onto y */
    ptrdiff_t x_px;      /* input floats from one pixel to the next */
    ptrdiff_t x_s;       /* ... from one column tap to the next (weights:
                            64 * nb floats, depthwise 8) */
    ptrdiff_t x_row, w_row;  /* further jump after a kernel row's last
                                column tap */
    ptrdiff_t x_blk, w_blk;  /* further jump after a channel block's last
                                kernel row */
    ptrdiff_t y_px;      /* output floats from one pixel to the next */
    ptrdiff_t y_ob;      /* ... from one oc block to the next */
    int nb, px;          /* tile shape: nb * px <= DIRECT_ACCS */
    int tiles;           /* tiles in a run: tile k starts k * px pixels on */
    int n_cb, tail;      /* full channel blocks; channels in a last one */
    int nr, ns;          /* kernel rows and columns applied */
    /* A cache line the kernel may move towards L2 at every tap step
     * (each channel block's tap), pf_step bytes after the last: the
     * next pass's weights, which would otherwise stall its first tile
     * (the portable kernels ignore it). */
    const char *pf;
    ptrdiff_t pf_step;
} direct_tile;

/*
 * One run of the NCHW paths (direct_1x1.c, direct_rows.c): for k < nk
 * output channels and j < n pixels, y[k * y_k + j] = bias[k] + the sum
 * over c < channels, in that order, of w[c][k] * x[at(c) + j], where
 * at(c) is off[c], or c * x_c when off is NULL. Weights are packed
 * [c][DIRECT_ROW_OC], zeros past the group's last channel.
 */
typedef struct direct_rows {
    const float *x, *w, *bias;
    float *y;
    const ptrdiff_t *off;
    ptrdiff_t x_c, y_k;   /* floats from one channel's row to the next */
    int64_t channels, n;
    int nk;               /* 1..DIRECT_ROW_OC */
} direct_rows;

#define DIRECT_ROW_OC 4   /* output channels of one rows call */

/* n floats rounded up to whole 64-byte cache lines: each thread's
 * buffer in a workspace starts on a line of its own, so that no line is
 * written by two cores. */
static inline size_t direct_whole_lines(size_t n)
{
    return n > SIZE_MAX - 15 ? SIZE_MAX : (n + 15) / 16 * 16;
}

/*
 * Output rows of one channel plane of the NCHW depthwise path
 * (direct_dw.c): for i < rows and j < q, y[i * q + j] = bias + the sum
 * over taps t < taps, in that order, of w[t] * x[i * x_row + off[t] + j].
 * x may be read up to the end of each row's last whole vector of 8.
 */
typedef struct direct_dw_plane {
    const float *x, *w;
    const ptrdiff_t *off;
    float *y;
    float bias;
    ptrdiff_t x_row;
    int64_t rows, q;
    int taps;
} direct_dw_plane;

/* The kernels of one instruction set. */
typedef struct direct_isa {
    const char *name;
    /* y[ob][j] (+)= sum over channels and taps of w * x: a run of
     * tiles. */
    void (*tile)(const direct_tile *t);
    /* Depthwise: each lane is its own channel; n_cb, tail, nb unused. */
    void (*dw_tile)(const direct_tile *t);
    /* dst[i][l] = src[l][i * step] for i < n, l < 8 (step >= 1); lanes
     * with src[l] NULL get zeros. */
    void (*pack8)(const float *const src[DIRECT_LANES], ptrdiff_t step,
                  float *dst, ptrdiff_t n);
    /* dst[l][i] = src[i][l] for i < n, l < 8; lanes with dst[l] NULL are
     * skipped. */
    void (*unpack8)(const float *src, float *const dst[DIRECT_LANES],
                    ptrdiff_t n);
    /* The NCHW 1x1 path: one run of output channels over n pixels. */
    void (*rows)(const direct_rows *r);
    /* The NCHW depthwise path: output rows of one plane. */
    void (*dw_plane)(const direct_dw_plane *p);
} direct_isa;

extern const direct_isa direct_isa_avx2;
extern const direct_isa direct_isa_c;

/* Their NCHW kernels (direct_1x1_avx2.c, direct_dw_avx2.c, direct_c.c). */
void direct_rows_avx2(const direct_rows *r);
void direct_rows_c(const direct_rows *r);
void direct_dw_plane_avx2(const direct_dw_plane *p);
void direct_dw_plane_c(const direct_dw_plane *p);

/* The plan: geometry and blocking (direct.c), packed weights
 * (direct_pack.c). */

/* Outputs [o0, o1) of one dimension whose valid taps are
 * [t0, t0 + nt) (nt = 0: all taps fall into padding). */
typedef struct direct_run {
    int64_t o0, o1;
    int t0, nt;
} direct_run;

/* One spatial dimension as the kernel sees it, after squeezing. */
typedef struct direct_dim {
    int64_t in, out;             /* packed input extent, output extent */
    int64_t k, stride, pad, dil;
    int64_t sub, off;            /* packed index i is original i*sub+off */
    int64_t orig;                /* original input extent */
    direct_run *runs;
    int nruns;
} direct_dim;

/* Sizes and blocking, a pure function of the descriptor and threads. */
typedef struct direct_layout {
    int depthwise;
    int64_t groups;      /* packing groups (1 when depthwise) */
    int64_t cpg, kpg;    /* channels per packing group, in and out */
    int64_t icb, ocb;    /* their blocks of 8 */
    int64_t ocgs;        /* register-tile oc groups per group */
    int64_t band;        /* output rows per work item */
    int64_t bands;
    int64_t chunk;       /* channel blocks per pass over a band */
    int64_t images;      /* images packed at once (shared packing) */
    int64_t pack_rows;   /* input rows per shared packing job */
    int band_pack;       /* each item packs its band's input itself */
    int64_t band_in;     /* input rows one band reads (band_pack) */
    direct_dim rows, cols;
} direct_layout;

/* Workspace floats: the packed images the threads share (0 with band
 * packing), and each thread's band input (0 without) and band output. */
typedef struct direct_ws {
    size_t shared, band_x, band_y;
} direct_ws;

typedef struct direct_plan {
    const direct_isa *isa;
    direct_layout lay;
    const conv_desc *d;
    float *wb;           /* packed weights */
    size_t wfloats;      /* their count */
    float *bb;           /* bias, [groups][ocb * 8], zeros past the end */
    direct_ws ws;        /* the workspace: shared part, then per thread */
    int nchw_1x1;        /* runs direct_1x1.c's path, without layouts */
    int nchw_rows;       /* runs direct_rows.c's path, without layouts */
    int nchw_dw;         /* runs direct_dw.c's path, without layouts */
    ptrdiff_t *off;      /* direct_rows.c's or direct_dw.c's tap offsets */
    int threads;
} direct_plan;

/* The first oc block and the block count of oc group i. */
void direct_ocg_blocks(const direct_layout *l, int64_t i, int64_t *ob0,
                       int *nb);

/* Packs w[K][C/G][R][S] and b[K] (b may be NULL) into pl->wb and pl->bb. */
void direct_pack_weights(direct_plan *pl, const float *w, const float *b);

/* Packed weights of oc group ocg of group g start here. */
float *direct_ocg_weights(const direct_plan *pl, int64_t g, int64_t ocg);

/* Packs packed-input rows [first, first + count) of channel block cb of
 * group g of image x (NCHW) into dst[count][W'][8]. */
void direct_pack_rows(const direct_plan *pl, const float *x, int64_t g,
                      int64_t cb, int64_t first, int64_t count, float *dst);

/* Prefetches towards L2 what direct_pack_rows() with the same
 * arguments reads. */
void direct_prefetch_rows(const direct_plan *pl, const float *x, int64_t g,
                          int64_t cb, int64_t first, int64_t count);

/* The NCHW 1x1 path (direct_1x1.c): whether it runs d, and its
 * weight packing (into pl->wb, pl->bb) and execution. */
int direct_1x1_applies(const conv_desc *d);
void direct_1x1_pack(direct_plan *pl, const float *w, const float *b);
size_t direct_1x1_workspace(const conv_desc *d, int threads);
void direct_1x1_execute(const direct_plan *pl, const float *x, float *y,
                        float *ws, int threads);

/* The NCHW path for few channels and spatial kernels (direct_rows.c),
 * which packs its weights with direct_1x1_pack(). off has C*R*S
 * entries. */
int direct_rows_applies(const conv_desc *d);
size_t direct_rows_workspace(const conv_desc *d, int threads);
void direct_rows_offsets(const conv_desc *d, int threads, ptrdiff_t *off);
void direct_rows_execute(const direct_plan *pl, const float *x, float *y,
                         float *ws);

/* The NCHW depthwise path (direct_dw.c): whether it runs d, its
 * weights (into pl->wb, pl->bb), its R*S tap offsets, and execution. */
int direct_dw_applies(const conv_desc *d);
size_t direct_dw_workspace(const conv_desc *d, int threads);
void direct_dw_pack(direct_plan *pl, const float *w, const float *b);
void direct_dw_offsets(const conv_desc *d, ptrdiff_t *off);
void direct_dw_execute(const direct_plan *pl, const float *x, float *y,
                       float *ws, int threads);

/*
 * Which kernels plans created from now on use: DIRECT_ISA_AUTO (AVX2 +
 * FMA when the CPU has them, unless the environment variable
 * CONVBENCH_NO_AVX2 is set to a non-empty value other than "0"),
 * DIRECT_ISA_PORTABLE (always the C kernels). For tests; not thread-safe.
 */
typedef enum direct_isa_choice {
    DIRECT_ISA_AUTO,
    DIRECT_ISA_PORTABLE
} direct_isa_choice;

void direct_choose_isa(direct_isa_choice choice);

/* The kernels a plan created now would use ("avx2" or "c"). */
const char *direct_isa_name(void);

#endif
