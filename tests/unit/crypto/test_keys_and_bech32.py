"""Key encodings: bech32 as age uses it, and refusal of malformed keys."""

from __future__ import annotations

import pytest

from scelle.crypto import bech32
from scelle.crypto.age.identity import X25519Identity, parse_identity_file
from scelle.crypto.age.recipients import ScryptRecipient, X25519Recipient
from scelle.crypto.errors import KeyFormatError

# BIP 173 valid test strings (checksum only; data is irrelevant here).
BIP173_VALID = ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"]


@pytest.mark.parametrize("text", BIP173_VALID)
def test_bip173_valid_strings_decode(text: str) -> None:
    hrp, _ = bech32.decode(text)
    assert hrp.lower() == text[: text.rfind("1")].lower()


@pytest.mark.parametrize("text", ["A12uEL5L", "a12uel5m", "1qzzfhee", "a1b"])
def test_bip173_invalid_strings_are_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        bech32.decode(text)


def test_identity_encodes_upper_case_and_recipient_lower_case() -> None:
    identity = X25519Identity.generate()
    assert str(identity) == str(identity).upper()
    assert str(identity.recipient) == str(identity.recipient).lower()


@pytest.mark.parametrize(
    "text",
    ["", "age1", "age1qqqq", "AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P"],
)
def test_malformed_recipients_are_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        X25519Recipient.parse(text)


def test_an_identity_is_not_a_recipient_and_vice_versa() -> None:
    identity = X25519Identity.generate()
    with pytest.raises(KeyFormatError):
        X25519Recipient.parse(str(identity))
    with pytest.raises(KeyFormatError):
        X25519Identity.parse(str(identity.recipient))


def test_identity_file_skips_comments_and_names_the_bad_line_without_echoing_it() -> None:
    first, second = X25519Identity.generate(), X25519Identity.generate()
    text = f"# created: now\n# public key: {first.recipient}\n{first}\n\n{second}\n"
    assert [str(i) for i in parse_identity_file(text)] == [str(first), str(second)]
    with pytest.raises(KeyFormatError, match="line 2") as caught:
        parse_identity_file(f"{first}\nAGE-SECRET-KEY-1NOTAKEY\n")
    assert "NOTAKEY" not in str(caught.value)
    with pytest.raises(KeyFormatError):
        parse_identity_file("# nothing here\n")


def test_scrypt_recipient_refuses_empty_passphrase_and_absurd_work_factor() -> None:
    with pytest.raises(KeyFormatError):
        ScryptRecipient("")
    with pytest.raises(KeyFormatError):
        ScryptRecipient("pw", log_n=40)
