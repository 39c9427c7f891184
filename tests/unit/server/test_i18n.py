"""The web UI's two languages: same keys, French by default, the choice order."""

from __future__ import annotations

import pytest

from scelle.server import i18n


def test_both_languages_have_every_key() -> None:
    assert set(i18n.MESSAGES["fr"]) == set(i18n.MESSAGES["en"])
    for language in i18n.LANGUAGES:
        assert all(value.strip() for value in i18n.MESSAGES[language].values())


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "fr"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, "de-DE,de;q=0.9,en;q=0.5", "en"),
        (None, None, "de-DE", "fr"),
        (None, "en", "fr-FR", "en"),
        ("fr", "en", "en", "fr"),
        ("xx", None, None, "fr"),
        ("<script>", "../en", "zz", "fr"),
    ],
)
def test_language_choice_order(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(query, cookie, accept) == expected


def test_browser_messages_are_the_js_keys_only() -> None:
    words = i18n.browser_messages("en")
    assert words["stage.uploading"] == i18n.MESSAGES["en"]["js.stage.uploading"]
    assert not any(key.startswith(("js.", "login.")) for key in words)
    assert i18n.translator("en")("no.such.key") == "no.such.key"
