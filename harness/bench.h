/* `convbench bench`: every algorithm timed beside oneDNN, shape by shape,
 * through Google Benchmark, into results/NAME.csv and results/NAME.json. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

/*
 * argv[0] is the command's name ("bench"). Returns 0 when every case ran
 * or does not apply, 1 if a case failed or a result could not be written,
 * BENCH_EXIT_USAGE (2) for bad input, before anything is written.
 */
int bench_main(int argc, char **argv);

#endif
