"""Types that users see: the package is typed, and classify_many's result type follows
``min_score`` (``list[Prediction]`` without it, ``list[Prediction | None]`` with it)."""

from __future__ import annotations

import sys
import typing
from pathlib import Path

import pytest

import stance


def test_the_package_ships_a_py_typed_marker():
    assert (Path(stance.__file__).parent / "py.typed").is_file()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is Python 3.11+")
def test_classify_many_has_one_overload_per_result_type():
    overloads = typing.get_overloads(stance.classify_many)
    returns = sorted(str(o.__annotations__["return"]) for o in overloads)
    assert returns == ["list[Prediction | None]", "list[Prediction]"]
    by_min_score = {str(o.__annotations__["min_score"]) for o in overloads}
    assert by_min_score == {"None", "float"}


def test_without_min_score_every_result_is_a_prediction():
    results = stance.classify_many(["Luk jobcentret", "Tak til min sagsbehandler"])
    assert all(isinstance(p, stance.Prediction) for p in results)
    assert stance.classify_many(["Luk jobcentret"], min_score=1.0) == [None]
