"""WeasyPrint's libraries opened by their Linux names, without a search.

WeasyPrint 70 opens each of its libraries (GObject, Pango, HarfBuzz, fontconfig) by trying a
list of names, Windows' and macOS's first. cffi hands every name that does not open to
`ctypes.util.find_library`, which runs ldconfig, then gcc and ld: some two hundred programs and a
third of a second on every import of WeasyPrint (the build's, its workers' server's, `watch`'s).
The Linux names are in those lists and open directly, so while `weasyprint.text.ffi` is imported
the search finds nothing. Where that leaves a library unopened (one that only the search finds),
the module is imported again, with the search.
"""

from __future__ import annotations

import sys

_MODULE = "weasyprint.text.ffi"


# Plain classes, not importlib.abc's, and ctypes imported only when WeasyPrint is: every command
# imports this module, and a command that lays nothing out need not pay for them.
class _DirectLoader:
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        import ctypes.util

        search = ctypes.util.find_library
        ctypes.util.find_library = lambda name: None
        try:
            self._loader.exec_module(module)
            opened = module.harfbuzz_subset is not None
        except OSError:
            opened = False
        finally:
            ctypes.util.find_library = search
        if not opened:
            self._loader.exec_module(module)


class _DirectFinder:
    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    spec.loader = _DirectLoader(spec.loader)
                    return spec
        return None


def open_directly() -> None:
    """Have WeasyPrint, when this process imports it, open its libraries without a search."""
    if _MODULE not in sys.modules and not any(
            isinstance(finder, _DirectFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DirectFinder())
