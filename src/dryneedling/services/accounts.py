"""Use cases for clinics, users and tokens: set-up (CLI, first-run page) and authentication (web)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from dryneedling.errors import InputError
from dryneedling.records.entities import ROLES, Clinic, Training, User
from dryneedling.records.errors import Conflict, NotFound
from dryneedling.records.repository import Store
from dryneedling.services import logins, security

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12  # the same rule as dryneedling.services.logins.MIN_PASSWORD


def _now() -> datetime:
    return datetime.now(UTC)


def add_clinic(store: Store, name: str, demo: bool = False) -> Clinic:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InputError("name", "give the clinic a name of 1 to 200 characters", value=name)
    clinic = Clinic(id=uuid.uuid4(), name=name, demo=demo, created_at=_now())
    with store.accounts() as accounts:
        accounts.add_clinic(clinic)
    return clinic


def add_user(
    store: Store,
    clinic_id: uuid.UUID,
    email: str,
    role: str,
    password: str | None,
    name: str | None = None,
    training: Training | None = None,
) -> User:
    """A new user of ``clinic_id``; the password (if any) is stored only as an argon2id hash."""
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise InputError("email", "is not an e-mail address", value=email)
    if role not in ROLES:
        raise InputError.unknown("role", role, ROLES)
    if password is not None:
        logins.check_password_policy(password, email, name or email.split("@")[0])
    user = User(
        clinic_id=clinic_id,
        id=uuid.uuid4(),
        email=email,
        name=" ".join((name or email.split("@")[0]).split())[:200],
        role=role,  # type: ignore[arg-type]
        training=training if role in ("owner", "clinician") else None,
        created_at=_now(),
    )
    with store.accounts() as accounts:
        if accounts.clinic(clinic_id) is None:
            raise NotFound("clinic")
        if accounts.user_by_email(email) is not None:
            raise Conflict("a user with this e-mail address exists already", field="email")
        accounts.add_user(user, security.hash_password(password) if password is not None else None)
    return user


def issue_token(store: Store, email: str, name: str = "personal", days: int | None = None) -> str:
    """A new personal API token for the user with ``email``; shown once, stored hashed; valid for ``days``
    or until revoked."""
    with store.accounts(write=False) as accounts:
        found = accounts.user_by_email(email.strip().lower())
    if found is None or not found[0].active:
        raise NotFound("user")
    token, _info = logins.issue_token(store, found[0], name, days)
    return token


def authenticate_token(store: Store, token: str | None) -> User:
    """The active user a bearer token belongs to; NotAuthenticated otherwise (same answer for every failure).
    Revoked and expired tokens fail too (:func:`dryneedling.services.logins.authenticate_token`)."""
    return logins.authenticate_token(store, token)


def authenticate_password(store: Store, email: str, password: str) -> User:
    """The user for an e-mail and password, under the sign-in rate limit and with the one generic failure
    (:func:`dryneedling.services.logins.sign_in`)."""
    return logins.sign_in(store, email, password, client=None)


def needs_setup(store: Store) -> bool:
    """True until a real (non-demo) clinic exists: the web app then offers its first-run page."""
    with store.accounts(write=False) as found:
        return not any(not clinic.demo for clinic in found.clinics())


def set_up_first_clinic(store: Store, clinic_name: str, owner_name: str, email: str, password: str) -> User:
    """The first-run page: the clinic and its owner, once (409 when a clinic exists already)."""
    if password is None or len(password) < MIN_PASSWORD:
        raise InputError("password", f"must be at least {MIN_PASSWORD} characters")
    if not needs_setup(store):
        raise Conflict("this installation is set up already; sign in instead", field=None)
    clinic = add_clinic(store, clinic_name)
    return add_user(store, clinic.id, email, "owner", password, name=owner_name)
