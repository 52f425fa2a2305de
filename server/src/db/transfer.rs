//! Copying a library's SQLite database into an empty PostgreSQL database, for
//! `cloister migrate-db` (docs/operations.md, "Moving an existing library to PostgreSQL").
//!
//! The copy is generic: every table of [`TABLES`] is read from SQLite and written to PostgreSQL
//! column by column, each value bound with the type PostgreSQL declares for its column. The two
//! schemas are compared first, so a table or column one side lacks stops the copy before anything
//! is written, rather than being dropped on the way.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context};
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Executor, Row};

use super::{Db, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// Every table of the schema, each after the tables its foreign keys point to.
pub const TABLES: &[&str] = &[
    "users",
    "sessions",
    "library",
    "videos",
    "upload_chunks",
    "jobs",
    "job_metrics",
    "job_events",
    "comments",
    "invites",
    "downloads",
    "shares",
    "member_keys",
    "library_grants",
    "key_rotations",
    "setup_tokens",
    "recovery_challenges",
];

/// Bind parameters per INSERT stay well under PostgreSQL's limit of 65,535.
const PARAMETERS_PER_INSERT: usize = 30_000;
/// Rows per INSERT for narrow tables.
const MAX_ROWS_PER_INSERT: usize = 500;

/// How a column's values are read from SQLite and bound for PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Real,
    Text,
    Bytes,
}

impl Kind {
    /// The kind of a PostgreSQL column (`information_schema.columns.data_type`).
    fn of_postgres(data_type: &str) -> Option<Self> {
        match data_type {
            "bigint" | "integer" | "smallint" => Some(Self::Integer),
            "double precision" | "real" => Some(Self::Real),
            "text" | "character varying" => Some(Self::Text),
            "bytea" => Some(Self::Bytes),
            _ => None,
        }
    }

    /// The kind of a SQLite column, by its declared type's affinity.
    fn of_sqlite(declared: &str) -> Option<Self> {
        match declared.to_ascii_uppercase().as_str() {
            "INTEGER" | "INT" | "BIGINT" => Some(Self::Integer),
            "REAL" | "DOUBLE" | "FLOAT" => Some(Self::Real),
            "TEXT" => Some(Self::Text),
            "BLOB" => Some(Self::Bytes),
            _ => None,
        }
    }
}

/// One table's columns, as both databases have them.
#[derive(Debug)]
pub struct TablePlan {
    pub table: &'static str,
    columns: Vec<(String, Kind)>,
    /// Identity columns (PostgreSQL), whose sequences must continue after the copied values.
    identities: Vec<String>,
}

/// One value read from SQLite, typed for PostgreSQL.
enum Value {
    Integer(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// Opens the SQLite database of `data_dir` alone: in exclusive locking mode, so a server that
/// holds it open (even idle) makes this fail at once, and no server can open it until the
/// connection closes. Fails when the file does not exist.
#[tracing::instrument(level = "debug", skip_all, fields(data_dir = %data_dir.display()))]
pub async fn open_sqlite_exclusively(data_dir: &Path) -> anyhow::Result<AnyConnection> {
    let path = data_dir.join(super::DATABASE_FILE);
    if !path.is_file() {
        bail!(
            "there is no {} in {}: is --data-dir the server's data directory?",
            super::DATABASE_FILE,
            data_dir.display()
        );
    }
    sqlx::any::install_default_drivers();
    let url = super::sqlite_url(data_dir);
    let mut conn = AnyConnection::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    // No waiting: a lock held by someone else is the answer we are looking for.
    conn.execute(
        "PRAGMA busy_timeout = 0; PRAGMA foreign_keys = ON; PRAGMA locking_mode = EXCLUSIVE",
    )
    .await
    .with_context(|| format!("cannot open {}", path.display()))?;
    // The lock is taken by the first access and kept (locking mode) after the COMMIT.
    let locked = conn.execute("BEGIN EXCLUSIVE; COMMIT").await;
    if let Err(err) = locked {
        bail!(
            "{} is in use ({err}): is `cloister serve` or `cloister worker` still running on it? \
             Stop the server first",
            path.display()
        );
    }
    Ok(conn)
}

/// Brings the SQLite database up to this version's schema, as `cloister serve` would on start.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_sqlite(conn: &mut AnyConnection) -> anyhow::Result<()> {
    SQLITE_MIGRATIONS
        .run(&mut *conn)
        .await
        .context("cannot bring the SQLite database up to this version's schema")
}

/// The tables of [`TABLES`] that already hold rows in the PostgreSQL database, with their counts
/// (tables not created yet count as empty).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rows_already_in(pg: &Db) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let existing: BTreeSet<String> = postgres_tables(pg).await?;
    let mut held = Vec::new();
    for &table in TABLES {
        if !existing.contains(table) {
            continue;
        }
        let count = count_rows(pg, table).await?;
        if count > 0 {
            held.push((table, count));
        }
    }
    Ok(held)
}

