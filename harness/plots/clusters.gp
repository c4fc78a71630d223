# Clustered bars, loaded after common.gp by the per-layer charts: layer l
# of the table sits at x = l, its algorithms' bars side by side around it
# (x(i) for the i-th algorithm), with light lines between layers.
set xrange [-0.6 : nlayer - 0.4]
set xtics rotate by 40 right
set xlabel 'layer'
bw = 0.8 / nalgo
x(i) = column(1) + (i - (nalgo + 1) / 2.0) * bw
set for [l = 1 : nlayer - 1] arrow from l - 0.5, graph 0 \
    to l - 0.5, graph 1 nohead lc rgb "#d8d8d8" back
