/*
 * `convbench plot`: the tidy CSV of `convbench bench` becomes gnuplot
 * charts (PNG and SVG) and summary.md in results/NAME/.
 *
 * Each chart is a tab-separated .dat table (one line per layer, one
 * column per algorithm) handed to a script of harness/plots/ with
 * `gnuplot -e VARIABLES SCRIPT`. When results/NAME.phases.csv is there,
 * phases_G shows where each profiled algorithm's time goes (its table
 * has a block per algorithm). Everything is written into a hidden
 * temporary directory beside results/NAME/ and moved in at the end.
 */
#include "plot.h"
#include "args.h"
#include "gnuplot.h"
#include "plot_model.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct plot_ctx {
    plot_model m;
    char out[PATH_MAX], tmp[PATH_MAX + 16], scripts[PATH_MAX + 32];
    plot_drawn drawn;
} plot_ctx;

/* ---- Tables for gnuplot ------------------------------------------- */

typedef double (*cell_fn)(const plot_set *s, int l, int a);

static double gflops_of(const plot_set *s, int l, int a)
{
    const bench_row *r = plot_ok_cell(s, l, a);
    return r ? r->gflops : NAN;
}

/* oneDNN's time over the algorithm's: above 1 is faster than oneDNN. */
static double speedup_of(const plot_set *s, int l, int a)
{
    int o = s->m->onednn;
    const bench_row *r = plot_ok_cell(s, l, a);
    const bench_row *ref = o >= 0 ? plot_ok_cell(s, l, o) : NULL;
    bool timed = r && ref && r->time_ms > 0 && ref->time_ms > 0;
    return timed ? ref->time_ms / r->time_ms : NAN;
}

static double mib_of(const plot_set *s, int l, int a)
{
    const bench_row *r = plot_ok_cell(s, l, a);
    return r ? (double)r->workspace_bytes / (1024.0 * 1024.0) : NAN;
}

