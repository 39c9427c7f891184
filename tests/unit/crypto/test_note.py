"""C2SP signed notes and checkpoints: reference vectors, and every tampering refused."""

from __future__ import annotations

import base64

import pytest

from scelle.crypto.errors import BadSignatureError, NoteError
from scelle.crypto.note import Checkpoint, NoteSigner, NoteVerifier, key_id, open_note, sign_note

# golang.org/x/mod/sumdb/note documentation example (the reference implementation).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example of c2sp.org/signed-note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_reference_keys_and_signature_byte_for_byte() -> None:
    signer = NoteSigner.parse(GO_SKEY)
    assert str(signer.verifier) == GO_VKEY
    assert signer.private_text() == GO_SKEY
    assert key_id("PeterNeumann", signer.verifier.public).hex() == "c74f20a3"
    assert sign_note(GO_TEXT, signer) == GO_NOTE  # Ed25519 is deterministic
    assert open_note(GO_NOTE, NoteVerifier.parse(GO_VKEY)) == GO_TEXT


def test_the_specification_example_verifies() -> None:
    assert open_note(SPEC_NOTE.encode(), NoteVerifier.parse(SPEC_VKEY)) == (
        "This is an example message.\n"
    )


def test_a_changed_text_or_signature_is_refused() -> None:
    verifier = NoteVerifier.parse(GO_VKEY)
    with pytest.raises(BadSignatureError):
        open_note(GO_NOTE.replace("answer", "Answer"), verifier)
    raw = bytearray(base64.b64decode(GO_NOTE.rsplit(" ", 1)[1]))
    raw[10] ^= 1
    forged = GO_NOTE.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(BadSignatureError):
        open_note(forged, verifier)


def test_a_note_signed_by_another_key_is_refused() -> None:
    other = NoteSigner.generate("PeterNeumann")  # same name, other key: ignored, so unsigned
    with pytest.raises(NoteError, match="not signed"):
        open_note(sign_note(GO_TEXT, other), NoteVerifier.parse(GO_VKEY))


def test_unknown_signatures_are_ignored() -> None:
    signer = NoteSigner.parse(GO_SKEY)
    witness = NoteSigner.generate("witness.example/w1")
    note = sign_note(GO_TEXT, witness)
    note = GO_NOTE + note.rstrip("\n").rsplit("\n", 1)[-1] + "\n"
    assert note.count("\u2014") == 2
    assert open_note(note, signer.verifier) == GO_TEXT


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 PeterNeumann AAAA\n",
        GO_TEXT + "\n" + "\u2014 PeterNeumann not base64!\n",
        GO_TEXT + "\n" + "- PeterNeumann AAAAAAAA\n",
        GO_TEXT.replace("\n", "\r\n", 1) + GO_NOTE[len(GO_TEXT) :],
        GO_NOTE[:-1],
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises((NoteError, BadSignatureError)):
        open_note(note, NoteVerifier.parse(GO_VKEY))


@pytest.mark.parametrize(
    "key",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "",
    ],
)
def test_malformed_verifier_keys_are_refused(key: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.parse(key)


def test_checkpoint_round_trip_and_checks() -> None:
    signer = NoteSigner.generate("scelle.example/audit")
    checkpoint = Checkpoint("scelle.example/audit", 20852163, bytes(range(32)), ("time 1",))
    note = checkpoint.sign(signer)
    assert note.startswith(
        "scelle.example/audit\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    )
    opened = Checkpoint.open(note, signer.verifier)
    assert opened == checkpoint
    assert opened.extension("time") == "1"
    other = NoteSigner.generate("scelle.example/other")
    with pytest.raises(NoteError, match="origin"):
        Checkpoint.open(
            Checkpoint("scelle.example/audit", 1, bytes(32)).sign(other), other.verifier
        )
    for text in ["a\n01\nAAAA\n", "a\n1\n", "a\n1\nAAAA\n", "a\n-1\n" + "A" * 43 + "=\n"]:
        with pytest.raises(NoteError):
            Checkpoint.parse(text)


def test_the_signer_repr_hides_the_key() -> None:
    signer = NoteSigner.parse(GO_SKEY)
    assert "AYEK" not in repr(signer)
