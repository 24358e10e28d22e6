"""WeasyPrint opens its libraries without the search that runs ldconfig, gcc and ld."""

import ctypes.util
import subprocess
import sys
from types import ModuleType

from publisher.libraries import _DirectLoader

PROGRAMS_RUN = """
import sys
ran = []
sys.addaudithook(lambda event, args: ran.append(args) if event == "subprocess.Popen" else None)
{imports}
import weasyprint.text.ffi as ffi
assert ffi.pango and ffi.harfbuzz and ffi.fontconfig and ffi.harfbuzz_subset is not None
print(len(ran))
"""


def _programs_run(imports: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROGRAMS_RUN.format(imports=imports)],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_weasyprint_imported_after_publisher_runs_no_program():
    assert _programs_run("") > 0  # WeasyPrint alone searches: ldconfig, gcc, ld
    assert _programs_run("import publisher") == 0


class _Loader:
    """A module's loader whose first import fails as a library that only the search finds."""

    def __init__(self, outcomes):
        self.outcomes, self.searching = list(outcomes), []

    def exec_module(self, module):
        self.searching.append(ctypes.util.find_library("c") is not None)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        module.harfbuzz_subset = outcome


def test_a_library_left_unopened_is_searched_for():
    for first in (OSError("cannot load library"), None):
        loader = _Loader([first, "opened"])
        module = ModuleType("ffi")
        _DirectLoader(loader).exec_module(module)
        assert loader.searching == [False, True]
        assert module.harfbuzz_subset == "opened"


def test_libraries_opened_directly_are_not_searched_for_again():
    loader = _Loader(["opened"])
    _DirectLoader(loader).exec_module(ModuleType("ffi"))
    assert loader.searching == [False]
    assert ctypes.util.find_library("c") is not None
