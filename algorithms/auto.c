/*
 * auto: for a shape, thread count and machine, runs the algorithm that
 * measured fastest there, as `convbench tune` recorded in the tuning
 * cache (tuning.h). Without an entry, a cost model picks:
 *
 *   1. winograd_f4x4  for 3x3 stride 1 without dilation, with at least
 *                     MIN_CHANNELS input and output channels per group and
 *                     an output of at least 4x4 (one whole tile): 4x fewer
 *                     multiplies pay for the transforms there;
 *   2. fft            for kernels of 5x5 or more, stride 1 without
 *                     dilation, with MIN_CHANNELS channels per group: the
 *                     transforms are shared by every channel pair;
 *   3. direct         for everything else, 1x1 kernels included: on the
 *                     Zen 4 conv1x1 (OpenBLAS's SGEMM) took 0-28% longer
 *                     than direct on every ResNet-50 1x1 layer, and where
 *                     OpenBLAS does not know the CPU (Emerald Rapids) 3x;
 *   4. conv1x1        for 1x1 kernels, should direct be missing;
 *   5. im2col_gemm    last.
 *
 * Each pick is taken only if it is registered and its applies() agrees;
 * else the next rule is tried, so auto never chooses a failing algorithm.
 * A tuned entry naming an algorithm that is unknown or does not apply is
 * ignored the same way, and so is a malformed cache: auto then uses the
 * cost model and says why in its description.
 *
 * auto builds a plan of the chosen algorithm and hands every call to it;
 * that plan owns the workspace (see the delegate hook in algo.h).
 */
#include "algo.h"
#include "tuning.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CHANNELS 16

/* Which algorithm, and why (for describe). */
typedef struct auto_choice {
    const conv_algo *algo;
    char why[96];
} auto_choice;

typedef struct auto_state {
    conv_plan *plan;
    auto_choice choice;
} auto_state;

static const conv_algo *usable(const char *name, const conv_desc *d)
{
    const conv_algo *a = conv_algo_find(name);

    /* A delegating family (auto itself) is never a choice. */
    if (a == NULL || a->delegate != NULL || !a->applies(d, NULL, 0))
        return NULL;
    return a;
}

/* The cost model's first pick, as an index into the rule list. */
static int first_rule(const conv_desc *d)
{
    int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    int plain = d->stride_h == 1 && d->stride_w == 1 && d->dil_h == 1
                && d->dil_w == 1;
    int wide = cg >= MIN_CHANNELS && kg >= MIN_CHANNELS;

    if (plain && wide && d->r == 3 && d->s == 3 && d->p >= 4 && d->q >= 4)
        return 0;
    if (plain && wide && d->r >= 5 && d->s >= 5)
        return 1;
    return 2;
}

static const conv_algo *cost_model(const conv_desc *d)
{
    static const char *const rules[] = {"winograd_f4x4", "fft", "direct",
                                        "conv1x1", "im2col_gemm"};
    const int nrules = (int)(sizeof rules / sizeof rules[0]);

    for (int i = first_rule(d); i < nrules; i++)
        if (usable(rules[i], d))
            return usable(rules[i], d);

    /* Every shape the plan layer accepts has some algorithm. */
    for (int i = 0; i < conv_algos_count; i++)
        if (usable(conv_algos[i]->name, d))
            return conv_algos[i];
    return NULL;
}

/*
 * The tuned entry's algorithm if it can run d; else why not in c->why.
 * TODO: the cache file is read again for every plan and workspace query;
 * a few hundred lines cost well under a millisecond, but a network of
 * thousands of plans would want the parsed cache kept per process.
 */
static const conv_algo *tuned(const conv_desc *d, int threads,
                              const char *file, auto_choice *c)
{
    conv_tuning t = {0};
    char key[192], machine[160];
    const conv_tuning_entry *e;
    const conv_algo *a = NULL;

    if (file[0] == '\0' || conv_tuning_read(file, &t) != CONV_OK) {
        snprintf(c->why, sizeof c->why, "cost model; %s", file[0]
                 ? "no readable tuning file" : "no tuning file");
        conv_clear_reason();
        return NULL;
    }
    conv_tuning_key(d, key, sizeof key);
    conv_tuning_machine(machine, sizeof machine);
    e = conv_tuning_find(&t, key, threads, machine);
    if (e != NULL)
        a = usable(e->algo, d);
    if (a != NULL)
        snprintf(c->why, sizeof c->why, "tuned");
    else if (e != NULL)
        snprintf(c->why, sizeof c->why, "cost model; tuned '%.31s' cannot "
                 "run it", e->algo);
    else
        snprintf(c->why, sizeof c->why, "cost model; not tuned%s",
                 t.bad_lines ? ", bad lines in the tuning file" : "");
    conv_tuning_free(&t);
    return a;
}

static void choose(const conv_desc *d, int threads, const char *file,
                   auto_choice *c)
{
    char path[1024] = "";

    if (file != NULL)
        snprintf(path, sizeof path, "%s", file);
    else
        conv_tuning_default_path(path, sizeof path);
    c->algo = tuned(d, threads, path, c);
    if (c->algo == NULL)
        c->algo = cost_model(d);
}

static int auto_applies(const conv_desc *d, char *why, size_t n)
{
    if (cost_model(d) == NULL)
        return conv_why(why, n, "no registered algorithm applies");
    return 1;
}

/* The query for the plan auto would build with the default cache. */
static size_t auto_workspace(const conv_desc *d, int threads)
{
    auto_choice c;

    choose(d, threads, NULL, &c);
    if (c.algo == NULL || c.algo->workspace_bytes == NULL)
        return 0;
    return c.algo->workspace_bytes(d, threads);
}

static conv_status auto_create(const conv_ctx *ctx, void **state)
{
    conv_options o = conv_options_default();
    auto_state *s = calloc(1, sizeof *s);
    conv_status st;

    if (s == NULL)
        return conv_fail(CONV_ENOMEM, "auto: cannot allocate its state");
    choose(ctx->desc, ctx->threads, ctx->tuning_file, &s->choice);
    assert(s->choice.algo != NULL);
    o.threads = ctx->threads;
    o.profile = ctx->profile != NULL;
    st = conv_plan_create(&s->plan, ctx->desc, s->choice.algo->name, &o);
    if (st != CONV_OK) {
        free(s);
        return st;
    }
    *state = s;
    return CONV_OK;
}

static conv_status auto_set_weights(const conv_ctx *ctx, void *state,
                                    const float *w, const float *b)
{
    auto_state *s = state;

    return conv_plan_set_weights(s->plan, w, b);
}

static conv_status auto_execute(const conv_ctx *ctx, void *state,
                                const float *x, float *y, void *ws)
{
    auto_state *s = state;

    return conv_execute(s->plan, x, y);
}

static void auto_describe(const conv_ctx *ctx, const void *state,
                          char *buf, size_t n)
{
    const auto_state *s = state;

    snprintf(buf, n, "auto -> %s (%s): %s", s->choice.algo->name,
             s->choice.why, conv_plan_describe(s->plan));
}

static void auto_destroy(void *state)
{
    auto_state *s = state;

    conv_plan_destroy(s->plan);
    free(s);
}

static const conv_plan *auto_delegate(const void *state)
{
    const auto_state *s = state;

    return s->plan;
}

const conv_algo conv_algo_auto = {
    .name = "auto",
    .applies = auto_applies,
    .workspace_bytes = auto_workspace,
    .create = auto_create,
    .set_weights = auto_set_weights,
    .execute = auto_execute,
    .describe = auto_describe,
    .destroy = auto_destroy,
    .delegate = auto_delegate,
};