/// Creates the schema in the PostgreSQL database (or brings it up to date).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_postgres(pg: &Db) -> anyhow::Result<()> {
    POSTGRES_MIGRATIONS
        .run(pg)
        .await
        .context("cannot create the schema in the PostgreSQL database")
}

/// Each table's columns, once both schemas agree on them: same tables, same column names, and
/// each column's type of the same kind.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn plan(sqlite: &mut AnyConnection, pg: &Db) -> anyhow::Result<Vec<TablePlan>> {
    let sqlite_tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    .fetch_all(&mut *sqlite)
    .await
    .context("cannot list the SQLite tables")?;
    if let Some(unknown) = sqlite_tables.iter().find(|t| !TABLES.contains(&t.as_str())) {
        bail!(
            "the SQLite database has a table this version does not know ({unknown}): is it from \
             a newer cloister? Migrate with the same version that served it"
        );
    }
    let pg_tables = postgres_tables(pg).await?;
    let mut plans = Vec::with_capacity(TABLES.len());
    for &table in TABLES {
        if !sqlite_tables.iter().any(|t| t == table) || !pg_tables.contains(table) {
            bail!("table {table} is missing from one of the two databases");
        }
        let sqlite_columns: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&mut *sqlite)
                .await
                .with_context(|| format!("cannot read the SQLite columns of {table}"))?;
        let pg_columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_identity::text \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(pg)
        .await
        .with_context(|| format!("cannot read the PostgreSQL columns of {table}"))?;
        plans.push(match_columns(table, &sqlite_columns, &pg_columns)?);
    }
    check_order(sqlite).await?;
    Ok(plans)
}

/// Fails unless every table of [`TABLES`] comes after the tables its foreign keys refer to in
/// the SQLite schema (rows are inserted in that order).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_order(sqlite: &mut AnyConnection) -> anyhow::Result<()> {
    for (position, &table) in TABLES.iter().enumerate() {
        let parents: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(table)
                .fetch_all(&mut *sqlite)
                .await
                .with_context(|| format!("cannot read the foreign keys of {table}"))?;
        for parent in parents {
            let before = TABLES[..position].contains(&parent.as_str());
            if !before && parent != table {
                bail!("table {table} refers to {parent}, which is not copied before it");
            }
        }
    }
    Ok(())
}

/// The plan for one table, or why its two definitions do not match.
fn match_columns(
    table: &'static str,
    sqlite: &[(String, String)],
    pg: &[(String, String, String)],
) -> anyhow::Result<TablePlan> {
    let mut columns = Vec::with_capacity(pg.len());
    let mut identities = Vec::new();
    for (name, data_type, identity) in pg {
        let Some(kind) = Kind::of_postgres(data_type) else {
            bail!("{table}.{name} has a PostgreSQL type this command cannot copy ({data_type})");
        };
        let Some((_, declared)) = sqlite.iter().find(|(n, _)| n == name) else {
            bail!("{table}.{name} exists in PostgreSQL but not in the SQLite database");
        };
        if Kind::of_sqlite(declared) != Some(kind) {
            bail!(
                "{table}.{name} is {declared} in SQLite but {data_type} in PostgreSQL: the two \
                 schemas differ"
            );
        }
        if identity == "YES" {
            identities.push(name.clone());
        }
        columns.push((name.clone(), kind));
    }
    if let Some((name, _)) = sqlite
        .iter()
        .find(|(n, _)| !pg.iter().any(|(p, _, _)| p == n))
    {
        bail!("{table}.{name} exists in SQLite but not in PostgreSQL: it would be lost");
    }
    Ok(TablePlan {
        table,
        columns,
        identities,
    })
}

