/*
 * `convbench tune`: per shape, every applicable algorithm timed (through
 * the same Google Benchmark engine as `bench`) and checked against the
 * fp64 reference, printed as a ranked list, as cuDNN's find does; the
 * winners go into the tuning cache that "auto" reads.
 */
#include "tune.h"

#include "args.h"
#include "blas.h"
#include "csv.h"
#include "gbench.h"
#include "ref.h"
#include "shapes.h"
#include "timing.h"
#include "tuning.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ALGOS 32

/* The smallest gain over the cost model's pick that tune believes. */
#define NOISE_FLOOR 0.03

static const char tune_usage[] =
    "usage: convbench tune [--suite NAME|FILE] [--algo A,B] [--threads T]\n"
    "                      [--mb N] [--tuning FILE]\n"
    "                      [--benchmark_FLAG=VALUE...] [DESC...]\n"
    "\n"
    "Times every applicable algorithm per shape, checks its error against\n"
    "the fp64 reference, prints them ranked, and records the fastest\n"
    "accurate one in the tuning cache that `auto` reads.\n"
    "\n"
    "  --algo A,B      default: every library algorithm but auto\n"
    "  --threads T     default: every core\n"
    "  --tuning FILE   default: $CONVBENCH_TUNING, else\n"
    "                  $XDG_CACHE_HOME/convbench/tuning.txt, else\n"
    "                  ~/.cache/convbench/tuning.txt\n"
    "Google Benchmark's flags pass through, with bench's defaults.\n";

typedef struct tune_opts {
    char algos[MAX_ALGOS][32];
    int nalgos;
    int threads;
    int64_t mb;
    const char *suite;
    const char *algo_list;   /* NULL: all but auto */
    char tuning[1024];
    char **descs;
    int ndescs;
} tune_opts;

/* One algorithm's result on one shape. */
typedef struct tune_case {
    const char *algo;
    bench_row row;
    double err_eps;          /* NaN: not measured */
    int accurate;            /* within ref_tolerance_for(algo) */
} tune_case;

static void print_usage(void)
{
    fputs(tune_usage, stdout);
}

/* ---- options ---- */

static int tune_flag(int argc, char **argv, int *i, void *opts)
{
    tune_opts *o = opts;
    const char *v = NULL;
    int r;

    if ((r = bench_flag_value(argc, argv, i, "--suite", &o->suite)) != 0)
        return r;
    if ((r = bench_flag_value(argc, argv, i, "--algo", &o->algo_list)) != 0)
        return r;
    if ((r = bench_flag_value(argc, argv, i, "--tuning", &v)) != 0) {
        if (r > 0 && (v[0] == '\0' || strlen(v) >= sizeof o->tuning)) {
            bench_error("--tuning '%s': must be a file path under %zu "
                        "characters", v, sizeof o->tuning);
            return -1;
        }
        if (r > 0)
            snprintf(o->tuning, sizeof o->tuning, "%s", v);
        return r;
    }
    return bench_run_flag(argc, argv, i, &o->threads, &o->mb);
}

/* Every library algorithm but auto, which reads what tune writes. */
static int default_algos(tune_opts *o)
{
    for (int i = 0; i < conv_algo_count() && o->nalgos < MAX_ALGOS; i++)
        if (strcmp(conv_algo_name(i), "auto") != 0)
            snprintf(o->algos[o->nalgos++], 32, "%s", conv_algo_name(i));
    return 0;
}

static int pick_algos(tune_opts *o)
{
    if (o->algo_list == NULL)
        return default_algos(o);
    o->nalgos = bench_parse_algos(o->algo_list, NULL, NULL, o->algos,
                                  MAX_ALGOS);
    if (o->nalgos < 0)
        return -1;
    for (int i = 0; i < o->nalgos; i++)
        if (strcmp(o->algos[i], "auto") == 0) {
            bench_error("--algo '%s': auto cannot be tuned; it runs what "
                        "tune chose", o->algo_list);
            return -1;
        }
    return 0;
}

/* Flags Google Benchmark did not take. */
static void refuse_flag(const char *a)
{
    bench_error("'%s': unknown flag (Google Benchmark's must read "
                "--benchmark_FLAG=VALUE)\n%s", a, tune_usage);
}

