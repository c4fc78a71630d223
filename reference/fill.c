/*
 * Data fills: small integers for the exactness check, uniform reals for
 * accuracy figures.
 *
 * Every element depends only on the seed and its index. Elements come in
 * aligned chunks of REF_FILL_CHUNK; chunk j draws from its own splitmix64
 * stream, started at a hash of (seed, j). Chunks are independent, so
 * threads may take them in any order and the data is the same at any
 * thread count.
 */
#include "ref.h"

#include <math.h>

#define GOLDEN 0x9e3779b97f4a7c15ull

/* Every integer of magnitude up to 2^24 is a float. */
#define EXACT_LIMIT ((int64_t)1 << 24)

typedef struct stream {
    uint64_t state;
} stream;

/* The splitmix64 finalizer: a bijection that scrambles every bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static stream chunk_stream(uint64_t seed, int64_t chunk)
{
    return (stream){mix64(mix64(seed) + (uint64_t)chunk * GOLDEN)};
}

static uint64_t next(stream *s)
{
    s->state += GOLDEN;
    return mix64(s->state);
}

/* Uniform in [0, m) for m >= 1; the modulo bias is below m / 2^64. */
static uint64_t below(stream *s, uint64_t m)
{
    return next(s) % m;
}

/* Non-zero entries of a chunk of len elements: floor(density*len + 1/2),
 * never decreasing in len (the bound in ref.h relies on it). */
static int64_t chunk_nonzeros(int64_t len, double density)
{
    if (!(density > 0.0))
        return 0;
    if (density >= 1.0)
        return len;
    return (int64_t)floor(density * (double)len + 0.5);
}

/* An integer in [-m, -1] or [1, m], each equally likely (m >= 1). */
static float nonzero_int(stream *s, int64_t m)
{
    int64_t v = (int64_t)below(s, 2 * (uint64_t)m);

    return (float)(v < m ? v - m : v - m + 1);
}

/* One chunk: exactly `want` non-zero entries, their places drawn by
 * selection sampling (each place taken with probability wanted/left). */
static void ints_chunk(float *a, int64_t len, int max_abs, double density,
                       stream *s)
{
    int64_t want = max_abs > 0 ? chunk_nonzeros(len, density) : 0;

    for (int64_t i = 0; i < len; i++) {
        if (want > 0 && (int64_t)below(s, (uint64_t)(len - i)) < want) {
            a[i] = nonzero_int(s, max_abs);
            want--;
        } else {
            a[i] = 0.0f;
        }
    }
}

/* One chunk of reals: 24 random bits each, centred, so multiples of
 * 2^-23 in [-1, 1), each exactly a float. */
static void real_chunk(float *a, int64_t len, stream *s)
{
    for (int64_t i = 0; i < len; i++) {
        int64_t v = (int64_t)(next(s) >> 40) - ((int64_t)1 << 23);

        a[i] = (float)ldexp((double)v, -23);
    }
}

/* How many chunks n elements take, and how long chunk j is (the last may
 * be short). */
static int64_t chunk_count(int64_t n)
{
    return n > 0 ? (n - 1) / REF_FILL_CHUNK + 1 : 0;
}

static int64_t chunk_len(int64_t n, int64_t j)
{
    int64_t left = n - j * REF_FILL_CHUNK;

    return left < REF_FILL_CHUNK ? left : REF_FILL_CHUNK;
}

void ref_fill_ints(float *a, int64_t n, int max_abs, double density,
                   uint64_t seed)
{
    int64_t chunks = chunk_count(n);

    if (a == NULL)
        return;
    #pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < chunks; j++) {
        stream s = chunk_stream(seed, j);

        ints_chunk(a + j * REF_FILL_CHUNK, chunk_len(n, j), max_abs,
                   density, &s);
    }
}

void ref_fill_real(float *a, int64_t n, uint64_t seed)
{
    int64_t chunks = chunk_count(n);

    if (a == NULL)
        return;
    #pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < chunks; j++) {
        stream s = chunk_stream(seed, j);

        real_chunk(a + j * REF_FILL_CHUNK, chunk_len(n, j), &s);
    }
}

/* Taps of one output: (C/G)*R*S, at least 1 even for a bad descriptor. */
static int64_t taps_per_output(const conv_desc *d)
{
    int64_t cg;

    if (d == NULL || d->groups < 1 || d->c < d->groups || d->r < 1
        || d->s < 1)
        return 1;
    cg = d->c / d->groups;
    if (cg > INT64_MAX / d->r / d->s)
        return INT64_MAX;
    return cg * d->r * d->s;
}

/*
 * NOTE: why no sum can pass 2^24, whatever the order of summation.
 * An exact algorithm only ever forms partial sums of one output's terms
 * (the products of its taps and the bias), so each such value is an
 * integer of magnitude at most
 *     b_max + (non-zero taps of the output) * x_max * w_max.
 * If that is at most 2^24, every value is a float and no rounding occurs.
 *
 * 1. Dense data first, with the widest range that fits: x, w and b in
 *    [-m, m] for m = 8, 4, 2, 1, the first with m + T*m*m <= 2^24 for
 *    T = (C/G)*R*S taps. m = 8 already covers T up to 262143, beyond any
 *    published layer.
 * 2. Only if even m = 1 does not fit (T >= 2^24), sparsify the weights,
 *    never the input: the filter of output channel k is the contiguous
 *    run w[k*T .. (k+1)*T) and spans at most ceil((T-1)/CHUNK) + 1
 *    chunks of ref_fill_ints, each holding exactly nb non-zero entries by
 *    construction. With nb = floor((2^24 - 1) / chunks) no output has
 *    more than 2^24 - 1 non-zero taps: a guarantee, not an expectation.
 *    The density nb / CHUNK is exact in binary, so ref_fill_ints turns it
 *    back into nb per chunk.
 */
ref_exact_fill ref_exact_fill_for(const conv_desc *d)
{
    static const int ranges[] = {8, 4, 2, 1};
    int64_t taps = taps_per_output(d);
    ref_exact_fill f = {1, 1, 1, 1.0, 1.0};
    int64_t chunks, nb;

    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        int64_t m = ranges[i];

        if (taps <= (EXACT_LIMIT - m) / (m * m)) {
            f.x_max = f.w_max = f.b_max = (int)m;
            return f;
        }
    }

    chunks = (taps - 2) / REF_FILL_CHUNK + 2;
    nb = (EXACT_LIMIT - f.b_max) / chunks;
    f.w_density = (double)nb / REF_FILL_CHUNK;
    return f;
}
