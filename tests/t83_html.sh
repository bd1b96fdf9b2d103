#!/bin/sh
# t83_html.sh: teaching mode's pages in a real browser (headless Chromium): each lesson's page runs without script errors, says every step in the terminal's words, works offline and stays small; the shootdown and mmap_lock lessons show the right changes between named steps; keys, #step=N, a phone's width, print and a screenshot.
# usage: t83_html.sh PATH/TO/mmsim PATH/TO/t83_png   (exit 77 = skipped: no chromium)
. "$(dirname "$0")/testlib.sh" "$@"
PNG=$2
D=$(cd "$(dirname "$0")/.." && pwd)
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (apt-get install chromium): the pages were not tested in a browser"
	exit 77
fi
# browse ARGS...: headless Chromium, offline, with a fresh profile; its log (the page's console) goes to $tmp/console.
browse() {
	prof=$(mktemp -d "$tmp/prof.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --user-data-dir="$prof" \
		--proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 "$@" 2>"$tmp/console"
}
# lines FILE: the text of every transcript line of a DOM (or of a part of one), one per line.
lines() {
	grep -o '<div class="ln k-[a-z][^"]*"[^>]*>[^<]*</div>' "$1" | sed -e 's/^<div[^>]*>//' -e 's/<\/div>$//' \
		-e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&nbsp;/ /g' -e 's/&quot;/"/g' -e 's/&amp;/\&/g'
}
# part FILE SPLIT START OUT: the first piece of FILE between SPLIT markers that begins with a match of the regex START.
part() {
	awk -v RS="$2" -v w="^$3" '$0 ~ w { print; exit }' "$1" >"$4"
}
# sec N: the regex of the start of step N's section after '<section class="step'.
sec() { echo "( cur)?\" id=\"step-$1\""; }

# ---- the site: every lesson, an index, only into a folder of its own ----
"$M" explain --html-site "$tmp/site" >"$tmp/site.out" 2>&1 || fail "--html-site failed: $(head -c 300 "$tmp/site.out")"
[ -s "$tmp/site/index.html" ] || fail "no index.html"
n=0
for l in "$D"/lessons/*.mmsim; do
	name=$(basename "$l" .mmsim)
	n=$((n + 1))
	grep -q "href=\"$name.html\"" "$tmp/site/index.html" || fail "the index does not link $name.html"
	[ -s "$tmp/site/$name.html" ] || fail "no page for lesson $name"
done
[ "$n" -ge 6 ] || fail "only $n lessons"
"$M" explain --html-site "$tmp/site" >/dev/null 2>&1 || fail "rewriting a site it wrote before was refused"
"$M" explain --html-site "$D/lessons" >"$tmp/o" 2>&1
[ $? -eq 2 ] && grep -q "never a tracked one" "$tmp/o" || fail "--html-site into lessons/ (a tracked folder) was not refused: $(cat "$tmp/o")"
[ -e "$D/lessons/index.html" ] && fail "--html-site wrote into lessons/"
"$M" explain --html-site >/dev/null 2>&1 && fail "--html-site without a folder should be a usage error"
"$M" explain --design linux,cortenmm-adv "$D/lessons/06-two-cores-mmap.mmsim" >"$tmp/o" 2>&1
[ $? -eq 2 ] || fail "two designs in the terminal should be refused"

# ---- each lesson's page: byte-identical, small, offline, no script errors, the terminal's words ----
for l in "$D"/lessons/*.mmsim; do
	name=$(basename "$l" .mmsim)
	page=$tmp/site/$name.html
	"$M" explain --html "$tmp/$name.html" --log "$tmp/$name.json" "$l" 2>"$tmp/err" || fail "$name: --html failed: $(cat "$tmp/err")"
	cmp -s "$page" "$tmp/$name.html" || fail "$name: the page differs between two runs (or from the site's)"
	size=$(wc -c <"$page")
	[ "$size" -lt 2097152 ] || fail "$name: the page is $size bytes (at most 2 MiB)"
	grep -Eqi '(src|href)[[:space:]]*=' "$page" && fail "$name: the page refers to another file: $(grep -Eoi '(src|href)[[:space:]]*=[^ >]*' "$page" | head -3)"
	grep -qi 'url(' "$page" && fail "$name: the page has a url()"
	# The log --log writes is the one the page draws.
	awk '/<script type="application\/json" id="mmsim-log">/ { sub(/.*id="mmsim-log">/, ""); on = 1 } on { if (sub(/<\/script>.*/, "")) { printf "%s", $0; exit } print }' "$page" >"$tmp/embedded.json"
	cmp -s "$tmp/embedded.json" "$tmp/$name.json" || fail "$name: the page's log differs from --log's"
	browse --dump-dom "file://$page" >"$tmp/$name.dom"
	grep -q '<html[^>]* data-ready="1"' "$tmp/$name.dom" || fail "$name: the page did not finish drawing: $(grep -i 'console' "$tmp/console" | head -3)"
	grep -q 'data-errors=' "$tmp/$name.dom" && fail "$name: script errors: $(grep -o 'data-error="[^"]*"' "$tmp/$name.dom")"
	grep -Ei 'uncaught|:ERROR:CONSOLE|CONSOLE\(.*error' "$tmp/console" && fail "$name: errors in the page's console"
	grep -Eqi '(src|href)[[:space:]]*=[[:space:]]*"[^#]' "$tmp/$name.dom" && fail "$name: the drawn page refers to another file"
	grep -qi 'url(' "$tmp/$name.dom" && fail "$name: the drawn page has a url()"
	# Every step's words are the terminal's: all the lines, in order, and one section per command, in order.
	"$M" explain "$l" >"$tmp/$name.term" 2>/dev/null
	lines "$tmp/$name.dom" >"$tmp/$name.lines"
	diff -u "$tmp/$name.term" "$tmp/$name.lines" >"$tmp/$name.diff" || {
		fail "$name: the page's lines differ from the terminal's:"
		head -20 "$tmp/$name.diff"
	}
	grep '^mmsim> ' "$tmp/$name.term" | sed 's/^mmsim> //' >"$tmp/$name.cmds"
	grep -o '<section class="step[^"]*" id="step-[0-9]*" data-step="[0-9]*" data-cmd="[^"]*"' "$tmp/$name.dom" |
		sed -e 's/.*data-cmd="//' -e 's/"$//' -e 's/&quot;/"/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g' >"$tmp/$name.secs"
	cmp -s "$tmp/$name.cmds" "$tmp/$name.secs" || fail "$name: the sections are not the commands, one each: $(diff "$tmp/$name.cmds" "$tmp/$name.secs" | head -5)"
	# Step by step: the terminal's lines from the comments before a command to the end of its output are its section's.
	rm -f "$tmp"/term-step-*
	awk -v out="$tmp/term-step-" '
		{ said = /^mmsim> / || (!/^#/ && $0 != "") }
		(/^mmsim> / || !said) && talked { k++; talked = 0 }
		{ print > (out (k + 1)) }
		/^mmsim> / { talked = 1 }' "$tmp/$name.term"
	k=0
	for t in $(ls "$tmp"/term-step-* | sort -t- -k3 -n); do
		k=$((k + 1))
		part "$tmp/$name.dom" '<section class="step' "$(sec $k)" "$tmp/sec"
		lines "$tmp/sec" | cmp -s "$t" - || fail "$name: step $k's words differ from the terminal's: $(lines "$tmp/sec" | diff "$t" - | head -4)"
	done
	[ "$k" -eq "$(grep -o '<section class="step' "$tmp/$name.dom" | wc -l)" ] || fail "$name: $k steps in the terminal, other sections on the page"
done

# ---- the shootdown lesson: what changed between named steps ----
dom=$tmp/05-shootdown-lazy.dom
# step CMD OUT: the section of lesson 5's step that ran CMD; core FILE N OUT: core N's pane in it.
step() { part "$dom" '<section class="step' "$(sec "$(grep -nxF "$1" "$tmp/05-shootdown-lazy.secs" | head -1 | cut -d: -f1)")" "$2"; }
core() { part "$1" '<section class="core" data-core="' "$2\"" "$3"; }
step "touch buf 8K r on 1" "$tmp/s-touch1"
core "$tmp/s-touch1" 1 "$tmp/c1"
grep -q 'class="row add tlbe" data-state="added" data-va="0x100000001000" data-n="2"' "$tmp/c1" || fail "lesson 5: core 1 did not gain the two pages' entries when it touched them"
grep -q 'class="lk miss" data-out="miss" data-va="0x100000001000"' "$tmp/c1" || fail "lesson 5: core 1's first read is not a TLB miss"
step "munmap buf 4K" "$tmp/s-munmap"
for c in 1 2 3; do
	core "$tmp/s-munmap" $c "$tmp/c"
	grep -q 'data-state="flushed" data-va="0x100000001000"' "$tmp/c" || fail "lesson 5: after the shootdown core $c does not show 0x100000001000 flushed"
	grep -Eq 'data-state="(held|added)" data-va="0x100000001000"' "$tmp/c" && fail "lesson 5: after the shootdown core $c still holds 0x100000001000"
	grep -q 'data-state="held" data-va="0x100000002000"' "$tmp/c" || fail "lesson 5: core $c lost 0x100000002000, which was not unmapped"
	grep -q "<g class=\"ipi\" data-from=\"0\" data-to=\"$c\" data-work=\"[1-9]" "$tmp/s-munmap" || fail "lesson 5: no IPI arrow from core 0 to core $c with its cost"
	grep -q "in the handler\|interrupted by core 0" "$tmp/c" || fail "lesson 5: core $c does not say core 0 interrupted it"
done
step "munmap buf+4K 4K" "$tmp/s-lazy"
grep -q '<g class="ipi"' "$tmp/s-lazy" && fail "lesson 5: the lazy munmap sent IPIs"
step "advance 5ms" "$tmp/s-adv"
core "$tmp/s-adv" 2 "$tmp/c"
grep -q 'data-state="flushed" data-va="0x100000001000" data-n="2"' "$tmp/c" || fail "lesson 5: core 2's tick did not flush both pages"

# ---- lesson 6 side by side: linux waits for mmap_lock, cortenmm-adv does not ----
"$M" explain --html "$tmp/two.html" --design linux,cortenmm-adv "$D/lessons/06-two-cores-mmap.mmsim" || fail "--design linux,cortenmm-adv --html failed"
browse --dump-dom "file://$tmp/two.html" >"$tmp/two.dom"
grep -q 'data-errors=' "$tmp/two.dom" && fail "two designs: script errors"
part "$tmp/two.dom" '<section class="step' "$(sec 3)" "$tmp/s3"
part "$tmp/s3" '<div class="col" data-run="' '0"' "$tmp/linux"
part "$tmp/s3" '<div class="col" data-run="' '1"' "$tmp/corten"
grep -q '<li class="lock waited" data-lock="[0-9]*"><span class="sym">[^<]*</span><span class="txt">mmap_lock' "$tmp/linux" || fail "two designs: linux's core does not wait for mmap_lock"
grep -q 'class="lock waited"' "$tmp/corten" && fail "two designs: a cortenmm-adv core waited"
"$M" explain --design cortenmm-adv "$D/lessons/06-two-cores-mmap.mmsim" >"$tmp/corten.term"
awk -v RS='<div class="col" data-run="' '/^1"/ { print }' "$tmp/two.dom" >"$tmp/corten.cols"
lines "$tmp/corten.cols" | diff -u "$tmp/corten.term" - >"$tmp/two.diff" || { fail "two designs: cortenmm-adv's column is not its terminal transcript"; head "$tmp/two.diff"; }

# ---- keys, #step=N and a phone's width, from a page that holds the lesson in a frame ----
cat >"$tmp/harness.html" <<'EOF'
<!DOCTYPE html><html><body>
<iframe id="f" style="width:375px;height:700px;border:0"></iframe>
<script>
var pages = PAGES, out = [], f = document.getElementById('f'), k = 0;
function key(doc, name, shift) { doc.dispatchEvent(new KeyboardEvent('keydown', { key: name, shiftKey: !!shift, bubbles: true })); }
function next() {
	if (k === pages.length) { document.body.dataset.res = out.join(' '); return; }
	f.onload = function () {
		var d = f.contentDocument, w = d.documentElement;
		out.push(pages[k] + ':width=' + w.scrollWidth + '/' + w.clientWidth);
		if (k === 0) {
			key(d, 'ArrowRight'); out.push('right=' + f.contentWindow.location.hash);
			key(d, 'ArrowRight', true); out.push('shiftright=' + f.contentWindow.location.hash);
			key(d, 'End'); out.push('end=' + f.contentWindow.location.hash);
			key(d, 'Home'); out.push('home=' + f.contentWindow.location.hash);
			out.push('cur=' + d.querySelector('section.step.cur').id);
		}
		k++;
		next();
	};
	f.src = pages[k] + (k === 0 ? '#step=7' : '#all');
}
next();
</script></body></html>
EOF
list=$(for l in "$D"/lessons/05-*.mmsim "$D"/lessons/*.mmsim; do printf '"%s.html",' "$(basename "$l" .mmsim)"; done)
sed -i "s/PAGES/[${list%,}]/" "$tmp/harness.html"
cp "$tmp/harness.html" "$tmp/site/harness.html"
browse --allow-file-access-from-files --virtual-time-budget=20000 --dump-dom "file://$tmp/site/harness.html" >"$tmp/harness.dom"
res=$(grep -o 'data-res="[^"]*"' "$tmp/harness.dom")
[ -n "$res" ] || fail "the harness page gave no result"
echo "$res" | grep -Eq 'right=#step=8 shiftright=#step=(8|9)&amp;sub=1 end=#step=12 home=#step=1 cur=step-1' ||
	fail "keys: the arrow keys, shift+arrow, End and Home did not move through the steps as they should: $res"
for w in $(echo "$res" | grep -o 'width=[0-9]*/[0-9]*'); do
	a=${w#width=}
	[ "${a%/*}" -le "${a#*/}" ] || fail "at 375 px a page scrolls sideways: $res"
done
rm -f "$tmp/site/harness.html"
browse --dump-dom "file://$tmp/site/05-shootdown-lazy.html#step=7&sub=5" >"$tmp/hash.dom"
grep -q '<section class="step cur" id="step-7"' "$tmp/hash.dom" || fail "#step=7 did not open step 7"
grep -q 'class="ln k-n cur" data-sub="4"' "$tmp/hash.dom" || fail "&sub=5 did not select the fifth sub-step"

# ---- print: every step, not only the current one ----
browse --print-to-pdf="$tmp/l5.pdf" --no-pdf-header-footer "file://$tmp/site/05-shootdown-lazy.html" >/dev/null
pages=$(grep -ac '/Type /Page\b' "$tmp/l5.pdf" 2>/dev/null || echo 0)
[ "$pages" -ge 8 ] || fail "print: lesson 5's 12 steps came out on $pages pages (print styles should print every step)"

# ---- a screenshot is not blank ----
browse --screenshot="$tmp/shot.png" --window-size=1280,1800 "file://$tmp/site/05-shootdown-lazy.html#step=7&sub=5" >/dev/null
share=$("$PNG" blank "$tmp/shot.png" | cut -d' ' -f1)
echo "screenshot of lesson 5, step 7: ${share}% of the pixels differ from the background"
awk -v s="$share" 'BEGIN { exit !(s >= 5 && s <= 95) }' || fail "the screenshot looks blank (or all one colour): ${share}% drawn"

finish t83_html
