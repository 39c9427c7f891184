"""ORM models, one module per table. Importing this package registers them all."""

from scelle.db.models.api_token import ApiToken
from scelle.db.models.audit_checkpoint import AuditCheckpoint
from scelle.db.models.audit_event import AuditEvent
from scelle.db.models.audit_tree_node import AuditTreeNode
from scelle.db.models.audit_tree_state import AuditTreeState
from scelle.db.models.breach_assessment import BreachAssessment
from scelle.db.models.organization import Organization
from scelle.db.models.public_key import PublicKey
from scelle.db.models.recovery_code import RecoveryCode
from scelle.db.models.send_policy import PolicyAction, SendPolicy
from scelle.db.models.transfer import Transfer, TransferStatus
from scelle.db.models.transfer_recipient import TransferRecipient
from scelle.db.models.transfer_scan import TransferScan
from scelle.db.models.transfer_subject import TransferSubject
from scelle.db.models.upload import Upload
from scelle.db.models.user import Role, User, UserStatus

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditTreeNode",
    "AuditTreeState",
    "BreachAssessment",
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
]
