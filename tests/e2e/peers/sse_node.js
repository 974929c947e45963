#!/usr/bin/env node
// tests/e2e/peers/sse_node.js — a Server-Sent Events server written with node's http module,
// the independent peer of omnicat's SSE client. Prints "listening" when ready and one line
// per connection ("connect last-event-id=X") so tests can see reconnects.
//
//   node sse_node.js PORT [--events N] [--drop K] [--retry MS]
//
//   GET /events   "retry: MS" (when given), then events 1..N: event i has id i, event name
//                 "tick" when i is even, and two data lines "line i" and "second i". A
//                 client sending Last-Event-ID j gets j+1..N. With --drop K the connection
//                 is cut (not ended cleanly) after K events; otherwise it stays open.
//   GET /auth     401      GET /missing  404      GET /plain  200 text/plain
//   GET /nocontent 204 (the standard's "stop reconnecting")
'use strict';
const http = require('http');

const args = process.argv.slice(2);
const port = Number(args[0]);
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? Number(args[i + 1]) : dflt;
};
const total = opt('--events', 5);
const drop = opt('--drop', 0);
const retry = opt('--retry', 0);

function events(req, res) {
	const last = Number(req.headers['last-event-id'] || 0);
	console.log(`connect last-event-id=${req.headers['last-event-id'] || '-'}`);
	res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
	if (retry)
		res.write(`retry: ${retry}\n\n`);
	let sent = 0;
	for (let i = last + 1; i <= total; i++) {
		let ev = `id: ${i}\n`;
		if (i % 2 === 0)
			ev += 'event: tick\n';
		ev += `data: line ${i}\ndata: second ${i}\n\n`;
		res.write(ev);
		sent++;
		if (drop && sent === drop) {
			// Cut it after the bytes left: a reset, as a crashed server gives.
			res.socket.end(() => res.socket.destroy());
			return;
		}
	}
	res.write(': all sent\n\n');
}

const server = http.createServer((req, res) => {
	const path = req.url.split('?')[0];
	if (path === '/events')
		return events(req, res);
	if (path === '/auth') {
		res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
		return res.end('no\n');
	}
	if (path === '/plain') {
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		return res.end('data: not an event stream\n\n');
	}
	if (path === '/nocontent') {
		res.writeHead(204);
		return res.end();
	}
	res.writeHead(404);
	res.end('not found\n');
});
server.listen(port, '127.0.0.1', () => console.log('listening'));
