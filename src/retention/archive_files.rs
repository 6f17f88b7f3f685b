//! The archive a retention run writes before it removes anything: one
//! folder per run under `archive_folder`, holding per table a gzip file of
//! JSON Lines (one row per line, the table's columns as the database stores
//! them) and `manifest.json` with each file's row count and SHA-256.
//!
//! The folder is written as `<run>.partial` and renamed when every file is
//! complete, flushed to disk and listed in the manifest: a folder without
//! that suffix is always a whole archive. [`verify`] checks one against its
//! manifest; [`read_table`] reads a table's rows back for a restore.
//!
//! Format `tsudoi-archive/1`:
//!
//! | file | rows |
//! |---|---|
//! | `events.jsonl.gz` | the archived events, as they were |
//! | `people.jsonl.gz` | id, e-mail, name and department of everyone named in the other files |
//! | `registrations.jsonl.gz` | the events' registrations, with tickets and check-ins |
//! | `survey_respondents.jsonl.gz` | who answered each event's survey |
//! | `survey_responses.jsonl.gz` | the answers, with the person who gave them |
//! | `mail_outbox.jsonl.gz` | sent and failed mail past `mail_keep_days` |
//! | `audit_log.jsonl.gz` | audit entries past `audit_keep_months` |

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

/// The version of the layout above; readers refuse any other.
pub const FORMAT: &str = "tsudoi-archive/1";
pub const MANIFEST: &str = "manifest.json";
const PARTIAL: &str = ".partial";

