"""Deprecated: moved to :mod:`stance.own_data.adapt`; this name keeps working for one release."""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "stance.training.adapt moved to stance.own_data.adapt; import it from there "
    "(stance.training.adapt goes in the next release)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("stance.own_data.adapt")
