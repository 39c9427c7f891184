"""``scelle audit export / verify / show`` through the real CLI: every tampering is detected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from scelle.config import Settings
from scelle.crypto.note import Checkpoint, NoteSigner
from scelle.db.models import AuditEvent
from scelle.server.container import Services, build_services
from scelle.worker import sign_checkpoint_if_due

SCELLE = str(Path(sys.executable).parent / "scelle")


def scelle(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    return subprocess.run([SCELLE, *args], capture_output=True, text=True, env=env, check=False)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


class Log:
    """A data folder with 40 events and checkpoints at sizes 10, 25 and 40."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        self.witness = tmp_path / "witness"
        self.services: Services = build_services(Settings(data=self.data, witness_dir=self.witness))
        self.key = str(self.services.log_signer.verifier)
        self.export = tmp_path / "audit.jsonl"
        for upto in (10, 25, 40):
            self.append(upto - self.size())
            assert sign_checkpoint_if_due(self.services, force=True) == upto

    def size(self) -> int:
        with self.services.database.transaction() as session:
            from scelle.audit.repository import tree_size

            return tree_size(session)

    def append(self, n: int) -> None:
        with self.services.database.transaction() as session:
            for _ in range(n):
                self.services.audit.record(
                    session, "transfer:content:download", object_id="tr_x", download=1
                )

    def do_export(self, path: Path | None = None) -> list[str]:
        target = path or self.export
        result = scelle("audit", "export", "-o", str(target), "--data", str(self.data))
        assert result.returncode == 0, result.stderr
        return target.read_text().splitlines(keepends=True)

    def write(self, lines: list[str]) -> None:
        self.export.write_text("".join(lines))

    def verify(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return scelle(
            "audit", "verify", "--export", str(self.export), "--log-key", self.key, *extra
        )


@pytest.fixture
def log(tmp_path: Path) -> Log:
    built = Log(tmp_path)
    yield built
    built.services.database.dispose()


FIRST_EVENT_LINE = 4  # header + 3 checkpoints


def _edit(line: str, **changes: object) -> str:
    value = json.loads(line)
    entry = json.loads(value["entry"])
    entry["data"].update(changes)
    value["entry"] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return json.dumps(value) + "\n"


def test_an_untouched_export_verifies(log: Log) -> None:
    lines = log.do_export()
    assert len(lines) == 1 + 3 + 40
    result = log.verify()
    assert result.returncode == 0, result.stderr
    assert "ok: 40 entries, 3 checkpoint(s)" in result.stdout
    witness = log.witness / "latest.checkpoint"
    assert log.verify("--tree-head", str(witness)).returncode == 0
    report = json.loads(log.verify("--json").stdout)
    assert report["ok"] is True


def test_an_edited_entry_is_found_at_its_leaf(log: Log) -> None:
    lines = log.do_export()
    lines[FIRST_EVENT_LINE + 12] = _edit(lines[FIRST_EVENT_LINE + 12], download=2)
    log.write(lines)
    result = log.verify()
    assert "leaf 12 (seq 13" in error_line(result)
    assert "edited" in result.stdout
    assert "size 25" in result.stdout  # the first checkpoint the edit breaks


def test_an_edit_with_a_recomputed_leaf_hash_breaks_the_checkpoint(log: Log) -> None:
    import base64

    from scelle.crypto.merkle import leaf_hash

    lines = log.do_export()
    edited = json.loads(_edit(lines[FIRST_EVENT_LINE + 30], download=9))
    edited["leaf_hash"] = base64.b64encode(leaf_hash(edited["entry"].encode())).decode()
    lines[FIRST_EVENT_LINE + 30] = json.dumps(edited) + "\n"
    log.write(lines)
    line = error_line(log.verify())
    assert "size 40" in line
    assert "leaves 25..39" in line


def test_an_event_edited_in_the_database_is_found(log: Log) -> None:
    with log.services.database.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 7).values(tag="x:y:z"))
    log.do_export()
    assert "leaf 6 (seq 7" in error_line(log.verify())


def test_a_deleted_entry_is_found(log: Log) -> None:
    lines = log.do_export()
    del lines[FIRST_EVENT_LINE + 20]
    log.write(lines)
    result = log.verify()
    assert "leaf 20 (seq 21" in error_line(result)
    assert "deleted, inserted or reordered" in result.stdout


def test_reordered_entries_are_found(log: Log) -> None:
    lines = log.do_export()
    a, b = FIRST_EVENT_LINE + 3, FIRST_EVENT_LINE + 4
    lines[a], lines[b] = lines[b], lines[a]
    log.write(lines)
    result = log.verify()
    assert "leaf 3 (seq 4" in error_line(result)
    assert "size 10" in result.stdout


