"""OpenID Connect single sign-on (authorization code + PKCE S256), e.g. Pro Santé Connect.

Promises:
- ``start`` stores a fresh ``state`` and ``nonce`` (as SHA-256 only) and the
  PKCE verifier (sealed under the server secret) for ``oidc_login_lifetime``;
  the browser goes to the provider with ``code_challenge_method=S256``;
- ``callback`` accepts a ``state`` once, before it expires; it exchanges the
  code with the verifier, and accepts the ID token only if its ``alg`` is in
  the allowlist (never ``none``, never an HMAC alg), its signature verifies
  with a key of the provider's JWKS (from discovery), ``iss`` is the
  configured issuer, ``aud`` holds the client id (``azp`` too when there are
  several), it has not expired, its ``nonce`` is this login's, and its
  ``acr`` is at or above ``oidc_required_acr`` when one is set;
- accounts are bound to (``iss``, ``sub``): the first SSO login binds to the
  active user whose e-mail equals a *verified* ``email`` claim; later logins
  use the binding only (a changed e-mail at the provider changes nothing);
- success issues the same kind of API token as the password + second-factor
  login: a login at or above the required ``acr`` counts as multi-factor
  (with no required ``acr`` configured, the operator trusts the provider's
  own login as complete); it is audited ``account:login:success`` with
  ``factor=oidc``; every refusal is one opaque ``InvalidCredentials`` with
  the precise reason in the log and the audit event;
- a web sign-in (``start`` with a ``browser_secret``, kept in the browser's
  cookie) finishes only with that same secret, and only as a web session
  (``finish_web``): its callback URL is worth nothing in another browser,
  and a victim's browser cannot be signed in to an attacker's account
  (login CSRF); a login started without one finishes only as an API token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import repository, tokens
from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import ApiToken, OIDCIdentity, OIDCLogin, Organization, User, UserStatus
from scelle.errors import InvalidCredentials, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from scelle.config import Settings
    from scelle.server.container import Services

__all__ = [
    "ClaimedLogin",
    "OIDCLoginResult",
    "OIDCWebLogin",
    "claim",
    "enabled",
    "finish",
    "finish_web",
    "provider_name",
    "start",
]

log = logging.getLogger("scelle.oidc")

_FORBIDDEN_ALGS = frozenset({"none", "HS256", "HS384", "HS512"})
_CACHE_SECONDS = 300.0
_HTTP_TIMEOUT = 10.0
_cache: dict[str, tuple[float, dict[str, Any]]] = {}


@dataclass(frozen=True)
class OIDCLoginResult:
    token: str
    api_token: ApiToken
    user: User
    org: Organization


@dataclass(frozen=True)
class OIDCWebLogin:
    """A web sign-in by SSO: the session cookie value and its CSRF token, shown once."""

    cookie: str
    csrf: str
    user: User
    org: Organization


class _RefusedError(Exception):
    """Why an SSO login was refused (logged and audited, never shown)."""


def enabled(settings: Settings) -> bool:
    """Whether SSO is configured (issuer, client id and redirect URL)."""
    return bool(settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url)


def provider_name(settings: Settings) -> str:
    """The provider's name for people (``oidc_provider_name``, else the issuer's host)."""
    if settings.oidc_provider_name:
        return settings.oidc_provider_name
    return urlsplit(str(settings.oidc_issuer or "")).hostname or str(settings.oidc_issuer or "")


def _require(settings: Settings) -> None:
    if not enabled(settings):
        raise NotFound("single sign-on is not configured on this server")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _fetch_json(settings: Settings, url: str, *, cache: bool = True) -> dict[str, Any]:
    now = time.monotonic()
    hit = _cache.get(url)
    if cache and hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    try:
        response = httpx.get(url, timeout=_HTTP_TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ServiceUnavailable("the sign-in provider cannot be reached") from exc
    if not isinstance(document, dict):
        raise ServiceUnavailable("the sign-in provider answered something unexpected")
    _cache[url] = (now, document)
    return document


def _discovery(settings: Settings) -> dict[str, Any]:
    issuer = str(settings.oidc_issuer).rstrip("/")
    document = _fetch_json(settings, issuer + "/.well-known/openid-configuration")
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ServiceUnavailable("the sign-in provider's discovery names another issuer")
    return document


def _allowed_algs(settings: Settings) -> list[str]:
    return [a for a in settings.oidc_algorithms.split() if a not in _FORBIDDEN_ALGS]


def start(session: Session, services: Services, *, browser_secret: str | None = None) -> str:
    """Record a new login attempt and return the provider URL to send the browser to.

    With ``browser_secret`` (a random value the caller keeps in the browser's
    cookie), the login is a web sign-in bound to that browser (see ``claim``).
    Raises NotFound when SSO is not configured, ServiceUnavailable when the
    provider's discovery cannot be read.
    """
    settings = services.settings
    _require(settings)
    provider = _discovery(settings)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state_hash = _sha256(state)
    now = utcnow()
    session.add(
        OIDCLogin(
            state_hash=state_hash,
            nonce_hash=_sha256(nonce),
            verifier_sealed=services.secret_box.seal(
                verifier.encode(), context="oidc:" + state_hash
            ),
            created_at=now,
            expires_at=now + settings.oidc_login_lifetime,
            browser_hash=services.secret_box.digest(browser_secret) if browser_secret else None,
        )
    )
    session.flush()
    params = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": settings.oidc_redirect_url,
        "scope": settings.oidc_scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    if settings.oidc_required_acr:
        params["acr_values"] = settings.oidc_required_acr
    return f"{provider['authorization_endpoint']}?{urlencode(params)}"


def _exchange(settings: Settings, provider: dict[str, Any], code: str, verifier: str) -> str:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    try:
        response = httpx.post(
            str(provider["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": settings.oidc_redirect_url,
                "code_verifier": verifier,
            },
            auth=(str(settings.oidc_client_id), secret),
            timeout=_HTTP_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable("the sign-in provider cannot be reached") from exc
    if response.status_code != 200:
        raise _RefusedError(f"token endpoint answered {response.status_code}")
    try:
        id_token = response.json()["id_token"]
    except (ValueError, KeyError, TypeError):
        raise _RefusedError("no id_token in the token response") from None
    if not isinstance(id_token, str):
        raise _RefusedError("malformed id_token")
    return id_token


def _signing_key(settings: Settings, provider: dict[str, Any], header: dict[str, Any]) -> Any:
    jwks = _fetch_json(settings, str(provider["jwks_uri"]))
    kid = header.get("kid")
    for cached in (True, False):
        if not cached:
            # An unknown kid may be a key the provider just rotated in.
            jwks = _fetch_json(settings, str(provider["jwks_uri"]), cache=False)
        try:
            keys = jwt.PyJWKSet.from_dict(jwks).keys
        except jwt.PyJWTError as exc:
            raise _RefusedError("the provider's JWKS is unusable") from exc
        for key in keys:
            if kid is None or key.key_id == kid:
                return key.key
    raise _RefusedError("no provider key matches the token's kid")


def _acr_ok(settings: Settings, acr: object) -> bool:
    required = settings.oidc_required_acr
    if not required:
        return True
    if not isinstance(acr, str):
        return False
    order = settings.oidc_acr_order.split()
    if required in order and acr in order:
        return order.index(acr) >= order.index(required)
    return hmac.compare_digest(acr, required)


def _validate(
    settings: Settings, provider: dict[str, Any], id_token: str, nonce_hash: str
) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise _RefusedError("malformed id_token") from exc
    allowed = _allowed_algs(settings)
    if header.get("alg") not in allowed:
        raise _RefusedError(f"id_token alg {str(header.get('alg'))[:20]!r} is not allowed")
    key = _signing_key(settings, provider, header)
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=allowed,
            audience=settings.oidc_client_id,
            issuer=str(settings.oidc_issuer).rstrip("/"),
            leeway=settings.oidc_leeway_seconds,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
        )
    except jwt.PyJWTError as exc:
        raise _RefusedError(f"id_token rejected: {type(exc).__name__}") from exc
    audience = claims["aud"]
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != settings.oidc_client_id
    ):
        raise _RefusedError("id_token has several audiences and another azp")
    if not hmac.compare_digest(_sha256(str(claims["nonce"])), nonce_hash):
        raise _RefusedError("id_token nonce is not this login's")
    if not _acr_ok(settings, claims.get("acr")):
        raise _RefusedError("id_token acr is below the required level")
    return claims


def _bound_user(session: Session, settings: Settings, claims: dict[str, Any]) -> User:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    identity = session.scalar(
        select(OIDCIdentity).where(OIDCIdentity.issuer == issuer, OIDCIdentity.subject == subject)
    )
    now = utcnow()
    if identity is not None:
        user = repository.user_by_id(session, identity.user_id)
    else:
        email = claims.get(settings.oidc_email_claim)
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            raise _RefusedError("first SSO login without a verified e-mail")
        user = repository.user_by_email(session, email.strip().lower())
        if user is None:
            raise _RefusedError("no account for this SSO identity")
        taken = session.scalar(
            select(OIDCIdentity).where(
                OIDCIdentity.user_id == user.id, OIDCIdentity.issuer == issuer
            )
        )
        if taken is not None:
            raise _RefusedError("the account is bound to another identity at this provider")
        identity = OIDCIdentity(user_id=user.id, issuer=issuer, subject=subject, created_at=now)
        session.add(identity)
    if user is None or user.status != UserStatus.ACTIVE.value:
        raise _RefusedError("the bound account is not active")
    identity.last_login_at = now
    return user


def _issue_token(session: Session, services: Services, user: User) -> tuple[str, ApiToken]:
    """The same token the password login issues (scopes from roles, same lifetime, keyed hash)."""
    from scelle.accounts.service import role_scopes

    token = tokens.new_api_token()
    scopes = role_scopes(user)
    now = utcnow()
    api_token = ApiToken(
        id=ids.new_id("tok"),
        user_id=user.id,
        token_hash=services.secret_box.digest(token),
        scopes=" ".join(sorted(scopes)),
        name="sso",
        created_at=now,
        expires_at=now + services.settings.token_lifetime,
        authenticated_at=now,
    )
    repository.add(session, api_token)
    return token, api_token


@dataclass(frozen=True)
class ClaimedLogin:
    """A login attempt whose state was just spent: what finishing it needs."""

    nonce_hash: str
    verifier: str
    # Started by the web sign-in page (and presented by that browser): ends in a web session.
    web: bool = False


def _refuse(session: Session, services: Services, refusal: _RefusedError) -> InvalidCredentials:
    log.info("SSO login refused: %s", refusal)
    services.audit.record_failure(
        session, "account:login:failure", reason="oidc", detail=str(refusal)[:120]
    )
    return InvalidCredentials("the single sign-on could not be verified")


def claim(
    session: Session, services: Services, state: str | None, *, browser_secret: str | None = None
) -> ClaimedLogin:
    """Spend a login's ``state`` (once, unexpired), for good even if the login then fails.

    A web sign-in's state is accepted only with the ``browser_secret`` it was
    started with. Raises InvalidCredentials for an unknown, used or expired
    state, or a web sign-in's state without its browser's secret; NotFound
    when SSO is not configured.
    """
    _require(services.settings)
    try:
        if not state or len(state) > 200:
            raise _RefusedError("no state")
        login = session.get(OIDCLogin, _sha256(state))
        now = utcnow()
        if login is None or login.used_at is not None or login.expires_at <= now:
            raise _RefusedError("unknown, used or expired state")
        if not repository.spend_oidc_login(session, login.state_hash, now):
            raise _RefusedError("state spent by a concurrent request")
    except _RefusedError as refusal:
        raise _refuse(session, services, refusal) from None
    # A failed login rolls the request back; the rollback path writes what
    # FAILURE_EVENTS holds in a transaction of its own, so the state stays spent.
    state_hash = login.state_hash
    session.info.setdefault(FAILURE_EVENTS, []).append(
        lambda s: repository.spend_oidc_login(s, state_hash, now) and None
    )
    if login.browser_hash is not None and not (
        browser_secret
        and len(browser_secret) <= 200
        and hmac.compare_digest(services.secret_box.digest(browser_secret), login.browser_hash)
    ):
        # The callback of a web sign-in in a browser that did not start it.
        raise _refuse(session, services, _RefusedError("web sign-in from another browser"))
    verifier = services.secret_box.open(login.verifier_sealed, context="oidc:" + login.state_hash)
    return ClaimedLogin(
        nonce_hash=login.nonce_hash, verifier=verifier.decode(), web=login.browser_hash is not None
    )


def _authenticate(
    session: Session, services: Services, claimed: ClaimedLogin, code: str | None, error: str | None
) -> tuple[User, Organization, dict[str, Any]]:
    settings = services.settings
    try:
        if error or not code or len(code) > 2000:
            raise _RefusedError(
                f"provider answered error={str(error)[:40]!r}" if error else "no code"
            )
        provider = _discovery(settings)
        id_token = _exchange(settings, provider, code, claimed.verifier)
        claims = _validate(settings, provider, id_token, claimed.nonce_hash)
        user = _bound_user(session, settings, claims)
    except _RefusedError as refusal:
        raise _refuse(session, services, refusal) from None
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    return user, org, claims


def finish(
    session: Session,
    services: Services,
    claimed: ClaimedLogin,
    *,
    code: str | None,
    error: str | None = None,
) -> OIDCLoginResult:
    """Exchange the code, validate the ID token, log the bound user in with a new API token.

    Raises InvalidCredentials (one opaque error; the reason is logged and
    audited; also for a web sign-in, which ends only in ``finish_web``),
    ServiceUnavailable when the provider cannot be reached.
    """
    if claimed.web:
        raise _refuse(session, services, _RefusedError("a web sign-in finished as an API login"))
    user, org, claims = _authenticate(session, services, claimed, code, error)
    token, api_token = _issue_token(session, services, user)
    services.audit.record(
        session,
        "account:login:success",
        actor_id=user.id,
        org_id=user.org_id,
        object_id=api_token.id,
        factor="oidc",
        acr=str(claims.get("acr", ""))[:40],
    )
    return OIDCLoginResult(token=token, api_token=api_token, user=user, org=org)


def finish_web(
    session: Session,
    services: Services,
    claimed: ClaimedLogin,
    *,
    code: str | None,
    error: str | None = None,
    previous: str | None = None,
) -> OIDCWebLogin:
    """As ``finish``, for a web sign-in: a new web session (``previous`` is ended).

    Raises InvalidCredentials (also for a login not started as a web
    sign-in), ServiceUnavailable when the provider cannot be reached.
    """
    from scelle.accounts.service import start_web_session

    if not claimed.web:
        raise _refuse(session, services, _RefusedError("an API login finished as a web sign-in"))
    user, org, claims = _authenticate(session, services, claimed, code, error)
    services.audit.record(
        session,
        "account:login:success",
        actor_id=user.id,
        org_id=user.org_id,
        factor="oidc",
        acr=str(claims.get("acr", ""))[:40],
        web=True,
    )
    cookie, csrf = start_web_session(session, services, user, previous=previous)
    return OIDCWebLogin(cookie=cookie, csrf=csrf, user=user, org=org)
