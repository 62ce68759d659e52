"""Shares of each stance in a corpus (stance.shares, stance.quantification, stance shares)."""

from __future__ import annotations

import csv
import json
import shutil
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from stance import quantification as qf
from stance.cli import main
from stance.errors import ConfigError, InputFileError, LabelError, ModelError, StanceError
from stance.labels import LABELS
from stance.shares import (
    DEFAULT_METHOD,
    Shares,
    estimate_shares,
    estimate_shares_from_probabilities,
    period_of,
)

REPO = Path(__file__).resolve().parents[1]
RATES = np.array([[0.7, 0.1, 0.2], [0.15, 0.6, 0.25], [0.1, 0.05, 0.85]])
MEANS = np.array([[0.6, 0.15, 0.25], [0.2, 0.5, 0.3], [0.15, 0.1, 0.75]])


def _confusion_dict(n: int = 600, order: tuple[str, ...] = LABELS) -> dict:
    """A ``real_text_confusion`` in the metadata's shape, rows and columns in ``order``."""
    idx = [LABELS.index(label) for label in order]
    counts = np.round(RATES * n / 3)[np.ix_(idx, idx)]
    return {
        "labels": list(order),
        "n": int(counts.sum()),
        "counts": counts.tolist(),
        "mean_probabilities": MEANS[np.ix_(idx, idx)].tolist(),
        "per_kind": {
            "comment": {
                "labels": list(order),
                "n": int(counts.sum()),
                "counts": counts.tolist(),
                "mean_probabilities": MEANS[np.ix_(idx, idx)].tolist(),
            }
        },
        "source": "synthetic test numbers",
        "pool_fingerprint": "0" * 8,
    }


def _rows_for(q: np.ndarray, n: int = 1000) -> np.ndarray:
    """Probability rows whose most probable labels have shares ``q`` (exactly, for n=1000)."""
    counts = np.round(q * n).astype(int)
    rows = [np.eye(3)[i] * 0.8 + 0.2 / 3 for i, c in enumerate(counts) for _ in range(c)]
    return np.array(rows)


# Arithmetic on hand-made cases -------------------------------------------------------------


def test_acc_recovers_known_prevalence():
    truth = np.array([0.2, 0.1, 0.7])
    observed = RATES.T @ truth  # what classify-and-count sees
    assert np.allclose(qf.solve_adjustment(RATES, observed), truth)
    conf = qf.Confusion.from_summary(RATES * 1000, MEANS)
    probs = _rows_for(observed)
    assert np.allclose(qf.classify_and_count(probs), observed, atol=1e-3)
    assert np.allclose(qf.estimate("acc", probs, conf), truth, atol=2e-3)


def test_pacc_recovers_known_prevalence():
    truth = np.array([0.5, 0.3, 0.2])
    mean_probability = MEANS.T @ truth
    probs = np.tile(mean_probability, (50, 1))
    conf = qf.Confusion.from_summary(RATES * 1000, MEANS)
    assert np.allclose(qf.estimate("pacc", probs, conf), truth, atol=1e-9)


def test_em_recovers_known_prevalence():
    # three kinds of text x with known P(x | label); a classifier calibrated for prior_tr
    likelihood = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])  # [label, x]
    prior_tr = np.array([0.3, 0.3, 0.4])
    posterior = (prior_tr[:, None] * likelihood).T  # [x, label]
    posterior /= posterior.sum(axis=1, keepdims=True)
    # a labelled sample drawn under prior_tr, in exact proportions
    n = 10_000
    labels, probs = [], []
    for y, x in product(range(3), range(3)):
        count = round(n * prior_tr[y] * likelihood[y, x])
        labels += [y] * count
        probs += [posterior[x]] * count
    conf = qf.Confusion.from_predictions(labels, np.array(probs))
    assert np.allclose(conf.prior, prior_tr, atol=1e-3)
    # a corpus under another prior
    truth = np.array([0.6, 0.1, 0.3])
    corpus = []
    for x in range(3):
        corpus += [posterior[x]] * round(n * float(truth @ likelihood[:, x]))
    assert np.allclose(qf.estimate("em", np.array(corpus), conf), truth, atol=2e-3)


