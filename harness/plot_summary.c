/*
 * summary.md of `convbench plot`: the charts of each group, whole-network
 * totals weighted by each layer's count, the best algorithm per layer and
 * why the others did not run.
 */
#include "plot_model.h"
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Table cell text: '|' would end the cell. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++)
        fprintf(f, *s == '|' ? "\\|" : "%c", *s);
}

static bool was_drawn(const plot_drawn *d, const char *stem)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->stem[i], stem) == 0)
            return true;
    return false;
}

static void set_charts(FILE *f, const plot_set *s, const plot_drawn *d)
{
    static const char *const kinds[][2] = {
        {"", "GFLOP/s against the swept value"},
        {"gflops_", "GFLOP/s per layer"},
        {"speedup_", "speed-up over oneDNN per layer"},
        {"workspace_", "workspace per layer"},
        {"phases_", "where the time goes per layer"},
    };
    char stem[160];

    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        snprintf(stem, sizeof stem, "%s%s", kinds[i][0], s->stem);
        if (was_drawn(d, stem))
            fprintf(f, "\n![%s, %s](%s.png)\n", kinds[i][1], s->what,
                    stem);
    }
}

/* The fastest of ours on layer l other than algorithm `not` (-1: any). */
static const bench_row *fastest(const plot_set *s, int l, int not)
{
    const bench_row *best = NULL;

    for (int i = 0; i < s->nalgos; i++) {
        const bench_row *r = s->algos[i] == not ? NULL
                             : plot_ok_cell(s, l, s->algos[i]);
        if (r && plot_is_ours(r->algo)
            && (!best || r->time_ms < best->time_ms))
            best = r;
    }
    return best;
}

/* The row of algorithm a on layer l; a < 0: the fastest of ours. */
static const bench_row *pick(const plot_set *s, int l, int a)
{
    return a >= 0 ? plot_ok_cell(s, l, a) : fastest(s, l, -1);
}

static const bench_row *onednn_cell(const plot_set *s, int l)
{
    return s->m->onednn >= 0 ? plot_ok_cell(s, l, s->m->onednn) : NULL;
}

/*
 * One line of the whole-network table: the sum of count * median time
 * over the layers where the algorithm ran, and the same sums of it and of
 * oneDNN over the layers where both ran, for the speed-up.
 */
static void network_line(FILE *f, const plot_set *s, int a,
                         const char *name)
{
    int ran = 0, skipped = 0;
    double total = 0, mine = 0, theirs = 0;

    for (int i = 0; i < s->nlayers; i++) {
        int l = s->layers[i];
        double count = s->m->layers[l].count;
        const bench_row *r = pick(s, l, a), *ref = onednn_cell(s, l);
        if (!r) {
            skipped++;
            continue;
        }
        ran++;
        total += count * r->time_ms;
        if (ref) {
            mine += count * r->time_ms;
            theirs += count * ref->time_ms;
        }
    }
    fprintf(f, "| %s | %d | %d | %.3f |", name, ran, skipped, total);
    if (theirs > 0 && mine > 0)
        fprintf(f, " %.3f | %.2fx |\n", theirs, theirs / mine);
    else
        fprintf(f, " - | - |\n");
}

