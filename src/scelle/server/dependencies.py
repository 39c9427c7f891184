"""FastAPI dependencies: the services, one transaction per request, the caller."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from scelle.accounts.service import (
    Principal,
    authenticate_session,
    authenticate_token,
    csrf_token,
)
from scelle.db.engine import Database
from scelle.errors import AuthenticationRequired, PermissionDenied, ServiceUnavailable
from scelle.server.container import Services

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "ClientIP",
    "CurrentUser",
    "DbSession",
    "ServicesDep",
    "bearer_token",
    "client_ip",
    "connection_gate",
    "connection_place",
    "current_user",
    "get_services",
    "get_session",
    "in_transaction_thread",
]

R = TypeVar("R")
log = logging.getLogger("scelle.db")

# Threads that may wait for a turn to write (SQLite's one write lock), apart
# from the request threads (anyio's 40). A request's transaction spans
# several thread hops (its dependencies, then the endpoint); if waiters held
# every request thread, the transaction holding the lock could never get
# the thread it needs to finish, and all would wait out the 30 s bound.
TRANSACTION_THREADS = 256
_transaction_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, anyio.CapacityLimiter
] = weakref.WeakKeyDictionary()


def _transaction_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _transaction_limiters.get(loop)
    if limiter is None:
        limiter = _transaction_limiters[loop] = anyio.CapacityLimiter(TRANSACTION_THREADS)
    return limiter


# Requests that may hold a database connection at once, per database: its
# pool size. A request takes its place before its first query and gives it
# back after its commit, so a request never waits for a connection while
# holding a thread another request needs. Without it, with fewer connections
# than request threads, threads blocked in the pool's checkout could hold
# every request thread while the requests holding the connections waited for
# a thread to run their endpoint, until the pool's 30 s timeout (503s).
_connection_gates: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Database, anyio.CapacityLimiter]
] = weakref.WeakKeyDictionary()


def connection_gate(database: Database) -> anyio.CapacityLimiter:
    """This event loop's admission to ``database``: one place per pooled connection."""
    gates = _connection_gates.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    gate = gates.get(database)
    if gate is None:
        gate = gates[database] = anyio.CapacityLimiter(database.pool_size)
    return gate


# How long a request waits at the gate before it answers 503: the pool's own
# checkout timeout, so a stuck database fails requests as it did before.
GATE_WAIT_SECONDS = 30.0


async def _take_place(gate: anyio.CapacityLimiter, place: object) -> None:
    try:
        with anyio.fail_after(GATE_WAIT_SECONDS):
            await gate.acquire_on_behalf_of(place)
    except TimeoutError:
        log.warning("database unavailable: every connection busy for %.0f s", GATE_WAIT_SECONDS)
        raise ServiceUnavailable("the database is unavailable") from None


@asynccontextmanager
async def connection_place(database: Database) -> AsyncIterator[None]:
    """Hold one of ``database``'s places (see ``connection_gate``) for the block."""
    gate, place = connection_gate(database), object()
    await _take_place(gate, place)
    try:
        yield
    finally:
        gate.release_on_behalf_of(place)


async def in_transaction_thread(function: Callable[..., R], *args: object) -> R:
    """Run ``function`` (which begins or ends a transaction) on a thread of its own pool."""
    return await anyio.to_thread.run_sync(function, *args, limiter=_transaction_limiter())


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    """One request, one transaction: committed before the response is sent.

    The request first takes its place at the database's connection gate
    (``connection_gate``), holding no thread and no connection while it
    waits. On SQLite the transaction then begins here, waiting for its turn
    to write on a thread that is not a request thread (see
    ``TRANSACTION_THREADS``); the dependencies and the endpoint then run with
    the write lock held.
    """
    async with connection_place(services.database):
        unit = services.database.transaction()

        def begin() -> Session:
            session = unit.__enter__()
            if services.database.writer_lock is not None:
                try:
                    session.connection()  # BEGIN IMMEDIATE: wait for the turn now
                except BaseException as exc:
                    unit.__exit__(type(exc), exc, exc.__traceback__)  # 503 for a timeout
                    raise
            return session

        session = await in_transaction_thread(begin)
        # The commit gets a thread of its own, like FastAPI's exits: it must never
        # wait behind the transactions that wait for the lock it holds.
        own_thread = anyio.CapacityLimiter(1)
        try:
            yield session
        except BaseException as exc:
            ended = anyio.to_thread.run_sync(
                unit.__exit__, type(exc), exc, exc.__traceback__, limiter=own_thread
            )
            if not await ended:
                raise
        else:
            await anyio.to_thread.run_sync(unit.__exit__, None, None, None, limiter=own_thread)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header; AuthenticationRequired otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("an API token is required (Authorization: Bearer ...)")
    return token.strip()


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: Request) -> str:
    """The caller's address: the socket peer, or X-Forwarded-For behind a trusted proxy.

    X-Forwarded-For is believed only when the peer is one of
    ``settings.trusted_proxies``; then the right-most address that is not a
    trusted proxy is the client (the left part of the header is whatever the
    client wrote). Anything unparsable counts as the peer itself.
    """
    peer = request.client.host if request.client else "unknown"
    services: Services = request.app.state.services
    networks = _networks(tuple(services.settings.trusted_proxies))
    address = _parse_ip(peer)
    if not networks or address is None or not any(address in n for n in networks):
        return peer
    hops = request.headers.get("x-forwarded-for", "").split(",")
    for hop in reversed(hops):
        candidate = _parse_ip(hop)
        if candidate is None:
            break
        if not any(candidate in n for n in networks):
            return str(candidate)
    return peer


ClientIP = Annotated[str, Depends(client_ip)]


SESSION_COOKIE = "scelle_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(request: Request, session: DbSession, services: ServicesDep) -> Principal:
    """The authenticated caller: a Bearer API token, else a web session cookie; 401 otherwise.

    With a cookie, a state-changing request must also carry the session's
    CSRF token in ``X-CSRF-Token`` (403 otherwise): a cross-site page can make
    the browser send the cookie, never read the token.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if "authorization" not in request.headers and cookie:
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf_token(services, cookie).encode()):
                raise PermissionDenied("missing or wrong CSRF token (X-CSRF-Token)")
        principal = authenticate_session(session, services, cookie)
        request.state.actor_id = principal.user.id
        return principal
    principal = authenticate_token(
        session, services, bearer_token(request), client_ip=client_ip(request)
    )
    request.state.actor_id = principal.user.id
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
