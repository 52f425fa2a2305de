//! `cloister user add|list|passwd|remove`: account administration on the data directory's
//! database, through the same accounts code as the HTTP API. Works whether or not the server is
//! running (SQLite in WAL mode takes both).

use crate::db::Db;
use anyhow::Context;
use clap::Subcommand;
use cloister_shared::api::{utc_date, Role};
use zeroize::Zeroizing;

use super::secrets;
use super::DataDirArgs;
use crate::accounts::users;
use crate::config::DEFAULT_QUOTA_BYTES;
use crate::data_dir::DataDir;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (the first one should be `--admin`).
    Add {
        /// 1 to 32 characters: letters, digits, dot, dash, underscore.
        name: String,
        /// Make an admin, who manages accounts and the library passphrase.
        #[arg(long)]
        admin: bool,
        /// Read the password from one line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
        /// Storage quota in bytes.
        #[arg(long, env = "CLOISTER_DEFAULT_QUOTA_BYTES", default_value_t = DEFAULT_QUOTA_BYTES)]
        quota: u64,
        #[command(flatten)]
        data: DataDirArgs,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        data: DataDirArgs,
    },
    /// Set a new password (signs the user out everywhere).
    Passwd {
        name: String,
        /// Read the password from one line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataDirArgs,
    },
    /// Remove an account (not the last admin).
    Remove {
        name: String,
        #[command(flatten)]
        data: DataDirArgs,
    },
}

async fn open(data: &DataDirArgs) -> anyhow::Result<Db> {
    let dir = DataDir::prepare(&data.data_dir).with_context(|| {
        format!(
            "cannot prepare the data directory {}",
            data.data_dir.display()
        )
    })?;
    crate::db::open(dir.root(), data.database_url.as_deref())
        .await
        .with_context(|| format!("cannot open the database in {}", dir.root().display()))
}

fn new_password(name: &str, from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    if from_stdin {
        secrets::read_stdin_line()
    } else {
        secrets::new_from_prompt(&format!("New password for {name}: "))
    }
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            admin,
            password_stdin,
            quota,
            data,
        } => {
            // Check the name before asking for a password that would then be thrown away.
            let name = users::valid_username(&name)?;
            let pool = open(&data).await?;
            let password = new_password(&name, password_stdin)?;
            let role = if admin { Role::Admin } else { Role::Member };
            let user = users::create(&pool, &name, password, role, quota).await?;
            println!("Created {} ({}).", user.username, user.role);
        }
        UserCommand::List { data } => {
            let pool = open(&data).await?;
            let all = users::list(&pool).await?;
            if all.is_empty() {
                println!("No accounts yet. Create the first admin with `cloister user add NAME --admin`.");
            }
            println!(
                "{:<32}  {:<6}  {:>10}  created",
                "username", "role", "quota"
            );
            for user in all {
                println!(
                    "{:<32}  {:<6}  {:>10}  {}",
                    user.username,
                    user.role,
                    human_bytes(user.quota_bytes),
                    utc_date(user.created_at)
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
            data,
        } => {
            let name = users::valid_username(&name)?;
            let pool = open(&data).await?;
            if users::find(&pool, &name).await?.is_none() {
                anyhow::bail!("There is no user named {name}.");
            }
            let password = new_password(&name, password_stdin)?;
            users::set_password(&pool, &name, password).await?;
            println!("Password changed for {name}; their sessions were signed out.");
        }
        UserCommand::Remove { name, data } => {
            let pool = open(&data).await?;
            users::remove(&pool, &name).await?;
            println!("Removed {}.", name.to_ascii_lowercase());
        }
    }
    Ok(())
}

pub(crate) use cloister_shared::protocol::human_bytes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_sizes_read_well() {
        assert_eq!(human_bytes(50 << 30), "50.0 GiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(human_bytes((55 << 30) + (1 << 29)), "55.5 GiB");
        assert_eq!(human_bytes(792_842), "774.3 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
