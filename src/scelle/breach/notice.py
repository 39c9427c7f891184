"""The draft notice to the supervisory authority (GDPR art. 33(3)), from an assessment.

Art. 33(3) asks for: (a) the nature of the breach, the categories and
approximate number of data subjects and of records; (b) the DPO's contact;
(c) the likely consequences; (d) the measures taken or proposed. Art. 34(3)(a)
spares the letters to people when the data was unintelligible to whoever got
it (encrypted, key not compromised). The draft is a starting point for the
DPO, not a filed notice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KIND_LABELS", "render_markdown"]

KIND_LABELS = {
    "nir": "social-security numbers (NIR)",
    "ins": "national health identifiers (INS)",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "birth_date": "dates of birth",
    "name": "names",
    "health_text": "health data (free-text clinical comments)",
}

_NATURE = {
    "server": "a compromise of the Scellé server (database, blob store or configuration)",
    "account": "the take-over of the account {account} (password and second factor), "
    "without its device keys",
    "key": "the compromise of the device keys of {account} (its private decryption key)",
}

_EXPOSURE = {
    "ciphertext_only": "Only ciphertext was exposed: every file is encrypted on the sender's "
    "device (age, X25519) for its recipients' keys, which never reach the server. The "
    "subject index holds keyed pseudonyms only (HMAC-SHA256 under each sending "
    "organisation's key, which the server does not hold).",
    "none": "The attacker could download ciphertext with the account, but could not decrypt "
    "it: the private keys stay on the user's device, encrypted under a passphrase.",
    "yes": "The plaintext of the listed transfers must be considered read: the recipient's "
    "private key was compromised.",
}


def render_markdown(report: dict[str, Any]) -> str:
    """The draft notice and the assessment summary, in Markdown."""
    totals = report["totals"]
    kinds = totals.get("kinds", {})
    categories = [f"{KIND_LABELS.get(k, k)}: {n}" for k, n in sorted(kinds.items()) if n] or [
        "no identifier declared by the senders' scans"
    ]
    nature = _NATURE[report["scope"]].format(account=report.get("account") or "?")
    exempt = report["art_34_3_a"]
    lines = [
        f"# Personal data breach: assessment {report['id']}",
        "",
        f"- Breach window: {report['window']['from']} to {report['window']['to']}",
        f"- Awareness: {report['aware_at']}",
        f"- **Notify the supervisory authority by: {report['notify_by']}** (72 hours, art. 33(1))",
        f"- Scope: {report['scope']}"
        + (f" (account {report['account']})" if report.get("account") else ""),
        f"- Plaintext could have been read: **{report['plaintext_exposed']}**",
        "",
        "## Draft notice to the supervisory authority (GDPR art. 33(3))",
        "",
        "### (a) Nature of the breach",
        f"The breach is {nature}. {_EXPOSURE[report['plaintext_exposed']]}",
        "",
        f"Transfers concerned: {totals['transfers']}, from {len(report['organisations'])} "
        "sending organisation(s).",
        f"Approximate number of data subjects concerned: {totals['subjects']} (distinct people "
        "in the senders' subject index; a person sent by two organisations counts twice).",
        f"Approximate number of personal data records concerned: {totals['records']}.",
        "Categories of personal data:",
        *[f"- {item}" for item in categories],
        "",
        "### (b) Contact point",
        "Data protection officer: "
        + (report.get("dpo_contact") or "[name, e-mail, phone of the DPO]"),
        "",
        "### (c) Likely consequences",
    ]
    if report["plaintext_exposed"] == "yes":
        lines.append(
            "Disclosure of identity, social-security number and health information of the "
            "people listed; risk of discrimination, fraud, identity theft and phishing "
            "using the disclosed details."
        )
    else:
        lines.append(
            "No disclosure of the content is expected: the data exposed is unintelligible "
            "without keys that were not compromised. Residual risk: the fact that transfers "
            "took place between the organisations listed, their sizes and dates."
        )
    lines += [
        "",
        "### (d) Measures taken or proposed",
        "- Access revoked: `scelle admin lockdown` (every API token, pending enrolment and "
        "unfinished upload), credentials and keys of the accounts concerned renewed.",
        "- The exposed transfers and their sending organisations identified from the audit "
        "log and the subject index (this assessment).",
        "- The sending organisations informed, with the pseudonyms of their data subjects "
        "concerned, so they can write to them (`scelle breach letters`).",
        "",
        "## Communication to the data subjects (art. 34)",
    ]
    if exempt:
        lines.append(
            "Art. 34(3)(a) applies: the personal data was unintelligible to any person not "
            "authorised to access it (end-to-end encryption, keys not compromised). A "
            "communication to each person is not required; the controllers may still choose it."
        )
    else:
        lines.append(
            "Art. 34(3)(a) does not apply: the data must be considered readable. The sending "
            "organisations must inform the people concerned without undue delay."
        )
    lines += [
        "",
        "## Transfers",
        "",
        "| transfer | sender org | records | subjects |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t['id']} | {t['sender_org']} | {t['records']} | {t['subjects']} |"
        for t in report["transfers"]
    ]
    return "\n".join(lines) + "\n"
