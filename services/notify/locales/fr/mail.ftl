password-reset-subject = Réinitialisez votre mot de passe pour { $site }
password-reset-body =
    Bonjour { $name },

    Quelqu'un (vous, nous l'espérons) a demandé la réinitialisation du mot de passe de votre compte sur l'extranet de { $site }.
    Pour choisir un nouveau mot de passe, ouvrez ce lien dans les { $minutes } minutes :

    { $link }

    Le lien ne fonctionne qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.
invitation-subject = Votre compte sur l'extranet de { $site }
invitation-body =
    Bonjour { $name },

    Un compte a été créé pour vous sur l'extranet de { $site }.
    Pour choisir votre mot de passe et vous connecter, ouvrez ce lien dans les { $minutes } minutes :

    { $link }

    Le lien ne fonctionne qu'une fois.
data-confirmation-subject = Vos données sur l'extranet de { $site } sont-elles toujours correctes ?
data-confirmation-body =
    Bonjour { $name },

    Une fois par an, nous demandons aux personnes qui ont un compte sur l'extranet de { $site } de vérifier les données à caractère personnel que nous détenons à leur sujet.
    Connectez-vous et consultez la page de votre compte :

    { $link }

    Si tout est correct, cliquez sur « Mes données sont correctes ». Si quelque chose a changé, corrigez-le sur cette page ou faites-le-nous savoir.
subprocessor-notice-subject = { $kind ->
        [add] Nouveau sous-traitant ultérieur annoncé : { $name }
        [replace] Remplacement d'un sous-traitant ultérieur annoncé : { $name }
        [remove] Retrait d'un sous-traitant ultérieur annoncé : { $name }
       *[other] Modification d'un sous-traitant ultérieur annoncée : { $name }
    }
subprocessor-notice-body =
    Bonjour,

    { $site } annonce une modification des sous-traitants ultérieurs qui traitent des données à caractère personnel pour son compte. Elle prend effet le { $date }.

    { $summary }

    D'ici là, votre entreprise peut formuler une objection dans l'extranet. L'avis, les jours restants et le bouton « Formuler une objection » se trouvent ici :

    { $link }

    Vous recevez ce message en tant que contact d'une entreprise cliente. Vous pouvez vous désabonner sur la page Sous-traitants ultérieurs.
subprocessor-withdrawn-subject = Avis retiré : { $name }
subprocessor-withdrawn-body =
    Bonjour,

    { $site } a retiré son avis concernant le sous-traitant ultérieur { $name }, qui devait prendre effet le { $date }. Rien ne change.

    Motif : { $reason }

    { $link }
objection-decided-subject = { $decision ->
        [upheld] Votre objection est jugée fondée : { $name }
        [rejected] Votre objection est rejetée : { $name }
       *[other] Votre objection est réglée à l'amiable : { $name }
    }
objection-decided-body =
    Bonjour,

    { $site } a statué sur l'objection de votre entreprise à l'avis concernant le sous-traitant ultérieur { $name }.

    { $decision ->
        [upheld] { $outcome ->
            [exclude] L'objection est fondée : { $name } ne traitera pas les données de votre entreprise.
           *[other] L'objection est fondée : l'avis est retiré.
        }
        [rejected] L'objection est rejetée.
       *[other] L'objection est réglée à l'amiable.
    }

    { $note }

    La décision dans l'extranet :

    { $link }
newsletter-subject = { $subject }
newsletter-body =
    { $body }

    —
    Vous recevez cette lettre d'information de { $site } parce que vous avez consenti à la recevoir sur l'extranet. Vous pouvez retirer ce consentement à tout moment, sans vous connecter, en ouvrant ce lien :

    { $link }
essential-security = Vous recevez ce message parce qu'il concerne la sécurité de votre compte ; ce n'est pas une lettre d'information.
essential-account = Vous recevez ce message parce qu'il concerne votre compte et les données à caractère personnel que nous conservons à votre sujet ; ce n'est pas une lettre d'information.
essential-legal = Vous recevez ce message parce qu'il s'agit d'une notification légale concernant le traitement de données à caractère personnel ; ce n'est pas une lettre d'information.
essential-coordinator = Vous recevez ce message parce que vous êtes le coordinateur vie privée désigné dans la configuration de cette installation ; ce n'est pas une lettre d'information.

# privacy- la déclaration de confidentialité a changé (issue 16)
privacy-notice-subject = { $site } : notre déclaration de confidentialité a changé (version { $version })
privacy-notice-body =
    Bonjour,

    { $site } a modifié sa déclaration de confidentialité : elle en est désormais à la version { $version }. Il s'agit d'une information juridique essentielle sur le traitement de vos données à caractère personnel, et non d'un message publicitaire ; vous la recevez en tant qu'utilisateur de l'extranet.

    La déclaration indique quelles données nous traitons et pourquoi, sur quelle base juridique, qui les reçoit, combien de temps elles sont conservées et comment exercer vos droits :

    { $link }

    Les versions précédentes restent disponibles sur la même page.

