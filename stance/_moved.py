"""Old module paths that keep working for one release after a move."""

from __future__ import annotations

import importlib
import sys
import warnings


def moved(old: str, new: str) -> None:
    """Make module ``old`` the module ``new`` (same object, so monkeypatching either patches
    both), with a :class:`DeprecationWarning` that names the new place."""
    warnings.warn(
        f"{old} moved to {new}; import it from there ({old} goes in the next release)",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old] = importlib.import_module(new)
