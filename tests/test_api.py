"""The public API: classify, classify_many, load_classifier, Prediction, LABELS."""

from __future__ import annotations

import math
import threading
import unicodedata

import pytest

import stance
from stance import LABELS, Prediction, classify, classify_many, load_classifier
from stance.errors import EmptyTextError, TextTypeError


def test_public_surface():
    assert LABELS == ("against", "for", "neutral")
    assert set(stance.__all__) >= {
        "classify",
        "classify_many",
        "load_classifier",
        "Prediction",
        "LABELS",
        "__version__",
        "ModelError",
        "StanceError",
    }


def test_classify_shipped_baseline_returns_a_prediction():
    p = classify("Jobcentret er en kontrolinstans, der ydmyger syge mennesker.")
    assert isinstance(p, Prediction)
    assert p.label in LABELS
    assert set(p.probabilities) == set(LABELS)
    assert math.isclose(sum(p.probabilities.values()), 1.0, abs_tol=1e-9)
    assert p.score == p.probabilities[p.label] == max(p.probabilities.values())


def test_prediction_is_frozen():
    p = Prediction.from_probabilities([0.2, 0.5, 0.3])
    assert p.label == "for"
    with pytest.raises(AttributeError):
        p.label = "against"  # type: ignore[misc]
    with pytest.raises(ValueError, match="expected 3 probabilities"):
        Prediction.from_probabilities([1.0])


def test_classify_many_keeps_order_and_matches_classify():
    texts = ["Luk jobcentrene nu.", "Jobcentret hjalp mig i job, tak!", "Mødet er på tirsdag."]
    many = classify_many(texts, batch_size=2)
    assert [p.label for p in many] == [classify(t).label for t in texts]  # type: ignore[union-attr]
    assert classify_many([]) == []


@pytest.mark.parametrize("bad", [None, b"bytes", 3, 4.5, ["list"]])
def test_non_str_raises_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        classify(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("empty", ["", "   ", "\n\t"])
def test_empty_text_raises_value_error(empty):
    with pytest.raises(ValueError, match="empty"):
        classify(empty)


def test_classify_many_names_the_failing_position():
    with pytest.raises(TextTypeError, match="position 2"):
        classify_many(["fint", "også fint", None])  # type: ignore[list-item]
    with pytest.raises(EmptyTextError, match="position 1"):
        classify_many(["fint", " "])
    with pytest.raises(TypeError, match="single str"):
        classify_many("en tekst")  # type: ignore[arg-type]


def test_composed_and_decomposed_text_give_identical_results():
    composed = "Sagsbehandleren på jobcentret i Ærøskøbing var sød og hjælpsom."
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert classify(composed) == classify(decomposed)


def test_min_score_filters_uncertain_predictions():
    texts = ["Jobcentret er en skændsel.", "Hmm."]
    kept = classify_many(texts, min_score=0.0)
    assert all(p is not None for p in kept)
    none = classify_many(texts, min_score=1.0)
    assert all(p is None or p.score >= 1.0 for p in none)
    with pytest.raises(ValueError, match="min_score"):
        classify_many(texts, min_score=1.5)


def test_loaded_models_are_cached():
    assert load_classifier("baseline") is load_classifier(None)
    assert load_classifier().labels == LABELS


def test_eight_threads_agree_with_sequential_calls():
    stance.api.clear_cache()
    texts = [f"Jobcentret i kommune {i} er {'godt' if i % 2 else 'elendigt'}." for i in range(40)]
    expected = [classify(t) for t in texts]
    stance.api.clear_cache()
    results: dict[int, Prediction] = {}
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(offset, len(texts), 8):
                results[i] = classify(texts[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [results[i] for i in range(len(texts))] == expected


def test_long_text_is_handled():
    text = "Jobcentret ydmyger folk og spilder tiden. " * 25_000  # ~1 MB
    assert len(text.encode()) > 1_000_000
    assert classify(text).label in LABELS


@pytest.mark.parametrize(
    "odd",
    [
        "Jobcentret \x00\x07 er \u200b fint",
        "<p>Jobcentret er <b>elendigt</b></p>&nbsp;",
        "Jobcentret 😡😡 https://example.dk/jobcenter?x=1",
        "\ufeffJobcentret\r\nhjalp mig",
    ],
)
def test_control_characters_html_emoji_and_urls_break_nothing(odd):
    assert classify(odd).label in LABELS
