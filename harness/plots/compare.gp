# Speed ratio per case between two bench runs: time A / time B as a bar
# from 1 on a log scale (up: B is faster), green where B is significantly
# faster, red where it is significantly slower, grey within the noise.
# Variables: datafile outfile plotsdir what nrow ylo yhi width height. The
# table: position, case (layer and algorithm), ratio, colour (an RGB
# integer), verdict.
load plotsdir . '/common.gp'
set title 'Speed ratio per case: ' . what
set ylabel 'speed of B over A = time A / time B (log scale)'
set xlabel 'case'
set logscale y 2
set format y '%gx'
set yrange [ylo : yhi]
set xrange [-0.6 : nrow - 0.4]
set xtics rotate by 60 right font ",8"
set key off
plot datafile skip 1 using 1 : 3 : ($1 - 0.4) : ($1 + 0.4) \
         : ($3 < 1 ? $3 : 1) : ($3 > 1 ? $3 : 1) : 4 \
         with boxxyerror lc rgb variable notitle, \
     '' skip 1 using 1 : (1) : xtic(2) with points lc rgb invisible \
         notitle, \
     1 with lines lc rgb "#505050" notitle
load plotsdir . '/svg.gp'
