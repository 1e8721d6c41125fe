"""The limit: a bare `websockets` broadcast server on uvloop, no Django, no channel layer.

    python -m benchmarks.raw_server --port 8765 [--drop-every N]

Rooms by path: every text frame a socket sends goes to every socket on the same path, the sender
included (websockets.broadcast writes it to each without waiting). A socket gets one welcome frame once
it is in its room, so a client knows it will hear the room from then on. --drop-every N leaves out
every Nth frame (the tests' faulty server: the load generator must report the losses).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json

from websockets.asyncio.server import broadcast, serve

WELCOME = json.dumps({"type": "welcome"})


def make_handler(drop_every: int):
    rooms: dict[str, set] = collections.defaultdict(set)
    received = 0

    async def handler(socket) -> None:
        nonlocal received
        room = rooms[socket.request.path]
        room.add(socket)
        try:
            await socket.send(WELCOME)
            async for frame in socket:
                received += 1
                if drop_every and received % drop_every == 0:
                    continue
                if isinstance(frame, str):
                    broadcast(room, frame)
        finally:
            room.discard(socket)

    return handler


async def serve_forever(port: int, drop_every: int) -> None:
    # No compression, like the other servers here as the load generator connects to them.
    async with serve(make_handler(drop_every), "127.0.0.1", port, compression=None, max_queue=None,
                     ping_interval=None, backlog=1024) as server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--drop-every", type=int, default=0, help="leave out every Nth frame (0: none)")
    options = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # make test does not install the bench extra: the standard loop still serves the tests
        asyncio.run(serve_forever(options.port, options.drop_every))
    else:
        uvloop.run(serve_forever(options.port, options.drop_every))


if __name__ == "__main__":
    main()