# rights- demandes des personnes concernées (issue 17)
rights-confirm-subject = { $site } : confirmez votre demande relative à vos données
rights-confirm-body =
    Bonjour { $name },

    Nous avons reçu, avec cette adresse e-mail, une demande d'exercice de vos droits ({ $rights }). Pour confirmer qu'elle vient de vous et la faire enregistrer, ouvrez ce lien dans les { $hours } heures :

    { $link }

    Tant que vous ne confirmez pas, rien ne se passe. Si vous ne l'avez pas introduite, ignorez ce message.
rights-received-subject = { $site } : votre demande { $number } a été reçue
rights-received-body =
    Bonjour,

    Votre demande { $number } ({ $rights }) a été reçue. Nous y répondrons au plus tard le { $due }.

    Suivez-la ici :

    { $link }

    Votre accusé de réception signé (vérifiable avec les clés publiées à /.well-known/jwks.json) :

    { $receipt }
rights-update-subject = { $site } : votre demande { $number } — { $step ->
        [identity_check] nous devons vérifier votre identité
        [in_progress] nous la traitons
        [extended] la réponse est reportée
        [closed] { $state ->
            [fulfilled] elle a été satisfaite
            [partly_fulfilled] elle a été partiellement satisfaite
           *[refused] elle a été refusée
        }
        [carried_out] nous y avons donné suite
       *[other] un nouveau message
    }
rights-update-body =
    Bonjour,

    { $step ->
        [identity_check] Avant de communiquer ou de modifier quoi que ce soit, nous devons vérifier votre identité :
        [in_progress] Nous traitons votre demande.
        [extended] Il nous faut plus de temps pour répondre à votre demande, ce que la loi permet une fois (RGPD art. 12, par. 3). La nouvelle date est le { $due }. Pourquoi :
        [closed] { $state ->
            [fulfilled] Votre demande a été satisfaite :
            [partly_fulfilled] Votre demande a été partiellement satisfaite. Ce qui n'a pas été fait repose sur ce motif légal : { $ground }.
           *[refused] Votre demande a été refusée sur ce motif légal : { $ground }.
        }
        [carried_out] { $result ->
            [done] Nous avons exécuté votre droit : { $right ->
                [access] l'accès et une copie
                [rectification] la rectification
                [erasure] l'effacement
                [restriction] la limitation
                [portability] la portabilité
                [objection] l'opposition
                *[withdrawal] le retrait du consentement
            }.
            [partly] Nous avons exécuté votre droit en partie : { $right ->
                [access] l'accès et une copie
                [rectification] la rectification
                [erasure] l'effacement
                [restriction] la limitation
                [portability] la portabilité
                [objection] l'opposition
                *[withdrawal] le retrait du consentement
            }. Ce qui n'a pas été fait repose sur ce fondement juridique : { $ground }.
            [refused] Nous n'avons pas pu exécuter votre droit pour l'instant : { $right ->
                [access] l'accès et une copie
                [rectification] la rectification
                [erasure] l'effacement
                [restriction] la limitation
                [portability] la portabilité
                [objection] l'opposition
                *[withdrawal] le retrait du consentement
            }. Le fondement juridique : { $ground }.
           *[nothing_held] Nous ne conservons aucune donnée vous concernant sous cette adresse : { $right ->
                [access] l'accès et une copie
                [rectification] la rectification
                [erasure] l'effacement
                [restriction] la limitation
                [portability] la portabilité
                [objection] l'opposition
                *[withdrawal] le retrait du consentement
            } ne demande rien.
        }
       *[other] Il y a un nouveau message concernant votre demande :
    }

    { $note }

    Votre demande et chacune de ses étapes :

    { $link }

    Si vous n'êtes pas d'accord avec le traitement de votre demande, vous pouvez introduire une réclamation auprès de l'autorité de protection des données.
rights-reminder-subject = { $site } : la demande { $number } est à traiter pour le { $due }
rights-reminder-body =
    La demande { $number } doit recevoir une réponse au plus tard le { $due }.

    { $link }
rights-overdue-subject = { $site } : la demande { $number } est en retard (échéance { $due })
rights-overdue-body =
    La demande { $number } devait recevoir une réponse le { $due } et n'est pas clôturée.

    { $link }

audit-checkpoint-subject = { $site } : point de contrôle du journal d'audit ({ $entries } entrées)
audit-checkpoint-body =
    Ce point de contrôle atteste ce que contenait le journal d'audit le { $at } : { $entries } entrées, la dernière avec l'empreinte { $hash }. Il est signé avec les clés publiées sur /.well-known/jwks.json.

    Conservez ce message là où les administrateurs de l'extranet ne peuvent pas le modifier. Pour prouver que le journal contient toujours tout jusqu'à ce point et que rien n'a été modifié avant lui, enregistrez la ligne ci-dessous dans un fichier et exécutez : extranet audit verify --checkpoint FICHIER

    { $checkpoint }

    Le journal d'audit : { $link }