def test_simplex_lstsq_is_the_constrained_optimum():
    rng = np.random.default_rng(1)
    grid = np.array(
        [
            (a, b, 1 - a - b)
            for a in np.linspace(0, 1, 201)
            for b in np.linspace(0, 1, 201)
            if a + b <= 1 + 1e-12
        ]
    )
    for _ in range(5):
        a = rng.dirichlet(np.ones(3), size=3)
        b = rng.dirichlet(np.ones(3)) * 1.5 - 0.2  # often outside the reachable set
        got = qf.simplex_lstsq(a, b)
        assert got.min() >= 0 and abs(got.sum() - 1) < 1e-9
        best = ((grid @ a.T - b) ** 2).sum(axis=1).min()
        assert ((a @ got - b) ** 2).sum() <= best + 1e-9


def test_singular_confusion_still_gives_shares():
    rates = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    got = qf.solve_adjustment(rates, np.array([0.3, 0.3, 0.4]))
    assert got.min() >= 0 and abs(got.sum() - 1) < 1e-9
    assert got[2] == pytest.approx(0.4)


def test_clip_to_simplex_renormalises():
    assert qf.clip_to_simplex(np.array([0.5, -0.5, 1.0])).tolist() == pytest.approx(
        [1 / 3, 0, 2 / 3]
    )
    assert qf.clip_to_simplex(np.array([-1.0, -1.0])).tolist() == [0.5, 0.5]


def test_labelled_needed_grows_with_a_poor_confusion():
    assert qf.labelled_needed(0.05) == 385
    assert qf.labelled_needed(0.05, RATES) > 385
    assert qf.labelled_needed(0.10) < qf.labelled_needed(0.05)


@pytest.mark.parametrize("method", qf.METHODS)
def test_bootstrap_intervals_hold_the_estimate_and_repeat_with_the_seed(method):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([2, 1, 3], size=300)
    first = estimate_shares_from_probabilities(
        probs, confusion=_confusion_dict(), method=method, n_bootstrap=200, seed=3
    )
    again = estimate_shares_from_probabilities(
        probs, confusion=_confusion_dict(), method=method, n_bootstrap=200, seed=3
    )
    assert first.rows == again.rows
    row = first.rows[0]
    assert sum(row[f"share_{label}"] for label in LABELS) == pytest.approx(1, abs=1e-5)
    for label in LABELS:
        assert 0 <= row[f"low_{label}"] <= row[f"share_{label}"] <= row[f"high_{label}"] <= 1


def test_large_corpora_are_resampled_in_bounded_work():
    rows, counts = qf.compress(np.random.default_rng(0).dirichlet([1, 1, 1], size=20_000))
    assert len(rows) <= 5151 and counts.sum() == 20_000
    assert np.allclose(rows.sum(axis=1), 1)


def test_stored_confusion_in_any_label_order_gives_the_same_shares():
    probs = np.random.default_rng(2).dirichlet([1, 1, 2], size=200)
    a = estimate_shares_from_probabilities(probs, confusion=_confusion_dict(), n_bootstrap=50)
    b = estimate_shares_from_probabilities(
        probs, confusion=_confusion_dict(order=("neutral", "against", "for")), n_bootstrap=50
    )
    assert a.rows == b.rows


def test_quapy_agrees_on_acc_pacc_and_em():
    pytest.importorskip("quapy")
    from quapy.method.aggregative import ACC, EMQ

    rng = np.random.default_rng(5)
    gold = rng.dirichlet([1, 1, 1], 400)
    labels = [rng.choice(3, p=row) for row in gold]  # a calibrated classifier's labelled sample
    conf = qf.Confusion.from_predictions(labels, gold)
    probs = rng.dirichlet([2, 1, 1], size=300)
    acc = ACC.solve_adjustment(conf.rates.T, qf.classify_and_count(probs), "inversion", "minimize")
    assert np.allclose(qf.estimate("acc", probs, conf), acc, atol=1e-3)
    pacc = ACC.solve_adjustment(
        conf.mean_probabilities.T,
        qf.probabilistic_classify_and_count(probs),
        "inversion",
        "minimize",
    )
    assert np.allclose(qf.estimate("pacc", probs, conf), pacc, atol=1e-3)
    em = EMQ.EM(conf.prior, probs, epsilon=1e-10)[0]
    assert np.allclose(qf.estimate("em", probs, conf), em, atol=1e-5)


