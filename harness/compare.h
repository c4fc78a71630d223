/* `convbench compare`: two bench tables, row by row, with verdicts that
 * allow for timing noise. */
#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

#include "csv.h"

/*
 * convbench compare A.csv B.csv [--out DIR] [--ignore-threads]
 *                   [--floor PCT] [--no-plot]
 *
 * Joins the "ok" rows of two tables `convbench bench` wrote on (layer,
 * desc, algo, threads), or without threads (--ignore-threads, to compare
 * two thread counts), and prints per row the speed ratio B/A = time A /
 * time B (above 1: B is faster) with a verdict, then a summary: counts,
 * the geometric mean of the ratios, and the whole-run ratio of the
 * totals weighted by each layer's count. DIR (default: B's path without
 * ".csv", then "_vs_" and A's name) receives compare.dat, the table, and
 * compare.png and compare.svg, drawn by harness/plots/compare.gp.
 *
 * Exit status: 0; 1 if writing or gnuplot failed; 2 for bad input (the
 * message names FILE:LINE, the flag or the value).
 */
int compare_main(int argc, char **argv);

typedef enum compare_verdict {
    COMPARE_SAME,
    COMPARE_FASTER,          /* B is faster than A */
    COMPARE_SLOWER
} compare_verdict;

/*
 * The noise rule, for one pair of rows with numbers. Each side's spread
 * is ln(median / min) of its repetitions: how far its own runs strayed.
 * The change ln(time A / time B) is significant only if its size passes
 * the larger spread plus ln(1 + floor_frac); floor_frac (e.g. 0.03)
 * covers the drift between runs that one run's repetitions cannot see.
 * *ratio receives time A / time B, *threshold the bound used.
 */
compare_verdict compare_judge(const bench_row *a, const bench_row *b,
                              double floor_frac, double *ratio,
                              double *threshold);

#endif
