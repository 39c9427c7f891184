"""E-mail notifications: a small ``Mailer`` protocol, an SMTP mailer and a log mailer.

Messages carry no health data, no file names and no link with a secret in
it, and each says, in French and English, that Scellé never asks for
passwords or bank details. Without ``SCELLE_SMTP_HOST`` the log mailer
records that a message would have been sent (kind, masked recipient,
subject), never its body.
"""

from scelle.notifications.mailer import (
    LogMailer,
    Mailer,
    Message,
    SMTPMailer,
    deliver,
    mailer_for,
)

__all__ = ["LogMailer", "Mailer", "Message", "SMTPMailer", "deliver", "mailer_for"]
