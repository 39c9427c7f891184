"""The ScelleError tree.

Every error a user, an operator or an API caller can see is one of these. Each
class carries a stable machine ``code`` and an HTTP ``status``; the server maps
them to ``{"error": {"code": ..., "message": ...}}`` in one handler, and the
CLI prints ``error: <message>`` and exits non-zero. Messages never contain
secrets, file names or health data.

    ScelleError                          500 internal
    ├── BadRequest                       400 bad_request
    │   ├── InvalidInput                 422 invalid_input
    │   └── PolicyViolation              400 policy_violation
    ├── AuthenticationRequired           401 authentication_required
    │   ├── InvalidCredentials           401 invalid_credentials
    │   └── MFARequired                  401 mfa_required
    ├── PermissionDenied                 403 permission_denied
    │   ├── PasskeyRequired              403 passkey_required
    │   └── ReauthenticationRequired     403 reauthentication_required
    ├── NotFound                         404 not_found
    ├── Conflict                         409 conflict
    │   ├── UploadOffsetMismatch         409 upload_offset_mismatch
    │   └── KeyRevoked                   409 key_revoked
    ├── Gone                             410 gone
    ├── PayloadTooLarge                  413 payload_too_large
    ├── UnsupportedMediaType             415 unsupported_media_type
    ├── PreconditionFailed               412 precondition_failed
    ├── RangeNotSatisfiable              416 range_not_satisfiable
    ├── ChecksumMismatch                 460 checksum_mismatch   (tus checksum extension)
    ├── TooManyRequests                  429 too_many_requests
    ├── InsufficientStorage              507 insufficient_storage
    ├── ServiceUnavailable               503 service_unavailable
    ├── AuditLogInconsistent             500 audit_inconsistent  (refused to sign)
    ├── BackupInvalid                    500 backup_invalid      (server host only)
    └── ClientError                      (client side only, never sent by the server)
        ├── ServerError                  the server answered with an error document
        ├── KeyChanged                   a pinned key changed without confirmation
        │   └── KeyRotated               ... to a successor the pinned key signed
        ├── SignatureInvalid             the sender's signature does not verify
        ├── DecryptionFailed             one opaque error for every decryption failure
        ├── AuditProofInvalid            an audit receipt or checkpoint fails
        └── LocalStateError              missing identity, session or config on this device
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuditLogInconsistent",
    "AuditProofInvalid",
    "AuthenticationRequired",
    "BackupInvalid",
    "BadRequest",
    "ChecksumMismatch",
    "ClientError",
    "Conflict",
    "DecryptionFailed",
    "Gone",
    "InsufficientStorage",
    "InvalidCredentials",
    "InvalidInput",
    "KeyChanged",
    "KeyRevoked",
    "KeyRotated",
    "LocalStateError",
    "MFARequired",
    "NotFound",
    "PasskeyRequired",
    "PayloadTooLarge",
    "PermissionDenied",
    "PolicyViolation",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "ReauthenticationRequired",
    "ScelleError",
    "ServerError",
    "ServiceUnavailable",
    "SignatureInvalid",
    "TooManyRequests",
    "UnsupportedMediaType",
    "UploadOffsetMismatch",
]


class ScelleError(Exception):
    """Base of every Scellé error: a stable code, an HTTP status, a safe message."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def diagnostics(self) -> str:
        """One line for a person: what went wrong (and what to do, where known)."""
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The error document sent to API callers."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(ScelleError):
    code = "bad_request"
    status = 400
    default_message = "bad request"


class InvalidInput(BadRequest):
    code = "invalid_input"
    status = 422
    default_message = "the request is malformed"


class PolicyViolation(BadRequest):
    code = "policy_violation"
    default_message = "the request is not allowed by policy"


class AuthenticationRequired(ScelleError):
    code = "authentication_required"
    status = 401
    default_message = "authentication required"


class InvalidCredentials(AuthenticationRequired):
    code = "invalid_credentials"
    default_message = "invalid credentials"


