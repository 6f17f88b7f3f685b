//! The command line: `tsudoi serve | migrate | create-admin | set-password | import-users | seed-demo | backup | backup-check | restore | retention --dry-run|--run | archive verify|restore`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tsudoi",
    version,
    about = "Tsudoi (集い) — company events: browse, register, check in."
)]
pub struct Cli {
    /// Configuration file (default: ./Leptos.toml, else Leptos.toml next to the binary, else built-in defaults).
    #[arg(long, global = true, env = "TSUDOI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the web app until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on, overriding `addr` / TSUDOI_ADDR.
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<SocketAddr>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Create an administrator, or make an existing user one. The password is
    /// prompted for, or read from standard input when it is not a terminal.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// Display name, e.g. "山田 太郎".
        #[arg(long)]
        name: String,
        /// Language of the pages and mails for this person: ja or en.
        #[arg(long, default_value = "ja", value_parser = ["ja", "en"])]
        lang: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Give an existing person a password (an imported employee's first one,
    /// or a forgotten one), read from the terminal or a line on stdin. Ends
    /// every session the person had.
    SetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Create or update employees from a CSV file with the columns email, name,
    /// department, role (header line required). Lines that cannot be imported
    /// are listed with the reason; the rest are imported. Safe to rerun.
    ImportUsers {
        /// The CSV file (UTF-8; in Excel save as "CSV UTF-8").
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Fill an empty database with a demo company: 10 departments, 300 employees, 60 events.
    SeedDemo {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Copy the embedded database to FILE while Tsudoi serves, then check the
    /// copy. Never overwrites a file. (PostgreSQL: use pg_dump.)
    Backup {
        /// The new backup file.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Check a backup file: SQLite's integrity check, and what it holds.
    BackupCheck { file: PathBuf },
    /// Archive and remove the personal rows past retention: events ended
    /// more than `retention_months` ago, mail older than `mail_keep_days`,
    /// audit entries older than `audit_keep_months`. `--dry-run` shows what
    /// a run would take and the last run; `--run` runs now (the server also
    /// runs it once a day).
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["dry_run", "run"])))]
    Retention {
        /// Show the plan and the last run; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Archive and remove now.
        #[arg(long)]
        run: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Work with the archives the retention job writes.
    Archive {
        #[command(subcommand)]
        action: ArchiveAction,
    },
    /// Put a backup in place of the embedded database. Stop Tsudoi first; the
    /// current database is kept beside it as `<name>.before-restore`.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArchiveAction {
    /// Check an archive folder against its manifest: each file's SHA-256
    /// and row count. Exits with an error at the first difference.
    Verify { folder: PathBuf },
    /// Bring one archived event's registrations, survey respondents and
    /// the authors of its survey answers back from an archive folder.
    Restore {
        folder: PathBuf,
        /// The event's id (as in the manifest and `retention --dry-run`).
        #[arg(long)]
        event: i64,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// Database URL (postgres://… or sqlite://PATH), overriding `database_url` / TSUDOI_DATABASE_URL.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
