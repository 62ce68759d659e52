"""Deprecated: moved to :mod:`stance.own_data.adapt`; this name keeps working for one release."""

from __future__ import annotations

from stance._moved import moved

moved(__name__, "stance.own_data.adapt")
