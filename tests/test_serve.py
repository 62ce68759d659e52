"""``stance serve``: every endpoint and every error path, through FastAPI's test client."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
if importlib.util.find_spec("multipart") is None:
    pytest.skip("python-multipart is not installed", allow_module_level=True)

from fastapi.testclient import TestClient

from stance import classify_many
from stance.cli import main as cli_main
from stance.errors import ConfigError, MissingDependencyError
from stance.serve import ServeSettings, create_app
from stance.serve.runner import exposure_warning

TEXTS = [
    "Luk jobcentrene, de skaber ingen job.",
    "Tak til min dygtige sagsbehandler!",
    "Mødet er flyttet.",
]
CSV = (
    'id,text,kilde\n1,Luk jobcentrene,fb\n2,,fb\n3,"Tak, jobcentret hjalp mig",twitter\n'
    '4,"Jobcentret er et kontrolsystem, der ydmyger syge mennesker.",web\n5,x,y,z\n'
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(temp_dir=str(tmp_path_factory.mktemp("serve")))
    with TestClient(app) as test_client:
        yield test_client


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


def _jobs_left(client) -> list[Path]:
    return list(client.app.state.jobs.root.iterdir())


# The page and the small endpoints ---------------------------------------------------------


def test_page_is_danish_self_contained_and_has_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="da">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "access-control-allow-origin" not in page.headers  # CORS off
    for name in ("app.js", "style.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200
        assert "http://" not in asset.text and "https://" not in asset.text
    assert "http://" not in page.text and "https://" not in page.text
    _error(client.get("/static/../app.py"), 404)
    _error(client.get("/static/secret.txt"), 404)


def test_docs_page_lists_every_endpoint_without_external_assets(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "https://" not in docs.text and "http://" not in docs.text
    schema = client.get("/openapi.json").json()
    for path in ("/v1/classify", "/v1/explain", "/v1/files", "/v1/models", "/healthz", "/v1/jobs"):
        assert path in schema["paths"] and f"<code>{path}</code>" in docs.text
    assert client.get("/redoc").status_code == 404


def test_healthz_and_models(client):
    assert client.get("/healthz").json()["status"] == "ok"
    body = client.get("/v1/models").json()
    assert body["default"] == "baseline" and body["labels"] == ["against", "for", "neutral"]
    baseline = next(m for m in body["models"] if m["name"] == "baseline")
    score = baseline["real_text_score"]
    assert score["metric"].startswith("real dev") and score["source"] == "models/baseline/README.md"
    assert score["value"].split()[0].replace(".", "").isdigit()


# /v1/classify and /v1/explain --------------------------------------------------------------


def test_classify_gives_the_library_predictions_in_order(client):
    response = client.post("/v1/classify", json={"texts": TEXTS})
    assert response.status_code == 200
    body = response.json()
    expected = classify_many(TEXTS)
    assert body["model"] == "baseline"
    assert [p["label"] for p in body["predictions"]] == [p.label for p in expected]
    for got, want in zip(body["predictions"], expected):
        assert got["probabilities"] == pytest.approx(want.probabilities)


def test_min_score_leaves_uncertain_labels_empty(client):
    body = client.post("/v1/classify", json={"texts": TEXTS, "min_score": 0.99}).json()
    for p in body["predictions"]:
        assert p["label"] == (p["predicted"] if p["score"] >= 0.99 else None)
    assert any(p["label"] is None for p in body["predictions"])


def test_explain_spans_index_the_text(client):
    body = client.post("/v1/explain", json={"texts": TEXTS[:2], "top": 3}).json()
    assert len(body["explanations"]) == 2
    for e in body["explanations"]:
        assert e["method"] == "linear"
        assert set(e["spans"]) == {"against", "for", "neutral"}
        for spans in e["spans"].values():
            assert len(spans) <= 3
            for s in spans:
                assert e["text"][s["start"] : s["end"]] == s["text"] and s["weight"] > 0
    assert body["explanations"][0]["spans"]["against"]


@pytest.mark.parametrize(
    ("payload", "status", "kind", "words"),
    [
        ({"texts": []}, 422, "ConfigError", "empty"),
        ({"texts": ["ok", "  "]}, 422, "EmptyTextError", "position 1"),
        ({"texts": ["ok", 7]}, 422, "TextTypeError", "position 1 must be str, got int"),
        ({"texts": [{"a": 1}]}, 422, "TextTypeError", "got dict"),
        ({"texts": "one text"}, 422, "ValidationError", "valid list"),
        ({}, 422, "ValidationError", "'texts' is required"),
        ({"texts": ["ok"], "extra": 1}, 422, "ValidationError", "'extra' is not allowed"),
        ({"texts": ["ok"], "min_score": "high"}, 422, "ValidationError", "min_score"),
        ({"texts": ["ok"], "min_score": 1.5}, 422, "ConfigError", "between 0 and 1"),
        ({"texts": ["ok"], "model": "gpt"}, 422, "ConfigError", "unknown model 'gpt'"),
        ({"texts": ["ok"], "model": "/etc"}, 422, "ConfigError", "unknown model '/etc'"),
    ],
)
def test_classify_errors(client, payload, status, kind, words):
    error = _error(client.post("/v1/classify", json=payload), status)
    assert error["type"] == kind and words in error["message"]


def test_bad_json_and_wrong_content_type(client):
    error = _error(
        client.post(
            "/v1/classify", content=b'{"texts": [', headers={"content-type": "application/json"}
        ),
        422,
    )
    assert "not valid JSON" in error["message"]
    error = _error(
        client.post("/v1/classify", content=b"texts", headers={"content-type": "text/plain"}), 422
    )
    assert error["type"] == "ValidationError"


def test_explain_bounds(client):
    error = _error(client.post("/v1/explain", json={"texts": ["a"] * 21}), 422)
    assert "at most 20" in error["message"]
    error = _error(client.post("/v1/explain", json={"texts": ["a"], "top": 0}), 422)
    assert "'top'" in error["message"]


def test_limits_on_texts_length_and_body(tmp_path):
    app = create_app(max_texts=3, max_text_chars=50, max_body_bytes=2000, temp_dir=str(tmp_path))
    with TestClient(app) as small:
        error = _error(small.post("/v1/classify", json={"texts": ["a"] * 4}), 422)
        assert "at most 3" in error["message"]
        error = _error(small.post("/v1/classify", json={"texts": ["ok", "x" * 51]}), 422)
        assert "position 1 has 51 characters" in error["message"] and "50" in error["message"]
        assert small.post("/v1/classify", json={"texts": ["x" * 50]}).status_code == 200
        big = json.dumps({"texts": ["x" * 3000]}).encode()
        error = _error(
            small.post("/v1/classify", content=big, headers={"content-type": "application/json"}),
            413,
        )
        assert "2,000 bytes" in error["message"]

        def chunks():  # no Content-Length: counted while it arrives
            yield b'{"texts": ["'
            for _ in range(10):
                yield b"x" * 500
            yield b'"]}'

        error = _error(
            small.post(
                "/v1/classify", content=chunks(), headers={"content-type": "application/json"}
            ),
            413,
        )
        assert error["type"] == "PayloadTooLarge"
        upload = {"file": ("big.csv", b"text\n" + b"Jobcentret\n" * 400)}
        _error(small.post("/v1/files", files=upload), 413)
        assert not list(tmp_path.iterdir())


def test_timeout_answers_503_and_crash_hides_the_trace(tmp_path, monkeypatch):
    import stance.api

    app = create_app(timeout_s=0.2, temp_dir=str(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as slow:
        monkeypatch.setattr(stance.api, "classify_many", lambda texts, **kw: time.sleep(1.0))
        start = time.perf_counter()
        error = _error(slow.post("/v1/classify", json={"texts": ["a"]}), 503)
        assert "0.2 s" in error["message"] and time.perf_counter() - start < 0.9

        def boom(texts, **kw):
            raise RuntimeError("secret content of a text")

        monkeypatch.setattr(stance.api, "classify_many", boom)
        response = slow.post("/v1/classify", json={"texts": ["a"]})
        error = _error(response, 500)
        assert "secret" not in response.text and error["type"] == "InternalError"


def test_unknown_path_and_method(client):
    assert _error(client.get("/v1/nothing"), 404)["type"] == "NotFound"
    assert _error(client.get("/v1/classify"), 405)["type"] == "MethodNotAllowed"


# The token ---------------------------------------------------------------------------------


def test_token_guards_the_page_and_every_api_call(tmp_path):
    app = create_app(token="s3cret", temp_dir=str(tmp_path))
    with TestClient(app) as guarded:
        assert guarded.get("/healthz").status_code == 200
        page = guarded.get("/")
        assert page.status_code == 401 and 'name="token"' in page.text
        for method, path in [
            ("get", "/v1/models"),
            ("post", "/v1/classify"),
            ("post", "/v1/explain"),
            ("post", "/v1/files"),
            ("post", "/v1/jobs"),
            ("get", "/static/app.js"),
            ("get", "/docs"),
            ("get", "/openapi.json"),
        ]:
            _error(getattr(guarded, method)(path), 401)
        wrong = {"Authorization": "Bearer nope"}
        error = _error(guarded.post("/v1/classify", json={"texts": ["a"]}, headers=wrong), 401)
        assert "Bearer" in error["message"]
        right = {"Authorization": "Bearer s3cret"}
        assert guarded.post("/v1/classify", json={"texts": ["a"]}, headers=right).status_code == 200
        assert guarded.post("/auth", data={"token": "nope"}).status_code == 401
        signed = guarded.post("/auth", data={"token": "s3cret"}, follow_redirects=False)
        assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
        assert guarded.get("/").status_code == 200  # the cookie now
        assert guarded.get("/v1/models").status_code == 200


def test_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("STANCE_SERVE_TOKEN", "from-env")
    monkeypatch.delenv("STANCE_SERVE_SETTINGS", raising=False)
    assert ServeSettings.from_env().token == "from-env"
    from stance.cli import build_parser
    from stance.serve.command import settings_from_args

    args = build_parser().parse_args(["serve", "--max-body-mb", "2", "--port", "8123"])
    settings = settings_from_args(args)
    assert settings.token == "from-env" and settings.max_body_bytes == 2 * 2**20
    assert settings.port == 8123 and settings.host == "127.0.0.1"


# Files -------------------------------------------------------------------------------------


def _cli_output(tmp_path: Path, name: str, content: bytes, *extra: str) -> bytes:
    source = tmp_path / name
    source.write_bytes(content)
    out = (
        tmp_path
        / f"cli-{Path(name).stem}.{'csv' if name.endswith('.txt') else Path(name).suffix[1:]}"
    )
    cli_main(["classify", "--input", str(source), "--output", str(out), "--quiet", *extra])
    return out.read_bytes()


def test_file_round_trip_keeps_every_row_like_the_cli(client, tmp_path):
    response = client.post("/v1/files", files={"file": ("kommentarer.csv", CSV.encode())})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="kommentarer.stance.csv"' in response.headers["content-disposition"]
    assert response.headers["x-stance-rows"] == "5" and response.headers["x-stance-failed"] == "2"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[1]["error"] and not rows[1]["stance_label"]
    assert "fields but the header has" in rows[4]["error"]
    assert response.content == _cli_output(tmp_path, "kommentarer.csv", CSV.encode())
    assert not _jobs_left(client)


@pytest.mark.parametrize(
    ("name", "content", "column", "media"),
    [
        ("a.tsv", "id\tbody\n1\tLuk jobcentrene\n2\t\n", "body", "text/tab-separated-values"),
        (
            "a.jsonl",
            '{"body": "Luk jobcentrene", "n": 1}\nnot json\n{"n": 3}\n{"body": "Tak", "n": 4}\n',
            "body",
            "application/x-ndjson",
        ),
        ("a.txt", "Luk jobcentrene\n\nTak til jobcentret\n", "text", "text/csv"),
    ],
)
def test_text_formats_round_trip(client, tmp_path, name, content, column, media):
    response = client.post(
        "/v1/files",
        files={"file": (name, content.encode())},
        data={"text_column": column, "min_score": "0.5"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    expected = _cli_output(
        tmp_path, name, content.encode(), "--text-column", column, "--min-score", "0.5"
    )
    assert response.content == expected


def test_parquet_round_trip(client, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": [1, 2, 3], "text": ["Luk jobcentrene", None, "Tak til jobcentret"]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    response = client.post("/v1/files", files={"file": ("a.parquet", buffer.getvalue())})
    assert response.status_code == 200, response.text
    out = pq.read_table(io.BytesIO(response.content)).to_pylist()
    assert [r["id"] for r in out] == [1, 2, 3]
    assert out[0]["stance_label"] and out[1]["error"] and not out[1]["stance_label"]


@pytest.mark.parametrize(
    ("name", "content", "data", "words"),
    [
        ("a.csv", b"id,body\n1,x\n", {}, "no column 'text'"),
        ("a.csv", b"", {}, "empty"),
        ("a.docx", b"PK\x03\x04", {}, "cannot tell the format"),
        ("noext", b"text\nx\n", {}, "cannot tell the format"),
        ("a.parquet", b"not parquet at all", {}, "Parquet"),
        ("a.csv", b"text\nx\n", {"min_score": "lots"}, "min_score"),
        ("a.csv", b"text\nx\n", {"model": "nope"}, "unknown model 'nope'"),
    ],
)
def test_bad_files(client, name, content, data, words):
    error = _error(client.post("/v1/files", files={"file": (name, content)}, data=data), 422)
    assert words in error["message"]
    assert (
        "/tmp" not in error["message"] and str(client.app.state.jobs.root) not in error["message"]
    )
    assert not _jobs_left(client)


def test_missing_file_field(client):
    error = _error(client.post("/v1/files", data={"text_column": "text"}), 422)
    assert "'file' is required" in error["message"]


def test_excel_is_classified_or_refused_clearly(client):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "text"])
    sheet.append([1, "Luk jobcentrene"])
    sheet.append([2, None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post("/v1/files", files={"file": ("ark.xlsx", buffer.getvalue())})
    from stance.serve.jobs import engine_formats

    if "xlsx" in engine_formats():
        assert response.status_code == 200, response.text
        out = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert out.max_row == 3
    else:
        error = _error(response, 422)
        assert "Excel" in error["message"] and "CSV" in error["message"]


def test_file_timeout_stops_the_job(tmp_path):
    app = create_app(file_timeout_s=0.01, temp_dir=str(tmp_path))
    with TestClient(app) as hurried:
        error = _error(hurried.post("/v1/files", files={"file": ("a.csv", CSV.encode())}), 503)
        assert "0.01 s" in error["message"] and error["type"] == "TimeoutError"
    assert not list(tmp_path.iterdir())


# Jobs (what the page uses) -----------------------------------------------------------------


def _wait(client, job_id: str) -> dict:
    for _ in range(600):
        state = client.get(f"/v1/jobs/{job_id}").json()
        assert 0.0 <= (state["progress"] or 0.0) <= 1.0
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_job_upload_columns_progress_summary_download(client, tmp_path):
    created = client.post("/v1/jobs", files={"file": ("kommentarer.csv", CSV.encode())})
    assert created.status_code == 201
    job = created.json()
    assert job["columns"] == ["id", "text", "kilde"] and job["suggested_column"] == "text"
    assert job["state"] == "uploaded"
    started = client.post(f"/v1/jobs/{job['id']}/start", json={"text_column": "text"})
    assert started.status_code == 202 and started.json()["state"] in ("queued", "running")
    again = _error(client.post(f"/v1/jobs/{job['id']}/start", json={"text_column": "text"}), 422)
    assert "started once" in again["message"]
    state = _wait(client, job["id"])
    assert state["state"] == "done" and state["progress"] == 1.0
    summary = state["summary"]
    assert sum(summary["counts"].values()) == 3 and summary["errors"] == 2
    assert sum(summary["shares"].values()) == pytest.approx(1.0)
    assert "corrected" in summary
    download = client.get(state["download"])
    assert download.status_code == 200
    assert download.content == _cli_output(tmp_path, "kommentarer.csv", CSV.encode())
    _error(client.get(state["download"]), 404)  # deleted once sent
    assert not _jobs_left(client)


def test_job_errors(client):
    _error(client.get("/v1/jobs/nosuchjob"), 404)
    _error(client.get("/v1/jobs/..%2F..%2Fetc"), 404)
    job = client.post("/v1/jobs", files={"file": ("a.csv", b"id,body\n1,x\n")}).json()
    error = _error(client.post(f"/v1/jobs/{job['id']}/start", json={"text_column": "text"}), 422)
    assert "no column 'text'" in error["message"] and "['id', 'body']" in error["message"]
    _error(client.get(f"/v1/jobs/{job['id']}/download"), 422)  # not done
    _error(client.post(f"/v1/jobs/{job['id']}/start", json={"column": "body"}), 422)
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    _error(client.get(f"/v1/jobs/{job['id']}"), 404)
    assert not _jobs_left(client)


# Settings, the command and the lean core --------------------------------------------------


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="max_texts must be a positive integer, got 0"):
        ServeSettings(max_texts=0)
    with pytest.raises(ConfigError, match="port must be at most 65535"):
        ServeSettings(port=70000)
    with pytest.raises(ConfigError, match="timeout_s"):
        ServeSettings(timeout_s=-1)
    assert ServeSettings.from_json(ServeSettings(port=9000).to_json()).port == 9000


def test_warning_when_bound_beyond_loopback():
    assert exposure_warning(ServeSettings()) is None
    assert exposure_warning(ServeSettings(host="localhost")) is None
    warning = exposure_warning(ServeSettings(host="0.0.0.0"))
    assert "other machines" in warning and "--token" in warning
    assert "a token is required" in exposure_warning(ServeSettings(host="10.0.0.5", token="t"))


def test_unknown_default_model_is_a_clear_error(tmp_path):
    from stance.errors import ModelError

    with pytest.raises(ModelError, match="not found"):
        create_app(model=str(tmp_path / "nothing"))


def test_missing_extra_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match=r'pip install "stance\[serve\]"'):
        create_app()


def test_import_stance_and_the_cli_stay_lean():
    code = (
        "import sys, stance; from stance.cli import build_parser; build_parser(); "
        "import stance.serve; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'multipart') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        cli_main(["serve", "--help"])
    out = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--model",
        "--workers",
        "--token",
        "--max-body-mb",
        "--max-texts",
        "--max-text-chars",
        "--timeout",
    ):
        assert option in out


@pytest.mark.parametrize("module", ["stance.serve", "stance.serve.settings", "stance.serve.jobs"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed


def test_corrected_shares_come_per_label_from_the_shares_estimator(monkeypatch):
    """With ``stance.shares`` present, its rows (one per group, a column per label) come back
    one per label; without it, ``None``; an estimator error is passed on as a message."""
    import types

    import numpy as np

    from stance.errors import ModelError
    from stance.serve.jobs import corrected_shares

    monkeypatch.setitem(sys.modules, "stance.shares", None)  # not installed
    assert corrected_shares(np.full((4, 3), 1 / 3), "baseline") is None

    def estimate(probabilities, *, model=None, method=None):
        if model == "broken":
            raise ModelError("m", "no real_text_confusion")
        row = {"group": "all", "n": len(probabilities)}
        for label, value in zip(("against", "for", "neutral"), (0.5, 0.3, 0.2)):
            row.update({f"raw_{label}": value, f"share_{label}": np.float64(value - 0.01)})
            row.update({f"low_{label}": value - 0.1, f"high_{label}": value + 0.1})
        return types.SimpleNamespace(
            rows=(row,), method="pacc", correction="the model's confusion", source="model",
            level=0.95, warnings=("few texts",),
        )  # fmt: skip

    fake = types.ModuleType("stance.shares")
    fake.estimate_shares_from_probabilities = estimate
    monkeypatch.setitem(sys.modules, "stance.shares", fake)
    out = corrected_shares(np.full((4, 3), 1 / 3), "baseline")
    assert out["method"] == "pacc" and out["warnings"] == ["few texts"]
    assert [r["label"] for r in out["rows"]] == ["against", "for", "neutral"]
    first = out["rows"][0]
    assert first["n"] == 4 and first["raw_share"] == 0.5 and first["low"] == pytest.approx(0.4)
    assert type(first["corrected_share"]) is float and json.dumps(out)
    assert "no real_text_confusion" in corrected_shares(np.ones((2, 3)) / 3, "broken")["error"]
