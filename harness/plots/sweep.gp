# GFLOP/s against the swept parameter of a sweep suite: one line per
# algorithm, and the machine's FMA peak as a dashed line.
# Variables besides common.gp's: xlabel, xlog (1 for a log2 x axis),
# peak, peaklabel, ytop (as in gflops.gp). The table: swept value, layer,
# one column of GFLOP/s per algorithm (NaN where it did not run).
load plotsdir . '/common.gp'
set title 'GFLOP/s against ' . xlabel . ': ' . what
set ylabel 'GFLOP/s (effective: benchdnn FLOP count / median time)'
set xlabel xlabel
if (ytop > 0) { set yrange [0 : ytop] } else { set yrange [0 : *] }
set offsets graph 0.03, graph 0.03, 0, 0
# On a log axis odd values (16, 19, 23) crowd: turn their labels.
if (xlog) {
    set logscale x 2
    set autoscale xfix
    set xtics rotate by 90 right
}
plot for [i = 1 : nalgo] datafile using 1 : (column(i + 2)) \
         with linespoints lw 2 pt int(word(points, i)) ps 1.3 \
         lc rgb word(colors, i) title columnhead(i + 2), \
     datafile skip 1 using 1 : (0) : xtic(1) with points \
         lc rgb invisible notitle, \
     (peak > 0 ? peak : NaN) with lines dt 2 lw 2 lc rgb "#c00000" \
         title peaklabel
load plotsdir . '/svg.gp'
