"""The ASGI app of ``stance serve``: the page, the JSON API, the file jobs and the limits.

Endpoints (all JSON unless said otherwise; see ``docs/serve.md``):

- ``GET /`` the page; ``GET /static/{app.js,style.css}`` its script and style.
- ``POST /v1/classify`` ``{texts, model?, min_score?}`` → predictions in order.
- ``POST /v1/explain`` ``{texts, model?, min_score?, top?}`` → predictions and spans.
- ``POST /v1/files`` (multipart ``file``, ``text_column``, ``model?``, ``min_score?``) → the
  labelled file in the upload's format, every row kept.
- ``POST /v1/jobs`` (multipart ``file``) → a job with the file's columns;
  ``POST /v1/jobs/{id}/start`` ``{text_column, model?, min_score?}``; ``GET /v1/jobs/{id}``
  → state, progress and summary; ``GET /v1/jobs/{id}/download``; ``DELETE /v1/jobs/{id}``.
- ``GET /v1/models``, ``GET /healthz``, ``GET /docs`` (a self-contained page of the API),
  ``GET /openapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import json
import logging
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from stance import __version__
from stance.errors import ConfigError, StanceError, TextTypeError
from stance.labels import LABELS
from stance.serve.catalogue import ModelEntry, build_catalogue, pick
from stance.serve.jobs import Job, JobStore
from stance.serve.settings import ServeSettings
from stance.text import prepare_text

logger = logging.getLogger(__name__)

COOKIE = "stance_token"
CLASSIFY_THREADS = 2
"""Threads per server process that classify JSON calls at once (more only fight for the GIL)."""
STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
OPEN_PATHS = {"/healthz", "/auth"}

TEXTS_SCHEMA = {"type": "array", "items": {"type": "string"}, "minItems": 1}


class ClassifyRequest(BaseModel):
    """Texts to classify with a model this server offers."""

    model_config = ConfigDict(extra="forbid")
    texts: Annotated[list[Any], Field(json_schema_extra=TEXTS_SCHEMA)]
    model: str | None = Field(
        None, description="a name from GET /v1/models (default: the server's)"
    )
    min_score: float | None = Field(
        None, description="label null where the score is below this (0-1)"
    )


class ExplainRequest(ClassifyRequest):
    """Texts to explain: each prediction with the spans that pushed toward each label."""

    top: int = Field(5, description="spans per label (1-20)")


class StartRequest(BaseModel):
    """Which column of an uploaded file to classify, and how."""

    model_config = ConfigDict(extra="forbid")
    text_column: str
    model: str | None = None
    min_score: float | None = None


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """One sentence for pydantic's errors, naming fields but never echoing values."""
    parts, where = [], []
    for error in errors:
        loc = [str(x) for x in error.get("loc", ()) if x not in ("body",)]
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            parts.append(f"the request body is not valid JSON ({reason})")
            continue
        name = ".".join(loc) or "body"
        where.append(name)
        got = type(error.get("input")).__name__
        if error.get("type") == "missing":
            parts.append(f"field {name!r} is required")
        elif error.get("type") == "extra_forbidden":
            parts.append(f"field {name!r} is not allowed here")
        else:
            parts.append(f"field {name!r}: {error.get('msg', 'invalid')} (got {got})")
    return "; ".join(parts) or "invalid request", where


class Guard:
    """ASGI middleware: the bearer token, the body limit and the security headers."""

    def __init__(self, app: Any, settings: ServeSettings) -> None:
        self.app = app
        self.token = settings.token
        self.limit = settings.max_body_bytes

    def authorised(self, headers: dict[bytes, bytes]) -> bool:
        if self.token is None:
            return True
        expected = self.token.encode()
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer " and secrets.compare_digest(auth[7:].strip(), expected):
            return True
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == COOKIE.encode() and secrets.compare_digest(value, expected):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        headers = dict(scope.get("headers") or [])
        if scope["path"] not in OPEN_PATHS and not self.authorised(headers):
            if scope["path"] == "/" and scope["method"] == "GET":
                response: Response = HTMLResponse(SIGN_IN, status_code=401)
            else:
                response = JSONResponse(
                    error_body(
                        "Unauthorized",
                        "this server needs a token: send the header 'Authorization: Bearer TOKEN'",
                    ),
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            await response(scope, receive, send_with_headers)
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(self.limit)(scope, receive, send_with_headers)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, _too_large_message(self.limit))
            return message

        await self.app(scope, counted, send_with_headers)


