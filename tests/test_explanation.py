"""Explanations: offsets into the original text, and the deletion property, for both backends."""

from __future__ import annotations

import pytest

from stance import LABELS, load_classifier
from stance.explanation import Explanation, explain, render_explanation

TEXTS = [
    "Jobcentret er en skændsel og ydmyger syge mennesker.",
    "Tak til min dygtige sagsbehandler på jobcentret, hun hjalp mig i job!",
    "Luk jobcentrene og lad a-kasserne overtage.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_point_into_the_original_text(model_dir, text):
    explanation = explain(text, model=model_dir, top=5)
    assert isinstance(explanation, Explanation) and explanation.text == text
    assert set(explanation.spans) == set(LABELS)
    for spans in explanation.spans.values():
        assert len(spans) <= 5
        weights = [s.weight for s in spans]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        for span in spans:
            assert text[span.start : span.end] == span.text


@pytest.mark.parametrize("text", TEXTS)
def test_removing_the_top_span_lowers_the_predicted_label(baseline_dir, text):
    explanation = explain(text, model=baseline_dir)
    label = explanation.prediction.label
    top = explanation.spans[label][0]
    reduced = text[: top.start] + text[top.end :]
    after = load_classifier(baseline_dir).predict([reduced])[0]
    assert after.probabilities[label] < explanation.prediction.probabilities[label]


def test_occlusion_deletion_property_on_bert(bert_dir):
    text = TEXTS[0]
    explanation = explain(text, model=bert_dir)
    assert explanation.method == "occlusion"
    label = explanation.prediction.label
    if explanation.spans[label]:
        top = explanation.spans[label][0]
        after = load_classifier(bert_dir).predict([text[: top.start] + text[top.end :]])[0]
        assert after.probabilities[label] < explanation.prediction.probabilities[label]


def test_linear_matches_occlusion_direction(baseline_dir):
    """Both methods agree on the strongest word toward 'against' in a plain attack."""
    text = "Jobcentret er en skændsel."
    linear = explain(text, model=baseline_dir, method="linear")
    occlusion = explain(text, model=baseline_dir, method="occlusion")
    assert linear.prediction == occlusion.prediction
    assert {s.text for s in linear.spans["against"][:3]} & {
        s.text for s in occlusion.spans["against"][:3]
    }


def test_long_text_occlusion_is_bounded(bert_dir):
    text = " ".join(["Jobcentret er elendigt."] * 400)
    explanation = explain(text, model=bert_dir, top=3)
    assert all(len(spans) <= 3 for spans in explanation.spans.values())


def test_render_and_errors(baseline_dir):
    explanation = explain(TEXTS[0], model=baseline_dir)
    plain = render_explanation(explanation)
    assert "[[" in plain and "\033[" not in plain
    assert "\033[" in render_explanation(explanation, color=True)
    with pytest.raises(ValueError, match="top"):
        explain(TEXTS[0], model=baseline_dir, top=0)
    with pytest.raises(ValueError, match="unknown method"):
        explain(TEXTS[0], model=baseline_dir, method="magic")
