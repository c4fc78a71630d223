/* The bench CSV indexed for plotting: groups, layers, algorithms, sets. */
#include "plot_model.h"
#include "args.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool plot_row_ok(const bench_row *r)
{
    return strcmp(r->status, "ok") == 0;
}

bool plot_is_ours(const char *algo)
{
    return strcmp(algo, "onednn") && strcmp(algo, "onednn_nchw")
           && strcmp(algo, "naive");
}

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Keeps letters, digits, '-', '_' and '.'; anything else becomes '_'. */
static char file_char(char ch)
{
    bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')
                 || (ch >= 'A' && ch <= 'Z');
    return alnum || (ch && strchr("-_.", ch)) ? ch : '_';
}

static int add_group(plot_model *m, const bench_row *r)
{
    const char *colon = strchr(r->layer, ':');
    char name[96];

    if (colon && colon > r->layer)
        snprintf(name, sizeof name, "%.*s", (int)(colon - r->layer),
                 r->layer);
    else
        snprintf(name, sizeof name, "%s", r->suite);
    for (int g = 0; g < m->ngroups; g++)
        if (strcmp(m->groups[g].name, name) == 0)
            return g;

    plot_group *g = &m->groups[m->ngroups];
    snprintf(g->name, sizeof g->name, "%s", name);
    for (int i = 0; name[i]; i++)
        g->stem[i] = file_char(name[i]);
    if (g->stem[0] == '\0')
        snprintf(g->stem, sizeof g->stem, "unnamed");
    return m->ngroups++;
}

/* A layer is its name and descriptor within a group. */
static int add_layer(plot_model *m, const bench_row *r, int g)
{
    const char *colon = strchr(r->layer, ':');

    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].group == g && !strcmp(m->layers[i].name, r->layer)
            && !strcmp(m->layers[i].desc, r->desc))
            return i;

    plot_layer *l = &m->layers[m->nlayers];
    *l = (plot_layer){g, r->layer, r->desc, colon ? colon + 1 : r->layer,
                      r->count, 0};
    if (l->label[0] == '\0')
        l->label = l->desc;
    return m->nlayers++;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The peak the ok rows imply (gflops / peak_fraction): their median. */
static double peak_of(const plot_model *m, int ti, double *scratch)
{
    int n = 0;

    for (int i = 0; i < m->table.n; i++) {
        const bench_row *r = &m->table.rows[i];
        if (plot_row_ok(r) && m->row_ti[i] == ti && r->peak_fraction > 0)
            scratch[n++] = r->gflops / r->peak_fraction;
    }
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_double);
    return n ? scratch[n / 2] : 0;
}

/* Whether the whole of s is a number; false for empty text. */
static bool parse_number(const char *s, double *v)
{
    char *end;

    *v = strtod(s, &end);
    return *s != '\0' && *end == '\0' && isfinite(*v);
}

/* A "sweep_" group whose labels are all KEY=VALUE with one KEY. */
static void find_sweep(plot_model *m, int g)
{
    plot_group *gr = &m->groups[g];
    char key[32] = "";

    if (strncmp(gr->name, "sweep", 5) != 0)
        return;
    for (int i = 0; i < m->nlayers; i++) {
        plot_layer *l = &m->layers[i];
        const char *eq = strchr(l->label, '=');
        if (l->group != g)
            continue;
        if (!eq || eq == l->label || eq - l->label >= (long)sizeof key
            || !parse_number(eq + 1, &l->x))
            return;
        size_t klen = (size_t)(eq - l->label);
        if (key[0] && (klen != strlen(key) || strncmp(key, l->label, klen)))
            return;
        snprintf(key, sizeof key, "%.*s", (int)klen, l->label);
    }
    snprintf(gr->key, sizeof gr->key, "%s", key);
}