/* Text for a tab-separated field: tabs and newlines become spaces. */
static void put_field(FILE *f, const char *s)
{
    fputc('\t', f);
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/*
 * One line per layer: its position (or swept value), its label, then one
 * column per algorithm with "NaN" where it did not run.
 */
static int write_table(const char *path, const plot_set *s, const int *algos,
                       int na, cell_fn value, bool by_x)
{
    const plot_model *m = s->m;
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "%s\tlayer", by_x ? m->groups[s->g].key : "position");
    for (int a = 0; a < na; a++)
        put_field(f, m->algos[algos[a]]);
    fputc('\n', f);
    for (int i = 0; i < s->nlayers; i++) {
        const plot_layer *l = &m->layers[s->layers[i]];
        fprintf(f, "%.17g", by_x ? l->x : i);
        put_field(f, l->label);
        for (int a = 0; a < na; a++) {
            double v = value(s, s->layers[i], algos[a]);
            if (isnan(v))
                fprintf(f, "\tNaN");
            else
                fprintf(f, "\t%.6g", v);
        }
        fputc('\n', f);
    }
    bool bad = ferror(f);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

/* ---- Charts ------------------------------------------------------- */

/* Fixed colours and point types (gnuplot's numbers), so an algorithm
 * looks the same in every chart. */
typedef struct algo_style {
    const char *algo, *color;
    int point;
} algo_style;

static const algo_style algo_styles[] = {
    {"direct", "#1f77b4", 5},        {"im2col_gemm", "#ff7f0e", 9},
    {"conv1x1", "#2ca02c", 11},      {"winograd_f2x2", "#d62728", 4},
    {"winograd_f4x4", "#9467bd", 13}, {"winograd_f6x6", "#8c564b", 15},
    {"fft", "#e377c2", 6},           {"auto", "#17becf", 7},
    {"naive", "#bcbd22", 3},         {"onednn", "#262626", 2},
    {"onednn_nchw", "#9a9a9a", 1},
};

static algo_style style_of(const plot_model *m, int a)
{
    static const char *const spare[] = {"#aec7e8", "#ffbb78", "#98df8a",
                                        "#ff9896", "#c5b0d5", "#c49c94"};
    int n = (int)(sizeof algo_styles / sizeof *algo_styles);

    for (int i = 0; i < n; i++)
        if (strcmp(algo_styles[i].algo, m->algos[a]) == 0)
            return algo_styles[i];
    return (algo_style){m->algos[a], spare[a % 6], 8 + 2 * (a % 4)};
}

/* The variables every script reads, after the chart's own in `vars`. */
static void common_vars(const plot_ctx *c, const plot_set *s,
                        const int *algos, int na, const char *out,
                        strbuf *vars)
{
    /* Bars stay about 6 pixels wide however many there are, up to a
     * width a screen can still show. */
    int bars = s->nlayers * na;
    int width = bars > 120 ? 1200 + 6 * (bars - 120) : 1200;

    gp_str(vars, "outfile", out);
    gp_str(vars, "plotsdir", c->scripts);
    gp_str(vars, "what", s->what);
    gp_num(vars, "nalgo", na);
    gp_num(vars, "nlayer", s->nlayers);
    gp_num(vars, "width", width < 2400 ? width : 2400);
    gp_num(vars, "height", 640);
    sb_add(vars, "colors='");
    for (int a = 0; a < na; a++)
        sb_add(vars, "%s%s", a ? " " : "", style_of(s->m, algos[a]).color);
    sb_add(vars, "'; points='");
    for (int a = 0; a < na; a++)
        sb_add(vars, "%s%d", a ? " " : "", style_of(s->m, algos[a]).point);
    sb_add(vars, "'");
}

/*
 * Writes KIND_STEM.dat (STEM.dat for sweeps; value NULL: the caller
 * wrote it) and, with gnuplot, draws it with KIND.gp into .png and .svg.
 * Consumes vars. Returns 0 or 1.
 */
static int draw(plot_ctx *c, const plot_set *s, const char *kind,
                const int *algos, int na, cell_fn value, strbuf *vars)
{
    bool sweep = strcmp(kind, "sweep") == 0;
    char stem[160], out[PATH_MAX + 200], file[PATH_MAX + 400];
    int rc = 0;

    snprintf(stem, sizeof stem, "%s%s%s", sweep ? "" : kind,
             sweep ? "" : "_", s->stem);
    snprintf(out, sizeof out, "%s/%s", c->tmp, stem);
    snprintf(file, sizeof file, "%s.dat", out);
    if (value && write_table(file, s, algos, na, value, sweep) < 0) {
        bench_error("%s: cannot write: %s", file, strerror(errno));
        rc = 1;
    } else if (c->drawn.gnuplot) {
        gp_str(vars, "datafile", file);
        common_vars(c, s, algos, na, out, vars);
        char script[PATH_MAX + 64], log[PATH_MAX + 64];
        snprintf(script, sizeof script, "%s/%s.gp", c->scripts, kind);
        snprintf(log, sizeof log, "%s/.gnuplot.log", c->tmp);
        rc = !vars->s || gp_run(script, vars->s, log) < 0;
        if (rc == 0)
            snprintf(c->drawn.stem[c->drawn.n++], sizeof *c->drawn.stem,
                     "%s", stem);
    }
    free(vars->s);
    return rc;
}

/*
 * The peak line and its label ("" when the peak is unknown). When every
 * bar is below a third of the peak the line would squash them flat, so
 * the y axis stops above the bars (ytop) and the label says where the
 * peak is instead.
 */
static void peak_vars(const plot_set *s, strbuf *v)
{
    double peak = s->m->peak[s->ti], most = 0;
    int t = s->m->threads[s->ti];
    char label[128] = "";

    for (int a = 0; a < s->nalgos; a++)
        for (int l = 0; l < s->nlayers; l++) {
            double g = gflops_of(s, s->layers[l], s->algos[a]);
            most = g > most ? g : most;
        }
    bool off_scale = peak > 3 * most && most > 0;
    if (peak > 0)
        snprintf(label, sizeof label, "FMA peak (%d thread%s): %.0f "
                 "GFLOP/s%s", t, t == 1 ? "" : "s", peak,
                 off_scale ? ", above this chart" : "");
    gp_num(v, "peak", peak);
    gp_str(v, "peaklabel", label);
    gp_num(v, "ytop", off_scale ? 1.15 * most : 0);
}

static int chart_gflops(plot_ctx *c, const plot_set *s)
{
    strbuf v = sb_new();

    peak_vars(s, &v);
    return draw(c, s, "gflops", s->algos, s->nalgos, gflops_of, &v);
}

/* A y range around every bar and the line at 1, with some room. */
static void speedup_range(const plot_set *s, const int *algos, int na,
                          strbuf *v)
{
    double lo = 1, hi = 1;

    for (int a = 0; a < na; a++)
        for (int l = 0; l < s->nlayers; l++) {
            double x = speedup_of(s, s->layers[l], algos[a]);
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    gp_num(v, "ylo", lo / 1.3);
    gp_num(v, "yhi", hi * 1.3);
}

/* Every algorithm but oneDNN itself, when oneDNN ran here. */
static int chart_speedup(plot_ctx *c, const plot_set *s)
{
    int o = s->m->onednn, na = 0, rc = 0;
    int *algos = malloc(sizeof *algos * (size_t)s->nalgos);
    bool has_onednn = false;

    if (!algos)
        return 1;
    for (int i = 0; i < s->nalgos; i++) {
        has_onednn |= s->algos[i] == o;
        if (s->algos[i] != o)
            algos[na++] = s->algos[i];
    }
    if (has_onednn && na > 0) {
        strbuf v = sb_new();
        speedup_range(s, algos, na, &v);
        rc = draw(c, s, "speedup", algos, na, speedup_of, &v);
    }
    free(algos);
    return rc;
}

/* Algorithms with a workspace somewhere here; the rest named in a note. */
static int chart_workspace(plot_ctx *c, const plot_set *s)
{
    int *algos = malloc(sizeof *algos * (size_t)s->nalgos), na = 0;
    double least = INFINITY;
    strbuf v = sb_new(), note = sb_new();
    int rc = 0;

    for (int i = 0; algos && i < s->nalgos; i++) {
        double most = 0;
        for (int l = 0; l < s->nlayers; l++) {
            double mib = mib_of(s, s->layers[l], s->algos[i]);
            most = mib > most ? mib : most;
            least = mib > 0 && mib < least ? mib : least;
        }
        if (most > 0)
            algos[na++] = s->algos[i];
        else
            sb_add(&note, "%s%s", note.n ? ", " : "none on any layer: ",
                   s->m->algos[s->algos[i]]);
    }
    if (!algos || !note.s) {
        rc = 1;
    } else if (na > 0) {
        gp_num(&v, "ymin", pow(10, ceil(log10(least)) - 1));
        gp_str(&v, "note", note.s);
        rc = draw(c, s, "workspace", algos, na, mib_of, &v);
        v.s = NULL;
    }
    free(v.s);
    free(note.s);
    free(algos);
    return rc;
}

/* What the swept key means, for the x axis: the keys of the sweep
 * suites' naming convention (harness/suites/sweep_*.txt). */
static const char *key_title(const char *key)
{
    static const char *const titles[][2] = {
        {"s", "stride"},
        {"p", "padding (pixels on each side)"},
        {"c", "channels (input = output)"},
        {"k", "kernel size k (k x k)"},
    };

    for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
        if (strcmp(titles[i][0], key) == 0)
            return titles[i][1];
    return key;
}

static int chart_sweep(plot_ctx *c, const plot_set *s)
{
    const plot_model *m = s->m;
    const plot_group *g = &m->groups[s->g];
    double lo = m->layers[s->layers[0]].x;
    double hi = m->layers[s->layers[s->nlayers - 1]].x;
    strbuf v = sb_new();

    gp_str(&v, "xlabel", key_title(g->key));
    /* Channel counts from 1 to 1024 need a log axis; kernel sizes from
     * 1 to 11 read better on a linear one. */
    gp_num(&v, "xlog", lo > 0 && hi >= 32 * lo);
    peak_vars(s, &v);
    return draw(c, s, "sweep", s->algos, s->nalgos, gflops_of, &v);
}

/*
 * The phases table: a block per algorithm (gnuplot's `index`), a line
 * per layer: position, label, each phase's ms per execution and their
 * total, NaN where the algorithm recorded no phases.
 */
static int write_phases(const char *path, const plot_set *s,
                        const int *algos, int na)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "# ms per execution of each phase, a block per algorithm");
    for (int a = 0; a < na; a++) {
        fprintf(f, "%s# %s\n# position\tlayer\tinput_transform\t"
                "multiply\toutput_transform\tother\ttotal\n",
                a ? "\n\n" : "\n", s->m->algos[algos[a]]);
        for (int i = 0; i < s->nlayers; i++) {
            const bench_phases *ph = plot_phases_cell(s, s->layers[i],
                                                      algos[a]);
            fprintf(f, "%d", i);
            put_field(f, s->m->layers[s->layers[i]].label);
            for (int j = 0; j < BENCH_NPHASES; j++)
                fprintf(f, ph ? "\t%.6g" : "\tNaN", ph ? ph->ms[j] : 0);
            fprintf(f, ph ? "\t%.6g\n" : "\tNaN\n", ph ? ph->total_ms : 0);
        }
    }
    bool bad = ferror(f);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

/* Where the time goes, for the algorithms that recorded phases here. */
static int chart_phases(plot_ctx *c, const plot_set *s)
{
    int *algos = malloc(sizeof *algos * (size_t)s->nalgos), na = 0;
    char file[PATH_MAX + 200];
    strbuf v = sb_new();

    for (int i = 0; algos && i < s->nalgos; i++) {
        bool any = false;
        for (int l = 0; l < s->nlayers; l++)
            any |= plot_phases_cell(s, s->layers[l], s->algos[i]) != NULL;
        if (any)
            algos[na++] = s->algos[i];
    }
    snprintf(file, sizeof file, "%s/phases_%s.dat", c->tmp, s->stem);
    int rc = !algos || !v.s;
    if (rc == 0 && na > 0 && write_phases(file, s, algos, na) < 0) {
        bench_error("%s: cannot write: %s", file, strerror(errno));
        rc = 1;
    } else if (rc == 0 && na > 0) {
        sb_add(&v, "algos='");
        for (int a = 0; a < na; a++)
            sb_add(&v, "%s%s", a ? " " : "", s->m->algos[algos[a]]);
        sb_add(&v, "'; ");
        rc = draw(c, s, "phases", algos, na, NULL, &v);
        v.s = NULL;
    }
    free(v.s);
    free(algos);
    return rc;
}

/* ---- Output directory --------------------------------------------- */

/* results/NAME.csv -> results/NAME; another path gets ".plots" added. */
static void output_dir(const char *csv_path, char *out, size_t n)
{
    size_t len = strlen(csv_path);

    if (len > 4 && strcmp(csv_path + len - 4, ".csv") == 0
        && csv_path[len - 5] != '/')
        snprintf(out, n, "%.*s", (int)(len - 4), csv_path);
    else
        snprintf(out, n, "%s.plots", csv_path);
}

/* The files a plot run writes, which a later run replaces. */
static bool is_output(const char *name)
{
    const char *dot = strrchr(name, '.');

    return strcmp(name, "summary.md") == 0
           || (dot && (!strcmp(dot, ".png") || !strcmp(dot, ".svg")
                       || !strcmp(dot, ".dat")));
}

/* Unlinks the entries of dir that match (all of them if match is NULL). */
static void remove_files(const char *dir, bool (*match)(const char *))
{
    DIR *d = opendir(dir);
    char path[2 * PATH_MAX];

    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")
            || (match && !match(e->d_name)))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}

