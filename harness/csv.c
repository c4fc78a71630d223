/* The results table: writing rows whole and reading them back. */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COLUMNS 13
#define MAX_FIELDS 64

bench_row bench_row_empty(void)
{
    bench_row r;

    memset(&r, 0, sizeof r);
    r.count = 1;
    r.threads = 1;
    r.time_ms = r.time_min_ms = r.gflops = r.peak_fraction = NAN;
    r.workspace_bytes = -1;
    return r;
}

/* ---- writing ---- */

int bench_csv_field(const char *text, char *out, size_t n)
{
    int quote = strpbrk(text, ",\"") != NULL;
    size_t len = 0;

    if (quote && len < n)
        out[len++] = '"';
    for (const char *c = text; *c != '\0' && len < n; c++) {
        if (*c == '"')
            out[len++] = '"';
        if (len < n)
            out[len++] = *c == '\n' || *c == '\r' ? ' ' : *c;
    }
    if (quote && len < n)
        out[len++] = '"';
    if (len >= n)
        return -1;
    out[len] = '\0';
    return (int)len;
}

/* Appends the field and a separator at line[*at]; -1 if out of room. */
static int put_text(char *line, size_t n, size_t *at, const char *text,
                    char sep)
{
    int len = bench_csv_field(text, line + *at, n - *at);

    if (len < 0 || *at + (size_t)len + 1 >= n)
        return -1;
    *at += (size_t)len;
    line[(*at)++] = sep;
    line[*at] = '\0';
    return 0;
}

static int put_number(char *line, size_t n, size_t *at, double v, char sep)
{
    char num[64] = "";

    if (!isnan(v))
        snprintf(num, sizeof num, "%.6g", v);
    return put_text(line, n, at, num, sep);
}

static int put_int(char *line, size_t n, size_t *at, int64_t v, char sep)
{
    char num[32] = "";

    if (v >= 0)
        snprintf(num, sizeof num, "%lld", (long long)v);
    return put_text(line, n, at, num, sep);
}

int bench_csv_format(const bench_row *r, char *line, size_t n)
{
    size_t at = 0;
    int bad = 0;

    bad |= put_text(line, n, &at, r->suite, ',');
    bad |= put_text(line, n, &at, r->layer, ',');
    bad |= put_int(line, n, &at, r->count, ',');
    bad |= put_text(line, n, &at, r->desc, ',');
    bad |= put_text(line, n, &at, r->algo, ',');
    bad |= put_text(line, n, &at, r->impl, ',');
    bad |= put_int(line, n, &at, r->threads, ',');
    bad |= put_text(line, n, &at, r->status, ',');
    bad |= put_number(line, n, &at, r->time_ms, ',');
    bad |= put_number(line, n, &at, r->time_min_ms, ',');
    bad |= put_number(line, n, &at, r->gflops, ',');
    bad |= put_number(line, n, &at, r->peak_fraction, ',');
    bad |= put_int(line, n, &at, r->workspace_bytes, '\n');
    return bad ? -1 : (int)at;
}

/* Writes all of text and makes it durable before returning. */
static int write_synced(FILE *f, const char *text)
{
    size_t len = strlen(text);

    if (fwrite(text, 1, len, f) != len || fflush(f) != 0)
        return -1;
    return fsync(fileno(f)) == 0 || errno == EINVAL ? 0 : -1;
}

