# Workspace per layer: the scratch memory each algorithm's plan asks for,
# in MiB on a log scale. Algorithms that need none are named in `note`.
# Variables besides common.gp's: ymin (the axis' bottom), note. The
# table: position, layer, one column of MiB per algorithm (NaN where it
# did not run).
load plotsdir . '/common.gp'
load plotsdir . '/clusters.gp'
set title 'Workspace per layer: ' . what . "\n(no bar: no workspace or " \
    . "not run" . (note eq '' ? '' : '; ' . note) . ')'
set ylabel 'workspace (MiB, log scale)'
set logscale y 10
set yrange [ymin : *]
mib(v) = v > 0 ? v : NaN
plot for [i = 1 : nalgo] datafile \
         using (x(i)) : (mib(column(i + 2))) : (x(i) - bw / 2) \
             : (x(i) + bw / 2) : (ymin) : (mib(column(i + 2))) \
         with boxxyerror lc rgb word(colors, i) title columnhead(i + 2), \
     datafile skip 1 using 1 : (ymin) : xtic(2) with points \
         lc rgb invisible notitle
load plotsdir . '/svg.gp'
