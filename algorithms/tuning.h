/*
 * The tuning cache of "auto", in the spirit of FFTW's wisdom: which
 * algorithm measured fastest for a descriptor, a thread count and a
 * machine. A small text file, one entry per line, five tab-separated
 * fields:
 *
 *   KEY <TAB> THREADS <TAB> MACHINE <TAB> ALGO <TAB> TIME_MS
 *
 * KEY is conv_tuning_key() of the descriptor (every field spelled out,
 * end padding included, so two descriptors share a key only if they are
 * the same problem); MACHINE is conv_tuning_machine() (CPU model, the
 * instruction set the kernels use, the OpenBLAS core); TIME_MS the
 * median time measured for ALGO. Lines starting with '#' and blank
 * lines are skipped.
 *
 * Where it lives: conv_options.tuning_file if set, else $CONVBENCH_TUNING,
 * else $XDG_CACHE_HOME/convbench/tuning.txt, else
 * $HOME/.cache/convbench/tuning.txt. A tuning_file of "" means no cache:
 * auto then runs its cost model's pick (tune compares against it).
 *
 * Library code: nothing here prints. A malformed line is skipped and the
 * first one is described ("FILE:LINE: what is wrong") for the caller to
 * show or to refuse.
 */
#ifndef CONV_TUNING_H
#define CONV_TUNING_H

#include "conv.h"

#include <stddef.h>

typedef struct conv_tuning_entry {
    char key[192];
    int threads;              /* >= 1 */
    char machine[160];
    char algo[32];
    double time_ms;           /* > 0 */
} conv_tuning_entry;

typedef struct conv_tuning {
    conv_tuning_entry *entries;
    int n, cap;
    int bad_lines;            /* malformed lines skipped while reading */
    char first_bad[384];      /* "FILE:LINE: why" of the first of them */
} conv_tuning;

/* The file used when no tuning_file is given; "" (and -1) when neither
 * $CONVBENCH_TUNING, $XDG_CACHE_HOME nor $HOME is set. Returns 0. */
int conv_tuning_default_path(char *buf, size_t n);

/* The cache key of a checked descriptor, e.g.
 * "mb1_ic64_ih56_iw56_oc64_kh3_kw3_sh1_sw1_pt1_pl1_pb1_pr1_dh1_dw1_g1"
 * (dilation as in conv_desc: 1 is none). */
void conv_tuning_key(const conv_desc *d, char *buf, size_t n);

/* This machine: "CPU model name/isa/openblas-CORE", tabs and line
 * breaks removed. */
void conv_tuning_machine(char *buf, size_t n);

/*
 * Reads the cache at `path` into t (emptied first). A missing file is an
 * empty cache. Malformed lines are skipped and counted (see above).
 * Returns CONV_OK, CONV_EINVAL if the file exists but cannot be read (the
 * reason names it), or CONV_ENOMEM.
 */
conv_status conv_tuning_read(const char *path, conv_tuning *t);

/* The entry for (key, threads, machine), the last one if several; NULL if
 * none. */
const conv_tuning_entry *conv_tuning_find(const conv_tuning *t,
                                          const char *key, int threads,
                                          const char *machine);

/* Adds e, replacing an entry with the same key, threads and machine.
 * Returns CONV_OK, CONV_EINVAL for a field that would not read back
 * (a tab or line break in it, threads < 1, time not positive), or
 * CONV_ENOMEM. */
conv_status conv_tuning_put(conv_tuning *t, const conv_tuning_entry *e);

/*
 * Writes every entry to `path` atomically (a temporary file beside it,
 * synced, then renamed over it), creating missing directories. Returns
 * CONV_OK or CONV_EINVAL with a reason naming the file.
 */
conv_status conv_tuning_write(const conv_tuning *t, const char *path);

void conv_tuning_free(conv_tuning *t);

#endif
