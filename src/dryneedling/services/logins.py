"""Use cases for signing in and staying signed in: rate-limited password sign-in, server-side sessions with
idle and absolute expiry, sign-out everywhere, password change, and listing and revoking API tokens.

What a data protection officer will ask, answered here:

- A failed sign-in says the same words (and takes about the same time) whether the e-mail address is
  unknown or the password wrong, so the form cannot be used to find out who has an account.
- After ``account_limit`` failures for one e-mail address, or ``address_limit`` from one client address,
  within ``window``, further attempts are refused (429 with Retry-After) without checking the password, so
  guessing is slow. The failures are stored in the database (so every server process counts them) under a
  SHA-256 of "account:<e-mail>" or "address:<client address>", never the address or e-mail itself, and are
  deleted once older than the window.
- A session is a random id in the cookie; the database keeps only its SHA-256 with the user and times, so a
  stolen copy of the table opens no session. It ends after ``idle`` without a request or ``absolute`` after
  sign-in, whichever is first, on sign-out, on "sign out everywhere" and on a password change (the other
  sessions; the one that changed it stays).
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dryneedling.errors import InputError
from dryneedling.records.entities import User
from dryneedling.records.errors import Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from dryneedling.records.logins import TokenInfo
from dryneedling.records.repository import Store
from dryneedling.services import security

GENERIC_FAILURE = "wrong e-mail address or password"
TOO_MANY = "too many failed sign-ins; wait a few minutes and try again"
SESSION_ENDED = "your session ended; please sign in again"
MIN_PASSWORD = 12
# A session's last-seen time is written at most this often: one write a minute, not one per request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class LoginPolicy:
    """Rate limit and session lifetimes (web settings may override them)."""

    account_limit: int = 5
    address_limit: int = 20  # a clinic's staff may share one public address
    window: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


DEFAULT_POLICY = LoginPolicy()


@functools.cache
def _dummy_hash() -> str:
    """A hash to check a password against when the e-mail address is unknown (made once, on first use)."""
    return security.hash_password(secrets.token_urlsafe(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _audit(store: Store, user: User, action: str, entity: str, entity_id: uuid.UUID) -> None:
    """A line in the clinic's audit log: who signed in, changed a password, made or revoked a token."""
    with store.clinic(user.clinic_id) as records:
        records.audit(user.id, action, entity, entity_id)


