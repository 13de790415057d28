# Layout
skip-to-content = Skip to content
nav-language = Language
nav-sign-in = Sign in
nav-home = Back to the home page
footer-https = This extranet is only served over an encrypted connection (HTTPS).

# Home page
home-title = Client extranet
home-heading = Welcome to the extranet of { $name }
home-lead = The secure space where certified companies, inspectors and our staff share certification files, and where anyone can exercise their rights over their personal data.
home-services = What you can do here
home-documents-title = Certification documents
home-documents-text = Certified companies upload documents to their certification files; inspectors see only the files assigned to them.
home-subprocessors-title = Subprocessors
home-subprocessors-text = The list of subprocessors that handle personal data, every announced change, and your right to object to a new one.
home-rights-title = Your rights over your personal data
home-rights-text = Access and a free copy, rectification, erasure, restriction, data portability, objection and withdrawal of consent, answered within one month.
home-contact = Contact
contact-phone = Phone
contact-email = E-mail
contact-website = Website
contact-enterprise-number = Enterprise number

# Sign in
login-title = Sign in

# Account
login-email = E-mail address
login-password = Password
login-submit = Sign in
login-failed = The e-mail address or the password is not right, or the account is not active.
login-throttled = Too many failed attempts. Try again in { $seconds } seconds.
form-expired = This form has expired or did not come from this site. Please try again.
nav-sign-out = Sign out
nav-sign-out-everywhere = Sign out everywhere
account-title = My account
account-name = Name
account-email = E-mail address
account-roles = Roles
role-admin = Platform administrator
role-staff = Certification-body staff
role-privacy-officer = Privacy coordinator
role-inspector = Inspector
role-client-admin = Primary contact
role-client-user = Contact person

# Profile
profile-title = My details
profile-mobile = Mobile
profile-fax = Fax
profile-function = Function
profile-language = Language
profile-save = Save my details
account-saved = Your details have been saved.
invalid-phone = Use digits, spaces and + . / ( ) - only, e.g. +32 2 123 45 67.
invalid-function = At most 100 characters.
invalid-language = Choose Nederlands, Français or English.
password-change-title = Change my password
password-current = Current password
password-change-submit = Change the password
password-current-wrong = The current password is not right.
password-changed = Your password has been changed. Your other sessions have been signed out.
sessions-title = Sessions

# Staff
staff-organisations-title = Organisations
org-name = Name
org-kind = Kind
org-vat = VAT number
org-new = New organisation
org-create = Create the organisation
org-state = State
org-deactivate = Deactivate the organisation
org-deactivate-help = Its people can no longer sign in, and their sessions end now.
org-reactivate = Reactivate the organisation
org-deactivated-notice = The organisation is deactivated; its people's sessions have ended.
org-reactivated-notice = The organisation is active again.
org-people = People
kind-certification-body = Certification body
kind-client = Certified company
kind-rental = Rental company
invalid-name = Between 1 and 200 characters.
invalid-kind = Choose a kind of organisation.
invalid-role = Choose one of the roles offered.
enterprise-number-format = An enterprise number has 10 digits and starts with 0 or 1, e.g. 0123.456.749.
enterprise-number-checksum = This enterprise number does not exist: its check digits are wrong.
enterprise-number-taken = Another organisation already has this enterprise number.
vat-format = A VAT number starts with a country code, e.g. BE0123456749.
vat-country = A VAT number starts with the code of an EU country, e.g. BE.
vat-checksum = This VAT number does not exist: its check digits are wrong.
email-format = This is not an e-mail address.
email-taken = An account already exists for this e-mail address.
person-invite = Invite a person
person-first-name = First name
person-surname = Surname
person-role = Role
person-invite-submit = Send the invitation
person-invited = An invitation has been sent to { $email }.
account-state = State
state-invited = Invited
state-active = Active
state-deactivated = Deactivated

# Passwords
forgot-title = Forgotten password
forgot-intro = Enter the e-mail address of your account. We will send you a link to choose a new password.
forgot-submit = Send the link
forgot-sent = If an account exists for this address, we have sent a link to it. It works once and for one hour.
login-forgot-link = Forgotten your password?
reset-title = Choose a new password
invite-title = Choose your password
new-password = New password
confirm-password = New password, again
set-submit = Save the password
password-mismatch = The two passwords are not the same.
password-too-short = A password has at least { $min } characters.
password-too-long = A password has at most { $max } characters.
password-guessable = This password is too easy to guess. Use a longer phrase of unrelated words.
link-invalid = This link is not valid: it was already used, it expired, or it is incomplete.

# Errors
error-400-title = The request could not be understood
error-400-message = Something in the request was not valid. Please check what you entered and try again.
error-403-title = Access denied
error-403-message = You do not have access to this page.
error-404-title = Page not found
error-404-message = The page you asked for does not exist or is no longer here.
error-408-title = The request took too long
error-408-message = The server stopped waiting for your request. Please try again.
error-413-title = Too large
error-413-message = What you sent is larger than this extranet accepts.
error-429-title = Too many requests
error-429-message = Please wait a moment before trying again.
error-500-title = Something went wrong
error-500-message = An unexpected error occurred on our side. It has been logged; please try again later.

## Audit log page
audit-log-title = Audit log
audit-intro = Who did what, and when. Every search is itself recorded in the audit log. Times are in UTC.
audit-person = Person concerned (e-mail address or id)
audit-organisation = Organisation (id)
audit-actor = Done by (e-mail address or id)
audit-action = Action (beginning, e.g. auth.login)
audit-from = From
audit-until = Until (inclusive)
audit-search = Search
audit-results = Entries
audit-no-results = No entry matches this search.
audit-limit-reached = Only the { $limit } most recent entries are shown. Narrow the search to see the others.
audit-col-time = Time (UTC)
audit-col-action = Action
audit-col-outcome = Outcome
audit-col-actor = Done by
audit-col-subject = Concerns
audit-col-organisation = Organisation
audit-col-detail = Detail
audit-outcome-success = Success
audit-outcome-failure = Failure
audit-outcome-denied = Denied
audit-unknown-email = No account has this e-mail address.
audit-invalid-person = Enter an e-mail address or an id (such as 0192f3a4-…).
audit-invalid-organisation = Enter the organisation's id (such as 0192f3a4-…).
audit-invalid-action = An action has at most 100 characters, without control characters.
audit-invalid-date = Enter a date as YYYY-MM-DD.
audit-until-before-from = This date is before the "From" date.
# The yearly check of one's own data, on the account page
confirmation-title = Is your data still correct?
confirmation-last = You last confirmed your data on { $date } (UTC).
confirmation-never = You have not confirmed your data yet.
confirmation-help = Once a year we ask you to check the personal data above. Saving your details also counts as confirming them.
confirmation-button = My data is correct
confirmation-done = Thank you: your confirmation has been recorded.
