/* The measured fp32 FMA peak and `convbench peak`. */
#include "peak.h"

#include "args.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#define PROBE_SECONDS 0.2
#define WINDOW_SECONDS 0.001
#define WARMUP_SECONDS 0.02
#define ROUNDS_PER_CHUNK 10000
#define FLOPS_PER_FMA 16.0   /* 8 lanes, a multiply and an add each */
#define CACHE_SLOTS 64

typedef struct peak_slot {
    int threads;
    double gflops;
} peak_slot;

static peak_slot cache[CACHE_SLOTS];
static int cached;

/* Keeps the kernel's result alive so its work cannot be optimized out. */
static volatile float sink;

/*
 * Issues FMAs for `seconds` and returns the best rate (FMA instructions
 * per second) over windows of WINDOW_SECONDS. On a shared machine another
 * process may take the core for a while; the best window is what the
 * core itself can do.
 */
static double best_rate(double seconds)
{
    double start = omp_get_wtime(), window = start, now, fmas = 0, best = 0;
    float keep = 0;

    do {
        keep += bench_peak_kernel_avx2(ROUNDS_PER_CHUNK);
        fmas += (double)ROUNDS_PER_CHUNK * BENCH_PEAK_FMAS_PER_ROUND;
        now = omp_get_wtime();
        if (now - window >= WINDOW_SECONDS) {
            if (fmas / (now - window) > best)
                best = fmas / (now - window);
            fmas = 0;
            window = now;
        }
    } while (now - start < seconds);
    sink = keep;
    return best;
}

/*
 * Every thread warms up (clocks and the vector unit's power state), waits
 * for the others, then issues FMAs for PROBE_SECONDS; the peak is the sum
 * of the threads' best rates.
 */
static double measure(int threads)
{
    double rate = 0;

    #pragma omp parallel num_threads(threads) reduction(+ : rate)
    {
        best_rate(WARMUP_SECONDS);
        #pragma omp barrier
        rate = best_rate(PROBE_SECONDS);
    }
    return rate * FLOPS_PER_FMA * 1e-9;
}

double bench_peak_gflops(int threads)
{
    double g;

    if (threads <= 0)
        threads = omp_get_max_threads();
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
    for (int i = 0; i < cached; i++)
        if (cache[i].threads == threads)
            return cache[i].gflops;

    g = measure(threads);
    if (cached < CACHE_SLOTS)
        cache[cached++] = (peak_slot){threads, g};
    return g;
}

const char *bench_cpu_model(void)
{
    static char model[256];
    char line[512];
    FILE *f;

    if (model[0] != '\0')
        return model;
    snprintf(model, sizeof model, "unknown");
    f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) != 0 || colon == NULL)
            continue;
        colon += 1 + strspn(colon + 1, " \t");
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(model, sizeof model, "%s", colon);
        break;
    }
    if (f != NULL)
        fclose(f);
    return model;
}

static const char peak_usage[] =
    "usage: convbench peak [--threads T]\n"
    "  the fp32 peak of AVX2 + FMA (8 lanes, 2 flops per lane per FMA),\n"
    "  measured at 1 thread and at T threads (default: every core)\n";

static int peak_args(int argc, char **argv, int *threads)
{
    for (int i = 1; i < argc; i++) {
        int64_t n;
        int r = bench_int_flag(argc, argv, &i, "--threads", 1, 1024, &n);

        if (r < 0)
            return -1;
        if (r > 0) {
            *threads = (int)n;
            continue;
        }
        bench_error("'%s': unknown argument\n%s", argv[i], peak_usage);
        return -1;
    }
    return 0;
}

int peak_main(int argc, char **argv)
{
    int threads = omp_get_max_threads();

    if (argc > 1 && (strcmp(argv[1], "--help") == 0
                     || strcmp(argv[1], "-h") == 0)) {
        fputs(peak_usage, stdout);
        return 0;
    }
    if (peak_args(argc, argv, &threads) != 0)
        return BENCH_EXIT_USAGE;
    if (bench_peak_gflops(1) == 0) {
        bench_error("peak: this CPU lacks AVX2 or FMA, the instructions "
                    "the probe measures");
        return 1;
    }

    printf("cpu: %s\n", bench_cpu_model());
    printf("fp32 peak, AVX2 + FMA (16 flops per instruction):\n");
    printf("  %7s %10s\n", "threads", "GFLOP/s");
    printf("  %7d %10.1f\n", 1, bench_peak_gflops(1));
    if (threads != 1)
        printf("  %7d %10.1f\n", threads, bench_peak_gflops(threads));
    return 0;
}
