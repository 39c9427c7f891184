"""The texts of the notification e-mails, in French and English.

Rules every message follows (tested): no health data, no file name, no
transfer content, no link (so no link with a secret), and the warning that
Scellé never asks for passwords or bank details.
"""

from __future__ import annotations

from datetime import datetime

from scelle.notifications.mailer import Message

__all__ = ["WARNING_EN", "WARNING_FR", "exfiltration_alert", "new_device_login"]

WARNING_FR = (
    "Scellé ne vous demandera jamais votre mot de passe ni vos coordonnées bancaires, "
    "ni par e-mail, ni par téléphone. Ce message ne contient aucun lien : ouvrez Scellé "
    "comme d'habitude."
)
WARNING_EN = (
    "Scellé will never ask for your password or your bank details, by e-mail or by phone. "
    "This message contains no link: open Scellé as you usually do."
)

_KINDS_FR = {
    "download": "téléchargements",
    "listing": "consultations de la liste des transferts",
    "lookup_failure": "recherches d'identifiants de transfert inconnus",
}
_KINDS_EN = {
    "download": "downloads",
    "listing": "listings of transfers",
    "lookup_failure": "lookups of unknown transfer ids",
}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _printable(text: str, limit: int = 80) -> str:
    return "".join(c for c in text if c.isprintable())[:limit]


def _footer() -> str:
    return f"\n-- \n{WARNING_FR}\n\n{WARNING_EN}\n"


def exfiltration_alert(
    *,
    to: str,
    account_email: str,
    kind: str,
    count: int,
    window_minutes: int,
    detected_at: datetime,
    until: datetime,
) -> Message:
    """To an organisation admin: an account read unusually much and is throttled."""
    body = (
        f"[FR] Le compte {account_email} de votre organisation a dépassé le seuil de"
        f" {_KINDS_FR.get(kind, kind)} : {count} en {window_minutes} minutes"
        f" (détecté le {_stamp(detected_at)}). Ses accès aux transferts sont suspendus"
        f" jusqu'au {_stamp(until)}. Si ce n'est pas une activité attendue, désactivez le"
        " compte et consultez le journal d'audit (événement account:exfiltration:detected).\n\n"
        f"[EN] The account {account_email} in your organisation crossed the threshold of"
        f" {_KINDS_EN.get(kind, kind)}: {count} in {window_minutes} minutes"
        f" (detected {_stamp(detected_at)}). Its access to transfers is throttled until"
        f" {_stamp(until)}. If this is not expected activity, disable the account and review"
        " the audit log (event account:exfiltration:detected).\n"
    )
    return Message(
        to=to,
        subject="Scellé : activité inhabituelle / unusual activity",
        body=body + _footer(),
        kind="exfiltration_alert",
    )


def new_device_login(*, to: str, at: datetime, device: str, network: str, method: str) -> Message:
    """To a user: their account was just used from a device not seen before."""
    device = _printable(device) or "?"
    body = (
        f"[FR] Une connexion à votre compte Scellé a eu lieu le {_stamp(at)} depuis un"
        f" appareil inconnu ({device}, réseau {network}, méthode {method}). Si c'était"
        " vous, il n'y a rien à faire. Sinon, changez votre mot de passe et prévenez"
        " l'administrateur de votre organisation.\n\n"
        f"[EN] Your Scellé account was signed in on {_stamp(at)} from a new device"
        f" ({device}, network {network}, method {method}). If this was you, there is"
        " nothing to do. If not, change your password and tell your organisation's"
        " administrator.\n"
    )
    return Message(
        to=to,
        subject="Scellé : connexion depuis un nouvel appareil / new device sign-in",
        body=body + _footer(),
        kind="new_device_login",
    )
