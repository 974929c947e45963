#!/usr/bin/env node
// tests/e2e/peers/ws_node.js — WebSocket peers for the tests, with node's `ws` package (an
// implementation independent of lws and of python3-websockets), plus raw `net` servers that
// misbehave on purpose.
//
//   ws_node.js echo PORT          echo server; prints "listening", then "ping HEX" for each
//                                 ping it receives and "close CODE" for each client's close
//   ws_node.js pinger PORT        echo server that pings each client once ("hi"); prints
//                                 "pong hi" when the answer comes
//   ws_node.js push PORT N        sends "msg1".."msgN" to each client, prints "close CODE"
//   ws_node.js send URL MSG...    client: sends each message, waits for its answer, prints it
//   ws_node.js sendfile URL FILE [text]   client: FILE as one message (binary, or text),
//                                 writes the answer to stdout
//   ws_node.js recv URL           client: prints "connected", each message, then "close CODE"
//   ws_node.js flood URL N SIZE   client: sends N text messages of SIZE bytes (each starts
//                                 with its number) without waiting, checks that the N answers
//                                 arrive whole and in order, prints "ok N"
//   ws_node.js ping URL DATA      client: pings, prints "pong DATA" when the pong comes
//   ws_node.js badutf8 URL        client: sends a text frame that is not UTF-8; prints the
//                                 close code the server answers with ("close 1007")
//   ws_node.js raw PORT KIND      a hand-written server: answers the handshake correctly,
//                                 then KIND = badutf8 (a text frame "a" 0xff 0xfe; stays open) or
//                                 cut (a binary frame header announcing 1000 bytes, 10 bytes,
//                                 then the connection is closed)
//   ws_node.js rawframe URL HEX   client over plain `net`: a correct handshake, then the bytes
//                                 HEX as they are (e.g. a frame with a reserved opcode); prints
//                                 "close CODE" from the server's close frame, or "eof"
// No compression anywhere: the frames on the wire are exactly what the tests say.
'use strict';
const path = require('path');
const fs = require('fs');
const net = require('net');
const crypto = require('crypto');
const WebSocket = require(path.join(__dirname, '../../node/node_modules/ws'));

const [mode, a1, ...rest] = process.argv.slice(2);
const out = (s) => process.stdout.write(s + '\n');
const die = (s) => { process.stderr.write('ws_node: ' + s + '\n'); process.exit(1); };
const opts = { perMessageDeflate: false, maxPayload: 0 };

function server(onConn) {
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: +a1, ...opts });
  wss.on('listening', () => out('listening'));
  wss.on('connection', (ws) => {
    ws.on('close', (code) => out('close ' + code));
    onConn(ws);
  });
}

function client(onOpen) {
  const ws = new WebSocket(a1, opts);
  ws.on('error', (e) => die(e.message));
  ws.on('open', () => onOpen(ws));
  setTimeout(() => die('timed out'), 60000).unref();
  return ws;
}

// The RFC 6455 accept key for a client's Sec-WebSocket-Key.
const accept = (key) => crypto.createHash('sha1')
  .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

switch (mode) {
  case 'echo':
    server((ws) => {
      ws.on('ping', (d) => out('ping ' + d.toString('hex')));
      ws.on('message', (m, binary) => ws.send(m, { binary }));
    });
    break;
  case 'pinger':
    server((ws) => {
      ws.on('pong', (d) => out('pong ' + d));
      ws.on('message', (m, binary) => ws.send(m, { binary }));
      ws.ping('hi');
    });
    break;
  case 'push':
    server((ws) => {
      for (let i = 1; i <= +rest[0]; i++) ws.send('msg' + i);
    });
    break;
  case 'send': {
    let i = 0;
    const ws = client((ws) => ws.send(rest[i]));
    ws.on('message', (m) => {
      out(m.toString());
      if (++i < rest.length) ws.send(rest[i]); else ws.close(1000);
    });
    break;
  }
  case 'sendfile': {
    const data = fs.readFileSync(rest[0]);
    const ws = client((ws) => ws.send(data, { binary: rest[1] !== 'text' }));
    ws.on('message', (m) => { process.stdout.write(m); ws.close(1000); });
    break;
  }
  case 'recv': {
    const ws = client(() => out('connected'));
    ws.on('message', (m) => out(m.toString()));
    ws.on('close', (code) => out('close ' + code));
    break;
  }
  case 'flood': {
    const n = +rest[0], size = +rest[1];
    const msg = (i) => String(i).padEnd(size, '.');
    let got = 0;
    const ws = client((ws) => { for (let i = 0; i < n; i++) ws.send(msg(i)); });
    ws.on('message', (m) => {
      if (m.toString() !== msg(got)) die('answer ' + got + ' is wrong: ' + m.toString().slice(0, 20));
      if (++got === n) { out('ok ' + n); ws.close(1000); }
    });
    break;
  }
  case 'ping': {
    const ws = client((ws) => ws.ping(rest[0]));
    ws.on('pong', (d) => { out('pong ' + d); ws.close(1000); });
    break;
  }
  case 'badutf8': {
    // ws does not check what it sends: a Buffer with binary: false goes out as a text frame.
    const ws = client((ws) => ws.send(Buffer.from([0x61, 0xff, 0xfe]), { binary: false }));
    ws.on('close', (code) => out('close ' + code));
    ws.on('error', () => {}); // the server's close may race our read; 'close' still comes
    break;
  }
  case 'raw':
    net.createServer((s) => {
      let head = '';
      s.on('error', () => {});
      s.on('data', (d) => {
        if (head === null) return; // after the handshake: what the client says is ignored
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /^sec-websocket-key: *(\S+)/im.exec(head);
        head = null;
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
                'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept(key ? key[1] : '') +
                '\r\n\r\n');
        if (rest[0] === 'badutf8') {
          s.write(Buffer.from([0x81, 0x03, 0x61, 0xff, 0xfe])); // FIN text, 3 bytes: "a\xff\xfe"
        } else { // cut: FIN binary, 16-bit length 1000, then only 10 bytes and the end
          s.write(Buffer.concat([Buffer.from([0x82, 0x7e, 0x03, 0xe8]), Buffer.alloc(10, 0x41)]));
          s.end();
        }
      });
    }).listen(+a1, '127.0.0.1', () => out('listening'));
    break;
  case 'rawframe': {
    const u = new URL(a1);
    const s = net.connect(+u.port, u.hostname);
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0), upgraded = false;
    setTimeout(() => die('no close frame and no end within 10 s'), 10000).unref();
    s.on('connect', () => s.write('GET ' + u.pathname + ' HTTP/1.1\r\nHost: ' + u.host +
      '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + key +
      '\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = buf.subarray(0, end).toString('latin1');
        if (!headers.startsWith('HTTP/1.1 101') || !headers.includes(accept(key)))
          die('bad handshake answer: ' + headers.split('\r\n')[0]);
        upgraded = true;
        buf = buf.subarray(end + 4);
        s.write(Buffer.from(rest[0], 'hex'));
      }
      // A server frame is unmasked; a close frame (opcode 8) carries its code first.
      if (buf.length >= 4 && (buf[0] & 0x0f) === 8) {
        out('close ' + buf.readUInt16BE(2));
        s.destroy();
      }
    });
    s.on('end', () => { out('eof'); s.destroy(); });
    s.on('error', (e) => die(e.message));
    break;
  }
  default:
    die('unknown mode ' + mode);
}
