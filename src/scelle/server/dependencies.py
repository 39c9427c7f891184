"""FastAPI dependencies: the services, one transaction per request, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from scelle.accounts.service import Principal, authenticate_token
from scelle.errors import AuthenticationRequired
from scelle.server.container import Services

__all__ = [
    "CurrentUser",
    "DbSession",
    "ServicesDep",
    "bearer_token",
    "current_user",
    "get_services",
    "get_session",
]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """One request, one transaction: committed before the response is sent."""
    with services.database.transaction() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header; AuthenticationRequired otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("an API token is required (Authorization: Bearer ...)")
    return token.strip()


def current_user(request: Request, session: DbSession, services: ServicesDep) -> Principal:
    """The authenticated caller, from a Bearer API token; 401 otherwise."""
    principal = authenticate_token(session, services, bearer_token(request))
    request.state.actor_id = principal.user.id
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
