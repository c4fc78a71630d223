/* `convbench plot`: charts and a Markdown summary of a bench CSV. */
#ifndef BENCH_PLOT_H
#define BENCH_PLOT_H

/*
 * convbench plot results/NAME.csv
 *
 * Reads the tidy CSV `convbench bench` writes and fills results/NAME/
 * (the CSV's path without ".csv"; a path not ending in ".csv" gets
 * ".plots" appended instead) with, for each layer group G and thread
 * count:
 *   gflops_G      GFLOP/s per layer per algorithm, with the FMA peak line
 *   speedup_G     speed-up over `onednn` per layer, log scale
 *   workspace_G   workspace per layer per algorithm, MiB, log scale
 *   G             sweep groups only: GFLOP/s against the swept value
 * each as .png, .svg and the tab-separated .dat table it was drawn from,
 * and summary.md: whole-network totals weighted by each layer's count,
 * the best algorithm per layer and its speed-up over oneDNN.
 *
 * A group is the layer name's prefix before ':' ("resnet_50:res2a" ->
 * "resnet_50"), else the suite. "sweep_NAME:KEY=VALUE" layers form a
 * sweep over KEY. G gets "_tT" appended when the group was run at more
 * than one thread count T.
 *
 * Exit status: 0; 2 for bad input (the message names file:line) and when
 * gnuplot is missing (summary.md and the .dat tables are still written,
 * since they need no gnuplot; the message gives the apt-get command);
 * 1 when writing fails or gnuplot reports an error. Everything is made in
 * a temporary directory and moved into place only when all of it
 * succeeded; charts of an earlier run left in results/NAME/ are replaced.
 *
 * The gnuplot scripts are looked up in $CONVBENCH_PLOTS, else in
 * harness/plots beside the executable's directory, else in
 * ../share/convbench/plots from it.
 */
int plot_main(int argc, char **argv);

#endif
