/*
 * Google Benchmark (1.7) from C: a small C API over the C++ library.
 *
 * Use: gbench_init() once with the command line (every --benchmark_* flag
 * is taken from it), gbench_add_context() for facts about the machine,
 * then per case gbench_register() and gbench_run(), which runs what is
 * registered, hands each result to a callback and empties the list.
 * gbench_write_json() writes one JSON document (Google Benchmark's format,
 * with its machine context) of every case run so far; gbench_finish()
 * ends the sweep.
 *
 * Benchmarks are registered with real time: the kernels are multithreaded
 * and a rate over one thread's CPU time would flatter them.
 */
#ifndef BENCH_GBENCH_H
#define BENCH_GBENCH_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The running benchmark's state (a benchmark::State). */
typedef struct gbench_state gbench_state;

/* A benchmark body: loop while gbench_keep_running(st), time the work. */
typedef void (*gbench_fn)(gbench_state *st, void *arg);

typedef enum gbench_counter_kind {
    GBENCH_PLAIN,          /* shown as given */
    GBENCH_PER_SECOND      /* a per-iteration amount, shown per second of
                              real time (value * iterations / time) */
} gbench_counter_kind;

typedef struct gbench_counter {
    const char *name;
    double value;          /* as reported: rates already divided */
} gbench_counter;

/*
 * One finished run: a repetition (aggregate == "") or an aggregate over
 * the repetitions ("mean", "median", "stddev", "cv", "min"). Strings and
 * the counter array live until the callback returns.
 */
typedef struct gbench_result {
    const char *name;
    const char *aggregate;
    int64_t iterations;
    int64_t repetition;    /* -1 for an aggregate */
    double real_time;      /* seconds per iteration ("cv": a fraction) */
    const char *error;     /* "" unless the body called skip_with_error */
    const gbench_counter *counters;
    int ncounters;
} gbench_result;

typedef void (*gbench_result_fn)(const gbench_result *r, void *user);

/*
 * Parses and removes every --benchmark_* flag from argv (shifting the
 * rest down and updating *argc); argv[0] is kept. If argv holds --help,
 * `help` is called, then Google Benchmark's own flags are listed and the
 * process exits. Flags this API needs to own (--benchmark_out,
 * --benchmark_out_format) are left in argv so the caller can refuse them.
 * Sets the defaults --benchmark_repetitions=5 --benchmark_min_time=0.1
 * --benchmark_min_warmup_time=0.05 --benchmark_time_unit=ms,
 * --benchmark_display_aggregates_only=true and
 * --benchmark_enable_random_interleaving=true first, so given flags win.
 * May be called again (by tests); other flags keep their last value.
 * Returns 0.
 */
int gbench_init(int *argc, char **argv, void (*help)(void));

/* Adds "key": "value" to the context of the console and JSON reports. */
void gbench_add_context(const char *key, const char *value);

/* Widens the console's name column to fit names of `width` chars. */
void gbench_set_name_width(int width);

/* Whether --benchmark_filter selects a benchmark called `name`. */
int gbench_selected(const char *name);

/* Registers fn(st, arg) as benchmark `name`. Returns 0 or -1. */
int gbench_register(const char *name, gbench_fn fn, void *arg);

/* Non-zero while the body should do one more timed iteration. */
int gbench_keep_running(gbench_state *st);

/* Stops and restarts the clock around untimed work inside the loop. */
void gbench_pause(gbench_state *st);
void gbench_resume(gbench_state *st);

/* Sets a counter of the current run (call after the loop). */
void gbench_set_counter(gbench_state *st, const char *name, double value,
                        gbench_counter_kind kind);

/* Marks the run failed with `msg`; the body must then leave its loop. */
void gbench_skip_with_error(gbench_state *st, const char *msg);

/*
 * Runs every registered benchmark that --benchmark_filter selects, prints
 * them to the console, keeps them for the JSON document, calls fn for each
 * run and aggregate, and then unregisters them all. Returns how many
 * benchmarks ran (0 if the filter skipped them), or -1 on an error inside
 * the library.
 */
int gbench_run(gbench_result_fn fn, void *user);

/*
 * Writes to f the JSON document of every run so far, as if the sweep
 * ended now (its context too, even if nothing ran). `earlier` (NULL: none)
 * holds the entries of an earlier document from gbench_json_entries();
 * they are listed first. Returns 0, or -1 if writing failed.
 */
int gbench_write_json(FILE *f, const char *earlier);

/*
 * The entries of the "benchmarks" list of a document gbench_write_json()
 * wrote, as text (malloc'd; "" for none), or NULL if `doc` is not such a
 * document. Only the entries of benchmarks for which keep(name, user) is
 * non-zero are kept (`name` as registered).
 */
char *gbench_json_entries(const char *doc,
                          int (*keep)(const char *name, void *user),
                          void *user);

/* Ends the console report after the last gbench_run() and forgets every
 * run, so a later sweep in the same process starts afresh. */
void gbench_finish(void);

#ifdef __cplusplus
}
#endif

#endif
