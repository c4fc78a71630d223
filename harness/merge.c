/* `convbench merge`: joins the tables of a sharded sweep, and their
 * phases tables, refusing any case measured twice, and writes the result
 * atomically. */
#include "merge.h"

#include "args.h"
#include "csv.h"
#include "timing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4200

/* Where a row came from: its file and line (header is line 1). */
typedef struct origin {
    const char *path;
    int line;
} origin;

typedef struct merged {
    bench_row *rows;
    origin *from;
    int n, cap;
} merged;

/* One input's NAME.phases.csv; t.n == 0 when it has none. */
typedef struct phase_input {
    char path[PATH_CAP];
    bench_phases_table t;
} phase_input;

/* What identifies a case in both tables. */
typedef struct case_key {
    const char *layer, *desc, *algo;
    int threads;
} case_key;

static case_key row_key(const bench_row *r)
{
    return (case_key){r->layer, r->desc, r->algo, r->threads};
}

static case_key phases_key(const bench_phases *p)
{
    return (case_key){p->layer, p->desc, p->algo, p->threads};
}

static int same_key(case_key a, case_key b)
{
    return a.threads == b.threads && strcmp(a.algo, b.algo) == 0
           && strcmp(a.desc, b.desc) == 0 && strcmp(a.layer, b.layer) == 0;
}

static void say_duplicate(origin at, origin first, case_key k)
{
    bench_error("%s:%d: duplicate of %s:%d: layer '%s', desc '%s', algo "
                "'%s', threads %d measured twice; shards must be disjoint",
                at.path, at.line, first.path, first.line, k.layer, k.desc,
                k.algo, k.threads);
}

/* NAME.phases.csv for NAME.csv, as `bench` names it ("NAME.phases.csv"
 * for a NAME without ".csv"). Returns 0, or -1 after a message. */
static int phases_path(const char *csv, char *out, size_t n)
{
    size_t len = strlen(csv);
    int k;

    if (len > 4 && strcmp(csv + len - 4, ".csv") == 0)
        len -= 4;
    k = snprintf(out, n, "%.*s.phases.csv", (int)len, csv);
    if (k < 0 || (size_t)k >= n) {
        bench_error("%s: the path is too long", csv);
        return -1;
    }
    return 0;
}

static int grow(merged *m, int more)
{
    bench_row *rows;
    origin *from;
    int cap = m->cap;

    while (cap < m->n + more)
        cap = cap ? 2 * cap : 256;
    if (cap == m->cap)
        return 0;
    rows = realloc(m->rows, (size_t)cap * sizeof *rows);
    if (rows != NULL)
        m->rows = rows;
    from = realloc(m->from, (size_t)cap * sizeof *from);
    if (from != NULL)
        m->from = from;
    if (rows == NULL || from == NULL)
        return -1;
    m->cap = cap;
    return 0;
}