FILE *bench_csv_open(const char *path, int keep, char *err, size_t n)
{
    FILE *f = fopen(path, keep ? "a" : "w");

    if (f == NULL) {
        snprintf(err, n, "%s: cannot open for writing: %s", path,
                 strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < 0) {
        snprintf(err, n, "%s: cannot seek: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    if (ftell(f) == 0 && write_synced(f, BENCH_CSV_HEADER "\n") != 0) {
        snprintf(err, n, "%s: cannot write: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    return f;
}

int bench_csv_append(FILE *f, const bench_row *r)
{
    /* Room for every field of a bench_row at its longest, quotes doubled. */
    char line[4096];

    if (bench_csv_format(r, line, sizeof line) < 0)
        return -1;
    return write_synced(f, line);
}

/* ---- reading ---- */

/* Where a read is and how to complain about it. */
typedef struct csv_reader {
    const char *path;
    long line;
    char *err;
    size_t n;
} csv_reader;

static int bad_line(const csv_reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad_line(const csv_reader *rd, const char *fmt, ...)
{
    int at = snprintf(rd->err, rd->n, "%s:%ld: ", rd->path, rd->line);
    va_list ap;

    if (at >= 0 && (size_t)at < rd->n) {
        va_start(ap, fmt);
        vsnprintf(rd->err + at, rd->n - (size_t)at, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads one quoted field at *s into *out; -1 with *why on a bad quote. */
static int unquote(char **s, char **out, const char **why)
{
    char *c = *s + 1;

    for (;;) {
        if (*c == '\0') {
            *why = "a quoted field is not closed";
            return -1;
        }
        if (*c == '"' && c[1] != '"')
            break;
        c += *c == '"';
        *(*out)++ = *c++;
    }
    c++;
    if (*c != ',' && *c != '\0') {
        *why = "text follows the closing quote of a field";
        return -1;
    }
    *s = c;
    return 0;
}

/*
 * Splits line s in place into fields, removing quotes (the unquoted text
 * is never longer, so it is written over the line as it is read).
 * Returns the field count, or -1 with *why.
 */
static int split(char *s, char **fields, const char **why)
{
    char *out = s;
    int n = 0;

    for (;;) {
        if (n == MAX_FIELDS) {
            *why = "far too many fields";
            return -1;
        }
        fields[n++] = out;
        if (*s == '"' && unquote(&s, &out, why) != 0)
            return -1;
        for (; *s != ',' && *s != '\0'; *out++ = *s++)
            if (*s == '"') {
                *why = "a quote inside an unquoted field";
                return -1;
            }
        if (*s++ == '\0')
            break;
        *out++ = '\0';
    }
    *out = '\0';
    return n;
}

static const char *const column[COLUMNS] = {
    "suite", "layer", "count", "desc", "algo", "impl", "threads", "status",
    "time_ms", "time_min_ms", "gflops", "peak_fraction", "workspace_bytes",
};

static int copy_text(const csv_reader *rd, int col, const char *text,
                     char *dst, size_t n)
{
    if (strlen(text) >= n)
        return bad_line(rd, "%s: longer than %zu characters", column[col],
                        n - 1);
    memcpy(dst, text, strlen(text) + 1);
    return 0;
}

static int copy_int(const csv_reader *rd, int col, const char *text,
                    int64_t min, int64_t max, int64_t *dst)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || v < min
        || v > max)
        return bad_line(rd, "%s '%s': must be an integer from %lld to "
                        "%lld", column[col], text, (long long)min,
                        (long long)max);
    *dst = v;
    return 0;
}

/* A number of an "ok" row (empty allowed if `optional`), else empty. */
static int copy_number(const csv_reader *rd, int col, const char *text,
                       int ok, int optional, double *dst)
{
    char *end = NULL;

    *dst = NAN;
    if (text[0] == '\0' && (!ok || optional))
        return 0;
    if (!ok)
        return bad_line(rd, "%s '%s': must be empty when status is not "
                        "'ok'", column[col], text);
    *dst = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || !isfinite(*dst) || *dst < 0)
        return bad_line(rd, "%s '%s': must be a non-negative number",
                        column[col], text);
    return 0;
}

static int copy_status(const csv_reader *rd, const char *text, bench_row *r)
{
    if (strcmp(text, "ok") != 0 && strncmp(text, "n/a:", 4) != 0
        && strncmp(text, "error:", 6) != 0)
        return bad_line(rd, "status '%s': must be 'ok', 'n/a:REASON' or "
                        "'error:REASON'", text);
    return copy_text(rd, 7, text, r->status, sizeof r->status);
}

static int copy_workspace(const csv_reader *rd, const char *text, int ok,
                          bench_row *r)
{
    r->workspace_bytes = -1;
    if (text[0] == '\0' && !ok)
        return 0;
    if (!ok)
        return bad_line(rd, "workspace_bytes '%s': must be empty when "
                        "status is not 'ok'", text);
    return copy_int(rd, 12, text, 0, INT64_MAX, &r->workspace_bytes);
}

/* Fills r from the 13 fields of one line, checking each. */
static int parse_fields(const csv_reader *rd, char **f, bench_row *r)
{
    int64_t count = 0, threads = 0;
    int ok;

    *r = bench_row_empty();
    if (copy_text(rd, 0, f[0], r->suite, sizeof r->suite)
        || copy_text(rd, 1, f[1], r->layer, sizeof r->layer)
        || copy_int(rd, 2, f[2], 1, INT32_MAX, &count)
        || copy_text(rd, 3, f[3], r->desc, sizeof r->desc)
        || copy_text(rd, 4, f[4], r->algo, sizeof r->algo)
        || copy_text(rd, 5, f[5], r->impl, sizeof r->impl)
        || copy_int(rd, 6, f[6], 1, INT32_MAX, &threads)
        || copy_status(rd, f[7], r))
        return -1;
    r->count = (int)count;
    r->threads = (int)threads;

    ok = strcmp(r->status, "ok") == 0;
    if (copy_number(rd, 8, f[8], ok, 0, &r->time_ms)
        || copy_number(rd, 9, f[9], ok, 0, &r->time_min_ms)
        || copy_number(rd, 10, f[10], ok, 0, &r->gflops)
        || copy_number(rd, 11, f[11], ok, 1, &r->peak_fraction)
        || copy_workspace(rd, f[12], ok, r))
        return -1;
    if (r->algo[0] == '\0' || r->desc[0] == '\0')
        return bad_line(rd, "%s: must not be empty",
                        r->algo[0] == '\0' ? "algo" : "desc");
    return 0;
}

/* Strips the line's end; a line without one was cut off mid-write. */
static int chomp(const csv_reader *rd, char *line, ssize_t len)
{
    if (len == 0 || line[len - 1] != '\n')
        return bad_line(rd, "the last line is incomplete (no line end): "
                        "the file was cut while being written");
    line[--len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    return 0;
}

static int parse_line(const csv_reader *rd, char *line, ssize_t len,
                      bench_row *r)
{
    char *fields[MAX_FIELDS];
    const char *why = NULL;
    int n;

    if (chomp(rd, line, len) != 0)
        return -1;
    if (rd->line == 1) {
        if (strcmp(line, BENCH_CSV_HEADER) != 0)
            return bad_line(rd, "the header is not the convbench header '"
                            BENCH_CSV_HEADER "'");
        return 0;
    }
    if (line[0] == '\0')
        return bad_line(rd, "empty line");
    n = split(line, fields, &why);
    if (n < 0)
        return bad_line(rd, "%s", why);
    if (n != COLUMNS)
        return bad_line(rd, "%d fields, the table has %d columns", n,
                        COLUMNS);
    return parse_fields(rd, fields, r);
}

static int push_row(bench_rows *t, const bench_row *r, int *cap)
{
    if (t->n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        bench_row *rows = realloc(t->rows, (size_t)c * sizeof *rows);

        if (rows == NULL)
            return -1;
        t->rows = rows;
        *cap = c;
    }
    t->rows[t->n++] = *r;
    return 0;
}

/* Reads every line after the header; -1 with a message on the first bad
 * one. */
static int read_rows(FILE *f, csv_reader *rd, bench_rows *out)
{
    char *line = NULL;
    size_t size = 0;
    ssize_t len;
    int cap = 0, st = 0;
    bench_row r;

    while (st == 0 && (len = getline(&line, &size, f)) >= 0) {
        rd->line++;
        st = parse_line(rd, line, len, &r);
        if (st == 0 && rd->line > 1 && push_row(out, &r, &cap) != 0)
            st = bad_line(rd, "out of memory");
    }
    if (st == 0 && rd->line++ == 0)
        st = bad_line(rd, "empty file, expected the header '"
                      BENCH_CSV_HEADER "'");
    free(line);
    return st;
}

int bench_csv_read(const char *path, bench_rows *out, char *err, size_t n)
{
    csv_reader rd = {path, 0, err, n};
    FILE *f = fopen(path, "r");
    int st;

    memset(out, 0, sizeof *out);
    if (f == NULL) {
        snprintf(err, n, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    st = read_rows(f, &rd, out);
    fclose(f);
    if (st == 0 && out->n > 0)
        out->taken = calloc((size_t)out->n, 1);
    if (st == 0 && out->n > 0 && out->taken == NULL)
        st = bad_line(&rd, "out of memory");
    if (st != 0)
        bench_rows_free(out);
    return st;
}

static int same_case(const bench_row *a, const bench_row *b)
{
    return a->threads == b->threads && strcmp(a->algo, b->algo) == 0
           && strcmp(a->desc, b->desc) == 0
           && strcmp(a->layer, b->layer) == 0
           && strcmp(a->suite, b->suite) == 0;
}

int bench_rows_take(bench_rows *t, const bench_row *key)
{
    for (int i = 0; i < t->n; i++)
        if (!t->taken[i] && same_case(&t->rows[i], key)) {
            t->taken[i] = 1;
            return 1;
        }
    return 0;
}

void bench_rows_free(bench_rows *t)
{
    free(t->rows);
    free(t->taken);
    memset(t, 0, sizeof *t);
}
