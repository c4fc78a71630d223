/*
 * `convbench bench`: for each shape, each selected algorithm and oneDNN
 * timed through Google Benchmark. Plans, weights and oneDNN's reorders
 * are made outside the timed region; only the convolution is timed. Each
 * finished case is appended to results/NAME.csv at once, and its phase
 * times, if its plan records any, to results/NAME.phases.csv; the JSON
 * report is written whole at the end.
 */
#include "bench.h"

#include "args.h"
#include "blas.h"
#include "csv.h"
#include "gbench.h"
#include "onednn.h"
#include "peak.h"
#include "shapes.h"
#include "timing.h"

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ALGOS 32
#define BARE_SUITE "cli"

static const char bench_usage[] =
    "usage: convbench bench [--suite NAME|FILE] [--algo A,B|all]\n"
    "                       [--threads T] [--mb N] [--out results/NAME]\n"
    "                       [--resume] [--shard K/N] [--onednn-isa ISA]\n"
    "                       [--tuning FILE] [--benchmark_FLAG=VALUE...]\n"
    "                       [DESC...]\n"
    "\n"
    "Times each shape with each algorithm (default: every library\n"
    "algorithm, onednn and onednn_nchw; `naive` only when named) and\n"
    "writes NAME.csv, a row per case appended as it finishes,\n"
    "NAME.phases.csv, where the time went in algorithms that record\n"
    "phases (Winograd, FFT, im2col_gemm, ...), and NAME.json, Google\n"
    "Benchmark's report, at the end.\n"
    "\n"
    "  --out results/NAME  default: results/SUITE (or results/" BARE_SUITE
    ")\n"
    "  --threads T         default: every core\n"
    "  --resume            keep NAME.csv's rows, run only the missing ones\n"
    "  --shard K/N         only shapes K, K+N, K+2N, ... (1-based)\n"
    "  --onednn-isa ISA    oneDNN's instruction set cap, default avx2\n"
    "  --tuning FILE       the tuning cache `auto` reads (default:\n"
    "                      $CONVBENCH_TUNING, else ~/.cache/convbench/)\n"
    "Google Benchmark's flags pass through (but --out replaces\n"
    "--benchmark_out); the defaults here are\n"
    "  --benchmark_repetitions=5 --benchmark_min_time=0.1\n"
    "  --benchmark_min_warmup_time=0.05 --benchmark_time_unit=ms\n"
    "  --benchmark_display_aggregates_only=true\n";

/* ---- options ---- */

typedef struct bench_opts {
    char algos[MAX_ALGOS][32];
    int nalgos;
    int threads;
    int64_t mb;
    const char *suite;       /* NULL: descriptors only */
    const char *algo_list;
    const char *out;         /* NULL: results/SUITE */
    const char *isa;
    const char *tuning;      /* NULL: auto's default cache */
    int resume;
    int shard_k, shard_n;    /* 1-based; 1/1 is everything */
    char **descs;
    int ndescs;
} bench_opts;

static void print_usage(void)
{
    fputs(bench_usage, stdout);
}

static int parse_shard(const char *v, bench_opts *o)
{
    int k = 0, n = 0, used = 0;

    if (sscanf(v, "%d/%d%n", &k, &n, &used) != 2 || v[used] != '\0'
        || n < 1 || k < 1 || k > n) {
        bench_error("--shard '%s': must be K/N with 1 <= K <= N", v);
        return -1;
    }
    o->shard_k = k;
    o->shard_n = n;
    return 0;
}

/* The flags that take a number; 1 if argv[*i] was one, -1 on error. */
static int number_flag(int argc, char **argv, int *i, bench_opts *o)
{
    const char *v = NULL;
    int r;

    if ((r = bench_run_flag(argc, argv, i, &o->threads, &o->mb)) != 0)
        return r;
    if ((r = bench_flag_value(argc, argv, i, "--shard", &v)) != 0)
        return r < 0 || parse_shard(v, o) != 0 ? -1 : 1;
    return 0;
}