def test_an_inserted_entry_is_found(log: Log) -> None:
    lines = log.do_export()
    lines.insert(FIRST_EVENT_LINE + 33, lines[FIRST_EVENT_LINE + 33])
    log.write(lines)
    result = log.verify()
    assert "leaf 34 (seq 35" in error_line(result)
    assert "holds 41" in result.stdout


def test_a_rollback_to_an_older_tree_is_found(log: Log, tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    log.do_export(old)  # the server as it was at 40 events
    log.append(5)
    assert sign_checkpoint_if_due(log.services, force=True) == 45
    held = log.witness / "latest.checkpoint"
    log.export = old  # the server restored from the old backup
    line = error_line(log.verify("--tree-head", str(held)))
    assert "rollback" in line
    assert "45" in line


def test_a_truncated_log_is_found(log: Log) -> None:
    lines = log.do_export()
    log.write(lines[:-3])
    line = error_line(log.verify())
    assert "rollback" in line
    assert "seq 38..40" in line


def test_a_fork_is_found(log: Log, tmp_path: Path) -> None:
    log.do_export()
    # The log key signs another tree of size 25 (a split view shown to someone).
    forged = Checkpoint(log.services.log_signer.name, 25, b"\x07" * 32).sign(
        log.services.log_signer
    )
    held = tmp_path / "other-view.checkpoint"
    held.write_text(forged)
    line = error_line(log.verify("--tree-head", str(held)))
    assert "fork" in line
    assert "size 25" in line


def test_a_fork_inside_the_export_is_found(log: Log) -> None:
    lines = log.do_export()
    header = json.loads(lines[0])
    header["checkpoints"] += 1
    forged = Checkpoint(log.services.log_signer.name, 10, b"\x01" * 32).sign(
        log.services.log_signer
    )
    lines = [
        json.dumps(header) + "\n",
        *lines[1:4],
        json.dumps({"checkpoint": forged}) + "\n",
        *lines[4:],
    ]
    log.write(lines)
    assert "fork" in error_line(log.verify())


def test_checkpoints_re_signed_with_another_key_are_refused(log: Log) -> None:
    lines = log.do_export()
    impostor = NoteSigner.generate(log.services.log_signer.name)
    header = json.loads(lines[0])
    header["log_key"] = str(impostor.verifier)
    lines[0] = json.dumps(header) + "\n"
    for i in range(1, 4):
        note = json.loads(lines[i])["checkpoint"]
        body = note.split("\n\n")[0] + "\n"
        lines[i] = json.dumps({"checkpoint": Checkpoint.parse(body).sign(impostor)}) + "\n"
    log.write(lines)
    result = log.verify()
    assert "not the pinned one" in result.stdout
    assert "does not verify" in result.stdout
    assert result.returncode != 0
    # Without the pinned key it "verifies", and says on what it relied.
    bare = scelle("audit", "verify", "--export", str(log.export))
    assert bare.returncode == 0
    assert "warning: no --log-key" in bare.stderr


def test_bad_inputs_give_one_error_line(log: Log, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    assert "line 1" in error_line(scelle("audit", "verify", "--export", str(junk)))
    missing = scelle("audit", "verify", "--export", str(tmp_path / "none.jsonl"))
    assert "no such file" in error_line(missing)
    assert "log key" in error_line(
        log.verify().__class__
        and scelle("audit", "verify", "--export", str(junk), "--log-key", "nope")
    )


def test_show_lists_a_transfer_life(log: Log) -> None:
    result = scelle("audit", "show", "--transfer", "tr_x", "--data", str(log.data), "--json")
    assert error_line(result).startswith("error: a transfer id")
    from scelle import ids

    transfer_id = ids.new_id("tr")
    with log.services.database.transaction() as session:
        log.services.audit.record(session, "transfer:transfer:create", object_id=transfer_id)
        log.services.audit.record(
            session, "transfer:content:purge", object_id=transfer_id, reason="expiry"
        )
    shown = scelle("audit", "show", "--transfer", transfer_id, "--data", str(log.data), "--json")
    assert shown.returncode == 0, shown.stderr
    tags = [e["entry"]["tag"] for e in json.loads(shown.stdout)]
    assert tags == ["transfer:transfer:create", "transfer:content:purge"]
    text = scelle("audit", "show", "--transfer", transfer_id, "--data", str(log.data))
    assert "reason=expiry" in text.stdout
