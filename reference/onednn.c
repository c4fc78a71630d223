/*
 * oneDNN's forward convolution behind onednn.h: the second judge and the
 * peer of every timing.
 *
 * One handle holds everything a convolution needs: its own CPU engine and
 * stream, the convolution primitive, three reorders between the caller's
 * NCHW / OIHW arrays and the primitive's memory, the bias and the
 * scratchpad. Both layouts go through the same reorders: with ONEDNN_ANY
 * the primitive picks blocked layouts and the reorders change the layout;
 * with ONEDNN_NCHW the primitive reads NCHW itself and the reorders are
 * plain copies. Either way run() touches only memory the handle owns.
 */
#include "onednn.h"
#include "algo.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A caller-side tensor, the primitive's copy, and the reorder between. */
typedef struct tensor {
    dnnl_memory_t user;       /* caller layout; handle set per call */
    dnnl_memory_t inner;      /* primitive layout; owned by oneDNN */
    dnnl_primitive_t reorder; /* user -> inner, or inner -> user for dst */
} tensor;

struct onednn_conv {
    conv_desc d;
    onednn_layout layout;
    int threads;              /* 0: leave OpenMP's count alone */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t conv;
    tensor src, wei, dst;
    dnnl_memory_t bias;
    dnnl_memory_t scratch;    /* NULL when the primitive needs none */
    size_t scratch_bytes;
    double in_seconds, out_seconds;
    int have_weights, have_input, have_output;
    char impl[96];
};

/* The memory descriptors of one convolution, before the primitive. */
typedef struct descs {
    dnnl_memory_desc_t user_src, src, user_wei, wei, bias, user_dst, dst;
    dnnl_dims_t strides, dilates, pad_l, pad_r;
} descs;

/* How one spatial axis is handed to oneDNN. */
typedef struct axis {
    int64_t used;     /* leading input rows (or columns) given to oneDNN */
    int64_t pad_end;  /* end padding after them */
} axis;

static conv_status dnnl_failure(dnnl_status_t st, const char *call,
                                const char *what)
{
    conv_status s = CONV_EINTERNAL;

    if (st == dnnl_unimplemented)
        s = CONV_EUNSUPPORTED;
    else if (st == dnnl_out_of_memory)
        s = CONV_ENOMEM;
    return conv_fail(s, "oneDNN %.*s failed: %s (%s)",
                     (int)strcspn(call, "("), call, dnnl_status2str(st),
                     what);
}

/* Returns from the calling function with a conv_status if `call` fails;
 * the reason names the dnnl function, its status and `what`. */
