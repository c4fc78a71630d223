/* Command-line helpers shared by the convbench commands. */
#ifndef BENCH_ARGS_H
#define BENCH_ARGS_H

#include "shapes.h"

#include <stddef.h>
#include <stdint.h>

/* Exit status for bad input (flags, descriptors, files). */
#define BENCH_EXIT_USAGE 2

/* Prints "convbench: " and the message to stderr. */
void bench_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parses the whole of `text` as a decimal integer in [min, max] for flag
 * `flag`. Returns 0, or -1 after printing "--flag 'text': must be ...".
 */
int bench_parse_int(const char *flag, const char *text, int64_t min,
                    int64_t max, int64_t *out);

/*
 * If argv[*i] is `--name VALUE` or `--name=VALUE`, stores VALUE, advances
 * *i past it and returns 1; returns -1 (after a message) if the value is
 * missing, 0 if argv[*i] is another argument.
 */
int bench_flag_value(int argc, char **argv, int *i, const char *name,
                     const char **value);

/*
 * bench_flag_value for a flag taking an integer in [min, max]: 1 with
 * *out set, 0 if argv[*i] is another argument, -1 after a message.
 */
int bench_int_flag(int argc, char **argv, int *i, const char *name,
                   int64_t min, int64_t max, int64_t *out);

/*
 * The flags every measuring command takes: --threads T (1 to 1024) into
 * *threads and --mb N (the batch, 1 to 2^31-1) into *mb. Returns like
 * bench_int_flag.
 */
int bench_run_flag(int argc, char **argv, int *i, int *threads,
                   int64_t *mb);

/* A command's own flag at argv[*i], into its options `opts`: 1 if taken
 * (with its value), 0 if argv[*i] is not one of them, -1 after a
 * message. */
typedef int bench_flag_fn(int argc, char **argv, int *i, void *opts);

/*
 * The argument loop of a command that takes descriptors: `flag` takes
 * its flags; "-h" calls `usage` and exits 0; any other "--" argument
 * goes to `refuse`, which says why it is refused; the rest are
 * descriptors, appended at descs[(*ndescs)++] (room for argc). Returns
 * 0, or -1 after a message.
 */
int bench_parse_args(int argc, char **argv, bench_flag_fn *flag,
                     void *opts, void (*usage)(void),
                     void (*refuse)(const char *arg), char **descs,
                     int *ndescs);

/*
 * Parses descriptor `text` with batch `mb` and appends it to `bare`.
 * Returns 0, or -1 after a message naming the descriptor.
 */
int bench_add_descriptor(bench_suite *bare, const char *text, int64_t mb);

/*
 * Splits a comma-separated list of algorithm names; every name must be a
 * library algorithm or one of `extra` (NULL-terminated). "all" expands to
 * every library algorithm followed by `all_extra`. Returns the count, or
 * -1 after a message naming the unknown entry.
 */
int bench_parse_algos(const char *list, const char *const *extra,
                      const char *const *all_extra, char names[][32],
                      int max);

#endif
