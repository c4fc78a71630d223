/*
 * The tidy results table of `convbench bench`: one row per shape x
 * algorithm x thread count, columns
 *
 *   suite,layer,count,desc,algo,impl,threads,status,time_ms,time_min_ms,
 *   gflops,peak_fraction,workspace_bytes
 *
 * status is "ok", "n/a:REASON" (the algorithm does not apply) or
 * "error:REASON" (it applies but failed); only "ok" rows carry numbers.
 * time_ms is the median time of one execution, time_min_ms the fastest.
 * Fields holding a comma or a quote are quoted, quotes doubled (RFC 4180);
 * line breaks inside a field become spaces, so every row is one line.
 *
 * Rows are appended whole and synced as each case finishes, so a killed
 * sweep leaves a valid table of everything it finished.
 */
#ifndef BENCH_CSV_H
#define BENCH_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_CSV_HEADER \
    "suite,layer,count,desc,algo,impl,threads,status,time_ms,time_min_ms," \
    "gflops,peak_fraction,workspace_bytes"

typedef struct bench_row {
    char suite[64];
    char layer[160];
    int count;                /* times the layer occurs, >= 1 */
    char desc[320];           /* the benchdnn descriptor */
    char algo[32];
    char impl[256];           /* the plan's or oneDNN's own description */
    int threads;
    char status[320];
    double time_ms;           /* NaN: empty (status is not "ok") */
    double time_min_ms;
    double gflops;
    double peak_fraction;     /* NaN also when the peak is unknown */
    int64_t workspace_bytes;  /* -1: empty */
} bench_row;

/* A row with its text empty, count and threads 1, and numbers empty. */
bench_row bench_row_empty(void);

/*
 * Writes one field as CSV to out[0..n): quoted if it holds a comma or a
 * quote. Returns its length, or -1 if it does not fit.
 */
int bench_csv_field(const char *text, char *out, size_t n);

/* The row as one CSV line ending in '\n'. Returns its length or -1. */
int bench_csv_format(const bench_row *r, char *line, size_t n);

/*
 * Opens the table at `path` for appending rows. keep == 0 empties it
 * first; keep != 0 keeps its rows (the caller has read them). A new or
 * empty file gets the header. Returns NULL with a message in err.
 */
FILE *bench_csv_open(const char *path, int keep, char *err, size_t n);

/* Appends r as one line and syncs it to disk. Returns 0 or -1. */
int bench_csv_append(FILE *f, const bench_row *r);

/* The rows of a table, and which of them a resumed run has matched. */
typedef struct bench_rows {
    bench_row *rows;
    unsigned char *taken;
    int n;
} bench_rows;

/*
 * Reads the table at `path`. The header must be exactly BENCH_CSV_HEADER
 * and every line a complete, valid row; otherwise returns -1 with
 * "path:line: what is wrong" in err.
 */
int bench_csv_read(const char *path, bench_rows *out, char *err, size_t n);

/*
 * Finds a row not taken yet with the same suite, layer, desc, algo and
 * threads as `key`; marks it taken and returns 1, or returns 0. Each row
 * answers once, so a shape listed twice needs two rows to be skipped.
 */
int bench_rows_take(bench_rows *t, const bench_row *key);

void bench_rows_free(bench_rows *t);

#endif