/* A hidden directory beside the output one, on the same file system. */
static int make_tmp(plot_ctx *c)
{
    const char *slash = strrchr(c->out, '/');

    if (slash)
        snprintf(c->tmp, sizeof c->tmp, "%.*s/.%s.tmpXXXXXX",
                 (int)(slash - c->out), c->out, slash + 1);
    else
        snprintf(c->tmp, sizeof c->tmp, ".%s.tmpXXXXXX", c->out);
    if (mkdtemp(c->tmp))
        return 0;
    bench_error("%s: cannot create a temporary directory: %s", c->tmp,
                strerror(errno));
    c->tmp[0] = '\0';
    return 1;
}

/* Replaces the previous run's outputs with the finished new ones. */
static int publish(const plot_ctx *c)
{
    struct stat st;
    char from[2 * PATH_MAX], to[2 * PATH_MAX];
    DIR *d;

    if ((mkdir(c->out, 0777) < 0 && errno != EEXIST)
        || stat(c->out, &st) < 0 || !S_ISDIR(st.st_mode)
        || !(d = opendir(c->tmp))) {
        bench_error("%s: cannot make the output directory: %s", c->out,
                    errno ? strerror(errno) : "not a directory");
        return 1;
    }
    remove_files(c->out, is_output);
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(from, sizeof from, "%s/%s", c->tmp, e->d_name);
        snprintf(to, sizeof to, "%s/%s", c->out, e->d_name);
        if (rename(from, to) < 0) {
            bench_error("%s: cannot move to %s: %s", from, to,
                        strerror(errno));
            rc = 1;
        }
    }
    closedir(d);
    return rc;
}

