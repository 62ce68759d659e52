"""Explanations: offsets into the original text, and the deletion property, for both backends."""

from __future__ import annotations

import pytest

from stance import LABELS, classify, load_classifier
from stance.explanation import Explanation, explain, render_explanation

TEXTS = [
    "Jobcentret er en skændsel og ydmyger syge mennesker.",
    "Tak til min dygtige sagsbehandler på jobcentret, hun hjalp mig i job!",
    "Luk jobcentrene og lad a-kasserne overtage.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_point_into_the_original_text(model_dir, text):
    explanation = explain(text, model=model_dir, top=5)
    everything = explain(text, model=model_dir, top=1000)
    assert isinstance(explanation, Explanation) and explanation.text == text
    assert set(explanation.spans) == set(LABELS)
    for label, spans in explanation.spans.items():
        # the strongest spans of all those with positive weight, as many as there are up to 5
        assert spans == everything.spans[label][:5]
        assert len(spans) == min(5, len(everything.spans[label]))
        weights = [s.weight for s in spans]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        for span in spans:
            assert text[span.start : span.end] == span.text
    assert any(explanation.spans.values())


@pytest.mark.parametrize("text", TEXTS)
def test_removing_the_top_span_lowers_the_predicted_label(baseline_dir, text):
    explanation = explain(text, model=baseline_dir)
    label = explanation.prediction.label
    top = explanation.spans[label][0]
    reduced = text[: top.start] + text[top.end :]
    after = load_classifier(baseline_dir).predict([reduced])[0]
    assert after.probabilities[label] < explanation.prediction.probabilities[label]


def test_occlusion_deletion_property_on_bert(bert_dir):
    checked = 0
    for text in TEXTS:
        explanation = explain(text, model=bert_dir)
        assert explanation.method == "occlusion"
        label = explanation.prediction.label
        if not explanation.spans[label]:  # no word's deletion lowers it: nothing to check
            continue
        top = explanation.spans[label][0]
        after = load_classifier(bert_dir).predict([text[: top.start] + text[top.end :]])[0]
        assert after.probabilities[label] < explanation.prediction.probabilities[label]
        checked += 1
    assert checked >= 1, "no text had a span toward its predicted label"


def test_linear_matches_occlusion_direction(baseline_dir):
    """Both methods agree on the strongest word toward 'against' in a plain attack."""
    text = "Jobcentret er en skændsel."
    linear = explain(text, model=baseline_dir, method="linear")
    occlusion = explain(text, model=baseline_dir, method="occlusion")
    assert (linear.method, occlusion.method) == ("linear", "occlusion")
    expected = classify(text, model=baseline_dir)  # the model asked for, not the default
    assert linear.prediction.probabilities == pytest.approx(expected.probabilities, abs=1e-12)
    assert {s.text for s in linear.spans["against"][:3]} & {
        s.text for s in occlusion.spans["against"][:3]
    }


def test_long_text_occlusion_is_bounded(bert_dir):
    """1,200 words are occluded in at most 48 windows (48 + 1 model calls' worth of text)."""
    text = " ".join(["Jobcentret er elendigt."] * 400)
    explanation = explain(text, model=bert_dir, top=10_000)
    units = {(s.start, s.end) for spans in explanation.spans.values() for s in spans}
    assert 0 < len(units) <= 48
    assert all(end - start > len("Jobcentret") for start, end in units)  # windows of words


def test_render_and_errors(baseline_dir):
    explanation = explain(TEXTS[0], model=baseline_dir)
    plain = render_explanation(explanation)
    assert "[[" in plain and "\033[" not in plain
    assert "\033[" in render_explanation(explanation, color=True)
    with pytest.raises(ValueError, match="top"):
        explain(TEXTS[0], model=baseline_dir, top=0)
    with pytest.raises(ValueError, match="unknown method"):
        explain(TEXTS[0], model=baseline_dir, method="magic")
