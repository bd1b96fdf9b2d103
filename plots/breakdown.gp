# breakdown.gp: where simulated core time goes at the largest core count of each workload, per design:
# lock spinning, lock sleeping, page walks, shootdowns (sender side), page zeroing, and the rest.
# Variables: datadir, out, termtype.
if (termtype eq "svg") { set terminal svg size 1000,460 dynamic font "sans,11" } else { set terminal pngcairo size 1000,460 font "sans,10" }
set output out
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.8
set yrange [0:1]
set ylabel "fraction of core time"
set xtics rotate by -35 font ",8" noenhanced
set key outside right
plot for [i=2:7] sprintf("%s/breakdown.dat", datadir) using i:xtic(1) title columnheader(i)
