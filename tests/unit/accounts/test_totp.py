"""TOTP: RFC 6238 test vectors, the ±1 step window, and replay refusal."""

from __future__ import annotations

from scelle.accounts import totp

RFC_SECRET = b"12345678901234567890"


def test_rfc6238_sha1_vectors() -> None:
    # RFC 6238 appendix B (SHA-1), truncated to 6 digits.
    for moment, code in [
        (59, "287082"),
        (1111111109, "081804"),
        (1234567890, "005924"),
        (2000000000, "279037"),
    ]:
        assert totp.verify_code(RFC_SECRET, code, last_step=None, now=moment) == moment // 30


def test_window_is_one_step() -> None:
    code_at_59 = "287082"
    assert totp.verify_code(RFC_SECRET, code_at_59, last_step=None, now=59 + 30) == 1
    assert totp.verify_code(RFC_SECRET, code_at_59, last_step=None, now=59 + 90) is None


def test_replay_refused() -> None:
    assert totp.verify_code(RFC_SECRET, "287082", last_step=1, now=59) is None
    assert totp.verify_code(RFC_SECRET, "287082", last_step=0, now=59) == 1


def test_malformed_codes() -> None:
    for code in ["", "12345", "1234567", "abcdef", "28708 2x"]:
        assert totp.verify_code(RFC_SECRET, code, last_step=None, now=59) is None


def test_uri_names_issuer_and_account() -> None:
    uri = totp.otpauth_uri(RFC_SECRET, "ana@lab-x.fr")
    assert uri.startswith("otpauth://totp/Scelle:ana%40lab-x.fr?secret=")
    assert "period=30" in uri
