//! Signing in and unlocking for the commands that talk to a running server, and `login --check`.
//! Configured by CLOISTER_SERVER, CLOISTER_USER, CLOISTER_PASSWORD and CLOISTER_PASSPHRASE (the
//! member's own library passphrase; the shared one of a library not yet converted), so a script
//! can run them without prompts.

use anyhow::bail;
use clap::Args;
use cloister_shared::api::LoginResponse;
use cloister_shared::keyring::Unlocked;

use super::{secrets, ClientArgs};
use crate::client::unlock::{self, PassphraseKind};
use crate::client::ApiClient;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Sign in, unlock the library, and say whether both worked (the CLI keeps no session
    /// between commands, so this is what `login` does).
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub(crate) async fn sign_in(args: &ClientArgs) -> anyhow::Result<(ApiClient, LoginResponse)> {
    let client = ApiClient::new(&args.server)?;
    let Some(user) = args.user.as_deref().filter(|u| !u.is_empty()) else {
        bail!("Say who to sign in as: set CLOISTER_USER or pass --user NAME.");
    };
    let password =
        secrets::from_env_or_prompt("CLOISTER_PASSWORD", &format!("Password for {user}: "))?;
    let me = client.login(user, &password).await?;
    Ok((client, me))
}

/// Unlocks with the passphrase the library's status asks this member for.
pub(crate) async fn unlock_signed_in(client: &ApiClient) -> anyhow::Result<Unlocked> {
    let status = client.library().await?;
    let prompt = match unlock::passphrase_kind(&status)? {
        PassphraseKind::Own => "Your library passphrase: ",
        PassphraseKind::Shared => "The group's shared library passphrase: ",
    };
    let passphrase = secrets::from_env_or_prompt("CLOISTER_PASSPHRASE", prompt)?;
    Ok(unlock::unlock(&status, passphrase).await?)
}

/// Signs in and unlocks the library, as `login --check` does: what `upload` and `ls` start with.
pub(crate) async fn sign_in_and_unlock(args: &ClientArgs) -> anyhow::Result<(ApiClient, Unlocked)> {
    let (client, _) = sign_in(args).await?;
    let unlocked = unlock_signed_in(&client).await?;
    Ok((client, unlocked))
}

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let (client, me) = sign_in(&args.client).await?;
    let signed_in = format!(
        "Signed in to {} as {} ({})",
        client.server(),
        me.user.username,
        me.user.role
    );
    match unlock_signed_in(&client).await {
        Ok(_) => {
            println!("{signed_in}. Your library passphrase is correct.");
            Ok(())
        }
        Err(err) => bail!("{signed_in}, but {err}"),
    }
}
