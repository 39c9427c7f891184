"""Audit events: canonical JSON, strict tags, scalars only, failures outlive a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scelle.audit.service import canonical_json
from scelle.db.models import AuditEvent
from scelle.errors import NotFound
from scelle.server.container import Services


def test_canonical_json_is_stable() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


@pytest.mark.parametrize("tag", ["login", "Account:login:failure", "a:b:c:d:e", "a b:c", ""])
def test_malformed_tags_refused(services: Services, tag: str) -> None:
    with services.database.transaction() as session, pytest.raises(ValueError, match="tag"):
        services.audit.record(session, tag)


def test_non_scalar_values_refused(services: Services) -> None:
    with services.database.transaction() as session, pytest.raises(ValueError, match="scalar"):
        services.audit.record(session, "a:b:c", names=["Jean Dupont"])


def test_failure_events_survive_the_rollback(services: Services) -> None:
    def refused_action() -> None:
        with services.database.transaction() as session:
            services.audit.record(session, "x:y:kept-only-if-committed")
            services.audit.record_failure(session, "x:y:failure", object_id="tr_x")
            raise NotFound

    with pytest.raises(NotFound):
        refused_action()
    with services.database.transaction() as session:
        tags = [e.tag for e in session.scalars(select(AuditEvent))]
    assert tags == ["x:y:failure"]
