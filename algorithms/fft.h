/*
 * Internal to the fft family (fft.c and its tests): the geometry of a
 * plan and the cost model that picks the transform size.
 *
 * Names: a tile is th x tw input samples that yield mh x mw outputs by
 * overlap-save (mh = th - R + 1, mw = tw - S + 1); f is one of
 * nf = th * (tw/2 + 1) frequencies of the real-to-complex transform.
 * Only the "live" outputs, those whose kernel window touches the input,
 * are tiled; the others are the bias alone. Tiles of all images are
 * numbered t = (n*ty + i)*tx + j and processed in blocks of nb tiles.
 *
 * Buffers (complex = two floats, real part first):
 *   X[f][c][t]     input spectra of one block, C/G rows of nb per f
 *   Y[f][k][t]     output spectra of one block, K/G rows of nb per f
 *   W[g][f][k][c]  filter spectra, conjugated and scaled by 1/(th*tw),
 *                  so that Y[f] = W[f] X[f] is a complex GEMM per f
 */
#ifndef CONV_FFT_H
#define CONV_FFT_H

#include "algo.h"

/* The largest transform side, hence the largest kernel side. */
#define FFT_MAX_SIZE 64

typedef struct fft_geom {
    const conv_desc *d;
    int th, tw;                 /* transform size */
    int mh, mw;                 /* outputs per tile */
    int64_t nf;                 /* frequencies per transform */
    int64_t cg, kg;             /* channels per group */
    int64_t oy0, oy1, ox0, ox1; /* the live outputs, [oy0, oy1) rows */
    int64_t hlim, wlim;         /* input rows / cols live outputs read */
    int64_t ty, tx, tiles;      /* tiles per image (ty x tx), in all */
    int64_t nb;                 /* tiles per block */
} fft_geom;

/* Transform sides the cost model considers, ascending. */
extern const int fft_sizes[];
extern const int fft_nsizes;

/* Fills q for transform th x tw (th >= R, tw >= S); 0 if the block's
 * spectra would overflow size_t. */
int fft_geom_init(const conv_desc *d, int th, int tw, fft_geom *q);

/* Modelled time of one execution with transform th x tw, in ns. */
double fft_model_ns(const conv_desc *d, int th, int tw);

/* The transform size of least modelled time for d (fft must apply). */
void fft_pick_size(const conv_desc *d, int *th, int *tw);

#endif
