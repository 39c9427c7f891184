"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scelle.keys.schemas import KeyOut
from scelle.transfers.schemas import PolicyRule, ScanKind

__all__ = [
    "CeremonyOut",
    "CreateMemberRequest",
    "CreateOrganisationRequest",
    "CreateTokenRequest",
    "CreatedMember",
    "CreatedOrganisationOut",
    "CreatedToken",
    "EnrolRequest",
    "EnrolResponse",
    "LoginRequest",
    "LoginResponse",
    "Me",
    "MemberList",
    "MemberOut",
    "MemberStatus",
    "OrgPolicyOut",
    "OrganisationList",
    "OrganisationOut",
    "PasskeyFinish",
    "PasskeyList",
    "PasskeyLoginBegin",
    "PasskeyLoginFinish",
    "PasskeyOut",
    "PasskeyPolicyRequest",
    "PasskeysReset",
    "Reauthentication",
    "RoleName",
    "SendPolicyRequest",
    "SessionOut",
    "SetRolesRequest",
    "TokenList",
    "TokenOut",
    "UserOut",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(_Strict):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class EnrolResponse(BaseModel):
    user_id: str
    email: str
    org: str
    totp_secret: str
    totp_uri: str
    recovery_codes: list[str]


class LoginRequest(_Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    otp: str = Field(min_length=1, max_length=64)
    name: str = Field(default="cli", max_length=64, pattern=r"^[\w .@-]*$")


class UserOut(BaseModel):
    id: str
    email: str
    org: str
    roles: list[str]


class LoginResponse(BaseModel):
    token: str
    token_id: str
    expires_at: datetime
    user: UserOut


class Me(UserOut):
    scopes: list[str]
    key: KeyOut | None


class CreateTokenRequest(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[\w .@-]+$")
    scopes: list[Literal["send", "receive", "admin"]] = Field(min_length=1, max_length=3)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedToken(TokenOut):
    token: str  # shown once


class TokenList(BaseModel):
    tokens: list[TokenOut]


class SessionOut(BaseModel):
    csrf_token: str  # send back as X-CSRF-Token on every state-changing request
    user: UserOut


class Reauthentication(_Strict):
    """Optional fresh proof for a passkey change: the password and a TOTP or recovery code."""

    password: str | None = Field(default=None, min_length=1, max_length=1024)
    otp: str | None = Field(default=None, min_length=1, max_length=64)


class CeremonyOut(BaseModel):
    challenge_id: str  # send it back with the authenticator's answer
    # PublicKeyCredentialCreationOptions / RequestOptions as JSON (binary fields base64url).
    options: dict[str, Any]
    expires_at: datetime


class PasskeyFinish(_Strict):
    challenge_id: str = Field(min_length=1, max_length=200)
    # navigator.credentials.create()'s PublicKeyCredential as JSON (toJSON(), base64url).
    credential: dict[str, Any]
    name: str = Field(default="passkey", min_length=1, max_length=64)


class PasskeyLoginBegin(_Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class PasskeyLoginFinish(_Strict):
    challenge_id: str = Field(min_length=1, max_length=200)
    # navigator.credentials.get()'s PublicKeyCredential as JSON (toJSON(), base64url).
    credential: dict[str, Any]
    name: str = Field(default="cli", max_length=64, pattern=r"^[\w .@-]*$")


class PasskeyOut(BaseModel):
    id: str
    name: str
    credential_id: str  # base64url
    transports: list[str]
    created_at: datetime
    last_used_at: datetime | None


class PasskeyList(BaseModel):
    passkeys: list[PasskeyOut]


class MemberStatus(BaseModel):
    id: str
    email: str
    status: str  # active, pending or disabled


# -- an organisation admin's API (/api/v1/admin/...) ---------------------------------------

RoleName = Literal["sender", "recipient", "admin"]


class MemberOut(BaseModel):
    id: str
    email: str
    roles: list[RoleName]
    status: Literal["active", "pending", "disabled"]
    created_at: datetime
    enrolled_at: datetime | None
    enrolment_expires_at: datetime | None  # while pending
    passkeys: int  # how many passkeys they hold
    key_published: bool  # whether they have a live public key (others can send to them)


class MemberList(BaseModel):
    org: str
    members: list[MemberOut]


class CreateMemberRequest(Reauthentication):
    """A new member; ``password`` and ``otp`` only when the admin's login is not recent."""

    email: str = Field(min_length=1, max_length=254)
    roles: list[RoleName] = Field(min_length=1, max_length=3)


class CreatedMember(BaseModel):
    member: MemberOut
    # Shown once: only its keyed hash is stored. Give it over a trusted channel.
    enrolment_token: str
    enrolment_expires_at: datetime
    # <public URL>/enrol#token=<token>: the token in the fragment, never sent to a server.
    enrolment_url: str


class SetRolesRequest(Reauthentication):
    roles: list[RoleName] = Field(min_length=1, max_length=3)


class PasskeysReset(BaseModel):
    id: str
    removed: int


class OrgPolicyOut(BaseModel):
    org: str
    rules: dict[ScanKind, PolicyRule]  # every identifier kind, "allow" included
    passkey_roles: list[RoleName]  # roles whose members must log in with a passkey


class SendPolicyRequest(Reauthentication):
    """The whole send policy: a kind not named is allowed."""

    rules: dict[ScanKind, PolicyRule]


class PasskeyPolicyRequest(Reauthentication):
    """The roles that must log in with a passkey (replacing the previous ones; empty: none)."""

    roles: list[RoleName] = Field(max_length=3)


class OrganisationOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    members: int
    active: int
    pending: int
    disabled: int
    passkey_roles: list[str] = Field(description="roles whose members must log in with a passkey")


class OrganisationList(BaseModel):
    organisations: list[OrganisationOut]


class CreateOrganisationRequest(_Strict):
    name: str = Field(min_length=1, max_length=64, description="a slug such as cpam-75")
    admin_email: str | None = Field(
        default=None, max_length=254, description="its first admin, who gets an enrolment link"
    )


class CreatedOrganisationOut(BaseModel):
    organisation: OrganisationOut
    admin_email: str | None
    enrolment_url: str | None = Field(
        description="<public URL>/enrol#token=...: shown once; give it over a trusted channel"
    )
    enrolment_expires_at: datetime | None