#define DNNL_TRY(call, what)                                    \
    do {                                                        \
        dnnl_status_t try_st_ = (call);                         \
        if (try_st_ != dnnl_success)                            \
            return dnnl_failure(try_st_, #call, (what));        \
    } while (0)

/*
 * oneDNN here is built on OpenMP (Debian's libdnnl2 links libgomp) and
 * takes its thread count from the calling thread's OpenMP setting: when a
 * primitive is created (work splits and per-thread scratchpads are sized
 * then, and its cache keys on the count) and when one runs. So the
 * handle's count is set around both, and the caller's count put back.
 */
static int threads_push(int threads)
{
    int prev = omp_get_max_threads();

    if (threads > 0)
        omp_set_num_threads(threads);
    return prev;
}

static void threads_pop(int prev)
{
    omp_set_num_threads(prev);
}

/* ---- instruction set and version ------------------------------------ */

/* The limit this process set, so that asking again for it is no error. */
static atomic_int isa_set = -1;

conv_status onednn_set_max_isa(const char *isa)
{
    dnnl_cpu_isa_t want;
    dnnl_status_t st;

    if (isa != NULL && strcmp(isa, "avx2") == 0)
        want = dnnl_cpu_isa_avx2;
    else if (isa != NULL && strcmp(isa, "avx512_core") == 0)
        want = dnnl_cpu_isa_avx512_core;
    else if (isa != NULL && strcmp(isa, "native") == 0)
        want = dnnl_cpu_isa_all;
    else
        return conv_fail(CONV_EINVAL, "oneDNN ISA '%s': must be one of "
                         "avx2, avx512_core, native",
                         isa != NULL ? isa : "(null)");

    /* oneDNN takes the limit once, and only before it first dispatches
     * (asking for the ISA in force counts as dispatching). */
    st = dnnl_set_max_cpu_isa(want);
    if (st == dnnl_success) {
        atomic_store(&isa_set, (int)want);
        return CONV_OK;
    }
    if (atomic_load(&isa_set) == (int)want)
        return CONV_OK;
    return conv_fail(CONV_ESTATE, "oneDNN ISA '%s': the limit can only be"
                     " set once, before oneDNN first runs (it now "
                     "dispatches to %s)", isa, onednn_isa());
}

const char *onednn_isa(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();

    switch (isa) {
    case dnnl_cpu_isa_sse41: return "Intel SSE4.1";
    case dnnl_cpu_isa_avx: return "Intel AVX";
    case dnnl_cpu_isa_avx2: return "Intel AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "Intel AVX2 with VNNI";
    case dnnl_cpu_isa_avx512_mic: return "Intel AVX-512 (Xeon Phi)";
    case dnnl_cpu_isa_avx512_mic_4ops:
        return "Intel AVX-512 (Xeon Phi) with 4FMAPS and 4VNNIW";
    case dnnl_cpu_isa_avx512_core: return "Intel AVX-512";
    case dnnl_cpu_isa_avx512_core_vnni: return "Intel AVX-512 with VNNI";
    case dnnl_cpu_isa_avx512_core_bf16:
        return "Intel AVX-512 with VNNI and bfloat16";
    case dnnl_cpu_isa_avx512_core_amx:
        return "Intel AVX-512 with VNNI, bfloat16 and AMX";
    default:
        return dnnl_cpu_isa2str(isa);
    }
}

const char *onednn_version(void)
{
    static _Thread_local char buf[64];
    const dnnl_version_t *v = dnnl_version();

    snprintf(buf, sizeof buf, "%d.%d.%d (%s)", v->major, v->minor,
             v->patch, dnnl_runtime2str(v->cpu_runtime));
    return buf;
}

/* ---- building a handle ---------------------------------------------- */

/*
 * oneDNN 2.6 rejects end padding of -stride or less, which our
 * descriptors allow (trailing input that no output reads). The same
 * convolution is then one on the leading input rows the outputs do read,
 * with no end padding: the caller's array is described with its full
 * strides but fewer rows, so nothing is copied to crop it. If even the
 * last output reads only top padding, no input row is used at all and
 * oneDNN has no way to say so.
 */
static conv_status fit_axis(int64_t in, int64_t pad0, int64_t pad1,
                            int64_t extent, int64_t stride, int64_t out,
                            const char *name, axis *a)
{
    if (pad1 > -stride) {
        a->used = in;
        a->pad_end = pad1;
        return CONV_OK;
    }

    a->used = (out - 1) * stride + extent - pad0;
    a->pad_end = 0;
    if (a->used < 1)
        return conv_fail(CONV_EUNSUPPORTED, "oneDNN: leading padding %lld"
                         " holds every output's %s taps: oneDNN needs at "
                         "least one input %s read", (long long)pad0, name,
                         name);
    return CONV_OK;
}

/* Input and output in the caller's NCHW and for the primitive; the
 * input keeps its full strides but only the used rows and columns. */
static conv_status data_descs(const conv_desc *d, int any, const axis *ah,
                              const axis *aw, descs *m)
{
    dnnl_format_tag_t tag = any ? dnnl_format_tag_any : dnnl_nchw;
    dnnl_dims_t src_dims = {d->n, d->c, ah->used, aw->used};
    dnnl_dims_t src_strides = {d->c * d->h * d->w, d->h * d->w, d->w, 1};
    dnnl_dims_t dst_dims = {d->n, d->k, d->p, d->q};

    DNNL_TRY(dnnl_memory_desc_init_by_strides(&m->user_src, 4, src_dims,
                 dnnl_f32, src_strides), "input");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->src, 4, src_dims, dnnl_f32,
                 tag), "input");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->user_dst, 4, dst_dims,
                 dnnl_f32, dnnl_nchw), "output");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->dst, 4, dst_dims, dnnl_f32,
                 tag), "output");
    return CONV_OK;
}

/*
 * Weights and bias. OIHW with K/G filters per group is oneDNN's goihw:
 * group g's filters are the contiguous block g*(K/G) .. (g+1)*(K/G)-1,
 * each reading C/G channels.
 */
