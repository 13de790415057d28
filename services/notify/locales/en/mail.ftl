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
