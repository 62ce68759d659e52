"""The numpy baseline gives what the scikit-learn pipeline it was exported from gives (same label,
probabilities to 1e-9) on every labelled text; model directory formats 1 and 2; explanations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from stance import MissingDependencyError, ModelError, load_classifier
from stance.api import clear_cache
from stance.backends.base import softmax
from stance.backends.baseline import DenseBlock, HashedBlock, save_format_1
from stance.labels import LABELS

REPO = Path(__file__).resolve().parents[1]
PARITY = 1e-9


@pytest.fixture(scope="module")
def all_texts(corpus_rows, authored_rows) -> list[str]:
    """Every corpus and authored text."""
    return [r["text"] for r in corpus_rows] + [r["text"] for r in authored_rows]


def _assert_parity(classifier, pipeline, texts: list[str]) -> None:
    expected = pipeline.predict_proba(texts)
    got = classifier.predict_proba(texts, calibrated=False)
    assert np.abs(got - expected).max() <= PARITY
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    calibrated = softmax(pipeline.decision_function(texts) / classifier.temperature)
    predictions = classifier.predict(texts)
    assert np.abs(classifier.predict_proba(texts) - calibrated).max() <= PARITY
    assert [p.label for p in predictions] == [LABELS[i] for i in calibrated.argmax(axis=1)]


def _assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def trained(corpus_rows, authored_rows):
    """A baseline with a dense block, fitted here: its scikit-learn pipeline is at hand."""
    from stance.training.baseline import BaselineConfig, train_baseline

    rows = [r for r in corpus_rows if r["split"] == "train"] + authored_rows[::8]
    config = BaselineConfig(char_ngram_min=2, char_ngram_max=5, lexicon_weight=0.5)
    return train_baseline([r["text"] for r in rows], [r["label"] for r in rows], config)


def test_shipped_baseline_is_format_2_and_matches_its_pipeline(all_texts):
    """The shipped arrays describe one scikit-learn pipeline exactly; the numpy path gives its
    probabilities on every labelled text."""
    from stance.backends._export import export_pipeline
    from stance.training.baseline import pipeline_from_classifier

    shipped = load_classifier(REPO / "models" / "baseline")
    assert shipped.metadata["format_version"] == 2
    assert sorted(p.name for p in (REPO / "models" / "baseline").iterdir()) == [
        "README.md",  # the model card
        "metadata.json",
        "model.safetensors",
    ]
    pipeline = pipeline_from_classifier(shipped)
    features, arrays = export_pipeline(pipeline)
    assert features == shipped.features
    _assert_same_arrays(arrays, shipped.arrays)
    _assert_parity(shipped, pipeline, all_texts)


def test_session_baseline_with_dense_blocks_matches_its_pipeline(baseline_dir, all_texts):
    from stance.training.baseline import pipeline_from_classifier

    classifier = load_classifier(baseline_dir)
    assert any(isinstance(b, DenseBlock) for b in classifier.features.blocks)
    _assert_parity(classifier, pipeline_from_classifier(classifier), all_texts)


def test_saved_arrays_match_the_fitted_pipeline(trained, all_texts, tmp_path):
    """Export, save, load: the numpy path gives what the pipeline it came from gives."""
    from stance.training.baseline import pipeline_from_classifier

    trained.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "metadata.json",
        "model.safetensors",
    ]
    clear_cache()
    loaded = load_classifier(tmp_path / "model")
    _assert_same_arrays(loaded.arrays, trained.arrays)
    _assert_parity(loaded, trained.pipeline, all_texts)
    rebuilt = pipeline_from_classifier(loaded)
    sample = all_texts[::7]
    assert np.array_equal(rebuilt.predict_proba(sample), trained.pipeline.predict_proba(sample))


def _shape(text: str) -> list[float]:
    return [len(text) / 100, float(text.count("!")), 1.0]  # the constant column is dropped


def test_any_blocks_by_featuriser_name_and_weight(corpus_rows, authored_rows, all_texts, tmp_path):
    """Hashed blocks with other analyzers and TF-IDF settings, dense blocks with or without
    scaling, any names and weights: all read from the fitted pipeline."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import StandardScaler

    from stance.backends.baseline import BaselineClassifier
    from stance.explanation import explain
    from stance.features import DENSE_FEATURES
    from stance.training.lexicon_features import LexiconFeatures

    names = ("shape_length", "shape_exclamations", "shape_one")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(DENSE_FEATURES, "shape", (_shape, names))

        def hashing(**settings):
            return HashingVectorizer(alternate_sign=False, norm=None, **settings)

        union = FeatureUnion(
            [
                (
                    "words",
                    Pipeline(
                        [
                            (
                                "h",
                                hashing(
                                    analyzer="word",
                                    ngram_range=(1, 3),
                                    n_features=2**16,
                                    binary=True,
                                ),
                            ),
                            ("t", TfidfTransformer(norm="l1")),
                        ]
                    ),
                ),
                (
                    "chars",
                    Pipeline(
                        [
                            ("h", hashing(analyzer="char", ngram_range=(2, 3), n_features=2**15)),
                            ("t", TfidfTransformer(use_idf=False, sublinear_tf=True)),
                        ]
                    ),
                ),
                (
                    "wb",
                    HashingVectorizer(
                        analyzer="char_wb",
                        ngram_range=(2, 4),
                        n_features=2**14,
                        alternate_sign=False,
                        norm="l2",
                        lowercase=False,
                    ),
                ),
                ("afinn", Pipeline([("s", LexiconFeatures("afinn")), ("z", StandardScaler())])),
                ("shape", LexiconFeatures("shape")),
                (
                    "shape_scaled",
                    Pipeline(
                        [("s", LexiconFeatures("shape")), ("z", StandardScaler(with_mean=False))]
                    ),
                ),
            ],
            transformer_weights={"words": 0.7, "chars": 1.3, "afinn": 0.25, "shape": 0.1},
        )
        pipeline = Pipeline(
            [
                ("features", union),
                ("select", VarianceThreshold(0.0)),
                ("clf", LogisticRegression(C=3.0, max_iter=3000)),
            ]
        )
        rows = [r for r in corpus_rows if r["split"] == "train"] + authored_rows[::10]
        pipeline.fit([r["text"] for r in rows], [r["label"] for r in rows])
        classifier = BaselineClassifier.from_pipeline(pipeline, {"backend": "baseline"})
        kinds = [(b.name, b.kind) for b in classifier.features.blocks]
        assert kinds == [
            ("words", "hashed"),
            ("chars", "hashed"),
            ("wb", "hashed"),
            ("afinn", "dense"),
            ("shape", "dense"),
            ("shape_scaled", "dense"),
        ]
        assert classifier.arrays["shape.columns"].tolist() == [0, 1]  # the constant is dropped
        classifier.save(tmp_path / "model")
        clear_cache()
        loaded = load_classifier(tmp_path / "model")
        _assert_parity(loaded, pipeline, all_texts)
        explanation = explain("Jobcentret er en skændsel!!", model=tmp_path / "model")
        assert explanation.method == "linear"


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"alternate_sign": True}, "alternate_sign"),
        ({"stop_words": ["og"]}, "stop_words"),
        ({"strip_accents": "unicode"}, "strip_accents"),
        ({"dtype": np.float32}, "float64"),
    ],
)
def test_export_refuses_what_numpy_cannot_reproduce(settings, match):
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    from stance.backends._export import export_pipeline
    from stance.errors import ConfigError

    vectorizer = HashingVectorizer(**({"alternate_sign": False, "norm": None} | settings))
    pipeline = Pipeline(
        [("features", FeatureUnion([("word", vectorizer)])), ("clf", LogisticRegression())]
    )
    with pytest.raises(ConfigError, match=match):
        export_pipeline(pipeline)