static conv_status weight_descs(const conv_desc *d, int any, descs *m)
{
    int64_t g = d->groups;
    dnnl_dims_t dims = {g, d->k / g, d->c / g, d->r, d->s};
    dnnl_format_tag_t user = g > 1 ? dnnl_goihw : dnnl_oihw;
    int nd = g > 1 ? 5 : 4;
    const dnnl_dim_t *first = g > 1 ? dims : dims + 1;
    dnnl_dims_t bias_dims = {d->k};

    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->user_wei, nd, first,
                 dnnl_f32, user), "weights");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->wei, nd, first, dnnl_f32,
                 any ? dnnl_format_tag_any : user), "weights");

    /* TODO: the bias is always part of the primitive, zeros when the
     * caller gives none (set_weights comes after create), so oneDNN adds
     * K*P*Q useless zeros that our algorithms skip: one add per output,
     * under 1% of the work unless (C/G)*R*S is tiny. */
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&m->bias, 1, bias_dims, dnnl_f32,
                 dnnl_x), "bias");
    return CONV_OK;
}

static conv_status make_descs(const onednn_conv *h, descs *m)
{
    const conv_desc *d = &h->d;
    int any = h->layout == ONEDNN_ANY;
    axis ah, aw;
    conv_status s;

    s = fit_axis(d->h, d->pad_top, d->pad_bottom, (d->r - 1) * d->dil_h + 1,
                 d->stride_h, d->p, "row", &ah);
    if (s == CONV_OK)
        s = fit_axis(d->w, d->pad_left, d->pad_right,
                     (d->s - 1) * d->dil_w + 1, d->stride_w, d->q,
                     "column", &aw);
    if (s == CONV_OK)
        s = data_descs(d, any, &ah, &aw, m);
    if (s == CONV_OK)
        s = weight_descs(d, any, m);
    if (s != CONV_OK)
        return s;

    /* oneDNN counts dilation from 0, as benchdnn's dh does. */
    m->strides[0] = d->stride_h;
    m->strides[1] = d->stride_w;
    m->dilates[0] = d->dil_h - 1;
    m->dilates[1] = d->dil_w - 1;
    m->pad_l[0] = d->pad_top;
    m->pad_l[1] = d->pad_left;
    m->pad_r[0] = ah.pad_end;
    m->pad_r[1] = aw.pad_end;
    return CONV_OK;
}

/* The convolution's primitive descriptor, with a scratchpad we own. */
static conv_status make_pd(const onednn_conv *h, const descs *m,
                           dnnl_primitive_attr_t attr,
                           dnnl_primitive_desc_t *pd)
{
    dnnl_convolution_desc_t cd;

    DNNL_TRY(dnnl_dilated_convolution_forward_desc_init(&cd,
                 dnnl_forward_inference, dnnl_convolution_direct,
                 &m->src, &m->wei, &m->bias, &m->dst, m->strides,
                 m->dilates, m->pad_l, m->pad_r),
             "the convolution descriptor");
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr,
                 dnnl_scratchpad_mode_user), "scratchpad mode");
    DNNL_TRY(dnnl_primitive_desc_create(pd, &cd, attr, h->engine, NULL),
             "no oneDNN convolution implements this descriptor");
    return CONV_OK;
}

/* Memory for the tensor in the caller's and the primitive's layouts, and
 * the reorder from one to the other (`to_user`: primitive to caller). */
static conv_status make_tensor(onednn_conv *h, tensor *t,
                               const dnnl_memory_desc_t *user,
                               const dnnl_memory_desc_t *inner, int to_user)
{
    dnnl_primitive_desc_t rpd;
    dnnl_status_t st;

    DNNL_TRY(dnnl_memory_create(&t->user, user, h->engine,
                 DNNL_MEMORY_NONE), "caller-side tensor");
    DNNL_TRY(dnnl_memory_create(&t->inner, inner, h->engine,
                 DNNL_MEMORY_ALLOCATE), "primitive-side tensor");

    if (to_user)
        st = dnnl_reorder_primitive_desc_create(&rpd, inner, h->engine,
                                                user, h->engine, NULL);
    else
        st = dnnl_reorder_primitive_desc_create(&rpd, user, h->engine,
                                                inner, h->engine, NULL);
    if (st != dnnl_success)
        return dnnl_failure(st, "dnnl_reorder_primitive_desc_create",
                            "reorder");
    st = dnnl_primitive_create(&t->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (st != dnnl_success)
        return dnnl_failure(st, "dnnl_primitive_create", "reorder");
    return CONV_OK;
}

/* Everything after the primitive descriptor: the primitive, its name,
 * the tensors with their reorders, the bias and the scratchpad. */
static conv_status make_parts(onednn_conv *h, const descs *m,
                              const_dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    const dnnl_memory_desc_t *scratch;
    conv_status s;

    DNNL_TRY(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0,
                 &impl), "implementation name");
    snprintf(h->impl, sizeof h->impl, "%s", impl);
    DNNL_TRY(dnnl_primitive_create(&h->conv, pd), "convolution");

    s = make_tensor(h, &h->src, &m->user_src,
                    dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0),
                    0);
    if (s == CONV_OK)
        s = make_tensor(h, &h->wei, &m->user_wei,
                        dnnl_primitive_desc_query_md(pd,
                            dnnl_query_weights_md, 0), 0);
    if (s == CONV_OK)
        s = make_tensor(h, &h->dst, &m->user_dst,
                        dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md,
                                                     0), 1);
    if (s != CONV_OK)
        return s;

    DNNL_TRY(dnnl_memory_create(&h->bias, &m->bias, h->engine,
                 DNNL_MEMORY_ALLOCATE), "bias");
    scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    h->scratch_bytes = scratch != NULL ? dnnl_memory_desc_get_size(scratch)
                                       : 0;
    if (h->scratch_bytes > 0)
        DNNL_TRY(dnnl_memory_create(&h->scratch, scratch, h->engine,
                     DNNL_MEMORY_ALLOCATE), "scratchpad");
    return CONV_OK;
}

