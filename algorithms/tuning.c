/* The tuning cache of "auto": its path, keys, reading, lookup, writing. */
#include "tuning.h"

#include "algo.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELDS 5

int conv_tuning_default_path(char *buf, size_t n)
{
    const char *env = getenv("CONVBENCH_TUNING");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    if (env && *env)
        snprintf(buf, n, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, n, "%s/convbench/tuning.txt", xdg);
    else if (home && *home)
        snprintf(buf, n, "%s/.cache/convbench/tuning.txt", home);
    else {
        snprintf(buf, n, "%s", "");
        return -1;
    }
    return 0;
}

void conv_tuning_key(const conv_desc *d, char *buf, size_t n)
{
    snprintf(buf, n, "mb%lld_ic%lld_ih%lld_iw%lld_oc%lld_kh%lld_kw%lld"
             "_sh%lld_sw%lld_pt%lld_pl%lld_pb%lld_pr%lld_dh%lld_dw%lld"
             "_g%lld", (long long)d->n, (long long)d->c, (long long)d->h,
             (long long)d->w, (long long)d->k, (long long)d->r,
             (long long)d->s, (long long)d->stride_h,
             (long long)d->stride_w, (long long)d->pad_top,
             (long long)d->pad_left, (long long)d->pad_bottom,
             (long long)d->pad_right, (long long)d->dil_h,
             (long long)d->dil_w, (long long)d->groups);
}

/* Tabs and line breaks would split a field of the file. */
static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
}

static void cpu_model(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];

    snprintf(buf, n, "unknown cpu");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) != 0 || colon == NULL)
            continue;
        colon += 1 + strspn(colon + 1, " \t");
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, n, "%s", colon);
        break;
    }
    if (f)
        fclose(f);
}

/*
 * The CPU model, the instruction set our kernels use, and the OpenBLAS
 * kernels im2col_gemm and conv1x1 run on: with OpenBLAS's Prescott
 * fallback (a CPU it does not know) both rank far lower than with its
 * Haswell kernels, so a cache tuned under one is not reused under the
 * other (OPENBLAS_CORETYPE set or not).
 */
void conv_tuning_machine(char *buf, size_t n)
{
    char model[128];

    cpu_model(model, sizeof model);
    snprintf(buf, n, "%s/%s/openblas-%s", model,
             conv_cpu_avx2_fma() ? "avx2" : "generic",
             openblas_get_corename());
    flatten(buf);
}

/* A key reads back only if it is exactly what conv_tuning_key writes. */
static int key_valid(const char *key)
{
    long long v[16];
    conv_desc d = conv_desc_default();
    char again[192];
    int used = -1;

    sscanf(key, "mb%lld_ic%lld_ih%lld_iw%lld_oc%lld_kh%lld_kw%lld_sh%lld"
           "_sw%lld_pt%lld_pl%lld_pb%lld_pr%lld_dh%lld_dw%lld_g%lld%n",
           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
           &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &used);
    if (used < 0 || key[used] != '\0')
        return 0;
    d.n = v[0], d.c = v[1], d.h = v[2], d.w = v[3], d.k = v[4];
    d.r = v[5], d.s = v[6], d.stride_h = v[7], d.stride_w = v[8];
    d.pad_top = v[9], d.pad_left = v[10], d.pad_bottom = v[11];
    d.pad_right = v[12], d.dil_h = v[13], d.dil_w = v[14];
    d.groups = v[15];
    conv_tuning_key(&d, again, sizeof again);
    return strcmp(again, key) == 0;
}

/* Splits line into FIELDS tab-separated fields; 0 if the count is off. */
static int split(char *line, char *field[FIELDS])
{
    int k = 0;

    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; k < FIELDS; k++) {
        field[k] = p;
        p = strchr(p, '\t');
        if (p == NULL)
            return k == FIELDS - 1;
        *p++ = '\0';
    }
    return 0;
}

/* Why a field does not fit its entry member, or NULL if all fit. */
static const char *parse_fields(char *field[FIELDS], conv_tuning_entry *e)
{
    char *end;
    long th;

    if (!key_valid(field[0]) || strlen(field[0]) >= sizeof e->key)
        return "descriptor key: not in conv_tuning_key's form "
               "mbN_icN_ihN_iwN_ocN_khN_kwN_shN_swN_ptN_plN_pbN_prN_dhN"
               "_dwN_gN";
    th = strtol(field[1], &end, 10);
    if (end == field[1] || *end != '\0' || th < 1 || th > 1 << 20)
        return "threads: must be a whole number, at least 1";
    if (field[2][0] == '\0' || strlen(field[2]) >= sizeof e->machine)
        return "machine: must be a non-empty name under 160 characters";
    if (field[3][0] == '\0' || strlen(field[3]) >= sizeof e->algo)
        return "algorithm: must be a non-empty name under 32 characters";
    e->time_ms = strtod(field[4], &end);
    if (end == field[4] || *end != '\0' || !(e->time_ms > 0)
        || !isfinite(e->time_ms))
        return "time: must be a positive number of milliseconds";
    snprintf(e->key, sizeof e->key, "%s", field[0]);
    e->threads = (int)th;
    snprintf(e->machine, sizeof e->machine, "%s", field[2]);
    snprintf(e->algo, sizeof e->algo, "%s", field[3]);
    return NULL;
}

