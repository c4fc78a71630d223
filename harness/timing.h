/*
 * Timing one case of `convbench bench`: a shape's data, the algorithm's
 * plan (or oneDNN's primitive, or the naive reference) built outside the
 * timed region, Google Benchmark around the convolution alone, and the
 * result written into a results row.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include "conv.h"
#include "csv.h"
#include "shapes.h"

#include <stddef.h>

/* The tensors of one shape, shared by all its cases. */
typedef struct bench_data {
    const conv_desc *d;
    float *x, *w, *b, *y;
    double *yref, *beta;     /* for the naive reference, made on demand */
} bench_data;

/* Allocates and fills x, w and b with random reals. Returns 0 or -1. */
int bench_data_make(bench_data *sd, const conv_desc *d);
void bench_data_free(bench_data *sd);

/*
 * Whether `algo` applies to d, as far as can be known before running it:
 * the library's answer for its algorithms (with the reason in why), yes
 * for "onednn", "onednn_nchw" and "naive" (oneDNN answers when asked).
 */
int bench_case_applies(const char *algo, const conv_desc *d, char *why,
                       size_t n);

/* The name Google Benchmark knows the case by: "DESC/ALGO". */
void bench_case_name(const bench_shape *s, const char *algo, char *buf,
                     size_t n);

/*
 * Times `algo` on shape s with `threads` threads and fills r's impl,
 * status and numbers: "ok" with the median and minimum time, GFLOP/s
 * (benchdnn's flop count over the median), the fraction of peak_gflops
 * (if > 0) and the workspace; or "n/a:REASON" / "error:REASON". Returns
 * 0 if r is a row to write, -1 if Google Benchmark's flags left the case
 * unrun (--benchmark_filter, --benchmark_list_tests).
 */
int bench_time_case(const char *algo, const bench_shape *s,
                    bench_data *sd, double peak_gflops, int threads,
                    bench_row *r);

#endif