static int tune_args(int argc, char **argv, tune_opts *o)
{
    if (bench_parse_args(argc, argv, tune_flag, o, print_usage, refuse_flag,
                         o->descs, &o->ndescs) != 0)
        return -1;
    if (o->tuning[0] == '\0'
        && conv_tuning_default_path(o->tuning, sizeof o->tuning) != 0) {
        bench_error("no tuning file: give --tuning FILE, or set "
                    "CONVBENCH_TUNING, XDG_CACHE_HOME or HOME");
        return -1;
    }
    return pick_algos(o);
}

/* ---- shapes ---- */

static int load_shapes(const tune_opts *o, bench_suite *all)
{
    char err[1024];

    if (o->suite != NULL
        && bench_suite_load(o->suite, o->mb, all, err, sizeof err) != 0) {
        bench_error("%s", err);
        return -1;
    }
    for (int i = 0; i < o->ndescs; i++)
        if (bench_add_descriptor(all, o->descs[i], o->mb) != 0)
            return -1;
    if (all->n == 0) {
        bench_error("no shapes: give --suite NAME|FILE or descriptors");
        return -1;
    }
    return 0;
}

/* An existing directory that refuses new files would lose the whole
 * sweep at the end; a missing one is made then. */
static int check_writable(const char *path)
{
    char dir[1024];
    char *slash;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (access(dir, F_OK) == 0 && access(dir, W_OK | X_OK) != 0) {
        bench_error("tuning file '%s': cannot write in '%s': %s", path, dir,
                    strerror(errno));
        return -1;
    }
    return 0;
}

/* The cache as it is now; a bad line stops tune before it measures. */
static int read_cache(const char *path, conv_tuning *t)
{
    if (check_writable(path) != 0)
        return -1;
    if (conv_tuning_read(path, t) != CONV_OK) {
        bench_error("%s", conv_reason());
        return -1;
    }
    if (t->bad_lines > 0) {
        bench_error("%s (%d malformed line%s in the tuning file; fix or "
                    "delete them: tune rewrites the whole file)",
                    t->first_bad, t->bad_lines, t->bad_lines > 1 ? "s"
                                                                 : "");
        return -1;
    }
    return 0;
}

/* ---- measuring ---- */

/* The reference output and its bound, for the error column. */
static int make_reference(bench_data *sd)
{
    if (bench_data_ref_buffers(sd) != 0)
        return -1;
    return ref_conv(sd->d, sd->x, sd->w, sd->b, sd->yref, sd->beta)
           == CONV_OK ? 0 : -1;
}

/* One untimed run on poisoned output, judged against the reference. */
static void measure_error(tune_case *c, bench_data *sd, int threads)
{
    conv_options opt = conv_options_default();
    int64_t ny = conv_desc_output_elems(sd->d);
    conv_plan *plan = NULL;
    ref_error e;

    opt.threads = threads;
    for (int64_t i = 0; i < ny; i++)
        sd->y[i] = NAN;
    if (conv_plan_create(&plan, sd->d, c->algo, &opt) == CONV_OK
        && conv_plan_set_weights(plan, sd->w, sd->b) == CONV_OK
        && conv_execute(plan, sd->x, sd->y) == CONV_OK) {
        e = ref_compare(sd->y, sd->yref, sd->beta, ny);
        c->err_eps = e.nonfinite > 0 ? INFINITY : e.max_eps;
        c->accurate = c->err_eps <= ref_tolerance_for(c->algo)->eps;
    }
    conv_plan_destroy(plan);
}

/* Whether case c applies; if so its error is measured, else its row
 * says why not. */
static int check_case(tune_case *c, const bench_shape *s, bench_data *sd,
                      int threads)
{
    char why[256] = "";

    c->row = bench_row_empty();
    c->err_eps = NAN;
    c->accurate = 0;
    if (!conv_algo_applies(c->algo, &s->desc, why, sizeof why)) {
        snprintf(c->row.status, sizeof c->row.status, "n/a:%s", why);
        return 0;
    }
    measure_error(c, sd, threads);
    return 1;
}

/* Times the cases that apply together (interleaved), so that their
 * ranking is not the machine's mood while each ran. */
static int run_cases(tune_case *c, int n, const bench_shape *s,
                     bench_data *sd, int threads)
{
    const char *algos[MAX_ALGOS];
    bench_row rows[MAX_ALGOS];
    int which[MAX_ALGOS], due[MAX_ALGOS], m = 0;

    for (int i = 0; i < n; i++)
        if (check_case(&c[i], s, sd, threads)) {
            which[m] = i;
            rows[m] = c[i].row;
            algos[m++] = c[i].algo;
        }
    if (bench_time_shape(algos, m, s, sd, 0, threads, rows, NULL, due)
        != 0)
        return -1;
    for (int j = 0; j < m; j++) {
        c[which[j]].row = rows[j];
        if (due[j] != 0)
            snprintf(c[which[j]].row.status, sizeof rows[j].status,
                     "n/a:not run (--benchmark_filter)");
    }
    return 0;
}

