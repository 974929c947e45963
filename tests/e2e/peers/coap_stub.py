#!/usr/bin/env python3
"""tests/e2e/peers/coap_stub.py — a CoAP (RFC 7252, UDP) peer with a fixed answer, for the
answers libcoap's coap-server does not give (4.01, 4.03, 5.03) and for a server that never
answers.

  coap_stub.py PORT CODE [PAYLOAD]   answers every request with CODE ("4.01") and PAYLOAD: a
                                     piggybacked ACK for a CON request, a NON for a NON one
  coap_stub.py PORT silent           reads requests and never answers

Binds 127.0.0.1:PORT, prints "ready", then one line per request it gets:
"TYPE CODE MID TOKEN-HEX" (e.g. "CON 0.01 1234 cafe"); flushed at once.
"""
import random
import socket
import sys

TYPES = ["CON", "NON", "ACK", "RST"]


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
        print("%s %d.%02d %d %s" % (TYPES[typ], rcode >> 5, rcode & 31, mid, token.hex()),
              flush=True)
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
