"""The ``stance serve`` subcommand: its options, and starting the server from them."""

from __future__ import annotations

import argparse
import os
from typing import Any

from stance.serve.settings import (
    FILE_TIMEOUT_S,
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    TIMEOUT_S,
    TOKEN_ENV,
    ServeSettings,
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the subcommands of the ``stance`` parser."""
    serve = commands.add_parser(
        "serve",
        help="start a local web page and HTTP API (needs stance[serve])",
        description="Start the web page and JSON API on http://HOST:PORT/ "
        '(pip install "stance[serve]"). See docs/serve.md.',
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--model",
        default="baseline",
        metavar="NAME|PATH",
        help="default model: 'baseline', 'bert' or a model directory",
    )
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument(
        "--token",
        default=None,
        help=f"require this bearer token on every request (default: ${TOKEN_ENV} if set)",
    )
    serve.add_argument(
        "--max-body-mb",
        type=float,
        default=MAX_BODY_BYTES / 2**20,
        help="largest request or upload in MB (default 50)",
    )
    serve.add_argument(
        "--max-texts", type=int, default=MAX_TEXTS, help="texts per JSON call (default 1000)"
    )
    serve.add_argument(
        "--max-text-chars",
        type=int,
        default=MAX_TEXT_CHARS,
        help="longest text in a JSON call, in characters (default 20000)",
    )
    serve.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, help="seconds per JSON call (default 60)"
    )
    serve.add_argument(
        "--file-timeout",
        type=float,
        default=FILE_TIMEOUT_S,
        help="seconds to classify one uploaded file (default 1800)",
    )
    return serve


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    """The settings the options ask for (the token from the environment when not given)."""
    return ServeSettings(
        host=args.host,
        port=args.port,
        model=args.model,
        workers=args.workers,
        token=args.token or os.environ.get(TOKEN_ENV) or None,
        max_body_bytes=int(args.max_body_mb * 2**20),
        max_texts=args.max_texts,
        max_text_chars=args.max_text_chars,
        timeout_s=args.timeout,
        file_timeout_s=args.file_timeout,
    )


def run_command(args: argparse.Namespace) -> int:
    """Start the server; returns when it stops."""
    from stance.serve import serve

    serve(settings_from_args(args))
    return 0
