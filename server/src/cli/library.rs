//! `cloister library init|grant|keys|passwd|recover`: the library's keys from a terminal, with the
//! same keyring as the browser (docs/accounts.md, "Keys for people"). Secrets come only from the
//! environment or a no-echo prompt: CLOISTER_PASSPHRASE (your own passphrase; the shared one when
//! converting), CLOISTER_NEW_PASSPHRASE, CLOISTER_RECOVERY_WORDS.

use anyhow::bail;
use clap::Subcommand;
use cloister_shared::api::keys::LibraryMode;
use cloister_shared::api::Role;
use cloister_shared::keyring;

use super::remote::{sign_in, unlock_signed_in};
use super::{secrets, ClientArgs};
use crate::client::unlock::{blocking, UnlockError};

/// The shortest passphrase the CLI accepts: it guards the member's key to every video, and
/// Argon2id only slows guessing down, it cannot save a short passphrase.
const PASSPHRASE_MIN_CHARS: usize = 8;

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Set up the library (admin): your key pair under your own passphrase (CLOISTER_PASSPHRASE),
    /// the library key, and a recovery key printed once as 24 words.
    Init {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Let a member in (admin): seals the library key to the key pair NAME made. Unlocks with
    /// your own passphrase (CLOISTER_PASSPHRASE).
    Grant {
        /// The member's username.
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Make your key pair under a new passphrase of your own (CLOISTER_PASSPHRASE), then wait for
    /// an admin to let you in. On a library still using the group's shared passphrase, give that
    /// as CLOISTER_PASSPHRASE and your own as CLOISTER_NEW_PASSPHRASE: you keep your access.
    Keys {
        /// You forgot your passphrase: replace your keys (you wait for an admin again).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change your own library passphrase (CLOISTER_PASSPHRASE, then CLOISTER_NEW_PASSPHRASE):
    /// your keys, and so your access, stay the same.
    Passwd {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Restore your access as an admin with the 24-word recovery key (CLOISTER_RECOVERY_WORDS),
    /// under a new passphrase (CLOISTER_NEW_PASSPHRASE).
    Recover {
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub async fn run(command: LibraryCommand) -> anyhow::Result<()> {
    match command {
        LibraryCommand::Init { client } => init(&client).await,
        LibraryCommand::Grant { name, client } => grant(&client, &name).await,
        LibraryCommand::Keys { replace, client } => keys(&client, replace).await,
        LibraryCommand::Passwd { client } => passwd(&client).await,
        LibraryCommand::Recover { client } => recover(&client).await,
    }
}

fn check_new_passphrase(passphrase: &str) -> anyhow::Result<()> {
    if passphrase.chars().count() < PASSPHRASE_MIN_CHARS {
        bail!("A library passphrase must be at least {PASSPHRASE_MIN_CHARS} characters; a few random words make a good one.");
    }
    Ok(())
}

fn new_passphrase(var: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let passphrase = secrets::new_from_env_or_prompt(var, "Your new library passphrase: ")?;
    check_new_passphrase(&passphrase)?;
    Ok(passphrase)
}

/// The recovery words, printed once, with what they are for.
fn print_recovery_words(words: &[String]) {
    println!("Your recovery key is below: 24 words. Write them on paper and keep them somewhere safe, away from this computer.");
    println!("If every admin forgets their passphrase, these words are the only way back into the library: nobody, not even the server, can recover it otherwise. They are not shown again.");
    println!("Recovery key: {}", words.join(" "));
}

async fn init(args: &ClientArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    if client.library().await?.mode != LibraryMode::New {
        bail!("The library is already set up; setting it up again would orphan every video.");
    }
    let passphrase = new_passphrase("CLOISTER_PASSPHRASE")?;
    let (request, _, recovery) = blocking(move || keyring::new_library(&passphrase)).await?;
    client.create_library(&request).await?;
    println!("The library is set up. You unlock it with your own passphrase; members choose theirs when they accept an invite, and you let them in with `cloister library grant NAME`.");
    print_recovery_words(&recovery.words());
    Ok(())
}

async fn grant(args: &ClientArgs, name: &str) -> anyhow::Result<()> {
    let (client, me) = sign_in(args).await?;
    if me.user.role != Role::Admin {
        bail!("Only an admin can let someone in.");
    }
    let unlocked = unlock_signed_in(&client).await?;
    let status = client.library().await?;
    let name = name.trim().to_lowercase();
    let Some(waiting) = status.waiting.iter().find(|w| w.username == name) else {
        if status.holders.iter().any(|h| h.username == name) {
            println!("{name} already has access.");
            return Ok(());
        }
        bail!("{name} is not waiting for access: they choose their passphrase when they accept their invite (or with `cloister library keys`), then you can let them in.");
    };
    let waiting = waiting.clone();
    let request = blocking(move || keyring::grant(&unlocked, &waiting)).await?;
    client.grant(&request).await?;
    println!("{name} can open the library now.");
    Ok(())
}

async fn keys(args: &ClientArgs, replace: bool) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    let status = client.library().await?;
    if status.me.is_some() && !replace {
        bail!("You already have keys. If you forgot your passphrase, run `cloister library keys --replace`: your access ends until an admin lets you in again. To change a passphrase you know, use `cloister library passwd`.");
    }
    if status.mode == LibraryMode::Shared && status.me.is_none() {
        // Converting: the shared passphrase opens the key, and the member grants it to themselves.
        let unlocked = unlock_signed_in(&client).await?;
        let own = new_passphrase("CLOISTER_NEW_PASSPHRASE")?;
        let (request, _) = blocking(move || keyring::convert_from_shared(&unlocked, &own)).await?;
        client.set_my_keys(&request).await?;
        println!("You now unlock the library with your own passphrase; the shared one is no longer yours to use.");
        return Ok(());
    }
    let passphrase = new_passphrase("CLOISTER_PASSPHRASE")?;
    let (keys, _) = blocking(move || keyring::new_member_keys(&passphrase)).await?;
    client
        .set_my_keys(&cloister_shared::api::keys::SetMyKeysRequest {
            keys,
            self_grant: None,
        })
        .await?;
    println!("Your keys are made. An admin lets you in (in the web app, or with `cloister library grant NAME`); then your passphrase opens the library.");
    Ok(())
}

async fn passwd(args: &ClientArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    let status = client.library().await?;
    let Some(me) = status.me.clone() else {
        bail!("{}", UnlockError::NoKeys);
    };
    let old =
        secrets::from_env_or_prompt("CLOISTER_PASSPHRASE", "Your current library passphrase: ")?;
    let new = new_passphrase("CLOISTER_NEW_PASSPHRASE")?;
    let request = blocking(move || keyring::change_passphrase(&old, &new, &me)).await?;
    client.change_my_passphrase(&request).await?;
    println!("Your library passphrase is changed. Unlock with the new one from now on; your access stays the same.");
    Ok(())
}

async fn recover(args: &ClientArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(args).await?;
    let words = secrets::from_env_or_prompt(
        "CLOISTER_RECOVERY_WORDS",
        "The 24 words of the recovery key: ",
    )?;
    // Checked before the challenge, so a typo costs nothing.
    cloister_shared::crypto::recovery::RecoveryKey::parse(&words)
        .map_err(keyring::KeyringError::from)
        .map_err(UnlockError::from)?;
    let new = new_passphrase("CLOISTER_NEW_PASSPHRASE")?;
    let challenge = client.recovery_challenge().await?;
    let (request, _) = blocking(move || keyring::recover(&words, &challenge, &new)).await?;
    client.recovery_restore(&request).await?;
    println!("Your access is restored: unlock with your new passphrase. The recovery key stays the same; keep it safe.");
    Ok(())
}
