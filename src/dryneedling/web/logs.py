"""Logging that keeps patients out of the logs: access lines carry the path, never the query string
(``GET /api/patients?q=NAME`` is logged as ``GET /api/patients``), and a follow-up link's token is logged as
``<token>``."""

from __future__ import annotations

import copy
import logging
from typing import Any

FOLLOWUP_PREFIXES = ("/followup/", "/api/followup/")


def loggable_path(path: str) -> str:
    """``path`` as a log may show it: no query string, and a follow-up link's token as ``<token>``."""
    path = path.split("?", 1)[0]
    for prefix in FOLLOWUP_PREFIXES:
        if path.startswith(prefix):
            return prefix + "<token>"
    return path


class DropQueryStrings(logging.Filter):
    """Strip the query string from uvicorn's access records (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = loggable_path(args[2])
            # A reader of the public pages (and the questions they post) is not identified by address, nor
            # is a patient answering a follow-up link (whose token never reaches a log).
            client = "-" if path.startswith("/learn") or path.endswith("<token>") else args[0]
            record.args = (client, args[1], path, *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`DropQueryStrings` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": "dryneedling.web.logs.DropQueryStrings"}
    config["handlers"]["access"].setdefault("filters", []).append("drop_query")
    return config
