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
#include <stdint.h>
#include <stdio.h>

/* The tensors of one shape, shared by all its cases. */
typedef struct bench_data {
    const conv_desc *d;
    float *x, *w, *b, *y;
    double *yref, *beta;     /* for the naive reference, made on demand */
} bench_data;

/*
 * n floats (NULL if memory ran out; free() releases them) 64-byte
 * aligned, as a framework's tensors are: plain malloc gives 16 bytes,
 * so every other 32-byte store of a row would split a cache line, and
 * kernels that stream whole lines (the fused Winograd path) could not.
 */
float *bench_floats(size_t n);

/* Allocates and fills x, w and b with random reals. Returns 0 or -1. */
int bench_data_make(bench_data *sd, const conv_desc *d);
void bench_data_free(bench_data *sd);

/* Allocates sd's yref and beta (the reference's output and its bound)
 * if missing; 0, or -1 if memory ran out. */
int bench_data_ref_buffers(bench_data *sd);

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

/* ---- the per-phase profile: results/NAME.phases.csv ---- */

/* The phases an execution's time is split into (conv_profile's). */
enum { BENCH_PHASE_INPUT, BENCH_PHASE_MULTIPLY, BENCH_PHASE_OUTPUT,
       BENCH_PHASE_OTHER, BENCH_NPHASES };

/* "input_transform", "multiply", "output_transform", "other". */
extern const char *const bench_phase_names[BENCH_NPHASES];

#define BENCH_PHASES_HEADER \
    "suite,layer,desc,algo,threads,executions,input_transform_ms," \
    "multiply_ms,output_transform_ms,other_ms,kernel_transform_ms," \
    "total_ms"

/*
 * One row of NAME.phases.csv: where one case's time went. ms[] are means
 * per execution over every timed execution of every repetition (the
 * warm-up and Google Benchmark's trial runs excluded); kernel_ms is one
 * set_weights; total_ms is the sum of ms[], not the measured time.
 */
typedef struct bench_phases {
    char suite[64];
    char layer[160];
    char desc[320];
    char algo[32];
    int threads;
    int64_t executions;      /* 0: unknown (aggregates-only reports) */
    double ms[BENCH_NPHASES];
    double kernel_ms;
    double total_ms;
} bench_phases;

/*
 * Times every case of shape s together: algos[0..n) each get a plan (or
 * oneDNN's primitive, or the reference) built and run once, then Google
 * Benchmark runs all of them in one go. With
 * --benchmark_enable_random_interleaving (on by default) their
 * repetitions run in a shuffled order, so a slow spell of the machine
 * falls on every algorithm alike instead of on the one running then
 * (that removes a bias between the rows, not their spread). Plans that
 * do not all fit in memory are timed in smaller groups.
 *
 * rows[i] (its identifying columns set by the caller) gets its impl,
 * status and numbers: "ok" with the median and minimum time, GFLOP/s
 * (benchdnn's flop count over the median), the fraction of peak_gflops
 * (if > 0) and the workspace; or "n/a:REASON" / "error:REASON". due[i]
 * is 0 if it is a row to write, -1 if Google Benchmark's flags left the
 * case unrun (--benchmark_filter, --benchmark_list_tests). With ph
 * non-NULL, ph[i] gets case i's phase profile: its phase times also go
 * into Google Benchmark's counters (input_transform_ms, ...,
 * kernel_transform_ms), and its total_ms stays 0 when the algorithm
 * records no phase (oneDNN, naive, direct); its identifying columns are
 * left to the caller. Returns 0, or -1 if memory ran out before any case
 * ran.
 */
int bench_time_shape(const char *const *algos, int n, const bench_shape *s,
                     bench_data *sd, double peak_gflops, int threads,
                     bench_row *rows, bench_phases *ph, int *due);

/* Appends ph as one CSV line and syncs it to disk. Returns 0 or -1. */
int bench_phases_append(FILE *f, const bench_phases *ph);

typedef struct bench_phases_table {
    bench_phases *rows;
    int n;
} bench_phases_table;

/*
 * Reads NAME.phases.csv. The header must be BENCH_PHASES_HEADER and every
 * line a complete row with numbers >= 0; otherwise returns -1 with
 * "path:line: what is wrong" in err. A missing file is an error too.
 */
int bench_phases_read(const char *path, bench_phases_table *t, char *err,
                      size_t n);
void bench_phases_table_free(bench_phases_table *t);

/*
 * Opens NAME.phases.csv for appending rows, writing the header first if
 * the file is new or empty. Returns NULL with a message in err.
 */
FILE *bench_phases_open(const char *path, char *err, size_t n);

/*
 * For --resume: keeps only the rows of NAME.phases.csv that a row of the
 * kept table `done` answers for (same suite, layer, desc, algo, threads;
 * each table row once), so a case cut off between its two rows runs
 * again without a duplicate. Rewrites the file atomically, or removes it
 * if nothing is kept; a missing file is left missing. Returns 0, or -1
 * with a message in err (an unreadable file is left as it was).
 */
int bench_phases_keep(const char *path, const bench_rows *done, char *err,
                      size_t n);

#endif
