password-reset-subject = Reset your password for { $site }
password-reset-body =
    Hello { $name },

    Someone (we hope you) asked to reset the password of your account on the extranet of { $site }.
    To choose a new password, open this link within { $minutes } minutes:

    { $link }

    The link works once. If you did not ask for this, ignore this message: your password stays as it is.
invitation-subject = Your account on the extranet of { $site }
invitation-body =
    Hello { $name },

    An account has been created for you on the extranet of { $site }.
    To choose your password and sign in, open this link within { $minutes } minutes:

    { $link }

    The link works once.
data-confirmation-subject = Is your data on the extranet of { $site } still correct?
data-confirmation-body =
    Hello { $name },

    Once a year we ask the people with an account on the extranet of { $site } to check the personal data we hold about them.
    Please sign in and look at your account page:

    { $link }

    If everything is correct, press "My data is correct". If something has changed, correct it there or let us know.
subprocessor-notice-subject = { $kind ->
        [add] New subprocessor announced: { $name }
        [replace] Subprocessor replacement announced: { $name }
        [remove] Subprocessor removal announced: { $name }
       *[other] Subprocessor change announced: { $name }
    }
subprocessor-notice-body =
    Hello,

    { $site } announces a change to the subprocessors that process personal data on its behalf. It takes effect on { $date }.

    { $summary }

    Until then your company may object to it in the extranet. The notice, the days left and the "Object" button are here:

    { $link }

    You receive this message as a contact of a client company. You can unsubscribe on the subprocessors page.
subprocessor-withdrawn-subject = Notice withdrawn: { $name }
subprocessor-withdrawn-body =
    Hello,

    { $site } has withdrawn its notice about the subprocessor { $name }, which was to take effect on { $date }. Nothing changes.

    Reason: { $reason }

    { $link }
objection-decided-subject = { $decision ->
        [upheld] Your objection was upheld: { $name }
        [rejected] Your objection was rejected: { $name }
       *[other] Your objection was settled: { $name }
    }
objection-decided-body =
    Hello,

    { $site } has decided your company's objection to the notice about the subprocessor { $name }.

    { $decision ->
        [upheld] { $outcome ->
            [exclude] The objection is upheld: { $name } will not process your company's data.
           *[other] The objection is upheld: the notice is withdrawn.
        }
        [rejected] The objection is rejected.
       *[other] The objection is settled by agreement.
    }

    { $note }

    The decision in the extranet:

    { $link }
newsletter-subject = { $subject }
newsletter-body =
    { $body }

    —
    You receive this newsletter from { $site } because you agreed to receive it on the extranet. You can withdraw that consent at any time, without signing in, by opening this link:

    { $link }
essential-security = You receive this message because it concerns your account's security; it is not a newsletter.
essential-account = You receive this message because it concerns your account and the personal data we hold about you; it is not a newsletter.
essential-legal = You receive this message because it is a legal notice about the processing of personal data; it is not a newsletter.

# privacy- the privacy notice changed (issue 16)
privacy-notice-subject = { $site }: our privacy notice has changed (version { $version })
privacy-notice-body =
    Hello,

    { $site } has changed its privacy notice: it now stands in version { $version }. This is an essential legal notice about how your personal data is processed, not a marketing message; you receive it as a user of the extranet.

    The notice says what we process and why, on which legal basis, who receives it, how long it is kept, and how to exercise your rights:

    { $link }

    Earlier versions remain available on the same page.
