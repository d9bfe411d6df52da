"""Passwords and personal API tokens: argon2id for passwords, SHA-256 at rest for random tokens.

A token reads ``dn_<token id>_<secret>``: the id finds the row, the secret (256 random bits) is checked
against its SHA-256 in constant time. Tokens are long random strings, so a fast hash is safe for them; a
password is chosen by a person, so it gets argon2id (re-hashed on login when the parameters change).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "dn"
_hasher = PasswordHasher()  # argon2id with the library's current defaults


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs re-hash)."""
    if not password_hash:
        return False, False
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, uuid.UUID, str]:
    """(the token to show once, its id, the hash to store)."""
    token_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{token_id.hex}_{secret}", token_id, token_hash(secret)


def parse_token(token: str) -> tuple[uuid.UUID, str] | None:
    """(token id, hash of its secret), or None for anything that is not a token of ours."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[2]:
        return None
    try:
        token_id = uuid.UUID(hex=parts[1])
    except ValueError:
        return None
    return token_id, token_hash(parts[2])
