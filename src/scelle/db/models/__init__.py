"""ORM models, one module per table. Importing this package registers them all."""

from scelle.db.models.account_activity import AccountActivity
from scelle.db.models.account_throttle import AccountThrottle
from scelle.db.models.api_token import ApiToken
from scelle.db.models.audit_checkpoint import AuditCheckpoint
from scelle.db.models.audit_event import AuditEvent
from scelle.db.models.audit_tree_node import AuditTreeNode
from scelle.db.models.audit_tree_state import AuditTreeState
from scelle.db.models.breach_assessment import BreachAssessment
from scelle.db.models.known_device import KnownDevice
from scelle.db.models.oidc_identity import OIDCIdentity
from scelle.db.models.oidc_login import OIDCLogin
from scelle.db.models.organization import Organization
from scelle.db.models.public_key import KeyRevocation, PublicKey
from scelle.db.models.recovery_code import RecoveryCode
from scelle.db.models.send_policy import PolicyAction, SendPolicy
from scelle.db.models.transfer import Transfer, TransferStatus
from scelle.db.models.transfer_recipient import TransferRecipient
from scelle.db.models.transfer_scan import TransferScan
from scelle.db.models.transfer_subject import TransferSubject
from scelle.db.models.upload import Upload
from scelle.db.models.user import Role, User, UserStatus
from scelle.db.models.web_session import WebSession
from scelle.db.models.webauthn_challenge import ChallengePurpose, WebAuthnChallenge
from scelle.db.models.webauthn_credential import WebAuthnCredential
from scelle.db.models.wrapped_identity import WrappedIdentity

__all__ = [
    "AccountActivity",
    "AccountThrottle",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditTreeNode",
    "AuditTreeState",
    "BreachAssessment",
    "ChallengePurpose",
    "KeyRevocation",
    "KnownDevice",
    "OIDCIdentity",
    "OIDCLogin",
    "Organization",
    "PolicyAction",
    "PublicKey",
    "RecoveryCode",
    "Role",
    "SendPolicy",
    "Transfer",
    "TransferRecipient",
    "TransferScan",
    "TransferStatus",
    "TransferSubject",
    "Upload",
    "User",
    "UserStatus",
    "WebAuthnChallenge",
    "WebAuthnCredential",
    "WebSession",
    "WrappedIdentity",
]
