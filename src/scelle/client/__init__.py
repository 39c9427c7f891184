"""The typed client SDK: what the CLI, the tests and integrators use.

It speaks the HTTP API of docs/protocol.md and holds every secret on the
device: identities and signing keys (age-encrypted under a passphrase), the
pinned fingerprints of correspondents, and the API token.
"""

from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, Session
from scelle.client.transfer import ReceiveResult, SendResult, receive, send

__all__ = [
    "Keyring",
    "LocalState",
    "ReceiveResult",
    "ScelleClient",
    "SendResult",
    "Session",
    "receive",
    "send",
]
