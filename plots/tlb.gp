# tlb.gp: TLB shootdown traffic (IPIs per operation) and L1 TLB hit rate versus cores, per workload and design.
# Variables: datadir, out, termtype, panels, designs, rows, cols.
if (termtype eq "svg") { set terminal svg size 420*cols,320*rows dynamic font "sans,11" } else { set terminal pngcairo size 420*cols,320*rows font "sans,10" }
set output out
set multiplot layout rows,cols
set logscale x 2
set xlabel "cores"
set ylabel "IPIs per operation"
set yrange [0:*]
set y2label "L1 TLB hit rate"
set y2range [0:1]
set y2tics
set key top left font ",8"
set grid
do for [p in panels] {
	set title p
	plot for [d in designs] sprintf("%s/tlb-%s-%s.dat", datadir, p, d) using 1:2 with linespoints pt 7 ps 0.6 title d." IPIs/op", \
	     for [d in designs] sprintf("%s/tlb-%s-%s.dat", datadir, p, d) using 1:3 axes x1y2 with lines dt 2 title d." L1 hit"
}
unset multiplot
