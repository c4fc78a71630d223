/*
 * Helpers the test binaries share: scratch directories, whole files,
 * a command's captured messages, seeds, allocation and poison. The
 * Makefile links tests/util.o into every tests/test_* binary.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include "conv.h"

#include <stddef.h>
#include <stdint.h>

/* Makes a fresh private directory /tmp/PREFIX.XXXXXX, its path into
 * dir[n]; 0, or -1 if it cannot. For cmocka setups. */
int test_make_dir(char *dir, size_t n, const char *prefix);

/* Removes dir and everything below it; 0, or -1 if something stayed. */
int test_remove_dir(const char *dir);

/* Writes `text` as the whole file at path; fails the test if it cannot. */
void test_write_file(const char *path, const char *text);

/* The whole file as a string to free; fails the test if unreadable. */
char *test_read_file(const char *path);

/* A command's entry point, such as merge_main. */
typedef int test_main_fn(int argc, char **argv);

/*
 * Runs main_fn(argc, argv) with stderr captured in a file of `dir`;
 * returns its exit status and, in *msg (to free), what it wrote there.
 */
int test_stderr_of(test_main_fn *main_fn, int argc, char **argv,
                   const char *dir, char **msg);

/* $TEST_SEED when it is a whole decimal number, else `fallback`. */
uint64_t test_seed(uint64_t fallback);

/* count * size zeroed bytes (at least one); fails the test if none. */
void *test_alloc(size_t count, size_t size);

/* NaN into a[0..n), so an output the call fails to write shows. */
void test_poison(float *a, int64_t n);

/* A convolution's geometry in the column order of the shape tables. */
typedef struct test_geometry {
    int n, c, h, w, k, r, s;
    int sh, sw, pt, pl, pb, pr, dh, dw, g;
} test_geometry;

/* conv_desc_default() with g's geometry. */
conv_desc test_desc(const test_geometry *g);

/*
 * One descriptor's buffers: input x, weights w, bias b, output y, and
 * the fp64 reference's answer yref with its error scale beta.
 */
typedef struct test_data {
    int64_t nx, nw, ny;
    float *x, *w, *b, *y;
    double *yref, *beta;
} test_data;

/* Zeroed buffers for checked descriptor d; fails the test if none. */
test_data test_data_new(const conv_desc *d);

void test_data_free(test_data *t);

/* Integers every summation order adds up exactly (ref_exact_fill_for)
 * into x, w and b, from seed, seed + 1 and seed + 2. */
void test_fill_exact(test_data *t, const conv_desc *d, uint64_t seed);

/* Real values into x, w and b, from seed, seed + 1 and seed + 2. */
void test_fill_real(test_data *t, const conv_desc *d, uint64_t seed);

/* yref and beta for x and w with `bias` (t->b, or NULL for none). */
void test_reference(test_data *t, const conv_desc *d, const float *bias);

/*
 * A plan of `algo` for d at `threads` threads, given w and, if `bias`, b,
 * run on x into y (poisoned first); fails the test, naming `what`, at
 * the first step that fails. The caller destroys the plan.
 */
conv_plan *test_plan_run(test_data *t, const conv_desc *d, const char *algo,
                         int threads, int bias, const char *what);

/*
 * Fails the test, naming `what`, if y has a non-finite value or one more
 * than `bound` eps (ref_compare's measure) from yref.
 */
void test_expect_close(const test_data *t, double bound, const char *what);

#endif
