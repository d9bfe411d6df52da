"""The SQL implementation of :class:`dryneedling.records.logins.Logins`: sessions, failed sign-ins, tokens.

Like :class:`dryneedling.db.store.SqlAccounts` these run before the clinic is known (a request brings only a
session id or a token); every write that touches a user's rows names the user's clinic as well.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from dryneedling.db import tables as t
from dryneedling.db.store import _aware, _row, _user
from dryneedling.records.entities import User
from dryneedling.records.logins import LoginSession, TokenInfo

_users_of_sessions = and_(t.sessions.c.clinic_id == t.users.c.clinic_id, t.sessions.c.user_id == t.users.c.id)
_users_of_tokens = and_(
    t.api_tokens.c.clinic_id == t.users.c.clinic_id, t.api_tokens.c.user_id == t.users.c.id
)
_USER_KEYS = [column.name for column in t.users.c]
_TOKEN_COLUMNS = (
    t.api_tokens.c.id,
    t.api_tokens.c.user_id,
    t.api_tokens.c.name,
    t.api_tokens.c.created_at,
    t.api_tokens.c.last_used_at,
    t.api_tokens.c.expires_at,
    t.api_tokens.c.revoked_at,
)


# Built once: every request with a bearer token runs it.
_TOKEN_USER = (
    select(t.users, t.api_tokens.c.token_hash, *(c.label(f"token_{c.name}") for c in _TOKEN_COLUMNS))
    .join(t.api_tokens, _users_of_tokens)
    .where(
        t.api_tokens.c.id == bindparam("token_id"),
        t.api_tokens.c.revoked_at.is_(None),
        or_(t.api_tokens.c.expires_at.is_(None), t.api_tokens.c.expires_at > bindparam("at")),
        t.users.c.active.is_(True),
    )
)


def token_prefix(token_id: uuid.UUID) -> str:
    """The public start of a token (``dn_<id>_``): enough to recognise it, useless to sign in with."""
    return f"dn_{token_id.hex}_"


def _token(row: Any) -> TokenInfo:
    data = _row(row)
    return TokenInfo(
        prefix=token_prefix(data["id"]), **{column.name: data[column.name] for column in _TOKEN_COLUMNS}
    )


class SqlLogins:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- sessions ---------------------------------------------------------------------------------------
    def add_session(self, user: User, id_hash: str, at: datetime, expires_at: datetime) -> None:
        self.connection.execute(
            insert(t.sessions).values(
                clinic_id=user.clinic_id,
                id_hash=id_hash,
                user_id=user.id,
                created_at=at,
                last_seen_at=at,
                expires_at=expires_at,
            )
        )

    def session(self, id_hash: str) -> LoginSession | None:
        statement = (
            select(
                t.users,
                t.sessions.c.created_at.label("session_created_at"),
                t.sessions.c.last_seen_at,
                t.sessions.c.expires_at,
                t.sessions.c.revoked_at,
            )
            .join(t.sessions, _users_of_sessions)
            .where(t.sessions.c.id_hash == id_hash)
        )
        row = self.connection.execute(statement).first()
        if row is None:
            return None
        data = row._mapping
        user_row = {key: data[key] for key in _USER_KEYS}
        return LoginSession(
            user=_user(_Mapped(user_row)),
            created_at=_aware(data["session_created_at"]),
            last_seen_at=_aware(data["last_seen_at"]),
            expires_at=_aware(data["expires_at"]),
            revoked_at=_aware(data["revoked_at"]),
        )

    def touch_session(self, id_hash: str, at: datetime) -> None:
        self.connection.execute(
            update(t.sessions).where(t.sessions.c.id_hash == id_hash).values(last_seen_at=at)
        )

    def revoke_session(self, id_hash: str, at: datetime) -> None:
        self.connection.execute(
            update(t.sessions)
            .where(t.sessions.c.id_hash == id_hash, t.sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def revoke_sessions(self, user: User, at: datetime, keep: str | None = None) -> int:
        statement = update(t.sessions).where(
            t.sessions.c.clinic_id == user.clinic_id,
            t.sessions.c.user_id == user.id,
            t.sessions.c.revoked_at.is_(None),
        )
        if keep is not None:
            statement = statement.where(t.sessions.c.id_hash != keep)
        return self.connection.execute(statement.values(revoked_at=at)).rowcount

    def delete_sessions_before(self, at: datetime) -> int:
        """Forget sessions that ended (expired or revoked) before ``at``."""
        ended = or_(t.sessions.c.expires_at < at, t.sessions.c.revoked_at < at)
        return self.connection.execute(delete(t.sessions).where(ended)).rowcount

    # -- failed sign-ins --------------------------------------------------------------------------------
    def failures_since(self, key: str, since: datetime) -> list[datetime]:
        statement = (
            select(t.login_attempts.c.failed_at)
            .where(t.login_attempts.c.key == key, t.login_attempts.c.failed_at >= since)
            .order_by(t.login_attempts.c.failed_at)
        )
        return [_aware(value) for value in self.connection.execute(statement).scalars()]

    def add_failure(self, key: str, at: datetime) -> None:
        self.connection.execute(insert(t.login_attempts).values(id=uuid.uuid4(), key=key, failed_at=at))

    def clear_failures(self, key: str) -> None:
        self.connection.execute(delete(t.login_attempts).where(t.login_attempts.c.key == key))

    def delete_failures_before(self, at: datetime) -> int:
        return self.connection.execute(
            delete(t.login_attempts).where(t.login_attempts.c.failed_at < at)
        ).rowcount

    # -- API tokens -------------------------------------------------------------------------------------
    def token_user(self, token_id: uuid.UUID, token_hash: str, at: datetime) -> tuple[User, TokenInfo] | None:
        row = self.connection.execute(_TOKEN_USER, {"token_id": token_id, "at": at}).first()
        if row is None or not hmac.compare_digest(row.token_hash, token_hash):
            return None
        data = row._mapping
        user = _user(_Mapped({key: data[key] for key in _USER_KEYS}))
        token = _token(_Mapped({c.name: data[f"token_{c.name}"] for c in _TOKEN_COLUMNS}))
        return user, token

    def touch_token(self, token_id: uuid.UUID, at: datetime) -> None:
        self.connection.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=at)
        )

    def tokens(self, clinic_id: uuid.UUID, user_id: uuid.UUID | None = None) -> list[TokenInfo]:
        statement = select(*_TOKEN_COLUMNS).where(t.api_tokens.c.clinic_id == clinic_id)
        if user_id is not None:
            statement = statement.where(t.api_tokens.c.user_id == user_id)
        statement = statement.order_by(t.api_tokens.c.created_at, t.api_tokens.c.id)
        return [_token(row) for row in self.connection.execute(statement)]

    def token(self, token_id: uuid.UUID) -> TokenInfo | None:
        row = self.connection.execute(select(*_TOKEN_COLUMNS).where(t.api_tokens.c.id == token_id)).first()
        return _token(row) if row else None

    def token_clinic(self, token_id: uuid.UUID) -> uuid.UUID | None:
        return self.connection.execute(
            select(t.api_tokens.c.clinic_id).where(t.api_tokens.c.id == token_id)
        ).scalar()

    def revoke_token(self, token_id: uuid.UUID, at: datetime) -> bool:
        statement = (
            update(t.api_tokens)
            .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return self.connection.execute(statement).rowcount > 0

    def revoke_tokens(self, user: User, at: datetime) -> int:
        statement = (
            update(t.api_tokens)
            .where(
                t.api_tokens.c.clinic_id == user.clinic_id,
                t.api_tokens.c.user_id == user.id,
                t.api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return self.connection.execute(statement).rowcount

    def set_token_expiry(self, token_id: uuid.UUID, expires_at: datetime | None) -> None:
        self.connection.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(expires_at=expires_at)
        )


class _Mapped:
    """A plain dict dressed as a row (``_row`` and ``_user`` read ``row._mapping``)."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None
