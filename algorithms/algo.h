/*
 * The contract between the plan layer and one algorithm family.
 *
 * Each family lives in one file and exports one constant conv_algo table;
 * registry.c lists the tables. The plan layer validates the descriptor,
 * asks `applies`, allocates `workspace_bytes` once, and then calls the
 * hooks in order: create, set_weights (one or more times), execute (many
 * times), destroy. A hook reports failure with a status and, for EINVAL
 * or EUNSUPPORTED, a reason set with conv_set_reason().
 */
#ifndef CONV_ALGO_H
#define CONV_ALGO_H

#include "conv.h"

#include <stdarg.h>

/* What every hook receives besides its own state. */
typedef struct conv_ctx {
    const conv_desc *desc;   /* checked: p and q are filled */
    int threads;             /* >= 1 */
    conv_profile *profile;   /* NULL unless profiling is on */
    const char *tuning_file; /* for "auto" */
} conv_ctx;

typedef struct conv_algo {
    const char *name;
    /* Non-zero if the family handles d; else writes why (n > 0). */
    int (*applies)(const conv_desc *d, char *why, size_t n);
    /* Scratch bytes one execution needs with `threads` threads. */
    size_t (*workspace_bytes)(const conv_desc *d, int threads);
    /* Builds private state (sub-plans, packed buffers); may be NULL. */
    conv_status (*create)(const conv_ctx *ctx, void **state);
    /* Packs or transforms w[K][C/G][R][S] and b[K] (b may be NULL). */
    conv_status (*set_weights)(const conv_ctx *ctx, void *state,
                               const float *w, const float *b);
    /* y = conv(x), with `ws` of workspace_bytes(d, threads) bytes. */
    conv_status (*execute)(const conv_ctx *ctx, void *state,
                           const float *x, float *y, void *ws);
    /* Writes a one-line description of the plan (may be NULL). */
    void (*describe)(const conv_ctx *ctx, const void *state,
                     char *buf, size_t n);
    void (*destroy)(void *state);
    /* For families that run another plan on their behalf ("auto"): that
     * plan, whose algorithm, workspace and profile the plan layer then
     * reports; such a family's own plan gets no workspace, and its
     * workspace_bytes answers for the plan it would build. NULL for the
     * rest. */
    const struct conv_plan *(*delegate)(const void *state);
} conv_algo;

/* The registry: all families, in the order `list` shows them. */
extern const conv_algo *const conv_algos[];
extern const int conv_algos_count;
const conv_algo *conv_algo_find(const char *name);

/* Records why the current call fails; returns `s` for tail calls. */
conv_status conv_fail(conv_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* snprintf into a `why` buffer of an applies() hook; returns 0. */
int conv_why(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Empties the kept reason (the plan layer does this per call). */
void conv_clear_reason(void);

/* Monotonic wall-clock seconds, for profiles. */
double conv_now(void);

/* Whether this CPU (and OS) runs AVX2 and FMA: the kernels' choice. */
int conv_cpu_avx2_fma(void);

/* 64-byte aligned allocation and its release (NULL on failure or 0). */
void *conv_alloc(size_t bytes);
void conv_free(void *p);

/* Checked size arithmetic: 0 and *out untouched on overflow. */
int conv_mul_size(size_t a, size_t b, size_t *out);

/* Writes bytes as "7.2 MiB", "12.0 KiB" or "96 B", for plan lines. */
void conv_format_bytes(size_t bytes, char *buf, size_t n);

#endif
