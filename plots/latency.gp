# latency.gp: single-core time per operation (ns) of each workload, one bar per design.
# Variables: datadir, out, termtype, ndesigns.
if (termtype eq "svg") { set terminal svg size 900,420 dynamic font "sans,11" } else { set terminal pngcairo size 900,420 font "sans,10" }
set output out
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "ns per operation, 1 core"
set yrange [0:*]
set xtics rotate by -30 noenhanced
set key top left
set grid y
plot for [i=2:ndesigns+1] sprintf("%s/latency.dat", datadir) using i:xtic(1) title columnheader(i)