/// Copies every table in `plans` (in their order) in one PostgreSQL transaction, moves each
/// identity sequence past the copied values, and checks each table's row count on both sides
/// before committing. Answers each table's row count. On any error nothing is committed.
#[tracing::instrument(level = "debug", skip_all, fields(tables = plans.len()))]
pub async fn copy_all(
    sqlite: &mut AnyConnection,
    pg: &Db,
    plans: &[TablePlan],
) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let mut tx = pg.begin().await.context("cannot begin on PostgreSQL")?;
    // Nobody else writes these tables until the copy commits (a server started meanwhile waits).
    let all = plans.iter().map(|p| p.table).collect::<Vec<_>>().join(", ");
    let lock = format!("LOCK TABLE {all} IN ACCESS EXCLUSIVE MODE");
    sqlx::query(&lock)
        .execute(&mut *tx)
        .await
        .context("cannot lock the PostgreSQL tables")?;
    for plan in plans {
        let held = count_rows(&mut *tx, plan.table).await?;
        if held > 0 {
            bail!(
                "the PostgreSQL database already has {held} row(s) in {}: migrate into an empty \
                 database",
                plan.table
            );
        }
    }
    let mut counts = Vec::with_capacity(plans.len());
    for plan in plans {
        let copied = copy_table(sqlite, &mut tx, plan)
            .await
            .with_context(|| format!("cannot copy table {}", plan.table))?;
        for column in &plan.identities {
            // The next generated value follows the largest copied one (1 when none was copied).
            let statement = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE(MAX(\"{column}\"), 0) + 1, false) FROM {table}",
                table = plan.table
            );
            sqlx::query(&statement)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("cannot move the sequence of {}.{column}", plan.table))?;
        }
        let in_sqlite = count_rows(&mut *sqlite, plan.table).await?;
        let in_pg = count_rows(&mut *tx, plan.table).await?;
        if in_sqlite != in_pg || in_pg != copied {
            bail!(
                "table {} has {in_sqlite} row(s) in SQLite but {in_pg} in PostgreSQL after the \
                 copy ({copied} written)",
                plan.table
            );
        }
        counts.push((plan.table, in_pg));
    }
    tx.commit()
        .await
        .context("cannot commit the copy on PostgreSQL")?;
    Ok(counts)
}

/// Streams one table from SQLite into PostgreSQL in multi-row INSERTs; answers the rows written.
async fn copy_table(
    sqlite: &mut AnyConnection,
    tx: &mut super::Tx<'_>,
    plan: &TablePlan,
) -> anyhow::Result<i64> {
    let names = plan
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!("SELECT {names} FROM {}", plan.table);
    let width = plan.columns.len().max(1);
    let per_insert = (PARAMETERS_PER_INSERT / width).clamp(1, MAX_ROWS_PER_INSERT);
    let mut rows = sqlx::query(&select).fetch(&mut *sqlite);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_insert);
    let mut written = 0i64;
    while let Some(row) = rows.try_next().await.context("cannot read from SQLite")? {
        batch.push(read_row(plan, &row)?);
        if batch.len() == per_insert {
            written += insert(tx, plan, &names, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        written += insert(tx, plan, &names, batch).await?;
    }
    Ok(written)
}

fn read_row(plan: &TablePlan, row: &AnyRow) -> anyhow::Result<Vec<Value>> {
    plan.columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            let value = match kind {
                Kind::Integer => row.try_get::<Option<i64>, _>(i).map(Value::Integer),
                // A REAL column may hold a whole number stored as an integer.
                Kind::Real => row
                    .try_get::<Option<f64>, _>(i)
                    .map(Value::Real)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|n| Value::Real(n.map(|n| n as f64)))
                    }),
                Kind::Text => row.try_get::<Option<String>, _>(i).map(Value::Text),
                Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i).map(Value::Bytes),
            };
            value.with_context(|| {
                format!(
                    "a value of {}.{name} in SQLite is not of its declared type",
                    plan.table
                )
            })
        })
        .collect()
}