static void network_table(FILE *f, const plot_set *s)
{
    fprintf(f, "\n### Whole network\n\nEach layer's median time times its "
               "count, summed over the layers where the algorithm ran "
               "(skipped: not applicable, failed or not run yet). The "
               "speed-up is oneDNN's sum over the layers where both ran "
               "divided by the algorithm's.\n\n"
               "| algorithm | layers run | layers skipped | total ms | "
               "onednn ms, same layers | speed-up |\n"
               "|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < s->nalgos; i++)
        network_line(f, s, s->algos[i], s->m->algos[s->algos[i]]);
    network_line(f, s, -1, "best of ours per layer");
}

/* "auto -> ALGO (why): ..." names the algorithm auto ran: ALGO, its
 * length in *len; NULL for any other text. */
static const char *auto_target(const char *impl, int *len)
{
    const char *p = strstr(impl, "-> ");

    if (p == NULL)
        return NULL;
    p += 3;
    *len = (int)strcspn(p, " (:|");
    return p;
}

/* What auto ran, or its whole text if that names none. */
static void auto_ran(FILE *f, const char *impl)
{
    int n;
    const char *p = auto_target(impl, &n);

    if (p == NULL)
        md_text(f, impl);
    else
        fprintf(f, "%.*s", n, p);
}

/* A row's algorithm, and for auto the one it ran: "auto (direct)". */
static void algo_name(FILE *f, const bench_row *r)
{
    int n;
    const char *p = NULL;

    if (strcmp(r->algo, "auto") == 0)
        p = auto_target(r->impl, &n);
    fprintf(f, "%s", r->algo);
    if (p != NULL)
        fprintf(f, " (%.*s)", n, p);
}

/* The best of ours and oneDNN's figures on one layer. */
static void layer_line(FILE *f, const plot_set *s, int l)
{
    const plot_layer *pl = &s->m->layers[l];
    const bench_row *r = pick(s, l, -1), *ref = onednn_cell(s, l);

    fprintf(f, "| ");
    md_text(f, pl->label);
    fprintf(f, " | %d | ", pl->count);
    if (r) {
        algo_name(f, r);
        fprintf(f, " | %.3f | %.1f | ", r->time_ms, r->gflops);
    } else {
        fprintf(f, "none ran | - | - | ");
    }
    if (r && r->peak_fraction > 0)
        fprintf(f, "%.0f%% | ", 100 * r->peak_fraction);
    else
        fprintf(f, "- | ");
    if (ref) {
        fprintf(f, "%.3f | ", ref->time_ms);
        md_text(f, ref->impl);
    } else {
        fprintf(f, "- | -");
    }
    if (r && ref && r->time_ms > 0)
        fprintf(f, " | %.2fx |\n", ref->time_ms / r->time_ms);
    else
        fprintf(f, " | - |\n");
}

static void layer_table(FILE *f, const plot_set *s)
{
    fprintf(f, "\n### Per layer\n\n| layer | count | best of ours | ms "
               "| GFLOP/s | of peak | onednn ms | onednn impl | "
               "speed-up |\n|---|---:|---|---:|---:|---:|---:|---|---:|\n");
    for (int i = 0; i < s->nlayers; i++)
        layer_line(f, s, s->layers[i]);
}

/* Index into s->algos of the algorithm named name, or -1. */
static int algo_named(const plot_set *s, const char *name)
{
    for (int i = 0; i < s->nalgos; i++)
        if (strcmp(s->m->algos[s->algos[i]], name) == 0)
            return s->algos[i];
    return -1;
}

/* Whether auto is within AUTO_NEAR of the fastest other algorithm. */
#define AUTO_NEAR 1.05

/* auto's time against the fastest of the others, per layer. */
static void auto_table(FILE *f, const plot_set *s)
{
    int a = algo_named(s, "auto"), near = 0, n = 0;

    if (a < 0)
        return;
    fprintf(f, "\n### auto\n\nauto's median time over the fastest of "
               "our other algorithms in this run (within 5%%: at most "
               "%.2fx). Where auto ran that same algorithm, the ratio is "
               "the run's noise.\n\n| layer | count | auto ran | ms | "
               "fastest other | ms | ratio |\n"
               "|---|---:|---|---:|---|---:|---:|\n", AUTO_NEAR);
    for (int i = 0; i < s->nlayers; i++) {
        int l = s->layers[i];
        const bench_row *r = plot_ok_cell(s, l, a);
        const bench_row *o = fastest(s, l, a);

        if (!r || !o)
            continue;
        fprintf(f, "| ");
        md_text(f, s->m->layers[l].label);
        fprintf(f, " | %d | ", s->m->layers[l].count);
        auto_ran(f, r->impl);
        fprintf(f, " | %.3f | %s | %.3f | %.3fx |\n", r->time_ms, o->algo,
                o->time_ms, r->time_ms / o->time_ms);
        near += r->time_ms <= AUTO_NEAR * o->time_ms;
        n++;
    }
    fprintf(f, "\nauto within 5%% of the fastest other on %d of %d "
               "layers.\n", near, n);
}

/* One line per layer and algorithm that recorded phases, if any did. */
static void phase_table(FILE *f, const plot_set *s)
{
    bool any = false;

    for (int i = 0; i < s->nlayers; i++)
        for (int a = 0; a < s->nalgos; a++) {
            int l = s->layers[i];
            const bench_phases *ph = plot_phases_cell(s, l, s->algos[a]);
            if (!ph)
                continue;
            if (!any)
                fprintf(f, "\n### Where the time goes\n\nMilliseconds "
                           "per execution of each phase, means over every "
                           "timed execution (the .phases.csv beside the "
                           "CSV); their sum "
                           "beside the measured median. The filter "
                           "transform runs once, in set_weights.\n\n"
                           "| layer | algorithm | input transform | "
                           "multiply | output transform | other | sum | "
                           "measured | filter transform |\n"
                           "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            any = true;
            fprintf(f, "| ");
            md_text(f, s->m->layers[l].label);
            fprintf(f, " | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f "
                       "| %.3f |\n", ph->algo, ph->ms[0], ph->ms[1],
                    ph->ms[2], ph->ms[3], ph->total_ms,
                    plot_ok_cell(s, l, s->algos[a])->time_ms, ph->kernel_ms);
        }
}

/* How many rows share row i's algorithm and status; 0 if an earlier
 * row already did (so each reason is counted once). */
static int same_reason(const bench_rows *t, int i)
{
    int n = 0;

    for (int j = 0; j < t->n; j++) {
        bool same = !strcmp(t->rows[j].algo, t->rows[i].algo)
                    && !strcmp(t->rows[j].status, t->rows[i].status);
        if (same && j < i)
            return 0;
        n += same;
    }
    return n;
}

/* Each algorithm's reasons for not running, with how many rows. */
static void not_run(FILE *f, const plot_model *m)
{
    const bench_rows *t = &m->table;
    bool any = false;

    for (int a = 0; a < m->nalgos; a++)
        for (int i = 0; i < t->n; i++) {
            const bench_row *r = &t->rows[i];
            int n = m->row_algo[i] == a && !plot_row_ok(r)
                    ? same_reason(t, i) : 0;
            if (n == 0)
                continue;
            if (!any)
                fprintf(f, "\n## Not run\n\n");
            any = true;
            fprintf(f, "- %s: ", r->algo);
            md_text(f, r->status);
            fprintf(f, " (%d row%s)\n", n, n == 1 ? "" : "s");
        }
}

static void head(FILE *f, const plot_model *m, const plot_drawn *d)
{
    int ok = 0;

    for (int i = 0; i < m->table.n; i++)
        ok += plot_row_ok(&m->table.rows[i]);
    fprintf(f, "# convbench results\n\nFrom `%s`: %d rows, %d measured, "
               "%d not run.\n\nFMA peak (gflops / peak_fraction of the "
               "rows):", m->path, m->table.n, ok, m->table.n - ok);
    for (int t = 0; t < m->nthreads; t++)
        fprintf(f, m->peak[t] > 0 ? "%s %d thread%s: %.1f GFLOP/s"
                                  : "%s %d thread%s: unknown",
                t ? ";" : "", m->threads[t],
                m->threads[t] == 1 ? "" : "s", m->peak[t]);
    fprintf(f, ".\n\nGFLOP/s are effective: benchdnn's FLOP count over "
               "the median time, so Winograd and FFT can pass the peak. "
               "Times are medians in milliseconds. A speed-up is the "
               "time of `onednn` (oneDNN with its preferred layout) over "
               "the algorithm's: above 1 is faster than oneDNN.\n");
    if (!d->gnuplot)
        fprintf(f, "\nCharts were not drawn: gnuplot was not found.\n");
}

int plot_summary_write(const char *path, const plot_model *m,
                       const plot_set *sets, int nsets,
                       const plot_drawn *drawn)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        bench_error("%s: cannot write: %s", path, strerror(errno));
        return 1;
    }
    head(f, m, drawn);
    for (int i = 0; i < nsets; i++) {
        fprintf(f, "\n## %s\n", sets[i].what);
        set_charts(f, &sets[i], drawn);
        if (!m->groups[sets[i].g].key[0])
            network_table(f, &sets[i]);
        layer_table(f, &sets[i]);
        auto_table(f, &sets[i]);
        phase_table(f, &sets[i]);
    }
    not_run(f, m);
    bool bad = ferror(f);
    if (fclose(f) == 0 && !bad)
        return 0;
    bench_error("%s: cannot write: %s", path, strerror(errno));
    return 1;
}
