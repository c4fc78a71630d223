/*
 * The tolerance table: how far each algorithm may stray from the fp64
 * reference on random real-valued data (ref_fill_real), in units of
 * FLT_EPSILON of the metric e = |y - yref| / beta, and whether it must be
 * bit-exact on exact integer fills. Every bound carries its reason.
 */
#include "ref.h"

#include <string.h>

/*
 * NOTE: why one bound for the dot-product algorithms whatever the length.
 * An fp32 sum of L = (C/G)*R*S products and the bias, in any order, has
 * the classic worst-case error gamma(L+1) = (L+1)*u/(1-(L+1)*u) with
 * u = FLT_EPSILON/2, relative to beta: about (L+1)/2 in our units. That
 * bound is useless as a test for long sums: at L = 4608 it is 2300 eps,
 * more than the error of dropping a whole tap (about 1/(L*FLT_EPSILON) =
 * 1800 eps there). But on ref_fill_real's zero-mean data the partial sums
 * grow like sqrt(j), and their roundings add like a random walk, so the
 * error stays near one eps relative to beta whatever L is. Measured with
 * the worst order (one sequential fp32 sum, no FMA), the largest e over
 * 10^6 outputs was 0.9 eps at L = 1, 2.2 eps at L = 9..64 and 1.3 eps at
 * L = 20000. 8 eps is the worst-case bound itself for L <= 15 and leaves
 * a 3.6x margin above that, while a dropped tap still shows as hundreds
 * of eps up to L = 20000. On one-signed data (post-ReLU inputs) the error
 * grows like sqrt(L) instead: 36 eps at L = 4608. These bounds are for
 * ref_fill_real data only.
 */
#define DOT_EPS 8.0

/*
 * NOTE: the Winograd bounds come from measurements (winograd.c chooses
 * the points). The largest error over the 3x3 stride-1 layers of every
 * shipped suite at batch 1, and over 62 seeds of the awkward, alexnet
 * and mobilenet_v1 suites, was 7.5 eps for F(2x2), 159 for F(4x4) and
 * 877 for F(6x6), always on a depthwise layer: one channel averages no
 * rounding away, and an output's beta (9 taps, or 4 at a corner) can be
 * small while the rest of its tile is not. Layers with 64 or more input
 * channels stay near 1, 5 and 25-40 eps. The bounds give a margin of
 * 2.1-2.4x over the worst measurement.
 */
#define WINO2_EPS 16.0
#define WINO4_EPS 384.0
#define WINO6_EPS 2048.0

/*
 * NOTE: why fft's bound depends on the shape. An fp32 FFT's rounding is
 * normwise: every output of a tile gets an error of order
 * u * log2(tile) * (norm of the tile's inputs) * (norm of the filter),
 * whatever its own beta. So e = error / beta grows as the fewest taps L
 * (inside the input, summed over the group's channels) that any output
 * reads shrinks: a one-tap output has beta = |x*w|, with no lower bound.
 * Measured on ref_fill_real data, kernels 1..11 in every transform size
 * from 4 to 64, 1 to 256 channels, "same" padding (worst e per bucket):
 * 5979 eps at L = 1, 242 at L = 2..3, 22.6 at L = 4..8, 2.9 at
 * L = 9..63, 1.4 at L >= 64; e*L stayed below 500 for every L >= 2.
 * ref_tolerance_eps() turns that into max(FFT_FLOOR_EPS, FFT_TAPS_EPS/L):
 * a 2.1x margin at L = 2, 9x at L = 5, 11x at L >= 64. The fixed row
 * holds for every shape with L >= 2 (2.1x over the worst measurement).
 */
#define FFT_EPS 512.0
#define FFT_TAPS_EPS 1024.0
#define FFT_FLOOR_EPS 16.0
#define FFT_ONE_TAP_EPS 16384.0
/* auto may choose any row above, so it takes the loosest. */
#define AUTO_EPS WINO6_EPS

