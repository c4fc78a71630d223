# Shared by every convbench chart: loaded first, it reads the tab-separated
# table and opens the PNG; each script ends by loading svg.gp.
# `convbench plot` sets, for every script: datafile (the table), outfile
# (a path without extension), plotsdir, what (the group, batch and
# threads, for titles), nalgo and nlayer (the table's algorithm columns
# and lines), colors and points (one colour and point type per algorithm,
# space-separated), width and height in pixels.
set datafile separator "\t"
set datafile missing "NaN"
set terminal pngcairo noenhanced size width, height \
    font "DejaVu Sans,11"
set output outfile . '.png'
set style fill solid 0.9 border lc rgb "#505050"
set border 3
set xtics nomirror
set ytics nomirror
set grid ytics lc rgb "#dddddd" lt 1
set key outside right top vertical Left reverse samplen 2 spacing 1.2 width 2
# The x tics carry layer names through an extra plot element drawn in
# this colour, fully transparent: tics at the centre of each cluster.
invisible = '#ff000000'
