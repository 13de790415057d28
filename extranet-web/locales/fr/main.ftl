# Layout
skip-to-content = Aller au contenu
nav-language = Langue
nav-sign-in = Se connecter
nav-home = Retour à la page d'accueil
footer-https = Cet extranet n'est accessible que par une connexion chiffrée (HTTPS).

# Home page
home-title = Extranet clients
home-heading = Bienvenue sur l'extranet de { $name }
home-lead = L'espace sécurisé où les entreprises certifiées, les inspecteurs et notre personnel partagent les dossiers de certification, et où chacun peut exercer ses droits sur ses données à caractère personnel.
home-services = Ce que vous pouvez faire ici
home-documents-title = Documents de certification
home-documents-text = Les entreprises certifiées téléversent des documents dans leurs dossiers de certification ; les inspecteurs ne voient que les dossiers qui leur sont affectés.
home-subprocessors-title = Sous-traitants ultérieurs
home-subprocessors-text = La liste des sous-traitants ultérieurs qui traitent des données à caractère personnel, chaque modification annoncée, et votre droit de formuler une objection contre un nouveau sous-traitant ultérieur.
home-rights-title = Vos droits sur vos données à caractère personnel
home-rights-text = Accès et copie gratuite, rectification, effacement, limitation du traitement, portabilité des données, opposition et retrait du consentement, avec une réponse dans le mois.
home-contact = Contact
contact-phone = Téléphone
contact-email = E-mail
contact-website = Site web
contact-enterprise-number = Numéro d'entreprise

# Sign in
login-title = Se connecter

# Account
login-email = Adresse e-mail
login-password = Mot de passe
login-submit = Se connecter
login-failed = L'adresse e-mail ou le mot de passe n'est pas correct, ou le compte n'est pas actif.
login-throttled = Trop de tentatives échouées. Réessayez dans { $seconds } secondes.
form-expired = Ce formulaire a expiré ou ne provient pas de ce site. Veuillez réessayer.
nav-sign-out = Se déconnecter
nav-sign-out-everywhere = Se déconnecter partout
account-title = Mon compte
account-name = Nom
account-email = Adresse e-mail
account-roles = Rôles
role-admin = Administrateur de la plateforme
role-staff = Personnel de l'organisme de certification
role-privacy-officer = Coordinateur vie privée
role-inspector = Inspecteur
role-client-admin = Contact principal
role-client-user = Personne de contact

# Profile
profile-title = Mes données
profile-mobile = GSM
profile-fax = Fax
profile-function = Fonction
profile-language = Langue
profile-save = Enregistrer mes données
account-saved = Vos données ont été enregistrées.
invalid-phone = Utilisez uniquement des chiffres, des espaces et + . / ( ) -, p. ex. +32 2 123 45 67.
invalid-function = Au plus 100 caractères.
invalid-language = Choisissez Nederlands, Français ou English.
password-change-title = Changer mon mot de passe
password-current = Mot de passe actuel
password-change-submit = Changer le mot de passe
password-current-wrong = Le mot de passe actuel n'est pas correct.
password-changed = Votre mot de passe a été changé. Vos autres sessions ont été déconnectées.
sessions-title = Sessions

# Staff
staff-organisations-title = Organisations
org-name = Nom
org-kind = Type
org-vat = Numéro de TVA
org-new = Nouvelle organisation
org-create = Créer l'organisation
org-state = Statut
org-deactivate = Désactiver l'organisation
org-deactivate-help = Ses personnes ne peuvent plus se connecter et leurs sessions prennent fin maintenant.
org-reactivate = Réactiver l'organisation
org-deactivated-notice = L'organisation est désactivée ; les sessions de ses personnes ont pris fin.
org-reactivated-notice = L'organisation est de nouveau active.
org-people = Personnes
kind-certification-body = Organisme de certification
kind-client = Entreprise certifiée
kind-rental = Entreprise de location
invalid-name = Entre 1 et 200 caractères.
invalid-kind = Choisissez un type d'organisation.
invalid-role = Choisissez l'un des rôles proposés.
enterprise-number-format = Un numéro d'entreprise compte 10 chiffres et commence par 0 ou 1, p. ex. 0123.456.749.
enterprise-number-checksum = Ce numéro d'entreprise n'existe pas : ses chiffres de contrôle sont faux.
enterprise-number-taken = Une autre organisation a déjà ce numéro d'entreprise.
vat-format = Un numéro de TVA commence par un code pays, p. ex. BE0123456749.
vat-country = Un numéro de TVA commence par le code d'un pays de l'UE, p. ex. BE.
vat-checksum = Ce numéro de TVA n'existe pas : ses chiffres de contrôle sont faux.
email-format = Ce n'est pas une adresse e-mail.
email-taken = Un compte existe déjà pour cette adresse e-mail.
person-invite = Inviter une personne
person-first-name = Prénom
person-surname = Nom
person-role = Rôle
person-invite-submit = Envoyer l'invitation
person-invited = Une invitation a été envoyée à { $email }.
account-state = État
state-invited = Invité
state-active = Actif
state-deactivated = Désactivé

