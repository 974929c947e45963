// bench/sse_load.js — the SSE fan-out load: C clients subscribe to http://127.0.0.1:PORT/events,
// print "connected" once all are, then count events (blank-line terminated blocks with a data
// line). Once every client has N events it prints "done MS AT": MS the milliseconds from the
// first event any client saw to the last client's N-th, AT the wall clock then (ms since the
// epoch, so the caller can time from when it started feeding the server). Used for both
// servers alike.
//   node sse_load.js PORT CLIENTS N
'use strict';
const http = require('http');
const [port, clients, want] = process.argv.slice(2).map(Number);
let connected = 0, finished = 0, first = 0;
for (let i = 0; i < clients; i++) {
	const req = http.get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
		if (++connected === clients) console.log('connected');
		let got = 0, tail = '';
		res.setEncoding('latin1');
		res.on('data', (d) => {
			if (!first) first = process.hrtime.bigint();
			// count "\n\n" event ends that close an event with data (keepalives are ":\n\n")
			const s = tail + d;
			let at = s.indexOf('\n\n');
			let from = 0;
			while (at >= 0) {
				if (s.startsWith('id:', from) || s.startsWith('data:', from) || s.startsWith('event:', from)) got++;
				from = at + 2;
				at = s.indexOf('\n\n', from);
			}
			tail = s.slice(from);
			if (got >= want && !res.doneCounting) {
				res.doneCounting = true;
				if (++finished === clients) {
					const ms = Number(process.hrtime.bigint() - first) / 1e6;
					console.log(`done ${ms.toFixed(1)} ${Date.now()}`);
					process.exit(0);
				}
			}
		});
	});
	req.on('error', (e) => { console.error(`client ${i}: ${e.message}`); process.exit(1); });
}