def _too_large_message(limit: int) -> str:
    return (
        f"the request body is larger than this server's limit of {limit:,} bytes "
        f"({limit / 2**20:g} MB); split the file or start the server with a larger --max-body-mb"
    )


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(error_body("PayloadTooLarge", _too_large_message(limit)), status_code=413)


SIGN_IN = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>stance: log ind</title></head><body>
<h1>stance</h1>
<form method="post" action="/auth">
<p><label for="token">Denne server kræver en nøgle (token) / This server needs a token:</label></p>
<p><input id="token" name="token" type="password" autocomplete="current-password" autofocus>
<button type="submit">OK</button></p>
</form></body></html>
"""


def _static(name: str) -> str:
    static = resources.files("stance.serve").joinpath("static")
    return static.joinpath(name).read_text(encoding="utf-8")


def build_app(settings: ServeSettings) -> FastAPI:
    """The app for ``settings`` (use :func:`stance.serve.create_app`)."""
    catalogue = build_catalogue(settings.model)
    own_temp = settings.temp_dir is None
    root = Path(settings.temp_dir or tempfile.mkdtemp(prefix="stance-serve-"))
    store = JobStore(
        root,
        file_jobs=settings.file_jobs,
        file_timeout_s=settings.file_timeout_s,
        ttl_s=settings.job_ttl_s,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from stance.api import load_classifier

        await run_in_threadpool(load_classifier, pick(catalogue, None).reference)
        yield
        for process in list(store.processes.values()):
            process.kill()
        if own_temp:
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(
        title="stance",
        version=__version__,
        description="Stance toward Danish jobcentres (against / for / neutral) of Danish texts "
        'and files. Errors are JSON: {"error": {"type", "message"}}.',
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.state.jobs = store
    app.add_middleware(Guard, settings=settings)

    # Errors ------------------------------------------------------------------------------

    hidden = re.compile(re.escape(str(root)) + r"[/\\][^/\\\s:]+[/\\]")

    @app.exception_handler(StanceError)
    async def stance_error(_: Request, exc: StanceError) -> JSONResponse:
        message = hidden.sub("", str(exc))  # never the server's temporary paths
        return JSONResponse(error_body(type(exc).__name__, message), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, where = _validation_message(list(exc.errors()))
        return JSONResponse(error_body("ValidationError", message, where=where), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        kinds = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 503: "Timeout"}
        kind = kinds.get(exc.status_code, "HTTPError")
        message = (
            str(exc.detail)
            if exc.status_code != 404 or exc.detail != "Not Found"
            else ("no such endpoint; see /docs")
        )
        return JSONResponse(error_body(kind, message), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        logger.error("internal error: %s", type(exc).__name__)
        return JSONResponse(
            error_body("InternalError", f"the server failed ({type(exc).__name__}); see its log"),
            status_code=500,
        )

    # Helpers -----------------------------------------------------------------------------

    # Classifying holds the GIL much of the time: a few threads do it, the rest wait their
    # turn without slowing the event loop (and the requests it is serving) down.
    limiter = anyio.CapacityLimiter(CLASSIFY_THREADS)

    async def off_loop(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(function, *args, **kwargs)
        try:
            return await asyncio.wait_for(_in_thread(call, limiter), settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(
                503,
                f"the request took longer than this server's limit of {settings.timeout_s:g} s; "
                "send fewer or shorter texts",
            ) from None

    def check_texts(texts: list[Any], limit: int) -> list[str]:
        if not texts:
            raise ConfigError("field 'texts' is empty; send at least one text")
        if len(texts) > limit:
            raise ConfigError(
                f"field 'texts' has {len(texts):,} texts; this server takes at most {limit:,} "
                "per call (send several calls, or upload a file to /v1/files)"
            )
        checked = []
        for i, text in enumerate(texts):
            if isinstance(text, (dict, list)):
                raise TextTypeError(f"text at position {i} must be str, got {type(text).__name__}")
            text = prepare_text(text, i)
            if len(text) > settings.max_text_chars:
                raise ConfigError(
                    f"text at position {i} has {len(text):,} characters; this server takes at "
                    f"most {settings.max_text_chars:,} per text in a JSON call (--max-text-chars); "
                    "upload longer texts as a file, where the model's own long-text rule applies"
                )
            checked.append(text)
        return checked

    def check_min_score(value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ConfigError(f"field 'min_score' must be between 0 and 1, got {value}")
        return value

    def prediction_dict(p: Any, min_score: float | None) -> dict[str, Any]:
        sure = min_score is None or p.score >= min_score
        return {
            "label": p.label if sure else None,
            "predicted": p.label,
            "score": p.score,
            "probabilities": dict(p.probabilities),
        }

    def job_or_404(job_id: str) -> Job:
        try:
            return store.get(job_id)
        except KeyError:
            raise HTTPException(
                404, f"no job {job_id!r} (finished jobs are deleted once downloaded)"
            ) from None

    async def receive_upload(file: UploadFile) -> tuple[Job, dict[str, Any]]:
        name = Path(file.filename or "").name
        if not name:
            raise ConfigError("field 'file' has no file name; send the file as multipart/form-data")
        job = store.new()
        try:
            from stance.serve.jobs import upload_format

            upload_format(name)  # refuse an unknown format before copying
            target = job.folder / f"upload.{Path(name).suffix.lower().lstrip('.')}"

            def copy() -> None:
                with target.open("wb") as out:
                    shutil.copyfileobj(file.file, out, 1 << 20)

            await run_in_threadpool(copy)
            state = await run_in_threadpool(store.prepare, job, name)
        except BaseException:
            store.remove(job)
            raise
        return job, state

    def public_state(job: Job, state: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "state",
            "filename",
            "format",
            "columns",
            "suggested_column",
            "text_column",
            "model",
            "min_score",
            "rows",
            "classified",
            "failed",
            "summary",
            "error",
            "bytes",
        )
        out = {"id": job.id, **{k: state[k] for k in keys if k in state}}
        out["progress"] = store.progress(job, state)
        if state.get("state") == "done":
            out["download"] = f"/v1/jobs/{job.id}/download"
        return out

    def download(job: Job, state: dict[str, Any]) -> FileResponse:
        output = job.folder / state["output"]
        stem = Path(state.get("filename") or "file").stem or "file"
        suffix = output.suffix.lstrip(".")
        return FileResponse(
            output,
            media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
            filename=f"{stem}.stance.{suffix}",
            headers={
                "X-Stance-Rows": str(state.get("rows", "")),
                "X-Stance-Classified": str(state.get("classified", "")),
                "X-Stance-Failed": str(state.get("failed", "")),
            },
            background=BackgroundTask(store.remove, job),
        )

    def failed(job: Job, state: dict[str, Any]) -> JSONResponse:
        store.remove(job)
        error = state.get("error") or {"type": "InternalError", "message": "the job failed"}
        status = 503 if error.get("type") == "TimeoutError" else 422
        if error.get("type") == "InternalError":
            status = 500
        return JSONResponse(error_body(error["type"], error["message"]), status_code=status)

    # The page ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(_static("index.html"))

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, f"no static file {name!r}")
        return Response(_static(name), media_type=STATIC[name])

    @app.post("/auth", include_in_schema=False)
    async def sign_in(token: Annotated[str, Form()] = "") -> Response:
        if settings.token is None or not secrets.compare_digest(
            token.encode(), settings.token.encode()
        ):
            return HTMLResponse(SIGN_IN, status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))

    # The API -----------------------------------------------------------------------------

    @app.get("/healthz", summary="Liveness: the server answers")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/v1/models", summary="The models this server offers, with their card summaries")
    async def models() -> dict[str, Any]:
        return {
            "default": pick(catalogue, None).name,
            "labels": list(LABELS),
            "models": [entry.to_dict() for entry in catalogue.values()],
        }

    @app.post("/v1/classify", summary="Classify texts; predictions come back in order")
    async def classify(body: ClassifyRequest) -> dict[str, Any]:
        from stance.api import classify_many

        entry: ModelEntry = pick(catalogue, body.model)
        min_score = check_min_score(body.min_score)
        texts = check_texts(body.texts, settings.max_texts)
        predictions = await off_loop(classify_many, texts, model=entry.reference)
        return {
            "model": entry.name,
            "predictions": [prediction_dict(p, min_score) for p in predictions],
        }

    @app.post(
        "/v1/explain",
        summary="Explain texts: each prediction with the spans that pushed toward each label",
    )
    async def explain(body: ExplainRequest) -> dict[str, Any]:
        from stance.explanation import explain as explain_text

        entry = pick(catalogue, body.model)
        min_score = check_min_score(body.min_score)
        if not 1 <= body.top <= 20:
            raise ConfigError(f"field 'top' must be between 1 and 20, got {body.top}")
        texts = check_texts(body.texts, settings.max_explain_texts)

        def run() -> list[dict[str, Any]]:
            out = []
            for text in texts:
                e = explain_text(text, model=entry.reference, top=body.top)
                out.append(
                    {
                        "text": e.text,
                        **prediction_dict(e.prediction, min_score),
                        "method": e.method,
                        "spans": {
                            label: [s._asdict() for s in spans] for label, spans in e.spans.items()
                        },
                    }
                )
            return out

        return {"model": entry.name, "explanations": await off_loop(run)}

    @app.post(
        "/v1/files",
        summary="Classify every row of a file; the labelled file comes back in its format",
        response_class=FileResponse,
    )
    async def files(
        file: Annotated[UploadFile, File(description=".csv .tsv .jsonl .txt .parquet (.xlsx)")],
        text_column: Annotated[str, Form()] = "text",
        model: Annotated[str | None, Form()] = None,
        min_score: Annotated[str | None, Form()] = None,
    ) -> Response:
        entry = pick(catalogue, model or None)
        score = _form_score(min_score)
        job, _ = await receive_upload(file)
        try:
            await run_in_threadpool(
                store.start, job, text_column, entry.reference, entry.name, score
            )
        except BaseException:
            store.remove(job)
            raise
        state = await _wait(store, job)
        if state.get("state") != "done":
            return failed(job, state)
        return download(job, state)

    @app.post(
        "/v1/jobs",
        status_code=201,
        summary="Upload a file for the page: returns a job with the file's columns",
    )
    async def new_job(
        file: Annotated[UploadFile, File(description=".csv .tsv .jsonl .txt .parquet (.xlsx)")],
    ) -> dict[str, Any]:
        job, state = await receive_upload(file)
        return public_state(job, state)

    @app.post("/v1/jobs/{job_id}/start", status_code=202, summary="Start classifying a job")
    async def start_job(job_id: str, body: StartRequest) -> dict[str, Any]:
        job = job_or_404(job_id)
        entry = pick(catalogue, body.model)
        score = check_min_score(body.min_score)
        state = await run_in_threadpool(
            store.start, job, body.text_column, entry.reference, entry.name, score
        )
        return public_state(job, state)

    @app.get("/v1/jobs/{job_id}", summary="A job's state, progress (0-1) and summary")
    async def job_state(job_id: str) -> dict[str, Any]:
        job = job_or_404(job_id)
        return public_state(job, job.read())

    @app.get(
        "/v1/jobs/{job_id}/download",
        summary="The labelled file of a finished job (deleted from the server once sent)",
        response_class=FileResponse,
    )
    async def job_download(job_id: str) -> Response:
        job = job_or_404(job_id)
        state = job.read()
        if state.get("state") == "failed":
            return failed(job, state)
        if state.get("state") != "done":
            raise ConfigError(f"job {job_id} is {state.get('state')!r}, not done yet")
        return download(job, state)

    @app.delete("/v1/jobs/{job_id}", status_code=204, summary="Cancel a job and delete its files")
    async def delete_job(job_id: str) -> Response:
        store.remove(job_or_404(job_id))
        return Response(status_code=204)

    return app


async def _in_thread(call: Callable[[], Any], limiter: anyio.CapacityLimiter) -> Any:
    """Run ``call`` in a worker thread; on a timeout the request is answered at once and the
    thread's result, when it comes, is thrown away."""
    try:
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True, limiter=limiter)
    except TypeError as exc:  # anyio < 4.1 names it cancellable
        if "abandon_on_cancel" not in str(exc):
            raise
        return await anyio.to_thread.run_sync(call, cancellable=True, limiter=limiter)


