//! `cloister migrate-db --to postgres://…`: moves a library's database from the SQLite file in its
//! data directory into an empty PostgreSQL database (docs/operations.md, "Moving an existing
//! library to PostgreSQL"). Only the database moves: sealed files and `server.key` stay in the
//! data directory, which the server keeps using.
//!
//! Order matters so that a refusal leaves both sides as they were: the SQLite file is locked
//! first (a server still holding it open makes the command stop there), then the target is
//! checked empty, and only then are schemas created and rows copied, in one PostgreSQL
//! transaction (the copy itself is in `db::transfer`).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use sqlx::Connection;

use crate::db::{self, transfer, Backend, DATABASE_FILE};

#[derive(Debug, Args)]
pub struct MigrateDbArgs {
    /// The server's data directory: its database is copied, its files stay where they are.
    #[arg(long, env = "CLOISTER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The empty PostgreSQL database to move to (`postgres://user@host/database`). Give it in
    /// CLOISTER_MIGRATE_TO rather than as a flag when it holds a password.
    #[arg(
        long,
        env = "CLOISTER_MIGRATE_TO",
        hide_env_values = true,
        value_name = "POSTGRES_URL"
    )]
    pub to: String,
}

pub async fn run(args: MigrateDbArgs) -> anyhow::Result<()> {
    let (shown, hid_password) = without_password(&args.to);
    if Backend::of_url(&args.to) != Ok(Backend::Postgres) {
        bail!(
            "--to must name a PostgreSQL database (postgres://user@host/database), not {shown}; \
             nothing was copied"
        );
    }
    if !args.data_dir.is_dir() {
        bail!(
            "there is no data directory at {}; nothing was copied",
            args.data_dir.display()
        );
    }
    // The source first: while a server still has it open, nothing is done anywhere.
    let mut sqlite = transfer::open_sqlite_exclusively(&args.data_dir)
        .await
        .map_err(nothing_copied)?;
    let pg = db::connect(&args.to)
        .await
        .with_context(|| format!("cannot connect to {shown}; nothing was copied"))?;
    let held = transfer::rows_already_in(&pg).await?;
    if !held.is_empty() {
        let users = held.iter().find(|(t, _)| *t == "users").map(|(_, n)| *n);
        let what = match users {
            Some(n) => format!("{n} user{}", if n == 1 { "" } else { "s" }),
            None => held
                .iter()
                .map(|(t, n)| format!("{n} row(s) in {t}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        bail!(
            "the PostgreSQL database {shown} already has {what}: migrate into a new, empty \
             database (createdb); nothing was copied"
        );
    }
    transfer::update_sqlite(&mut sqlite).await?;
    transfer::update_postgres(&pg).await?;
    let plans = transfer::plan(&mut sqlite, &pg)
        .await
        .map_err(nothing_copied)?;
    let counts = transfer::copy_all(&mut sqlite, &pg, &plans)
        .await
        .map_err(nothing_copied)?;
    pg.close().await;
    // Releases the lock on the SQLite file.
    sqlite.close().await.ok();

    let data = args.data_dir.display();
    println!("Copied the database of {data} to PostgreSQL ({shown}); row counts match:");
    let width = counts.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for (table, rows) in &counts {
        println!("  {table:<width$}  {rows}");
    }
    println!(
        "The sealed files and server.key stay in {data}. {DATABASE_FILE} there is no longer \
         used: keep it until the server runs well on PostgreSQL, and never start the server \
         without the PostgreSQL URL meanwhile (it would serve the old copy)."
    );
    println!("Start the server on PostgreSQL:");
    println!(
        "  CLOISTER_DATABASE_URL={} cloister serve --data-dir {}",
        shell_quoted(&shown),
        shell_quoted(&args.data_dir.to_string_lossy())
    );
    if hid_password {
        println!(
            "(The password is left out: keep it in ~/.pgpass or PGPASSWORD, or put it back into \
             the URL, in the environment as here, never as a flag.)"
        );
    }
    Ok(())
}

fn nothing_copied(err: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!("{err:#}; nothing was copied")
}

/// `url` without its password, if it has one (in the user part or a `password=` parameter), and
/// whether one was left out: for messages and printed commands, which must not show it.
/// PostgreSQL's tools and the server find a password left out in `~/.pgpass` or `PGPASSWORD`.
pub fn without_password(url: &str) -> (String, bool) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), false);
    };
    let (main, query) = match rest.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (rest, None),
    };
    let mut left_out = false;
    let main = match main.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => {
                left_out = true;
                format!("{user}@{host}")
            }
            None => main.to_owned(),
        },
        None => main.to_owned(),
    };
    let query = query
        .map(|query| {
            query
                .split('&')
                .filter(|pair| {
                    let password = pair.split('=').next() == Some("password");
                    left_out |= password;
                    !password
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .filter(|query| !query.is_empty());
    let shown = match query {
        Some(query) => format!("{scheme}://{main}?{query}"),
        None => format!("{scheme}://{main}"),
    };
    (shown, left_out)
}

/// `text` as one shell word: unchanged when it is plain, otherwise in single quotes.
fn shell_quoted(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:@+,%=".contains(c));
    if plain && !text.is_empty() {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            without_password("postgres://cloister:s3cret@db.lan:5432/cloister"),
            ("postgres://cloister@db.lan:5432/cloister".to_owned(), true)
        );
        assert_eq!(
            without_password("postgres://cloister@db.lan/cloister?sslmode=require"),
            (
                "postgres://cloister@db.lan/cloister?sslmode=require".to_owned(),
                false
            )
        );
        assert_eq!(
            without_password("postgres://db.lan/c?user=a&password=s3cret"),
            ("postgres://db.lan/c?user=a".to_owned(), true)
        );
        assert_eq!(
            without_password("postgres://db.lan/c?password=s3cret"),
            ("postgres://db.lan/c".to_owned(), true)
        );
        assert!(!without_password("sqlite://x.db").1);
    }

    #[test]
    fn a_word_with_spaces_or_quotes_is_quoted_for_the_shell() {
        assert_eq!(shell_quoted("/srv/cloister"), "/srv/cloister");
        assert_eq!(shell_quoted("/srv/my data"), "'/srv/my data'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    }
}
