#!/usr/bin/env node
// bench/ws_load.js — node `ws` helpers for bench/ws (not part of omnicat).
//
//   ws_load.js load URL CONNS SECS SIZE
//       CONNS connections; once all are open, each sends a text message of SIZE bytes, waits
//       for its echo (checked byte for byte), sends the next, for SECS seconds; then waits for
//       the answers in flight. Prints one line:
//         rt=N secs=S rps=R p50_us=A p99_us=B cpu_s=C
//       (rt: round trips completed; latency: send to echo; cpu_s: this process's user + system
//       time from the start of the round trips)
//       Exits 1 on a wrong echo, a connection error or a close before the end.
//   ws_load.js client URL
//       A client like `omnicat client`: each stdin line is sent as a text message as soon as
//       it is read (no waiting for answers; ws queues them in the socket), each answer is
//       written to stdout as a line; it closes (1000) once stdin ended and every line was
//       answered.
//   ws_load.js sink N
//       Reads stdin, counts lines; when the Nth arrives prints "t_last=T" (wall-clock
//       seconds, comparable with `date +%s.%N`), then reads on to EOF and prints
//       "lines=N bytes=B".
// No compression is offered (perMessageDeflate: false), so every server is measured without.
'use strict';
const path = require('path');
const { performance } = require('perf_hooks');
const WebSocket = require(path.join(__dirname, '../tests/node/node_modules/ws'));

const [mode, ...args] = process.argv.slice(2);
const die = (s) => { process.stderr.write('ws_load: ' + s + '\n'); process.exit(1); };
const opts = { perMessageDeflate: false, maxPayload: 0 };
const wall = () => (performance.timeOrigin + performance.now()) / 1000;

function load(url, conns, secs, size) {
  const msg = Buffer.alloc(size, 'x');
  const lat = [];
  let open = 0, rt = 0, inflight = 0, deadline = 0, t0 = 0, ending = false, cpu0;
  const socks = [];
  for (let i = 0; i < conns; i++) {
    const ws = new WebSocket(url, opts);
    let sentAt = 0n;
    const send = () => { // a text message, as every server echoes it back
      sentAt = process.hrtime.bigint();
      inflight++;
      ws.send(msg, { binary: false });
    };
    ws.on('error', (e) => die(e.message));
    ws.on('close', (code) => { if (!ending) die('connection closed early (' + code + ')'); });
    ws.on('message', (m) => {
      inflight--;
      if (m.length !== size || !msg.equals(m)) die('wrong echo: ' + m.length + ' bytes');
      rt++;
      lat.push(Number(process.hrtime.bigint() - sentAt) / 1e3);
      if (performance.now() < deadline) send();
      else if (inflight === 0) finish();
    });
    ws.on('open', () => {
      if (++open < conns) return;
      t0 = performance.now();
      cpu0 = process.cpuUsage(); // start-up and connecting are not counted
      deadline = t0 + secs * 1000;
      for (const s of socks) s.go();
    });
    ws.go = send;
    socks.push(ws);
  }
  function finish() {
    const el = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0;
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`rt=${rt} secs=${el.toFixed(3)} rps=${(rt / el).toFixed(0)} ` +
      `p50_us=${q(0.5).toFixed(0)} p99_us=${q(0.99).toFixed(0)} ` +
      `cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(3)}\n`);
    ending = true;
    for (const s of socks) s.close(1000);
  }
  setTimeout(() => die('timed out'), (secs + 60) * 1000).unref();
}

function client(url) {
  const ws = new WebSocket(url, opts);
  let sent = 0, got = 0, eof = false, pending = '';
  const outbuf = [];
  const flush = () => {
    if (outbuf.length) { process.stdout.write(outbuf.join('')); outbuf.length = 0; }
  };
  const maybeEnd = () => { if (eof && got === sent) { flush(); ws.close(1000); } };
  ws.on('error', (e) => die(e.message));
  ws.on('message', (m) => {
    outbuf.push(m.toString() + '\n');
    got++;
    if (outbuf.length >= 1024) flush();
    maybeEnd();
  });
  ws.on('open', () => {
    process.stdin.on('data', (d) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop();
      for (const l of lines) { ws.send(l); sent++; }
    });
    process.stdin.on('end', () => {
      if (pending) { ws.send(pending); sent++; }
      eof = true;
      maybeEnd();
    });
  });
  // Answers arrive in bursts: what is buffered goes out when node has nothing else to do.
  setInterval(flush, 5).unref();
}

function sink(n) {
  let lines = 0, bytes = 0, told = false;
  process.stdin.on('data', (d) => {
    bytes += d.length;
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    if (!told && lines >= n) { told = true; process.stdout.write(`t_last=${wall().toFixed(6)}\n`); }
  });
  process.stdin.on('end', () => process.stdout.write(`lines=${lines} bytes=${bytes}\n`));
}

if (mode === 'load' && args.length === 4) load(args[0], +args[1], +args[2], +args[3]);
else if (mode === 'client' && args.length === 1) client(args[0]);
else if (mode === 'sink' && args.length === 1) sink(+args[0]);
else die('usage: ws_load.js load URL CONNS SECS SIZE | client URL | sink N');
