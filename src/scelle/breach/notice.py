"""The draft notice to the supervisory authority (GDPR art. 33(3)), from an assessment.

Art. 33(3) asks for: (a) the nature of the breach, the categories and
approximate number of data subjects and of records; (b) the DPO's contact;
(c) the likely consequences; (d) the measures taken or proposed. Art. 34(3)(a)
spares the letters to people when the data was unintelligible to whoever got
it (encrypted, key not compromised). The draft is a starting point for the
DPO, not a filed notice. English (the register's copy) or French (``lang="fr"``,
the language of the CNIL's form, and the default of the PDF).
"""

from __future__ import annotations

from typing import Any

__all__ = ["KIND_LABELS", "KIND_LABELS_FR", "render_markdown"]

KIND_LABELS = {
    "nir": "social-security numbers (NIR)",
    "ins": "national health identifiers (INS)",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "birth_date": "dates of birth",
    "name": "names",
    "health_text": "health data (free-text clinical comments)",
}

KIND_LABELS_FR = {
    "nir": "numéros de sécurité sociale (NIR)",
    "ins": "identifiants nationaux de santé (INS)",
    "phone": "numéros de téléphone",
    "email": "adresses électroniques",
    "birth_date": "dates de naissance",
    "name": "noms et prénoms",
    "health_text": "données de santé (commentaires cliniques en texte libre)",
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


_NATURE_FR = {
    "server": "une compromission du serveur Scellé (base de données, stockage des fichiers "
    "ou configuration)",
    "account": "la prise de contrôle du compte {account} (mot de passe et second facteur), "
    "sans ses clés d'appareil",
    "key": "la compromission des clés d'appareil de {account} (sa clé privée de déchiffrement)",
}

_EXPOSURE_FR = {
    "ciphertext_only": "Seules des données chiffrées ont été exposées : chaque fichier est "
    "chiffré sur l'appareil de l'expéditeur (age, X25519) pour les clés de ses destinataires, "
    "qui n'atteignent jamais le serveur. L'index des personnes ne contient que des pseudonymes "
    "(HMAC-SHA256 sous la clé de chaque organisme expéditeur, que le serveur ne détient pas).",
    "none": "L'attaquant a pu télécharger des données chiffrées avec le compte, sans pouvoir "
    "les déchiffrer : les clés privées restent sur l'appareil de l'utilisateur, chiffrées "
    "par une phrase de passe.",
    "yes": "Le contenu des transferts listés doit être considéré comme lu : la clé privée du "
    "destinataire a été compromise.",
}


def render_markdown(report: dict[str, Any], lang: str = "en") -> str:
    """The draft notice and the assessment summary, in Markdown (``lang``: en or fr)."""
    if lang == "fr":
        return _render_french(report)
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


def _render_french(report: dict[str, Any]) -> str:
    totals = report["totals"]
    kinds = totals.get("kinds", {})
    categories = [f"{KIND_LABELS_FR.get(k, k)} : {n}" for k, n in sorted(kinds.items()) if n] or [
        "aucun identifiant déclaré par les analyses des expéditeurs"
    ]
    nature = _NATURE_FR[report["scope"]].format(account=report.get("account") or "?")
    readable = report["plaintext_exposed"] == "yes"
    exposed = {"ciphertext_only": "non (données chiffrées seulement)", "none": "non",
               "yes": "oui"}[report["plaintext_exposed"]]  # fmt: skip
    lines = [
        f"# Violation de données personnelles : évaluation {report['id']}",
        "",
        f"- Période de la violation : du {report['window']['from']} au {report['window']['to']}",
        f"- Prise de connaissance : {report['aware_at']}",
        f"- **Notifier l'autorité de contrôle avant le : {report['notify_by']}** "
        "(72 heures, art. 33(1))",
        f"- Périmètre : {report['scope']}"
        + (f" (compte {report['account']})" if report.get("account") else ""),
        f"- Le contenu a-t-il pu être lu : **{exposed}**",
        "",
        "## Projet de notification à l'autorité de contrôle (RGPD art. 33(3))",
        "",
        "### (a) Nature de la violation",
        f"La violation est {nature}. {_EXPOSURE_FR[report['plaintext_exposed']]}",
        "",
        f"Transferts concernés : {totals['transfers']}, de {len(report['organisations'])} "
        "organisme(s) expéditeur(s).",
        f"Nombre approximatif de personnes concernées : {totals['subjects']} (personnes "
        "distinctes de l'index des expéditeurs ; une personne envoyée par deux organismes "
        "compte deux fois).",
        f"Nombre approximatif d'enregistrements concernés : {totals['records']}.",
        "Catégories de données personnelles :",
        *[f"- {item}" for item in categories],
        "",
        "### (b) Point de contact",
        "Délégué à la protection des données : "
        + (report.get("dpo_contact") or "[nom, courriel, téléphone du DPO]"),
        "",
        "### (c) Conséquences probables",
        "Divulgation de l'identité, du numéro de sécurité sociale et d'informations de santé "
        "des personnes concernées ; risques de discrimination, de fraude, d'usurpation "
        "d'identité et d'hameçonnage utilisant ces informations."
        if readable
        else "Aucune divulgation du contenu n'est attendue : les données exposées sont "
        "inintelligibles sans des clés qui n'ont pas été compromises. Risque résiduel : le fait "
        "que des transferts ont eu lieu entre les organismes listés, leur taille et leur date.",
        "",
        "### (d) Mesures prises ou envisagées",
        "- Accès révoqués : `scelle admin lockdown` (tous les jetons d'API, inscriptions en "
        "attente et envois inachevés), identifiants et clés des comptes concernés renouvelés.",
        "- Transferts exposés et organismes expéditeurs identifiés à partir du journal d'audit "
        "et de l'index des personnes (la présente évaluation).",
        "- Organismes expéditeurs informés, avec les pseudonymes de leurs personnes concernées, "
        "afin qu'ils leur écrivent (`scelle breach letters`).",
        "",
        "## Communication aux personnes concernées (art. 34)",
        "L'art. 34(3)(a) ne s'applique pas : les données doivent être considérées comme "
        "lisibles. Les organismes expéditeurs doivent informer les personnes concernées dans "
        "les meilleurs délais."
        if readable
        else "L'art. 34(3)(a) s'applique : les données étaient incompréhensibles pour toute "
        "personne non autorisée à y accéder (chiffrement de bout en bout, clés non "
        "compromises). Une communication à chaque personne n'est pas exigée ; les responsables "
        "de traitement peuvent néanmoins la faire.",
        "",
        "## Transferts",
        "",
        "| transfert | organisme expéditeur | enregistrements | personnes |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t['id']} | {t['sender_org']} | {t['records']} | {t['subjects']} |"
        for t in report["transfers"]
    ]
    return "\n".join(lines) + "\n"
