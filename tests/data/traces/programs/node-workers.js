// node-workers.js: 2 worker_threads (each its own V8 isolate, JIT and heap) and the main thread build and drop
// object graphs and strings, so scavenges, concurrent marking and code-space changes run on several threads.
//   node --v8-pool-size=1 node-workers.js
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
function churn(seed) {
	let keep = [], sum = 0;
	for (let i = 0; i < 60000; i++) {
		const o = { k: i ^ seed, s: 'v' + (i % 977), a: new Array(4 + (i % 16)).fill(i) };
		keep.push(o);
		if (keep.length > 3000) sum += keep.splice((i * 7) % keep.length, 1)[0].a.length;
	}
	return sum + JSON.stringify(keep.slice(0, 200)).length;
}
if (isMainThread) {
	let done = 0;
	for (let w = 0; w < 2; w++) {
		const t = new Worker(__filename, { workerData: w + 1 });
		t.on('message', (m) => { if (++done === 2) console.log('workers done', m); });
	}
	console.log('main', churn(0));
} else {
	parentPort.postMessage(churn(workerData));
}
