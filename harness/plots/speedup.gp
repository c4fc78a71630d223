# Speed-up over oneDNN per layer: oneDNN's median time over the
# algorithm's, as a bar from 1 (up: faster than oneDNN, down: slower) on
# a log scale.
# Variables besides common.gp's: ylo, yhi (the y range). The table:
# position, layer, one column of speed-ups per algorithm (NaN where it or
# oneDNN did not run).
load plotsdir . '/common.gp'
load plotsdir . '/clusters.gp'
set title 'Speed-up over oneDNN per layer: ' . what
set ylabel 'speed-up: onednn time / algorithm time (log scale)'
set logscale y 2
set yrange [ylo : yhi]
set format y '%gx'
lo(v) = v < 1 ? v : 1
hi(v) = v > 1 ? v : 1
plot for [i = 1 : nalgo] datafile \
         using (x(i)) : (column(i + 2)) : (x(i) - bw / 2) \
             : (x(i) + bw / 2) : (lo(column(i + 2))) \
             : (hi(column(i + 2))) \
         with boxxyerror lc rgb word(colors, i) title columnhead(i + 2), \
     datafile skip 1 using 1 : (1) : xtic(2) with points \
         lc rgb invisible notitle, \
     1 with lines lw 2 lc rgb "#262626" title 'onednn (1x)'
load plotsdir . '/svg.gp'
