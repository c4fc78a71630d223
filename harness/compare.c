/*
 * `convbench compare`: the rows two bench tables share, as speed ratios
 * with a verdict each that allows for timing noise, a summary, and a
 * chart of the ratios.
 */
#include "compare.h"
#include "gnuplot.h"

#include "args.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_FLOOR 0.03

static const char compare_usage[] =
    "usage: convbench compare A.csv B.csv [--out DIR] [--ignore-threads]\n"
    "                         [--floor PCT] [--no-plot]\n"
    "\n"
    "Per shared row: ratio = time A / time B (above 1: B is faster) and\n"
    "a verdict, 'faster', 'slower' or 'same', that counts a change only\n"
    "if it passes both runs' spread ln(median/min) plus a floor.\n"
    "\n"
    "  --out DIR         default: B's path without .csv + _vs_ + A's name\n"
    "  --ignore-threads  join rows of different thread counts\n"
    "  --floor PCT       smallest change called significant, default 3\n"
    "  --no-plot         only the table and compare.dat\n";

typedef struct compare_opts {
    const char *a, *b;
    const char *out;
    int ignore_threads;
    int plot;
    double floor_frac;
} compare_opts;

/* One joined row. */
typedef struct pair {
    const bench_row *a, *b;
    double ratio, threshold;
    compare_verdict verdict;
} pair;

static const char *const verdict_names[] = {"same", "faster", "slower"};

/* TODO: the CSV keeps only the median and the minimum; a rank test
 * (Mann-Whitney) over the repetitions in NAME.json would use every run
 * and give a confidence instead of a spread heuristic. */
compare_verdict compare_judge(const bench_row *a, const bench_row *b,
                              double floor_frac, double *ratio,
                              double *threshold)
{
    double sa = log(a->time_ms / a->time_min_ms);
    double sb = log(b->time_ms / b->time_min_ms);
    double change;

    *ratio = a->time_ms / b->time_ms;
    *threshold = fmax(fmax(sa, sb), 0.0) + log1p(floor_frac);
    change = log(*ratio);
    if (fabs(change) <= *threshold)
        return COMPARE_SAME;
    return change > 0 ? COMPARE_FASTER : COMPARE_SLOWER;
}

/* ---- options ---- */

static int parse_floor(const char *v, compare_opts *o)
{
    char *end;
    double pct;

    errno = 0;
    pct = strtod(v, &end);
    if (end == v || *end != '\0' || errno || !(pct >= 0 && pct <= 100)) {
        bench_error("--floor '%s': must be a percentage from 0 to 100", v);
        return -1;
    }
    o->floor_frac = pct / 100;
    return 0;
}

static int compare_flag(int argc, char **argv, int *i, compare_opts *o)
{
    const char *v;
    int r;

    if ((r = bench_flag_value(argc, argv, i, "--out", &o->out)) != 0)
        return r;
    if ((r = bench_flag_value(argc, argv, i, "--floor", &v)) != 0)
        return r < 0 || parse_floor(v, o) != 0 ? -1 : 1;
    if (strcmp(argv[*i], "--ignore-threads") == 0)
        return o->ignore_threads = 1;
    if (strcmp(argv[*i], "--no-plot") == 0) {
        o->plot = 0;
        return 1;
    }
    if (strcmp(argv[*i], "-h") == 0 || strcmp(argv[*i], "--help") == 0) {
        fputs(compare_usage, stdout);
        exit(0);
    }
    if (strncmp(argv[*i], "--", 2) == 0) {
        bench_error("'%s': unknown flag\n%s", argv[*i], compare_usage);
        return -1;
    }
    return 0;
}

static int compare_args(int argc, char **argv, compare_opts *o)
{
    int files = 0;

    for (int i = 1; i < argc; i++) {
        int r = compare_flag(argc, argv, &i, o);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (files == 2) {
            bench_error("'%s': compare takes two tables, A and B",
                        argv[i]);
            return -1;
        }
        *(files++ ? &o->b : &o->a) = argv[i];
    }
    if (files < 2) {
        bench_error("compare needs two tables\n%s", compare_usage);
        return -1;
    }
    return 0;
}

/* ---- joining ---- */

static int same_key(const bench_row *x, const bench_row *y, int threads)
{
    return (!threads || x->threads == y->threads)
           && strcmp(x->algo, y->algo) == 0
           && strcmp(x->desc, y->desc) == 0
           && strcmp(x->layer, y->layer) == 0;
}