# Correction sources -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> list[dict]:
    rows = [json.loads(line) for line in (REPO / "labelled" / "stance.jsonl").open()]
    return rows[:90]


@pytest.fixture()
def model_with_confusion(tmp_path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(REPO / "models" / "baseline", target)
    meta = json.loads((target / "metadata.json").read_text())
    meta["real_text_confusion"] = _confusion_dict()
    (target / "metadata.json").write_text(json.dumps(meta))
    return target


def test_stored_confusion_is_used_and_named(texts, model_with_confusion):
    shares = estimate_shares([r["text"] for r in texts], model=model_with_confusion, n_bootstrap=50)
    assert shares.source == "model" and shares.method == DEFAULT_METHOD
    assert "corrected with the model's real-text confusion, measured on 600 texts" in (
        shares.correction
    )
    assert "prior shift" in shares.assumptions
    by_kind = estimate_shares(
        [r["text"] for r in texts], model=model_with_confusion, kind="comment", n_bootstrap=50
    )
    assert "of kind 'comment'" in by_kind.correction
    with pytest.raises(ConfigError, match="no kind 'forum'"):
        estimate_shares([r["text"] for r in texts], model=model_with_confusion, kind="forum")


def test_without_a_correction_raw_shares_come_with_a_warning(texts, tmp_path):
    target = tmp_path / "plain"
    shutil.copytree(REPO / "models" / "baseline", target)
    meta_path = target / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.pop("real_text_confusion", None)  # a model with no real-text confusion (a user's own)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    shares = estimate_shares([r["text"] for r in texts], model=target, method="acc", n_bootstrap=50)
    assert shares.source == "none" and shares.method == "cc"
    assert shares.warnings[0].startswith("not corrected")
    assert all(row["share_against"] == row["raw_against"] for row in shares.rows)


def test_gold_sample_corrects_and_says_how_many_texts_are_needed(texts, model_with_confusion):
    sample = texts[:40]
    shares = estimate_shares(
        [r["text"] for r in texts],
        by=[r["kind"] if r["kind"] == "comment" else "other" for r in texts],
        gold=([r["text"] for r in sample], [r["label"] for r in sample]),
        model=model_with_confusion,
        n_bootstrap=50,
    )
    assert shares.source == "gold" and "labelled sample of 40 texts" in shares.correction
    assert shares.method == "em"  # the default with a labelled sample
    assert [row["group"] for row in shares.rows] == ["comment", "other"]
    assert "drawn at random" in shares.advice and "stance suggest" in shares.advice
    assert any("only 40 texts" in w for w in shares.warnings)


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.dirichlet([1, 1, 1], 50), index=range(100, 150))
    labels = pd.Series(list(rng.choice(LABELS, 50)), index=range(7, 57))
    groups = pd.Series(["a", "b"] * 25, index=range(3, 53))
    shares = estimate_shares_from_probabilities(
        frame, gold=(frame, labels), groups=groups, n_bootstrap=50
    )
    assert shares.source == "gold" and [row["n"] for row in shares.rows] == [25, 25]


def test_probabilities_and_gold_probabilities_need_no_model():
    rng = np.random.default_rng(0)
    gold = (rng.dirichlet([1, 1, 1], 60), list(rng.choice(LABELS, 60)))
    shares = estimate_shares_from_probabilities(
        rng.dirichlet([1, 1, 1], 100), gold=gold, method="em", n_bootstrap=50
    )
    assert shares.source == "gold" and shares.method == "em"


# Bad input ----------------------------------------------------------------------------------


