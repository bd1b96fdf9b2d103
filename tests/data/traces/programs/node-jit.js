// node-jit.js: hot functions that V8 compiles (Sparkplug, Maglev/TurboFan), a typed-array sieve and JSON, so the JIT
// writes and flips code pages.   node node-jit.js
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function sieve(n) {
	const s = new Uint8Array(n + 1);
	let c = 0;
	for (let i = 2; i <= n; i++) {
		if (s[i]) continue;
		c++;
		for (let j = i * i; j <= n; j += i) s[j] = 1;
	}
	return c;
}
let objs = [];
for (let i = 0; i < 20000; i++) objs.push({ i, s: 'x' + i, a: [i, i * 2] });
const text = JSON.stringify(objs);
const back = JSON.parse(text);
console.log(fib(27), sieve(2000000), back.length, text.length);
