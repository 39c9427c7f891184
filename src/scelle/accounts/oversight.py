"""Who sees the oversight views (audit, retention, organisations, breach register).

Promises:
- an organisation's admin (role ``admin`` and the ``admin`` scope) sees their
  own organisation only; anyone else is refused with PermissionDenied,
  whatever they asked for (the refusal says nothing about what exists);
- another organisation's id, well-formed or not, is NotFound with the same
  message as an unknown one: no one learns which organisations exist;
- the admins of ``settings.operator_org`` (the organisation that runs the
  service) also see the organisations and the breach register, which cover
  the whole service; without that setting nobody does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scelle.db.models import Organization, Role
from scelle.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.config import Settings

__all__ = [
    "ADMIN_ONLY",
    "NO_SUCH_ORG",
    "OPERATOR_ONLY",
    "is_admin",
    "is_operator",
    "own_org",
    "require_admin",
    "require_operator",
]

ADMIN_ONLY = "only an administrator of the organisation (role admin) may see this"
OPERATOR_ONLY = (
    "only an administrator of the organisation that runs this service (SCELLE_OPERATOR_ORG) "
    "may see this"
)
NO_SUCH_ORG = "no such organisation"


def is_admin(principal: Principal) -> bool:
    """Whether the caller is an admin of their organisation, by role and by token scope."""
    return "admin" in principal.scopes and principal.user.has_role(Role.ADMIN)


def is_operator(principal: Principal, settings: Settings) -> bool:
    """Whether the caller is an admin of the operator's organisation (``operator_org``)."""
    operator = (settings.operator_org or "").strip().lower()
    return bool(operator) and is_admin(principal) and principal.org.name == operator


def require_admin(principal: Principal) -> None:
    """Raise PermissionDenied unless the caller is an admin of their organisation."""
    if not is_admin(principal):
        raise PermissionDenied(ADMIN_ONLY)


def require_operator(principal: Principal, settings: Settings) -> None:
    """Raise PermissionDenied unless the caller is an admin of the operator's organisation."""
    if not is_operator(principal, settings):
        raise PermissionDenied(OPERATOR_ONLY)


def own_org(principal: Principal, org_id: str | None = None) -> Organization:
    """The organisation an admin may oversee: their own (``org_id`` None or theirs).

    Raises PermissionDenied for a caller who is not an admin (checked first,
    whatever ``org_id`` is), NotFound for any other id (as for an unknown one).
    """
    require_admin(principal)
    if org_id is not None and org_id != principal.org.id:
        raise NotFound(NO_SUCH_ORG)
    return principal.org
