/*
 * The error metric: per output e = |y - yref| / beta in units of
 * FLT_EPSILON, where beta = |b| + sum |x*w| bounds every partial sum an
 * algorithm may form. Dividing by beta rather than |yref| keeps outputs
 * that cancel to nearly zero from looking infinitely wrong: an fp32
 * algorithm can only promise accuracy relative to the sizes it added up.
 */
#include "ref.h"

#include <float.h>
#include <math.h>

static ref_error error_empty(int64_t n)
{
    ref_error e = {0};

    e.worst = n > 0 ? 0 : -1;
    return e;
}

/*
 * Folds output i into e. A zero beta means every tap was zero, so the
 * right answer is an exact zero: any difference is an infinite error.
 */
static void fold(ref_error *e, int64_t i, double y, double ref,
                 double beta)
{
    double diff = fabs(y - ref);
    double err;

    if (!isfinite(y) || !isfinite(ref)) {
        e->nonfinite++;
        err = INFINITY;
    } else if (beta == 0.0) {
        err = diff == 0.0 ? 0.0 : INFINITY;
    } else {
        err = diff / beta / FLT_EPSILON;
    }

    if (y != ref)
        e->mismatches++;
    if (err > e->max_eps) {
        e->max_eps = err;
        e->worst = i;
    }
}

ref_error ref_compare(const float *y, const double *yref,
                      const double *beta, int64_t n)
{
    ref_error e = error_empty(n);

    for (int64_t i = 0; i < n; i++)
        fold(&e, i, y[i], yref[i], beta[i]);
    return e;
}

/* Here both sides are fp32 results under judgment, so a non-finite value
 * on either side counts. */
ref_error ref_compare_f32(const float *y, const float *other,
                          const double *beta, int64_t n)
{
    ref_error e = error_empty(n);

    for (int64_t i = 0; i < n; i++)
        fold(&e, i, y[i], other[i], beta[i]);
    return e;
}
