"""Deprecated: moved to :mod:`stance.own_data.evaluate`; this name keeps working for one release."""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "stance.evaluation.userfile moved to stance.own_data.evaluate; import it from there "
    "(stance.evaluation.userfile goes in the next release)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("stance.own_data.evaluate")
