"""Optional dependencies: import or check an extra's module, or say how to install it.

Every missing extra is reported here, one way: :class:`MissingDependencyError` naming what
needs the module and the ``pip install "stance[extra]"`` command.

>>> require(["json"], "train", "this example")  # present: returns quietly
>>> require(["no_such_module_xyz"], "train", "training")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
stance.errors.MissingDependencyError: training needs no_such_module_xyz, ... "stance[train]"
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType

from stance.errors import MissingDependencyError

TRAIN_MODULES: tuple[str, ...] = ("sklearn", "scipy", "skops")
"""What evaluating and training import (the ``train`` extra; plots also need matplotlib)."""


def install_command(extra: str) -> str:
    """The pip command that installs ``extra``.

    >>> install_command("parquet")
    'pip install "stance[parquet]"'
    """
    return f'pip install "stance[{extra}]"'


def missing(module: str, extra: str, purpose: str) -> MissingDependencyError:
    """The error for a missing ``module`` of ``extra`` that ``purpose`` needs.

    >>> print(missing("pandas", "pandas", "classify_frame"))  # doctest: +ELLIPSIS
    classify_frame needs pandas, which is not installed; install it with: pip install "stance[p...
    """
    return MissingDependencyError(
        f"{purpose} needs {module}, which is not installed; install it with: "
        f"{install_command(extra)}"
    )


def require(modules: str | Iterable[str], extra: str, purpose: str) -> None:
    """Raise :class:`MissingDependencyError` naming ``extra`` if a module cannot be found
    (without importing it).

    Args:
        modules: Top-level module names (``"sklearn"``, ``"pyarrow"``), or one name.
        extra: The stance extra that installs them (``"train"``, ``"parquet"``).
        purpose: What needs them, for the message (``"stance train"``).
    """
    for name in [modules] if isinstance(modules, str) else modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise missing(name, extra, purpose)


def import_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` (e.g. ``"pyarrow.parquet"``), or raise :class:`MissingDependencyError`
    naming the missing module and ``extra``.

    >>> import_extra("json", "train", "this example").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(exc.name or module, extra, purpose) from exc