class MFARequired(AuthenticationRequired):
    code = "mfa_required"
    default_message = "a second factor is required"


class PermissionDenied(ScelleError):
    code = "permission_denied"
    status = 403
    default_message = "permission denied"


class PasskeyRequired(PermissionDenied):
    code = "passkey_required"
    default_message = "your role requires a passkey: log in with it, or register one"


class ReauthenticationRequired(PermissionDenied):
    code = "reauthentication_required"
    default_message = "log in again, or give your password and a second factor, to do this"


class NotFound(ScelleError):
    code = "not_found"
    status = 404
    default_message = "not found"


class Conflict(ScelleError):
    code = "conflict"
    status = 409
    default_message = "conflict with the current state"


class UploadOffsetMismatch(Conflict):
    code = "upload_offset_mismatch"
    default_message = "Upload-Offset does not match the current offset"


class KeyRevoked(Conflict):
    code = "key_revoked"
    default_message = "this key was revoked; resolve the recipients again"


class Gone(ScelleError):
    code = "gone"
    status = 410
    default_message = "this transfer has expired or was deleted"


class PreconditionFailed(ScelleError):
    code = "precondition_failed"
    status = 412
    default_message = "precondition failed"


class PayloadTooLarge(ScelleError):
    code = "payload_too_large"
    status = 413
    default_message = "the upload is larger than allowed"


class UnsupportedMediaType(ScelleError):
    code = "unsupported_media_type"
    status = 415
    default_message = "unsupported content type"


class RangeNotSatisfiable(ScelleError):
    code = "range_not_satisfiable"
    status = 416
    default_message = "the requested range is not satisfiable"


class ChecksumMismatch(ScelleError):
    code = "checksum_mismatch"
    status = 460
    default_message = "the chunk does not match its Upload-Checksum"


class TooManyRequests(ScelleError):
    code = "too_many_requests"
    status = 429
    default_message = "too many requests; try again later"

    def __init__(
        self, message: str | None = None, *, retry_after: int = 60, limit: str = "other"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit  # which rule refused: the label of scelle_throttles_total


class InsufficientStorage(ScelleError):
    code = "insufficient_storage"
    status = 507
    default_message = "the server is out of storage space"


class ServiceUnavailable(ScelleError):
    code = "service_unavailable"
    status = 503
    default_message = "the service is temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuditLogInconsistent(ScelleError):
    """The stored audit tree does not extend the last signed checkpoint: nothing is signed."""

    code = "audit_inconsistent"
    status = 500
    default_message = "the audit log is not consistent with its last checkpoint"


class BackupInvalid(ScelleError):
    """A backup is incomplete, damaged or not what it claims; or its target is not empty."""

    code = "backup_invalid"
    status = 500
    default_message = "the backup cannot be used"


class ClientError(ScelleError):
    """Raised on the client side; never sent by the server."""

    code = "client_error"
    status = 0
    default_message = "client error"


class ServerError(ClientError):
    """The server answered with an error document (or something unexpected)."""

    code = "server_error"

    def __init__(self, message: str, *, http_status: int, remote_code: str = "") -> None:
        super().__init__(message)
        self.http_status = http_status
        self.remote_code = remote_code


class KeyChanged(ClientError):
    code = "key_changed"
    default_message = "a correspondent's key changed"


class KeyRotated(KeyChanged):
    """The key changed to one the pinned key signed for: accept it with ``scelle keys accept``."""

    code = "key_rotated"
    default_message = "a correspondent rotated their key"


class SignatureInvalid(ClientError):
    code = "signature_invalid"
    default_message = "the sender's signature does not verify; nothing was decrypted"


class DecryptionFailed(ClientError):
    code = "decryption_failed"
    default_message = (
        "decryption failed: the file is damaged, was tampered with, or is not for this identity"
    )


class AuditProofInvalid(ClientError):
    code = "audit_proof_invalid"
    default_message = "the audit log's answer does not verify"


class LocalStateError(ClientError):
    code = "local_state"
    default_message = "local state is missing or unreadable"
