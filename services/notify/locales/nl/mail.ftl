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
subprocessor-notice-subject = { $kind ->
        [add] Nieuwe subverwerker aangekondigd: { $name }
        [replace] Vervanging van een subverwerker aangekondigd: { $name }
        [remove] Stopzetting van een subverwerker aangekondigd: { $name }
       *[other] Wijziging van een subverwerker aangekondigd: { $name }
    }
subprocessor-notice-body =
    Beste,

    { $site } kondigt een wijziging aan in de subverwerkers die in haar opdracht persoonsgegevens verwerken. Ze gaat in op { $date }.

    { $summary }

    Tot dan kan uw bedrijf er in het extranet bezwaar tegen maken. Het wijzigingsbericht, de resterende dagen en de knop "Bezwaar maken" vindt u hier:

    { $link }

    U ontvangt dit bericht als contactpersoon van een klantbedrijf. U kunt zich afmelden op de pagina Subverwerkers.
subprocessor-withdrawn-subject = Wijzigingsbericht ingetrokken: { $name }
subprocessor-withdrawn-body =
    Beste,

    { $site } heeft haar wijzigingsbericht over de subverwerker { $name } ingetrokken; die zou ingaan op { $date }. Er verandert niets.

    Reden: { $reason }

    { $link }
objection-decided-subject = { $decision ->
        [upheld] Uw bezwaar is gegrond verklaard: { $name }
        [rejected] Uw bezwaar is afgewezen: { $name }
       *[other] Uw bezwaar is in onderling overleg geregeld: { $name }
    }
objection-decided-body =
    Beste,

    { $site } heeft beslist over het bezwaar van uw bedrijf tegen het wijzigingsbericht over de subverwerker { $name }.

    { $decision ->
        [upheld] { $outcome ->
            [exclude] Het bezwaar is gegrond: { $name } zal de gegevens van uw bedrijf niet verwerken.
           *[other] Het bezwaar is gegrond: het wijzigingsbericht is ingetrokken.
        }
        [rejected] Het bezwaar is afgewezen.
       *[other] Het bezwaar is in onderling overleg geregeld.
    }

    { $note }

    De beslissing in het extranet:

    { $link }
newsletter-subject = { $subject }
newsletter-body =
    { $body }

    —
    U ontvangt deze nieuwsbrief van { $site } omdat u op het extranet toestemming gaf om hem te ontvangen. U kunt die toestemming op elk moment intrekken, zonder u aan te melden, door deze link te openen:

    { $link }
essential-security = U ontvangt dit bericht omdat het de beveiliging van uw account betreft; het is geen nieuwsbrief.
essential-account = U ontvangt dit bericht omdat het uw account en de persoonsgegevens die we over u bijhouden betreft; het is geen nieuwsbrief.
essential-legal = U ontvangt dit bericht omdat het een wettelijke kennisgeving over de verwerking van persoonsgegevens is; het is geen nieuwsbrief.
essential-coordinator = U ontvangt dit bericht omdat u de privacycoördinator bent die in de configuratie van deze installatie staat; het is geen nieuwsbrief.

# privacy- de privacyverklaring is gewijzigd (issue 16)
privacy-notice-subject = { $site }: onze privacyverklaring is gewijzigd (versie { $version })
privacy-notice-body =
    Hallo,

    { $site } heeft zijn privacyverklaring gewijzigd: ze staat nu in versie { $version }. Dit is een essentiële juridische kennisgeving over de verwerking van uw persoonsgegevens, geen reclamebericht; u ontvangt ze als gebruiker van het extranet.

    De verklaring zegt welke gegevens wij verwerken en waarom, op welke rechtsgrond, wie ze ontvangt, hoelang ze bewaard worden en hoe u uw rechten uitoefent:

    { $link }

    Eerdere versies blijven op dezelfde pagina beschikbaar.

# rights- verzoeken van betrokkenen (issue 17)
rights-confirm-subject = { $site }: bevestig uw privacyverzoek
rights-confirm-body =
    Beste { $name },

    We ontvingen met dit e-mailadres een verzoek om uw privacyrechten uit te oefenen ({ $rights }). Open binnen { $hours } uur deze link om te bevestigen dat het van u komt en het te laten registreren:

    { $link }

    Zolang u niet bevestigt, gebeurt er niets. Diende u het niet in, negeer dan dit bericht.