/// The tables an archive holds, in the order the manifest lists them.
pub const TABLES: [&str; 7] = [
    "events",
    "people",
    "registrations",
    "survey_respondents",
    "survey_responses",
    "mail_outbox",
    "audit_log",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The run's name, also the folder's.
    pub run: String,
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`: how the rows' values are spelled.
    pub backend: String,
    pub events_ended_before: DateTime<Utc>,
    pub mail_created_before: DateTime<Utc>,
    pub audit_before: DateTime<Utc>,
    pub files: Vec<ArchivedFile>,
    /// The events whose rows this archive holds, and what they held.
    pub events: Vec<ArchivedEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedFile {
    pub table: String,
    pub file: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedEvent {
    pub event_id: i64,
    pub rows: EventRows,
}

/// An event's personal rows as counted when archived. The removal compares
/// them with the rows it is about to remove, and leaves an event alone
/// whose rows changed in between (the next run archives it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventRows {
    pub registrations: i64,
    /// The sum of the registrations' versions: every change raises one.
    pub registration_versions: i64,
    pub survey_respondents: i64,
    pub survey_responses: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0} already exists")]
    AlreadyThere(PathBuf),
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn file_name(table: &str) -> String {
    format!("{table}.jsonl.gz")
}

struct TableFile {
    path: PathBuf,
    encoder: GzEncoder<BufWriter<File>>,
    rows: u64,
}

/// An archive being written: rows go in table by table; [`finish`] makes
/// it whole or [`abandon`] removes it.
///
/// [`finish`]: ArchiveWriter::finish
/// [`abandon`]: ArchiveWriter::abandon
pub struct ArchiveWriter {
    partial: PathBuf,
    complete: PathBuf,
    files: BTreeMap<&'static str, TableFile>,
}

impl ArchiveWriter {
    /// Creates `<folder>/<run>.partial` (and `folder` if needed). Refuses a
    /// run name already used.
    pub fn create(folder: &Path, run: &str) -> Result<ArchiveWriter, ArchiveError> {
        let complete = folder.join(run);
        let partial = folder.join(format!("{run}{PARTIAL}"));
        if complete.exists() {
            return Err(ArchiveError::AlreadyThere(complete));
        }
        fs::create_dir_all(folder).map_err(io_at(folder))?;
        // What an interrupted run left is not an archive.
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(io_at(&partial))?;
        }
        fs::create_dir(&partial).map_err(io_at(&partial))?;
        let mut files = BTreeMap::new();
        for table in TABLES {
            let path = partial.join(file_name(table));
            let file = File::create_new(&path).map_err(io_at(&path))?;
            files.insert(
                table,
                TableFile {
                    path,
                    encoder: GzEncoder::new(BufWriter::new(file), Compression::default()),
                    rows: 0,
                },
            );
        }
        Ok(ArchiveWriter {
            partial,
            complete,
            files,
        })
    }

    /// Appends one row, already a JSON object on one line.
    pub fn write_row(&mut self, table: &str, json: &str) -> Result<(), ArchiveError> {
        let Some(file) = self.files.get_mut(table) else {
            return Err(ArchiveError::Invalid {
                path: self.partial.clone(),
                problem: format!("no table {table} in the archive format"),
            });
        };
        debug_assert!(!json.contains('\n'));
        file.encoder
            .write_all(json.as_bytes())
            .and_then(|()| file.encoder.write_all(b"\n"))
            .map_err(io_at(&file.path))?;
        file.rows += 1;
        Ok(())
    }

    /// Completes every file, writes the manifest, flushes all to disk and
    /// renames the folder to its final name, which it returns.
    pub fn finish(self, mut manifest: Manifest) -> Result<PathBuf, ArchiveError> {
        manifest.files.clear();
        for (table, file) in self.files {
            let TableFile {
                path,
                encoder,
                rows,
            } = file;
            let writer = encoder.finish().map_err(io_at(&path))?;
            let file = writer.into_inner().map_err(|e| ArchiveError::Io {
                path: path.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(io_at(&path))?;
            manifest.files.push(ArchivedFile {
                table: table.to_string(),
                file: file_name(table),
                rows,
                sha256: sha256_of(&path)?,
            });
        }
        manifest
            .files
            .sort_by_key(|f| TABLES.iter().position(|t| *t == f.table));
        let manifest_path = self.partial.join(MANIFEST);
        let mut out = File::create_new(&manifest_path).map_err(io_at(&manifest_path))?;
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| ArchiveError::Invalid {
            path: manifest_path.clone(),
            problem: e.to_string(),
        })?;
        out.write_all(&text)
            .and_then(|()| out.sync_all())
            .map_err(io_at(&manifest_path))?;
        sync_folder(&self.partial)?;
        fs::rename(&self.partial, &self.complete).map_err(io_at(&self.complete))?;
        if let Some(parent) = self.complete.parent() {
            sync_folder(parent)?;
        }
        Ok(self.complete)
    }

    /// Removes what was written: the run failed before the archive was whole.
    pub fn abandon(self) {
        drop(self.files);
        if let Err(err) = fs::remove_dir_all(&self.partial) {
            tracing::warn!(folder = %self.partial.display(), error = %err, "could not remove an unfinished archive");
        }
    }
}

/// Makes a rename or new files in `folder` survive a power cut.
fn sync_folder(folder: &Path) -> Result<(), ArchiveError> {
    // Windows cannot open a folder as a file; there the rename is durable
    // enough once the files themselves are synced.
    if cfg!(unix) {
        File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(io_at(folder))?;
    }
    Ok(())
}

fn sha256_of(path: &Path) -> Result<String, ArchiveError> {
    crate::file_checksum::sha256_hex(path).map_err(io_at(path))
}

/// Reads an archive's manifest, refusing another format.
pub fn read_manifest(folder: &Path) -> Result<Manifest, ArchiveError> {
    let path = folder.join(MANIFEST);
    let text = fs::read(&path).map_err(io_at(&path))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| ArchiveError::Invalid {
        path: path.clone(),
        problem: format!("not a manifest: {e}"),
    })?;
    if manifest.format != FORMAT {
        return Err(ArchiveError::Invalid {
            path,
            problem: format!("format {:?}, expected {FORMAT:?}", manifest.format),
        });
    }
    Ok(manifest)
}

/// Checks every file of the archive in `folder` against its manifest: the
/// SHA-256 of the file, and that it decompresses to exactly the listed
/// number of lines, each a JSON object.
/// Answers the manifest, every file found as it says.
pub fn verify(folder: &Path) -> Result<Manifest, ArchiveError> {
    let manifest = read_manifest(folder)?;
    for table in TABLES {
        if !manifest.files.iter().any(|f| f.table == table) {
            return Err(ArchiveError::Invalid {
                path: folder.join(MANIFEST),
                problem: format!("the manifest does not list {table}"),
            });
        }
    }
    for listed in &manifest.files {
        let path = folder.join(&listed.file);
        if listed.file != file_name(&listed.table) {
            return Err(ArchiveError::Invalid {
                path,
                problem: "unexpected file name in the manifest".into(),
            });
        }
        let sha256 = sha256_of(&path)?;
        if sha256 != listed.sha256 {
            return Err(ArchiveError::Invalid {
                path,
                problem: format!(
                    "checksum {sha256} differs from the manifest's {}",
                    listed.sha256
                ),
            });
        }
        let mut rows = 0u64;
        for_each_row(&path, |_| {
            rows += 1;
            Ok(())
        })?;
        if rows != listed.rows {
            return Err(ArchiveError::Invalid {
                path,
                problem: format!("{rows} rows, the manifest says {}", listed.rows),
            });
        }
    }
    Ok(manifest)
}

fn for_each_row(
    path: &Path,
    mut each: impl FnMut(serde_json::Map<String, serde_json::Value>) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let file = File::open(path).map_err(io_at(path))?;
    let reader = BufReader::new(MultiGzDecoder::new(BufReader::new(file)));
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(io_at(path))?;
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(row)) => each(row)?,
            _ => {
                return Err(ArchiveError::Invalid {
                    path: path.to_path_buf(),
                    problem: format!("line {} is not a JSON object", n + 1),
                });
            }
        }
    }
    Ok(())
}

/// The rows of one table of a verified archive for which `keep` holds.
pub fn read_table(
    folder: &Path,
    table: &str,
    mut keep: impl FnMut(&serde_json::Map<String, serde_json::Value>) -> bool,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ArchiveError> {
    let mut rows = Vec::new();
    for_each_row(&folder.join(file_name(table)), |row| {
        if keep(&row) {
            rows.push(row);
        }
        Ok(())
    })?;
    Ok(rows)
}
