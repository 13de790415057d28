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
data-confirmation-subject = Kloppen uw gegevens op het extranet van { $site } nog?
data-confirmation-body =
    Beste { $name },

    Eenmaal per jaar vragen we wie een account heeft op het extranet van { $site } om de persoonsgegevens na te kijken die we over hen bijhouden.
    Meld u aan en bekijk uw accountpagina:

    { $link }

    Klopt alles, klik dan op "Mijn gegevens kloppen". Is er iets veranderd, pas het daar aan of laat het ons weten.
