"""Web settings read from the environment and validated once at start, failing fast on bad values.

``DRYNEEDLING_HOST`` (default 127.0.0.1) and ``DRYNEEDLING_PORT`` (default 8000); command-line options of
``dryneedling serve`` override them. ``DRYNEEDLING_PAPER`` (``a4``, the default, or ``letter``) is the paper
size of the PDFs the assess page downloads. ``DRYNEEDLING_ENV`` is ``development`` (the default) or
``production``: production requires ``DRYNEEDLING_SECRET_KEY`` (the app refuses to start without it, naming
it), sends the session cookie only over HTTPS and adds Strict-Transport-Security. The records' sessions end
after ``DRYNEEDLING_SESSION_IDLE_MINUTES`` (default 30) without a request or ``DRYNEEDLING_SESSION_HOURS``
(default 12) after sign-in.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dryneedling.errors import InputError, validation_message

ENV_PREFIX = "DRYNEEDLING_"


class WebSettings(BaseModel):
    """Where the web app listens, and the paper its PDFs are printed on."""

    model_config = ConfigDict(frozen=True)

    host: str = Field("127.0.0.1", description="interface to bind (an IP address or 'localhost')")
    port: int = Field(8000, ge=1, le=65535, description="TCP port")
    paper: Literal["a4", "letter"] = Field("a4", description="paper size of downloaded PDFs (a4 or letter)")
    env: Literal["development", "production"] = Field(
        "development",
        description="production requires DRYNEEDLING_SECRET_KEY and serves cookies over HTTPS only",
    )
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="a session ends after this idle time")
    session_hours: int = Field(12, ge=1, le=24 * 7, description="a session ends this long after sign-in")

    @field_validator("host")
    @classmethod
    def _host_is_an_address(cls, value: str) -> str:
        if value != "localhost":
            ipaddress.ip_address(value)  # raises ValueError for anything else
        return value

    @property
    def production(self) -> bool:
        return self.env == "production"

    @field_validator("paper", "env", mode="before")
    @classmethod
    def _paper_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> WebSettings:
    """Settings from ``DRYNEEDLING_*`` environment variables, then ``overrides`` (None values ignored).

    Raises :class:`InputError` naming the first bad setting.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in WebSettings.model_fields:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = environ[env_name]
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return WebSettings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        raise InputError(field, validation_message(first), value=values.get(field)) from None
