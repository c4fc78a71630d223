# GFLOP/s per layer: one bar per algorithm, clustered by layer, and the
# machine's FMA peak as a dashed line.
# Variables besides common.gp's: peak, peaklabel ("" when unknown),
# ytop (the y axis' top when the peak is far above the bars, else 0).
# The table: position, layer, one column of GFLOP/s per algorithm (NaN
# where it did not run).
load plotsdir . '/common.gp'
load plotsdir . '/clusters.gp'
set title 'GFLOP/s per layer: ' . what
set ylabel 'GFLOP/s (effective: benchdnn FLOP count / median time)'
if (ytop > 0) { set yrange [0 : ytop] } else { set yrange [0 : *] }
plot for [i = 1 : nalgo] datafile \
         using (x(i)) : (column(i + 2)) : (x(i) - bw / 2) \
             : (x(i) + bw / 2) : (0) : (column(i + 2)) \
         with boxxyerror lc rgb word(colors, i) title columnhead(i + 2), \
     datafile skip 1 using 1 : (0) : xtic(2) with points \
         lc rgb invisible notitle, \
     (peak > 0 ? peak : NaN) with lines dt 2 lw 2 lc rgb "#c00000" \
         title peaklabel
load plotsdir . '/svg.gp'
