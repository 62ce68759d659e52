"""Deprecated: moved to :mod:`stance.own_data.suggest`; this name keeps working for one release."""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "stance.data.selection moved to stance.own_data.suggest; import it from there "
    "(stance.data.selection goes in the next release)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("stance.own_data.suggest")
