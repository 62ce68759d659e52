"""The knowledge features: the domain lexicon, negation, contrast, targets and text shape."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stance.features import DENSE_FEATURES, dense_featurizer
from stance.features.domain import (
    DOMAIN_FEATURE_NAMES,
    domain_features,
    domain_lexicon,
    lexicon_matches,
    tokenize,
)


def features(text: str, **options: bool) -> dict[str, float]:
    return dict(zip(DOMAIN_FEATURE_NAMES, domain_features(text, **options)))


def test_the_lexicon_parses_and_covers_every_category():
    lexicon = domain_lexicon()
    entries = [e for group in (*lexicon.exact.values(), *lexicon.prefixes.values()) for e in group]
    categories = {e.category for e in entries}
    assert categories == {
        "against",
        "for",
        "target",
        "other",
        "negator",
        "intensifier",
        "contrast",
        "concessive",
    }
    assert len(entries) > 250


def test_prefix_entries_match_inflected_forms_and_phrases_win():
    hits = lexicon_matches(tokenize("Det var spild af tid og ydmygende."))
    assert [(h.category, h.end - h.start) for h in hits] == [("against", 3), ("against", 1)]
    # the longer stem wins among one-word entries: kontrolsystem* (1.5) over kontrol* (1.0)
    assert [h.weight for h in lexicon_matches(["kontrolsystemet"])] == [1.5]


def test_negation_reverses_a_cue_before_or_after_it():
    assert features("Sagsbehandleren var hjælpsom.")["dom_for"] > 0
    for text in ("Sagsbehandleren var ikke hjælpsom.", "Jobcentret hjalp mig aldrig."):
        f = features(text)
        assert f["dom_against"] > 0 and f["dom_for"] == 0 and f["dom_negated_cues"] > 0
    off = features("Jobcentret hjalp mig aldrig.", negation=False)
    assert off["dom_for"] > 0 and off["dom_against"] == 0


def test_negation_does_not_cross_a_clause():
    f = features("Det var ikke let, men min rådgiver hjalp mig.")
    assert f["dom_for"] > 0 and f["dom_against"] == 0


def test_contrast_weighs_the_clause_after_men():
    text = "Min sagsbehandler var dygtig, men systemet er et kontrolsystem."
    with_context, without = features(text), features(text, context=False)
    assert with_context["dom_balance"] < 0 and with_context["dom_balance"] < without["dom_balance"]


def test_target_cues_tell_the_jobcentre_from_other_targets():
    jobcentre = features("Jobcentret er en skændsel.")
    government = features("Regeringen er en skændsel.")
    assert jobcentre["target_mentions"] > 0 and jobcentre["afinn_near_target"] < 0
    assert government["other_mentions"] > 0 and government["afinn_near_other"] < 0
    assert government["afinn_near_target"] == 0


def test_text_shape_features():
    f = features("Hvad gør jeg? Skal jeg møde op?")
    assert f["question_rate"] == 1.0 and f["first_person_rate"] > 0
    shout = features("LUK JOBCENTRENE NU!!!")
    assert shout["shouting_rate"] > 0 and shout["exclamation_rate"] == 3.0
    assert features("»Det er fint,« siger hun.")["quoted"] == 1.0
    assert features("Ledigheden faldt til 2,9 procent i 2024.")["digit_rate"] > 0


def test_registry_names_every_featurizer():
    assert set(DENSE_FEATURES) == {"afinn", "domain"}
    function, names = dense_featurizer("domain")
    assert names == DOMAIN_FEATURE_NAMES and function is domain_features
    with pytest.raises(KeyError, match="unknown dense featuriser 'nope'"):
        dense_featurizer("nope")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_finite_features_of_the_right_length(text):
    for name, (function, names) in DENSE_FEATURES.items():
        values = function(text)
        assert len(values) == len(names), name
        assert all(math.isfinite(v) for v in values), name


def _reference_matches(words: list[str]) -> list[tuple[int, int, str]]:
    """The lexicon scan written plainly: at each token, the first matching candidate wins."""
    from stance.features.domain import MENTIONS

    lexicon = domain_lexicon()
    hits = []
    for mentions in (False, True):
        i = 0
        while i < len(words):
            for entry in lexicon.candidates(words[i]):
                n = len(entry.tokens)
                if (entry.category in MENTIONS) == mentions and all(
                    i + k < len(words) and (words[i + k].startswith(t) if p else words[i + k] == t)
                    for k, (t, p) in enumerate(zip(entry.tokens, entry.prefix))
                ):
                    hits.append((i, i + n, entry.category))
                    i += n
                    break
            else:
                i += 1
    return hits


def _lexicon_pieces() -> list[tuple[str, ...]]:
    """Every lexicon entry as a run of tokens (prefix tokens with an ending), and fillers."""
    lexicon = domain_lexicon()
    entries = [e for group in (*lexicon.exact.values(), *lexicon.prefixes.values()) for e in group]
    runs = {tuple(t + ("ene" if p else "") for t, p in zip(e.tokens, e.prefix)) for e in entries}
    return sorted(runs | {(w,) for run in runs for w in run} | {("og",), (",",), (".",)})


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_lexicon_pieces()), max_size=15))
def test_the_fast_lexicon_scan_matches_the_plain_one(pieces):
    words = [w for piece in pieces for w in piece]
    assert [(h.start, h.end, h.category) for h in lexicon_matches(words)] == _reference_matches(
        words
    )


def _afinn_words() -> list[str]:
    from stance.features.lexicon import afinn_word_tables

    pairs = afinn_word_tables()[1]
    return sorted({w for pair in pairs for w in pair} | {"god", "dårlig", "og", "tak"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_afinn_words()), max_size=20))
def test_afinn_scores_inside_the_domain_block_match_word_scores(words):
    from stance.features.domain import _afinn_phrases, _token_record
    from stance.features.lexicon import word_scores

    records = [_token_record(w) for w in words]
    scores = [r[2] for r in records]
    _afinn_phrases(words, records, scores)
    assert scores == word_scores(words)
