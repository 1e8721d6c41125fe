"""One ordinary WebSocket client on each process of `make two-servers`: 8002 speaks, 8001 hears.

    .venv/bin/python lessons/04_redis/two_clients.py
"""

import asyncio
import json

from websockets.asyncio.client import connect


async def main():
    # An Origin is required: redissite/asgi.py checks it with AllowedHostsOriginValidator.
    async with connect("ws://127.0.0.1:8001/ws/chat/lobby/", origin="http://127.0.0.1:8001") as on_8001, \
            connect("ws://127.0.0.1:8002/ws/chat/lobby/", origin="http://127.0.0.1:8002") as on_8002:
        await on_8002.send(json.dumps({"text": "hello from 8002"}))
        print("8001 got:", await asyncio.wait_for(on_8001.recv(), 5))


if __name__ == "__main__":
    asyncio.run(main())
