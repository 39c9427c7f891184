"""The code base never deserialises, evaluates or shells out, and the server fetches no URL.

ruff's ``S`` rules catch most of these one call at a time; this test reads
the syntax tree of every module under ``src/scelle`` so that a suppressed
warning (``# noqa``) or an aliased import does not slip through either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "scelle"

# Modules whose whole purpose is unsafe on untrusted data.
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "jsonpickle", "yaml"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRIBUTES = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp")}

# Network clients. The server must never fetch a URL that a request names
# (SSRF); only the SDK and the modules listed here with the configured
# endpoint they talk to may open outgoing connections.
NETWORK_MODULES = {
    "httpx",
    "redis",
    "requests",
    "urllib3",
    "aiohttp",
    "urllib.request",
    "http.client",
    "ftplib",
    "smtplib",
    "boto3",
    "botocore",
    "socket",
}
NETWORK_ALLOWED: dict[str, str] = {
    "client": "the SDK talks to the server the user configured (--server / SCELLE_SERVER)",
    "accounts/oidc": "SSO talks to the configured provider (SCELLE_OIDC_ISSUER and the"
    " endpoints its discovery document names), never to a URL from a request",
    "notifications/mailer": "alerts go to the operator's SMTP server (SCELLE_SMTP_HOST)",
    "storage/s3": "the blob store talks to the operator's S3 endpoint (SCELLE_S3_ENDPOINT)",
    "storage/locks": "upload locks in the operator's Redis (SCELLE_REDIS_URL)",
    "audit/checkpoints": "copies checkpoints to the operator's witness bucket (SCELLE_WITNESS_S3_)",
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).with_suffix("").as_posix()
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _covered(name: str, modules: set[str]) -> str | None:
    for module in modules:
        if name == module or name.startswith(module + "."):
            return module
    return None


MODULES = list(_modules())


def test_the_scan_sees_the_whole_code_base() -> None:
    names = {name for name, _ in MODULES}
    assert {"server/app", "crypto/age/header", "client/api", "uploads/endpoints"} <= names


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[name for name, _ in MODULES])
def test_no_deserialisation_evaluation_or_shell(name: str, tree: ast.Module) -> None:
    problems = [f"imports {imp}" for imp in _imports(tree) if _covered(imp, FORBIDDEN_MODULES)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
            problems.append(f"line {node.lineno}: calls {func.id}()")
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES
        ):
            problems.append(f"line {node.lineno}: calls {func.value.id}.{func.attr}()")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                problems.append(f"line {node.lineno}: passes shell=")
    assert problems == [], f"{name}: {problems}"


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[name for name, _ in MODULES])
def test_only_listed_modules_open_outgoing_connections(name: str, tree: ast.Module) -> None:
    package = name.split("/", maxsplit=1)[0]
    if package in NETWORK_ALLOWED or name in NETWORK_ALLOWED:
        return
    found = sorted({m for imp in _imports(tree) if (m := _covered(imp, NETWORK_MODULES))})
    assert found == [], f"{name} imports {found}: add it to NETWORK_ALLOWED with its reason"


def test_the_server_does_not_import_the_sdk() -> None:
    """The SDK may fetch URLs; the server side must not reach it (import-linter agrees)."""
    server_side = [name for name, _ in MODULES if not name.startswith(("client", "cli"))]
    offenders = [
        name
        for name, tree in MODULES
        if name in server_side and any(_covered(i, {"scelle.client"}) for i in _imports(tree))
    ]
    assert offenders == []