# Passwords
forgot-title = Mot de passe oublié
forgot-intro = Saisissez l'adresse e-mail de votre compte. Nous vous enverrons un lien pour choisir un nouveau mot de passe.
forgot-submit = Envoyer le lien
forgot-sent = Si un compte existe pour cette adresse, nous y avons envoyé un lien. Il fonctionne une fois, pendant une heure.
login-forgot-link = Mot de passe oublié ?
reset-title = Choisissez un nouveau mot de passe
invite-title = Choisissez votre mot de passe
new-password = Nouveau mot de passe
confirm-password = Nouveau mot de passe, à nouveau
set-submit = Enregistrer le mot de passe
password-mismatch = Les deux mots de passe ne sont pas identiques.
password-too-short = Un mot de passe compte au moins { $min } caractères.
password-too-long = Un mot de passe compte au plus { $max } caractères.
password-guessable = Ce mot de passe est trop facile à deviner. Utilisez une phrase plus longue de mots sans lien.
link-invalid = Ce lien n'est pas valable : il a déjà été utilisé, il a expiré ou il est incomplet.

# Errors
error-400-title = La demande n'a pas pu être comprise
error-400-message = Un élément de la demande n'était pas valable. Vérifiez ce que vous avez saisi et réessayez.
error-403-title = Accès refusé
error-403-message = Vous n'avez pas accès à cette page.
error-404-title = Page introuvable
error-404-message = La page demandée n'existe pas ou n'est plus ici.
error-408-title = La demande a pris trop de temps
error-408-message = Le serveur a cessé d'attendre votre demande. Veuillez réessayer.
error-413-title = Trop volumineux
error-413-message = Ce que vous avez envoyé dépasse la taille acceptée par cet extranet.
error-429-title = Trop de demandes
error-429-message = Veuillez patienter un instant avant de réessayer.
error-500-title = Une erreur s'est produite
error-500-message = Une erreur inattendue s'est produite de notre côté. Elle a été enregistrée ; veuillez réessayer plus tard.

## Audit log page
audit-log-title = Journal d'audit
audit-intro = Qui a fait quoi, et quand. Chaque recherche est elle-même enregistrée dans le journal d'audit. Les heures sont en UTC.
audit-person = Personne concernée (adresse e-mail ou identifiant)
audit-organisation = Organisation (identifiant)
audit-actor = Effectué par (adresse e-mail ou identifiant)
audit-action = Action (début, p. ex. auth.login)
audit-from = Du
audit-until = Au (inclus)
audit-search = Rechercher
audit-results = Entrées
audit-no-results = Aucune entrée ne correspond à cette recherche.
audit-limit-reached = Seules les { $limit } entrées les plus récentes sont affichées. Affinez la recherche pour voir les autres.
audit-col-time = Heure (UTC)
audit-col-action = Action
audit-col-outcome = Résultat
audit-col-actor = Effectué par
audit-col-subject = Concerne
audit-col-organisation = Organisation
audit-col-detail = Détails
audit-outcome-success = Réussi
audit-outcome-failure = Échoué
audit-outcome-denied = Refusé
audit-unknown-email = Aucun compte n'a cette adresse e-mail.
audit-invalid-person = Indiquez une adresse e-mail ou un identifiant (tel que 0192f3a4-…).
audit-invalid-organisation = Indiquez l'identifiant de l'organisation (tel que 0192f3a4-…).
audit-invalid-action = Une action compte au plus 100 caractères, sans caractères de contrôle.
audit-invalid-date = Indiquez une date au format AAAA-MM-JJ.
audit-until-before-from = Cette date précède la date « Du ».
# La vérification annuelle de ses propres données, sur la page du compte
confirmation-title = Vos données sont-elles toujours correctes ?
confirmation-last = Vous avez confirmé vos données pour la dernière fois le { $date } (UTC).
confirmation-never = Vous n'avez pas encore confirmé vos données.
confirmation-help = Une fois par an, nous vous demandons de vérifier les données à caractère personnel ci-dessus. Enregistrer vos données vaut aussi confirmation.
confirmation-button = Mes données sont correctes
confirmation-done = Merci : votre confirmation a été enregistrée.
