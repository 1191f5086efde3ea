"""The server of cmd/pythoncap: Python's websockets library (10.4, Debian's
python3-websockets) with its default permessage-deflate, which asks for
4 KiB windows both ways (server_max_window_bits=12,
client_max_window_bits=12) and compresses with CPython's zlib. It serves
page.html at / and, at /ws, echoes every message; each echo, once sent, is
logged to SENTLOG as a .sent line (browsertests.Sent). It prints
"listening" once it accepts connections and exits after the first
WebSocket closes.

Usage: python3 server.py PORT PAGE SENTLOG
"""

import asyncio
import hashlib
import http
import json
import sys

import websockets


async def main(port, page, log):
    done = asyncio.get_running_loop().create_future()

    async def echo(ws, path):
        try:
            async for m in ws:
                await ws.send(m)
                b = m.encode() if isinstance(m, str) else m
                line = {
                    "from": "server",
                    "opcode": "text" if isinstance(m, str) else "binary",
                    "len": len(b),
                    "sha256": hashlib.sha256(b).hexdigest(),
                }
                log.write(json.dumps(line, separators=(",", ":")) + "\n")
        finally:
            if not done.done():
                done.set_result(None)

    def serve_page(path, headers):
        if path == "/ws":
            return None  # the WebSocket handshake
        return http.HTTPStatus.OK, [("Content-Type", "text/html; charset=utf-8")], page

    async with websockets.serve(echo, "127.0.0.1", port, process_request=serve_page):
        print("listening", flush=True)
        await done


if __name__ == "__main__":
    port, page, sent = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(page, "rb") as p, open(sent, "w") as log:
        asyncio.run(main(port, p.read(), log))
