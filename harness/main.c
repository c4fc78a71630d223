/* convbench: check, time and plot 2-D convolution algorithms. */
#include "args.h"
#include "bench.h"
#include "check.h"
#include "compare.h"
#include "info.h"
#include "merge.h"
#include "peak.h"
#include "plot.h"
#include "tune.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"list", list_main, "algorithms, suites, library versions"},
    {"info", info_main, "output shape, parameters, flops, which "
                        "algorithms apply (and why not)"},
    {"check", check_main, "every algorithm against the fp64 reference "
                          "and oneDNN"},
    {"bench", bench_main, "time every algorithm beside oneDNN into "
                          "results/NAME.csv and .json"},
    {"peak", peak_main, "the machine's measured fp32 FMA peak"},
    {"plot", plot_main, "charts (PNG, SVG) and summary.md of a bench "
                        "CSV into results/NAME/"},
    {"tune", tune_main, "rank every algorithm per shape; write the "
                        "tuning cache `auto` reads"},
    {"compare", compare_main, "speed ratios of two bench CSVs with "
                              "noise-aware verdicts, and a chart"},
    {"merge", merge_main, "join sharded bench CSVs; --median: medians "
                          "over repeated runs"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: convbench COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nshapes use oneDNN benchdnn's descriptor syntax, e.g. "
               "'mb1ic64ih56oc64kh3ph1'.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    bench_error("'%s': unknown command", argv[1]);
    usage(stderr);
    return BENCH_EXIT_USAGE;
}
