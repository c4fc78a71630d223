/* Command-line helpers shared by the convbench commands. */
#include "args.h"

#include "conv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_error(const char *fmt, ...)
{
    va_list ap;

    fputs("convbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int bench_parse_int(const char *flag, const char *text, int64_t min,
                    int64_t max, int64_t *out)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE
        || v < min || v > max) {
        bench_error("%s '%s': must be an integer from %lld to %lld", flag,
                    text, (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int bench_flag_value(int argc, char **argv, int *i, const char *name,
                     const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        bench_error("%s: needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int bench_int_flag(int argc, char **argv, int *i, const char *name,
                   int64_t min, int64_t max, int64_t *out)
{
    const char *v = NULL;
    int r = bench_flag_value(argc, argv, i, name, &v);

    if (r <= 0)
        return r;
    return bench_parse_int(name, v, min, max, out) != 0 ? -1 : 1;
}

int bench_run_flag(int argc, char **argv, int *i, int *threads,
                   int64_t *mb)
{
    int64_t n;
    int r;

    if ((r = bench_int_flag(argc, argv, i, "--threads", 1, 1024, &n)) > 0)
        *threads = (int)n;
    if (r != 0)
        return r;
    return bench_int_flag(argc, argv, i, "--mb", 1, INT32_MAX, mb);
}

int bench_parse_args(int argc, char **argv, bench_flag_fn *flag,
                     void *opts, void (*usage)(void),
                     void (*refuse)(const char *arg), char **descs,
                     int *ndescs)
{
    for (int i = 1; i < argc; i++) {
        int r = flag(argc, argv, &i, opts);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "-h") == 0) {
            usage();
            exit(0);
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            refuse(argv[i]);
            return -1;
        }
        descs[(*ndescs)++] = argv[i];
    }
    return 0;
}

int bench_add_descriptor(bench_suite *bare, const char *text, int64_t mb)
{
    char err[512];
    bench_shape *s = realloc(bare->shapes,
                             (size_t)(bare->n + 1) * sizeof *s);

    if (s == NULL) {
        bench_error("out of memory reading descriptors");
        return -1;
    }
    bare->shapes = s;
    if (bench_shape_parse(text, mb, &s[bare->n], err, sizeof err) != 0) {
        bench_error("'%s': %s", text, err);
        return -1;
    }
    bare->n++;
    return 0;
}

static int known_name(const char *name, const char *const *extra)
{
    for (int i = 0; i < conv_algo_count(); i++)
        if (strcmp(conv_algo_name(i), name) == 0)
            return 1;
    for (int i = 0; extra != NULL && extra[i] != NULL; i++)
        if (strcmp(extra[i], name) == 0)
            return 1;
    return 0;
}

static int add_name(char names[][32], int n, int max, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return n;
    if (n >= max) {
        bench_error("--algo: more than %d algorithms", max);
        return -1;
    }
    snprintf(names[n], 32, "%s", name);
    return n + 1;
}

static int add_all(char names[][32], int n, int max,
                   const char *const *all_extra)
{
    for (int i = 0; n >= 0 && i < conv_algo_count(); i++)
        n = add_name(names, n, max, conv_algo_name(i));
    for (int i = 0; n >= 0 && all_extra != NULL && all_extra[i]; i++)
        n = add_name(names, n, max, all_extra[i]);
    return n;
}

int bench_parse_algos(const char *list, const char *const *extra,
                      const char *const *all_extra, char names[][32],
                      int max)
{
    char buf[1024];
    char *save = NULL;
    int n = 0;

    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        bench_error("--algo: list longer than %zu characters", sizeof buf);
        return -1;
    }
    for (char *t = strtok_r(buf, ",", &save); t && n >= 0;
         t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "all") == 0) {
            n = add_all(names, n, max, all_extra);
            continue;
        }
        if (!known_name(t, extra)) {
            bench_error("--algo '%s': unknown algorithm (see `convbench "
                        "list`)", t);
            return -1;
        }
        n = add_name(names, n, max, t);
    }
    if (n == 0) {
        bench_error("--algo '%s': names no algorithm", list);
        return -1;
    }
    return n;
}
