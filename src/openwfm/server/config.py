"""Server settings, read once from the environment (``OPENWFM_*``) so that every uvicorn worker
process and every job worker of one `openwfm serve` share them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///openwfm.db"


def default_jobs_url(db_url: str) -> str:
    """The job queue next to the database: a SQLite file beside a SQLite database (or in the
    working folder for any other database).

    Examples
    --------
    >>> default_jobs_url("sqlite:////srv/wfm/openwfm.db")
    'sqlite:////srv/wfm/openwfm-jobs.db'
    >>> default_jobs_url("postgresql+psycopg://wfm@db/wfm")
    'sqlite:///openwfm-jobs.db'
    """
    if db_url.startswith("sqlite:///") and db_url != "sqlite://":
        path = Path(db_url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            return "sqlite:///" + str(path.with_name(path.stem + "-jobs.db"))
    return "sqlite:///openwfm-jobs.db"


@dataclass(frozen=True)
class Settings:
    """Everything the API and the job worker need to know.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL of the system of record (``OPENWFM_DB_URL``).
    jobs_url : str
        Where the job queue lives (``OPENWFM_JOBS_URL``): ``sqlite:///file`` (huey's
        SqliteHuey, embedded) or ``redis://host:port/db`` (RedisHuey).
    secret_key : str or None
        Key that signs bearer tokens (``OPENWFM_SECRET_KEY``); when unset, a random key is
        generated once and kept in the database, so every worker and restart shares it.
    token_ttl_s : int
        Lifetime of a bearer token (``OPENWFM_TOKEN_TTL_S``, 8 h).
    max_upload_bytes : int
        Largest accepted upload (``OPENWFM_MAX_UPLOAD_BYTES``, 50 MiB); larger -> 413.
    login_max_failures : int
        Failed logins of one user name within ``login_window_s`` before 429.
    """

    db_url: str = DEFAULT_DB_URL
    jobs_url: str = ""
    secret_key: str | None = None
    token_ttl_s: int = 8 * 3600
    max_upload_bytes: int = 50 * 1024 * 1024
    login_max_failures: int = 10
    login_window_s: int = 300
    login_max_address_failures: int = 100
    """Failed logins from one address (any user names) within ``login_window_s`` before 429
    (``OPENWFM_LOGIN_MAX_ADDRESS_FAILURES``; 0: no per-address limit, e.g. behind a proxy
    that does not forward the client's address)."""
    rta_grace_s: float = 60.0
    """Out-of-adherence spells shorter than this are forgiven in the live adherence figures
    (``OPENWFM_RTA_GRACE_S``)."""
    rta_exception_after_s: float = 300.0
    """An agent out of adherence this long is an exception on the team leader's stream
    (``OPENWFM_RTA_EXCEPTION_AFTER_S``, 5 minutes)."""
    oidc_issuer: str = ""
    """OIDC identity provider (``OPENWFM_OIDC_ISSUER``); empty: OIDC sign-in off."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_redirect_uri: str = ""
    """Default: this server's ``/api/auth/oidc/callback``."""
    oidc_username_claim: str = "preferred_username"
    """The ID token claim that names the openwfm user."""
    oidc_scopes: str = "openid profile email"
    smtp_host: str = ""
    """SMTP server of the e-mail notifications (``OPENWFM_SMTP_HOST``; empty: in-app only)."""
    smtp_port: int = 25
    smtp_from: str = "openwfm@localhost"
    publish_pause_s: float = 0.0
    """Fault-injection hook for the crash test: seconds to wait inside the publish
    transaction (``OPENWFM_PUBLISH_PAUSE_S``; 0 in production)."""

    @property
    def effective_jobs_url(self) -> str:
        return self.jobs_url or default_jobs_url(self.db_url)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            db_url=env.get("OPENWFM_DB_URL", DEFAULT_DB_URL),
            jobs_url=env.get("OPENWFM_JOBS_URL", ""),
            secret_key=env.get("OPENWFM_SECRET_KEY") or None,
            token_ttl_s=int(env.get("OPENWFM_TOKEN_TTL_S", 8 * 3600)),
            max_upload_bytes=int(env.get("OPENWFM_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)),
            login_max_failures=int(env.get("OPENWFM_LOGIN_MAX_FAILURES", 10)),
            login_window_s=int(env.get("OPENWFM_LOGIN_WINDOW_S", 300)),
            login_max_address_failures=int(env.get("OPENWFM_LOGIN_MAX_ADDRESS_FAILURES", 100)),
            publish_pause_s=float(env.get("OPENWFM_PUBLISH_PAUSE_S", 0)),
            rta_grace_s=float(env.get("OPENWFM_RTA_GRACE_S", 60)),
            rta_exception_after_s=float(env.get("OPENWFM_RTA_EXCEPTION_AFTER_S", 300)),
            smtp_host=env.get("OPENWFM_SMTP_HOST", ""),
            smtp_port=int(env.get("OPENWFM_SMTP_PORT", 25)),
            smtp_from=env.get("OPENWFM_SMTP_FROM", "openwfm@localhost"),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return these settings in a child process."""
        out = {
            "OPENWFM_DB_URL": self.db_url,
            "OPENWFM_JOBS_URL": self.effective_jobs_url,
            "OPENWFM_TOKEN_TTL_S": str(self.token_ttl_s),
            "OPENWFM_MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
            "OPENWFM_LOGIN_MAX_FAILURES": str(self.login_max_failures),
            "OPENWFM_LOGIN_WINDOW_S": str(self.login_window_s),
            "OPENWFM_LOGIN_MAX_ADDRESS_FAILURES": str(self.login_max_address_failures),
            "OPENWFM_PUBLISH_PAUSE_S": str(self.publish_pause_s),
            "OPENWFM_RTA_GRACE_S": str(self.rta_grace_s),
            "OPENWFM_RTA_EXCEPTION_AFTER_S": str(self.rta_exception_after_s),
            "OPENWFM_SMTP_HOST": self.smtp_host,
            "OPENWFM_SMTP_PORT": str(self.smtp_port),
            "OPENWFM_SMTP_FROM": self.smtp_from,
        }
        if self.secret_key:
            out["OPENWFM_SECRET_KEY"] = self.secret_key
        for name in ("issuer", "client_id", "client_secret", "redirect_uri",
                     "username_claim", "scopes"):
            out[f"OPENWFM_OIDC_{name.upper()}"] = getattr(self, f"oidc_{name}")
        return out
