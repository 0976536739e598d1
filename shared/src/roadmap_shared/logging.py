"""Logs: one JSON object per line for machines, one readable line for a person at a terminal.

Each record carries the current request id, and inside a traced span its trace and span
ids (the ids Jaeger shows), so a log line leads to its trace and a trace to its logs.
Which format is chosen when logging is configured: JSON unless stderr is a terminal, so
containers, CI and log shippers always get JSON, and `make run` in a terminal gets lines a
person can read.
"""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as is.
# uvicorn adds `color_message`, its message with ANSI colour codes, which no log wants.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    extras = {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
    }
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        # Hex, as W3C `traceparent` and every tracing UI write them.
        extras = {"trace_id": f"{span.trace_id:032x}", "span_id": f"{span.span_id:016x}", **extras}
    if (request_id := request_id_var.get()) is not None:
        extras = {"request_id": request_id, **extras}
    return extras


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class HumanFormatter(logging.Formatter):
    """`12:03:04 INFO     uvicorn.error: Application startup complete. request_id=...`"""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{time} {record.levelname:<8} {record.name}: {record.getMessage()}"
        if extras := _extras(record):
            line += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time, not the one it was created with:
    test runners and process managers replace it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never take the app down
            self.handleError(record)


def configure_logging(level: str = "INFO") -> None:
    """Sends every log record to stderr, readable at a terminal, JSON otherwise.

    Safe to call more than once; other handlers (pytest's log capture, say) are left alone.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(isinstance(handler, StderrHandler) for handler in root.handlers):
        handler = StderrHandler()
        handler.setFormatter(HumanFormatter() if sys.stderr.isatty() else JsonFormatter())
        root.addHandler(handler)
    # uvicorn's access log would repeat our own, in another format.
    logging.getLogger("uvicorn.access").disabled = True