/* Names every group, layer, algorithm and thread count the rows use. */
static int index_rows(plot_model *m)
{
    size_t n = (size_t)m->table.n;

    m->row_layer = calloc(n, sizeof *m->row_layer);
    m->row_algo = calloc(n, sizeof *m->row_algo);
    m->row_ti = calloc(n, sizeof *m->row_ti);
    m->layers = calloc(n, sizeof *m->layers);
    m->groups = calloc(n, sizeof *m->groups);
    m->algos = calloc(n, sizeof *m->algos);
    m->threads = calloc(n, sizeof *m->threads);
    if (!m->row_layer || !m->row_algo || !m->row_ti || !m->layers
        || !m->groups || !m->algos || !m->threads)
        return -1;
    for (int i = 0; i < m->table.n; i++) {
        const bench_row *r = &m->table.rows[i];
        int a = find_name(m->algos, m->nalgos, r->algo);
        m->row_layer[i] = add_layer(m, r, add_group(m, r));
        if (a < 0)
            m->algos[a = m->nalgos++] = r->algo;
        m->row_algo[i] = a;
        if (!bsearch(&r->threads, m->threads, (size_t)m->nthreads,
                     sizeof *m->threads, cmp_int)) {
            m->threads[m->nthreads++] = r->threads;
            qsort(m->threads, (size_t)m->nthreads, sizeof *m->threads,
                  cmp_int);
        }
    }
    m->onednn = find_name(m->algos, m->nalgos, "onednn");
    return 0;
}

/* Fills the cell table and the peaks; 0, or -1 when out of memory. */
static int build(plot_model *m)
{
    if (index_rows(m) < 0)
        return -1;
    size_t ncell = (size_t)m->nlayers * m->nalgos * m->nthreads;
    double *scratch = calloc((size_t)m->table.n, sizeof *scratch);
    m->cell = calloc(ncell, sizeof *m->cell);
    m->peak = calloc((size_t)m->nthreads, sizeof *m->peak);
    if (!m->cell || !m->peak || !scratch) {
        free(scratch);
        return -1;
    }

    /* A later row for the same case replaces an earlier one. */
    for (int i = 0; i < m->table.n; i++) {
        const bench_row *r = &m->table.rows[i];
        int *t = bsearch(&r->threads, m->threads, (size_t)m->nthreads,
                         sizeof *m->threads, cmp_int);
        m->row_ti[i] = (int)(t - m->threads);
        m->cell[((size_t)m->row_layer[i] * m->nalgos + m->row_algo[i])
                * m->nthreads + m->row_ti[i]] = r;
    }
    for (int t = 0; t < m->nthreads; t++)
        m->peak[t] = peak_of(m, t, scratch);
    for (int g = 0; g < m->ngroups; g++)
        find_sweep(m, g);
    free(scratch);
    return 0;
}

/* The index of the ok row a phases row is about, or -1. */
static int row_of_phases(const plot_model *m, const bench_phases *ph)
{
    for (int i = m->table.n - 1; i >= 0; i--) {
        const bench_row *r = &m->table.rows[i];
        if (plot_row_ok(r) && r->threads == ph->threads
            && !strcmp(r->algo, ph->algo) && !strcmp(r->desc, ph->desc)
            && !strcmp(r->layer, ph->layer) && !strcmp(r->suite, ph->suite))
            return i;
    }
    return -1;
}

/* Reads NAME.phases.csv, if NAME.csv has one, into m->pcell. Returns 0,
 * 2 after a message for a malformed file, -1 when out of memory. */
static int load_phases(plot_model *m)
{
    size_t len = strlen(m->path), ncell;
    char path[4096], err[1024];

    if (len < 5 || strcmp(m->path + len - 4, ".csv") != 0
        || len + 8 > sizeof path)
        return 0;
    snprintf(path, sizeof path, "%.*s.phases.csv", (int)(len - 4), m->path);
    if (access(path, F_OK) != 0)
        return 0;
    if (bench_phases_read(path, &m->phases, err, sizeof err) != 0) {
        bench_error("%s", err);
        return BENCH_EXIT_USAGE;
    }
    ncell = (size_t)m->nlayers * m->nalgos * m->nthreads;
    m->pcell = calloc(ncell, sizeof *m->pcell);
    if (!m->pcell)
        return -1;
    for (int i = 0; i < m->phases.n; i++) {
        const bench_phases *ph = &m->phases.rows[i];
        int r = row_of_phases(m, ph);
        if (r >= 0 && ph->total_ms > 0)
            m->pcell[((size_t)m->row_layer[r] * m->nalgos + m->row_algo[r])
                     * m->nthreads + m->row_ti[r]] = ph;
    }
    return 0;
}

