"""Property-based tests over arbitrary Unicode: a valid Prediction or a documented error."""

from __future__ import annotations

import math
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance import LABELS, Prediction, classify
from stance.errors import StanceError

settings.register_profile(
    "stance", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("stance")


@given(st.text(min_size=0, max_size=300))
def test_any_text_gives_a_prediction_or_a_documented_error(text):
    try:
        p = classify(text)
    except (TypeError, ValueError) as exc:
        assert isinstance(exc, StanceError)
        assert not text.strip()
        return
    assert isinstance(p, Prediction) and p.label in LABELS
    assert math.isclose(sum(p.probabilities.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= v <= 1.0 for v in p.probabilities.values())


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=100).filter(str.strip))
def test_normalisation_forms_give_the_same_result(text):
    assert classify(unicodedata.normalize("NFD", text)) == classify(
        unicodedata.normalize("NFC", text)
    )


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text())))
def test_non_text_is_a_type_error(value):
    try:
        classify(value)  # type: ignore[arg-type]
    except TypeError as exc:
        assert type(value).__name__ in str(exc)
    else:
        raise AssertionError("expected TypeError")