static int is_ok(const bench_row *r)
{
    return strcmp(r->status, "ok") == 0 && r->time_ms > 0
           && r->time_min_ms > 0;
}

/* A key must name one row per table, or the join would guess. */
static int check_unique(const char *path, const bench_rows *t, int threads)
{
    for (int i = 0; i < t->n; i++)
        for (int j = 0; j < i; j++)
            if (is_ok(&t->rows[i]) && is_ok(&t->rows[j])
                && same_key(&t->rows[i], &t->rows[j], threads)) {
                bench_error("%s:%d: same case as line %d (layer '%s', "
                            "algo '%s'%s); compare needs one row per case",
                            path, i + 2, j + 2, t->rows[i].layer,
                            t->rows[i].algo, threads ? ", same threads"
                            : "; --ignore-threads joins thread counts");
                return -1;
            }
    return 0;
}

/* Pairs every ok row of A with its ok row in B; returns how many. */
static int join(const compare_opts *o, const bench_rows *a,
                const bench_rows *b, pair *out)
{
    int n = 0;

    for (int i = 0; i < a->n; i++) {
        if (!is_ok(&a->rows[i]))
            continue;
        for (int j = 0; j < b->n; j++)
            if (is_ok(&b->rows[j])
                && same_key(&a->rows[i], &b->rows[j], !o->ignore_threads)) {
                pair *p = &out[n++];

                p->a = &a->rows[i];
                p->b = &b->rows[j];
                p->verdict = compare_judge(p->a, p->b, o->floor_frac,
                                           &p->ratio, &p->threshold);
                break;
            }
    }
    return n;
}

/* ---- reporting ---- */

static void print_pairs(const pair *p, int n)
{
    printf("%-40s %-14s %4s %4s %10s %10s %8s %8s  %s\n", "layer", "algo",
           "thrA", "thrB", "A_ms", "B_ms", "tA/tB", "noise", "verdict");
    for (int i = 0; i < n; i++)
        printf("%-40.40s %-14s %4d %4d %10.4g %10.4g %7.3fx %7.1f%%  %s\n",
               p[i].a->layer, p[i].a->algo, p[i].a->threads,
               p[i].b->threads, p[i].a->time_ms, p[i].b->time_ms,
               p[i].ratio, 100 * expm1(p[i].threshold),
               verdict_names[p[i].verdict]);
}

static void print_summary(const pair *p, int n, int na, int nb)
{
    int count[3] = {0, 0, 0};
    double logsum = 0, total_a = 0, total_b = 0;

    for (int i = 0; i < n; i++) {
        count[p[i].verdict]++;
        logsum += log(p[i].ratio);
        total_a += p[i].a->count * p[i].a->time_ms;
        total_b += p[i].b->count * p[i].b->time_ms;
    }
    printf("\n%d row(s) compared (A has %d, B has %d): %d faster, %d "
           "slower, %d same\n", n, na, nb, count[COMPARE_FASTER],
           count[COMPARE_SLOWER], count[COMPARE_SAME]);
    if (n == 0)
        return;
    printf("speed of B over A (time A / time B): geometric mean %.3fx; "
           "weighted totals A %.4g ms, B %.4g ms, %.3fx\n", exp(logsum / n),
           total_a, total_b, total_a / total_b);
    printf("%s\n", count[COMPARE_FASTER] + count[COMPARE_SLOWER] == 0
           ? "no significant change"
           : "significant changes: see the verdicts above");
}

/* Green for faster, red for slower, grey for no significant change. */
static long color_of(compare_verdict v)
{
    return v == COMPARE_FASTER ? 0x2ca02c
           : v == COMPARE_SLOWER ? 0xd62728 : 0x9a9a9a;
}

/* Tab-separated: position, label, ratio, colour, verdict. */
static int write_dat(const char *path, const pair *p, int n)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "pos\tcase\tratio\tcolor\tverdict\n");
    for (int i = 0; i < n; i++) {
        char label[240];

        snprintf(label, sizeof label, "%s %s", p[i].a->layer, p[i].a->algo);
        for (char *c = label; *c; c++)
            if (*c == '\t')
                *c = ' ';
        fprintf(f, "%d\t%s\t%.6g\t%ld\t%s\n", i, label, p[i].ratio,
                color_of(p[i].verdict), verdict_names[p[i].verdict]);
    }
    return fclose(f);
}

