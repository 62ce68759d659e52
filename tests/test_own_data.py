"""Your own data: evaluate a model on your file, train on your labels, suggest what to label.

Training tests use the session's small shipped-data stand-in (``small_data``: the corpus and
90 authored texts) so that every fit takes a fraction of a second.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import stance
from stance.cli import main
from stance.errors import ConfigError, LabelError


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def user_rows(authored_rows) -> list[dict]:
    """30 labelled texts (10 per label) from a writer that ``small_data`` does not contain."""
    rows = []
    for label in ("against", "for", "neutral"):
        chosen = [r for r in authored_rows if r["writer"] == "w02" and r["label"] == label][:10]
        rows += [{"id": r["id"], "tekst": r["text"], "kode": r["label"]} for r in chosen]
    return rows


@pytest.fixture(scope="session")
def gold_csv(tmp_path_factory, user_rows) -> Path:
    """The user's texts with Danish label names, one row without text, one without a label."""
    names = {"against": "imod", "for": "for", "neutral": "neutral"}
    rows = [{**r, "kode": names[r["kode"]]} for r in user_rows]
    rows += [{"id": "x1", "tekst": "", "kode": "imod"}, {"id": "x2", "tekst": "Hej", "kode": ""}]
    return _write_csv(tmp_path_factory.mktemp("gold") / "gold.csv", rows)


@pytest.fixture
def small_shipped_data(monkeypatch, small_data):
    """Make the "shipped training data" the small stand-in, for in-process training."""
    from stance.data import trainset

    monkeypatch.setattr(trainset, "default_corpus_path", lambda: small_data[0])
    monkeypatch.setattr(trainset, "default_authored_path", lambda: small_data[1])
    return small_data


# ---- evaluate --------------------------------------------------------------------------------


def test_evaluate_file_reports_what_the_project_evaluation_reports(gold_csv):
    result = stance.evaluate_file(
        gold_csv, text_column="tekst", label_column="kode", label_map="imod=against"
    )
    rows = result["rows"]
    assert (rows["rows_read"], rows["rows_used"]) == (32, 30)
    assert (rows["missing_text"], rows["missing_label"]) == (1, 1)
    m = result["metrics"]
    for key in ("accuracy", "macro_f1", "macro_f1_ci95", "per_class", "f_avg", "confusion", "ece"):
        assert key in m
    assert np.sum(m["confusion"]) == 30
    assert m["macro_f1_ci95"][0] <= m["macro_f1"] <= m["macro_f1_ci95"][1]
    predictions = result["predictions"]
    assert m["accuracy"] == pytest.approx(
        np.mean([t == p for t, p in zip(predictions["y_true"], predictions["y_pred"])])
    )
    assert sum(b["count"] for b in result["reliability"]) == 30
    assert set(result["references"]) == {"majority class", "sentiment as stance (AFINN-da)"}
    assert "cross-validation on this file" in result["references_fitted"]
    project = stance.evaluate_file(
        gold_csv,
        text_column="tekst",
        label_column="kode",
        label_map="imod=against",
        references="project",
    )
    assert "project's labelled corpus" in project["references_fitted"]
    assert project["metrics"] == m  # the model's own row does not depend on the references


