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
