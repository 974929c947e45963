#!/usr/bin/env python3
"""tests/e2e/peers/coap_stub.py — a CoAP (RFC 7252, UDP) peer with a fixed answer, for the
answers libcoap's coap-server does not give (4.01, 4.03, 5.03) and for a server that never
answers.

  coap_stub.py PORT CODE [PAYLOAD]   answers every request with CODE ("4.01") and PAYLOAD: a
                                     piggybacked ACK for a CON request, a NON for a NON one
  coap_stub.py PORT silent           reads requests and never answers

Binds 127.0.0.1:PORT, prints "ready", then one line per request it gets:
"TYPE CODE MID TOKEN-HEX from ADDR [NUMBER=VALUE ...]", the options by number, their values
as text when printable, else 0x hex (e.g. "CON 0.01 1234 cafe from 127.0.0.1 11=temp");
flushed at once.
"""
import random
import socket
import sys

TYPES = ["CON", "NON", "ACK", "RST"]


def options(b):
    """The options of a message after its token: (number, shown value) pairs."""
    number, i = 0, 0
    while i < len(b) and b[i] != 0xff:
        delta, length = b[i] >> 4, b[i] & 15
        i += 1
        ext = {13: (1, 13), 14: (2, 269)}
        if delta in ext:
            n, base = ext[delta]
            delta = int.from_bytes(b[i:i + n], "big") + base
            i += n
        if length in ext:
            n, base = ext[length]
            length = int.from_bytes(b[i:i + n], "big") + base
            i += n
        number += delta
        value = b[i:i + length]
        i += length
        text = value.decode("ascii", "replace")
        shown = text if value and text.isprintable() else "0x" + value.hex()
        yield number, shown


def main():
    port = int(sys.argv[1])
    mode = sys.argv[2]
    payload = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    code = None
    if mode != "silent":
        cls, detail = mode.split(".")
        code = (int(cls) << 5) | int(detail)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        data, addr = s.recvfrom(65536)
        if len(data) < 4 or data[0] >> 6 != 1:
            continue
        typ = (data[0] >> 4) & 3
        tkl = data[0] & 15
        rcode = data[1]
        mid = int.from_bytes(data[2:4], "big")
        token = data[4:4 + tkl]
        opts = " ".join("%d=%s" % o for o in options(data[4 + tkl:]))
        print("%s %d.%02d %d %s from %s %s" % (TYPES[typ], rcode >> 5, rcode & 31, mid,
                                               token.hex(), addr[0], opts), flush=True)
        if code is None or rcode == 0 or rcode >> 5 != 0:
            continue  # silent, a ping (answered by nothing here) or not a request
        if typ == 0:
            rtype, rmid = 2, mid
        elif typ == 1:
            rtype, rmid = 1, random.randrange(65536)
        else:
            continue
        msg = bytes([0x40 | (rtype << 4) | tkl, code]) + rmid.to_bytes(2, "big") + token
        if payload:
            msg += b"\xff" + payload
        s.sendto(msg, addr)


if __name__ == "__main__":
    main()
