"""OIDC sign-in (optional): the authorization-code flow with PKCE against the company's
identity provider (Entra ID, Okta, Keycloak, Google Workspace, ...).

`GET /api/auth/oidc/login` sends the browser to the provider with a fresh ``state``,
``nonce`` and PKCE ``code_challenge`` (S256); their secrets travel in a short-lived,
HttpOnly cookie signed with the server's key, so any API process can finish the flow.
`GET /api/auth/oidc/callback` checks ``state``, exchanges the code at the provider's token
endpoint (with the PKCE verifier and the client secret), verifies the ID token — signature
against the provider's published keys (JWKS), issuer, audience, expiry and ``nonce`` — and
signs in the openwfm user whose name is the token's `username_claim` (default
``preferred_username``). The provider proves who the person is; openwfm's own user (active,
with its role and tenancy) says what they may do: a person without an openwfm user gets 403.
The answer is the same bearer token as the password flow.

Configured by ``OPENWFM_OIDC_ISSUER``, ``OPENWFM_OIDC_CLIENT_ID``,
``OPENWFM_OIDC_CLIENT_SECRET`` and optionally ``OPENWFM_OIDC_REDIRECT_URI`` (default: this
server's ``/api/auth/oidc/callback``), ``OPENWFM_OIDC_USERNAME_CLAIM``,
``OPENWFM_OIDC_SCOPES``. HTTP to the provider: httpx; token verification: PyJWT with
cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import jwt
import sqlalchemy as sa
from fastapi import APIRouter, Cookie, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse

from openwfm.server.config import Settings
from openwfm.server.deps import WriteDB, settings
from openwfm.server.models import LoginAttempt, User
from openwfm.server.schemas import Message, Token
from openwfm.server.security import issue_token

router = APIRouter(prefix="/api/auth/oidc", tags=["auth"])
COOKIE = "openwfm_oidc"
FLOW_TTL_S = 600
"""Time a person has at the provider to sign in."""
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "ES512", "EdDSA")
"""Asymmetric signatures accepted on ID tokens (never "none", never an HMAC with a
public value)."""
DISCOVERY_TTL_S = 3600


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says (``/.well-known/openid-configuration``)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks: jwt.PyJWKClient
    algorithms: tuple[str, ...]


_providers: dict[str, tuple[float, Provider]] = {}
_lock = threading.Lock()


def provider(issuer: str, timeout_s: float = 10.0) -> Provider:
    """The provider of `issuer` (its discovery document, kept an hour per process)."""
    with _lock:
        hit = _providers.get(issuer)
        if hit is not None and time.monotonic() - hit[0] < DISCOVERY_TTL_S:
            return hit[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        doc = httpx.get(url, timeout=timeout_s).raise_for_status().json()
        if doc["issuer"].rstrip("/") != issuer.rstrip("/"):
            raise ValueError(f"its issuer is {doc['issuer']!r}")
        algorithms = tuple(a for a in doc.get("id_token_signing_alg_values_supported",
                                                ["RS256"]) if a in ALGORITHMS)
        found = Provider(issuer=doc["issuer"],
                         authorization_endpoint=doc["authorization_endpoint"],
                         token_endpoint=doc["token_endpoint"],
                         jwks=jwt.PyJWKClient(doc["jwks_uri"], cache_keys=True),
                         algorithms=algorithms or ("RS256",))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY,
                            f"the identity provider's discovery document at {url} is not "
                            f"usable: {exc}") from None
    with _lock:
        _providers[issuer] = (time.monotonic(), found)
    return found


def _configured(conf: Settings) -> tuple[str, str]:
    if not (conf.oidc_issuer and conf.oidc_client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            "OIDC sign-in is not configured (OPENWFM_OIDC_ISSUER, "
                            "OPENWFM_OIDC_CLIENT_ID)")
    return conf.oidc_issuer, conf.oidc_client_id


def _redirect_uri(request: Request, conf: Settings) -> str:
    return conf.oidc_redirect_uri or str(request.url_for("oidc_callback"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


Conf = Annotated[Settings, Depends(settings)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "OIDC sign-in is not configured"},
    502: {"model": Message, "description": "The identity provider cannot be used"},
}


@router.get("/login", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse,
            responses={**ERRORS, 302: {"description": "To the identity provider"}})
def oidc_login(request: Request, conf: Conf) -> RedirectResponse:
    """Start an OIDC sign-in: a redirect to the identity provider (state, nonce, PKCE)."""
    issuer, client_id = _configured(conf)
    idp = provider(issuer)
    state, nonce, verifier = (secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                              secrets.token_urlsafe(48))
    now = datetime.now(UTC)
    flow = jwt.encode({"state": state, "nonce": nonce, "verifier": verifier,
                       "exp": int((now + timedelta(seconds=FLOW_TTL_S)).timestamp())},
                      request.app.state.signing_key, algorithm="HS256")
    query = urlencode({
        "response_type": "code", "client_id": client_id,
        "redirect_uri": _redirect_uri(request, conf), "scope": conf.oidc_scopes,
        "state": state, "nonce": nonce, "code_challenge_method": "S256",
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest())})
    sep = "&" if "?" in idp.authorization_endpoint else "?"
    response = RedirectResponse(f"{idp.authorization_endpoint}{sep}{query}",
                                status_code=status.HTTP_302_FOUND)
    response.set_cookie(COOKIE, flow, max_age=FLOW_TTL_S, httponly=True,
                        secure=request.url.scheme == "https", samesite="lax",
                        path="/api/auth/oidc")
    return response


def _refuse(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, f"OIDC sign-in failed: {msg}")


@router.get("/callback", name="oidc_callback", response_model=Token, responses={
    **ERRORS,
    400: {"model": Message, "description": "The provider answered an error"},
    401: {"model": Message, "description": "State, code or ID token not valid"},
    403: {"model": Message, "description": "No active openwfm user for this person"}})
def oidc_callback(
    request: Request, session: WriteDB, conf: Conf,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    flow: Annotated[str | None, Cookie(alias=COOKIE, max_length=4096)] = None,
) -> JSONResponse:
    """Finish an OIDC sign-in: check state, exchange the code, verify the ID token, and
    answer the bearer token of the matching openwfm user."""
    issuer, client_id = _configured(conf)
    if error is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"the identity provider answered {error!r}")
    if not code or not state or not flow:
        raise _refuse("missing code, state or the sign-in cookie (start at "
                      "/api/auth/oidc/login)")
    try:
        started = jwt.decode(flow, request.app.state.signing_key, algorithms=["HS256"],
                             options={"require": ["exp", "state", "nonce", "verifier"]})
    except jwt.PyJWTError:
        raise _refuse("the sign-in cookie is invalid or expired") from None
    if not secrets.compare_digest(str(started["state"]), state):
        raise _refuse("state does not match")
    idp = provider(issuer)
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": _redirect_uri(request, conf), "client_id": client_id,
            "code_verifier": started["verifier"]}
    if conf.oidc_client_secret:
        form["client_secret"] = conf.oidc_client_secret
    try:
        answer = httpx.post(idp.token_endpoint, data=form, timeout=10.0)
    except httpx.HTTPError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY,
                            f"the identity provider's token endpoint: {exc}") from None
    if answer.status_code != 200:
        raise _refuse(f"the token endpoint answered {answer.status_code}")
    try:
        id_token = answer.json()["id_token"]
        key = idp.jwks.get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, key.key, algorithms=list(idp.algorithms),
                            audience=client_id, issuer=idp.issuer,
                            options={"require": ["iss", "aud", "exp", "iat", "sub"]})
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise _refuse(f"the ID token is not valid ({exc})") from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), str(started["nonce"])):
        raise _refuse("nonce does not match")
    username = claims.get(conf.oidc_username_claim)
    now = datetime.now(UTC)
    user = session.scalar(sa.select(User).where(User.username == str(username))) \
        if isinstance(username, str) and username else None
    ok = user is not None and user.active
    address = request.client.host if request.client else ""
    session.add(LoginAttempt(username=f"oidc:{username}"[:100], at=now, ok=ok,
                             address=address))
    if not ok or user is None:
        session.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"no active openwfm user {username!r} (claim "
                            f"{conf.oidc_username_claim!r}); an admin creates it")
    token = Token(access_token=issue_token(request.app.state.signing_key, user.id,
                                           conf.token_ttl_s, now),
                  token_type="bearer",
                  expires_at=now.replace(microsecond=0) + timedelta(seconds=conf.token_ttl_s))
    response = JSONResponse(token.model_dump(mode="json"))
    response.delete_cookie(COOKIE, path="/api/auth/oidc")
    return response
