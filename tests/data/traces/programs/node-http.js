// node-http.js: an HTTP server that builds a JSON reply per request (allocation, GC) until SIGTERM.
const http = require('http');
let n = 0;
const srv = http.createServer((req, res) => {
  const items = [];
  for (let i = 0; i < 200; i++) items.push({ id: n * 200 + i, name: 'item' + i, tags: ['a' + (i % 7), 'b' + (i % 11)] });
  n++;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(items));
});
srv.listen(8098, '127.0.0.1');
process.on('SIGTERM', () => { srv.close(); process.exit(0); });
