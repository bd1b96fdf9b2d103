# timeline.gp: where each simulated core's time goes, as coloured spans on one row per core (white: user code).
# Variables: datadir, out, termtype, ncores, heading. Data: datadir/tl-K.dat with "core start_us end_us" per span, K = 0..7.
rows = ncores < 4 ? 4 : ncores
h = 120 + 22 * rows
if (h > 2400) { h = 2400 }
if (termtype eq "svg") { set terminal svg size 1200,h dynamic font "sans,11" } else { set terminal pngcairo size 1200,h font "sans,10" }
set output out
set title heading noenhanced
set xlabel "simulated time (µs)"
set format x "%.0f"
set ylabel "core"
set yrange [ncores - 0.5:-0.5]
if (ncores <= 32) { set ytics 1 } else { set ytics autofreq }
set style fill solid 1.0 noborder
set key outside right top vertical noenhanced
set grid x
# Drawn in this order, so the innermost activity (a lock wait inside an mm call) is on top.
names = "'mm call' 'fault handler' 'page walk' 'shootdown (sender)' 'IPI handler' 'lock spin' 'lock sleep' 'barrier or idle'"
colors = "#9ecae1 #fdd0a2 #74c476 #de2d26 #fb6a4a #6a51a3 #bcbddc #d9d9d9"
plot for [k=0:7] sprintf("%s/tl-%d.dat", datadir, k) using (($2+$3)/2):1:(($3-$2)/2):(0.42) with boxxyerror lc rgb word(colors, k+1) title word(names, k+1)
