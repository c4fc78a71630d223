/* The descriptor: validation, output size (computed here only), counts. */
#include "algo.h"

#include <limits.h>

/* Every single size must fit in an int so that kernels may index with
 * int and products of two sizes stay far from int64's range. */
#define DIM_MAX INT32_MAX

conv_desc conv_desc_default(void)
{
    conv_desc d = {0};

    d.stride_h = d.stride_w = 1;
    d.dil_h = d.dil_w = 1;
    d.groups = 1;
    return d;
}

typedef struct field {
    const char *name;
    int64_t value;
    int64_t min;
} field;

static conv_status check_ranges(const conv_desc *d)
{
    const field f[] = {
        {"batch (n)", d->n, 1}, {"input channels (c)", d->c, 1},
        {"input height (h)", d->h, 1}, {"input width (w)", d->w, 1},
        {"output channels (k)", d->k, 1}, {"kernel height (r)", d->r, 1},
        {"kernel width (s)", d->s, 1}, {"stride_h", d->stride_h, 1},
        {"stride_w", d->stride_w, 1}, {"dil_h", d->dil_h, 1},
        {"dil_w", d->dil_w, 1}, {"groups", d->groups, 1},
        {"pad_top", d->pad_top, 0}, {"pad_left", d->pad_left, 0},
        {"pad_bottom", d->pad_bottom, -DIM_MAX},
        {"pad_right", d->pad_right, -DIM_MAX},
    };

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].value < f[i].min)
            return conv_fail(CONV_EINVAL, "%s = %lld: must be at least %lld",
                             f[i].name, (long long)f[i].value,
                             (long long)f[i].min);
        if (f[i].value > DIM_MAX)
            return conv_fail(CONV_EINVAL, "%s = %lld: must be at most %d",
                             f[i].name, (long long)f[i].value, DIM_MAX);
    }
    return CONV_OK;
}

/* Output extent of one spatial dimension, or 0 if it comes out empty. */
static int64_t out_size(int64_t in, int64_t pad0, int64_t pad1, int64_t k,
                        int64_t dil, int64_t stride)
{
    int64_t extent = (k - 1) * dil + 1;
    int64_t span = in + pad0 + pad1 - extent;

    return span < 0 ? 0 : span / stride + 1;
}

/* a * b * c * d within int64 and, in bytes of float, within size_t. */
static int count_fits(int64_t a, int64_t b, int64_t c, int64_t d)
{
    const int64_t lim = INT64_MAX / (int64_t)sizeof(float);
    int64_t v = a;

    if (b > lim / v)
        return 0;
    v *= b;
    if (c > lim / v)
        return 0;
    v *= c;
    if (d > lim / v)
        return 0;
    v *= d;
    return (uint64_t)v <= SIZE_MAX / sizeof(float);
}

static conv_status check_counts(const conv_desc *d)
{
    if (!count_fits(d->n, d->c, d->h, d->w))
        return conv_fail(CONV_EINVAL, "input n*c*h*w = %lld*%lld*%lld*%lld:"
                         " byte size overflows", (long long)d->n,
                         (long long)d->c, (long long)d->h, (long long)d->w);
    if (!count_fits(d->k, d->c / d->groups, d->r, d->s))
        return conv_fail(CONV_EINVAL, "weights k*(c/g)*r*s = "
                         "%lld*%lld*%lld*%lld: byte size overflows",
                         (long long)d->k, (long long)(d->c / d->groups),
                         (long long)d->r, (long long)d->s);
    if (!count_fits(d->n, d->k, d->p, d->q))
        return conv_fail(CONV_EINVAL, "output n*k*p*q = %lld*%lld*%lld*%lld:"
                         " byte size overflows", (long long)d->n,
                         (long long)d->k, (long long)d->p, (long long)d->q);
    /* The unfolded patch matrix of one image, the largest derived buffer
     * any algorithm forms: (c/g)*r*s rows by p*q columns. */
    if (!count_fits(d->c / d->groups * d->r, d->s, d->p, d->q))
        return conv_fail(CONV_EINVAL, "patch matrix (c/g)*r*s*p*q = "
                         "%lld*%lld*%lld*%lld*%lld: byte size overflows",
                         (long long)(d->c / d->groups), (long long)d->r,
                         (long long)d->s, (long long)d->p, (long long)d->q);
    return CONV_OK;
}

conv_status conv_desc_check(conv_desc *d)
{
    conv_status st;

    if (d == NULL)
        return conv_fail(CONV_EINVAL, "descriptor is NULL");
    st = check_ranges(d);
    if (st != CONV_OK)
        return st;

    if (d->c % d->groups != 0 || d->k % d->groups != 0)
        return conv_fail(CONV_EINVAL, "groups = %lld: must divide input "
                         "channels (%lld) and output channels (%lld)",
                         (long long)d->groups, (long long)d->c,
                         (long long)d->k);

    d->p = out_size(d->h, d->pad_top, d->pad_bottom, d->r, d->dil_h,
                    d->stride_h);
    d->q = out_size(d->w, d->pad_left, d->pad_right, d->s, d->dil_w,
                    d->stride_w);
    if (d->p < 1 || d->q < 1)
        return conv_fail(CONV_EINVAL, "output %lldx%lld: the dilated kernel"
                         " (%lldx%lld) must fit in the padded input "
                         "(%lldx%lld)", (long long)d->p, (long long)d->q,
                         (long long)((d->r - 1) * d->dil_h + 1),
                         (long long)((d->s - 1) * d->dil_w + 1),
                         (long long)(d->h + d->pad_top + d->pad_bottom),
                         (long long)(d->w + d->pad_left + d->pad_right));
    return check_counts(d);
}

int64_t conv_desc_input_elems(const conv_desc *d)
{
    return d->n * d->c * d->h * d->w;
}

int64_t conv_desc_weight_elems(const conv_desc *d)
{
    return d->k * (d->c / d->groups) * d->r * d->s;
}

int64_t conv_desc_output_elems(const conv_desc *d)
{
    return d->n * d->k * d->p * d->q;
}

/* Kernel taps inside the input, summed over outputs, in one dimension:
 * for output o, tap t reads i = o*stride - pad + t*dil, kept if in range. */
static double taps_1d(int64_t in, int64_t out, int64_t k, int64_t pad,
                      int64_t stride, int64_t dil)
{
    double taps = 0;

    for (int64_t o = 0; o < out; o++) {
        int64_t lo = o * stride - pad;
        int64_t t0 = lo >= 0 ? 0 : (-lo + dil - 1) / dil;
        int64_t t1 = in - 1 - lo < 0 ? -1 : (in - 1 - lo) / dil;

        if (t1 > k - 1)
            t1 = k - 1;
        if (t1 >= t0)
            taps += (double)(t1 - t0 + 1);
    }
    return taps;
}

double conv_desc_flops(const conv_desc *d)
{
    double th = taps_1d(d->h, d->p, d->r, d->pad_top, d->stride_h, d->dil_h);
    double tw = taps_1d(d->w, d->q, d->s, d->pad_left, d->stride_w, d->dil_w);

    return 2.0 * (double)d->n * (double)d->k * (double)(d->c / d->groups)
           * th * tw;
}
