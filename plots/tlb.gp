# tlb.gp: translation work per operation versus cores, per workload and design: page walks per operation
# (solid) and shootdown IPIs per operation (dashed), on one axis from 0 to the panel's largest value.
# Variables: datadir, out, termtype, panels, designs, rows, cols, ymaxes (one per panel, in panel order).
if (termtype eq "svg") { set terminal svg size 420*cols,320*rows dynamic font "sans,11" } else { set terminal pngcairo size 420*cols,320*rows font "sans,10" }
set output out
set multiplot layout rows,cols
set logscale x 2
set xlabel "cores"
set ylabel "per operation"
set key top left font ",8" noenhanced
set grid
i = 0
do for [p in panels] {
	i = i + 1
	set title p noenhanced
	set yrange [0:real(word(ymaxes, i)) * 1.1]
	plot for [d in designs] sprintf("%s/tlb-%s-%s.dat", datadir, p, d) using 1:2 with linespoints pt 7 ps 0.6 title d." walks", \
	     for [d in designs] sprintf("%s/tlb-%s-%s.dat", datadir, p, d) using 1:3 with linespoints pt 6 ps 0.6 dt 2 title d." IPIs"
}
unset multiplot