def test_gold_file_with_an_unknown_label_is_refused(tmp_path, texts):
    gold = tmp_path / "gold.csv"
    with gold.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerow([texts[0]["text"], "against"])
        writer.writerow([texts[1]["text"], "imod"])
    with pytest.raises(InputFileError, match="imod"):
        estimate_shares([r["text"] for r in texts], gold=gold, n_bootstrap=50)


def test_gold_from_another_label_set_is_refused(texts):
    labels = ["positive", "negative"] * 10
    with pytest.raises(LabelError, match="another label set"):
        estimate_shares([r["text"] for r in texts], gold=([r["text"] for r in texts[:20]], labels))


def test_a_group_with_one_text_is_refused_unless_dropped():
    probs = np.random.default_rng(0).dirichlet([1, 1, 1], 21)
    groups = ["a"] * 20 + ["b"]
    with pytest.raises(ConfigError, match="group 'b' \\(1 text\\)"):
        estimate_shares_from_probabilities(probs, groups=groups, confusion=_confusion_dict())
    shares = estimate_shares_from_probabilities(
        probs, groups=groups, confusion=_confusion_dict(), drop_small=True, n_bootstrap=50
    )
    assert [row["group"] for row in shares.rows] == ["a"]
    assert any("left out 1 group" in w for w in shares.warnings)
    assert any("too wide to be useful" in w for w in shares.warnings)


@pytest.mark.parametrize(
    ("value", "every", "expected"),
    [
        ("2024-03-05", "month", "2024-03"),
        ("2024-12-30", "week", "2025-W01"),
        ("2024-03-05 10:00:00+01:00", "year", "2024"),
        ("2024-03", "month", "2024-03"),
    ],
)
def test_periods(value, every, expected):
    assert period_of(value, every) == expected


def test_an_unreadable_date_names_its_row():
    probs = np.random.default_rng(0).dirichlet([1, 1, 1], 3)
    with pytest.raises(ConfigError, match=r"time value at position 1.*05/03/2024"):
        estimate_shares_from_probabilities(probs, time=["2024-01-01", "05/03/2024", "2024-02-01"])


def test_bad_probabilities_and_stored_confusion_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="shape"):
        estimate_shares_from_probabilities(np.ones((4, 2)) / 2)
    with pytest.raises(ConfigError, match="row 1"):
        estimate_shares_from_probabilities([[0.2, 0.3, 0.5], [0.9, 0.9, 0.9]])
    broken = _confusion_dict()
    broken["counts"] = [[1, 2], [3, 4]]
    with pytest.raises(ModelError, match="3x3"):
        estimate_shares_from_probabilities([[0.2, 0.3, 0.5]] * 5, confusion=broken)
    with pytest.raises(StanceError, match="unknown method"):
        estimate_shares_from_probabilities([[0.2, 0.3, 0.5]] * 5, method="magic")


# Output -------------------------------------------------------------------------------------


def _example() -> Shares:
    probs = np.random.default_rng(0).dirichlet([1, 1, 2], 120)
    return estimate_shares_from_probabilities(
        probs,
        groups=["a", "b"] * 60,
        time=[f"2024-0{1 + i % 3}-10" for i in range(120)],
        confusion=_confusion_dict(),
        n_bootstrap=50,
    )


def test_plots_are_written(tmp_path):
    shares = _example()
    page = shares.plot(tmp_path / "shares.html").read_text()
    assert "<svg" in page and "polyline" in page and "src=" not in page and "href=" not in page
    flat = estimate_shares_from_probabilities(
        np.random.default_rng(0).dirichlet([1, 1, 2], 60),
        confusion=_confusion_dict(),
        n_bootstrap=50,
    )
    assert "<rect" in flat.plot(tmp_path / "bars.html").read_text()
    pytest.importorskip("matplotlib")
    for result, name in ((shares, "lines.png"), (flat, "bars.png")):
        path = result.plot(tmp_path / name)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match=r"\.png or \.html"):
        shares.plot(tmp_path / "shares.svg")