/* ---- ranking ---- */

static int is_ok(const tune_case *c)
{
    return strcmp(c->row.status, "ok") == 0;
}

/* Eligible and fast first; then the inaccurate, then the rest. */
static int rank_cmp(const void *pa, const void *pb)
{
    const tune_case *a = pa, *b = pb;
    int ka = is_ok(a) ? (a->accurate ? 0 : 1) : 2;
    int kb = is_ok(b) ? (b->accurate ? 0 : 1) : 2;

    if (ka != kb)
        return ka - kb;
    if (ka == 2)
        return 0;
    return (a->row.time_ms > b->row.time_ms)
           - (a->row.time_ms < b->row.time_ms);
}

static void print_case(int rank, const tune_case *c, double best)
{
    if (!is_ok(c)) {
        printf("  %4s  %-14s %s\n", "-", c->algo, c->row.status);
        return;
    }
    printf("  %4d  %-14s %9.4f %9.4f %7.2fx %10.1f %9.3g  %s\n", rank,
           c->algo, c->row.time_ms, c->row.time_min_ms,
           c->row.time_ms / best,
           (double)c->row.workspace_bytes / 1024.0, c->err_eps,
           c->accurate ? "ok" : "error above tolerance: not chosen");
}

static void print_ranking(const bench_shape *s, tune_case *c, int n)
{
    double best;

    qsort(c, (size_t)n, sizeof *c, rank_cmp);
    best = n > 0 && is_ok(&c[0]) ? c[0].row.time_ms : NAN;
    printf("\n# %s\n  %4s  %-14s %9s %9s %8s %10s %9s  %s\n", s->text,
           "rank", "algo", "median_ms", "min_ms", "vs_best", "ws_KiB",
           "err_eps", "verdict");
    for (int i = 0; i < n; i++)
        print_case(i + 1, &c[i], best);
    fflush(stdout);
}

/* What auto runs without a cache: its cost model's pick for s. */
static void model_pick(const bench_shape *s, int threads, char *algo,
                       size_t n)
{
    conv_options o = conv_options_default();
    conv_plan *plan = NULL;

    o.threads = threads;
    o.tuning_file = "";
    snprintf(algo, n, "%s", "");
    if (conv_plan_create(&plan, &s->desc, "auto", &o) == CONV_OK)
        snprintf(algo, n, "%s", conv_plan_algo(plan));
    conv_plan_destroy(plan);
}

/*
 * NOTE: why both the median and the minimum. compare's rule (the gain
 * must pass each side's median/min spread) is right for two runs of one
 * algorithm, but here one slow repetition widens the spread past real
 * gains: it kept winograd_f4x4 on VGG-16 layers where f6x6 was 14% faster.
 * Load that distorts one estimate rarely distorts both the same way, so
 * a gain is believed when it shows in both, beyond NOISE_FLOOR.
 */
int tune_clearly_faster(const bench_row *fast, const bench_row *slow)
{
    return slow->time_ms > fast->time_ms * (1 + NOISE_FLOOR)
           && slow->time_min_ms > fast->time_min_ms * (1 + NOISE_FLOOR);
}

/*
 * The entry to record from the ranked cases: the fastest accurate one,
 * unless it is not clearly faster than the cost model's pick; then the
 * pick stays, so that one noisy run cannot overturn a sound default.
 * NULL if no accurate algorithm ran.
 */
static const tune_case *winner(const tune_case *c, int n,
                               const char *model)
{
    if (n == 0 || !is_ok(&c[0]) || !c[0].accurate)
        return NULL;
    for (int i = 1; i < n; i++)
        if (strcmp(c[i].algo, model) == 0 && is_ok(&c[i])
            && c[i].accurate && !tune_clearly_faster(&c[0].row, &c[i].row)) {
            printf("  recorded: %s, the cost model's pick: %s is faster "
                   "by %.1f%% (median), %.1f%% (min), not both beyond "
                   "%.0f%%\n", c[i].algo, c[0].algo,
                   100 * (c[i].row.time_ms / c[0].row.time_ms - 1),
                   100 * (c[i].row.time_min_ms / c[0].row.time_min_ms - 1),
                   100 * NOISE_FLOOR);
            return &c[i];
        }
    printf("  recorded: %s%s\n", c[0].algo,
           strcmp(c[0].algo, model) == 0 ? ", also the cost model's pick"
                                          : "");
    return &c[0];
}

