// node-wasm.js: a WebAssembly memory (V8 reserves its whole guarded region up front) grown one 64 KiB page at a time while written.
const mem = new WebAssembly.Memory({ initial: 1, maximum: 4096 });
let sum = 0;
for (let i = 0; i < 300; i++) {
  mem.grow(1);
  const v = new Uint8Array(mem.buffer);
  for (let j = 0; j < v.length; j += 4096) v[j] = i & 255;
  sum += v[v.length - 4096];
}
const shared = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
for (let i = 0; i < 32; i++) { shared.grow(1); new Uint8Array(shared.buffer)[i * 65536] = 1; }
console.log(mem.buffer.byteLength, sum);
