/* Plans: validation, workspace ownership, threads, and the hook calls. */
#include "algo.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv_plan {
    conv_desc desc;
    const conv_algo *algo;
    conv_ctx ctx;
    conv_profile profile;
    void *state;
    void *ws;
    size_t ws_bytes;
    int has_weights;
    char line[256];
};

conv_options conv_options_default(void)
{
    conv_options o = {0};

    return o;
}

int conv_algo_count(void)
{
    return conv_algos_count;
}

const char *conv_algo_name(int i)
{
    return i >= 0 && i < conv_algos_count ? conv_algos[i]->name : NULL;
}

const conv_algo *conv_algo_find(const char *name)
{
    for (int i = 0; name != NULL && i < conv_algos_count; i++)
        if (strcmp(conv_algos[i]->name, name) == 0)
            return conv_algos[i];
    return NULL;
}

int conv_algo_applies(const char *algo, const conv_desc *d,
                      char *why, size_t n)
{
    const conv_algo *a = conv_algo_find(algo);

    if (a == NULL)
        return conv_why(why, n, "unknown algorithm '%s'",
                        algo ? algo : "(null)");
    return a->applies(d, why, n);
}

static int resolve_threads(int requested)
{
    return requested > 0 ? requested : omp_get_max_threads();
}

size_t conv_algo_workspace_bytes(const char *algo, const conv_desc *d,
                                 int threads)
{
    const conv_algo *a = conv_algo_find(algo);

    if (a == NULL || d == NULL || !a->applies(d, NULL, 0))
        return 0;
    if (a->workspace_bytes == NULL)
        return 0;
    return a->workspace_bytes(d, resolve_threads(threads));
}

static conv_status plan_validate(const conv_desc *d, const char *algo,
                                 const conv_options *o, conv_desc *out,
                                 const conv_algo **a)
{
    char why[256] = "";

    *out = *d;
    if (conv_desc_check(out) != CONV_OK)
        return CONV_EINVAL;
    if (o->threads < 0)
        return conv_fail(CONV_EINVAL, "threads = %d: must be 0 (default) "
                         "or positive", o->threads);
    *a = conv_algo_find(algo);
    if (*a == NULL)
        return conv_fail(CONV_EINVAL, "algorithm '%s': not one of the "
                         "registered algorithms", algo ? algo : "(null)");
    if (!(*a)->applies(out, why, sizeof why))
        return conv_fail(CONV_EUNSUPPORTED, "%s: %s", (*a)->name, why);
    return CONV_OK;
}

static conv_status plan_allocate(conv_plan *p)
{
    p->ws_bytes = p->algo->workspace_bytes && p->algo->delegate == NULL
                  ? p->algo->workspace_bytes(&p->desc, p->ctx.threads) : 0;
    if (p->ws_bytes == SIZE_MAX)
        return conv_fail(CONV_EINVAL, "%s: workspace size overflows",
                         p->algo->name);
    if (p->ws_bytes > 0) {
        p->ws = conv_alloc(p->ws_bytes);
        if (p->ws == NULL)
            return conv_fail(CONV_ENOMEM, "%s: cannot allocate %zu bytes of"
                             " workspace", p->algo->name, p->ws_bytes);
    }
    if (p->algo->create)
        return p->algo->create(&p->ctx, &p->state);
    return CONV_OK;
}

conv_status conv_plan_create(conv_plan **plan, const conv_desc *d,
                             const char *algo, const conv_options *opt)
{
    conv_options o = opt ? *opt : conv_options_default();
    conv_plan *p;
    conv_status st;

    conv_clear_reason();
    if (plan == NULL || d == NULL)
        return conv_fail(CONV_EINVAL, "plan and descriptor must not be NULL");
    *plan = NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return conv_fail(CONV_ENOMEM, "cannot allocate a plan");

    st = plan_validate(d, algo, &o, &p->desc, &p->algo);
    if (st == CONV_OK) {
        p->ctx.desc = &p->desc;
        p->ctx.threads = resolve_threads(o.threads);
        p->ctx.profile = o.profile ? &p->profile : NULL;
        p->ctx.tuning_file = o.tuning_file;
        st = plan_allocate(p);
    }
    if (st != CONV_OK) {
        conv_plan_destroy(p);
        return st;
    }
    *plan = p;
    return CONV_OK;
}

/* OpenMP and OpenBLAS follow the plan's thread count for this call. */
static void use_threads(const conv_plan *p)
{
    omp_set_num_threads(p->ctx.threads);
    openblas_set_num_threads(p->ctx.threads);
}

conv_status conv_plan_set_weights(conv_plan *p, const float *w,
                                  const float *bias)
{
    conv_status st;
    double t0;

    conv_clear_reason();
    if (p == NULL || w == NULL)
        return conv_fail(CONV_EINVAL, "plan and weights must not be NULL");
    use_threads(p);
    t0 = conv_now();
    st = p->algo->set_weights(&p->ctx, p->state, w, bias);
    if (p->ctx.profile)
        p->profile.kernel_transform += conv_now() - t0;
    p->has_weights = st == CONV_OK;
    return st;
}

conv_status conv_execute(conv_plan *p, const float *x, float *y)
{
    conv_status st;

    conv_clear_reason();
    if (p == NULL || x == NULL || y == NULL)
        return conv_fail(CONV_EINVAL, "plan, x and y must not be NULL");
    if (!p->has_weights)
        return conv_fail(CONV_ESTATE, "%s: execute before set_weights",
                         p->algo->name);
    use_threads(p);
    st = p->algo->execute(&p->ctx, p->state, x, y, p->ws);
    if (st == CONV_OK && p->ctx.profile)
        p->profile.executions++;
    return st;
}

/* The plan a delegating family ("auto") runs, else NULL. */
static const conv_plan *delegate_of(const conv_plan *p)
{
    if (p == NULL || p->algo->delegate == NULL || p->state == NULL)
        return NULL;
    return p->algo->delegate(p->state);
}

size_t conv_plan_workspace_bytes(const conv_plan *p)
{
    if (delegate_of(p))
        return conv_plan_workspace_bytes(delegate_of(p));
    return p ? p->ws_bytes : 0;
}

const char *conv_plan_algo(const conv_plan *p)
{
    if (delegate_of(p))
        return conv_plan_algo(delegate_of(p));
    return p ? p->algo->name : "";
}

const char *conv_plan_describe(const conv_plan *p)
{
    conv_plan *m = (conv_plan *)p;

    if (p == NULL)
        return "";
    if (p->algo->describe)
        p->algo->describe(&p->ctx, p->state, m->line, sizeof m->line);
    else
        snprintf(m->line, sizeof m->line, "%s, ws %zu B", p->algo->name,
                 p->ws_bytes);
    return p->line;
}

conv_status conv_plan_profile(const conv_plan *p, conv_profile *out)
{
    if (p == NULL || out == NULL)
        return conv_fail(CONV_EINVAL, "plan and output must not be NULL");
    if (delegate_of(p))
        return conv_plan_profile(delegate_of(p), out);
    *out = p->profile;
    return CONV_OK;
}

void conv_plan_profile_reset(conv_plan *p)
{
    if (delegate_of(p))
        conv_plan_profile_reset((conv_plan *)delegate_of(p));
    if (p != NULL)
        memset(&p->profile, 0, sizeof p->profile);
}

void conv_plan_destroy(conv_plan *p)
{
    if (p == NULL)
        return;
    if (p->state != NULL && p->algo->destroy)
        p->algo->destroy(p->state);
    conv_free(p->ws);
    free(p);
}
