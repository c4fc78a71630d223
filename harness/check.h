/* `convbench check`: every algorithm against the fp64 reference and
 * oneDNN, shape by shape. */
#ifndef BENCH_CHECK_H
#define BENCH_CHECK_H

#include "ref.h"

typedef enum check_verdict { CHECK_OK, CHECK_FAIL, CHECK_NA } check_verdict;

/*
 * The verdict on output y[n] of `algo` against the reference: on exact
 * integer data (exact_data != 0) an algorithm whose tolerance row says
 * exact must match bit for bit; otherwise the error must stay within the
 * bound ref_tolerance_eps() gives for d. Non-finite outputs always fail.
 * *err receives the metric.
 */
check_verdict check_judge(const char *algo, const conv_desc *d,
                          int exact_data, const float *y,
                          const double *yref, const double *beta,
                          ref_error *err);

int check_main(int argc, char **argv);

#endif
