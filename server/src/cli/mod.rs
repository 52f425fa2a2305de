//! The command-line tools: account administration straight on the database (`user`), and
//! commands that talk to a running server (`login`, `library`, `upload`, `ls`).

pub mod admin;
pub mod backup;
pub mod download;
pub mod jobs;
pub mod library;
pub mod ls;
pub mod migrate_db;
pub mod remote;
pub mod secrets;
pub mod setup_link;
pub mod trash;
pub mod upload;
pub mod user;

use std::path::PathBuf;

use clap::Args;

/// Client commands print to stdout like any Unix tool: when the reader goes away
/// (`cloister ls | head`), the process ends quietly on SIGPIPE instead of panicking in `println!`.
/// Never for `serve` or `worker`: they write to ffmpeg's pipes and must see a closed pipe as an
/// error to handle, not die of it.
pub fn end_quietly_when_stdout_closes() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal; no handler of ours is replaced.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Where the server keeps its data: `user` commands open its database directly.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// The server's data directory.
    #[arg(long, env = "CLOISTER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The server's database, when it is not the SQLite file in the data directory (see
    /// `cloister serve --help`).
    #[arg(long, env = "CLOISTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Which server to talk to and as whom. The password and passphrase never come from a flag (they
/// would show in `ps` and shell history): only from the environment or a prompt.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(long, env = "CLOISTER_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,

    /// Username to sign in as (the password comes from CLOISTER_PASSWORD or a prompt).
    #[arg(long, env = "CLOISTER_USER")]
    pub user: Option<String>,
}
