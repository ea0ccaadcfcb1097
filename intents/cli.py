"""What the `python -m intents…` commands share: bad input is one clear line, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run(main: Callable[[], int]) -> int:
    """Call a command's `main`; a missing file or a malformed CSV/taxonomy/model exits 2 with one line."""
    try:
        return main()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
