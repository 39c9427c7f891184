"""The web UI's words, in French (the default) and English.

Pages pick the language from ``?lang=`` (remembered in a cookie), then the
cookie, then ``Accept-Language``; French otherwise. Keys starting with a
``js.`` prefix are handed to the browser bundle (errors, progress stages).
"""

from __future__ import annotations

__all__ = ["DEFAULT", "LANGUAGES", "MESSAGES", "browser_messages", "negotiate", "translator"]

from collections.abc import Callable

DEFAULT = "fr"
LANGUAGES = ("fr", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "app.tagline": "Échange de fichiers de santé chiffrés de bout en bout",
        "skip": "Aller au contenu",
        "nav.label": "Navigation principale",
        "nav.inbox": "Reçus",
        "nav.sent": "Envoyés",
        "nav.send": "Envoyer",
        "nav.identity": "Ma clé",
        "nav.logout": "Se déconnecter",
        "lang.label": "Langue",
        "lang.other": "English",
        "bundle.missing": (
            "Le programme du navigateur n'est pas construit (lancez scripts/setup.sh) : "
            "le chiffrement dans le navigateur est indisponible."
        ),
        "login.title": "Connexion",
        "login.intro": (
            "Connectez-vous avec votre mot de passe et un second facteur. "
            "Vos fichiers sont déchiffrés dans ce navigateur, jamais sur le serveur."
        ),
        "login.email": "Adresse e-mail",
        "login.password": "Mot de passe",
        "login.otp": "Code à usage unique (application TOTP) ou code de secours",
        "login.otp_hint": "6 chiffres, ou un code de secours reçu à l'inscription.",
        "login.submit": "Se connecter",
        "login.passkey_submit": "Se connecter avec une clé d'accès",
        "login.passkey_hint": (
            "Avec une clé d'accès (passkey) : adresse et mot de passe, sans code, puis "
            "confirmation sur votre appareil."
        ),
        "login.enrol_title": "Votre rôle exige une clé d'accès",
        "login.enrol_intro": (
            "Votre organisation exige une clé d'accès (passkey) pour votre rôle : le code à "
            "usage unique ne suffit plus. Enregistrez-en une sur cet appareil, puis "
            "connectez-vous avec elle."
        ),
        "login.enrol_submit": "Enregistrer une clé d'accès sur cet appareil",
        "login.sso_title": "Connexion unique (SSO)",
        "login.sso_submit": "Se connecter avec {provider}",
        "sso.title": "Connexion réussie",
        "sso.signed_in": "Vous êtes connecté. Ouverture de vos fichiers reçus…",
        "sso.continue": "Continuer vers les fichiers reçus",
        "sso.refused": (
            "La connexion unique n'a pas pu être vérifiée. Recommencez depuis la page de "
            "connexion ; si cela se répète, contactez l'administrateur de votre organisation."
        ),
        "sso.off": "La connexion unique n'est pas configurée sur ce serveur.",
        "sso.unavailable": (
            "Le fournisseur d'identité ne répond pas pour le moment. Réessayez dans un instant."
        ),
        "sso.back": "Retour à la page de connexion",
        "error.throttled": "Trop de tentatives : réessayez plus tard.",
        "nav.passkeys": "Clés d'accès",
        "passkeys.title": "Mes clés d'accès",
        "passkeys.intro": (
            "Une clé d'accès (passkey) remplace le code à usage unique : après votre mot de "
            "passe, votre appareil confirme que c'est vous (empreinte, visage ou code de "
            "l'appareil). Le serveur n'en garde que la partie publique."
        ),
        "passkeys.required": (
            "Votre organisation exige une clé d'accès pour votre rôle : la dernière ne peut "
            "pas être supprimée."
        ),
        "passkeys.name": "Nom",
        "passkeys.created": "Ajoutée le",
        "passkeys.last_used": "Dernière utilisation",
        "passkeys.actions": "Action",
        "passkeys.never": "jamais",
        "passkeys.remove": "Supprimer",
        "passkeys.empty": "Aucune clé d'accès pour le moment.",
        "passkeys.add_title": "Ajouter une clé d'accès",
        "passkeys.new_name": "Nom de la clé (pour la reconnaître)",
        "passkeys.new_name_hint": (
            "Par exemple : ordinateur du cabinet (64 caractères au plus : lettres, chiffres, "
            "espaces, . @ ' ( ) -)."
        ),
        "passkeys.add": "Ajouter une clé d'accès",
        "reauth.title": "Confirmez que c'est vous",
        "reauth.intro": (
            "Votre connexion date de plus de 5 minutes : saisissez à nouveau votre mot de "
            "passe et un code pour modifier vos clés d'accès."
        ),
        "reauth.submit": "Confirmer",
        "reauth.cancel": "Annuler",
        "js.error.no_otp": (
            "Saisissez le code à usage unique, ou connectez-vous avec une clé d'accès."
        ),
        "js.error.no_password": "Saisissez votre adresse e-mail et votre mot de passe.",
        "js.error.passkey_unsupported": "Ce navigateur ne prend pas en charge les clés d'accès.",
        "js.error.passkey_cancelled": (
            "La clé d'accès n'a pas été utilisée (annulation, délai dépassé, ou aucune clé "
            "d'accès de ce compte sur cet appareil)."
        ),
        "js.error.no_passkey": (
            "Aucune clé d'accès n'est enregistrée pour ce compte : connectez-vous avec un "
            "code, puis ajoutez-en une."
        ),
        "js.error.passkey_required": (
            "Votre rôle exige une clé d'accès : connectez-vous avec elle."
        ),
        "js.error.passkey_exists": "Cette clé d'accès est déjà enregistrée.",
        "js.error.passkey_name": (
            "Le nom de la clé : 64 caractères au plus, lettres, chiffres, espaces ou . @ ' ( ) -"
        ),
        "js.error.last_passkey": (
            "C'est votre dernière clé d'accès et votre rôle en exige une : ajoutez-en une "
            "autre avant de la supprimer."
        ),
        "js.error.reauth_passkey": (
            "Votre rôle exige une clé d'accès : reconnectez-vous avec elle pour modifier vos clés."
        ),
        "js.status.confirm_device": "Confirmez sur votre appareil…",
        "js.status.enrolled": "Clé d'accès enregistrée. Connectez-vous maintenant avec elle.",
        "js.status.passkey_added": "Clé d'accès ajoutée.",
        "js.status.passkey_removed": "Clé d'accès supprimée.",
        "js.status.reauth": "Confirmez que c'est vous pour continuer.",
        "js.keys.same": "Identique à l'annuaire",
        "js.keys.changed": "A changé ! Clé actuelle de l'annuaire : {fingerprint}",
        "js.keys.absent": "Absente de l'annuaire (compte désactivé ou clé révoquée)",
        "js.keys.unchecked": "Non comparée (annuaire réservé aux comptes qui envoient)",
        "js.keys.forget": "Oublier",
        "js.keys.forget_label": "Oublier la clé de {email}",
        "js.keys.compare": "Comparer",
        "js.keys.compare_label": "Comparer la clé de {email}",
        "js.keys.forgotten": (
            "Clé de {email} oubliée : la prochaine sera retenue à sa première utilisation."
        ),
        "js.keys.pinned_now": "Clé de {email} retenue.",
        "js.keys.not_found": "Aucune personne avec une clé publiée à cette adresse.",
        "js.keys.compare_same": "C'est la clé que ce navigateur a retenue.",
        "js.keys.compare_new": "Ce navigateur n'a pas encore retenu de clé pour cette personne.",
        "js.keys.compare_changed": (
            "Attention : ce n'est pas la clé retenue ({fingerprint}). Ne la retenez qu'après "
            "l'avoir vérifiée avec la personne."
        ),
        "js.error.compare_unchecked": (
            "Cochez la case seulement après avoir comparé l'empreinte avec la personne."
        ),
        "js.error.token_missing": "Saisissez le code d'inscription.",
        "js.error.password_mismatch": "Les deux mots de passe diffèrent.",
        "js.error.password_short": "Le mot de passe doit faire au moins 12 caractères.",
        "js.error.enrol_token": (
            "Ce code d'inscription est invalide, déjà utilisé ou expiré : demandez-en un "
            "nouveau à votre administrateur."
        ),
        "js.error.codes_unsaved": "Confirmez que vous avez conservé vos codes de secours.",
        "js.error.otp_missing": "Saisissez le code à 6 chiffres de l'application.",
        "js.error.otp_wrong": (
            "Ce code n'est pas le bon : vérifiez l'heure de l'appareil et saisissez le code "
            "suivant."
        ),
        "js.error.recovery_key": "Cette clé de secours n'ouvre pas votre clé.",
        "js.error.no_recovery": (
            "Aucune copie de secours n'est enregistrée pour cette clé : sans la phrase "
            "secrète, créez une nouvelle clé (les fichiers déjà reçus resteront illisibles)."
        ),
        "js.error.recovery_unsaved": "Confirmez que vous avez conservé votre clé de secours.",
        "js.status.password_set": (
            "Mot de passe enregistré. Configurez maintenant votre second facteur."
        ),
        "js.status.recovered": (
            "Clé rouverte et phrase secrète changée. Voici votre nouvelle clé de secours."
        ),
        "js.file.recovery_codes": (
            "Codes de secours Scellé de {email} : chacun permet une connexion, une seule fois."
        ),
        "js.file.recovery_key": (
            "Clé de secours Scellé de {email} : elle ouvre votre clé de chiffrement. "
            "Gardez-la hors ligne."
        ),
        "identity.title": "Ma clé de chiffrement",
        "identity.unlock_intro": (
            "Votre clé privée est conservée sur le serveur chiffrée par votre phrase secrète, "
            "que le serveur ne connaît pas. Saisissez-la pour l'ouvrir dans ce navigateur."
        ),
        "identity.create_intro": (
            "Aucune clé de navigateur n'existe encore pour ce compte. Choisissez une phrase "
            "secrète : la clé est créée ici, et le serveur n'en garde que deux copies "
            "chiffrées, l'une par cette phrase, l'autre par une clé de secours affichée une "
            "seule fois. Sans l'une ou l'autre, personne (pas même l'opérateur) ne peut la "
            "rouvrir."
        ),
        "identity.replace_warning": (
            "Ce compte a déjà une clé publiée (créée avec la ligne de commande). En créer une "
            "ici la remplace : vos correspondants verront un changement de clé."
        ),
        "identity.passphrase": "Phrase secrète",
        "identity.passphrase_hint": (
            "Au moins 12 caractères ; plusieurs mots au hasard conviennent."
        ),
        "identity.confirmation": "Confirmez la phrase secrète",
        "identity.unlock": "Ouvrir ma clé",
        "identity.create": "Créer ma clé",
        "identity.fingerprint": "Empreinte de ma clé publiée",
        "identity.none": "aucune",
        "identity.forgot": "Phrase secrète oubliée ? Utiliser ma clé de secours",
        "identity.recover_title": "Rouvrir ma clé avec la clé de secours",
        "identity.recover_intro": (
            "Collez votre clé de secours (elle commence par AGE-SECRET-KEY-1) et choisissez "
            "une nouvelle phrase secrète. Une nouvelle clé de secours vous sera remise ; "
            "l'ancienne ne servira plus."
        ),
        "identity.recover_submit": "Rouvrir et changer de phrase secrète",
        "identity.new_passphrase": "Nouvelle phrase secrète",
        "identity.new_confirmation": "Confirmez la nouvelle phrase secrète",
        "identity.recovery_title": "Votre clé de secours (affichée une seule fois)",
        "identity.recovery_intro": (
            "Si vous oubliez votre phrase secrète, cette clé seule permet de rouvrir votre clé "
            "de chiffrement, donc vos fichiers reçus. Le serveur ne la connaît pas et ne pourra "
            "pas vous la redonner : téléchargez-la ou recopiez-la, et gardez-la hors ligne."
        ),
        "identity.recovery_key": "Clé de secours",
        "identity.recovery_download": "Télécharger la clé de secours",
        "identity.recovery_saved": "J'ai conservé ma clé de secours",
        "identity.recovery_continue": "Continuer",
        "nav.keys": "Correspondants",
        "keys.title": "Clés de mes correspondants",
        "keys.intro": (
            "Ce navigateur retient la clé de chaque personne dont vous avez reçu un fichier ou "
            "à qui vous avez envoyé (première utilisation) ; une clé qui change ensuite est "
            "refusée tant que vous ne l'avez pas vérifiée. Comparez les empreintes avec celles "
            "que vos correspondants vous lisent par un autre canal (téléphone, en personne)."
        ),
        "keys.pins_caption": "Clés retenues par ce navigateur",
        "keys.person": "Personne",
        "keys.pinned": "Empreinte retenue",
        "keys.status": "Annuaire",
        "keys.actions": "Action",
        "keys.empty": "Aucune clé retenue pour le moment dans ce navigateur.",
        "keys.compare_title": "Comparer une empreinte",
        "keys.compare_intro": (
            "Cherchez une personne dans l'annuaire : son empreinte actuelle s'affiche, à "
            "comparer avec celle qu'elle vous lit. Retenez-la ensuite, si elles sont identiques."
        ),
        "keys.compare_email": "Adresse e-mail de la personne",
        "keys.compare_submit": "Afficher son empreinte",
        "keys.directory_key": "Clé publiée dans l'annuaire pour",
        "keys.compare_checked": (
            "J'ai comparé cette empreinte avec celle que la personne m'a donnée : identiques"
        ),
        "keys.pin": "Retenir cette clé",
        "keys.no_lookup": (
            "La recherche dans l'annuaire est réservée aux comptes qui envoient : comparez "
            "l'empreinte affichée sur la page de chaque transfert reçu."
        ),
        "enrol.title": "Inscription",
        "enrol.intro": (
            "Votre administrateur vous a remis un lien ou un code d'inscription, valable une "
            "seule fois. Choisissez votre mot de passe ; vous configurerez ensuite votre "
            "second facteur, puis votre clé de chiffrement."
        ),
        "enrol.token": "Code d'inscription",
        "enrol.token_hint": (
            "Il figure dans le lien reçu de votre administrateur ; il est rempli tout seul si "
            "vous avez ouvert ce lien."
        ),
        "enrol.password": "Mot de passe",
        "enrol.password_hint": "Au moins 12 caractères ; plusieurs mots au hasard conviennent.",
        "enrol.confirmation": "Confirmez le mot de passe",
        "enrol.submit": "Continuer",
        "enrol.account": "Compte",
        "enrol.totp_title": "1. Votre application d'authentification",
        "enrol.totp_intro": (
            "Scannez ce code QR avec votre application TOTP (FreeOTP, Aegis, Google "
            "Authenticator…) ou saisissez-y la clé ci-dessous."
        ),
        "enrol.totp_qr": "Code QR de la clé TOTP, pour l'application d'authentification",
        "enrol.totp_secret": "Clé à saisir dans l'application",
        "enrol.codes_title": "2. Vos codes de secours (affichés une seule fois)",
        "enrol.codes_intro": (
            "Chaque code permet une connexion si vous perdez l'appareil de l'application. "
            "Conservez-les hors ligne (imprimés, ou dans un coffre de mots de passe) : ils ne "
            "seront plus affichés."
        ),
        "enrol.codes_download": "Télécharger les codes",
        "enrol.codes_saved": "J'ai conservé mes codes de secours",
        "enrol.otp": "3. Code à 6 chiffres affiché par l'application",
        "enrol.otp_hint": "Il prouve que l'application est prête, et ouvre votre première session.",
        "enrol.confirm": "Valider et me connecter",
        "enrol.passkey_title": "Une clé d'accès sur cet appareil",
        "enrol.passkey_optional": (
            "Recommandé : une clé d'accès (passkey) remplace le code à 6 chiffres par une "
            "confirmation sur votre appareil, et résiste à l'hameçonnage."
        ),
        "enrol.passkey_required": (
            "Votre organisation exige une clé d'accès pour votre rôle : enregistrez-en une sur "
            "cet appareil pour terminer."
        ),
        "enrol.passkey_submit": "Enregistrer une clé d'accès",
        "enrol.passkey_later": "Plus tard",
        "enrol.have_account": "Déjà inscrit ?",
        "enrol.to_login": "Se connecter",
        "login.first_time": "Première connexion ?",
        "login.to_enrol": "S'inscrire avec le code reçu",
        "inbox.title": "Fichiers reçus",
        "inbox.empty": "Aucun fichier reçu pour le moment.",
        "sent.title": "Fichiers envoyés",
        "sent.empty": "Aucun envoi pour le moment.",
        "sent.patient_link": "lien patient (phrase secrète) :",
        "col.transfer": "Transfert",
        "col.name": "Nom (déchiffré ici)",
        "col.sender": "Expéditeur",
        "col.recipients": "Destinataires",
        "col.size": "Taille chiffrée",
        "col.expires": "Expire le",
        "col.downloads": "Téléchargements",
        "col.status": "État",
        "name.locked": "ouvrez votre clé pour voir le nom",
        "status.available": "disponible",
        "status.pending": "en cours d'envoi",
        "status.purged": "supprimé",
        "transfer.title": "Transfert",
        "transfer.sender": "Expéditeur",
        "transfer.fingerprint": "Empreinte de la clé de l'expéditeur",
        "transfer.fingerprint_hint": "Comparez-la avec celle que l'expéditeur vous a communiquée.",
        "transfer.created": "Envoyé le",
        "transfer.expires": "Expire le",
        "transfer.downloads": "Téléchargements",
        "transfer.unlimited": "sans limite",
        "transfer.size": "Taille chiffrée",
        "transfer.decrypt": "Vérifier, déchiffrer et enregistrer",
        "transfer.key_changed": "Attention : la clé de l'expéditeur a changé",
        "transfer.key_changed_text": (
            "La clé présentée n'est pas celle enregistrée lors d'un échange précédent. "
            "Ne faites confiance à la nouvelle clé qu'après avoir comparé son empreinte avec "
            "l'expéditeur par un autre moyen (téléphone, en personne)."
        ),
        "transfer.pinned": "Empreinte enregistrée",
        "transfer.offered": "Empreinte présentée",
        "transfer.trust": "J'ai vérifié : faire confiance à la nouvelle clé",
        "transfer.gone": "Ce transfert a expiré ou a atteint sa limite de téléchargements.",
        "send.title": "Envoyer un fichier",
        "send.intro": (
            "Le fichier est chiffré dans ce navigateur pour les clés des destinataires, "
            "puis signé avec votre clé : le serveur ne reçoit que du contenu chiffré."
        ),
        "send.to": "Destinataires (organisation ou adresse e-mail, séparés par des virgules)",
        "send.find": "Rechercher dans l'annuaire",
        "send.recipients": "Destinataires trouvés",
        "send.expires": "Expiration",
        "send.expires_1": "1 jour",
        "send.expires_7": "7 jours",
        "send.expires_30": "30 jours",
        "send.max_downloads": "Nombre maximal de téléchargements (vide : sans limite)",
        "send.note": "Note pour les destinataires (chiffrée)",
        "send.file": "Fichier",
        "send.submit": "Chiffrer, signer et envoyer",
        "send.progress": "Progression",
        "send.done": "Envoyé : transfert",
        "error.title": "Erreur",
        "error.not_found": "Ce transfert n'existe pas ou ne vous est pas destiné.",
        "error.generic": "La demande n'a pas pu aboutir.",
        "error.back": "Retour aux fichiers reçus",
        "patient.title": "Un fichier pour vous",
        "patient.intro": (
            "L'expéditeur vous a donné une phrase secrète par un autre moyen (téléphone, "
            "courrier, en personne). Saisissez-la : le fichier est vérifié et déchiffré dans "
            "ce navigateur ; la phrase n'est jamais envoyée au serveur."
        ),
        "patient.passphrase": "Phrase secrète reçue de l'expéditeur",
        "patient.submit": "Déchiffrer et enregistrer",
        "send.patient": "Envoyer à un patient sans compte (avec une phrase secrète)",
        "send.patient_passphrase": (
            "Phrase secrète à donner au patient par un autre moyen (au moins 12 caractères)"
        ),
        "send.link": "Lien à donner au patient (il ne contient pas la phrase secrète) :",
        "js.refusal.not_found": "Ce lien n'existe pas ou n'est pas encore disponible.",
        "js.refusal.bad_passphrase": "Phrase secrète incorrecte ; rien n'a été téléchargé.",
        "js.status.link_verified": "Signature de {email} vérifiée, fichier déchiffré : {name}",
        "js.error.credentials": "Identifiants ou code incorrects.",
        "js.error.throttled": "Trop de tentatives : réessayez plus tard.",
        "js.error.server": "Le serveur a refusé : {message}",
        "js.error.unexpected": "Une erreur inattendue est survenue ; rien n'a été enregistré.",
        "js.error.passphrase": "Phrase secrète incorrecte.",
        "js.error.passphrase_mismatch": "Les deux phrases secrètes diffèrent.",
        "js.error.passphrase_short": "La phrase secrète doit faire au moins 12 caractères.",
        "js.error.not_current_key": (
            "La clé ouverte n'est pas votre clé publiée actuelle (remplacée depuis un autre "
            "appareil ?)."
        ),
        "js.error.no_target": "Indiquez au moins un destinataire.",
        "js.error.none_found": "Aucun destinataire avec une clé publiée n'a été trouvé.",
        "js.error.no_file": "Choisissez un fichier.",
        "js.error.no_recipient": "Choisissez au moins un destinataire dans l'annuaire.",
        "js.refusal.key_changed": (
            "Refusé : la clé de l'expéditeur a changé. Rien n'a été déchiffré."
        ),
        "js.refusal.bad_signature": "Refusé : la signature de l'expéditeur ne correspond pas.",
        "js.refusal.bad_digest": "Refusé : le contenu reçu ne correspond pas à celui signé.",
        "js.refusal.bad_fingerprint": "Refusé : l'empreinte annoncée ne correspond pas à la clé.",
        "js.refusal.unsigned": "Refusé : ce transfert n'est pas signé.",
        "js.refusal.wrong_transfer": "Refusé : le serveur a répondu avec un autre transfert.",
        "js.refusal.decryption_failed": "Le déchiffrement a échoué ; rien n'a été enregistré.",
        "js.refusal.gone": "Ce transfert a expiré ou a atteint sa limite de téléchargements.",
        "js.refusal.download_failed": "Le téléchargement a échoué.",
        "js.refusal.throttled": "Trop de tentatives : réessayez plus tard.",
        "js.refusal.no_recipient": "Choisissez au moins un destinataire.",
        "js.status.unwrapping": "Ouverture de la clé…",
        "js.status.generating": "Création et chiffrement de la clé…",
        "js.status.verifying": "Vérification de la signature…",
        "js.status.verified": "Signature vérifiée, fichier déchiffré : {name}",
        "js.status.save": "Enregistrer {name}",
        "js.status.found": "{count} destinataire(s) trouvé(s).",
        "js.status.sent": "Envoyé et scellé.",
        "js.stage.encrypting": "Chiffrement : {percent} %",
        "js.stage.uploading": "Envoi : {percent} %",
        "js.stage.downloading": "Téléchargement : {percent} %",
        "js.stage.decrypting": "Déchiffrement : {percent} %",
        # -- administration (server/admin_web.py, web/src/admin.js)
        "nav.admin": "Administration",
        "admin.title": "Administration",
        "admin.forbidden": (
            "Cette page est réservée aux administrateurs de votre organisation. Si vous devez y "
            "accéder, demandez le rôle d'administrateur à l'un d'eux."
        ),
        "admin.intro": "Vous administrez l'organisation",
        "admin.counts": "Membres",
        "admin.count_total": "En tout",
        "admin.count_active": "Actifs",
        "admin.count_pending": "En attente d'inscription",
        "admin.count_disabled": "Désactivés",
        "admin.sections": "Rubriques",
        "admin.section_users": "Membres",
        "admin.section_users_hint": (
            "Ajouter un membre, changer ses rôles, le désactiver ou le réactiver, réinitialiser "
            "ses clés d'accès."
        ),
        "admin.section_policy": "Politiques",
        "admin.section_policy_hint": (
            "Ce qu'exige l'envoi d'un fichier contenant des identifiants ; les rôles qui doivent "
            "se connecter avec une clé d'accès."
        ),
        "admin.section_audit": "Journal d'audit",
        "admin.section_audit_hint": (
            "Les événements de votre organisation, dans le journal infalsifiable."
        ),
        "admin.section_retention": "Conservation",
        "admin.section_retention_hint": "Combien de temps les transferts sont conservés.",
        "admin.users.title": "Membres",
        "admin.users.intro": (
            "Les comptes de votre organisation. Un rôle retiré prend effet tout de suite : si "
            "le membre perd un droit, ses sessions et jetons sont révoqués et il se reconnecte."
        ),
        "admin.col.email": "Adresse e-mail",
        "admin.col.roles": "Rôles",
        "admin.col.status": "État",
        "admin.col.created": "Créé le",
        "admin.col.enrolled": "Inscrit le",
        "admin.col.passkeys": "Clés d'accès",
        "admin.col.key": "Clé publiée",
        "admin.col.actions": "Actions",
        "admin.you": "(vous)",
        "admin.yes": "oui",
        "admin.no": "non",
        "admin.pending_until": "lien valable jusqu'au",
        "admin.roles_of": "Rôles de",
        "admin.save_roles": "Enregistrer les rôles",
        "admin.own_admin_hint": (
            "Vous ne pouvez ni retirer votre propre rôle d'administrateur ni désactiver votre "
            "compte : demandez-le à un autre administrateur."
        ),
        "admin.disable": "Désactiver",
        "admin.enable": "Réactiver",
        "admin.reset_passkeys": "Réinitialiser les clés d'accès",
        "admin.status.active": "actif",
        "admin.status.pending": "en attente d'inscription",
        "admin.status.disabled": "désactivé",
        "role.sender": "Expéditeur",
        "role.recipient": "Destinataire",
        "role.admin": "Administrateur",
        "admin.add_title": "Ajouter un membre",
        "admin.add_email": "Adresse e-mail du membre",
        "admin.add_email_hint": "Elle lui servira d'identifiant de connexion.",
        "admin.add_roles": "Rôles du membre",
        "admin.add_submit": "Ajouter le membre",
        "admin.enrolment_title": "Lien d'inscription de",
        "admin.enrolment_once": (
            "Ce lien n'est affiché qu'une fois : le serveur n'en garde qu'une empreinte. "
            "Copiez-le maintenant et transmettez-le au membre par un canal de confiance (en "
            "personne, par téléphone, par la messagerie interne)."
        ),
        "admin.enrolment_link": "Lien d'inscription",
        "admin.enrolment_token": "Code d'inscription (ligne de commande : scelle enrol --token)",
        "admin.enrolment_expires": "Valable jusqu'au",
        "admin.copy": "Copier le lien",
        "admin.enrolment_done": "J'ai transmis le lien : fermer",
        "admin.reauth_intro": (
            "Votre connexion date de plus de 5 minutes : saisissez à nouveau votre mot de passe "
            "et un code pour modifier les membres ou les politiques."
        ),
        "admin.policy.title": "Politiques",
        "admin.policy.send_title": "Politique d'envoi",
        "admin.policy.send_intro": (
            "Avant l'envoi, le fichier est analysé sur l'appareil de l'expéditeur. Pour chaque "
            "type d'identifiant trouvé, choisissez ce que l'envoi exige."
        ),
        "admin.policy.send_submit": "Enregistrer la politique d'envoi",
        "admin.policy.passkey_title": "Clés d'accès obligatoires",
        "admin.policy.passkey_intro": (
            "Les membres de ces rôles ne peuvent plus se connecter avec un code à usage unique : "
            "sans clé d'accès, leur prochaine connexion leur en fait enregistrer une."
        ),
        "admin.policy.passkey_roles": "Rôles qui doivent se connecter avec une clé d'accès",
        "admin.policy.passkey_submit": "Enregistrer les rôles à clé d'accès",
        "kind.nir": "NIR (numéro de sécurité sociale)",
        "kind.ins": "INS (identifiant national de santé)",
        "kind.phone": "Numéro de téléphone",
        "kind.email": "Adresse e-mail",
        "kind.birth_date": "Date de naissance",
        "kind.name": "Nom et prénom",
        "kind.health_text": "Texte clinique (données de santé)",
        "action.allow": "Autoriser",
        "action.allow_hint": "l'envoi se fait sans condition.",
        "action.warn": "Avertir",
        "action.warn_hint": "l'expéditeur est averti, l'envoi reste possible.",
        "action.purpose": "Exiger une finalité",
        "action.purpose_hint": "l'expéditeur doit déclarer la finalité de l'envoi (chiffrée).",
        "action.block": "Bloquer",
        "action.block_hint": "l'envoi est refusé.",
        "js.admin.confirm_disable": (
            "Désactiver {email} ? Ses sessions et ses jetons sont révoqués immédiatement."
        ),
        "js.admin.confirm_enable": "Réactiver {email} ? Il devra se reconnecter.",
        "js.admin.confirm_reset": (
            "Supprimer toutes les clés d'accès de {email} ? Vérifiez d'abord, par un canal de "
            "confiance, que c'est bien lui qui le demande."
        ),
        "js.admin.created": (
            "{email} est ajouté : transmettez-lui le lien d'inscription ci-dessous."
        ),
        "js.admin.copied": "Lien copié.",
        "js.admin.copy_failed": "La copie a échoué : sélectionnez le lien et copiez-le.",
        "js.admin.roles_saved": "Rôles enregistrés.",
        "js.admin.disabled": "Membre désactivé : ses sessions et ses jetons sont révoqués.",
        "js.admin.enabled": "Membre réactivé.",
        "js.admin.passkeys_reset": "Clés d'accès du membre supprimées.",
        "js.admin.policy_saved": "Politique d'envoi enregistrée.",
        "js.admin.passkey_policy_saved": "Rôles à clé d'accès obligatoire enregistrés.",
        "js.admin.error.no_email": "Saisissez l'adresse e-mail du membre.",
        "js.admin.error.no_role": "Choisissez au moins un rôle.",
        "js.admin.error.invalid_email": "Cette adresse e-mail n'est pas valide.",
        "js.admin.error.email_taken": "Un compte existe déjà avec cette adresse e-mail.",
        "js.admin.error.own_admin": (
            "Vous ne pouvez pas retirer votre propre rôle d'administrateur : demandez-le à un "
            "autre administrateur."
        ),
        "js.admin.error.self": "Vous ne pouvez pas faire cela sur votre propre compte.",
        "js.admin.error.state": "Ce compte est déjà dans cet état : rechargez la page.",
        "js.admin.error.not_found": "Ce membre n'existe pas (ou plus) dans votre organisation.",
        "js.admin.error.forbidden": "Cette action est réservée aux administrateurs.",
        "js.admin.error.reauth_passkey": (
            "Votre rôle exige une clé d'accès : reconnectez-vous avec elle pour continuer."
        ),
        # The oversight pages (server/oversight_web.py).
        "admin.nav.label": "Administration",
        "admin.nav.home": "Vue d'ensemble",
        "admin.section_orgs_hint": (
            "Les organisations du service (opérateur) : en créer une, avec son premier "
            "administrateur."
        ),
        "admin.section_breach_hint": (
            "Le registre des violations (opérateur) : chaque évaluation, son calendrier et "
            "sa notification."
        ),
        "admin.nav.audit": "Journal d'audit",
        "admin.nav.retention": "Conservation",
        "admin.nav.orgs": "Organisations",
        "admin.nav.breach": "Registre des violations",
        "admin.operator_only": (
            "Cette page est réservée aux administrateurs de l'organisation qui exploite le "
            "service (SCELLE_OPERATOR_ORG)."
        ),
        "admin.audit.title": "Journal d'audit",
        "admin.audit.intro": (
            "Les événements de votre organisation, du plus récent au plus ancien : connexions, "
            "envois, téléchargements, suppressions, actions d'administration. Le journal ne "
            "contient que des identifiants et des dates, jamais le contenu d'un fichier."
        ),
        "admin.audit.checkpoint": "Point de contrôle signé actuel",
        "admin.audit.tree_size": "Taille de l'arbre",
        "admin.audit.root_hash": "Empreinte racine (base64)",
        "admin.audit.signed_at": "Signé le",
        "admin.audit.checkpoint_hint": (
            "Notez la taille et l'empreinte : « scelle audit verify --tree-head » prouve "
            "ensuite que l'historique n'a pas été réécrit."
        ),
        "admin.audit.no_checkpoint": "Aucun point de contrôle n'a encore été signé.",
        "admin.audit.filter": "Filtrer",
        "admin.audit.action": "Action (début de l'étiquette)",
        "admin.audit.action_hint": "Par exemple : account:login, transfer, admin.",
        "admin.audit.from": "Depuis",
        "admin.audit.to": "Jusqu'à",
        "admin.audit.period_hint": "Heures en UTC.",
        "admin.audit.apply": "Appliquer le filtre",
        "admin.audit.reset": "Tout afficher",
        "admin.audit.bad_filter": (
            "Filtre invalide : une date s'écrit AAAA-MM-JJThh:mm (la fin après le début), "
            "une action comme account:login."
        ),
        "admin.audit.caption": "Événements d'audit de {org}, du plus récent au plus ancien",
        "admin.audit.col_time": "Date",
        "admin.audit.col_action": "Action",
        "admin.audit.col_actor": "Auteur",
        "admin.audit.col_outcome": "Résultat",
        "admin.audit.col_transfer": "Transfert",
        "admin.audit.col_leaf": "N° de feuille",
        "admin.audit.outcome_success": "réussi",
        "admin.audit.outcome_failure": "échec ou refus",
        "admin.audit.older": "Événements plus anciens",
        "admin.audit.empty": "Aucun événement ne correspond.",
        "admin.retention.title": "Conservation des fichiers",
        "admin.retention.intro": (
            "Chaque transfert expire, puis son contenu chiffré est supprimé. Voici les règles "
            "du serveur et, pour les transferts envoyés par votre organisation, ce qu'il en "
            "reste (des nombres seulement)."
        ),
        "admin.retention.rules": "Règles du serveur",
        "admin.retention.default_expiry": "Expiration par défaut",
        "admin.retention.max_expiry": "Expiration maximale",
        "admin.retention.upload_expiry": "Délai pour terminer un envoi",
        "admin.retention.purge_interval": "Fréquence de suppression",
        "admin.retention.caption": "Transferts envoyés par {org}, selon le temps restant",
        "admin.retention.col_state": "État",
        "admin.retention.col_count": "Transferts",
        "admin.retention.within_24h": "Expirent dans moins de 24 h",
        "admin.retention.within_7d": "Expirent dans 24 h à 7 jours",
        "admin.retention.later": "Expirent dans plus de 7 jours",
        "admin.retention.expired_awaiting_purge": "Expirés, suppression en attente",
        "admin.retention.purged_30d": "Supprimés ces 30 derniers jours",
        "admin.retention.oldest": "Le plus ancien transfert encore conservé a été envoyé le",
        "admin.retention.oldest_expires": "il expire le",
        "admin.retention.none_live": "Aucun transfert n'est conservé en ce moment.",
        "admin.retention.as_of": "Compté le",
        "admin.orgs.title": "Organisations",
        "admin.orgs.intro": (
            "Toutes les organisations du service, avec le nombre de leurs membres. Créer une "
            "organisation est enregistré dans le journal d'audit."
        ),
        "admin.orgs.caption": "Organisations du service",
        "admin.orgs.col_name": "Nom",
        "admin.orgs.col_created": "Créée le",
        "admin.orgs.col_members": "Membres",
        "admin.orgs.col_active": "Actifs",
        "admin.orgs.col_pending": "En attente d'inscription",
        "admin.orgs.col_disabled": "Désactivés",
        "admin.orgs.col_passkeys": "Clé d'accès exigée pour",
        "admin.orgs.no_role": "aucun rôle",
        "admin.role.admin": "administrateur",
        "admin.role.sender": "expéditeur",
        "admin.role.recipient": "destinataire",
        "admin.orgs.create_title": "Créer une organisation",
        "admin.orgs.name": "Nom court de l'organisation",
        "admin.orgs.name_hint": (
            "Lettres minuscules, chiffres et tirets, 64 caractères au plus (par exemple cpam-75)."
        ),
        "admin.orgs.admin_email": "Adresse e-mail de son premier administrateur (facultatif)",
        "admin.orgs.admin_email_hint": (
            "Il reçoit un lien d'inscription à usage unique, valable 72 heures."
        ),
        "admin.orgs.create": "Créer l'organisation",
        "admin.orgs.enrolment_title": "Lien d'inscription de l'administrateur",
        "admin.orgs.enrolment_intro": (
            "Affiché une seule fois : transmettez-le par un canal de confiance. Il permet de "
            "choisir un mot de passe et un second facteur."
        ),
        "admin.breach.title": "Registre des violations de données",
        "admin.breach.intro": (
            "Chaque évaluation faite avec « scelle breach assess », pour tout le service : "
            "fenêtre, portée, échéance de notification à la CNIL (72 heures, RGPD art. 33). "
            "Chaque consultation de ce registre est enregistrée dans le journal d'audit."
        ),
        "admin.breach.caption": "Évaluations de violations, de la plus récente à la plus ancienne",
        "admin.breach.col_id": "Évaluation",
        "admin.breach.col_created": "Faite le",
        "admin.breach.col_scope": "Portée",
        "admin.breach.col_window": "Fenêtre de la violation",
        "admin.breach.col_aware": "Connue le",
        "admin.breach.col_notify_by": "À notifier avant",
        "admin.breach.col_plaintext": "Contenu lisible exposé",
        "admin.breach.col_counts": "Volume",
        "admin.breach.scope_server": "serveur",
        "admin.breach.scope_account": "compte",
        "admin.breach.scope_key": "clé d'appareil",
        "admin.breach.exposed_ciphertext_only": "non, données chiffrées seulement",
        "admin.breach.exposed_none": "non",
        "admin.breach.exposed_yes": "oui",
        "admin.breach.counts": (
            "{transfers} transfert(s), {records} enregistrement(s), {subjects} personne(s)"
        ),
        "admin.breach.left": "reste {time}",
        "admin.breach.overdue": "échéance dépassée de {time}",
        "admin.breach.empty": "Le registre est vide.",
        "admin.breach.detail_title": "Évaluation",
        "admin.breach.back": "Retour au registre",
        "admin.breach.not_found": "Cette évaluation n'existe pas.",
        "admin.breach.timeline": "Chronologie",
        "admin.breach.col_when": "Date",
        "admin.breach.col_event": "Étape",
        "admin.breach.event.breach window starts": "début de la fenêtre de la violation",
        "admin.breach.event.breach window ends": "fin de la fenêtre de la violation",
        "admin.breach.event.controller aware of the breach": (
            "le responsable de traitement a connaissance de la violation"
        ),
        "admin.breach.event.assessment drafted": "évaluation rédigée",
        "admin.breach.event.deadline to notify the supervisory authority": (
            "échéance de notification à l'autorité de contrôle"
        ),
        "admin.breach.notice": "Projet de notification (RGPD art. 33(3))",
        "admin.breach.notice_hint": (
            "Un point de départ pour le DPO, pas une notification déposée."
        ),
        "admin.breach.downloads": "Télécharger le rapport",
        "admin.breach.download_json": "Évaluation complète (JSON)",
        "admin.breach.download_md_fr": "Projet de notification en français (Markdown)",
        "admin.breach.download_md_en": "Projet de notification en anglais (Markdown)",
        "js.status.org_created": "Organisation {name} créée.",
        "js.error.org_name": (
            "Le nom : lettres minuscules, chiffres et tirets, 64 caractères au plus."
        ),
        "js.error.org_exists": "Cette organisation ou cette adresse existe déjà.",
        "js.error.bad_email": "Adresse e-mail invalide.",
    },
    "en": {
        "app.tagline": "End-to-end encrypted exchange of health files",
        "skip": "Skip to content",
        "nav.label": "Main navigation",
        "nav.inbox": "Received",
        "nav.sent": "Sent",
        "nav.send": "Send",
        "nav.identity": "My key",
        "nav.logout": "Sign out",
        "lang.label": "Language",
        "lang.other": "Français",
        "bundle.missing": (
            "The browser bundle is not built (run scripts/setup.sh): in-browser encryption "
            "is unavailable."
        ),
        "login.title": "Sign in",
        "login.intro": (
            "Sign in with your password and a second factor. Your files are decrypted in "
            "this browser, never on the server."
        ),
        "login.email": "E-mail address",
        "login.password": "Password",
        "login.otp": "One-time code (TOTP app) or recovery code",
        "login.otp_hint": "6 digits, or a recovery code you received at enrolment.",
        "login.submit": "Sign in",
        "login.passkey_submit": "Sign in with a passkey",
        "login.passkey_hint": (
            "With a passkey: e-mail and password, no code, then confirm on your device."
        ),
        "login.enrol_title": "Your role requires a passkey",
        "login.enrol_intro": (
            "Your organisation requires a passkey for your role: the one-time code is no "
            "longer enough. Register one on this device, then sign in with it."
        ),
        "login.enrol_submit": "Register a passkey on this device",
        "login.sso_title": "Single sign-on (SSO)",
        "login.sso_submit": "Sign in with {provider}",
        "sso.title": "Signed in",
        "sso.signed_in": "You are signed in. Opening your received files…",
        "sso.continue": "Continue to received files",
        "sso.refused": (
            "The single sign-on could not be verified. Start again from the sign-in page; "
            "if it happens again, contact your organisation's administrator."
        ),
        "sso.off": "Single sign-on is not configured on this server.",
        "sso.unavailable": "The identity provider does not answer right now. Try again shortly.",
        "sso.back": "Back to the sign-in page",
        "error.throttled": "Too many attempts: try again later.",
        "nav.passkeys": "Passkeys",
        "passkeys.title": "My passkeys",
        "passkeys.intro": (
            "A passkey replaces the one-time code: after your password, your device confirms "
            "it is you (fingerprint, face or device PIN). The server keeps only its public "
            "part."
        ),
        "passkeys.required": (
            "Your organisation requires a passkey for your role: the last one cannot be removed."
        ),
        "passkeys.name": "Name",
        "passkeys.created": "Added",
        "passkeys.last_used": "Last used",
        "passkeys.actions": "Action",
        "passkeys.never": "never",
        "passkeys.remove": "Remove",
        "passkeys.empty": "No passkey yet.",
        "passkeys.add_title": "Add a passkey",
        "passkeys.new_name": "Name of the key (to recognise it)",
        "passkeys.new_name_hint": (
            "For example: surgery computer (at most 64 letters, digits, spaces or . @ ' ( ) -)."
        ),
        "passkeys.add": "Add a passkey",
        "reauth.title": "Confirm it is you",
        "reauth.intro": (
            "You signed in more than 5 minutes ago: enter your password and a code again "
            "to change your passkeys."
        ),
        "reauth.submit": "Confirm",
        "reauth.cancel": "Cancel",
        "js.error.no_otp": "Enter the one-time code, or sign in with a passkey.",
        "js.error.no_password": "Enter your e-mail address and your password.",
        "js.error.passkey_unsupported": "This browser does not support passkeys.",
        "js.error.passkey_cancelled": (
            "The passkey was not used (cancelled, timed out, or no passkey of this account "
            "on this device)."
        ),
        "js.error.no_passkey": ("This account has no passkey: sign in with a code, then add one."),
        "js.error.passkey_required": "Your role requires a passkey: sign in with it.",
        "js.error.passkey_exists": "This passkey is already registered.",
        "js.error.passkey_name": (
            "The key's name: at most 64 letters, digits, spaces or . @ ' ( ) -"
        ),
        "js.error.last_passkey": (
            "This is your last passkey and your role requires one: add another before removing it."
        ),
        "js.error.reauth_passkey": (
            "Your role requires a passkey: sign in again with it to change your passkeys."
        ),
        "js.status.confirm_device": "Confirm on your device…",
        "js.status.enrolled": "Passkey registered. Now sign in with it.",
        "js.status.passkey_added": "Passkey added.",
        "js.status.passkey_removed": "Passkey removed.",
        "js.status.reauth": "Confirm it is you to continue.",
        "js.keys.same": "Same as the directory",
        "js.keys.changed": "Changed! The directory's current key: {fingerprint}",
        "js.keys.absent": "Not in the directory (account disabled or key revoked)",
        "js.keys.unchecked": "Not compared (the directory is for sending accounts)",
        "js.keys.forget": "Forget",
        "js.keys.forget_label": "Forget the key of {email}",
        "js.keys.compare": "Compare",
        "js.keys.compare_label": "Compare the key of {email}",
        "js.keys.forgotten": "Key of {email} forgotten: the next one is remembered at first use.",
        "js.keys.pinned_now": "Key of {email} remembered.",
        "js.keys.not_found": "Nobody with a published key has this address.",
        "js.keys.compare_same": "This is the key this browser remembered.",
        "js.keys.compare_new": "This browser has not remembered a key for this person yet.",
        "js.keys.compare_changed": (
            "Careful: this is not the remembered key ({fingerprint}). Remember it only after "
            "checking it with the person."
        ),
        "js.error.compare_unchecked": (
            "Tick the box only after comparing the fingerprint with the person."
        ),
        "js.error.token_missing": "Enter the enrolment code.",
        "js.error.password_mismatch": "The two passwords differ.",
        "js.error.password_short": "The password must be at least 12 characters.",
        "js.error.enrol_token": (
            "This enrolment code is invalid, used or expired: ask your administrator for a new one."
        ),
        "js.error.codes_unsaved": "Confirm that you have kept your recovery codes.",
        "js.error.otp_missing": "Enter the 6-digit code from the app.",
        "js.error.otp_wrong": (
            "That code is not right: check the device's clock and enter the next code."
        ),
        "js.error.recovery_key": "This recovery key does not open your key.",
        "js.error.no_recovery": (
            "No recovery copy is stored for this key: without the passphrase, create a new "
            "key (files already received will stay unreadable)."
        ),
        "js.error.recovery_unsaved": "Confirm that you have kept your recovery key.",
        "js.status.password_set": "Password set. Now set up your second factor.",
        "js.status.recovered": "Key opened and passphrase changed. Here is your new recovery key.",
        "js.file.recovery_codes": (
            "Scellé recovery codes of {email}: each allows one sign-in, once."
        ),
        "js.file.recovery_key": (
            "Scellé recovery key of {email}: it opens your encryption key. Keep it offline."
        ),
        "identity.title": "My encryption key",
        "identity.unlock_intro": (
            "Your private key is kept on the server encrypted with your passphrase, which "
            "the server does not know. Enter it to open the key in this browser."
        ),
        "identity.create_intro": (
            "This account has no browser key yet. Choose a passphrase: the key is made "
            "here, and the server keeps only two encrypted copies, one with this passphrase, "
            "the other with a recovery key shown once. Without one or the other nobody (not "
            "even the operator) can open it again."
        ),
        "identity.replace_warning": (
            "This account already has a published key (made with the command line). "
            "Creating one here replaces it: your correspondents will see a key change."
        ),
        "identity.passphrase": "Passphrase",
        "identity.passphrase_hint": "At least 12 characters; several random words work well.",
        "identity.confirmation": "Confirm the passphrase",
        "identity.unlock": "Open my key",
        "identity.create": "Create my key",
        "identity.fingerprint": "Fingerprint of my published key",
        "identity.none": "none",
        "identity.forgot": "Forgot the passphrase? Use my recovery key",
        "identity.recover_title": "Open my key with the recovery key",
        "identity.recover_intro": (
            "Paste your recovery key (it starts with AGE-SECRET-KEY-1) and choose a new "
            "passphrase. You will get a new recovery key; the old one will no longer work."
        ),
        "identity.recover_submit": "Open and change the passphrase",
        "identity.new_passphrase": "New passphrase",
        "identity.new_confirmation": "Confirm the new passphrase",
        "identity.recovery_title": "Your recovery key (shown once)",
        "identity.recovery_intro": (
            "If you forget your passphrase, this key alone opens your encryption key, and so "
            "your received files. The server does not know it and cannot give it back: "
            "download it or copy it, and keep it offline."
        ),
        "identity.recovery_key": "Recovery key",
        "identity.recovery_download": "Download the recovery key",
        "identity.recovery_saved": "I have kept my recovery key",
        "identity.recovery_continue": "Continue",
        "nav.keys": "Correspondents",
        "keys.title": "My correspondents' keys",
        "keys.intro": (
            "This browser remembers the key of each person you received a file from or sent "
            "one to (first use); a key that changes afterwards is refused until you have "
            "checked it. Compare fingerprints with the ones your correspondents read to you "
            "over another channel (phone, in person)."
        ),
        "keys.pins_caption": "Keys remembered by this browser",
        "keys.person": "Person",
        "keys.pinned": "Remembered fingerprint",
        "keys.status": "Directory",
        "keys.actions": "Action",
        "keys.empty": "No key remembered in this browser yet.",
        "keys.compare_title": "Compare a fingerprint",
        "keys.compare_intro": (
            "Look a person up in the directory: their current fingerprint shows, to compare "
            "with the one they read to you. Then remember it, if they are the same."
        ),
        "keys.compare_email": "The person's e-mail address",
        "keys.compare_submit": "Show their fingerprint",
        "keys.directory_key": "Key published in the directory for",
        "keys.compare_checked": (
            "I compared this fingerprint with the one the person gave me: they are the same"
        ),
        "keys.pin": "Remember this key",
        "keys.no_lookup": (
            "Looking up the directory is for sending accounts: compare the fingerprint shown "
            "on the page of each transfer you receive."
        ),
        "enrol.title": "Enrolment",
        "enrol.intro": (
            "Your administrator gave you an enrolment link or code, valid once. Choose your "
            "password; you will then set up your second factor, then your encryption key."
        ),
        "enrol.token": "Enrolment code",
        "enrol.token_hint": (
            "It is in the link your administrator sent; it fills in by itself when you opened "
            "that link."
        ),
        "enrol.password": "Password",
        "enrol.password_hint": "At least 12 characters; several random words work well.",
        "enrol.confirmation": "Confirm the password",
        "enrol.submit": "Continue",
        "enrol.account": "Account",
        "enrol.totp_title": "1. Your authenticator app",
        "enrol.totp_intro": (
            "Scan this QR code with your TOTP app (FreeOTP, Aegis, Google Authenticator…) or "
            "type the key below into it."
        ),
        "enrol.totp_qr": "QR code of the TOTP key, for the authenticator app",
        "enrol.totp_secret": "Key to type into the app",
        "enrol.codes_title": "2. Your recovery codes (shown once)",
        "enrol.codes_intro": (
            "Each code allows one sign-in if you lose the app's device. Keep them offline "
            "(printed, or in a password vault): they will not be shown again."
        ),
        "enrol.codes_download": "Download the codes",
        "enrol.codes_saved": "I have kept my recovery codes",
        "enrol.otp": "3. 6-digit code shown by the app",
        "enrol.otp_hint": "It proves the app is ready, and opens your first session.",
        "enrol.confirm": "Confirm and sign in",
        "enrol.passkey_title": "A passkey on this device",
        "enrol.passkey_optional": (
            "Recommended: a passkey replaces the 6-digit code with a confirmation on your "
            "device, and resists phishing."
        ),
        "enrol.passkey_required": (
            "Your organisation requires a passkey for your role: register one on this device "
            "to finish."
        ),
        "enrol.passkey_submit": "Register a passkey",
        "enrol.passkey_later": "Later",
        "enrol.have_account": "Already enrolled?",
        "enrol.to_login": "Sign in",
        "login.first_time": "First time here?",
        "login.to_enrol": "Enrol with the code you received",
        "inbox.title": "Received files",
        "inbox.empty": "No file received yet.",
        "sent.title": "Sent files",
        "sent.empty": "Nothing sent yet.",
        "sent.patient_link": "patient link (passphrase):",
        "col.transfer": "Transfer",
        "col.name": "Name (decrypted here)",
        "col.sender": "Sender",
        "col.recipients": "Recipients",
        "col.size": "Encrypted size",
        "col.expires": "Expires",
        "col.downloads": "Downloads",
        "col.status": "Status",
        "name.locked": "open your key to see the name",
        "status.available": "available",
        "status.pending": "uploading",
        "status.purged": "deleted",
        "transfer.title": "Transfer",
        "transfer.sender": "Sender",
        "transfer.fingerprint": "Fingerprint of the sender's key",
        "transfer.fingerprint_hint": "Compare it with the one the sender gave you.",
        "transfer.created": "Sent",
        "transfer.expires": "Expires",
        "transfer.downloads": "Downloads",
        "transfer.unlimited": "unlimited",
        "transfer.size": "Encrypted size",
        "transfer.decrypt": "Verify, decrypt and save",
        "transfer.key_changed": "Warning: the sender's key has changed",
        "transfer.key_changed_text": (
            "The key offered is not the one recorded in an earlier exchange. Trust the new "
            "key only after comparing its fingerprint with the sender by another channel "
            "(phone, in person)."
        ),
        "transfer.pinned": "Recorded fingerprint",
        "transfer.offered": "Offered fingerprint",
        "transfer.trust": "I checked: trust the new key",
        "transfer.gone": "This transfer has expired or reached its download limit.",
        "send.title": "Send a file",
        "send.intro": (
            "The file is encrypted in this browser to the recipients' keys, then signed "
            "with your key: the server receives only encrypted content."
        ),
        "send.to": "Recipients (organisation or e-mail address, comma-separated)",
        "send.find": "Look up in the directory",
        "send.recipients": "Recipients found",
        "send.expires": "Expiry",
        "send.expires_1": "1 day",
        "send.expires_7": "7 days",
        "send.expires_30": "30 days",
        "send.max_downloads": "Maximum number of downloads (empty: unlimited)",
        "send.note": "Note for the recipients (encrypted)",
        "send.file": "File",
        "send.submit": "Encrypt, sign and send",
        "send.progress": "Progress",
        "send.done": "Sent: transfer",
        "error.title": "Error",
        "error.not_found": "This transfer does not exist or is not meant for you.",
        "error.generic": "The request could not be completed.",
        "error.back": "Back to received files",
        "patient.title": "A file for you",
        "patient.intro": (
            "The sender gave you a passphrase by another channel (phone, letter, in person). "
            "Enter it: the file is verified and decrypted in this browser; the passphrase "
            "is never sent to the server."
        ),
        "patient.passphrase": "Passphrase from the sender",
        "patient.submit": "Decrypt and save",
        "send.patient": "Send to a patient without an account (with a passphrase)",
        "send.patient_passphrase": (
            "Passphrase to give the patient by another channel (at least 12 characters)"
        ),
        "send.link": "Link to give the patient (it does not contain the passphrase):",
        "js.refusal.not_found": "This link does not exist or is not available yet.",
        "js.refusal.bad_passphrase": "Wrong passphrase; nothing was downloaded.",
        "js.status.link_verified": "Signature of {email} verified, file decrypted: {name}",
        "js.error.credentials": "Wrong credentials or code.",
        "js.error.throttled": "Too many attempts: try again later.",
        "js.error.server": "The server refused: {message}",
        "js.error.unexpected": "An unexpected error happened; nothing was saved.",
        "js.error.passphrase": "Wrong passphrase.",
        "js.error.passphrase_mismatch": "The two passphrases differ.",
        "js.error.passphrase_short": "The passphrase must be at least 12 characters.",
        "js.error.not_current_key": (
            "The key opened is not your current published key (replaced from another device?)."
        ),
        "js.error.no_target": "Name at least one recipient.",
        "js.error.none_found": "No recipient with a published key was found.",
        "js.error.no_file": "Choose a file.",
        "js.error.no_recipient": "Choose at least one recipient from the directory.",
        "js.refusal.key_changed": "Refused: the sender's key has changed. Nothing was decrypted.",
        "js.refusal.bad_signature": "Refused: the sender's signature does not match.",
        "js.refusal.bad_digest": "Refused: the content received does not match what was signed.",
        "js.refusal.bad_fingerprint": "Refused: the announced fingerprint does not match the key.",
        "js.refusal.unsigned": "Refused: this transfer is not signed.",
        "js.refusal.wrong_transfer": "Refused: the server answered with another transfer.",
        "js.refusal.decryption_failed": "Decryption failed; nothing was saved.",
        "js.refusal.gone": "This transfer has expired or reached its download limit.",
        "js.refusal.download_failed": "The download failed.",
        "js.refusal.throttled": "Too many attempts: try again later.",
        "js.refusal.no_recipient": "Choose at least one recipient.",
        "js.status.unwrapping": "Opening the key…",
        "js.status.generating": "Creating and encrypting the key…",
        "js.status.verifying": "Verifying the signature…",
        "js.status.verified": "Signature verified, file decrypted: {name}",
        "js.status.save": "Save {name}",
        "js.status.found": "{count} recipient(s) found.",
        "js.status.sent": "Sent and sealed.",
        "js.stage.encrypting": "Encrypting: {percent} %",
        "js.stage.uploading": "Uploading: {percent} %",
        "js.stage.downloading": "Downloading: {percent} %",
        "js.stage.decrypting": "Decrypting: {percent} %",
        # -- administration (server/admin_web.py, web/src/admin.js)
        "nav.admin": "Administration",
        "admin.title": "Administration",
        "admin.forbidden": (
            "This page is for your organisation's administrators only. If you need it, ask one "
            "of them for the administrator role."
        ),
        "admin.intro": "You administer the organisation",
        "admin.counts": "Members",
        "admin.count_total": "In all",
        "admin.count_active": "Active",
        "admin.count_pending": "Waiting to enrol",
        "admin.count_disabled": "Disabled",
        "admin.sections": "Sections",
        "admin.section_users": "Members",
        "admin.section_users_hint": (
            "Add a member, change their roles, disable or re-enable them, reset their passkeys."
        ),
        "admin.section_policy": "Policies",
        "admin.section_policy_hint": (
            "What sending a file that holds identifiers requires; the roles that must sign in "
            "with a passkey."
        ),
        "admin.section_audit": "Audit log",
        "admin.section_audit_hint": "Your organisation's events, in the tamper-evident log.",
        "admin.section_retention": "Retention",
        "admin.section_retention_hint": "How long transfers are kept.",
        "admin.users.title": "Members",
        "admin.users.intro": (
            "Your organisation's accounts. A role taken away takes effect at once: if the "
            "member loses a permission, their sessions and tokens are revoked and they sign "
            "in again."
        ),
        "admin.col.email": "E-mail address",
        "admin.col.roles": "Roles",
        "admin.col.status": "Status",
        "admin.col.created": "Created",
        "admin.col.enrolled": "Enrolled",
        "admin.col.passkeys": "Passkeys",
        "admin.col.key": "Key published",
        "admin.col.actions": "Actions",
        "admin.you": "(you)",
        "admin.yes": "yes",
        "admin.no": "no",
        "admin.pending_until": "link valid until",
        "admin.roles_of": "Roles of",
        "admin.save_roles": "Save roles",
        "admin.own_admin_hint": (
            "You can neither take away your own administrator role nor disable your own account: "
            "ask another administrator."
        ),
        "admin.disable": "Disable",
        "admin.enable": "Re-enable",
        "admin.reset_passkeys": "Reset passkeys",
        "admin.status.active": "active",
        "admin.status.pending": "waiting to enrol",
        "admin.status.disabled": "disabled",
        "role.sender": "Sender",
        "role.recipient": "Recipient",
        "role.admin": "Administrator",
        "admin.add_title": "Add a member",
        "admin.add_email": "Member's e-mail address",
        "admin.add_email_hint": "It will be their sign-in name.",
        "admin.add_roles": "Member's roles",
        "admin.add_submit": "Add the member",
        "admin.enrolment_title": "Enrolment link of",
        "admin.enrolment_once": (
            "This link is shown only once: the server keeps only a fingerprint of it. Copy it "
            "now and give it to the member over a trusted channel (in person, by phone, by "
            "internal messaging)."
        ),
        "admin.enrolment_link": "Enrolment link",
        "admin.enrolment_token": "Enrolment token (command line: scelle enrol --token)",
        "admin.enrolment_expires": "Valid until",
        "admin.copy": "Copy the link",
        "admin.enrolment_done": "I passed the link on: close",
        "admin.reauth_intro": (
            "You signed in more than 5 minutes ago: enter your password and a code again to "
            "change members or policies."
        ),
        "admin.policy.title": "Policies",
        "admin.policy.send_title": "Send policy",
        "admin.policy.send_intro": (
            "Before sending, the file is scanned on the sender's device. For each kind of "
            "identifier found, choose what sending requires."
        ),
        "admin.policy.send_submit": "Save the send policy",
        "admin.policy.passkey_title": "Required passkeys",
        "admin.policy.passkey_intro": (
            "Members of these roles can no longer sign in with a one-time code: without a "
            "passkey, their next sign-in has them register one."
        ),
        "admin.policy.passkey_roles": "Roles that must sign in with a passkey",
        "admin.policy.passkey_submit": "Save the passkey roles",
        "kind.nir": "NIR (social security number)",
        "kind.ins": "INS (national health identifier)",
        "kind.phone": "Phone number",
        "kind.email": "E-mail address",
        "kind.birth_date": "Date of birth",
        "kind.name": "First and last name",
        "kind.health_text": "Clinical text (health data)",
        "action.allow": "Allow",
        "action.allow_hint": "the file is sent without condition.",
        "action.warn": "Warn",
        "action.warn_hint": "the sender is warned; sending stays possible.",
        "action.purpose": "Require a purpose",
        "action.purpose_hint": "the sender must declare the purpose of sending (encrypted).",
        "action.block": "Block",
        "action.block_hint": "sending is refused.",
        "js.admin.confirm_disable": (
            "Disable {email}? Their sessions and tokens are revoked at once."
        ),
        "js.admin.confirm_enable": "Re-enable {email}? They will sign in again.",
        "js.admin.confirm_reset": (
            "Remove every passkey of {email}? First check over a trusted channel that they are "
            "the one asking."
        ),
        "js.admin.created": "{email} is added: give them the enrolment link below.",
        "js.admin.copied": "Link copied.",
        "js.admin.copy_failed": "Copying failed: select the link and copy it.",
        "js.admin.roles_saved": "Roles saved.",
        "js.admin.disabled": "Member disabled: their sessions and tokens are revoked.",
        "js.admin.enabled": "Member re-enabled.",
        "js.admin.passkeys_reset": "The member's passkeys are removed.",
        "js.admin.policy_saved": "Send policy saved.",
        "js.admin.passkey_policy_saved": "Passkey-required roles saved.",
        "js.admin.error.no_email": "Enter the member's e-mail address.",
        "js.admin.error.no_role": "Choose at least one role.",
        "js.admin.error.invalid_email": "This e-mail address is not valid.",
        "js.admin.error.email_taken": "An account with this e-mail address already exists.",
        "js.admin.error.own_admin": (
            "You cannot take away your own administrator role: ask another administrator."
        ),
        "js.admin.error.self": "You cannot do this to your own account.",
        "js.admin.error.state": "This account is in that state already: reload the page.",
        "js.admin.error.not_found": "This member does not exist (any more) in your organisation.",
        "js.admin.error.forbidden": "This action is for administrators only.",
        "js.admin.error.reauth_passkey": (
            "Your role requires a passkey: sign in again with it to continue."
        ),
        # The oversight pages (server/oversight_web.py).
        "admin.nav.label": "Administration",
        "admin.nav.home": "Overview",
        "admin.section_orgs_hint": (
            "The service's organisations (operator): create one, with its first admin."
        ),
        "admin.section_breach_hint": (
            "The breach register (operator): each assessment, its time line and notice."
        ),
        "admin.nav.audit": "Audit log",
        "admin.nav.retention": "Retention",
        "admin.nav.orgs": "Organisations",
        "admin.nav.breach": "Breach register",
        "admin.operator_only": (
            "This page is for the administrators of the organisation that runs the service "
            "(SCELLE_OPERATOR_ORG)."
        ),
        "admin.audit.title": "Audit log",
        "admin.audit.intro": (
            "Your organisation's events, newest first: sign-ins, sends, downloads, deletions, "
            "administration. The log holds only ids and dates, never a file's content."
        ),
        "admin.audit.checkpoint": "Current signed checkpoint",
        "admin.audit.tree_size": "Tree size",
        "admin.audit.root_hash": "Root hash (base64)",
        "admin.audit.signed_at": "Signed",
        "admin.audit.checkpoint_hint": (
            "Note the size and the hash: `scelle audit verify --tree-head` then proves the "
            "history was not rewritten."
        ),
        "admin.audit.no_checkpoint": "No checkpoint has been signed yet.",
        "admin.audit.filter": "Filter",
        "admin.audit.action": "Action (start of the tag)",
        "admin.audit.action_hint": "For example: account:login, transfer, admin.",
        "admin.audit.from": "From",
        "admin.audit.to": "To",
        "admin.audit.period_hint": "Times in UTC.",
        "admin.audit.apply": "Apply the filter",
        "admin.audit.reset": "Show everything",
        "admin.audit.bad_filter": (
            "Invalid filter: a time is YYYY-MM-DDThh:mm (the end after the start), an action "
            "like account:login."
        ),
        "admin.audit.caption": "Audit events of {org}, newest first",
        "admin.audit.col_time": "Time",
        "admin.audit.col_action": "Action",
        "admin.audit.col_actor": "Actor",
        "admin.audit.col_outcome": "Outcome",
        "admin.audit.col_transfer": "Transfer",
        "admin.audit.col_leaf": "Leaf no.",
        "admin.audit.outcome_success": "success",
        "admin.audit.outcome_failure": "failed or refused",
        "admin.audit.older": "Older events",
        "admin.audit.empty": "No event matches.",
        "admin.retention.title": "File retention",
        "admin.retention.intro": (
            "Every transfer expires, then its ciphertext is deleted. Here are the server's "
            "rules and, for the transfers your organisation sent, what is left of them "
            "(counts only)."
        ),
        "admin.retention.rules": "Server rules",
        "admin.retention.default_expiry": "Default expiry",
        "admin.retention.max_expiry": "Maximum expiry",
        "admin.retention.upload_expiry": "Time to finish an upload",
        "admin.retention.purge_interval": "Purge interval",
        "admin.retention.caption": "Transfers sent by {org}, by time left",
        "admin.retention.col_state": "State",
        "admin.retention.col_count": "Transfers",
        "admin.retention.within_24h": "Expire within 24 h",
        "admin.retention.within_7d": "Expire in 24 h to 7 days",
        "admin.retention.later": "Expire in more than 7 days",
        "admin.retention.expired_awaiting_purge": "Expired, awaiting purge",
        "admin.retention.purged_30d": "Purged in the last 30 days",
        "admin.retention.oldest": "The oldest transfer still kept was sent",
        "admin.retention.oldest_expires": "it expires",
        "admin.retention.none_live": "No transfer is kept right now.",
        "admin.retention.as_of": "Counted",
        "admin.orgs.title": "Organisations",
        "admin.orgs.intro": (
            "Every organisation of the service, with its member counts. Creating one is "
            "recorded in the audit log."
        ),
        "admin.orgs.caption": "Organisations of the service",
        "admin.orgs.col_name": "Name",
        "admin.orgs.col_created": "Created",
        "admin.orgs.col_members": "Members",
        "admin.orgs.col_active": "Active",
        "admin.orgs.col_pending": "Awaiting enrolment",
        "admin.orgs.col_disabled": "Disabled",
        "admin.orgs.col_passkeys": "Passkey required for",
        "admin.orgs.no_role": "no role",
        "admin.role.admin": "admin",
        "admin.role.sender": "sender",
        "admin.role.recipient": "recipient",
        "admin.orgs.create_title": "Create an organisation",
        "admin.orgs.name": "Short name of the organisation",
        "admin.orgs.name_hint": "Lowercase letters, digits and dashes, at most 64 (e.g. cpam-75).",
        "admin.orgs.admin_email": "E-mail of its first administrator (optional)",
        "admin.orgs.admin_email_hint": "They get a one-time enrolment link, valid 72 hours.",
        "admin.orgs.create": "Create the organisation",
        "admin.orgs.enrolment_title": "The administrator's enrolment link",
        "admin.orgs.enrolment_intro": (
            "Shown once: give it over a trusted channel. It lets them choose a password and a "
            "second factor."
        ),
        "admin.breach.title": "Data breach register",
        "admin.breach.intro": (
            "Every assessment made with `scelle breach assess`, for the whole service: window, "
            "scope, deadline to notify the supervisory authority (72 hours, GDPR art. 33). "
            "Every reading of this register is recorded in the audit log."
        ),
        "admin.breach.caption": "Breach assessments, newest first",
        "admin.breach.col_id": "Assessment",
        "admin.breach.col_created": "Made",
        "admin.breach.col_scope": "Scope",
        "admin.breach.col_window": "Breach window",
        "admin.breach.col_aware": "Aware",
        "admin.breach.col_notify_by": "Notify by",
        "admin.breach.col_plaintext": "Plaintext exposed",
        "admin.breach.col_counts": "Extent",
        "admin.breach.scope_server": "server",
        "admin.breach.scope_account": "account",
        "admin.breach.scope_key": "device key",
        "admin.breach.exposed_ciphertext_only": "no, ciphertext only",
        "admin.breach.exposed_none": "no",
        "admin.breach.exposed_yes": "yes",
        "admin.breach.counts": "{transfers} transfer(s), {records} record(s), {subjects} person(s)",
        "admin.breach.left": "{time} left",
        "admin.breach.overdue": "deadline passed {time} ago",
        "admin.breach.empty": "The register is empty.",
        "admin.breach.detail_title": "Assessment",
        "admin.breach.back": "Back to the register",
        "admin.breach.not_found": "This assessment does not exist.",
        "admin.breach.timeline": "Timeline",
        "admin.breach.col_when": "Time",
        "admin.breach.col_event": "Step",
        "admin.breach.event.breach window starts": "breach window starts",
        "admin.breach.event.breach window ends": "breach window ends",
        "admin.breach.event.controller aware of the breach": "controller aware of the breach",
        "admin.breach.event.assessment drafted": "assessment drafted",
        "admin.breach.event.deadline to notify the supervisory authority": (
            "deadline to notify the supervisory authority"
        ),
        "admin.breach.notice": "Draft notice (GDPR art. 33(3))",
        "admin.breach.notice_hint": "A starting point for the DPO, not a filed notice.",
        "admin.breach.downloads": "Download the report",
        "admin.breach.download_json": "Whole assessment (JSON)",
        "admin.breach.download_md_fr": "Draft notice in French (Markdown)",
        "admin.breach.download_md_en": "Draft notice in English (Markdown)",
        "js.status.org_created": "Organisation {name} created.",
        "js.error.org_name": "The name: lowercase letters, digits and dashes, at most 64.",
        "js.error.org_exists": "This organisation or this e-mail address exists already.",
        "js.error.bad_email": "Invalid e-mail address.",
    },
}


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: an explicit choice, then the remembered one, then the browser's."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def translator(language: str) -> Callable[[str], str]:
    """``t(key)`` for one language, falling back to French, then to the key itself."""
    words = MESSAGES.get(language, MESSAGES[DEFAULT])
    fallback = MESSAGES[DEFAULT]

    def t(key: str) -> str:
        return words.get(key) or fallback.get(key) or key

    return t


def browser_messages(language: str) -> dict[str, str]:
    """The ``js.`` messages without their prefix, for the bundle."""
    words = MESSAGES.get(language, MESSAGES[DEFAULT])
    return {key[3:]: value for key, value in words.items() if key.startswith("js.")}
