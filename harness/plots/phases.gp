# Where the time goes: one panel per algorithm that records phases, one
# bar per layer stacked by phase as a share of the phases' total, and that
# total (ms per execution) above the bar. Shares make layers whose times
# differ a hundredfold comparable; the printed total keeps the scale.
# Variables besides common.gp's: algos (the panels' algorithm names,
# space-separated, nalgo of them). The table: a block per algorithm, in
# that order, headed by comment lines, of lines: position, layer,
# input_transform, multiply, output_transform, other, total (ms per
# execution; NaN where the algorithm recorded no phases).
height = 85 + 190 * nalgo + 150
load plotsdir . '/common.gp'
set key outside right top vertical Left reverse samplen 2 spacing 1.2 \
    width 2
phase_colors = '#4e79a7 #f28e2b #59a14f #b0aca8'
phase_name(k) = k == 1 ? 'input transform' : k == 2 ? 'multiply' \
    : k == 3 ? 'output transform' : 'other'
# The share of the total up to and including phase k, in percent.
upto(k) = 100 * (sum [j = 3 : k + 2] column(j)) / column(7)
bw = 0.7
set xrange [-0.6 : nlayer - 0.4]
set yrange [0 : 125]
set ytics 0, 25, 100
set style fill solid 0.95 border lc rgb "#505050"
# Panels at fixed places, so the layers line up down the page: room
# above for the title, below for the rotated layer names, and on the
# right for the key.
top = 1 - 85.0 / height
bottom = 150.0 / height
panel = (top - bottom) / nalgo
set lmargin at screen 110.0 / width
set rmargin at screen 1 - 200.0 / width
do for [pass = 1 : 2] {
    if (pass == 2) {
        set terminal svg noenhanced size width, height dynamic \
            font "DejaVu Sans,11" background "white"
        set output outfile . '.svg'
    }
    set multiplot title 'Where the time goes: ' . what . "\n(share " \
        . "of each phase in the algorithm's profiled time; total ms per " \
        . "execution above each bar;\nno bar: not run, or no phases " \
        . 'recorded)'
    do for [i = 1 : nalgo] {
        set tmargin at screen top - (i - 1) * panel
        set bmargin at screen top - i * panel + 0.15 * panel
        set ylabel word(algos, i) . "\n% of time"
        if (i < nalgo) {
            set xtics 1 format '' nomirror
            set xlabel ''
        } else {
            set xtics 1 format '% g' nomirror rotate by 40 right
            set xlabel 'layer'
        }
        if (i == 1) { set key } else { unset key }
        if (i < nalgo) {
            plot for [k = 1 : 4] datafile index (i - 1) \
                     using 1 : (upto(k)) : ($1 - bw / 2) : ($1 + bw / 2) \
                         : (upto(k - 1)) : (upto(k)) \
                     with boxxyerror lc rgb word(phase_colors, k) \
                     title phase_name(k), \
                 datafile index (i - 1) \
                     using 1 : ($7 > 0 ? 100 : NaN) \
                         : (sprintf('%.3g', $7)) \
                     with labels offset 0, 0.8 font ",9" notitle
        } else {
            plot for [k = 1 : 4] datafile index (i - 1) \
                     using 1 : (upto(k)) : ($1 - bw / 2) : ($1 + bw / 2) \
                         : (upto(k - 1)) : (upto(k)) : xtic(2) \
                     with boxxyerror lc rgb word(phase_colors, k) \
                     title phase_name(k), \
                 datafile index (i - 1) \
                     using 1 : ($7 > 0 ? 100 : NaN) \
                         : (sprintf('%.3g', $7)) \
                     with labels offset 0, 0.8 font ",9" notitle
        }
    }
    unset multiplot
}
unset output