/* The winner as the cache entry of this shape, threads and machine. */
static int record(conv_tuning *t, const bench_shape *s, const tune_case *c,
                  int threads, const char *machine)
{
    conv_tuning_entry e;

    memset(&e, 0, sizeof e);
    conv_tuning_key(&s->desc, e.key, sizeof e.key);
    e.threads = threads;
    snprintf(e.machine, sizeof e.machine, "%s", machine);
    snprintf(e.algo, sizeof e.algo, "%s", c->algo);
    e.time_ms = c->row.time_ms;
    if (conv_tuning_put(t, &e) == CONV_OK)
        return 0;
    bench_error("%s", conv_reason());
    return -1;
}

/* Tunes one shape; returns how many of its cases failed. */
static int tune_shape(const tune_opts *o, const bench_shape *s,
                      conv_tuning *t, const char *machine)
{
    tune_case c[MAX_ALGOS];
    const tune_case *best;
    char model[32];
    bench_data sd;
    int errors = 0;

    if (bench_data_make(&sd, &s->desc) != 0 || make_reference(&sd) != 0) {
        bench_error("%s: cannot allocate or compute the reference",
                    s->text);
        bench_data_free(&sd);
        return 1;
    }
    for (int i = 0; i < o->nalgos; i++)
        c[i].algo = o->algos[i];
    if (run_cases(c, o->nalgos, s, &sd, o->threads) != 0) {
        bench_error("%s: out of memory", s->text);
        bench_data_free(&sd);
        return 1;
    }
    for (int i = 0; i < o->nalgos; i++)
        errors += strncmp(c[i].row.status, "error:", 6) == 0;
    bench_data_free(&sd);
    print_ranking(s, c, o->nalgos);
    model_pick(s, o->threads, model, sizeof model);
    best = winner(c, o->nalgos, model);
    if (best != NULL)
        errors += record(t, s, best, o->threads, machine) != 0;
    else
        printf("  no accurate algorithm ran: no cache entry\n");
    return errors;
}

/* Shape i repeats an earlier one: its entry is already made. */
static int seen_before(const bench_suite *all, int i)
{
    char a[192], b[192];

    conv_tuning_key(&all->shapes[i].desc, a, sizeof a);
    for (int j = 0; j < i; j++) {
        conv_tuning_key(&all->shapes[j].desc, b, sizeof b);
        if (strcmp(a, b) == 0)
            return 1;
    }
    return 0;
}

static int tune_all(const tune_opts *o, const bench_suite *all,
                    conv_tuning *t)
{
    char machine[160];
    int errors = 0;

    conv_tuning_machine(machine, sizeof machine);
    printf("tuning %d shape(s) at %d thread(s) on %s into %s\n", all->n,
           o->threads, machine, o->tuning);
    for (int i = 0; i < all->n; i++)
        if (!seen_before(all, i))
            errors += tune_shape(o, &all->shapes[i], t, machine);
    gbench_finish();
    if (conv_tuning_write(t, o->tuning) != CONV_OK) {
        bench_error("%s", conv_reason());
        return 1;
    }
    printf("\nwrote %d entr%s to %s\n", t->n, t->n == 1 ? "y" : "ies",
           o->tuning);
    if (errors > 0)
        bench_error("%d case(s) failed; their rows say why", errors);
    return errors > 0;
}

int tune_main(int argc, char **argv)
{
    tune_opts o;
    bench_suite all;
    conv_tuning t = {0};
    int st = BENCH_EXIT_USAGE;

    memset(&o, 0, sizeof o);
    memset(&all, 0, sizeof all);
    o.threads = omp_get_max_threads();
    gbench_init(&argc, argv, print_usage);
    o.descs = calloc((size_t)argc, sizeof *o.descs);
    if (o.descs != NULL && tune_args(argc, argv, &o) == 0
        && load_shapes(&o, &all) == 0 && read_cache(o.tuning, &t) == 0) {
        bench_blas_warn(o.algos, o.nalgos);
        omp_set_num_threads(o.threads);
        st = tune_all(&o, &all, &t);
    }
    conv_tuning_free(&t);
    bench_suite_free(&all);
    free(o.descs);
    return st;
}
