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
essential-coordinator = You receive this message because you are the privacy coordinator named in this installation's configuration; it is not a newsletter.

# privacy- the privacy notice changed (issue 16)
privacy-notice-subject = { $site }: our privacy notice has changed (version { $version })
privacy-notice-body =
    Hello,

    { $site } has changed its privacy notice: it now stands in version { $version }. This is an essential legal notice about how your personal data is processed, not a marketing message; you receive it as a user of the extranet.

    The notice says what we process and why, on which legal basis, who receives it, how long it is kept, and how to exercise your rights:

    { $link }

    Earlier versions remain available on the same page.

# rights- data subjects' rights requests (issue 17)
rights-confirm-subject = { $site }: confirm your privacy request
rights-confirm-body =
    Hello { $name },

    We received a request to exercise your privacy rights ({ $rights }) filed with this e-mail address. To confirm that it is yours and have it registered, open this link within { $hours } hours:

    { $link }

    Until you confirm it, nothing happens. If you did not file it, ignore this message.
rights-received-subject = { $site }: your request { $number } was received
rights-received-body =
    Hello,

    Your request { $number } ({ $rights }) was received. We answer it by { $due } at the latest.

    Follow it here:

    { $link }

    Your signed receipt (verifiable with the keys published at /.well-known/jwks.json):

    { $receipt }
rights-update-subject = { $site }: your request { $number } — { $step ->
        [identity_check] we need to confirm who you are
        [in_progress] we are working on it
        [extended] the answer is postponed
        [closed] { $state ->
            [fulfilled] it has been fulfilled
            [partly_fulfilled] it has been partly fulfilled
           *[refused] it has been refused
        }
        [carried_out] we have acted on it
       *[other] a new message
    }
rights-update-body =
    Hello,

    { $step ->
        [identity_check] Before we disclose or change anything, we need to confirm who you are:
        [in_progress] We are working on your request.
        [extended] We need more time to answer your request, which the law allows once (GDPR Art. 12(3)). The new date is { $due }. Why:
        [closed] { $state ->
            [fulfilled] Your request has been fulfilled:
            [partly_fulfilled] Your request has been partly fulfilled. What was not done rests on this legal ground: { $ground }.
           *[refused] Your request has been refused on this legal ground: { $ground }.
        }
        [carried_out] { $result ->
            [done] We have carried out your right: { $right ->
                [access] access and a copy
                [rectification] rectification
                [erasure] erasure
                [restriction] restriction
                [portability] portability
                [objection] objection
                *[withdrawal] withdrawal of consent
            }.
            [partly] We have carried out your right in part: { $right ->
                [access] access and a copy
                [rectification] rectification
                [erasure] erasure
                [restriction] restriction
                [portability] portability
                [objection] objection
                *[withdrawal] withdrawal of consent
            }. What was not done rests on this legal ground: { $ground }.
            [refused] We could not carry out your right for now: { $right ->
                [access] access and a copy
                [rectification] rectification
                [erasure] erasure
                [restriction] restriction
                [portability] portability
                [objection] objection
                *[withdrawal] withdrawal of consent
            }. The legal ground: { $ground }.
           *[nothing_held] We hold no data on you under this address: { $right ->
                [access] access and a copy
                [rectification] rectification
                [erasure] erasure
                [restriction] restriction
                [portability] portability
                [objection] objection
                *[withdrawal] withdrawal of consent
            } leaves nothing to do.
        }
       *[other] There is a new message about your request:
    }

    { $note }

    Your request and every step of it:

    { $link }

    If you disagree with how your request was handled, you may lodge a complaint with the data protection authority.
rights-reminder-subject = { $site }: request { $number } is due on { $due }
rights-reminder-body =
    Request { $number } must be answered by { $due }.

    { $link }
rights-overdue-subject = { $site }: request { $number } is overdue (due { $due })
rights-overdue-body =
    Request { $number } was due on { $due } and is not closed.

    { $link }

audit-checkpoint-subject = { $site }: audit log checkpoint ({ $entries } entries)
audit-checkpoint-body =
    This checkpoint records what the audit log held at { $at }: { $entries } entries, the last with hash { $hash }. It is signed with the keys published at /.well-known/jwks.json.

    Keep this message where the extranet's administrators cannot change it. To prove that the log still holds everything up to this point and that nothing before it was altered, save the line below to a file and run: extranet audit verify --checkpoint FILE

    { $checkpoint }

    The audit log: { $link }