/* Engine, stream, primitive and memory of a zeroed handle. */
static conv_status build(onednn_conv *h)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    descs m;
    conv_status s;

    DNNL_TRY(dnnl_engine_create(&h->engine, dnnl_cpu, 0), "CPU engine");
    DNNL_TRY(dnnl_stream_create(&h->stream, h->engine,
                 dnnl_stream_default_flags), "stream");
    s = make_descs(h, &m);
    if (s != CONV_OK)
        return s;

    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attributes");
    s = make_pd(h, &m, attr, &pd);
    if (s == CONV_OK)
        s = make_parts(h, &m, pd);
    if (pd != NULL)
        dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

conv_status onednn_conv_create(onednn_conv **out, const conv_desc *d,
                               onednn_layout layout, int threads)
{
    onednn_conv *h;
    conv_desc dc;
    conv_status s;
    int prev;

    if (out == NULL || d == NULL)
        return conv_fail(CONV_EINVAL, "onednn_conv_create: handle pointer"
                         " and descriptor must not be NULL");
    *out = NULL;
    dc = *d;
    s = conv_desc_check(&dc);
    if (s != CONV_OK)
        return s;
    if (layout != ONEDNN_ANY && layout != ONEDNN_NCHW)
        return conv_fail(CONV_EINVAL, "oneDNN layout %d: must be "
                         "ONEDNN_ANY or ONEDNN_NCHW", (int)layout);
    if (threads < 0)
        return conv_fail(CONV_EINVAL, "oneDNN threads = %d: must be at "
                         "least 0 (0: OpenMP's default)", threads);

    h = calloc(1, sizeof *h);
    if (h == NULL)
        return conv_fail(CONV_ENOMEM, "oneDNN handle: out of memory");
    h->d = dc;
    h->layout = layout;
    h->threads = threads;

    prev = threads_push(threads);
    s = build(h);
    threads_pop(prev);
    if (s != CONV_OK) {
        onednn_conv_destroy(h);
        return s;
    }
    *out = h;
    return CONV_OK;
}

/* ---- running -------------------------------------------------------- */

static conv_status execute(const onednn_conv *h, dnnl_primitive_t p,
                           int nargs, const dnnl_exec_arg_t *args,
                           const char *what)
{
    int prev = threads_push(h->threads);
    dnnl_status_t st = dnnl_primitive_execute(p, h->stream, nargs, args);

    if (st == dnnl_success)
        st = dnnl_stream_wait(h->stream);
    threads_pop(prev);
    if (st != dnnl_success)
        return dnnl_failure(st, "dnnl_primitive_execute", what);
    return CONV_OK;
}

/* Runs t's reorder with the caller's array `user` on the caller side. */
static conv_status reorder(const onednn_conv *h, const tensor *t,
                           const void *user, int to_user, const char *what)
{
    dnnl_exec_arg_t args[2] = {
        {DNNL_ARG_FROM, to_user ? t->inner : t->user},
        {DNNL_ARG_TO, to_user ? t->user : t->inner},
    };

    /* The reorder only reads a source, so the const cast is safe. */
    DNNL_TRY(dnnl_memory_set_data_handle(t->user, (void *)user), what);
    return execute(h, t->reorder, 2, args, what);
}

