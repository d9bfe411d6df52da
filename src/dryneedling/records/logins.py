"""Sign-in state, as plain data and a storage Protocol (no database library here).

A :class:`LoginSession` is the server-side half of a web session: the browser's cookie holds only a random
id, the store keeps its SHA-256 with the user, the times and whether it was revoked, so a session can expire
(idle and absolute) and "sign out everywhere" can end every session of a user at once. A
:class:`TokenInfo` is what may be shown about a personal API token: never its secret, only its id (the
public part of the token) and times. Failed sign-ins are kept under a hash key for the rate-limit window only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from dryneedling.records.entities import User


class LoginSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    user: User
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TokenInfo(BaseModel):
    """A personal API token as it may be listed: the secret part is never stored, so never shown."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str = Field(description="The token's public start (dn_<id>_...), to recognise it; not the secret")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class Logins(Protocol):
    """Sessions, failed sign-ins and token housekeeping: what authentication needs before a clinic is known."""

    # sessions
    def add_session(self, user: User, id_hash: str, at: datetime, expires_at: datetime) -> None: ...
    def session(self, id_hash: str) -> LoginSession | None: ...
    def touch_session(self, id_hash: str, at: datetime) -> None: ...
    def revoke_session(self, id_hash: str, at: datetime) -> None: ...
    def revoke_sessions(self, user: User, at: datetime, keep: str | None = None) -> int: ...
    def delete_sessions_before(self, at: datetime) -> int: ...

    # failed sign-ins (clinic-less, keyed by a hash)
    def failures_since(self, key: str, since: datetime) -> list[datetime]: ...
    def add_failure(self, key: str, at: datetime) -> None: ...
    def clear_failures(self, key: str) -> None: ...
    def delete_failures_before(self, at: datetime) -> int: ...

    # API tokens
    def token_user(self, token_id: uuid.UUID, token_hash: str, at: datetime) -> tuple[User, TokenInfo] | None:
        """The active user of an unrevoked, unexpired token whose secret hashes to ``token_hash``."""
        ...

    def touch_token(self, token_id: uuid.UUID, at: datetime) -> None: ...
    def tokens(self, clinic_id: uuid.UUID, user_id: uuid.UUID | None = None) -> list[TokenInfo]: ...
    def token(self, token_id: uuid.UUID) -> TokenInfo | None: ...
    def revoke_token(self, token_id: uuid.UUID, at: datetime) -> bool: ...
    def revoke_tokens(self, user: User, at: datetime) -> int: ...
    def set_token_expiry(self, token_id: uuid.UUID, expires_at: datetime | None) -> None: ...
