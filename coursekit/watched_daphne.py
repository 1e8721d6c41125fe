"""`python -m coursekit.watched_daphne ARGS`: daphne, with its event loop watched (coursekit.loopwatch).

The tests' daphne servers run this way: when the loop stops answering, a line goes to the server's
log, and the plugin turns it into the failing test's verdict.
"""

import json
import sys
from pathlib import Path

import daphne.server  # installs Twisted's asyncio reactor on daphne.server.twisted_loop
from daphne.cli import CommandLineInterface

from .loopwatch import LOG_MARKER, LoopWatch
from .timing import scaled

WINDOW = 3.0


def report(seconds: float, where: str | None) -> None:
    print(LOG_MARKER + json.dumps({"seconds": seconds, "where": where}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    LoopWatch(daphne.server.twisted_loop, scaled(WINDOW), Path.cwd(), report).start()
    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()
