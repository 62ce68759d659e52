"""classify_frame on pandas, and the same function on the engines users run it on: a Dask
LocalCluster with two worker processes, Spark in local mode, and Hugging Face datasets.map.
Each must give exactly the labels of classify_many, and an error for every bad row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

from stance import classify_frame, classify_many  # noqa: E402
from stance.errors import ConfigError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ADDED = ["stance_label", "stance_score", "p_against", "p_for", "p_neutral", "error"]
BAD = {5: None, 17: "", 400: "   \n", 1999: None, 2500: ""}


@pytest.fixture(scope="module")
def texts() -> list:
    """3,000 texts from the authored set, with missing and empty ones among them."""
    rows = [json.loads(line) for line in (REPO / "labelled" / "authored.jsonl").open()]
    out: list = [rows[i % len(rows)]["text"] for i in range(3000)]
    for i, value in BAD.items():
        out[i] = value
    return out


@pytest.fixture(scope="module")
def expected(texts) -> dict[int, object]:
    good = [i for i in range(len(texts)) if i not in BAD]
    return dict(zip(good, classify_many([texts[i] for i in good])))


def _check(out, texts, expected) -> None:
    """``out`` (ordered like ``texts``) has the labels and probabilities of classify_many and
    an error, no label, for every bad row."""
    assert len(out) == len(texts)
    labels = out["stance_label"].tolist()
    errors = out["error"].tolist()
    for i, prediction in expected.items():
        assert labels[i] == prediction.label and errors[i] == "", i
        assert out["p_for"].iloc[i] == prediction.probabilities["for"]
    for i in (i for i in BAD if i < len(texts)):
        assert labels[i] == "" and errors[i], i
        assert out["stance_score"].isna().iloc[i]


def test_classify_frame_matches_classify_many(texts, expected):
    frame = pd.DataFrame({"id": range(len(texts)), "text": texts}, index=range(10, 10 + len(texts)))
    out = classify_frame(frame)
    assert list(out.columns) == ["id", "text", *ADDED]
    assert out.index.equals(frame.index) and list(frame.columns) == ["id", "text"]
    _check(out, texts, expected)
    assert out["error"].iloc[5] == "field 'text' is a missing value (NaN), not a str"


def test_classify_frame_never_raises_for_a_bad_row():
    frame = pd.DataFrame(
        {"body": ["Luk jobcentrene!", 42, b"bytes", None, "", "Tak til jobcentret"]}
    )
    out = classify_frame(frame, text_column="body", min_score=0.99)
    errors = out["error"].tolist()
    assert "must be str, got int" in errors[1] and "got bytes" in errors[2]
    assert "missing" in errors[3] and "empty" in errors[4]
    assert "below min_score 0.99" in errors[0] and out["stance_label"].iloc[0] == ""
    assert out["p_against"].iloc[0] > 0.5  # probabilities are kept below min_score
    with pytest.raises(ConfigError, match="text_column 'text' is not a column"):
        classify_frame(frame)


def test_an_empty_frame_gives_the_output_columns_without_loading_a_model(monkeypatch):
    from stance import api

    monkeypatch.setattr(api, "load_classifier", lambda *a, **k: pytest.fail("loaded a model"))
    out = classify_frame(pd.DataFrame({"text": pd.Series([], dtype=str)}))
    assert list(out.columns) == ["text", *ADDED] and len(out) == 0
    assert str(out["stance_score"].dtype) == "float64"


def test_import_stance_does_not_import_pandas_dask_or_spark():
    code = (
        "import sys, stance; from stance import classify_frame; "
        "print(sorted(m for m in ('pandas', 'dask', 'pyspark', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.cluster
def test_dask_local_cluster_with_two_worker_processes(texts, expected):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    import stance

    frame = pd.DataFrame({"id": range(len(texts)), "text": texts})
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ddf = dd.from_pandas(frame, npartitions=4)
        # The README's recipe:
        labelled = ddf.map_partitions(
            stance.classify_frame, text_column="text", meta=stance.classify_frame(ddf._meta)
        )
        out = labelled.compute().sort_values("id")
        workers = client.run(os.getpid)
    assert len(set(workers.values())) == 2
    _check(out.reset_index(drop=True), texts, expected)


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        # Not a skip: with stance[spark] installed this test must run (CI installs Java).
        pytest.fail("Spark needs Java 17+: apt-get install default-jre-headless")
    from pyspark.sql import SparkSession

    # Spark's Python workers must run this interpreter (with stance), whatever is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("stance-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.cluster
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:The copy keyword is deprecated")
def test_spark_local_map_in_pandas(spark, texts, expected):
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    import stance

    frame = pd.DataFrame({"id": range(len(texts)), "text": texts})
    df = spark.createDataFrame(frame, schema="id long, text string")

    # The README's recipe:
    def classify_batches(frames):
        for frame in frames:
            yield stance.classify_frame(frame, text_column="text")

    schema = StructType(
        [
            *df.schema.fields,
            StructField("stance_label", StringType()),
            StructField("stance_score", DoubleType()),
            StructField("p_against", DoubleType()),
            StructField("p_for", DoubleType()),
            StructField("p_neutral", DoubleType()),
            StructField("error", StringType()),
        ]
    )
    labelled = df.mapInPandas(classify_batches, schema=schema)
    out = labelled.toPandas().sort_values("id").reset_index(drop=True)
    assert list(out.columns) == ["id", "text", *ADDED]
    _check(out, texts, expected)


def test_hugging_face_datasets_map(texts, expected):
    datasets = pytest.importorskip("datasets")
    import stance

    subset = texts[:600]
    dataset = datasets.Dataset.from_dict({"text": subset})

    # The README's recipe:
    def add_stance(batch):
        out = stance.classify_frame(pd.DataFrame({"text": batch["text"]}))
        return out.drop(columns="text").to_dict("list")

    labelled = dataset.map(add_stance, batched=True, batch_size=200, num_proc=2)
    out = labelled.to_pandas()
    _check(out, subset, {i: p for i, p in expected.items() if i < 600})
