"""Optional dependencies: check that an extra is installed, or say how to install it.

>>> require(["json"], "train", "this example")  # present: returns quietly
>>> require(["no_such_module_xyz"], "train", "training")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
stance.errors.MissingDependencyError: training needs no_such_module_xyz, ... "stance[train]"
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from stance.errors import MissingDependencyError

TRAIN_MODULES: tuple[str, ...] = ("sklearn", "scipy", "skops")
"""What evaluating and training import (the ``train`` extra; plots also need matplotlib)."""


def install_command(extra: str) -> str:
    """The pip command that installs ``extra``.

    >>> install_command("parquet")
    'pip install "stance[parquet]"'
    """
    return f'pip install "stance[{extra}]"'


def require(modules: Iterable[str], extra: str, purpose: str) -> None:
    """Raise :class:`MissingDependencyError` naming ``extra`` if a module cannot be found.

    Args:
        modules: Top-level module names (``"sklearn"``, ``"pyarrow"``).
        extra: The stance extra that installs them (``"train"``, ``"parquet"``).
        purpose: What needs them, for the message (``"stance train"``).
    """
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingDependencyError(
                f"{purpose} needs {name}, which is not installed; install it with: "
                f"{install_command(extra)}"
            )