conv_status onednn_conv_set_weights(onednn_conv *h, const float *w,
                                    const float *b)
{
    void *bias = NULL;
    conv_status s;

    if (h == NULL || w == NULL)
        return conv_fail(CONV_EINVAL, "onednn_conv_set_weights: handle "
                         "and weights must not be NULL");
    h->have_weights = 0;
    s = reorder(h, &h->wei, w, 0, "weights reorder");
    if (s != CONV_OK)
        return s;

    DNNL_TRY(dnnl_memory_get_data_handle(h->bias, &bias), "bias");
    if (b != NULL)
        memcpy(bias, b, (size_t)h->d.k * sizeof(float));
    else
        memset(bias, 0, (size_t)h->d.k * sizeof(float));
    h->have_weights = 1;
    return CONV_OK;
}

conv_status onednn_conv_set_input(onednn_conv *h, const float *x)
{
    double t0;
    conv_status s;

    if (h == NULL || x == NULL)
        return conv_fail(CONV_EINVAL, "onednn_conv_set_input: handle and "
                         "input must not be NULL");
    h->have_input = 0;
    t0 = conv_now();
    s = reorder(h, &h->src, x, 0, "input reorder");
    h->in_seconds = conv_now() - t0;
    h->have_input = s == CONV_OK;
    return s;
}

conv_status onednn_conv_run(onednn_conv *h)
{
    dnnl_exec_arg_t args[5];
    int n = 0;
    conv_status s;

    if (h == NULL)
        return conv_fail(CONV_EINVAL, "onednn_conv_run: handle is NULL");
    if (!h->have_weights || !h->have_input)
        return conv_fail(CONV_ESTATE, "onednn_conv_run: set the %s first",
                         h->have_weights ? "input" : "weights");

    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, h->src.inner};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, h->wei.inner};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, h->bias};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, h->dst.inner};
    if (h->scratch != NULL)
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, h->scratch};
    s = execute(h, h->conv, n, args, "convolution");
    h->have_output = s == CONV_OK;
    return s;
}

conv_status onednn_conv_get_output(onednn_conv *h, float *y)
{
    double t0;
    conv_status s;

    if (h == NULL || y == NULL)
        return conv_fail(CONV_EINVAL, "onednn_conv_get_output: handle and"
                         " output must not be NULL");
    if (!h->have_output)
        return conv_fail(CONV_ESTATE, "onednn_conv_get_output: run the "
                         "convolution first");
    t0 = conv_now();
    s = reorder(h, &h->dst, y, 1, "output reorder");
    h->out_seconds = conv_now() - t0;
    return s;
}

double onednn_conv_reorder_seconds(const onednn_conv *h)
{
    return h != NULL ? h->in_seconds + h->out_seconds : 0.0;
}

const char *onednn_conv_impl(const onednn_conv *h)
{
    return h != NULL ? h->impl : "";
}

size_t onednn_conv_workspace_bytes(const onednn_conv *h)
{
    return h != NULL ? h->scratch_bytes : 0;
}

static void tensor_destroy(tensor *t)
{
    if (t->reorder != NULL)
        dnnl_primitive_destroy(t->reorder);
    if (t->inner != NULL)
        dnnl_memory_destroy(t->inner);
    if (t->user != NULL)
        dnnl_memory_destroy(t->user);
}

void onednn_conv_destroy(onednn_conv *h)
{
    if (h == NULL)
        return;
    tensor_destroy(&h->src);
    tensor_destroy(&h->wei);
    tensor_destroy(&h->dst);
    if (h->scratch != NULL)
        dnnl_memory_destroy(h->scratch);
    if (h->bias != NULL)
        dnnl_memory_destroy(h->bias);
    if (h->conv != NULL)
        dnnl_primitive_destroy(h->conv);
    if (h->stream != NULL)
        dnnl_stream_destroy(h->stream);
    if (h->engine != NULL)
        dnnl_engine_destroy(h->engine);
    free(h);
}

conv_status onednn_conv_ready(onednn_conv **h, const conv_desc *d,
                              onednn_layout layout, int threads,
                              const float *w, const float *b,
                              const float *x)
{
    conv_status st = onednn_conv_create(h, d, layout, threads);

    if (st != CONV_OK)
        return st;
    st = onednn_conv_set_weights(*h, w, b);
    if (st == CONV_OK)
        st = onednn_conv_set_input(*h, x);
    if (st == CONV_OK)
        st = onednn_conv_run(*h);
    if (st != CONV_OK) {
        onednn_conv_destroy(*h);
        *h = NULL;
    }
    return st;
}
