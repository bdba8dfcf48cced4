"""OIDC sign-in against an identity provider served on loopback by this test: its own RSA
key (generated here), discovery document, JWKS, authorization and token endpoints checking
the client, the redirect URI and the PKCE verifier. The server's code path is the one a real
provider meets: discovery over HTTP, the code exchange, the ID token verified against the
published key, issuer, audience, expiry and nonce, the openwfm user looked up by claim."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from openwfm.server import Settings, create_app
from server_support import World, demo_world

CLIENT_ID, CLIENT_SECRET = "openwfm", "s3cret-of-the-client"


@dataclass
class IdP:
    """A minimal OIDC provider: what it signs with and what it puts in the next ID token."""

    url: str = ""
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    sign_with: Any = None
    """Another key to sign the next ID tokens with (a forged token)."""
    username: str = "planner"
    wrong_nonce: bool = False
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse({
                "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"]})

        async def jwks(request: Request) -> JSONResponse:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return JSONResponse({"keys": [{**jwk, "kid": "k1", "use": "sig",
                                           "alg": "RS256"}]})

        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(16)
            self.codes[code] = {k: q[k] for k in ("nonce", "code_challenge", "redirect_uri")}
            return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}")

        async def token(request: Request) -> JSONResponse:
            form = await request.form()
            grant = self.codes.pop(str(form["code"]), None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(
                str(form.get("code_verifier", "")).encode()).digest()).rstrip(b"=").decode()
            if (grant is None or form.get("client_secret") != CLIENT_SECRET
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or challenge != grant["code_challenge"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.url, "aud": CLIENT_ID, "sub": "person-1", "iat": now,
                      "exp": now + 300, "preferred_username": self.username,
                      "nonce": "not-it" if self.wrong_nonce else grant["nonce"]}
            id_token = jwt.encode(claims, self.sign_with or self.key, algorithm="RS256",
                                  headers={"kid": "k1"})
            return JSONResponse({"access_token": "x", "token_type": "Bearer",
                                 "id_token": id_token})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks),
            Route("/authorize", authorize), Route("/token", token, methods=["POST"])])


@pytest.fixture(scope="module")
def idp() -> Iterator[IdP]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = IdP(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the test identity provider did not start"
        time.sleep(0.05)
    yield provider
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, idp: IdP) -> Iterator[World]:
    path = tmp_path_factory.mktemp("oidc") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", oidc_issuer=idp.url, oidc_client_id=CLIENT_ID,
                    oidc_client_secret=CLIENT_SECRET) as w:
        yield w


def sign_in(client: TestClient) -> httpx.Response:
    """What a browser does: to the provider, signed in there, back to the callback."""
    r = client.get("/api/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 302, r.text
    at_idp = httpx.get(r.headers["location"], follow_redirects=False)
    assert at_idp.status_code in (302, 307), at_idp.text
    back = urlparse(at_idp.headers["location"])
    assert back.path == "/api/auth/oidc/callback"
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    return client.get("/api/auth/oidc/callback", params=params)


def test_oidc_sign_in_gives_the_openwfm_users_token(world: World, idp: IdP) -> None:
    r = sign_in(world.client)
    assert r.status_code == 200, r.text
    me = world.client.get("/api/auth/me", headers={
        "Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "planner"
    assert me.json()["role"] == "planner"


def test_oidc_refuses_what_it_must(world: World, idp: IdP) -> None:
    c = world.client
    try:
        idp.username = "stranger"  # a person the provider knows, openwfm does not
        r = sign_in(c)
        assert r.status_code == 403 and "stranger" in r.json()["detail"]
        idp.username = "planner"
        idp.sign_with = rsa.generate_private_key(65537, 2048)  # not the published key
        r = sign_in(c)
        assert r.status_code == 401 and "ID token" in r.json()["detail"]
        idp.sign_with = None
        idp.wrong_nonce = True
        r = sign_in(c)
        assert r.status_code == 401 and "nonce" in r.json()["detail"]
    finally:
        idp.username, idp.sign_with, idp.wrong_nonce = "planner", None, False
    # a state that is not the one this browser started with
    login = c.get("/api/auth/oidc/login", follow_redirects=False)
    at_idp = httpx.get(login.headers["location"], follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlparse(at_idp.headers["location"]).query).items()}
    r = c.get("/api/auth/oidc/callback", params={**params, "state": "forged"})
    assert r.status_code == 401 and "state" in r.json()["detail"]
    assert c.get("/api/auth/oidc/callback", params=params).status_code == 200
    # a replay: the sign-in cookie was spent (and the provider's code too)
    r = c.get("/api/auth/oidc/callback", params=params)
    assert r.status_code == 401 and "cookie" in r.json()["detail"]
    r = c.get("/api/auth/oidc/callback", params={"error": "access_denied"})
    assert r.status_code == 400


def test_oidc_is_off_unless_configured(tmp_path: Any) -> None:
    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'x.db'}"))
    from openwfm.server.migrate import upgrade

    upgrade(f"sqlite:///{tmp_path / 'x.db'}")
    with TestClient(app) as c:
        r = c.get("/api/auth/oidc/login", follow_redirects=False)
        assert r.status_code == 404 and "not configured" in r.json()["detail"]
