/* `convbench merge`: joins the tables of a sharded sweep, refusing any
 * case measured twice, and writes the result atomically. */
#include "merge.h"

#include "args.h"
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int same_case(const bench_row *a, const bench_row *b)
{
    return a->threads == b->threads && strcmp(a->algo, b->algo) == 0
           && strcmp(a->desc, b->desc) == 0
           && strcmp(a->layer, b->layer) == 0;
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
            if (same_case(&m->rows[j], r)) {
                bench_error("%s:%d: duplicate of %s:%d: layer '%s', desc "
                            "'%s', algo '%s', threads %d measured twice; "
                            "shards must be disjoint", path, i + 2,
                            m->from[j].path, m->from[j].line, r->layer,
                            r->desc, r->algo, r->threads);
                return -1;
            }
        m->rows[m->n] = *r;
        m->from[m->n++] = (origin){path, i + 2};
    }
    return 0;
}

static int write_rows(FILE *f, const merged *m)
{
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

/* A temporary file beside `path`, renamed over it once complete. */
static int write_atomic(const char *path, const merged *m)
{
    char tmp[4200];
    FILE *f = NULL;
    int fd, bad;

    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd >= 0 && (f = fdopen(fd, "w")) == NULL)
        close(fd);
    if (f == NULL) {
        bench_error("%s: cannot create a temporary file beside it: %s",
                    path, strerror(errno));
        return -1;
    }
    bad = write_rows(f, m);
    bad |= fclose(f);
    if (bad == 0)
        bad = rename(tmp, path);
    if (bad != 0) {
        bench_error("%s: cannot write it: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
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

int merge_main(int argc, char **argv)
{
    merged m = {0};
    bench_rows *tables;
    int st = BENCH_EXIT_USAGE;

    if (argc >= 2 && (strcmp(argv[1], "-h") == 0
                      || strcmp(argv[1], "--help") == 0)) {
        printf("usage: convbench merge OUT.csv IN.csv...\n");
        return 0;
    }
    if (argc < 3) {
        bench_error("merge: needs OUT.csv and at least one IN.csv "
                    "(usage: convbench merge OUT.csv IN.csv...)");
        return BENCH_EXIT_USAGE;
    }
    tables = calloc((size_t)argc, sizeof *tables);
    if (tables == NULL)
        bench_error("out of memory");
    else if (read_all(argc - 2, argv + 2, &m, tables) == 0)
        st = write_atomic(argv[1], &m) == 0 ? 0 : 1;
    if (st == 0)
        printf("merged %d rows from %d file(s) into %s\n", m.n, argc - 2,
               argv[1]);
    for (int i = 0; tables != NULL && i < argc - 2; i++)
        bench_rows_free(&tables[i]);
    free(tables);
    free(m.rows);
    free(m.from);
    return st;
}
