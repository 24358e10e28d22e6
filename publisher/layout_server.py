"""Imported by the section workers' server alone (`processes.layout_server`): a worker that
cannot start, because its build was stopped while it started (Ctrl-C, SIGTERM: the build has
removed what the worker takes up), ends without a traceback after the build's one line. A
build that goes on reports a worker that did not start itself. A worker that has started takes
Python's own hook back (`publisher.pdf.sections`)."""

import sys


def _unstarted(*_exception) -> None:
    pass


sys.excepthook = _unstarted