const ref_tolerance ref_tolerances[] = {
    {"direct", DOT_EPS, 1,
     "a plain fp32 dot product of (C/G)*R*S taps plus the bias: 8 eps is "
     "the worst case for up to 15 taps and, on zero-mean data, 3.6x the "
     "largest error measured for any length up to 20000 (see tolerance.c)"},
    {"im2col_gemm", DOT_EPS, 1,
     "SGEMM sums the same (C/G)*R*S products as direct, in blocks; "
     "blocking only shortens the chains, so the direct bound holds"},
    {"conv1x1", DOT_EPS, 1,
     "SGEMM over C/G channels: the same dot products as direct"},
    {"winograd_f2x2", WINO2_EPS, 0,
     "F(2x2,3x3) at 0, +-1: worst 7.5 eps measured (depthwise), about 1 "
     "on layers of 64+ channels; 2.1x margin"},
    {"winograd_f4x4", WINO4_EPS, 0,
     "F(4x4,3x3) at 0, +-3/4, +-3/2: worst 159 eps measured (depthwise: "
     "one channel, small beta at borders), about 5 on layers of 64+ "
     "channels; 2.4x margin"},
    {"winograd_f6x6", WINO6_EPS, 0,
     "F(6x6,3x3) at 0, +-1, +-2, +-11/16: worst 877 eps measured "
     "(depthwise), 25-40 on layers of 64+ channels; transform entries up "
     "to 32 make it the least accurate variant; 2.3x margin"},
    {"fft", FFT_EPS, 0,
     "FFT rounding is normwise, so outputs that read few taps see more "
     "than their beta suggests: worst 242 eps measured where some output "
     "reads 2 taps, 2.9 at 9+ taps, 1.4 at 64+; holds for shapes whose "
     "every output reads >= 2 taps (ref_tolerance_eps() scales it)"},
    {"auto", AUTO_EPS, 0,
     "may choose any algorithm above, Winograd F(6x6) included, so it "
     "takes the loosest bound and promises no exactness"},
    {NULL, 0.0, 0, NULL},
};

/* Smallest bound; among equals an exact row first, then table order. */
static const ref_tolerance *strictest(void)
{
    const ref_tolerance *best = &ref_tolerances[0];

    for (const ref_tolerance *t = ref_tolerances; t->algo != NULL; t++)
        if (t->eps < best->eps || (t->eps == best->eps && t->exact
                                   && !best->exact))
            best = t;
    return best;
}

const ref_tolerance *ref_tolerance_for(const char *algo)
{
    for (const ref_tolerance *t = ref_tolerances; algo && t->algo; t++)
        if (strcmp(t->algo, algo) == 0)
            return t;
    return strictest();
}

/* Taps inside [0, in) of the emptiest window of an axis that reads any:
 * output o reads input [o*st - pad + j*dil] for j < k. */
static int64_t fewest_taps(int64_t out, int64_t in, int64_t pad, int64_t k,
                           int64_t st, int64_t dil)
{
    int64_t fewest = k;

    for (int64_t o = 0; o < out; o++) {
        int64_t n = 0;

        for (int64_t j = 0; j < k; j++) {
            int64_t i = o * st - pad + j * dil;

            n += i >= 0 && i < in;
        }
        if (n > 0 && n < fewest)
            fewest = n;
    }
    return fewest;
}

double ref_tolerance_eps(const char *algo, const conv_desc *d)
{
    const ref_tolerance *t = ref_tolerance_for(algo);
    int64_t taps;
    double eps;

    if (d == NULL || algo == NULL || strcmp(algo, "fft") != 0)
        return t->eps;
    taps = d->c / d->groups
           * fewest_taps(d->p, d->h, d->pad_top, d->r, d->stride_h,
                         d->dil_h)
           * fewest_taps(d->q, d->w, d->pad_left, d->s, d->stride_w,
                         d->dil_w);
    if (taps <= 1)
        return FFT_ONE_TAP_EPS;
    eps = FFT_TAPS_EPS / (double)taps;
    return eps > FFT_FLOOR_EPS ? eps : FFT_FLOOR_EPS;
}