def _form_score(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        score = float(value)
    except ValueError:
        raise ConfigError(
            f"field 'min_score' must be a number between 0 and 1, got {value!r}"
        ) from None
    if not 0.0 <= score <= 1.0:
        raise ConfigError(f"field 'min_score' must be between 0 and 1, got {score}")
    return score


async def _wait(store: JobStore, job: Job) -> dict[str, Any]:
    while True:
        state = job.read()
        if state.get("state") in ("done", "failed") or not state:
            return state
        await asyncio.sleep(0.05)


def render_docs(schema: dict[str, Any]) -> str:
    """A self-contained HTML page of the API from its OpenAPI schema (no external assets)."""
    e = html.escape
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            kinds = ", ".join(body) or "-"
            refs = []
            for content in body.values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    refs.append(ref.rsplit("/", 1)[-1])
            rows.append(
                f"<tr><td><code>{e(method.upper())}</code></td><td><code>{e(path)}</code></td>"
                f"<td>{e(op.get('summary', ''))}</td><td>{e(kinds)}"
                f"{(' (' + e(', '.join(refs)) + ')') if refs else ''}</td></tr>"
            )
    components = schema.get("components", {}).get("schemas", {})
    models = []
    for name, spec in components.items():
        if name in ("HTTPValidationError", "ValidationError"):
            continue
        fields = "".join(
            f"<li><code>{e(k)}</code>: {e(json.dumps(v.get('type') or v.get('anyOf') or v))}"
            f"{' (required)' if k in spec.get('required', []) else ''}"
            f"{(' — ' + e(v['description'])) if v.get('description') else ''}</li>"
            for k, v in spec.get("properties", {}).items()
        )
        models.append(f"<h3 id='{e(name)}'>{e(name)}</h3><ul>{fields}</ul>")
    info = schema.get("info", {})
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>{e(info.get('title', 'API'))} API</title>"
        "<link rel='stylesheet' href='/static/style.css'></head><body class='docs'><main>"
        f"<h1>{e(info.get('title', ''))} {e(info.get('version', ''))}: HTTP API</h1>"
        f"<p>{e(info.get('description', ''))}</p>"
        "<p>The machine-readable schema: <a href='/openapi.json'>/openapi.json</a> (OpenAPI "
        f"{e(schema.get('openapi', ''))}). The page: <a href='/'>/</a>.</p>"
        "<table><thead><tr><th>method</th><th>path</th><th>what</th><th>body</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table><h2>Bodies</h2>{''.join(models)}"
        "</main></body></html>"
    )


def app_from_env() -> FastAPI:
    """The app of a ``--workers N`` process, from the settings its parent put in the
    environment (``uvicorn --factory stance.serve.app:app_from_env``)."""
    return build_app(ServeSettings.from_env())