def test_evaluate_cli_json_is_the_python_dict(gold_csv, capsys):
    args = ["--text-column", "tekst", "--label-column", "kode", "--label-map", "imod=against"]
    assert main(["evaluate", "--input", str(gold_csv), *args, "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert "2 of 32 rows left out" in captured.err
    expected = stance.evaluate_file(
        gold_csv, text_column="tekst", label_column="kode", label_map="imod=against"
    )
    assert printed == json.loads(json.dumps(expected))


def test_evaluate_cli_writes_the_report_and_plots(gold_csv, tmp_path, capsys):
    out = tmp_path / "reports"
    args = ["--text-column", "tekst", "--label-column", "kode", "--label-map", "imod=against"]
    assert main(["evaluate", "--input", str(gold_csv), *args, "--output", str(out), "--quiet"]) == 0
    markdown = capsys.readouterr().out
    assert "| **baseline** |" in markdown and "majority class" in markdown
    assert "line 32: empty text" in markdown and "gold against" in markdown
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "baseline-gold-confusion.png",
        "baseline-gold-reliability.png",
        "baseline-gold.json",
        "baseline-gold.md",
    ]
    assert (out / "baseline-gold-confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_cli_refuses_unknown_labels_and_lists_them(gold_csv, capsys):
    code = main(
        ["evaluate", "--input", str(gold_csv), "--text-column", "tekst", "--label-column", "kode"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "'imod' (10 rows, first at line 2)" in err and "--label-map" in err


def test_evaluate_cli_usage_errors(gold_csv):
    with pytest.raises(SystemExit):
        main(["evaluate", "--json"])
    with pytest.raises(SystemExit):
        main(["evaluate", "--input", str(gold_csv), "--no-cv"])


# ---- train -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def adapted_dir(tmp_path_factory, user_rows, small_data) -> tuple[Path, dict]:
    """A baseline adapted to ``user_rows`` on the small shipped-data stand-in."""
    from stance.own_data.adapt import train

    out = tmp_path_factory.mktemp("adapted") / "mymodel"
    report = train(
        [r["tekst"] for r in user_rows],
        [r["kode"] for r in user_rows],
        output=out,
        folds=3,
        corpus_path=small_data[0],
        authored_path=small_data[1],
    )
    return out, report


def test_train_reports_three_cross_validated_scores(adapted_dir, user_rows):
    out, report = adapted_dir
    assert set(report["cv"]) == {"shipped_as_is", "shipped_plus_user", "user_only"}
    for row in report["cv"].values():
        assert 0 <= row["macro_f1"] <= 1 and len(row["fold_macro_f1"]) == 3
    weights = [w["weight"] for w in report["weights"]]
    assert weights[0] == 1.0 and len(weights) == 4  # 1 and the 25/50/75 % shares
    assert report["user_weight"] in weights and set(report["fold_weights"]) <= set(weights)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["adaptation"]["cv"] == report["cv"]
    assert meta["training_data"]["n_user"] == 30 and meta["training_data"]["n_authored"] == 90
    assert meta["training_data"]["user_weight"] == report["user_weight"]
    shipped = stance.load_classifier("baseline").metadata["hyperparameters"]
    assert shipped.items() <= meta["hyperparameters"].items()  # plus any newer defaults
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "shipped model as it is" in text and "your data alone" in text
    assert f"counts **{report['user_weight']:g}** times" in text


def test_an_adapted_model_works_wherever_a_model_name_does(adapted_dir, capsys):
    out, _ = adapted_dir
    prediction = stance.classify("Jobcentret hjalp mig i job.", model=out)
    assert prediction.label in stance.LABELS
    explanation = stance.explain("Jobcentret er en skændsel.", model=str(out))
    assert explanation.method == "linear"
    assert main(["classify", "--model", str(out), "Luk jobcentret"]) == 0
    assert capsys.readouterr().out.split("\t")[0] in stance.LABELS


def test_train_cli_only_my_data(tmp_path, gold_csv, small_shipped_data, capsys):
    out = tmp_path / "mine"
    args = ["--text-column", "tekst", "--label-column", "kode", "--label-map", "imod=against"]
    code = main(
        [
            *["train", "--input", str(gold_csv), "--output", str(out), *args, "--only-my-data"],
            *["--folds", "3", "--user-weight", "4", "--seed", "1", "--json", "--quiet"],
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trained"] == "user_only" and report["user_weight_chosen_by"] == "given"
    assert report["rows"]["rows_skipped"] == 2
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["training_data"]["n_corpus"] == 0 and meta["training_data"]["n_authored"] == 0
    assert meta["training_data"]["user_source"]["missing_text"] == 1
    assert meta["seed"] == 1 and meta["adaptation"]["folds"] == 3
    assert "stance train --input" in (out / "report.md").read_text(encoding="utf-8")


def test_train_refuses_too_few_examples(tmp_path, user_rows, capsys):
    rows = [r for r in user_rows if r["kode"] != "for"] + [
        r for r in user_rows if r["kode"] == "for"
    ][:4]
    with pytest.raises(LabelError, match=r"at least 5.*for 4"):
        stance.train([r["tekst"] for r in rows], [r["kode"] for r in rows], output=tmp_path / "m")
    source = _write_csv(tmp_path / "few.csv", rows)
    code = main(
        [
            *["train", "--input", str(source), "--output", str(tmp_path / "m")],
            *["--text-column", "tekst", "--label-column", "kode"],
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "too few examples" in err and str(source) in err and "stance suggest" in err
    assert not (tmp_path / "m").exists()


def test_train_checks_its_arguments(tmp_path, user_rows):
    texts = [r["tekst"] for r in user_rows]
    labels = [r["kode"] for r in user_rows]
    with pytest.raises(LabelError, match="'imod'"):
        stance.train(texts, ["imod", *labels[1:]], output=tmp_path / "m")
    with pytest.raises(ConfigError, match="backend"):
        stance.train(texts, labels, output=tmp_path / "m", backend="svm")
    with pytest.raises(ConfigError, match="30 texts but 29 labels"):
        stance.train(texts, labels[:-1], output=tmp_path / "m")
    with pytest.raises(TypeError):
        stance.train([None, *texts[1:]], labels, output=tmp_path / "m")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a stance model directory"):
        stance.train(texts, labels, output=busy)
    from stance.modeldir import shipped_model_dir

    with pytest.raises(ConfigError, match="shipped model"):
        stance.train(texts, labels, output=shipped_model_dir("baseline"))


def test_sample_weight_makes_a_text_count(small_data):
    from stance.own_data.adapt import single_threaded_blas
    from stance.training.baseline import BaselineConfig, train_baseline
    from stance.training.recipes import training_data

    data = training_data(corpus_path=small_data[0], authored_path=small_data[1])
    odd = "Mødet på jobcentret flyttes til torsdag klokken ti."  # a neutral text, labelled 'for'
    texts, labels = [*data.texts, odd], [*data.labels, "for"]
    config = BaselineConfig(calibrate=False)
    with single_threaded_blas():
        plain = train_baseline(texts, labels, config)
        weighted = train_baseline(texts, labels, config, sample_weight=[1.0] * len(data) + [50.0])
    p_plain = plain.predict_proba([odd])[0][1]
    p_weighted = weighted.predict_proba([odd])[0][1]
    assert p_weighted > p_plain and p_weighted > 0.5
    with pytest.raises(ValueError, match="sample_weight"):
        train_baseline(texts, labels, config, sample_weight=[1.0])


@pytest.fixture(scope="session")
def tiny_shipped_data(tmp_path_factory, corpus_rows, authored_rows) -> tuple[Path, Path]:
    """30 corpus units and 30 authored texts: shipped-data stand-in for BERT's many fits."""
    folder = tmp_path_factory.mktemp("tiny-data")
    paths = []
    for name, rows in (("stance.jsonl", corpus_rows[:30]), ("authored.jsonl", authored_rows[:30])):
        (folder / name).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        paths.append(folder / name)
    return paths[0], paths[1]


@pytest.fixture
def one_torch_thread():
    """Five tiny fine-tunes: one intra-op thread is several times faster on busy cores."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_bert_makes_a_pipeline_model(
    tmp_path, tiny_base, tiny_shipped_data, user_rows, one_torch_thread
):
    from transformers import pipeline

    from stance.own_data.adapt import train

    small_data = tiny_shipped_data
    out = tmp_path / "mybert"
    report = train(
        [r["tekst"] for r in user_rows],
        [r["kode"] for r in user_rows],
        output=out,
        backend="bert",
        base_model=tiny_base,
        folds=2,
        user_weight=2.0,
        hyperparameters={"epochs": 1, "lr": 5e-3, "batch_size": 16, "max_length": 32, "stride": 8},
        corpus_path=small_data[0],
        authored_path=small_data[1],
        device="cpu",
    )
    assert report["trained"] == "shipped_plus_user" and report["user_weight"] == 2.0
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["backend"] == "bert" and meta["base_model"] == str(tiny_base)
    assert "out-of-fold" in meta["calibration"]["method"]
    assert stance.classify("Jobcentret hjalp mig.", model=out).label in stance.LABELS
    (result,) = pipeline("text-classification", model=str(out))("Jobcentret hjalp mig.")
    assert result["label"] in stance.LABELS


def test_bert_sample_weight_path_matches_the_plain_loss_at_weight_one(tiny_base):
    pytest.importorskip("torch")
    from stance.training.bert import FineTuneConfig, fine_tune

    texts = ["Luk jobcentret", "Tak til jobcentret", "Mødet er tirsdag"] * 4
    labels = ["against", "for", "neutral"] * 4
    config = FineTuneConfig(epochs=1, lr=5e-3, batch_size=4, max_length=32, stride=8)
    kwargs = {"seed": 0, "device": "cpu", "progress": False, "log": lambda _: None}
    plain = fine_tune(str(tiny_base), texts, labels, config, **kwargs)
    ones = fine_tune(str(tiny_base), texts, labels, config, sample_weight=[1.0] * 12, **kwargs)
    assert plain.metadata["history"][0]["train_loss"] == pytest.approx(
        ones.metadata["history"][0]["train_loss"], rel=1e-5
    )


# ---- suggest ---------------------------------------------------------------------------------


def test_suggest_picks_uncertain_distinct_texts(tmp_path, authored_rows):
    rows = [{"id": r["id"], "text": r["text"], "kilde": r["writer"]} for r in authored_rows[:200]]
    probs = stance.load_classifier().predict_proba([r["text"] for r in rows])
    most_uncertain = int(np.argmin(np.sort(probs, axis=1)[:, -1] - np.sort(probs, axis=1)[:, -2]))
    copy = dict(rows[most_uncertain], id="copy")
    copy["text"] = copy["text"] + "!"
    rows += [copy, {"id": "tom", "text": "", "kilde": "x"}]
    rows += [{"id": "kodet", "text": "Jobcentret er fint", "kilde": "x", "label": "for"}]
    source = tmp_path / "pool.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    out = tmp_path / "to_label.csv"
    assert main(["suggest", "--input", str(source), "--n", "10", "--output", str(out)]) == 0
    picked = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(picked) == 10
    assert list(picked[0]) == ["id", "text", "kilde", "label"]
    assert all(r["label"] == "" for r in picked)
    ids = [r["id"] for r in picked]
    assert ids[0] in (rows[most_uncertain]["id"], "copy")
    assert not ({rows[most_uncertain]["id"], "copy"} <= set(ids))  # one of the two near-copies
    assert "tom" not in ids and "kodet" not in ids


def test_suggest_python_function(authored_rows):
    texts = [r["text"] for r in authored_rows[:50]]
    picked = stance.suggest(texts, 5)
    assert len(picked) == len(set(picked)) == 5
    assert stance.suggest(texts, 5) == picked  # deterministic
    assert sorted(stance.suggest(texts[:3], 10)) == [0, 1, 2]  # all, if there are fewer


def test_suggest_writes_parquet_and_refuses_to_overwrite_its_input(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    source = tmp_path / "pool.csv"
    _write_csv(source, [{"text": t} for t in ("Luk jobcentret", "Tak for hjælpen", "Møde i dag")])
    out = tmp_path / "picks.parquet"
    assert (
        main(["suggest", "--input", str(source), "--n", "2", "--output", str(out), "--quiet"]) == 0
    )
    table = pq.read_table(out).to_pylist()
    assert len(table) == 2 and set(table[0]) == {"text", "label"}
    assert main(["suggest", "--input", str(source), "--output", str(source), "--quiet"]) == 2


def test_suggest_curve_script(tmp_path, small_data):
    import runpy

    script = Path(__file__).resolve().parents[1] / "training" / "suggest_curve.py"
    module = runpy.run_path(str(script), run_name="stance_script")
    module["main"](
        [
            *["--sizes", "24", "36", "--seeds", "0", "--corpus", str(small_data[0])],
            *["--authored", str(small_data[1]), "--output", str(tmp_path)],
        ]
    )
    data = json.loads((tmp_path / "suggest_curve.json").read_text(encoding="utf-8"))
    assert {(r["strategy"], r["size"]) for r in data["records"]} == {
        (s, n) for s in ("suggest", "margin only", "random") for n in (24, 36)
    }
    assert (tmp_path / "suggest_curve.png").is_file()
    assert "| 36 |" in (tmp_path / "suggest_curve.md").read_text(encoding="utf-8")


def test_bert_base_model_falls_back_to_the_shipped_bert(tmp_path, monkeypatch):
    """An installed package has no pretrained base: training continues from the shipped BERT;
    with neither, the error says to pass a base model."""
    from stance.errors import ModelError
    from stance.modeldir import shipped_model_dir
    from stance.own_data import adapt

    assert adapt.resolve_base_model({}, "my/base") == "my/base"
    missing = {"base_model": str(tmp_path / "no-such-base")}
    assert Path(adapt.resolve_base_model(missing, None)) == shipped_model_dir("bert")
    monkeypatch.setattr("stance.modeldir.shipped_model_dir", lambda name: tmp_path / name)
    with pytest.raises(ModelError, match="Pass base_model"):
        adapt.resolve_base_model(missing, None)
