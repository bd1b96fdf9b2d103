# scaling.gp: throughput (operations per simulated second) versus cores, one panel per workload and
# contention level, one line per design. Variables (gnuplot -e): datadir, out, termtype, panels, designs, rows, cols.
if (termtype eq "svg") { set terminal svg size 420*cols,320*rows dynamic font "sans,11" } else { set terminal pngcairo size 420*cols,320*rows font "sans,10" }
set output out
set multiplot layout rows,cols
set logscale x 2
set logscale y 10
set format y "10^{%L}"
set xlabel "cores"
set ylabel "ops / simulated s"
set key top left font ",8"
set grid
do for [p in panels] {
	set title p
	plot for [d in designs] sprintf("%s/scaling-%s-%s.dat", datadir, p, d) using 1:2 with linespoints pt 7 ps 0.6 title d
}
unset multiplot
