//! Commands that talk to a running server: `login --check`, `library init`, `library passwd`.
//! Configured by CLOISTER_SERVER, CLOISTER_USER, CLOISTER_PASSWORD, CLOISTER_PASSPHRASE (and
//! CLOISTER_NEW_PASSPHRASE), so a script can run them without prompts.

use anyhow::bail;
use clap::{Args, Subcommand};
use cloister_shared::api::{ChangePassphraseRequest, InitLibraryRequest, KdfInfo, LoginResponse};
use cloister_shared::LibraryKey;

use super::{secrets, ClientArgs};
use crate::client::unlock::{self, UnlockError};
use crate::client::ApiClient;

/// The shortest library passphrase the CLI accepts: it guards every video, and Argon2id only
/// slows guessing down, it cannot save a short passphrase.
const PASSPHRASE_MIN_CHARS: usize = 8;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Sign in, unlock the library, and say whether both worked (the CLI keeps no session
    /// between commands, so this is what `login` does).
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Choose the library passphrase on a library that has none (admin).
    Init {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change the library passphrase (admin): the old one is needed, and the library key, so
    /// every video, stays the same.
    Passwd {
        #[command(flatten)]
        client: ClientArgs,
    },
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

/// Signs in and unlocks the library, as `login --check` does: what `upload` and `ls` start with.
pub(crate) async fn sign_in_and_unlock(
    args: &ClientArgs,
) -> anyhow::Result<(ApiClient, LibraryKey)> {
    let (client, _) = sign_in(args).await?;
    let status = client.library().await?;
    if !status.initialized {
        bail!("{}", UnlockError::NotInitialized);
    }
    let passphrase = secrets::from_env_or_prompt("CLOISTER_PASSPHRASE", "Library passphrase: ")?;
    let key = unlock::unlock(&status, passphrase).await?;
    Ok((client, key))
}

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let (client, me) = sign_in(&args.client).await?;
    let status = client.library().await?;
    if !status.initialized {
        bail!(
            "Signed in to {} as {} ({}), but {}",
            client.server(),
            me.user.username,
            me.user.role,
            UnlockError::NotInitialized
        );
    }
    let passphrase = secrets::from_env_or_prompt("CLOISTER_PASSPHRASE", "Library passphrase: ")?;
    unlock::unlock(&status, passphrase).await?;
    println!(
        "Signed in to {} as {} ({}). The library passphrase is correct.",
        client.server(),
        me.user.username,
        me.user.role
    );
    Ok(())
}

pub async fn library(command: LibraryCommand) -> anyhow::Result<()> {
    match command {
        LibraryCommand::Init { client } => init(&client).await,
        LibraryCommand::Passwd { client } => passwd(&client).await,
    }
}

fn check_new_passphrase(passphrase: &str) -> anyhow::Result<()> {
    if passphrase.chars().count() < PASSPHRASE_MIN_CHARS {
        bail!("A library passphrase must be at least {PASSPHRASE_MIN_CHARS} characters; a few random words make a good one.");
    }
    Ok(())
}

async fn init(args: &ClientArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    if client.library().await?.initialized {
        bail!("The library already has a passphrase; setting up a new one would orphan every video. Use `cloister library passwd` to change it.");
    }
    let passphrase =
        secrets::new_from_env_or_prompt("CLOISTER_PASSPHRASE", "New library passphrase: ")?;
    check_new_passphrase(&passphrase)?;
    let library_key = LibraryKey::generate()?;
    let (salt, params, wrapped) = unlock::wrap_for_passphrase(passphrase, library_key).await?;
    let kdf = KdfInfo::new(&salt, params);
    client
        .init_library(&InitLibraryRequest {
            salt_hex: kdf.salt_hex,
            params,
            wrapped_library_key: wrapped,
        })
        .await?;
    println!("The library passphrase is set. Share it with your group in person or another private channel: nobody, not even the server, can recover it.");
    Ok(())
}

async fn passwd(args: &ClientArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    let status = client.library().await?;
    let Some(current) = status.wrapped_library_key.clone() else {
        bail!("{}", UnlockError::NotInitialized);
    };
    let old = secrets::from_env_or_prompt("CLOISTER_PASSPHRASE", "Current library passphrase: ")?;
    let library_key = unlock::unlock(&status, old).await?;
    let new =
        secrets::new_from_env_or_prompt("CLOISTER_NEW_PASSPHRASE", "New library passphrase: ")?;
    check_new_passphrase(&new)?;
    let (salt, params, wrapped) = unlock::wrap_for_passphrase(new, library_key).await?;
    let kdf = KdfInfo::new(&salt, params);
    client
        .change_passphrase(&ChangePassphraseRequest {
            expected_wrapped_library_key: current,
            salt_hex: kdf.salt_hex,
            params,
            wrapped_library_key: wrapped,
        })
        .await?;
    println!("The library passphrase is changed. Members unlock with the new one from now on; every video stays readable.");
    Ok(())
}
