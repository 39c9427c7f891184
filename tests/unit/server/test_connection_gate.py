"""The connection gate: one place per pooled connection, a bounded wait, then 503."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from scelle.db.engine import Database
from scelle.errors import ServiceUnavailable
from scelle.server import dependencies
from scelle.server.dependencies import connection_gate, connection_place


def test_places_are_the_pool_size_and_a_full_gate_answers_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'gate.db'}", pool_size=2)
    monkeypatch.setattr(dependencies, "GATE_WAIT_SECONDS", 0.2)

    async def scenario() -> None:
        assert connection_gate(database).total_tokens == 2
        async with connection_place(database), connection_place(database):
            assert connection_gate(database).available_tokens == 0
            with pytest.raises(ServiceUnavailable):
                async with connection_place(database):
                    pytest.fail("a third place was given with two connections")
        # Both places are given back, also after the refused one.
        assert connection_gate(database).available_tokens == 2
        async with connection_place(database):
            pass

    anyio.run(scenario)
    database.dispose()
