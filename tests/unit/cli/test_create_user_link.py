"""``scelle admin create-user`` prints the web enrolment link, the token in its #fragment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from scelle.accounts.tokens import enrolment_link

SCELLE = str(Path(sys.executable).parent / "scelle")


def _scelle(data: Path, *args: str, public_url: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    if public_url:
        env["SCELLE_PUBLIC_URL"] = public_url
    done = subprocess.run(
        [SCELLE, *args, "--data", str(data)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_link_carries_the_token_in_its_fragment_only() -> None:
    assert enrolment_link("https://scelle.chu.example/", "enr_abc") == (
        "https://scelle.chu.example/enrol#token=enr_abc"
    )


def test_create_user_prints_the_link_of_the_public_url(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _scelle(data, "admin", "create-org", "lab-x")
    shown = _scelle(
        data,
        "admin",
        "create-user",
        "ana@lab-x.test",
        "--org",
        "lab-x",
        "--role",
        "sender",
        public_url="https://scelle.chu.example",
    )
    token = re.search(r"enrolment token .*: (enr_[\w-]+)", shown)
    assert token, shown
    assert f"https://scelle.chu.example/enrol#token={token.group(1)}" in shown
    # Without a public URL the operator is told where the host name goes.
    other = _scelle(
        data, "admin", "create-user", "bob@lab-x.test", "--org", "lab-x", "--role", "sender"
    )
    assert re.search(r"https://SERVER/enrol#token=enr_[\w-]+ \(SERVER: your host\)", other)
