/*
 * convbench: 2-D convolution algorithms behind one plan-based API.
 *
 * Tensors at the API are dense fp32, row-major:
 *   input   x[N][C][H][W]           (NCHW)
 *   weights w[K][C/G][R][S]         (OIHW, grouped: output channel k reads
 *                                     input channels g*C/G .. (g+1)*C/G-1
 *                                     where g = k / (K/G))
 *   bias    b[K]                     (optional)
 *   output  y[N][K][P][Q]           (NCHW)
 * with
 *   P = (H + pad_top + pad_bottom - ((R-1)*dil_h + 1)) / stride_h + 1
 *   Q = (W + pad_left + pad_right - ((S-1)*dil_w + 1)) / stride_w + 1.
 *
 * Life of a plan, as in FFTW and oneDNN: create it once for a shape and an
 * algorithm, give it the weights once (they are transformed or packed
 * then), execute it many times, destroy it.
 *
 * Errors: every call returns a conv_status. Nothing here prints, exits or
 * aborts because of its input; after CONV_EINVAL or CONV_EUNSUPPORTED,
 * conv_reason() says why in words.
 */
#ifndef CONV_H
#define CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum conv_status {
    CONV_OK,
    CONV_EINVAL,        /* the arguments break a rule of the API */
    CONV_EUNSUPPORTED,  /* valid, but this algorithm does not do it */
    CONV_ENOMEM,        /* an allocation failed */
    CONV_ESTATE,        /* a call out of order (execute before weights) */
    CONV_EINTERNAL      /* a dependency failed (FFTW planner, ...) */
} conv_status;

/* A static string naming the status, e.g. "invalid argument". */
const char *conv_status_str(conv_status s);

/* Why the last call on this thread failed ("" if none did). */
const char *conv_reason(void);

/*
 * A convolution problem. Dilation counts as in the formula above: 1 means
 * none (benchdnn's dh0). End padding may be negative: trailing input rows
 * or columns are then never read. p and q are outputs of
 * conv_desc_check().
 */
typedef struct conv_desc {
    int64_t n, c, h, w;       /* batch, input channels, input size */
    int64_t k, r, s;          /* output channels, kernel height, width */
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    int64_t dil_h, dil_w;
    int64_t groups;
    int64_t p, q;             /* output height, width (filled in) */
} conv_desc;

/* A descriptor with stride 1, dilation 1, one group and all else 0. */
conv_desc conv_desc_default(void);

/*
 * Validates d and fills d->p, d->q. Every element count and byte count
 * the library will form from d is checked for int64 and size_t overflow.
 * Returns CONV_EINVAL with a reason naming the field, value and rule.
 */
conv_status conv_desc_check(conv_desc *d);

/* Element counts of the four tensors (d must have passed the check). */
int64_t conv_desc_input_elems(const conv_desc *d);
int64_t conv_desc_weight_elems(const conv_desc *d);
int64_t conv_desc_output_elems(const conv_desc *d);

/*
 * FLOPs as benchdnn counts them: 2 per multiply-add whose kernel tap lands
 * inside the input (padding taps are free), bias not counted.
 */
double conv_desc_flops(const conv_desc *d);

/* Per-phase time of the last executions, for algorithms that have phases
 * (Winograd, FFT); seconds, summed since the plan was created or reset. */
typedef struct conv_profile {
    double input_transform;
    double kernel_transform;  /* set_weights */
    double multiply;
    double output_transform;
    double other;             /* reorders, gathers, bias */
    int64_t executions;
} conv_profile;

typedef struct conv_options {
    int threads;      /* OpenMP and BLAS threads; 0 = OpenMP's default */
    int profile;      /* non-zero: keep a conv_profile (costs a clock read
                         per phase) */
    const char *tuning_file; /* for "auto": NULL = documented default */
} conv_options;

/* Options with every field at its default. */
conv_options conv_options_default(void);

/* Algorithms, by name: "direct", "im2col_gemm", "conv1x1", ... */
int conv_algo_count(void);
const char *conv_algo_name(int i);  /* NULL past the end */

/*
 * Non-zero if algorithm `algo` applies to the checked descriptor d. If it
 * does not (or the name is unknown), why[0..n) receives the reason.
 */
int conv_algo_applies(const char *algo, const conv_desc *d,
                      char *why, size_t n);

/*
 * Scratch bytes a plan of `algo` for the checked descriptor d would own
 * with `threads` threads (0 = default), without building it. SIZE_MAX if
 * the size overflows; 0 for an unknown or inapplicable algorithm.
 */
size_t conv_algo_workspace_bytes(const char *algo, const conv_desc *d,
                                 int threads);

typedef struct conv_plan conv_plan;

/*
 * Builds a plan for descriptor *d (checked here; the plan keeps a copy)
 * with algorithm `algo` and options `opt` (NULL = defaults). Allocates the
 * plan's workspace, so execution never allocates.
 */
conv_status conv_plan_create(conv_plan **plan, const conv_desc *d,
                             const char *algo, const conv_options *opt);

/*
 * Gives the plan its weights w[K][C/G][R][S] and optional bias b[K]
 * (NULL: none). The plan copies, packs or transforms them; the caller's
 * arrays may be freed afterwards. May be called again with new weights.
 */
conv_status conv_plan_set_weights(conv_plan *plan, const float *w,
                                  const float *bias);

/* y[N][K][P][Q] = conv(x[N][C][H][W]). x and y must not overlap. */
conv_status conv_execute(conv_plan *plan, const float *x, float *y);

/* Bytes of scratch memory one execution uses (the plan owns it). */
size_t conv_plan_workspace_bytes(const conv_plan *plan);

/* One line: algorithm, variant, tile, workspace ("winograd_f4x4 tile
 * 6x6, 32 tiles/block, ws 1.2 MiB"). Valid until the plan is destroyed. */
const char *conv_plan_describe(const conv_plan *plan);

/* The algorithm the plan runs ("auto" answers with the one it chose). */
const char *conv_plan_algo(const conv_plan *plan);

/* The profile so far (zeros unless options.profile was set). */
conv_status conv_plan_profile(const conv_plan *plan, conv_profile *out);
void conv_plan_profile_reset(conv_plan *plan);

void conv_plan_destroy(conv_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
