"""Every word of the administration pages and of web/src/admin.js exists in French and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scelle.db.models import PolicyAction, Role, UserStatus
from scelle.server import i18n
from scelle.transfers.service import POLICY_KINDS

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "src" / "scelle" / "server" / "templates"


def _template_keys() -> set[str]:
    keys: set[str] = set()
    for name in ("admin.html", "admin_users.html", "admin_policy.html", "_reauth.html"):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']\s*\)""", text))
    # The keys the templates build from a value: roles, statuses, kinds, actions.
    keys |= {f"role.{r.value}" for r in Role}
    keys |= {f"admin.status.{s.value}" for s in UserStatus}
    keys |= {f"kind.{kind}" for kind in POLICY_KINDS}
    keys |= {f"action.{a.value}" for a in PolicyAction}
    keys |= {f"action.{a.value}_hint" for a in PolicyAction}
    return keys


def _script_keys() -> set[str]:
    text = (REPO / "web" / "src" / "admin.js").read_text(encoding="utf-8")
    found = set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", text))
    found |= set(re.findall(r"""["']((?:admin|status|error)\.[\w.]+)["']""", text))
    return {"js." + key for key in found}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_admin_word_is_translated(language: str) -> None:
    words = i18n.MESSAGES[language]
    template_keys = _template_keys()
    script_keys = _script_keys()
    assert len(template_keys) > 40
    assert len(script_keys) > 15
    assert sorted(template_keys - words.keys()) == []
    assert sorted(script_keys - words.keys()) == []