/* ---- the chart ---- */

/* A log range around 1 and every ratio, with a margin. */
static void ratio_range(const pair *p, int n, double *lo, double *hi)
{
    *lo = 0.8;
    *hi = 1.25;
    for (int i = 0; i < n; i++) {
        *lo = fmin(*lo, p[i].ratio / 1.15);
        *hi = fmax(*hi, p[i].ratio * 1.15);
    }
}

static int draw(const char *dir, const char *title, const pair *p, int n)
{
    char plots[PATH_MAX], script[PATH_MAX + 16], file[PATH_MAX + 16];
    strbuf vars = sb_new();
    double lo, hi;
    int rc;

    if (gp_find_scripts(plots, sizeof plots) != 0)
        return -1;
    snprintf(script, sizeof script, "%s/compare.gp", plots);
    snprintf(file, sizeof file, "%s/compare.dat", dir);
    gp_str(&vars, "datafile", file);
    snprintf(file, sizeof file, "%s/compare", dir);
    gp_str(&vars, "outfile", file);
    gp_str(&vars, "plotsdir", plots);
    gp_str(&vars, "what", title);
    ratio_range(p, n, &lo, &hi);
    gp_num(&vars, "nrow", n);
    gp_num(&vars, "ylo", lo);
    gp_num(&vars, "yhi", hi);
    gp_num(&vars, "width", n < 38 ? 1000 : n > 350 ? 6000 : n * 16 + 400);
    gp_num(&vars, "height", 600);
    if (vars.s == NULL) {
        bench_error("out of memory passing variables to gnuplot");
        return -1;
    }
    rc = gp_run(script, vars.s, NULL);
    free(vars.s);
    return rc;
}

/* B's path without ".csv", "_vs_", A's file name without ".csv". */
static void default_dir(const compare_opts *o, char *dir, size_t n)
{
    const char *base = strrchr(o->a, '/') ? strrchr(o->a, '/') + 1 : o->a;
    size_t lb = strlen(o->b), la = strlen(base);

    if (lb > 4 && strcmp(o->b + lb - 4, ".csv") == 0)
        lb -= 4;
    if (la > 4 && strcmp(base + la - 4, ".csv") == 0)
        la -= 4;
    snprintf(dir, n, "%.*s_vs_%.*s", (int)lb, o->b, (int)la, base);
}

static int write_outputs(const compare_opts *o, const pair *p, int n)
{
    char dir[PATH_MAX], dat[PATH_MAX + 16], title[160];

    if (o->out != NULL)
        snprintf(dir, sizeof dir, "%s", o->out);
    else
        default_dir(o, dir, sizeof dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        bench_error("--out '%s': cannot create the directory: %s", dir,
                    strerror(errno));
        return 1;
    }
    snprintf(dat, sizeof dat, "%s/compare.dat", dir);
    if (write_dat(dat, p, n) != 0) {
        bench_error("%s: cannot write: %s", dat, strerror(errno));
        return 1;
    }
    snprintf(title, sizeof title, "%d rows; green: B faster, red: B "
             "slower, grey: within noise", n);
    if (o->plot && n > 0 && draw(dir, title, p, n) != 0)
        return 1;
    printf("wrote %s/compare.dat%s\n", dir, o->plot && n > 0
           ? ", compare.png, compare.svg" : "");
    return 0;
}

int compare_main(int argc, char **argv)
{
    compare_opts o = {.plot = 1, .floor_frac = DEFAULT_FLOOR};
    bench_rows a = {0}, b = {0};
    char err[1024];
    pair *p = NULL;
    int n, st = BENCH_EXIT_USAGE;

    if (compare_args(argc, argv, &o) != 0)
        return BENCH_EXIT_USAGE;
    if (bench_csv_read(o.a, &a, err, sizeof err) != 0
        || bench_csv_read(o.b, &b, err, sizeof err) != 0)
        bench_error("%s", err);
    else if (check_unique(o.a, &a, !o.ignore_threads) == 0
             && check_unique(o.b, &b, !o.ignore_threads) == 0
             && (p = calloc((size_t)a.n + 1, sizeof *p)) != NULL) {
        n = join(&o, &a, &b, p);
        print_pairs(p, n);
        print_summary(p, n, a.n, b.n);
        st = write_outputs(&o, p, n);
    }
    free(p);
    bench_rows_free(&a);
    bench_rows_free(&b);
    return st;
}
