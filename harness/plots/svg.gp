# Draws the chart just plotted again, as outfile.svg.
set terminal svg noenhanced size width, height dynamic \
    font "DejaVu Sans,11" background "white"
set output outfile . '.svg'
replot
unset output
