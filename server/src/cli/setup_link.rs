//! `cloister setup-link`: a new one-time link to create the first admin in the browser
//! (docs/accounts.md, "First run"), straight on the data directory's database like `cloister
//! user`, so it works whether or not the server is running.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;

use super::DataDirArgs;
use crate::accounts::setup;
use crate::data_dir::DataDir;

#[derive(Debug, Args)]
pub struct SetupLinkArgs {
    #[command(flatten)]
    pub data: DataDirArgs,

    /// The address members use (as for `serve`); the link starts with it.
    #[arg(long, env = "CLOISTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Without a public URL, the link names the address the server listens on (as for `serve`).
    #[arg(long, env = "CLOISTER_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

/// Prints a new setup link on stdout (the one printed before stops working), or says why there
/// is none.
pub async fn run(args: SetupLinkArgs) -> anyhow::Result<()> {
    let dir = DataDir::prepare(&args.data.data_dir).with_context(|| {
        format!(
            "cannot prepare the data directory {}",
            args.data.data_dir.display()
        )
    })?;
    let pool = crate::db::open(dir.root(), args.data.database_url.as_deref())
        .await
        .with_context(|| format!("cannot open the database in {}", dir.root().display()))?;
    let base = setup::link_base(args.public_url.as_deref(), args.addr);
    match setup::new_link(&pool, &base).await? {
        Some(link) => {
            println!("Open this link to create the first admin (it works once; an earlier link no longer does):");
            println!("{}", link.as_str());
            Ok(())
        }
        None => anyhow::bail!("{}", setup::ALREADY_OWNED),
    }
}
