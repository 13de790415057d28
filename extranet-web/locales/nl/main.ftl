# Layout
skip-to-content = Naar de inhoud
nav-language = Taal
nav-sign-in = Aanmelden
nav-home = Terug naar de startpagina
footer-https = Dit extranet is alleen bereikbaar via een versleutelde verbinding (HTTPS).

# Home page
home-title = Klantenextranet
home-heading = Welkom op het extranet van { $name }
home-lead = De beveiligde omgeving waar gecertificeerde bedrijven, inspecteurs en onze medewerkers certificatiedossiers delen, en waar iedereen zijn rechten over zijn persoonsgegevens kan uitoefenen.
home-services = Wat u hier kunt doen
home-documents-title = Certificatiedocumenten
home-documents-text = Gecertificeerde bedrijven laden documenten op in hun certificatiedossiers; inspecteurs zien alleen de dossiers die hun zijn toegewezen.
home-subprocessors-title = Subverwerkers
home-subprocessors-text = De lijst van subverwerkers die persoonsgegevens verwerken, elke aangekondigde wijziging, en uw recht om bezwaar te maken tegen een nieuwe subverwerker.
home-rights-title = Uw rechten over uw persoonsgegevens
home-rights-text = Inzage en een gratis kopie, rectificatie, gegevenswissing, beperking van de verwerking, overdraagbaarheid van gegevens, bezwaar en intrekking van toestemming, beantwoord binnen één maand.
home-contact = Contact
contact-phone = Telefoon
contact-email = E-mail
contact-website = Website
contact-enterprise-number = Ondernemingsnummer

# Sign in
login-title = Aanmelden

# Account
login-email = E-mailadres
login-password = Wachtwoord
login-submit = Aanmelden
login-failed = Het e-mailadres of het wachtwoord klopt niet, of de account is niet actief.
login-throttled = Te veel mislukte pogingen. Probeer het opnieuw over { $seconds } seconden.
form-expired = Dit formulier is verlopen of kwam niet van deze site. Probeer het opnieuw.
nav-sign-out = Afmelden
nav-sign-out-everywhere = Overal afmelden
account-title = Mijn account
account-name = Naam
account-email = E-mailadres
account-roles = Rollen
role-admin = Platformbeheerder
role-staff = Medewerker van de certificatie-instelling
role-privacy-officer = Privacycoördinator
role-inspector = Inspecteur
role-client-admin = Hoofdcontactpersoon
role-client-user = Contactpersoon

# Profile
profile-title = Mijn gegevens
profile-mobile = Gsm
profile-fax = Fax
profile-function = Functie
profile-language = Taal
profile-save = Mijn gegevens opslaan
account-saved = Uw gegevens zijn opgeslagen.
invalid-phone = Gebruik alleen cijfers, spaties en + . / ( ) -, bv. +32 2 123 45 67.
invalid-function = Hoogstens 100 tekens.
invalid-language = Kies Nederlands, Français of English.
password-change-title = Mijn wachtwoord wijzigen
password-current = Huidig wachtwoord
password-change-submit = Wachtwoord wijzigen
password-current-wrong = Het huidige wachtwoord klopt niet.
password-changed = Uw wachtwoord is gewijzigd. Uw andere sessies zijn afgemeld.
sessions-title = Sessies

# Staff
staff-organisations-title = Organisaties
org-name = Naam
org-kind = Soort
org-vat = Btw-nummer
org-new = Nieuwe organisatie
org-create = Organisatie aanmaken
org-state = Status
org-deactivate = Organisatie deactiveren
org-deactivate-help = Haar personen kunnen zich niet meer aanmelden en hun sessies eindigen nu.
org-reactivate = Organisatie opnieuw activeren
org-deactivated-notice = De organisatie is gedeactiveerd; de sessies van haar personen zijn beëindigd.
org-reactivated-notice = De organisatie is opnieuw actief.
org-people = Personen
kind-certification-body = Certificatie-instelling
kind-client = Gecertificeerd bedrijf
kind-rental = Verhuurbedrijf
invalid-name = Tussen 1 en 200 tekens.
invalid-kind = Kies een soort organisatie.
invalid-role = Kies een van de aangeboden rollen.
enterprise-number-format = Een ondernemingsnummer heeft 10 cijfers en begint met 0 of 1, bv. 0123.456.749.
enterprise-number-checksum = Dit ondernemingsnummer bestaat niet: de controlecijfers kloppen niet.
enterprise-number-taken = Een andere organisatie heeft dit ondernemingsnummer al.
vat-format = Een btw-nummer begint met een landcode, bv. BE0123456749.
vat-country = Een btw-nummer begint met de code van een EU-land, bv. BE.
vat-checksum = Dit btw-nummer bestaat niet: de controlecijfers kloppen niet.
email-format = Dit is geen e-mailadres.
email-taken = Er bestaat al een account voor dit e-mailadres.
person-invite = Een persoon uitnodigen
person-first-name = Voornaam
person-surname = Naam
person-role = Rol
person-invite-submit = Uitnodiging versturen
person-invited = Er is een uitnodiging verstuurd naar { $email }.
account-state = Status
state-invited = Uitgenodigd
state-active = Actief
state-deactivated = Gedeactiveerd

