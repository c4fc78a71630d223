/* `convbench tune`: every applicable algorithm timed per shape, ranked,
 * and the winners written to the tuning cache that "auto" reads. */
#ifndef BENCH_TUNE_H
#define BENCH_TUNE_H

#include "csv.h"

/*
 * convbench tune [--suite NAME|FILE] [--algo A,B] [--threads T] [--mb N]
 *                [--tuning FILE] [--benchmark_FLAG=VALUE...] [DESC...]
 *
 * For each shape, each applicable library algorithm (default: all but
 * auto) is timed through Google Benchmark, as `bench` does, and run once
 * on random real data against the fp64 reference. The ranked list is
 * printed per shape (time, workspace, error in FLT_EPSILON); the fastest
 * algorithm whose error is within its tolerance becomes the cache entry
 * for (shape, threads, this machine), unless it is not clearly faster
 * than auto's cost-model pick (tune_clearly_faster): then the pick is
 * recorded, so one noisy run cannot overturn it. Entries already in the
 * cache for other shapes, thread counts or machines are kept; the file
 * is replaced atomically at the end.
 *
 * The cache is --tuning FILE, else the default of algorithms/tuning.h.
 * Exit status: 0; 1 if a case failed or the cache could not be written;
 * 2 for bad input, including a malformed cache (its first bad line is
 * named), before anything is measured or written.
 */
int tune_main(int argc, char **argv);

/* Non-zero if `fast` beats `slow` by more than 3% on both the median and
 * the minimum time: the gain tune believes over the cost model's pick. */
int tune_clearly_faster(const bench_row *fast, const bench_row *slow);

#endif
