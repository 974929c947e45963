// bench/sse_node_server.js — the contender: the SSE broadcast server a node user would write
// with the http module. Each stdin line is an event ("id: n", "data: line") written to every
// connected client; prints "listening".
//   node sse_node_server.js PORT < lines
'use strict';
const http = require('http');
const readline = require('readline');
const port = Number(process.argv[2]);
const clients = new Set();
let n = 0;
http.createServer((req, res) => {
	res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
	res.flushHeaders(); // node holds the head back until the first write otherwise
	clients.add(res);
	req.on('close', () => clients.delete(res));
}).listen(port, '127.0.0.1', () => console.log('listening'));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
	const ev = `id: ${++n}\ndata: ${line}\n\n`;
	for (const res of clients) res.write(ev);
});
