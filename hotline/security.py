"""Password hashing (argon2id) and opaque login tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
#: Usernames: letters, digits, `_.-`, 2 to 64 characters (no spaces, markup or empty names).
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{2,64}$"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: Verified against when the username is unknown, so a login takes as long either way.
DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
