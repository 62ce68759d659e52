"""Importing ``skops.io`` without importing torch.

``skops.io`` builds its list of trusted scikit-learn types at import time by walking every
scikit-learn package; one of them, ``sklearn.externals.array_api_compat.torch``, imports torch
whenever it is installed. The baseline must never import torch, so while ``skops.io`` is first
imported, ``import torch`` fails for that walk (which skips packages that fail to import), and
the half-imported compatibility package is forgotten afterwards.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from types import ModuleType

_lock = threading.Lock()


class _HideTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while importing skops)")
        return None


def import_skops_io() -> ModuleType:
    """``skops.io``, imported without pulling in torch (if torch is not already imported)."""
    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io

        return skops.io
    with _lock:
        finder = _HideTorch()
        sys.meta_path.insert(0, finder)
        try:
            import skops.io
        finally:
            sys.meta_path.remove(finder)
            for name in [
                m for m in sys.modules if m.startswith("sklearn.externals.array_api_compat.torch")
            ]:
                del sys.modules[name]
    return skops.io
