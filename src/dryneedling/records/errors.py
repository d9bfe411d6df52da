"""What a records use case refuses, besides bad input (:class:`~dryneedling.errors.InputError`, HTTP 422).

Each names the field concerned (or None) so that every shell reports it in the one error shape.
"""

from __future__ import annotations


class RecordsError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAuthenticated(RecordsError):
    """No credentials, or credentials that do not match an active user (HTTP 401)."""

    status = 401


class Forbidden(RecordsError):
    """The user's role may not do this (HTTP 403)."""

    status = 403


class NotFound(RecordsError):
    """No such record in the caller's clinic; never says whether another clinic has it (HTTP 404)."""

    status = 404

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found", field=None)


class Conflict(RecordsError):
    """The record's state forbids the change: a signed note, a closed episode, no valid consent (HTTP 409)."""

    status = 409


class Gone(RecordsError):
    """A follow-up link that was used or has expired (HTTP 410); the message says whom to call."""

    status = 410


class TooManyAttempts(RecordsError):
    """Too many failed sign-ins for this account or client address lately (HTTP 429, Retry-After)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, field=None)
        self.retry_after = retry_after
