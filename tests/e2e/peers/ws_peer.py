#!/usr/bin/env python3
"""tests/e2e/peers/ws_peer.py — WebSocket peers for the tests, with python3-websockets.

  ws_peer.py echo PORT [--protocols a,b] [--no-compress]   echo server; prints "listening"
  ws_peer.py close PORT CODE REASON                        closes each client with CODE
  ws_peer.py count PORT                                    prints what it receives, one line
                                                           per message (binary as hex)
  ws_peer.py repl PORT                                     echo server that prints "got
                                                           MESSAGE" (repr, binary as hex) and
                                                           "closed CODE" when a client goes;
                                                           "push-later" is answered with
                                                           "pushed by the server" once the
                                                           file push.go exists, "binary-please"
                                                           with the bytes 00 01 fe ff
  ws_peer.py send URL MESSAGE...                           client: sends, prints answers
  ws_peer.py sendfile URL FILE                             client: sends FILE as one binary
                                                           message, writes the answer to stdout
  ws_peer.py sendbin URL TEXT                              client: sends TEXT as a binary
                                                           message, prints the answer (binary
                                                           as "hex:...")
  ws_peer.py recv URL N                                    client: prints N messages (text,
                                                           or "hex:..." for binary)
"""
import asyncio, os, sys, websockets


def show(m):
    return m if isinstance(m, str) else "hex:" + m.hex()


async def serve(handler, port, **kw):
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, **kw):
        print("listening", flush=True)
        await asyncio.Future()


async def main():
    mode = sys.argv[1]
    if mode == "echo":
        kw = {}
        if "--protocols" in sys.argv:
            kw["subprotocols"] = sys.argv[sys.argv.index("--protocols") + 1].split(",")
        if "--no-compress" in sys.argv:
            kw["compression"] = None

        async def echo(ws):
            async for m in ws:
                await ws.send(m)
        await serve(echo, int(sys.argv[2]), **kw)
    elif mode == "close":
        code, reason = int(sys.argv[3]), sys.argv[4]

        async def close(ws):
            await ws.recv()
            await ws.close(code, reason)
        await serve(close, int(sys.argv[2]))
    elif mode == "count":
        async def count(ws):
            async for m in ws:
                print(show(m), flush=True)
        await serve(count, int(sys.argv[2]))
    elif mode == "repl":
        async def later(ws):
            for _ in range(400):  # the test creates push.go within its own wait limits
                if os.path.exists("push.go"):
                    await ws.send("pushed by the server")
                    return
                await asyncio.sleep(0.05)

        async def repl(ws):
            try:
                async for m in ws:
                    print("got", repr(show(m)), flush=True)
                    if m == "push-later":
                        asyncio.ensure_future(later(ws))
                    elif m == "binary-please":
                        await ws.send(b"\x00\x01\xfe\xff")
                    else:
                        await ws.send(m)
            finally:
                print("closed", ws.close_code, flush=True)
        await serve(repl, int(sys.argv[2]))
    elif mode == "send":
        async with websockets.connect(sys.argv[2], max_size=None) as ws:
            for m in sys.argv[3:]:
                await ws.send(m)
                print(show(await asyncio.wait_for(ws.recv(), 10)), flush=True)
    elif mode == "sendfile":
        async with websockets.connect(sys.argv[2], max_size=None) as ws:
            with open(sys.argv[3], "rb") as f:
                await ws.send(f.read())
            m = await asyncio.wait_for(ws.recv(), 60)
            sys.stdout.buffer.write(m if isinstance(m, bytes) else m.encode())
    elif mode == "sendbin":
        async with websockets.connect(sys.argv[2], max_size=None) as ws:
            await ws.send(sys.argv[3].encode())
            print(show(await asyncio.wait_for(ws.recv(), 10)), flush=True)
    elif mode == "recv":
        async with websockets.connect(sys.argv[2], max_size=None) as ws:
            print("connected", flush=True)
            for _ in range(int(sys.argv[3])):
                print(show(await asyncio.wait_for(ws.recv(), 20)), flush=True)


asyncio.run(main())
