/* The registry: one line per algorithm family. */
#include "algo.h"

extern const conv_algo conv_algo_im2col_gemm;
extern const conv_algo conv_algo_conv1x1;

const conv_algo *const conv_algos[] = {
    &conv_algo_im2col_gemm,
    &conv_algo_conv1x1,
};

const int conv_algos_count = sizeof conv_algos / sizeof conv_algos[0];
