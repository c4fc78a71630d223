/*
 * The judges: an fp64 naive convolution that shares no code with the fast
 * paths, the error metric, the tolerance table, and the data fills.
 */
#ifndef CONV_REF_H
#define CONV_REF_H

#include "conv.h"

/*
 * y[N][K][P][Q] in double, and per output the bound
 * beta = |b[k]| + sum over taps of |x * w|, for a checked descriptor d.
 * b may be NULL (no bias), beta may be NULL (not wanted). Returns
 * CONV_EINVAL for a descriptor that fails the check, or whose p and q
 * differ from what the check computes. Results are bitwise the same at
 * any thread count.
 */
conv_status ref_conv(const conv_desc *d, const float *x, const float *w,
                     const float *b, double *y, double *beta);

/*
 * Error of y against the reference: per output e = |y - yref| / beta, in
 * units of FLT_EPSILON. A zero beta demands an exact zero (any other value
 * is an infinite error); a NaN or infinity in y is an infinite error.
 */
typedef struct ref_error {
    double max_eps;       /* the largest e / FLT_EPSILON */
    int64_t worst;        /* index of that output (-1 if n == 0) */
    int64_t nonfinite;    /* outputs that were NaN or infinite */
    int64_t mismatches;   /* outputs whose value differs at all */
} ref_error;

ref_error ref_compare(const float *y, const double *yref,
                      const double *beta, int64_t n);

/* The same metric between two fp32 results (ours against oneDNN), with
 * the reference's beta as the scale. */
ref_error ref_compare_f32(const float *y, const float *other,
                          const double *beta, int64_t n);

/* One row of the tolerance table: the largest error an algorithm may
 * show on real-valued data, in FLT_EPSILON units, and why. */
typedef struct ref_tolerance {
    const char *algo;
    double eps;           /* bound on random real-valued data */
    int exact;            /* must match bit for bit on exact fills */
    const char *why;
} ref_tolerance;

/* The row whose name equals `algo`; an unknown name (or NULL) gets the
 * strictest row. */
const ref_tolerance *ref_tolerance_for(const char *algo);

/*
 * The bound for `algo` on the checked descriptor d, in the same units:
 * the row's eps, except for algorithms whose error is normwise rather
 * than per output (fft), whose bound grows as the fewest taps any output
 * reads shrinks (see tolerance.c). d may be NULL: the row's eps.
 */
double ref_tolerance_eps(const char *algo, const conv_desc *d);

/* The whole table, NULL-terminated by algo == NULL. */
extern const ref_tolerance ref_tolerances[];

/*
 * Exact fills, as benchdnn does: small integers, with a density (the share
 * of non-zero entries) chosen so that no partial sum of any output can pass
 * 2^24, so every fp32 product and sum is exact whatever the order.
 * Seeded per chunk of elements: the data is the same at any thread count.
 */
typedef struct ref_exact_fill {
    int x_max, w_max, b_max;   /* values in [-max, max] */
    double x_density, w_density;
} ref_exact_fill;

ref_exact_fill ref_exact_fill_for(const conv_desc *d);

/* Elements are generated in aligned chunks of this many, each chunk from
 * its own counter-based stream. */
#define REF_FILL_CHUNK 4096

/*
 * a[0..n) = integers in [-max_abs, max_abs]: each chunk of REF_FILL_CHUNK
 * elements (the last one may be shorter, of length m) holds exactly
 * floor(density * m + 0.5) non-zero entries at pseudo-random positions,
 * the rest are zero. So any run of L consecutive entries holds at most
 * (ceil((L - 1) / REF_FILL_CHUNK) + 1) * floor(density * REF_FILL_CHUNK
 * + 0.5) non-zero ones: a guarantee, not an expectation.
 */
void ref_fill_ints(float *a, int64_t n, int max_abs, double density,
                   uint64_t seed);

/* Uniform reals in [-1, 1), seeded per chunk like ref_fill_ints. */
void ref_fill_real(float *a, int64_t n, uint64_t seed);

#endif
