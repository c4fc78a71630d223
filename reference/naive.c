/*
 * The fp64 reference convolution: seven plain loops, nothing clever, so
 * that it can be read and trusted. It shares no code with the fast paths;
 * from the library it takes only the types, conv_desc_check() and the
 * failure reason.
 *
 * Every product of two floats is exact in double (24 + 24 bits < 53), so
 * the only rounding is in the sums, which run in double: the reference is
 * some 2^29 times more precise than any fp32 algorithm it judges.
 */
#include "ref.h"

#include "algo.h"

#include <math.h>

/* The tensors of one call, so helpers take one argument for them. */
typedef struct ref_args {
    const conv_desc *d;
    const float *x, *w, *b;
} ref_args;

/*
 * Output y[n][k][p][q] and its beta, taps in the fixed order c, r, s:
 *   y = sum over c, r, s of x[n][g*C/G + c][ih][iw] * w[k][c][r][s] + b[k]
 * with ih = p*stride_h - pad_top + r*dil_h (iw likewise); taps that fall
 * in the padding are skipped.
 */
static void ref_point(const ref_args *a, int64_t n, int64_t k, int64_t p,
                      int64_t q, double *y, double *beta)
{
    const conv_desc *d = a->d;
    int64_t cg = d->c / d->groups;
    int64_t g = k / (d->k / d->groups);
    double acc = 0.0, mag = 0.0;

    for (int64_t c = 0; c < cg; c++) {
        const float *xc = a->x + (n * d->c + g * cg + c) * d->h * d->w;
        const float *wc = a->w + (k * cg + c) * d->r * d->s;

        for (int64_t r = 0; r < d->r; r++) {
            int64_t ih = p * d->stride_h - d->pad_top + r * d->dil_h;

            if (ih < 0 || ih >= d->h)
                continue;
            for (int64_t s = 0; s < d->s; s++) {
                int64_t iw = q * d->stride_w - d->pad_left + s * d->dil_w;
                double t;

                if (iw < 0 || iw >= d->w)
                    continue;
                t = (double)xc[ih * d->w + iw] * (double)wc[r * d->s + s];
                acc += t;
                mag += fabs(t);
            }
        }
    }

    if (a->b != NULL) {
        acc += a->b[k];
        mag += fabs((double)a->b[k]);
    }
    *y = acc;
    if (beta != NULL)
        *beta = mag;
}

/* The plane y[n][k][.][.]: one thread computes all of it. */
static void ref_plane(const ref_args *a, int64_t n, int64_t k, double *y,
                      double *beta)
{
    const conv_desc *d = a->d;
    int64_t base = (n * d->k + k) * d->p * d->q;

    for (int64_t p = 0; p < d->p; p++)
        for (int64_t q = 0; q < d->q; q++) {
            int64_t i = base + p * d->q + q;

            ref_point(a, n, k, p, q, &y[i], beta ? &beta[i] : NULL);
        }
}

conv_status ref_conv(const conv_desc *d, const float *x, const float *w,
                     const float *b, double *y, double *beta)
{
    conv_desc c;
    ref_args a;
    conv_status st;

    if (d == NULL || x == NULL || w == NULL || y == NULL)
        return conv_fail(CONV_EINVAL, "ref_conv: the descriptor, x, w and "
                         "y must not be NULL");
    c = *d;
    st = conv_desc_check(&c);
    if (st != CONV_OK)
        return st;
    if (c.p != d->p || c.q != d->q)
        return conv_fail(CONV_EINVAL, "ref_conv: output %lldx%lld: must be "
                         "%lldx%lld, as conv_desc_check() computes it",
                         (long long)d->p, (long long)d->q,
                         (long long)c.p, (long long)c.q);

    /* Each plane belongs to one thread and is summed in a fixed order,
     * so the result does not depend on the thread count. */
    a = (ref_args){.d = &c, .x = x, .w = w, .b = b};
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t nk = 0; nk < c.n * c.k; nk++)
        ref_plane(&a, nk / c.k, nk % c.k, y, beta);
    return CONV_OK;
}
