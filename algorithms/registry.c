/* The registry: one line per algorithm family. */
#include "algo.h"

extern const conv_algo conv_algo_direct;
extern const conv_algo conv_algo_im2col_gemm;
extern const conv_algo conv_algo_conv1x1;
extern const conv_algo conv_algo_winograd_f2x2;
extern const conv_algo conv_algo_winograd_f4x4;
extern const conv_algo conv_algo_winograd_f6x6;
extern const conv_algo conv_algo_fft;
extern const conv_algo conv_algo_auto;

const conv_algo *const conv_algos[] = {
    &conv_algo_direct,
    &conv_algo_im2col_gemm,
    &conv_algo_conv1x1,
    &conv_algo_winograd_f2x2,
    &conv_algo_winograd_f4x4,
    &conv_algo_winograd_f6x6,
    &conv_algo_fft,
    &conv_algo_auto,
};

const int conv_algos_count = sizeof conv_algos / sizeof conv_algos[0];
