#!/usr/bin/python3
"""bench/ws_client.py URL — a python3-websockets client like `omnicat client` (for bench/ws).

Each stdin line is sent as a text message as soon as it is read, without waiting for answers
(`await ws.send()` waits only when websockets' write buffer is full: its flow control); a
second task writes each answer to stdout as a line. Once stdin ended and every line was
answered, it closes (1000) and exits. No compression is offered. Exit 1 on a connection error.
"""
import asyncio
import sys

import websockets


async def main(url):
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        sent = 0
        done = asyncio.Event()
        stdin_ended = False
        got = 0
        out = sys.stdout

        async def receive():
            nonlocal got
            async for m in ws:
                out.write(m + "\n")
                got += 1
                if stdin_ended and got == sent:
                    break
            out.flush()
            done.set()

        reader = asyncio.create_task(receive())
        loop = asyncio.get_running_loop()
        # stdin is read in a thread, 64 KiB at a time, so the event loop never blocks on it.
        rest = b""
        while True:
            chunk = await loop.run_in_executor(None, sys.stdin.buffer.read1, 65536)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                await ws.send(line.decode())
                sent += 1
        if rest:
            await ws.send(rest.decode())
            sent += 1
        stdin_ended = True
        if got == sent:
            done.set()
        await done.wait()
        reader.cancel()


try:
    asyncio.run(main(sys.argv[1]))
except (OSError, websockets.WebSocketException) as e:
    print(f"ws_client.py: {e}", file=sys.stderr)
    sys.exit(1)
