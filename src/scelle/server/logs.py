"""Server logging: one line per request, without query strings, bodies or personal data."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["JSONFormatter", "setup_logging"]


class JSONFormatter(logging.Formatter):
    """One JSON object per line (for log shippers)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "route", "status", "duration_ms", "actor"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, sort_keys=True)


def setup_logging(*, level: str = "INFO", json_lines: bool = False, log_dir: Path | None) -> None:
    """Log to stderr and, for the embedded default, to DATA/logs/server.log (rotated)."""
    formatter: logging.Formatter = (
        JSONFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_dir / "server.log", maxBytes=50 * 1024**2, backupCount=5, encoding="utf-8"
            )
        )
    root = logging.getLogger("scelle")
    root.handlers.clear()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    # Uvicorn's access log prints query strings; ours (scelle.access) does not.
    logging.getLogger("uvicorn.access").disabled = True
