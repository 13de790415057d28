password-reset-subject = Stel uw wachtwoord opnieuw in voor { $site }
password-reset-body =
    Beste { $name },

    Iemand (hopelijk u) heeft gevraagd het wachtwoord van uw account op het extranet van { $site } opnieuw in te stellen.
    Open deze link binnen { $minutes } minuten om een nieuw wachtwoord te kiezen:

    { $link }

    De link werkt één keer. Hebt u dit niet gevraagd, negeer dan dit bericht: uw wachtwoord blijft ongewijzigd.
invitation-subject = Uw account op het extranet van { $site }
invitation-body =
    Beste { $name },

    Er is een account voor u aangemaakt op het extranet van { $site }.
    Open deze link binnen { $minutes } minuten om uw wachtwoord te kiezen en u aan te melden:

    { $link }

    De link werkt één keer.