async fn insert(
    tx: &mut super::Tx<'_>,
    plan: &TablePlan,
    names: &str,
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<i64> {
    let width = plan.columns.len();
    let mut statement = format!("INSERT INTO {} ({names}) VALUES ", plan.table);
    for r in 0..rows.len() {
        statement.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                statement.push_str(", ");
            }
            statement.push_str(&format!("${}", r * width + c + 1));
        }
        statement.push(')');
    }
    let mut query = sqlx::query(&statement);
    for value in rows.into_iter().flatten() {
        query = match value {
            Value::Integer(v) => query.bind(v),
            Value::Real(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Bytes(v) => query.bind(v),
        };
    }
    let done = query
        .execute(&mut **tx)
        .await
        .context("cannot write to PostgreSQL")?;
    i64::try_from(done.rows_affected()).context("row count")
}

async fn postgres_tables(pg: &Db) -> anyhow::Result<BTreeSet<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pg)
    .await
    .context("cannot list the PostgreSQL tables")?;
    Ok(names.into_iter().collect())
}

/// `table` comes from [`TABLES`], never from input.
async fn count_rows<'e, E>(db: E, table: &str) -> anyhow::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let statement = format!("SELECT COUNT(*) FROM {table}");
    sqlx::query_scalar(&statement)
        .fetch_one(db)
        .await
        .with_context(|| format!("cannot count the rows of {table}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(cols: &[(&str, &str)]) -> Vec<(String, String)> {
        cols.iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect()
    }

    fn pg(cols: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        cols.iter()
            .map(|(n, t, i)| ((*n).to_owned(), (*t).to_owned(), (*i).to_owned()))
            .collect()
    }

    #[test]
    fn columns_match_by_name_and_kind_and_identities_are_found() {
        let plan = match_columns(
            "users",
            &sqlite(&[("id", "INTEGER"), ("name", "TEXT"), ("key", "BLOB")]),
            &pg(&[
                ("id", "bigint", "YES"),
                ("name", "text", "NO"),
                ("key", "bytea", "NO"),
            ]),
        )
        .expect("plan");
        assert_eq!(plan.identities, ["id"]);
        assert_eq!(plan.columns.len(), 3);
    }

    #[test]
    fn a_column_one_side_lacks_or_of_another_kind_stops_the_copy() {
        let one = sqlite(&[("id", "INTEGER"), ("extra", "TEXT")]);
        let err = match_columns("t", &one, &pg(&[("id", "bigint", "NO")])).expect_err("lost");
        assert!(err.to_string().contains("t.extra"), "{err}");
        let err = match_columns(
            "t",
            &sqlite(&[("id", "INTEGER")]),
            &pg(&[("id", "bigint", "NO"), ("new", "text", "NO")]),
        )
        .expect_err("missing");
        assert!(err.to_string().contains("t.new"), "{err}");
        let err = match_columns(
            "t",
            &sqlite(&[("id", "TEXT")]),
            &pg(&[("id", "bigint", "NO")]),
        )
        .expect_err("kind");
        assert!(err.to_string().contains("differ"), "{err}");
    }

    #[tokio::test]
    async fn every_table_comes_after_the_tables_it_refers_to() {
        let dir = tempfile::tempdir().expect("dir");
        super::super::open(dir.path(), None)
            .await
            .expect("create")
            .close()
            .await;
        let mut conn = open_sqlite_exclusively(dir.path()).await.expect("open");
        check_order(&mut conn).await.expect("order");
    }
}