def test_table_frame_and_json(tmp_path):
    shares = _example()
    assert [(r["group"], r["period"]) for r in shares.rows][:3] == [
        ("a", "2024-01"),
        ("a", "2024-02"),
        ("a", "2024-03"),
    ]
    frame = shares.to_frame()
    assert list(frame.columns) == shares.columns and len(frame) == 6
    written = list(csv.DictReader(shares.write(tmp_path / "s.csv").open()))
    assert written[0]["period"] == "2024-01"
    data = json.loads(shares.write(tmp_path / "s.json").read_text())
    assert data["method"] == DEFAULT_METHOD and len(data["rows"]) == 6
    assert "a" in shares.render() and "prior shift" in shares.render()


@pytest.mark.parametrize("name", ["stance.quantification", "stance.shares"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_cli_constants_match_the_library():
    from stance import shares as lib
    from stance import shares_cli

    assert shares_cli.METHODS == qf.METHODS and shares_cli.EVERY == lib.EVERY
    assert shares_cli.DEFAULT_METHOD == lib.DEFAULT_METHOD
    assert shares_cli.DEFAULT_WITH_GOLD == lib.DEFAULT_WITH_GOLD
    assert (shares_cli.MIN_GROUP, shares_cli.N_BOOTSTRAP) == (lib.MIN_GROUP, lib.N_BOOTSTRAP)


# Command line -------------------------------------------------------------------------------


def _write_corpus(folder: Path, rows: list[dict], fmt: str) -> Path:
    records = [
        {
            "text": r["text"],
            "site": "forum" if i % 2 else "news",
            "date": f"2024-{1 + i % 2:02d}-{1 + i % 28:02d}",
        }
        for i, r in enumerate(rows)
    ]
    path = folder / f"corpus.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    elif fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "site", "date"])
            writer.writeheader()
            writer.writerows(records)
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cli_by_group_and_month(tmp_path, texts, model_with_confusion, capsys, fmt):
    corpus = _write_corpus(tmp_path, texts, fmt)
    out = tmp_path / "shares.csv"
    code = main(
        [
            "shares",
            "--input",
            str(corpus),
            "--by",
            "site",
            "--time",
            "date",
            "--every",
            "month",
            "--output",
            str(out),
            "--model",
            str(model_with_confusion),
            "--bootstrap",
            "50",
            "--quiet",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["group"], r["period"]) for r in rows] == [("forum", "2024-02"), ("news", "2024-01")]
    assert sum(int(r["n"]) for r in rows) == len(texts)
    assert "real-text confusion" in capsys.readouterr().out


def test_cli_with_gold_json_and_plot(tmp_path, texts, model_with_confusion, capsys):
    corpus = _write_corpus(tmp_path, texts, "jsonl")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps(
                {"tekst": r["text"], "kode": {"against": "imod"}.get(r["label"], r["label"])},
                ensure_ascii=False,
            )
            + "\n"
            for r in texts[:50]
        )
    )
    plot = tmp_path / "shares.html"
    code = main(
        [
            "shares",
            "--input",
            str(corpus),
            "--by",
            "site",
            "--gold",
            str(gold),
            "--gold-text-column",
            "tekst",
            "--label-column",
            "kode",
            "--label-map",
            "imod=against",
            "--method",
            "acc",
            "--json",
            "--plot",
            str(plot),
            "--model",
            str(model_with_confusion),
            "--bootstrap",
            "50",
            "--quiet",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"] == "gold" and result["method"] == "acc"
    assert [row["group"] for row in result["rows"]] == ["forum", "news"]
    assert "<svg" in plot.read_text()


def test_cli_bad_date_names_the_line(tmp_path, texts, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_text("text,date\nJobcentret hjalp mig,2024-01-02\nLuk jobcentret,igår\n")
    code = main(["shares", "--input", str(corpus), "--time", "date", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "'igår'" in err and "column 'date'" in err


def test_cli_unknown_group_column(tmp_path, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_text("text\nJobcentret hjalp mig\nLuk jobcentret\n")
    assert main(["shares", "--input", str(corpus), "--by", "kommune", "--quiet"]) == 2
    assert "no column 'kommune'" in capsys.readouterr().err
