"""Passwords (argon2id, argon2-cffi) and bearer tokens (signed JWT, PyJWT)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from openwfm.server.models import ServerSetting

_HASHER = PasswordHasher()
# a hash to verify against when the user does not exist, so that the answer takes as long
# for an unknown user name as for a wrong password
_DUMMY_HASH = _HASHER.hash("openwfm-no-such-user")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (with its own random salt)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash` (None: an unknown user; still hashes)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def signing_key(session: Session, configured: str | None) -> str:
    """The token signing key: the configured one, else one generated once and kept in the
    database so every worker process and every restart shares it."""
    if configured:
        return configured
    row = session.get(ServerSetting, "token_signing_key")
    if row is not None:
        return row.value
    key = secrets.token_urlsafe(48)
    session.execute(sa.insert(ServerSetting).values(key="token_signing_key", value=key))
    session.flush()
    return key


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    expires_at: datetime


def issue_token(key: str, user_id: int, ttl_s: int, now: datetime | None = None) -> str:
    """A signed bearer token for `user_id`, valid for `ttl_s` seconds."""
    now = now or datetime.now(UTC)
    payload = {"sub": str(user_id), "iat": int(now.timestamp()),
               "exp": int((now + timedelta(seconds=ttl_s)).timestamp())}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


_VERIFIED: dict[tuple[str, str], TokenClaims] = {}
"""Tokens whose signature this process has checked, with their claims (a token is
immutable: its signature needs checking once; its expiry at every use)."""
VERIFIED_MAX = 50_000


def read_token(key: str, token: str, now: datetime | None = None) -> TokenClaims | None:
    """The claims of a valid, unexpired token signed with `key`; None otherwise. The
    signature of a token is checked once per process (kept until it expires)."""
    now = now or datetime.now(UTC)
    claims = _VERIFIED.get((key, token))
    if claims is None:
        try:
            payload = jwt.decode(token, key, algorithms=[ALGORITHM],
                                 options={"require": ["sub", "exp"], "verify_exp": False})
            claims = TokenClaims(user_id=int(payload["sub"]),
                                 expires_at=datetime.fromtimestamp(payload["exp"], UTC))
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            return None
        if len(_VERIFIED) >= VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(key, token)] = claims
    if claims.expires_at <= now:
        _VERIFIED.pop((key, token), None)
        return None
    return claims
