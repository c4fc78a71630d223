/*
 * oneDNN as a judge and as the peer every timing is compared against.
 * The same convolution through oneDNN's C API (v2, oneDNN 2.6).
 */
#ifndef CONV_ONEDNN_H
#define CONV_ONEDNN_H

#include "conv.h"

typedef enum onednn_layout {
    ONEDNN_ANY,   /* format `any`: oneDNN picks blocked layouts (fastest);
                     reorders from and to NCHW happen outside run() */
    ONEDNN_NCHW   /* the user's NCHW / OIHW memory given as is */
} onednn_layout;

typedef struct onednn_conv onednn_conv;

/*
 * Limits oneDNN to an instruction set ("avx2", "avx512_core", "native")
 * before its first primitive is made; later calls have no effect.
 * Returns CONV_EINVAL for an unknown name. Once the limit is fixed (by
 * this call, or by any use of oneDNN, onednn_isa() included), asking
 * again for the limit this call set returns CONV_OK, anything else
 * CONV_ESTATE.
 */
conv_status onednn_set_max_isa(const char *isa);

/* The ISA oneDNN dispatches to now, e.g. "Intel AVX2". */
const char *onednn_isa(void);
const char *onednn_version(void);

/* threads: OpenMP threads oneDNN uses for this handle (0: OpenMP's
 * default). A descriptor that reads no input row or no input column at
 * all (every tap in the leading padding) gets CONV_EUNSUPPORTED. */
conv_status onednn_conv_create(onednn_conv **h, const conv_desc *d,
                               onednn_layout layout, int threads);

/* Weights w[K][C/G][R][S] and bias b[K] (NULL: zeros), reordered once. */
conv_status onednn_conv_set_weights(onednn_conv *h, const float *w,
                                    const float *b);

/* x[N][C][H][W] into the primitive's input layout (a timed reorder). */
conv_status onednn_conv_set_input(onednn_conv *h, const float *x);

/* The primitive alone, on the loaded input: this is what is timed. */
conv_status onednn_conv_run(onednn_conv *h);

/* The output back to y[N][K][P][Q] (a timed reorder). */
conv_status onednn_conv_get_output(onednn_conv *h, float *y);

/* Seconds of the last set_input and get_output reorders. */
double onednn_conv_reorder_seconds(const onednn_conv *h);

/* The implementation oneDNN chose, e.g. "jit:avx2". */
const char *onednn_conv_impl(const onednn_conv *h);

/* Bytes of scratchpad the primitive asked for. */
size_t onednn_conv_workspace_bytes(const onednn_conv *h);

void onednn_conv_destroy(onednn_conv *h);

/*
 * The steps every caller takes before it reads or times the primitive:
 * create, set the weights (b may be NULL) and the input x, run once.
 * On failure *h is NULL and the status and reason are the failing step's.
 */
conv_status onednn_conv_ready(onednn_conv **h, const conv_desc *d,
                              onednn_layout layout, int threads,
                              const float *w, const float *b,
                              const float *x);

#endif
