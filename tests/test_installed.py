"""`stance evaluate --input`, `stance train` and `stance suggest` work from an installed package,
run from another directory, without the checkout's files.

The fast test lays the package out as the wheel does (the ``force-include`` table of
``pyproject.toml``: shipped models in ``stance/_models``, data in ``stance/_data``) with the
small shipped-data stand-in; the slow test builds and installs the real wheel and also trains
BERT from the base model the wheel ships.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import stance
    from stance.cli import main

    site, bert = Path(sys.argv[1]), sys.argv[2] == "bert"
    assert Path(stance.__file__).is_relative_to(site), stance.__file__
    labelled = ["--text-column", "tekst", "--label-column", "kode", "--label-map", "imod=against"]
    out = {}

    result = stance.evaluate_file("gold.csv", text_column="tekst", label_column="kode",
                                  label_map="imod=against", references="project")
    out["evaluate_model_path"] = result["model_path"]
    out["evaluate_rows"] = result["rows"]["rows_used"]
    assert main(["evaluate", "--input", "gold.csv", *labelled, "--output", "reports",
                 "--quiet", "--json"]) == 0
    out["report_files"] = sorted(p.name for p in Path("reports").iterdir())

    assert main(["train", "--input", "gold.csv", *labelled, "--output", "mymodel", "--folds",
                 "2", "--user-weight", "3", "--quiet"]) == 0
    meta = json.loads(Path("mymodel/metadata.json").read_text(encoding="utf-8"))
    out["train_data"] = meta["training_data"]
    out["adaptation"] = sorted(meta["adaptation"]["cv"])
    out["classify"] = stance.classify("Jobcentret hjalp mig.", model="mymodel/").label
    out["explain"] = stance.explain("Jobcentret er en skændsel.", model="mymodel/").method
    assert main(["classify", "--model", "mymodel/", "--quiet", "Luk jobcentret"]) == 0

    assert main(["suggest", "--input", "pool.csv", "--n", "4", "--model", "mymodel/",
                 "--output", "to_label.csv", "--quiet"]) == 0
    out["suggest_python"] = len(stance.suggest(["Luk det", "Tak", "Møde i dag"], 2))

    if bert:
        assert main(["train", "--input", "gold.csv", *labelled, "--output", "mybert",
                     "--backend", "bert", "--folds", "2", "--user-weight", "2", "--set",
                     "epochs=1", "--set", "max_length=64", "--set", "stride=16",
                     "--quiet"]) == 0
        bert_meta = json.loads(Path("mybert/metadata.json").read_text(encoding="utf-8"))
        out["bert_base"] = bert_meta["base_model"]
        from transformers import pipeline
        out["pipeline"] = pipeline("text-classification", model="mybert")("Tak!")[0]["label"]
    print("RESULT " + json.dumps(out))
    """
)


def _rows(authored_rows: list[dict], writer: str, per_label: int) -> list[dict]:
    rows = []
    for label in ("against", "for", "neutral"):
        chosen = [r for r in authored_rows if r["writer"] == writer and r["label"] == label]
        rows += [
            {"tekst": r["text"], "kode": "imod" if label == "against" else label}
            for r in chosen[:per_label]
        ]
    return rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _run(site: Path, work: Path, authored_rows: list[dict], bert: bool) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    _write_csv(work / "gold.csv", [*_rows(authored_rows, "w02", 8), {"tekst": "", "kode": "for"}])
    _write_csv(work / "pool.csv", [{"text": r["tekst"]} for r in _rows(authored_rows, "w03", 5)])
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    code = [sys.executable, "-c", SCRIPT, str(site), "bert" if bert else "baseline"]
    done = subprocess.run(code, cwd=work, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    console = subprocess.run(
        [sys.executable, "-m", "stance", "classify", "--model", "mymodel", "Tak til jobcentret"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert console.stdout.split("\t")[0] in ("against", "for", "neutral")
    return json.loads(line[len("RESULT ") :])


def _force_include() -> dict[str, str]:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]


def _check(result: dict, site: Path, n_authored: int) -> None:
    assert Path(result["evaluate_model_path"]).is_relative_to(site)
    assert result["evaluate_rows"] == 24
    assert "baseline-gold-confusion.png" in result["report_files"]
    data = result["train_data"]
    assert data["n_user"] == 24 and data["n_authored"] == n_authored
    assert data["files"] == ["stance.jsonl", "authored.jsonl"]
    assert data["user_source"]["missing_text"] == 1
    assert result["adaptation"] == ["shipped_as_is", "shipped_plus_user", "user_only"]
    assert result["classify"] in ("against", "for", "neutral")
    assert result["explain"] == "linear" and result["suggest_python"] == 2


def test_commands_work_from_the_installed_layout(tmp_path, small_data, authored_rows):
    """The wheel's layout, built from pyproject's force-include table (small data, no BERT)."""
    mapping = _force_include()
    assert "models/danish-mini-bert" not in mapping  # the pretrained base stays out of the wheel
    site = tmp_path / "site"
    shutil.copytree(REPO / "stance", site / "stance", ignore=shutil.ignore_patterns("__pycache__"))
    stand_in = {"labelled/stance.jsonl": small_data[0], "labelled/authored.jsonl": small_data[1]}
    for source, target in mapping.items():
        if source.startswith("models/") and source != "models/baseline":
            continue  # the BERT models are not needed here (the slow test installs them)
        origin = stand_in.get(source, REPO / source)
        if Path(origin).is_dir():
            shutil.copytree(origin, site / target)
        else:
            (site / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, site / target)
    result = _run(site, tmp_path / "elsewhere", authored_rows, bert=False)
    _check(result, site, n_authored=90)


@pytest.mark.slow
def test_commands_work_from_an_installed_wheel(tmp_path, authored_rows):
    """Build the wheel, install it (without dependencies: they are this environment's) into a
    folder, and run everything from another folder, BERT included."""
    pytest.importorskip("hatchling")
    pytest.importorskip("torch")
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("stance-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, wheel],
        check=True,
        capture_output=True,
    )
    assert not (site / "stance" / "_models" / "danish-mini-bert").exists()
    result = _run(site, tmp_path / "elsewhere", authored_rows, bert=True)
    _check(result, site, n_authored=len(authored_rows))  # the wheel ships all authored texts
    # without the pretrained base in the wheel, training continues from the shipped BERT
    assert Path(result["bert_base"]) == site / "stance" / "_models" / "bert"
    assert result["pipeline"] in ("against", "for", "neutral")