def test_format_1_loads_and_converts(trained, all_texts, tmp_path, capsys):
    from stance.cli import main

    old = save_format_1(trained, tmp_path / "old")
    assert json.loads((old / "metadata.json").read_text())["format_version"] == 1
    assert sorted(p.name for p in old.iterdir()) == ["metadata.json", "model.skops"]
    clear_cache()
    legacy = load_classifier(old)
    sample = all_texts[::5]
    _assert_parity(legacy, trained.pipeline, sample)

    assert main(["convert", str(old), str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert "format 2" in out and "largest probability difference" in out
    meta = json.loads((tmp_path / "new" / "metadata.json").read_text())
    assert meta["format_version"] == 2 and meta["converted"]["from_format_version"] == 1
    assert meta["converted"]["largest_probability_difference"] <= PARITY
    clear_cache()
    converted = load_classifier(tmp_path / "new")
    assert np.abs(converted.predict_proba(sample) - legacy.predict_proba(sample)).max() == 0

    assert main(["convert", str(old), str(old)]) == 0  # in place
    assert sorted(p.name for p in old.iterdir()) == ["metadata.json", "model.safetensors"]


@pytest.fixture
def hide_module(monkeypatch):
    """Make ``stance.extras.require`` believe a module is not installed."""
    import importlib.util

    real = importlib.util.find_spec
    hidden: set[str] = set()

    def find_spec(name, *args, **kwargs):
        return None if name in hidden else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden.add


def test_format_1_without_the_train_extra_says_how_to_convert(trained, tmp_path, hide_module):
    old = save_format_1(trained, tmp_path / "old")
    clear_cache()
    hide_module("skops")
    with pytest.raises(MissingDependencyError) as caught:
        load_classifier(old)
    message = str(caught.value)
    assert 'pip install "stance[train]"' in message and f"stance convert {old}" in message


def test_training_and_corpus_loading_name_the_train_extra(hide_module):
    from stance.data import load_corpus
    from stance.training.baseline import train_baseline

    hide_module("sklearn")
    with pytest.raises(MissingDependencyError, match=re.escape('pip install "stance[train]"')):
        train_baseline(["Luk jobcentret", "Tak"], ["against", "for"])
    hide_module("datasets")
    with pytest.raises(MissingDependencyError, match=re.escape('pip install "stance[train]"')):
        load_corpus()


@pytest.fixture
def copy_of_baseline(tmp_path, baseline_dir):
    import shutil

    clear_cache()
    target = tmp_path / "baseline"
    shutil.copytree(baseline_dir, target)
    return target


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda blocks: blocks[0].update(analyzer="chars"), "analyzer"),
        (lambda blocks: blocks[0].update(bogus=1), "bogus"),
        (lambda blocks: blocks[-1].update(featurizer="nope"), "nope"),
        (lambda blocks: blocks[-1].update(n_values=2), r"returns \d+ values, the model expects 2"),
        (lambda blocks: blocks[0].update(n_features=12), "model.safetensors does not fit"),
    ],
)
def test_bad_feature_settings_are_a_model_error(copy_of_baseline, change, match):
    meta = json.loads((copy_of_baseline / "metadata.json").read_text())
    change(meta["features"]["blocks"])
    (copy_of_baseline / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=match) as caught:
        load_classifier(copy_of_baseline)
    assert str(copy_of_baseline) in str(caught.value)


