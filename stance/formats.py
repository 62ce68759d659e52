"""Deprecated: moved to :mod:`stance.io.formats`; this name keeps working for one release."""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "stance.formats moved to stance.io.formats; import it from there "
    "(stance.formats goes in the next release)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("stance.io.formats")
