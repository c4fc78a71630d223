/*
 * What `convbench plot` draws from: the rows of a bench CSV indexed by
 * layer group, layer, algorithm and thread count. Shared by plot.c (the
 * charts) and plot_summary.c (summary.md); not a public interface.
 *
 * A group is the layer name's prefix before ':' ("resnet_50:res2a" ->
 * "resnet_50"), else the suite. A "sweep_" group whose layers are all
 * named KEY=VALUE with one KEY ("sweep_kernel:k=5") is a sweep over KEY.
 * A set is one group at one thread count: it gets its own charts.
 */
#ifndef BENCH_PLOT_MODEL_H
#define BENCH_PLOT_MODEL_H

#include "csv.h"
#include "timing.h"

#include <stdbool.h>

typedef struct plot_layer {
    int group;
    const char *name, *desc;
    const char *label;     /* name without the group prefix, or desc */
    int count;             /* times it occurs in the network */
    double x;              /* the swept value, in sweep groups */
} plot_layer;

typedef struct plot_group {
    char name[96];
    char stem[96];         /* name made safe for file names */
    char key[32];          /* swept key, "" if not a sweep */
} plot_group;

typedef struct plot_model {
    const char *path;
    bench_rows table;
    int *row_layer, *row_algo, *row_ti;   /* per row of the table */
    plot_layer *layers;
    int nlayers;
    plot_group *groups;
    int ngroups;
    const char **algos;    /* in order of first appearance */
    int nalgos;
    int *threads;          /* ascending */
    int nthreads;
    double *peak;          /* GFLOP/s per thread count; 0 if unknown */
    int onednn;            /* index of "onednn" in algos, or -1 */
    /* [(layer * nalgos + algo) * nthreads + ti]; NULL where none ran */
    const bench_row **cell;
    /* NAME.phases.csv beside NAME.csv (n == 0 if there is none), and
     * its rows indexed like cell: NULL where no phase was recorded */
    bench_phases_table phases;
    const bench_phases **pcell;
} plot_model;

/* One group at one thread count: what one set of charts shows. */
typedef struct plot_set {
    const plot_model *m;
    int g, ti;
    int *layers, nlayers;  /* in the CSV's order; sweeps by swept value */
    int *algos, nalgos;    /* those with an ok row here */
    char stem[128];        /* file names: gflops_STEM.png */
    char what[256];        /* titles: "resnet_50, batch 1, 2 threads" */
} plot_set;

/*
 * Reads and indexes the CSV at m->path, and NAME.phases.csv beside it if
 * there is one (its rows for cases the CSV does not hold measured are
 * ignored). Returns 0; 2 after a message (file:line) for bad input or a
 * table without any "ok" row; 1 when out of memory.
 */
int plot_model_load(plot_model *m);
void plot_model_free(plot_model *m);

/*
 * Gathers group g at thread count index ti; `suffix` appends "_tT" to
 * the stem. Returns 1, 0 if nothing was measured there, -1 when out of
 * memory. Free with plot_set_free in every case.
 */
int plot_set_init(plot_set *s, const plot_model *m, int g, int ti,
                  bool suffix);
void plot_set_free(plot_set *s);

/* Whether group g was run at more than one thread count. */
bool plot_many_threads(const plot_model *m, int g);

/* The row of layer l and algorithm a in the set, if it ran ("ok"). */
const bench_row *plot_ok_cell(const plot_set *s, int l, int a);

/* The phases of layer l and algorithm a in the set, if recorded. */
const bench_phases *plot_phases_cell(const plot_set *s, int l, int a);

/* Whether the row measured something (status "ok"). */
bool plot_row_ok(const bench_row *r);

/* Algorithms of this library, as opposed to the judges. */
bool plot_is_ours(const char *algo);

/*
 * What summary.md links to: the stems of the charts drawn (none without
 * gnuplot). Writes `path`; returns 0, or 1 after a message.
 */
typedef struct plot_drawn {
    char (*stem)[160];
    int n;
    bool gnuplot;
} plot_drawn;

int plot_summary_write(const char *path, const plot_model *m,
                       const plot_set *sets, int nsets,
                       const plot_drawn *drawn);

#endif