def test_a_missing_array_is_a_model_error(copy_of_baseline):
    from safetensors.numpy import load_file, save_file

    arrays = load_file(copy_of_baseline / "model.safetensors")
    del arrays["intercept"]
    save_file(arrays, copy_of_baseline / "model.safetensors")
    with pytest.raises(ModelError, match="'intercept' is missing"):
        load_classifier(copy_of_baseline)


def test_baseline_config_keeps_its_old_import_path_with_a_warning():
    from stance.training.baseline import BaselineConfig

    with pytest.warns(DeprecationWarning, match="stance.training.baseline"):
        from stance.backends.baseline import BaselineConfig as old_path
    assert old_path is BaselineConfig


# --- explanations: the same as the scikit-learn implementation they replace --------------------


def _reference_word_weights(classifier, pipeline, text):
    """``linear_word_weights`` as it was on scikit-learn: blocks from the fitted pipeline,
    n-grams hashed by ``sklearn.utils.murmurhash3_32``."""
    import scipy.sparse as sp
    from sklearn.utils import murmurhash3_32

    from stance.explanation import (
        SPAN_FINDERS,
        _block_ngrams,
        _spread,
        _word_spans,
    )

    union = pipeline.named_steps["features"]
    weights = union.transformer_weights or {}
    clf = pipeline.named_steps["clf"]
    support = pipeline.named_steps["select"].get_support()
    expanded = np.zeros((support.size, clf.coef_.shape[0]))
    expanded[support] = clf.coef_.T
    centred = expanded - expanded.mean(axis=1, keepdims=True)

    def block_rows(name, texts):
        transformer = dict(union.transformer_list)[name]
        return sp.csr_matrix(transformer.transform(texts) * float(weights.get(name, 1.0)))

    words = _word_spans(text)
    starts = np.array([s for s, _ in words])
    totals = np.zeros((len(words), len(LABELS)))
    offset = 0
    for spec in classifier.features.blocks:
        row = block_rows(spec.name, [text])
        if isinstance(spec, HashedBlock):
            n = spec.hasher.n_features
            values = dict(zip(row.indices.tolist(), row.data.tolist()))
            grams = _block_ngrams(text, spec.hasher)
            indices = [abs(murmurhash3_32(g, seed=0)) % n for g, _, _ in grams]
            counts: dict[int, int] = {}
            for j in indices:
                counts[j] = counts.get(j, 0) + 1
            for (_, start, end), j in zip(grams, indices):
                value = values.get(j, 0.0)
                if value:
                    _spread(
                        value * centred[offset + j] / counts[j], start, end, words, starts, totals
                    )
            offset += n
        else:
            rows = centred[offset : offset + spec.n_values]
            offset += spec.n_values
            full = row.toarray()[0] @ rows
            for start, end in SPAN_FINDERS.get(spec.featurizer, _word_spans)(text):
                without = text[:start] + " " * (end - start) + text[end:]
                reduced = block_rows(spec.name, [without]).toarray()[0]
                _spread(full - reduced @ rows, start, end, words, starts, totals)
    return words, totals


@pytest.mark.parametrize("which", ["shipped", "session"])
def test_linear_explanations_are_unchanged(which, baseline_dir, all_texts):
    from stance.explanation import linear_word_weights
    from stance.training.baseline import pipeline_from_classifier

    classifier = load_classifier(
        REPO / "models" / "baseline" if which == "shipped" else baseline_dir
    )
    pipeline = pipeline_from_classifier(classifier)
    texts = [*all_texts[::60], "Jobcentret er IKKE en skændsel!", "!!!", "Tak"]
    for text in texts:
        words, totals = linear_word_weights(classifier, text)
        expected_words, expected = _reference_word_weights(classifier, pipeline, text)
        assert words == expected_words
        assert np.abs(totals - expected).max() <= 1e-12