/* ---- The command -------------------------------------------------- */

/*
 * TODO: DESIGN.md also lists accuracy against speed; the bench CSV has no
 * error column to draw it from, so that chart is missing until bench
 * records each case's error against the reference.
 */
static int draw_set(plot_ctx *c, const plot_set *s)
{
    int rc = chart_gflops(c, s);

    if (rc == 0)
        rc = chart_speedup(c, s);
    if (rc == 0)
        rc = chart_workspace(c, s);
    if (rc == 0 && s->m->groups[s->g].key[0])
        rc = chart_sweep(c, s);
    if (rc == 0)
        rc = chart_phases(c, s);
    return rc;
}

/* Every chart of every group and thread count, then summary.md. */
static int draw_all(plot_ctx *c)
{
    const plot_model *m = &c->m;
    int cap = m->ngroups * m->nthreads, nsets = 0, rc = 0;
    plot_set *sets = calloc((size_t)cap, sizeof *sets);

    c->drawn.stem = calloc(5 * (size_t)cap, sizeof *c->drawn.stem);
    if (!sets || !c->drawn.stem)
        rc = 1;
    for (int g = 0; rc == 0 && g < m->ngroups; g++) {
        for (int t = 0; rc == 0 && t < m->nthreads; t++) {
            plot_set *s = &sets[nsets];
            int got = plot_set_init(s, m, g, t, plot_many_threads(m, g));
            rc = got < 0;
            if (got > 0)
                rc = draw_set(c, &sets[nsets++]);
            else
                plot_set_free(s);
        }
    }
    char path[sizeof c->tmp + 16];
    snprintf(path, sizeof path, "%s/summary.md", c->tmp);
    if (rc == 0)
        rc = plot_summary_write(path, m, sets, nsets, &c->drawn);
    for (int i = 0; i < nsets; i++)
        plot_set_free(&sets[i]);
    free(sets);
    return rc;
}

