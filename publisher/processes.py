"""What the build's helper processes (section workers, jieba's process) share."""

from __future__ import annotations

import os
import threading
import time


def end_with(build: int) -> None:
    """End this helper process when the build process `build` ends: a build that is killed
    cannot end its helpers, which would wait for work forever and hold its terminal open."""
    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(build, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # the number is another user's process now
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ends-with-the-build").start()
