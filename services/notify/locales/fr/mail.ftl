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