/* One flag at argv[*i]: 1 if taken, 0 if not one of ours, -1 on error. */
static int bench_flag(int argc, char **argv, int *i, void *opts)
{
    bench_opts *o = opts;
    const struct {
        const char *name;
        const char **value;
    } text[] = {{"--suite", &o->suite}, {"--algo", &o->algo_list},
                {"--out", &o->out}, {"--onednn-isa", &o->isa},
                {"--tuning", &o->tuning}};
    int r;

    for (size_t f = 0; f < sizeof text / sizeof text[0]; f++)
        if ((r = bench_flag_value(argc, argv, i, text[f].name,
                                  text[f].value)) != 0)
            return r;
    if (strcmp(argv[*i], "--resume") == 0) {
        o->resume = 1;
        return 1;
    }
    return number_flag(argc, argv, i, o);
}

/* Flags Google Benchmark did not take are ours to explain. */
static void refuse_flag(const char *a)
{
    if (strncmp(a, "--benchmark_out", 15) == 0)
        bench_error("'%s': convbench writes Google Benchmark's JSON "
                    "itself, to NAME.json beside NAME.csv; choose NAME "
                    "with --out", a);
    else if (strncmp(a, "--benchmark_", 12) == 0)
        bench_error("'%s': not a Google Benchmark flag, or not in the "
                    "form --benchmark_FLAG=VALUE (see --help)", a);
    else
        bench_error("'%s': unknown flag\n%s", a, bench_usage);
}

