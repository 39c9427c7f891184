"""The typed client SDK: what the CLI, the tests and integrators use.

It speaks the HTTP API of docs/protocol.md and holds every secret on the
device: identities and signing keys (age-encrypted under a passphrase), the
pinned fingerprints of correspondents, and the API token.

    with ScelleClient(url, token) as client:
        keyring = Keyring.load(LocalState(), passphrase)
        result = send(client, LocalState(), keyring, Path("results.csv"), ["cpam-75"])
        ...
        receive(client, LocalState(), keyring, result.transfer_id, Path("out.csv"))
"""

from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, Session
from scelle.client.transfer import (
    ReceiveResult,
    SendResult,
    inbox,
    receive,
    require_keys,
    safe_name,
    send,
    sent,
)
from scelle.client.tus import TusUpload

__all__ = [
    "Keyring",
    "LocalState",
    "ReceiveResult",
    "ScelleClient",
    "SendResult",
    "Session",
    "TusUpload",
    "inbox",
    "receive",
    "require_keys",
    "safe_name",
    "send",
    "sent",
]
