"""The `kg` command (`python -m kg`, and the console script): the command line loaded, then run.

Loading its modules takes a few tenths of a second, half a second on a busy machine; a Ctrl-C then
ends it as it ends any command, in one line with the status a shell gives SIGINT, rather than with
Python's traceback of the import it stopped. Only the standard library is loaded before.
"""

from __future__ import annotations

import signal
import sys

STOPPED = "error: interrupted (SIGINT)\n"  # as kg.cli says it, which is not loaded yet


def main() -> None:
    """Load the command line and run it."""
    try:
        from kg.cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write(STOPPED)
        sys.exit(128 + signal.SIGINT)
    command()


if __name__ == "__main__":
    main()