static int run(plot_ctx *c)
{
    int rc = plot_model_load(&c->m);

    if (rc)
        return rc;
    output_dir(c->m.path, c->out, sizeof c->out);
    c->drawn.gnuplot = gp_found();
    if (c->drawn.gnuplot && gp_find_scripts(c->scripts, sizeof c->scripts) < 0)
        return 1;
    rc = make_tmp(c);
    if (rc == 0)
        rc = draw_all(c);
    if (rc == 0)
        rc = publish(c);
    if (rc || c->drawn.gnuplot)
        return rc;
    bench_error("gnuplot not found in PATH: wrote only summary.md and the "
                ".dat tables to %s/; install it (as root) with: apt-get "
                "install gnuplot-nox", c->out);
    return BENCH_EXIT_USAGE;
}

int plot_main(int argc, char **argv)
{
    static const char usage[] =
        "usage: convbench plot results/NAME.csv\n"
        "  draws the CSV of `convbench bench` into results/NAME/: PNG and "
        "SVG charts,\n  their .dat tables and summary.md\n";
    plot_ctx *c;
    int rc;

    if (argc == 2
        && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        bench_error("plot takes one argument, the CSV a bench run wrote");
        fputs(usage, stderr);
        return BENCH_EXIT_USAGE;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->m.path = argv[1];
    rc = run(c);
    if (c->tmp[0]) {
        remove_files(c->tmp, NULL);
        rmdir(c->tmp);
    }
    if (rc == 0)
        printf("convbench plot: %d charts (PNG and SVG) and summary.md in "
               "%s/\n", c->drawn.n, c->out);
    plot_model_free(&c->m);
    free(c->drawn.stem);
    free(c);
    return rc;
}