# Passwords
forgot-title = Wachtwoord vergeten
forgot-intro = Vul het e-mailadres van uw account in. We sturen u een link om een nieuw wachtwoord te kiezen.
forgot-submit = Stuur de link
forgot-sent = Als er een account bestaat voor dit adres, hebben we er een link naartoe gestuurd. Die werkt één keer en één uur lang.
login-forgot-link = Wachtwoord vergeten?
reset-title = Kies een nieuw wachtwoord
invite-title = Kies uw wachtwoord
new-password = Nieuw wachtwoord
confirm-password = Nieuw wachtwoord, nog eens
set-submit = Wachtwoord opslaan
password-mismatch = De twee wachtwoorden zijn niet gelijk.
password-too-short = Een wachtwoord heeft minstens { $min } tekens.
password-too-long = Een wachtwoord heeft hoogstens { $max } tekens.
password-guessable = Dit wachtwoord is te makkelijk te raden. Gebruik een langere zin van losse woorden.
link-invalid = Deze link is niet geldig: hij werd al gebruikt, is verlopen of is onvolledig.

# Errors
error-400-title = Het verzoek kon niet worden begrepen
error-400-message = Iets in het verzoek was niet geldig. Controleer wat u hebt ingevuld en probeer het opnieuw.
error-403-title = Toegang geweigerd
error-403-message = U hebt geen toegang tot deze pagina.
error-404-title = Pagina niet gevonden
error-404-message = De gevraagde pagina bestaat niet of is hier niet meer.
error-408-title = Het verzoek duurde te lang
error-408-message = De server heeft het wachten op uw verzoek opgegeven. Probeer het opnieuw.
error-413-title = Te groot
error-413-message = Wat u verstuurde is groter dan dit extranet aanvaardt.
error-429-title = Te veel verzoeken
error-429-message = Wacht even voor u het opnieuw probeert.
error-500-title = Er is iets misgegaan
error-500-message = Er is aan onze kant een onverwachte fout opgetreden. Ze is geregistreerd; probeer het later opnieuw.

## Audit log page
audit-log-title = Auditlogboek
audit-intro = Wie deed wat, en wanneer. Elke zoekopdracht wordt zelf in het auditlogboek opgenomen. Tijden staan in UTC.
audit-person = Betrokkene (e-mailadres of id)
audit-organisation = Organisatie (id)
audit-actor = Uitgevoerd door (e-mailadres of id)
audit-action = Actie (begin, bv. auth.login)
audit-from = Van
audit-until = Tot en met
audit-search = Zoeken
audit-results = Vermeldingen
audit-no-results = Geen enkele vermelding beantwoordt aan deze zoekopdracht.
audit-limit-reached = Alleen de { $limit } recentste vermeldingen worden getoond. Verfijn de zoekopdracht om de andere te zien.
audit-col-time = Tijdstip (UTC)
audit-col-action = Actie
audit-col-outcome = Resultaat
audit-col-actor = Uitgevoerd door
audit-col-subject = Betreft
audit-col-organisation = Organisatie
audit-col-detail = Details
audit-outcome-success = Gelukt
audit-outcome-failure = Mislukt
audit-outcome-denied = Geweigerd
audit-unknown-email = Geen enkel account heeft dit e-mailadres.
audit-invalid-person = Geef een e-mailadres of een id (zoals 0192f3a4-…).
audit-invalid-organisation = Geef het id van de organisatie (zoals 0192f3a4-…).
audit-invalid-action = Een actie heeft hoogstens 100 tekens, zonder controletekens.
audit-invalid-date = Geef een datum als JJJJ-MM-DD.
audit-until-before-from = Deze datum ligt vóór de datum bij "Van".
# De jaarlijkse controle van de eigen gegevens, op de accountpagina
confirmation-title = Kloppen uw gegevens nog?
confirmation-last = U hebt uw gegevens het laatst bevestigd op { $date } (UTC).
confirmation-never = U hebt uw gegevens nog niet bevestigd.
confirmation-help = Eenmaal per jaar vragen we u de persoonsgegevens hierboven na te kijken. Uw gegevens opslaan geldt ook als bevestiging.
confirmation-button = Mijn gegevens kloppen
confirmation-done = Bedankt: uw bevestiging is geregistreerd.