rights-received-subject = { $site }: uw verzoek { $number } is ontvangen
rights-received-body =
    Beste,

    Uw verzoek { $number } ({ $rights }) is ontvangen. We beantwoorden het uiterlijk op { $due }.

    Volg het hier:

    { $link }

    Uw ondertekend ontvangstbewijs (controleerbaar met de sleutels gepubliceerd op /.well-known/jwks.json):

    { $receipt }
rights-update-subject = { $site }: uw verzoek { $number } — { $step ->
        [identity_check] we moeten nagaan wie u bent
        [in_progress] we werken eraan
        [extended] het antwoord wordt uitgesteld
        [closed] { $state ->
            [fulfilled] het is ingewilligd
            [partly_fulfilled] het is gedeeltelijk ingewilligd
           *[refused] het is geweigerd
        }
        [carried_out] we hebben het uitgevoerd
       *[other] een nieuw bericht
    }
rights-update-body =
    Beste,

    { $step ->
        [identity_check] Voor we iets meedelen of wijzigen, moeten we nagaan wie u bent:
        [in_progress] We werken aan uw verzoek.
        [extended] We hebben meer tijd nodig om uw verzoek te beantwoorden, wat de wet één keer toestaat (AVG art. 12, lid 3). De nieuwe datum is { $due }. Waarom:
        [closed] { $state ->
            [fulfilled] Uw verzoek is ingewilligd:
            [partly_fulfilled] Uw verzoek is gedeeltelijk ingewilligd. Wat niet gebeurde, steunt op deze wettelijke grond: { $ground }.
           *[refused] Uw verzoek is geweigerd op deze wettelijke grond: { $ground }.
        }
        [carried_out] { $result ->
            [done] We hebben uw recht uitgevoerd: { $right ->
                [access] inzage en een kopie
                [rectification] rectificatie
                [erasure] wissing
                [restriction] beperking
                [portability] overdraagbaarheid
                [objection] bezwaar
                *[withdrawal] intrekking van toestemming
            }.
            [partly] We hebben uw recht gedeeltelijk uitgevoerd: { $right ->
                [access] inzage en een kopie
                [rectification] rectificatie
                [erasure] wissing
                [restriction] beperking
                [portability] overdraagbaarheid
                [objection] bezwaar
                *[withdrawal] intrekking van toestemming
            }. Wat niet gebeurde, steunt op deze wettelijke grond: { $ground }.
            [refused] We konden uw recht voorlopig niet uitvoeren: { $right ->
                [access] inzage en een kopie
                [rectification] rectificatie
                [erasure] wissing
                [restriction] beperking
                [portability] overdraagbaarheid
                [objection] bezwaar
                *[withdrawal] intrekking van toestemming
            }. De wettelijke grond: { $ground }.
           *[nothing_held] We bewaren onder dit adres geen gegevens over u: voor { $right ->
                [access] inzage en een kopie
                [rectification] rectificatie
                [erasure] wissing
                [restriction] beperking
                [portability] overdraagbaarheid
                [objection] bezwaar
                *[withdrawal] intrekking van toestemming
            } is er niets te doen.
        }
       *[other] Er is een nieuw bericht over uw verzoek:
    }

    { $note }

    Uw verzoek en elke stap ervan:

    { $link }

    Bent u het niet eens met hoe uw verzoek behandeld werd, dan kunt u klacht indienen bij de gegevensbeschermingsautoriteit.
rights-reminder-subject = { $site }: verzoek { $number } vervalt op { $due }
rights-reminder-body =
    Verzoek { $number } moet uiterlijk op { $due } beantwoord zijn.

    { $link }
rights-overdue-subject = { $site }: verzoek { $number } is over tijd (uiterlijk { $due })
rights-overdue-body =
    Verzoek { $number } moest op { $due } beantwoord zijn en is niet afgesloten.

    { $link }

audit-checkpoint-subject = { $site }: controlepunt van het auditlogboek ({ $entries } regels)
audit-checkpoint-body =
    Dit controlepunt legt vast wat het auditlogboek bevatte op { $at }: { $entries } regels, de laatste met hash { $hash }. Het is ondertekend met de sleutels die op /.well-known/jwks.json gepubliceerd zijn.

    Bewaar dit bericht waar de beheerders van het extranet het niet kunnen wijzigen. Om aan te tonen dat het logboek nog alles tot op dit punt bevat en dat niets daarvoor gewijzigd werd, slaat u de regel hieronder op in een bestand en voert u uit: extranet audit verify --checkpoint BESTAND

    { $checkpoint }

    Het auditlogboek: { $link }
