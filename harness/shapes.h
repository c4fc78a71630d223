/*
 * Shape descriptors in oneDNN benchdnn's convolution syntax, and suites
 * (files of them, one per line).
 */
#ifndef BENCH_SHAPES_H
#define BENCH_SHAPES_H

#include "conv.h"

#include <stddef.h>

typedef struct bench_shape {
    conv_desc desc;       /* checked: p and q filled */
    char name[160];       /* layer name without quotes and "*N"; may be "" */
    int count;            /* times the layer occurs (from "*N"), >= 1 */
    char text[320];       /* canonical descriptor, benchdnn form */
    int line;             /* line in its file (0 for a bare argument) */
} bench_shape;

typedef struct bench_suite {
    char name[64];        /* file name without directory and ".txt" */
    char path[1024];
    bench_shape *shapes;
    int n;
} bench_suite;

/*
 * Parses one descriptor. mb > 0 overrides the batch (benchdnn's --mb).
 * On error returns -1 and writes to err a message naming the field, the
 * value and the rule ("'kh0': kernel height must be at least 1").
 */
int bench_shape_parse(const char *text, int64_t mb, bench_shape *out,
                      char *err, size_t n);

/* The canonical benchdnn text of a checked descriptor. */
void bench_shape_format(const conv_desc *d, const char *name,
                        char *buf, size_t n);

/*
 * Loads a suite by name (a file under the suites directory) or path.
 * Errors carry "file:line: " before the parser's message, or say why the
 * file cannot be read. Returns 0 or -1.
 */
int bench_suite_load(const char *name_or_path, int64_t mb,
                     bench_suite *out, char *err, size_t n);
void bench_suite_free(bench_suite *s);

/* The directory suites are looked up in: $CONVBENCH_SUITES, else
 * harness/suites beside the build directory, else the installed copy. */
const char *bench_suites_dir(void);

/* Calls fn for each shipped suite name, sorted. Returns how many. */
int bench_suites_each(void (*fn)(const char *name, void *arg), void *arg);

#endif
