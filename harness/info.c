/* `convbench list` and `convbench info`: what there is, and what a shape
 * costs. */
#include "info.h"

#include "args.h"
#include "blas.h"
#include "onednn.h"
#include "peak.h"
#include "shapes.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void bench_format_bytes(double bytes, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;

    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, n, u == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[u]);
}

static void print_suite(const char *name, void *arg)
{
    bench_suite s;
    char err[512];
    int layers = 0;

    (void)arg;
    if (bench_suite_load(name, 0, &s, err, sizeof err) != 0) {
        printf("  %-16s (unreadable: %s)\n", name, err);
        return;
    }
    for (int i = 0; i < s.n; i++)
        layers += s.shapes[i].count;
    printf("  %-16s %3d shapes, %3d layers with repeats\n", name, s.n,
           layers);
    bench_suite_free(&s);
}

int list_main(int argc, char **argv)
{
    bench_blas_info blas = bench_blas_info_now();
    char line[512];

    (void)argv;
    if (argc > 1) {
        bench_error("list: takes no arguments");
        return BENCH_EXIT_USAGE;
    }
    printf("algorithms:\n");
    for (int i = 0; i < conv_algo_count(); i++)
        printf("  %s\n", conv_algo_name(i));
    printf("peers (bench and check only):\n  onednn\n  onednn_nchw\n"
           "  naive\n");
    printf("suites (in %s):\n", bench_suites_dir());
    bench_suites_each(print_suite, NULL);
    printf("machine: %s, %d threads (OpenMP default)\n", bench_cpu_model(),
           omp_get_max_threads());
    printf("fp32 AVX2 FMA peak: %.1f GFLOP/s on 1 thread, %.1f on %d\n",
           bench_peak_gflops(1), bench_peak_gflops(omp_get_max_threads()),
           omp_get_max_threads());
    printf("oneDNN %s\n", onednn_version());
    bench_blas_core_line(&blas, line, sizeof line);
    printf("%s\n%s\n", blas.config, line);
    return 0;
}

static void print_algos(const conv_desc *d)
{
    char why[256], ws[32];

    printf("  algorithms (workspace at %d threads):\n",
           omp_get_max_threads());
    for (int i = 0; i < conv_algo_count(); i++) {
        const char *a = conv_algo_name(i);
        size_t bytes;

        if (!conv_algo_applies(a, d, why, sizeof why)) {
            printf("    %-14s n/a      %s\n", a, why);
            continue;
        }
        bytes = conv_algo_workspace_bytes(a, d, 0);
        if (bytes == SIZE_MAX)
            snprintf(ws, sizeof ws, "overflows");
        else
            bench_format_bytes((double)bytes, ws, sizeof ws);
        printf("    %-14s applies  workspace %s\n", a, ws);
    }
}

static void print_shape(const bench_shape *s)
{
    const conv_desc *d = &s->desc;
    int64_t weights = conv_desc_weight_elems(d);

    printf("%s\n", s->text);
    printf("  input    %lldx%lldx%lldx%lld (NCHW)\n", (long long)d->n,
           (long long)d->c, (long long)d->h, (long long)d->w);
    printf("  output   %lldx%lldx%lldx%lld (NCHW)\n", (long long)d->n,
           (long long)d->k, (long long)d->p, (long long)d->q);
    printf("  weights  %lldx%lldx%lldx%lld (OIHW), groups %lld\n",
           (long long)d->k, (long long)(d->c / d->groups), (long long)d->r,
           (long long)d->s, (long long)d->groups);
    printf("  params   %lld (%lld weights + %lld biases)\n",
           (long long)(weights + d->k), (long long)weights, (long long)d->k);
    printf("  stride   %lldx%lld, dilation %lldx%lld (1 = none)\n",
           (long long)d->stride_h, (long long)d->stride_w,
           (long long)d->dil_h, (long long)d->dil_w);
    printf("  padding  top %lld, left %lld, bottom %lld, right %lld\n",
           (long long)d->pad_top, (long long)d->pad_left,
           (long long)d->pad_bottom, (long long)d->pad_right);
    printf("  flops    %.6g GFLOP (benchdnn's count: taps inside the "
           "input)\n", conv_desc_flops(d) * 1e-9);
    print_algos(d);
}

int info_main(int argc, char **argv)
{
    bench_shape s;
    char err[512];

    if (argc < 2) {
        bench_error("info: give one or more descriptors, e.g. "
                    "'mb1ic64ih56oc64kh3ph1'");
        return BENCH_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (bench_shape_parse(argv[i], 0, &s, err, sizeof err) != 0) {
            bench_error("'%s': %s", argv[i], err);
            return BENCH_EXIT_USAGE;
        }
    for (int i = 1; i < argc; i++) {
        bench_shape_parse(argv[i], 0, &s, err, sizeof err);
        print_shape(&s);
    }
    return 0;
}
