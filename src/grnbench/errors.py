"""Our own error types: every bad input becomes one of these, naming the file and the problem."""

from __future__ import annotations


class GrnbenchError(Exception):
    """Base class for errors raised by grnbench."""


class InputError(GrnbenchError, ValueError):
    """A file or value given to grnbench is not what was expected.

    The message always names the source (file path or config key), where in it the problem is
    (row, column, gene) when known, and what was expected.
    """

    def __init__(self, source: object, problem: str, *, where: str | None = None):
        self.source = str(source)
        self.problem = problem
        self.where = where
        loc = f" ({where})" if where else ""
        super().__init__(f"{self.source}{loc}: {problem}")


class DownloadError(GrnbenchError):
    """A download failed or its content did not match the recorded hash."""


class SplitLeakError(GrnbenchError):
    """A split violates a no-leak rule (a pair in two parts, a negative that is a positive...)."""