# -- sign-in ---------------------------------------------------------------------------------------------
def _retry_after(failures: list[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until an attempt is allowed again, or None when fewer than ``limit`` failures are recent."""
    if len(failures) < limit:
        return None
    # The attempt is allowed again once enough of the recent failures have left the window.
    frees_at = failures[len(failures) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def sign_in(
    store: Store, email: str, password: str, client: str | None, policy: LoginPolicy = DEFAULT_POLICY
) -> User:
    """The user for ``email`` and ``password``, unless this account or client address failed too often.

    Raises :class:`TooManyAttempts` (nothing is checked then) or :class:`NotAuthenticated` with one generic
    message for every failure; every failure is counted against the account and the address.
    """
    email = email.strip().lower()
    now = _now()
    keys = [(_key("account", email), policy.account_limit)]
    if client:
        keys.append((_key("address", client), policy.address_limit))
    with store.logins() as logins:
        waits = [
            _retry_after(logins.failures_since(key, now - policy.window), limit, policy.window, now)
            for key, limit in keys
        ]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        raise TooManyAttempts(TOO_MANY, retry_after=max(refused))
    user = _check_password(store, email, password)
    with store.logins() as logins:
        if user is None:
            logins.delete_failures_before(now - policy.window)  # keep the window only
            for key, _limit in keys:
                logins.add_failure(key, now)
        else:
            logins.clear_failures(
                keys[0][0]
            )  # the address's count stays: one good account resets nothing else
    if user is None:
        raise NotAuthenticated(GENERIC_FAILURE)
    _audit(store, user, "sign_in", "user", user.id)
    return user


def _check_password(store: Store, email: str, password: str) -> User | None:
    with store.accounts() as accounts:
        found = accounts.user_by_email(email)
        if found is None or not found[1]:
            security.verify_password(_dummy_hash(), password)  # the same work as a real check: no timing hint
            return None
        user, stored = found
        ok, rehash = security.verify_password(stored, password)
        if not ok or not user.active:
            return None
        if rehash:
            accounts.set_password_hash(user, security.hash_password(password))
    return user


# -- sessions --------------------------------------------------------------------------------------------
def start_session(store: Store, user: User, policy: LoginPolicy = DEFAULT_POLICY) -> str:
    """A new session for ``user``; returns the random id for the cookie (only its hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with store.logins() as logins:
        logins.delete_sessions_before(
            now - timedelta(days=1)
        )  # ended sessions are kept a day, then forgotten
        logins.add_session(user, session_hash(session_id), now, now + policy.absolute)
    return session_id


def session_user(store: Store, session_id: str | None, policy: LoginPolicy = DEFAULT_POLICY) -> User:
    """The active user of a live session; NotAuthenticated when unknown, revoked, idle too long or too old."""
    if not session_id:
        raise NotAuthenticated("please sign in")
    id_hash = session_hash(session_id)
    now = _now()
    with store.logins(write=False) as logins:
        found = logins.session(id_hash)
    if (
        found is None
        or found.revoked_at is not None
        or not found.user.active
        or now >= found.expires_at
        or now - found.last_seen_at >= policy.idle
    ):
        raise NotAuthenticated(SESSION_ENDED)
    if now - found.last_seen_at >= min(TOUCH_EVERY, policy.idle / 2):
        with store.logins() as logins:
            logins.touch_session(id_hash, now)
    return found.user


def end_session(store: Store, session_id: str | None) -> None:
    """Sign-out: the session is revoked in the database (a copied cookie stops working too)."""
    if session_id:
        with store.logins() as logins:
            logins.revoke_session(session_hash(session_id), _now())


def sign_out_everywhere(store: Store, user: User, revoke_tokens: bool = False) -> tuple[int, int]:
    """End every session of ``user`` (and, if asked, revoke every API token); (sessions, tokens) ended."""
    now = _now()
    with store.logins() as logins:
        sessions = logins.revoke_sessions(user, now)
        tokens = logins.revoke_tokens(user, now) if revoke_tokens else 0
    _audit(store, user, "sign_out_everywhere" + ("_and_tokens" if revoke_tokens else ""), "user", user.id)
    return sessions, tokens


# -- passwords -------------------------------------------------------------------------------------------
def check_password_policy(password: str, user_email: str, user_name: str, field: str = "password") -> None:
    """At least ``MIN_PASSWORD`` characters, and not containing the user's e-mail name or a word of their name
    (the first thing someone who knows them would try)."""
    if len(password) < MIN_PASSWORD:
        raise InputError(field, f"must be at least {MIN_PASSWORD} characters")
    folded = "".join(password.casefold().split())
    own = [user_email.split("@")[0].casefold(), *(part.casefold() for part in user_name.split())]
    if any(len(part) >= 4 and part in folded for part in own):
        raise InputError(field, "must not contain your e-mail address or your name")


def change_password(store: Store, user: User, current: str, new: str, keep_session: str | None = None) -> int:
    """Set a new password after checking the current one; ends the user's other sessions (returns how many).

    A wrong current password is 403 (the signed-in user is known; this is not a sign-in attempt)."""
    with store.accounts() as accounts:
        found = accounts.user_by_email(user.email)
        if found is None:
            raise NotAuthenticated("please sign in")
        ok, _rehash = security.verify_password(found[1], current)
        if not ok:
            raise Forbidden("the current password is not right", field="current_password")
        check_password_policy(new, user.email, user.name, field="new_password")
        if new == current:
            raise InputError("new_password", "must differ from the current password")
        accounts.set_password_hash(found[0], security.hash_password(new))
    with store.logins() as logins:
        ended = logins.revoke_sessions(
            user, _now(), keep=session_hash(keep_session) if keep_session else None
        )
    _audit(store, user, "change_password", "user", user.id)
    return ended


# -- API tokens ------------------------------------------------------------------------------------------
TOKEN_REQUIRED = "a valid API token is required (Authorization: Bearer <token>)"


def authenticate_token(store: Store, token: str | None) -> User:
    """The active user of an unrevoked, unexpired bearer token; NotAuthenticated otherwise (one answer for
    every failure). The token's last use is written at most once a minute."""
    parsed = security.parse_token(token) if token else None
    if parsed is None:
        raise NotAuthenticated(TOKEN_REQUIRED)
    now = _now()
    with store.logins(write=False) as logins:
        found = logins.token_user(*parsed, now)
    if found is None:
        raise NotAuthenticated(TOKEN_REQUIRED)
    user, info = found
    if info.last_used_at is None or now - info.last_used_at >= TOUCH_EVERY:
        with store.logins() as logins:
            logins.touch_token(info.id, now)
    return user


def issue_token(
    store: Store, user: User, name: str = "personal", days: int | None = None
) -> tuple[str, TokenInfo]:
    """A new token for ``user`` (shown once), valid for ``days`` or until revoked."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise InputError("name", "give the token a name of 1 to 100 characters", value=name)
    if days is not None and not 1 <= days <= 3650:
        raise InputError("days", "must be between 1 and 3650", value=days)
    token, token_id, digest = security.new_token()
    now = _now()
    with store.accounts() as accounts:
        accounts.add_token(user, token_id, digest, name, now)
    with store.logins() as logins:
        if days is not None:
            logins.set_token_expiry(token_id, now + timedelta(days=days))
        info = logins.token(token_id)
    assert info is not None
    _audit(store, user, "issue_token", "api_token", token_id)
    return token, info


def list_tokens(store: Store, user: User, whole_clinic: bool = False) -> list[TokenInfo]:
    """The user's tokens (an owner may ask for every token of the clinic); never a secret."""
    if whole_clinic and user.role != "owner":
        raise Forbidden("only an owner may list the whole clinic's tokens")
    with store.logins(write=False) as logins:
        return logins.tokens(user.clinic_id, None if whole_clinic else user.id)


def revoke_token(store: Store, user: User, token_id: uuid.UUID) -> TokenInfo:
    """Revoke one of the user's own tokens, or (an owner) any token of the clinic; 404 for anything else."""
    with store.logins() as logins:
        found = logins.token(token_id)
        clinic = logins.token_clinic(token_id) if found else None
        if found is None or clinic != user.clinic_id or (found.user_id != user.id and user.role != "owner"):
            raise NotFound("token")
        logins.revoke_token(token_id, _now())
        revoked = logins.token(token_id)
    assert revoked is not None
    _audit(store, user, "revoke_token", "api_token", token_id)
    return revoked


def revoke_token_by_id(store: Store, token_id: uuid.UUID) -> TokenInfo:
    """The CLI's revocation (the operator of the installation may revoke any token)."""
    with store.logins() as logins:
        if logins.token(token_id) is None:
            raise NotFound("token")
        logins.revoke_token(token_id, _now())
        revoked = logins.token(token_id)
    assert revoked is not None
    return revoked


def tokens_of(store: Store, email: str) -> list[TokenInfo]:
    """The CLI's listing: every token of the user with ``email``."""
    with store.accounts(write=False) as accounts:
        found = accounts.user_by_email(email.strip().lower())
    if found is None:
        raise NotFound("user")
    with store.logins(write=False) as logins:
        return logins.tokens(found[0].clinic_id, found[0].id)