static void note_bad(conv_tuning *t, const char *path, int line,
                     const char *why)
{
    if (t->bad_lines++ == 0)
        snprintf(t->first_bad, sizeof t->first_bad, "%s:%d: %s", path,
                 line, why);
}

/* One line of the file: an entry, a comment, or a bad line noted. */
static conv_status read_line(conv_tuning *t, const char *path, int no,
                             char *line, int whole)
{
    char *field[FIELDS];
    conv_tuning_entry e;
    const char *why;

    if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
        return CONV_OK;
    if (!whole) {
        note_bad(t, path, no, "line longer than 1023 characters");
        return CONV_OK;
    }
    if (!split(line, field)) {
        note_bad(t, path, no, "want 5 tab-separated fields: descriptor "
                 "key, threads, machine, algorithm, time in ms");
        return CONV_OK;
    }
    why = parse_fields(field, &e);
    if (why != NULL) {
        note_bad(t, path, no, why);
        return CONV_OK;
    }
    return conv_tuning_put(t, &e);
}

/* Drops the rest of an overlong line. */
static void skip_rest(FILE *f)
{
    int c;

    while ((c = fgetc(f)) != EOF && c != '\n')
        continue;
}

conv_status conv_tuning_read(const char *path, conv_tuning *t)
{
    FILE *f;
    char line[1024];
    conv_status st = CONV_OK;
    int no = 0;

    conv_tuning_free(t);
    f = fopen(path, "r");
    if (f == NULL && errno == ENOENT)
        return CONV_OK;
    if (f == NULL)
        return conv_fail(CONV_EINVAL, "tuning file '%s': cannot read it: "
                         "%s", path, strerror(errno));
    while (st == CONV_OK && fgets(line, sizeof line, f)) {
        int whole = strchr(line, '\n') != NULL || feof(f);

        st = read_line(t, path, ++no, line, whole);
        if (!whole)
            skip_rest(f);
    }
    if (st == CONV_OK && ferror(f))
        st = conv_fail(CONV_EINVAL, "tuning file '%s': cannot read it: "
                       "%s", path, strerror(errno));
    fclose(f);
    return st;
}

static int same_slot(const conv_tuning_entry *a, const char *key,
                     int threads, const char *machine)
{
    return a->threads == threads && strcmp(a->key, key) == 0
           && strcmp(a->machine, machine) == 0;
}

const conv_tuning_entry *conv_tuning_find(const conv_tuning *t,
                                          const char *key, int threads,
                                          const char *machine)
{
    for (int i = t->n - 1; i >= 0; i--)
        if (same_slot(&t->entries[i], key, threads, machine))
            return &t->entries[i];
    return NULL;
}

static int field_ok(const char *s)
{
    return s[0] != '\0' && strpbrk(s, "\t\r\n") == NULL;
}

conv_status conv_tuning_put(conv_tuning *t, const conv_tuning_entry *e)
{
    conv_tuning_entry *slot = (conv_tuning_entry *)
        conv_tuning_find(t, e->key, e->threads, e->machine);

    if (!field_ok(e->key) || !field_ok(e->machine) || !field_ok(e->algo)
        || e->threads < 1 || !(e->time_ms > 0) || !isfinite(e->time_ms))
        return conv_fail(CONV_EINVAL, "tuning entry for '%s': fields "
                         "must be non-empty without tabs, threads >= 1 "
                         "and the time positive", e->key);
    if (slot != NULL) {
        *slot = *e;
        return CONV_OK;
    }
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        conv_tuning_entry *grown = realloc(t->entries,
                                           (size_t)cap * sizeof *grown);

        if (grown == NULL)
            return conv_fail(CONV_ENOMEM, "cannot grow the tuning cache");
        t->entries = grown;
        t->cap = cap;
    }
    t->entries[t->n++] = *e;
    return CONV_OK;
}

/* mkdir -p of the directory holding `path`. */
static int make_parent(const char *path)
{
    char dir[1024];
    char *slash;

    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -1;
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int write_entries(const conv_tuning *t, FILE *f)
{
    fprintf(f, "# convbench tuning cache (convbench tune writes it): "
               "key<TAB>threads<TAB>machine<TAB>algorithm<TAB>time_ms\n");
    for (int i = 0; i < t->n; i++) {
        const conv_tuning_entry *e = &t->entries[i];

        fprintf(f, "%s\t%d\t%s\t%s\t%.6g\n", e->key, e->threads,
                e->machine, e->algo, e->time_ms);
    }
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return fsync(fileno(f));
}

conv_status conv_tuning_write(const conv_tuning *t, const char *path)
{
    char tmp[1100];
    FILE *f = NULL;
    int fd, bad;

    if (make_parent(path) != 0)
        return conv_fail(CONV_EINVAL, "tuning file '%s': cannot create "
                         "its directory: %s", path, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return conv_fail(CONV_EINVAL, "tuning file '%s': cannot create a "
                         "temporary file beside it: %s", path,
                         strerror(errno));
    }
    bad = write_entries(t, f);
    bad |= fclose(f);
    if (bad == 0)
        bad = rename(tmp, path);
    if (bad != 0) {
        int err = errno;

        unlink(tmp);
        return conv_fail(CONV_EINVAL, "tuning file '%s': cannot write it: "
                         "%s", path, strerror(err));
    }
    return CONV_OK;
}

void conv_tuning_free(conv_tuning *t)
{
    free(t->entries);
    memset(t, 0, sizeof *t);
}
