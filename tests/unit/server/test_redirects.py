"""``local_path``: the only pages a sign-in may go on to are this site's own paths."""

from __future__ import annotations

import pytest

from scelle.server.redirects import local_path


@pytest.mark.parametrize("path", ["/inbox", "/sent", "/transfers/tr_0123abc", "/keys", "/"])
def test_local_paths_are_kept(path: str) -> None:
    assert local_path(path) == path


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "inbox",
        "//evil.example",
        "///evil.example",
        "https://evil.example/inbox",
        "/inbox?x=1",
        "/inbox#x",
        "/../admin",
        "/%2F%2Fevil.example",
        "/\\\\evil.example",
        "/inbox\\n",
        "/" + "a" * 201,
        "/éé",
    ],
)
def test_anything_else_is_refused(value: str | None) -> None:
    assert local_path(value) is None
