"""Exception types raised by stance.

Every error derives from :class:`StanceError`, and also from the built-in type a caller would
expect (``TypeError`` for a wrong input type, ``OSError`` for an unusable model directory), so
``except ValueError`` keeps working where it did.
"""

from __future__ import annotations

from pathlib import Path


class StanceError(Exception):
    """Base class of all errors raised by stance."""


class TextTypeError(StanceError, TypeError):
    """A text to classify is not a ``str``."""


class ModelTypeError(StanceError, TypeError):
    """A model reference is neither ``None``, a shipped model's name nor a path."""


class EmptyTextError(StanceError, ValueError):
    """A text to classify is empty or only whitespace."""


class ModelError(StanceError, OSError):
    """A model directory is missing, incomplete, corrupt or incompatible."""

    def __init__(self, path: str | Path, problem: str, fix: str | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        message = f"{problem} (model: {self.path})"
        if fix:
            message += f". {fix}"
        super().__init__(message)

    def __reduce__(self) -> tuple:  # so the error can cross a process boundary (--jobs)
        return (type(self), (self.path, self.problem, self.fix))


class CorpusError(StanceError, ValueError):
    """A corpus file fails validation; the message names file, line and field."""

    def __init__(
        self, path: str | Path, line: int | None, problem: str, field: str | None = None
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = problem
        where = str(self.path) + (f", line {line}" if line is not None else "")
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.line, self.problem, self.field))


class InputFileError(StanceError, ValueError):
    """A batch input file cannot be read; the message names file, line and column."""

    def __init__(
        self, path: str | Path, problem: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.problem = problem
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.problem, self.line, self.column))


class LabelError(StanceError, ValueError):
    """Labelled data cannot be used: a label outside :data:`stance.LABELS` (and no mapping for
    it), or too few examples of a label to train and cross-validate on."""


class ConfigError(StanceError, ValueError):
    """A configuration value is out of range or of the wrong kind."""


class UnknownNameError(StanceError, KeyError):
    """A name looked up in one of stance's tables (a dense featuriser, a model's feature block)
    is not there; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(StanceError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""


class OutputFileError(StanceError, OSError):
    """An output file cannot be written where or how it was asked (a directory, no permission,
    an unknown extension, a partial run from an earlier job in the way)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.problem))
