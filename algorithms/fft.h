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
 * Frequencies go in groups of FFT_LANES, one group per vector, and a
 * "lane element" is one complex value at FFT_LANES frequencies stored as
 * FFT_LANES real parts then FFT_LANES imaginary parts (nfb groups; lanes
 * past nf are zero). Buffers, each index a lane element:
 *   X[fb][c][t]     input spectra of one block, C/G rows of nb tiles
 *   Y[fb][k][t]     output spectra of one block, K/G rows of nb tiles
 *   W[g][fb][k][c]  filter spectra, conjugated and scaled by 1/(th*tw),
 *                   so that Y[fb] = W[g][fb] X[fb], a complex matrix
 *                   product per frequency, lane by lane
 */
#ifndef CONV_FFT_H
#define CONV_FFT_H

#include "algo.h"

/* The largest transform side, hence the largest kernel side. */
#define FFT_MAX_SIZE 64
/* Frequencies per vector, and floats per lane element. */
#define FFT_LANES 8
#define FFT_ELEM (2 * FFT_LANES)

typedef struct fft_geom {
    const conv_desc *d;
    int th, tw;                 /* transform size */
    int mh, mw;                 /* outputs per tile */
    int64_t nf;                 /* frequencies per transform */
    int64_t nfb;                /* groups of FFT_LANES frequencies */
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

/*
 * One frequency group's products: y[k][t] = sum_c w[k][c] * x[c][t] for
 * k < kg, t < nt, on lane elements; rows of x and y hold ld elements,
 * rows of w hold cg.
 */
typedef void (*fft_multiply_fn)(const float *w, const float *x, float *y,
                                int64_t kg, int64_t cg, int64_t nt,
                                int64_t ld);

/* The AVX2 + FMA version (fft_avx2.c). */
void fft_multiply_avx2(const float *w, const float *x, float *y,
                       int64_t kg, int64_t cg, int64_t nt, int64_t ld);

#endif
