"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from scelle import __version__, crash_points
from scelle.config import Settings
from scelle.server.container import Services, build_services
from scelle.server.errors import install_error_handlers
from scelle.server.middleware import AccessAndHeadersMiddleware

__all__ = ["create_app", "create_app_from_environment"]


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """A configured Scellé app: stores opened and migrated, routes mounted, errors mapped."""
    from scelle.accounts.admin_endpoints import router as admin_router
    from scelle.accounts.endpoints import router as accounts_router
    from scelle.accounts.oidc_endpoints import router as oidc_router
    from scelle.accounts.org_endpoints import router as admin_orgs_router
    from scelle.accounts.passkey_endpoints import router as passkey_router
    from scelle.audit.admin_endpoints import router as admin_audit_router
    from scelle.audit.endpoints import router as audit_router
    from scelle.breach.endpoints import router as admin_breach_router
    from scelle.keys.endpoints import router as keys_router
    from scelle.server import admin_web, health, metrics, oversight_web, web
    from scelle.transfers.endpoints import router as transfers_router
    from scelle.transfers.link_endpoints import router as links_router
    from scelle.transfers.retention_endpoints import router as admin_retention_router
    from scelle.uploads.endpoints import router as uploads_router

    if services is None:
        services = build_services(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        crash_points.start_counting()
        yield
        services.database.dispose()

    app = FastAPI(
        title="Scellé",
        version=__version__,
        summary="Zero-knowledge file exchange for health data",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(accounts_router)
    app.include_router(oidc_router)
    app.include_router(passkey_router)
    app.include_router(keys_router)
    app.include_router(transfers_router)
    app.include_router(links_router)
    app.include_router(uploads_router)
    app.include_router(audit_router)
    app.include_router(admin_router)
    # The oversight views of the admins (audit, retention, organisations, breach register).
    app.include_router(admin_audit_router)
    app.include_router(admin_retention_router)
    app.include_router(admin_orgs_router)
    app.include_router(admin_breach_router)
    app.state.web_assets = web.load_assets()
    app.include_router(web.router)
    app.include_router(admin_web.router)
    app.include_router(oversight_web.router)
    app.add_middleware(AccessAndHeadersMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    """The app built from ``SCELLE_*`` settings alone, without migrating.

    The import string ``scelle.server.app:create_app_from_environment`` is
    what ``scelle serve --workers N`` gives uvicorn: each worker process builds
    its own stores from the environment (the parent migrated them once).
    """
    from scelle.config import load_settings

    return create_app(services=build_services(load_settings(), migrate=False))