/* Adds one table's rows; -1 after a message at the first duplicate. */
static int add_table(merged *m, const char *path, const bench_rows *t)
{
    if (grow(m, t->n) != 0) {
        bench_error("%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < t->n; i++) {
        const bench_row *r = &t->rows[i];

        for (int j = 0; j < m->n; j++)
            if (same_key(row_key(&m->rows[j]), row_key(r))) {
                say_duplicate((origin){path, i + 2}, m->from[j],
                              row_key(r));
                return -1;
            }
        m->rows[m->n] = *r;
        m->from[m->n++] = (origin){path, i + 2};
    }
    return 0;
}

static int read_all(int n, char **paths, merged *m, bench_rows *tables)
{
    char err[1024];

    for (int i = 0; i < n; i++) {
        if (bench_csv_read(paths[i], &tables[i], err, sizeof err) != 0) {
            bench_error("%s", err);
            return -1;
        }
        if (add_table(m, paths[i], &tables[i]) != 0)
            return -1;
    }
    return 0;
}

/* Reads the phases table beside each input that has one. */
static int read_phases(int n, char **paths, phase_input *in)
{
    char err[PATH_CAP + 256];

    for (int i = 0; i < n; i++) {
        if (phases_path(paths[i], in[i].path, sizeof in[i].path) != 0)
            return -1;
        if (access(in[i].path, F_OK) != 0 && errno == ENOENT)
            continue;
        if (bench_phases_read(in[i].path, &in[i].t, err, sizeof err) != 0) {
            bench_error("%s", err);
            return -1;
        }
    }
    return 0;
}

/* Where an earlier phases row (before row r of input i) has row r's
 * case, into *first; 0 if none has. */
static int earlier_phases(const phase_input *in, int i, int r,
                          origin *first)
{
    case_key k = phases_key(&in[i].t.rows[r]);

    for (int a = 0; a <= i; a++)
        for (int b = 0; b < (a < i ? in[a].t.n : r); b++)
            if (same_key(k, phases_key(&in[a].t.rows[b]))) {
                *first = (origin){in[a].path, b + 2};
                return 1;
            }
    return 0;
}

/* The main table's rule: one phases row per case over all inputs.
 * Returns 0, or -1 after a message at the first duplicate. */
static int phases_disjoint(int n, const phase_input *in)
{
    origin first;

    for (int i = 0; i < n; i++)
        for (int r = 0; r < in[i].t.n; r++)
            if (earlier_phases(in, i, r, &first)) {
                say_duplicate((origin){in[i].path, r + 2}, first,
                              phases_key(&in[i].t.rows[r]));
                return -1;
            }
    return 0;
}

/* Whether the merged table holds ph's case from the table `path`. */
static int answered(const merged *m, const char *path,
                    const bench_phases *ph)
{
    for (int j = 0; j < m->n; j++)
        if (strcmp(m->from[j].path, path) == 0
            && same_key(row_key(&m->rows[j]), phases_key(ph)))
            return 1;
    return 0;
}

/*
 * Keeps only the phases rows whose case has its row in the table beside
 * them. `bench` writes a case's phases row first, so a sweep killed
 * between the two rows leaves one without its case; --resume drops it
 * too, and refusing it would refuse a table bench left valid. Each drop
 * is named. Returns the number of rows kept.
 */
static int drop_orphans(const merged *m, int n, char **paths,
                        phase_input *in)
{
    int total = 0;

    for (int i = 0; i < n; i++) {
        bench_phases *rows = in[i].t.rows;
        int kept = 0;

        for (int r = 0; r < in[i].t.n; r++) {
            case_key k = phases_key(&rows[r]);

            if (answered(m, paths[i], &rows[r]))
                rows[kept++] = rows[r];
            else
                bench_error("%s:%d: layer '%s', desc '%s', algo '%s', "
                            "threads %d has no row in %s (a sweep killed "
                            "between the case's two rows); phases row "
                            "dropped",
                            in[i].path, r + 2, k.layer, k.desc, k.algo,
                            k.threads, paths[i]);
        }
        in[i].t.n = kept;
        total += kept;
    }
    return total;
}

static int write_rows(FILE *f, const void *data)
{
    const merged *m = data;
    char line[2048];

    if (fputs(BENCH_CSV_HEADER "\n", f) == EOF)
        return -1;
    for (int i = 0; i < m->n; i++) {
        if (bench_csv_format(&m->rows[i], line, sizeof line) < 0) {
            errno = EOVERFLOW;
            return -1;
        }
        if (fputs(line, f) == EOF)
            return -1;
    }
    if (fflush(f) != 0)
        return -1;
    return fsync(fileno(f));
}

/* The phases tables of the inputs, in their order. */
typedef struct phase_set {
    const phase_input *in;
    int n;
} phase_set;

static int write_phase_rows(FILE *f, const void *data)
{
    const phase_set *ps = data;

    if (fputs(BENCH_PHASES_HEADER "\n", f) == EOF)
        return -1;
    for (int i = 0; i < ps->n; i++)
        for (int r = 0; r < ps->in[i].t.n; r++)
            if (bench_phases_append(f, &ps->in[i].t.rows[r]) != 0)
                return -1;
    if (fflush(f) != 0)
        return -1;
    return fsync(fileno(f));
}

/* The whole file, written by put, in a temporary beside `path` whose
 * name goes into tmp[PATH_CAP]. Returns 0, or -1 after a message. */
static int write_temp(const char *path, char *tmp,
                      int (*put)(FILE *, const void *), const void *data)
{
    FILE *f = NULL;
    int fd = -1, bad;

    if (snprintf(tmp, PATH_CAP, "%s.tmpXXXXXX", path) < PATH_CAP)
        fd = mkstemp(tmp);
    /* mkstemp makes it private; a results table is as readable as the
     * ones bench writes. */
    if (fd >= 0 && fchmod(fd, 0644) != 0) {
        close(fd);
        unlink(tmp);
        fd = -1;
    }
    if (fd >= 0 && (f = fdopen(fd, "w")) == NULL)
        close(fd);
    if (f == NULL) {
        bench_error("%s: cannot create a temporary file beside it: %s",
                    path, strerror(errno));
        tmp[0] = '\0';
        return -1;
    }
    bad = put(f, data);
    bad |= fclose(f);
    if (bad != 0) {
        bench_error("%s: cannot write it: %s", path, strerror(errno));
        unlink(tmp);
        tmp[0] = '\0';
        return -1;
    }
    return 0;
}

/*
 * Puts the temporaries in place. The old OUT.phases.csv goes first, so
 * that stopping half-way leaves OUT.csv without a phases table, never
 * beside one from another merge. Returns 0, or -1 after a message.
 */
static int install(const char *out, const char *tmp, const char *pout,
                   const char *ptmp)
{
    if (unlink(pout) != 0 && errno != ENOENT) {
        bench_error("%s: cannot remove the old phases table: %s", pout,
                    strerror(errno));
        return -1;
    }
    if (rename(tmp, out) != 0) {
        bench_error("%s: cannot write it: %s", out, strerror(errno));
        return -1;
    }
    if (ptmp[0] != '\0' && rename(ptmp, pout) != 0) {
        bench_error("%s: cannot write it: %s", pout, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes OUT.csv, and OUT.phases.csv if any phases row was kept, else
 * removes it. Returns 0 or -1 (neither file half-written). */
static int write_all(const char *out, const char *pout, const merged *m,
                     const phase_set *ps, int nphases)
{
    char tmp[PATH_CAP] = "", ptmp[PATH_CAP] = "";
    int st = -1;

    if (write_temp(out, tmp, write_rows, m) == 0
        && (nphases == 0
            || write_temp(pout, ptmp, write_phase_rows, ps) == 0))
        st = install(out, tmp, pout, ptmp);

    /* After a failure; a temporary already renamed is gone anyway. */
    if (st != 0 && tmp[0] != '\0')
        unlink(tmp);
    if (st != 0 && ptmp[0] != '\0')
        unlink(ptmp);
    return st;
}

/* Reads, checks and joins every input, then writes both outputs. */
static int merge_files(const char *out, int n, char **paths,
                       bench_rows *tables, phase_input *in)
{
    merged m = {0};
    phase_set ps = {in, n};
    char pout[PATH_CAP];
    int st = BENCH_EXIT_USAGE, nphases = 0;

    if (phases_path(out, pout, sizeof pout) == 0
        && read_all(n, paths, &m, tables) == 0
        && read_phases(n, paths, in) == 0
        && phases_disjoint(n, in) == 0) {
        nphases = drop_orphans(&m, n, paths, in);
        st = write_all(out, pout, &m, &ps, nphases) == 0 ? 0 : 1;
    }
    if (st == 0)
        printf("merged %d rows from %d file(s) into %s\n", m.n, n, out);
    if (st == 0 && nphases > 0)
        printf("merged %d phases rows into %s\n", nphases, pout);
    free(m.rows);
    free(m.from);
    return st;
}

/* ---- --median: repeated runs of the same cases -------------------- */

/* Row j of table t with r's case, or -1. */
static int find_case(const bench_rows *t, const bench_row *r)
{
    for (int j = 0; j < t->n; j++)
        if (same_key(row_key(&t->rows[j]), row_key(r)))
            return j;
    return -1;
}

/* Whether field `what` of row r of run i (`here`) differs from the
 * first run's row `at` (`there`); 1 after a message. */
static int alike(char **paths, const bench_rows *t, int i, int r, int at,
                 const char *what, const char *here, const char *there)
{
    case_key k = row_key(&t[i].rows[r]);

    if (strcmp(here, there) == 0)
        return 0;
    bench_error("%s:%d: layer '%s', algo '%s', threads %d: %s '%s' here, "
                "'%s' at %s:%d; a median needs the same %s in every run",
                paths[i], r + 2, k.layer, k.algo, k.threads, what, here,
                there, paths[0], at + 2, what);
    return 1;
}

/* Where row r of run i breaks the rule of a median: the first run's
 * cases, once each, with the same status and implementation (auto's
 * pick included). 0, or -1 after a message. */
static int check_case(char **paths, const bench_rows *t, int i, int r)
{
    const bench_row *row = &t[i].rows[r];
    int at = find_case(&t[0], row), first = find_case(&t[i], row);
    case_key k = row_key(row);

    if (first < r) {
        bench_error("%s:%d: layer '%s', algo '%s', threads %d is also at "
                    "line %d: a run holds each case once", paths[i],
                    r + 2, k.layer, k.algo, k.threads, first + 2);
        return -1;
    }
    if (at < 0) {
        bench_error("%s:%d: layer '%s', algo '%s', threads %d is not in "
                    "%s: the runs of a median must hold the same cases",
                    paths[i], r + 2, k.layer, k.algo, k.threads, paths[0]);
        return -1;
    }
    return alike(paths, t, i, r, at, "status", row->status,
                 t[0].rows[at].status)
           || alike(paths, t, i, r, at, "implementation", row->impl,
                    t[0].rows[at].impl) ? -1 : 0;
}

/* Every input holds exactly the first one's cases, once each, with the
 * same status. Returns 0, or -1 after a message naming the place. */
static int same_cases(int n, char **paths, const bench_rows *t)
{
    for (int i = 0; i < n; i++) {
        if (t[i].n != t[0].n) {
            bench_error("%s: %d row(s), %s %d: the runs of a median must "
                        "hold the same cases", paths[i], t[i].n, paths[0],
                        t[0].n);
            return -1;
        }
        for (int r = 0; r < t[i].n; r++)
            if (check_case(paths, t, i, r) != 0)
                return -1;
    }
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Row r of the first table with the median time over the n tables, the
 * smallest minimum, and GFLOP/s and peak fraction at the median. */
static bench_row median_row(int n, const bench_rows *t, int r, double *v)
{
    bench_row out = t[0].rows[r];

    if (strcmp(out.status, "ok") != 0)
        return out;
    for (int i = 0; i < n; i++) {
        const bench_row *x = &t[i].rows[find_case(&t[i], &out)];

        v[i] = x->time_ms;
        if (x->time_min_ms < out.time_min_ms)
            out.time_min_ms = x->time_min_ms;
    }
    qsort(v, (size_t)n, sizeof *v, by_value);
    out.time_ms = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out.gflops *= t[0].rows[r].time_ms / out.time_ms;
    out.peak_fraction *= t[0].rows[r].time_ms / out.time_ms;
    return out;
}

/* Reads the n runs and checks they hold the same cases. Returns 0, or
 * -1 after a message. */
static int read_runs(int n, char **paths, bench_rows *t)
{
    char err[1024];

    for (int i = 0; i < n; i++)
        if (bench_csv_read(paths[i], &t[i], err, sizeof err) != 0) {
            bench_error("%s", err);
            return -1;
        }
    return same_cases(n, paths, t);
}

/* OUT.csv from n runs of the same cases; OUT.phases.csv is removed. */
static int median_files(const char *out, int n, char **paths,
                        bench_rows *t)
{
    merged m = {0};
    char pout[PATH_CAP];
    double *v = calloc((size_t)n, sizeof *v);
    int st = BENCH_EXIT_USAGE;

    if (v == NULL)
        bench_error("out of memory");
    else if (phases_path(out, pout, sizeof pout) == 0
             && read_runs(n, paths, t) == 0) {
        if (grow(&m, t[0].n) != 0) {
            bench_error("out of memory");
            st = 1;
        } else {
            for (m.n = 0; m.n < t[0].n; m.n++)
                m.rows[m.n] = median_row(n, t, m.n, v);
            st = write_all(out, pout, &m, NULL, 0) == 0 ? 0 : 1;
        }
    }
    if (st == 0)
        printf("wrote the medians of %d rows over %d run(s) into %s\n",
               m.n, n, out);
    free(v);
    free(m.rows);
    free(m.from);
    return st;
}

/* merge --median OUT.csv IN.csv... */
static int median_main(int argc, char **argv)
{
    bench_rows *tables;
    int st = BENCH_EXIT_USAGE;

    if (argc < 3) {
        bench_error("merge --median: needs OUT.csv and at least one "
                    "IN.csv (usage: convbench merge --median OUT.csv "
                    "IN.csv...)");
        return BENCH_EXIT_USAGE;
    }
    tables = calloc((size_t)argc, sizeof *tables);
    if (tables == NULL)
        bench_error("out of memory");
    else
        st = median_files(argv[1], argc - 2, argv + 2, tables);
    for (int i = 0; tables != NULL && i < argc - 2; i++)
        bench_rows_free(&tables[i]);
    free(tables);
    return st;
}

int merge_main(int argc, char **argv)
{
    bench_rows *tables;
    phase_input *in;
    int st = BENCH_EXIT_USAGE;

    if (argc >= 2 && (strcmp(argv[1], "-h") == 0
                      || strcmp(argv[1], "--help") == 0)) {
        printf("usage: convbench merge [--median] OUT.csv IN.csv...\n");
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--median") == 0)
        return median_main(argc - 1, argv + 1);
    if (argc < 3) {
        bench_error("merge: needs OUT.csv and at least one IN.csv "
                    "(usage: convbench merge OUT.csv IN.csv...)");
        return BENCH_EXIT_USAGE;
    }
    tables = calloc((size_t)argc, sizeof *tables);
    in = calloc((size_t)argc, sizeof *in);
    if (tables == NULL || in == NULL)
        bench_error("out of memory");
    else
        st = merge_files(argv[1], argc - 2, argv + 2, tables, in);
    for (int i = 0; tables != NULL && in != NULL && i < argc - 2; i++) {
        bench_rows_free(&tables[i]);
        bench_phases_table_free(&in[i].t);
    }
    free(tables);
    free(in);
    return st;
}