int plot_model_load(plot_model *m)
{
    char err[1024];
    int ok = 0;

    if (bench_csv_read(m->path, &m->table, err, sizeof err) != 0) {
        bench_error("%s", err);
        return BENCH_EXIT_USAGE;
    }
    for (int i = 0; i < m->table.n; i++)
        ok += plot_row_ok(&m->table.rows[i]);
    if (ok == 0) {
        bench_error("%s: no row has status 'ok' (%d row%s): nothing to "
                    "plot", m->path, m->table.n, m->table.n == 1 ? "" : "s");
        return BENCH_EXIT_USAGE;
    }
    if (build(m) < 0)
        return 1;
    ok = load_phases(m);
    return ok < 0 ? 1 : ok;
}

void plot_model_free(plot_model *m)
{
    bench_rows_free(&m->table);
    free(m->row_layer);
    free(m->row_algo);
    free(m->row_ti);
    free(m->layers);
    free(m->groups);
    free(m->algos);
    free(m->threads);
    free(m->peak);
    free(m->cell);
    bench_phases_table_free(&m->phases);
    free(m->pcell);
}

/* ---- Sets ---------------------------------------------------------- */

static const bench_row *cell(const plot_set *s, int l, int a)
{
    const plot_model *m = s->m;
    return m->cell[((size_t)l * m->nalgos + a) * m->nthreads + s->ti];
}

const bench_row *plot_ok_cell(const plot_set *s, int l, int a)
{
    const bench_row *r = cell(s, l, a);
    return r && plot_row_ok(r) ? r : NULL;
}

const bench_phases *plot_phases_cell(const plot_set *s, int l, int a)
{
    const plot_model *m = s->m;

    if (!m->pcell || !plot_ok_cell(s, l, a))
        return NULL;
    return m->pcell[((size_t)l * m->nalgos + a) * m->nthreads + s->ti];
}

static void sort_by_x(const plot_model *m, int *idx, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && m->layers[idx[j]].x
                                 < m->layers[idx[j - 1]].x; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

/* "resnet_50, batch 1, 2 threads"; the batch when every layer shares it. */
static void describe_set(plot_set *s)
{
    const plot_model *m = s->m;
    long batch = 0;

    for (int i = 0; i < s->nlayers; i++) {
        const char *desc = m->layers[s->layers[i]].desc;
        long mb = strncmp(desc, "mb", 2) == 0 ? atol(desc + 2) : 0;
        batch = i == 0 || mb == batch ? mb : 0;
    }
    int t = m->threads[s->ti];
    char mb[32] = "";
    if (batch > 0)
        snprintf(mb, sizeof mb, ", batch %ld", batch);
    snprintf(s->what, sizeof s->what, "%s%s, %d thread%s",
             m->groups[s->g].name, mb, t, t == 1 ? "" : "s");
}

int plot_set_init(plot_set *s, const plot_model *m, int g, int ti,
                  bool suffix)
{
    *s = (plot_set){.m = m, .g = g, .ti = ti};
    s->layers = calloc((size_t)m->nlayers, sizeof *s->layers);
    s->algos = calloc((size_t)m->nalgos, sizeof *s->algos);
    if (!s->layers || !s->algos)
        return -1;
    for (int l = 0; l < m->nlayers; l++) {
        bool any = false;
        for (int a = 0; a < m->nalgos; a++)
            any |= cell(s, l, a) != NULL;
        if (any && m->layers[l].group == g)
            s->layers[s->nlayers++] = l;
    }
    for (int a = 0; a < m->nalgos; a++) {
        bool any = false;
        for (int i = 0; i < s->nlayers; i++)
            any |= plot_ok_cell(s, s->layers[i], a) != NULL;
        if (any)
            s->algos[s->nalgos++] = a;
    }
    if (m->groups[g].key[0])
        sort_by_x(m, s->layers, s->nlayers);
    snprintf(s->stem, sizeof s->stem, "%s", m->groups[g].stem);
    if (suffix)
        snprintf(s->stem + strlen(s->stem), sizeof s->stem
                 - strlen(s->stem), "_t%d", m->threads[ti]);
    describe_set(s);
    return s->nalgos > 0;
}

void plot_set_free(plot_set *s)
{
    free(s->layers);
    free(s->algos);
}

bool plot_many_threads(const plot_model *m, int g)
{
    int first = -1;

    for (int i = 0; i < m->table.n; i++) {
        const bench_row *r = &m->table.rows[i];
        if (m->layers[m->row_layer[i]].group != g)
            continue;
        if (first >= 0 && r->threads != first)
            return true;
        first = r->threads;
    }
    return false;
}
