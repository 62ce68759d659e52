"""Deprecated: moved to :mod:`stance.own_data.labelled`; this name keeps working for one release."""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "stance.data.userdata moved to stance.own_data.labelled; import it from there "
    "(stance.data.userdata goes in the next release)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("stance.own_data.labelled")
