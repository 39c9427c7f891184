"""ORM models, one module per table. Importing this package registers them all."""

from scelle.db.models.api_token import ApiToken
from scelle.db.models.audit_event import AuditEvent
from scelle.db.models.organization import Organization
from scelle.db.models.public_key import PublicKey
from scelle.db.models.recovery_code import RecoveryCode
from scelle.db.models.transfer import Transfer, TransferStatus
from scelle.db.models.transfer_recipient import TransferRecipient
from scelle.db.models.upload import Upload
from scelle.db.models.user import Role, User, UserStatus
from scelle.db.models.web_session import WebSession

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Organization",
    "PublicKey",
    "RecoveryCode",
    "Role",
    "Transfer",
    "TransferRecipient",
    "TransferStatus",
    "Upload",
    "User",
    "UserStatus",
    "WebSession",
]
