/* Helpers the test binaries share; see util.h. */
#define _XOPEN_SOURCE 700   /* nftw */
#include "util.h"

#include "ref.h"

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

int test_make_dir(char *dir, size_t n, const char *prefix)
{
    int len = snprintf(dir, n, "/tmp/%s.XXXXXX", prefix);

    if (len < 0 || (size_t)len >= n)
        return -1;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int kind,
                        struct FTW *ftw)
{
    return remove(path);
}

int test_remove_dir(const char *dir)
{
    /* Depth first, so each directory is empty when its turn comes. */
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        fail_msg("cannot create %s", path);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

int test_stderr_of(test_main_fn *main_fn, int argc, char **argv,
                   const char *dir, char **msg)
{
    char path[4096];
    int saved, fd, status;

    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    status = main_fn(argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    *msg = test_read_file(path);
    unlink(path);
    return status;
}

uint64_t test_seed(uint64_t fallback)
{
    const char *s = getenv("TEST_SEED");
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0')
        return fallback;
    v = strtoull(s, &end, 10);
    return *end == '\0' ? (uint64_t)v : fallback;
}

void *test_alloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    assert_non_null(p);
    return p;
}

void test_poison(float *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = NAN;
}

conv_desc test_desc(const test_geometry *g)
{
    conv_desc d = conv_desc_default();

    d.n = g->n, d.c = g->c, d.h = g->h, d.w = g->w;
    d.k = g->k, d.r = g->r, d.s = g->s;
    d.stride_h = g->sh, d.stride_w = g->sw;
    d.pad_top = g->pt, d.pad_left = g->pl;
    d.pad_bottom = g->pb, d.pad_right = g->pr;
    d.dil_h = g->dh, d.dil_w = g->dw;
    d.groups = g->g;
    return d;
}

test_data test_data_new(const conv_desc *d)
{
    test_data t = {.nx = conv_desc_input_elems(d),
                   .nw = conv_desc_weight_elems(d),
                   .ny = conv_desc_output_elems(d)};

    t.x = test_alloc((size_t)t.nx, sizeof *t.x);
    t.w = test_alloc((size_t)t.nw, sizeof *t.w);
    t.b = test_alloc((size_t)d->k, sizeof *t.b);
    t.y = test_alloc((size_t)t.ny, sizeof *t.y);
    t.yref = test_alloc((size_t)t.ny, sizeof *t.yref);
    t.beta = test_alloc((size_t)t.ny, sizeof *t.beta);
    return t;
}

void test_data_free(test_data *t)
{
    free(t->x);
    free(t->w);
    free(t->b);
    free(t->y);
    free(t->yref);
    free(t->beta);
}

void test_fill_exact(test_data *t, const conv_desc *d, uint64_t seed)
{
    ref_exact_fill e = ref_exact_fill_for(d);

    ref_fill_ints(t->x, t->nx, e.x_max, e.x_density, seed);
    ref_fill_ints(t->w, t->nw, e.w_max, e.w_density, seed + 1);
    ref_fill_ints(t->b, d->k, e.b_max, 1.0, seed + 2);
}

void test_fill_real(test_data *t, const conv_desc *d, uint64_t seed)
{
    ref_fill_real(t->x, t->nx, seed);
    ref_fill_real(t->w, t->nw, seed + 1);
    ref_fill_real(t->b, d->k, seed + 2);
}

void test_reference(test_data *t, const conv_desc *d, const float *bias)
{
    assert_int_equal(ref_conv(d, t->x, t->w, bias, t->yref, t->beta),
                     CONV_OK);
}

conv_plan *test_plan_run(test_data *t, const conv_desc *d, const char *algo,
                         int threads, int bias, const char *what)
{
    conv_options opt = conv_options_default();
    conv_plan *plan = NULL;

    opt.threads = threads;
    test_poison(t->y, t->ny);
    if (conv_plan_create(&plan, d, algo, &opt) != CONV_OK
        || conv_plan_set_weights(plan, t->w, bias ? t->b : NULL) != CONV_OK
        || conv_execute(plan, t->x, t->y) != CONV_OK)
        fail_msg("%s: %s", what, conv_reason());
    return plan;
}

void test_expect_close(const test_data *t, double bound, const char *what)
{
    ref_error e = ref_compare(t->y, t->yref, t->beta, t->ny);

    if (e.nonfinite > 0 || e.max_eps > bound)
        fail_msg("%s: error %.1f eps at output %lld (bound %.0f), %lld "
                 "non-finite", what, e.max_eps, (long long)e.worst, bound,
                 (long long)e.nonfinite);
}