static int bench_args(int argc, char **argv, bench_opts *o)
{
    static const char *const extra[] = {"onednn", "onednn_nchw", "naive",
                                        NULL};
    static const char *const all_extra[] = {"onednn", "onednn_nchw", NULL};

    if (bench_parse_args(argc, argv, bench_flag, o, print_usage,
                         refuse_flag, o->descs, &o->ndescs) != 0)
        return -1;
    o->nalgos = bench_parse_algos(o->algo_list, extra, all_extra, o->algos,
                                  MAX_ALGOS);
    if (o->nalgos < 0)
        return -1;
    if (onednn_set_max_isa(o->isa) != CONV_OK) {
        bench_error("--onednn-isa '%s': %s", o->isa, conv_reason());
        return -1;
    }
    /* auto's plans are built deep in the timing code; the library reads
     * its cache path from the environment when the plan names none. */
    if (o->tuning != NULL && setenv("CONVBENCH_TUNING", o->tuning, 1) != 0) {
        bench_error("--tuning '%s': cannot set CONVBENCH_TUNING: %s",
                    o->tuning, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- shapes ---- */

/* Every shape to run, from the suite and the arguments, in order. */
typedef struct bench_shapes {
    bench_suite suite;
    bench_suite bare;
    const bench_shape **shape;
    const char **suite_of;
    int n;
} bench_shapes;

static int list_shapes(bench_shapes *sh)
{
    int total = sh->suite.n + sh->bare.n, n = 0;

    sh->shape = calloc((size_t)total + 1, sizeof *sh->shape);
    sh->suite_of = calloc((size_t)total + 1, sizeof *sh->suite_of);
    if (sh->shape == NULL || sh->suite_of == NULL) {
        bench_error("out of memory listing shapes");
        return -1;
    }
    for (int i = 0; i < sh->suite.n; i++, n++) {
        sh->shape[n] = &sh->suite.shapes[i];
        sh->suite_of[n] = sh->suite.name;
    }
    for (int i = 0; i < sh->bare.n; i++, n++) {
        sh->shape[n] = &sh->bare.shapes[i];
        sh->suite_of[n] = BARE_SUITE;
    }
    sh->n = n;
    return 0;
}

static int load_shapes(const bench_opts *o, bench_shapes *sh)
{
    char err[1024];

    for (int i = 0; i < o->ndescs; i++)
        if (bench_add_descriptor(&sh->bare, o->descs[i], o->mb) != 0)
            return -1;
    if (o->suite != NULL
        && bench_suite_load(o->suite, o->mb, &sh->suite, err,
                            sizeof err) != 0) {
        bench_error("%s", err);
        return -1;
    }
    if (list_shapes(sh) != 0)
        return -1;
    if (sh->n == 0) {
        bench_error("no shapes: give --suite NAME|FILE or descriptors");
        return -1;
    }
    return 0;
}

static void free_shapes(bench_shapes *sh)
{
    bench_suite_free(&sh->suite);
    free(sh->bare.shapes);
    free(sh->shape);
    free(sh->suite_of);
}

/* ---- output files ---- */

typedef struct bench_out {
    char csv[1024];
    char json[1024];
    char phases[1024];
    FILE *f;
    FILE *pf;                /* NAME.phases.csv, opened at its first row */
    bench_rows done;         /* rows a resumed run keeps */
    char *earlier;           /* and their JSON entries (NULL: none) */
} bench_out;

/* results/NAME from --out (a trailing ".csv" is dropped), else from the
 * suite's name (its file name without ".txt"). */
static int out_paths(const bench_opts *o, const bench_shapes *sh,
                     bench_out *out)
{
    char base[1000];
    size_t n;

    if (o->out != NULL)
        snprintf(base, sizeof base, "%s", o->out);
    else
        snprintf(base, sizeof base, "results/%s",
                 o->suite ? sh->suite.name : BARE_SUITE);
    n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".csv") == 0)
        base[n - 4] = '\0';
    n = strlen(base);
    if (n == 0 || base[n - 1] == '/' || n + 6 > sizeof out->csv) {
        bench_error("--out '%s': must name a file path without extension, "
                    "e.g. results/NAME", o->out ? o->out : base);
        return -1;
    }
    snprintf(out->csv, sizeof out->csv, "%s.csv", base);
    snprintf(out->json, sizeof out->json, "%s.json", base);
    snprintf(out->phases, sizeof out->phases, "%s.phases.csv", base);
    return 0;
}

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path)
{
    char dir[1024];

    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            bench_error("--out: cannot create directory '%s': %s", dir,
                        strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

/* The whole file as a string (malloc'd), or NULL. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0
        && (text = calloc(1, (size_t)n + 1)) != NULL
        && fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

/* Whether the kept table has a row for the case Google Benchmark calls
 * `name`: a kill can fall between a row and its report. */
static int has_row(const char *name, void *user)
{
    const bench_rows *t = user;
    size_t n;

    for (int i = 0; i < t->n; i++) {
        n = strlen(t->rows[i].desc);
        if (strncmp(name, t->rows[i].desc, n) == 0 && name[n] == '/'
            && strcmp(name + n + 1, t->rows[i].algo) == 0)
            return 1;
    }
    return 0;
}

/* The JSON entries of the rows a resumed run keeps, if there are any. */
static void keep_json(bench_out *out)
{
    char *doc = read_text(out->json);

    if (doc == NULL)
        return;
    out->earlier = gbench_json_entries(doc, has_row, &out->done);
    if (out->earlier == NULL)
        bench_error("note: %s is not a report convbench wrote; the "
                    "resumed report replaces it", out->json);
    free(doc);
}

/* Reads the rows to keep (--resume) and opens the table for appending. */
static int open_outputs(const bench_opts *o, bench_out *out)
{
    char err[1024];
    int keep = o->resume && access(out->csv, F_OK) == 0;

    if (keep && bench_csv_read(out->csv, &out->done, err, sizeof err) != 0) {
        bench_error("--resume: %s", err);
        return -1;
    }
    if ((keep ? bench_phases_keep(out->phases, &out->done, err, sizeof err)
              : unlink(out->phases) != 0 && errno != ENOENT)) {
        bench_error(keep ? "--resume: %s" : "--out: cannot remove the "
                    "old phases table: %s", keep ? err : strerror(errno));
        return -1;
    }
    if (o->resume && !keep)
        fprintf(stderr, "convbench: --resume: no %s yet, starting it\n",
                out->csv);
    if (make_parent_dirs(out->csv) != 0)
        return -1;
    out->f = bench_csv_open(out->csv, keep, err, sizeof err);
    if (out->f == NULL) {
        bench_error("--out: %s", err);
        return -1;
    }
    /* A report without its table would describe rows no longer there. */
    if (keep)
        keep_json(out);
    else if (unlink(out->json) != 0 && errno != ENOENT) {
        bench_error("--out: cannot replace %s: %s", out->json,
                    strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Writes the JSON report so far to a temporary name and renames it into
 * place, so the file is always a whole document. `sync`: make it durable
 * first (at the end; a kill alone loses nothing the kernel has).
 */
static int write_json(const bench_out *out, int sync)
{
    char tmp[1100];
    FILE *f;
    int st;

    snprintf(tmp, sizeof tmp, "%s.tmp", out->json);
    f = fopen(tmp, "w");
    if (f == NULL) {
        bench_error("%s: cannot write: %s", tmp, strerror(errno));
        return -1;
    }
    st = gbench_write_json(f, out->earlier);
    if (fflush(f) != 0 || (sync && fsync(fileno(f)) != 0))
        st = -1;
    if (fclose(f) != 0 || st != 0 || rename(tmp, out->json) != 0) {
        bench_error("%s: cannot write: %s", out->json, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- the cases ---- */

/* One shape x algorithm still to run. */
typedef struct bench_case {
    int shape;
    const char *algo;
    int applies;        /* as far as can be told before running it */
    char why[256];
} bench_case;

/* The identifying columns of the row a case writes. */
static bench_row row_for(const bench_shapes *sh, int shape,
                         const char *algo, int threads)
{
    const bench_shape *s = sh->shape[shape];
    bench_row r = bench_row_empty();

    snprintf(r.suite, sizeof r.suite, "%s", sh->suite_of[shape]);
    snprintf(r.layer, sizeof r.layer, "%.159s",
             s->name[0] ? s->name : s->text);
    r.count = s->count;
    snprintf(r.desc, sizeof r.desc, "%s", s->text);
    snprintf(r.algo, sizeof r.algo, "%s", algo);
    r.threads = threads;
    return r;
}

/* Every case of this shard that the table does not hold yet. */
static bench_case *plan_cases(const bench_opts *o, const bench_shapes *sh,
                              bench_rows *done, int *ncases)
{
    bench_case *c = calloc((size_t)sh->n * (size_t)o->nalgos + 1,
                           sizeof *c);
    int n = 0;

    for (int s = 0; c != NULL && s < sh->n; s++) {
        if (s % o->shard_n != o->shard_k - 1)
            continue;
        for (int a = 0; a < o->nalgos; a++) {
            bench_row key = row_for(sh, s, o->algos[a], o->threads);

            if (done->n > 0 && bench_rows_take(done, &key))
                continue;
            c[n].shape = s;
            c[n].algo = o->algos[a];
            c[n].applies = bench_case_applies(c[n].algo,
                                              &sh->shape[s]->desc,
                                              c[n].why, sizeof c[n].why);
            n++;
        }
    }
    *ncases = n;
    return c;
}

/* ---- progress ---- */

typedef struct progress {
    int done, total;
    int timed_done, timed_left;   /* cases that run (apply) */
    double start;
} progress;

static void format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);

    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%lds", t);
}

/* "[12/80] layer algo 1.23 ms 87.1 GFLOP/s (0.78 peak)  elapsed ..." */
static void report_progress(progress *p, const bench_case *c,
                            const bench_row *r, int ran)
{
    double elapsed = omp_get_wtime() - p->start;
    char took[32], left[32];

    p->done++;
    if (c->applies) {
        p->timed_done++;
        p->timed_left--;
    }
    format_duration(elapsed, took, sizeof took);
    format_duration(elapsed / (p->timed_done ? p->timed_done : 1)
                    * p->timed_left, left, sizeof left);
    fprintf(stderr, "[%d/%d] %s %s ", p->done, p->total, r->layer, c->algo);
    if (ran < 0)
        fprintf(stderr, "not run (filtered out)");
    else if (strcmp(r->status, "ok") != 0)
        fprintf(stderr, "%s", r->status);
    else
        fprintf(stderr, "%.3g ms %.1f GFLOP/s", r->time_ms, r->gflops);
    if (ran >= 0 && !isnan(r->peak_fraction))
        fprintf(stderr, " (%.2f peak)", r->peak_fraction);
    fprintf(stderr, "  elapsed %s, about %s left\n", took, left);
}

/* ---- the sweep ---- */

typedef struct sweep {
    const bench_opts *o;
    const bench_shapes *sh;
    bench_out *out;
    double peak_gflops;
    int errors;
    int write_failed;
} sweep;

/* Whether a case that does not apply is to be listed (-1: filtered
 * out), with its reason in r. */
static int refused_case(const bench_case *c, const bench_shape *s,
                        bench_row *r)
{
    char name[512];

    bench_case_name(s, c->algo, name, sizeof name);
    if (!gbench_selected(name))
        return -1;
    snprintf(r->status, sizeof r->status, "n/a:%s", c->why);
    return 0;
}

/*
 * Appends the case's phases row, before its row in NAME.csv: a kill
 * between the two leaves a phases row that --resume drops as the case
 * runs again.
 */
static void save_phases(sweep *w, const bench_row *r, bench_phases *ph)
{
    bench_out *out = w->out;
    char err[1200];

    snprintf(ph->suite, sizeof ph->suite, "%s", r->suite);
    snprintf(ph->layer, sizeof ph->layer, "%s", r->layer);
    snprintf(ph->desc, sizeof ph->desc, "%s", r->desc);
    snprintf(ph->algo, sizeof ph->algo, "%s", r->algo);
    ph->threads = r->threads;
    if (out->pf == NULL
        && (out->pf = bench_phases_open(out->phases, err, sizeof err))
               == NULL) {
        bench_error("%s", err);
        w->write_failed = 1;
    } else if (bench_phases_append(out->pf, ph) != 0) {
        bench_error("%s: cannot append a row: %s", out->phases,
                    strerror(errno));
        w->write_failed = 1;
    }
}

/*
 * Appends the row, and the report so far, as soon as a case is done.
 * TODO: a kill between the two leaves a row whose runs are missing from
 * NAME.json; --resume keeps the row and does not measure it again, so the
 * report lacks that one case (the table is complete).
 */
static void save(sweep *w, const bench_row *r, bench_phases *ph)
{
    if (ph->total_ms > 0 && strcmp(r->status, "ok") == 0)
        save_phases(w, r, ph);
    if (bench_csv_append(w->out->f, r) != 0) {
        bench_error("%s: cannot append a row: %s", w->out->csv,
                    strerror(errno));
        w->write_failed = 1;
    }
    if (write_json(w->out, 0) != 0)
        w->write_failed = 1;
}

/* The cases of one shape that apply, timed together. */
typedef struct shape_rows {
    bench_row *r;
    bench_phases *ph;
    int *ran;
    const char **algos;
} shape_rows;

static int alloc_rows(shape_rows *t, int n)
{
    t->r = calloc((size_t)n, sizeof *t->r);
    t->ph = calloc((size_t)n, sizeof *t->ph);
    t->ran = calloc((size_t)n, sizeof *t->ran);
    t->algos = calloc((size_t)n, sizeof *t->algos);
    return t->r && t->ph && t->ran && t->algos ? 0 : -1;
}

static void free_rows(shape_rows *t)
{
    free(t->r);
    free(t->ph);
    free(t->ran);
    free(t->algos);
}

/* Times the cases of c[0..n) that apply, in one interleaved group, into
 * t's first entries in the cases' order. */
static int time_shape(sweep *w, const bench_case *c, int n,
                      bench_data *sd, shape_rows *t)
{
    const bench_shape *s = w->sh->shape[c[0].shape];
    int m = 0;

    for (int i = 0; i < n; i++)
        if (c[i].applies) {
            t->r[m] = row_for(w->sh, c[i].shape, c[i].algo, w->o->threads);
            t->algos[m++] = c[i].algo;
        }
    return bench_time_shape(t->algos, m, s, sd, w->peak_gflops,
                            w->o->threads, t->r, t->ph, t->ran);
}

/* Runs the cases of one shape, c[0..n), then saves them in order. */
static void run_shape(sweep *w, const bench_case *c, int n, progress *p)
{
    const bench_shape *s = w->sh->shape[c[0].shape];
    bench_phases none;
    bench_data sd;
    shape_rows t = {0};

    if (bench_data_make(&sd, &s->desc) != 0 || alloc_rows(&t, n) != 0
        || time_shape(w, c, n, &sd, &t) != 0) {
        bench_error("%s: cannot allocate the shape's tensors", s->text);
        w->errors += n;
        bench_data_free(&sd);
        free_rows(&t);
        return;
    }
    memset(&none, 0, sizeof none);
    for (int i = 0, m = 0; i < n && !w->write_failed; i++) {
        bench_phases *ph = &none;
        bench_row r;
        int ran;

        if (c[i].applies) {
            r = t.r[m];
            ph = &t.ph[m];
            ran = t.ran[m++];
        } else {
            r = row_for(w->sh, c[i].shape, c[i].algo, w->o->threads);
            ran = refused_case(&c[i], s, &r);
        }
        if (ran == 0)
            save(w, &r, ph);
        w->errors += strncmp(r.status, "error:", 6) == 0;
        report_progress(p, &c[i], &r, ran);
    }
    bench_data_free(&sd);
    free_rows(&t);
}

static void run_cases(sweep *w, const bench_case *c, int n)
{
    progress p = {0, n, 0, 0, omp_get_wtime()};

    for (int i = 0; i < n; i++)
        p.timed_left += c[i].applies;
    for (int i = 0; i < n && !w->write_failed;) {
        int j = i;

        while (j < n && c[j].shape == c[i].shape)
            j++;
        run_shape(w, &c[i], j - i, &p);
        i = j;
    }
}

/* The machine and library facts every report carries. */
static void add_context(const bench_opts *o, double peak_gflops)
{
    bench_blas_info blas = bench_blas_info_now();
    char buf[1024];

    gbench_add_context("cpu_model", bench_cpu_model());
    snprintf(buf, sizeof buf, "%d", o->threads);
    gbench_add_context("convbench_threads", buf);
    snprintf(buf, sizeof buf, "%.1f", peak_gflops);
    gbench_add_context("peak_gflops_avx2_fma", buf);
    gbench_add_context("onednn_version", onednn_version());
    gbench_add_context("onednn_isa", onednn_isa());
    gbench_add_context("openblas", blas.config);
    gbench_add_context("openblas_core", blas.core);
    if (blas.forced != NULL)
        gbench_add_context("openblas_coretype", blas.forced);
    gbench_add_context("fftw", fftwf_version);
    buf[0] = '\0';
    for (int i = 0; i < o->nalgos; i++) {
        size_t at = strlen(buf);

        snprintf(buf + at, sizeof buf - at, "%s%.31s", i ? "," : "",
                 o->algos[i]);
    }
    gbench_add_context("algorithms", buf);
}

static int longest_name(const bench_shapes *sh)
{
    size_t n = 0;

    for (int i = 0; i < sh->n; i++)
        if (strlen(sh->shape[i]->text) > n)
            n = strlen(sh->shape[i]->text);
    return (int)n + 1 + 16;
}

static int sweep_run(sweep *w)
{
    bench_case *c;
    int n = 0;

    c = plan_cases(w->o, w->sh, &w->out->done, &n);
    if (c == NULL) {
        bench_error("out of memory listing cases");
        return 1;
    }
    w->peak_gflops = bench_peak_gflops(w->o->threads);
    add_context(w->o, w->peak_gflops);
    gbench_set_name_width(longest_name(w->sh));
    if (n == 0)
        fprintf(stderr, "convbench: every case is in %s already\n",
                w->out->csv);

    /* The report starts with the table, so the two always agree. */
    if (write_json(w->out, 0) == 0)
        run_cases(w, c, n);
    else
        w->write_failed = 1;
    free(c);
    if (!w->write_failed && write_json(w->out, 1) != 0)
        w->write_failed = 1;
    gbench_finish();
    if (w->write_failed)
        return 1;
    if (w->errors > 0)
        bench_error("%d case(s) failed; their rows say why", w->errors);
    return w->errors > 0;
}

int bench_main(int argc, char **argv)
{
    bench_opts o = {.threads = omp_get_max_threads(), .algo_list = "all",
                    .isa = "avx2", .shard_k = 1, .shard_n = 1};
    bench_out out;
    bench_shapes sh;
    sweep w;
    int st;

    memset(&out, 0, sizeof out);
    memset(&sh, 0, sizeof sh);
    gbench_init(&argc, argv, print_usage);
    o.descs = calloc((size_t)argc, sizeof *o.descs);
    if (o.descs == NULL || bench_args(argc, argv, &o) != 0
        || load_shapes(&o, &sh) != 0 || out_paths(&o, &sh, &out) != 0
        || open_outputs(&o, &out) != 0) {
        bench_rows_free(&out.done);
        free_shapes(&sh);
        free(o.descs);
        return BENCH_EXIT_USAGE;
    }

    bench_blas_warn(o.algos, o.nalgos);
    omp_set_num_threads(o.threads);
    w = (sweep){&o, &sh, &out, 0, 0, 0};
    st = sweep_run(&w);
    fclose(out.f);
    if (out.pf != NULL)
        fclose(out.pf);
    bench_rows_free(&out.done);
    free(out.earlier);
    free_shapes(&sh);
    free(o.descs);
    return st;
}
