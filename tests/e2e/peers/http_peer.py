#!/usr/bin/env python3
"""tests/e2e/peers/http_peer.py — a small, independent HTTP/1.1 server for the HTTP tests
(Python's http.server, threaded). It prints "listening PORT" once it accepts connections.

  http_peer.py PORT [--tls CERT KEY]

Routes:
  /echo...       200 with a JSON object describing the request (method, path, headers, body)
  /status/N      answers status N with body "status N"
  /slow/S        waits S seconds, then 200 "slow"
  /etag          serves the file named by $ETAG_FILE with an ETag; 304 on If-None-Match
  /hook          checks X-Hub-Signature-256 against $HMAC_KEY; 200 "good" or 401 "bad";
                 appends each good body as a line to $HOOK_LOG
  /auth          401 unless Basic user:secret
  anything else  a file under the current directory (like python -m http.server)
"""
import base64, hashlib, hmac, http.server, json, os, ssl, sys, time


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        return True

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        p = self.path
        if p.startswith("/echo"):
            data = self.body()
            out = {"method": self.command, "path": p,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": data.decode("latin-1")}
            return self.reply(200, json.dumps(out), "application/json")
        if p.startswith("/status/"):
            self.body()
            n = int(p.split("/")[2])
            return self.reply(n, "" if n in (204, 304) else "status %d" % n)
        if p.startswith("/slow/"):
            time.sleep(float(p.split("/")[2]))
            return self.reply(200, "slow")
        if p == "/etag":
            with open(os.environ["ETAG_FILE"], "rb") as f:
                data = f.read()
            tag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
            if self.headers.get("If-None-Match") == tag:
                return self.reply(304, b"", headers=[("ETag", tag)])
            return self.reply(200, data, headers=[("ETag", tag)])
        if p == "/hook":
            data = self.body()
            key = os.environ["HMAC_KEY"].encode()
            want = "sha256=" + hmac.new(key, data, hashlib.sha256).hexdigest()
            got = self.headers.get("X-Hub-Signature-256", "")
            if not hmac.compare_digest(want, got):
                return self.reply(401, "bad")
            with open(os.environ["HOOK_LOG"], "ab") as f:
                f.write(data + b"\n")
            return self.reply(200, "good")
        if p == "/auth":
            want = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, "who are you", headers=[("WWW-Authenticate", 'Basic realm="t"')])
            return self.reply(200, "welcome")
        return None

    def do_GET(self):
        if self.route() is None:
            super().do_GET()

    def do_HEAD(self):
        if self.route() is None:
            super().do_HEAD()

    do_POST = do_PUT = do_DELETE = do_PATCH = route


def main():
    port = int(sys.argv[1])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if len(sys.argv) > 2 and sys.argv[2] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening", port, flush=True)
    srv.serve_forever()


main()
