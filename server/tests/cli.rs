//! The command line as an operator meets it: help, and clear one-line failures.

mod support;

use std::time::Duration;

use support::{run_with_timeout, tsudoi};

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["create-admin", "--help"],
        vec!["set-password", "--help"],
        vec!["seed-demo", "--help"],
        vec!["import-users", "--help"],
        vec!["backup", "--help"],
        vec!["backup-check", "--help"],
        vec!["restore", "--help"],
        vec!["retention", "--help"],
        vec!["archive", "--help"],
        vec!["archive", "verify", "--help"],
        vec!["archive", "restore", "--help"],
    ] {
        let mut command = tsudoi(dir.path());
        command.args(&args);
        let output = run_with_timeout(command, Duration::from_secs(10));
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn a_malformed_database_url_stops_the_start_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "garbage",
        "mysql://localhost/x",
        "postgres://",
        "postgres://user:secret@host:notaport/db",
        "sqlite://",
    ] {
        let mut command = tsudoi(dir.path());
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("TSUDOI_DATABASE_URL", bad);
        let output = run_with_timeout(command, Duration::from_secs(20));
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{bad}: exited successfully");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with(
                "tsudoi: error: invalid configuration: database_url (TSUDOI_DATABASE_URL)"
            ),
            "{bad}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{bad}: {stderr}"
        );
        assert!(
            !stderr.contains("secret"),
            "{bad}: the password leaked: {stderr}"
        );
    }
}

#[test]
fn an_unreachable_database_stops_the_start_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tsudoi(dir.path());
    command.args([
        "migrate",
        "--database-url",
        "postgres://tsudoi:secret@127.0.0.1:1/tsudoi",
    ]);
    let output = run_with_timeout(command, Duration::from_secs(30));
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
}

#[test]
fn a_bad_value_in_the_config_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Leptos.toml"),
        "time_zone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let mut command = tsudoi(dir.path());
    command.args(["migrate"]);
    let output = run_with_timeout(command, Duration::from_secs(10));
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("time_zone (TSUDOI_TIME_ZONE)") && stderr.contains("Mars/Olympus"),
        "{stderr}"
    );
}

#[test]
fn a_config_folder_means_the_file_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    let mut command = tsudoi(dir.path());
    command.args(["--config", conf.to_str().unwrap(), "migrate"]);
    let output = run_with_timeout(command, Duration::from_secs(10));
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("is a folder without a Leptos.toml in it"),
        "{stderr}"
    );

    std::fs::write(conf.join("Leptos.toml"), "time_zone = \"Mars/Olympus\"\n").unwrap();
    let mut command = tsudoi(dir.path());
    command.args(["--config", conf.to_str().unwrap(), "migrate"]);
    let output = run_with_timeout(command, Duration::from_secs(10));
    assert!(
        stderr_of(&output).contains("Mars/Olympus"),
        "the file inside the folder is read: {}",
        stderr_of(&output)
    );
}

#[test]
fn a_command_line_import_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let csv = dir.path().join("staff.csv");
    std::fs::write(&csv, "email,name\na@example.co.jp,青木\n").unwrap();
    let mut command = tsudoi(dir.path());
    command.args(["import-users", csv.to_str().unwrap(), "--database-url", &db]);
    let output = run_with_timeout(command, Duration::from_secs(20));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let audited = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = tsudoi::storage::Database::open(
            &tsudoi::storage::DatabaseUrl::parse(&db).unwrap(),
            &tsudoi::storage::PoolSettings::default(),
        )
        .await
        .unwrap();
        tsudoi::audit::latest(&db, tsudoi::audit::AuditAction::UsersImported, None)
            .await
            .unwrap()
    });
    assert!(audited.is_some(), "the import is in the audit log");
}

/// Runs `tsudoi ARGS` with `input` on stdin.
fn run_with_input(dir: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = tsudoi(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Whether `email` logs in with `password` on the SQLite file at `db`.
fn logs_in(db: &str, email: &str, password: &str) -> bool {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = tsudoi::storage::Database::open(
            &tsudoi::storage::DatabaseUrl::parse(db).unwrap(),
            &tsudoi::storage::PoolSettings::default(),
        )
        .await
        .unwrap();
        let result = tsudoi::users::authenticate(&db, email, password.into()).await;
        db.close().await;
        result.is_ok()
    })
}

#[test]
fn create_admin_never_changes_an_existing_person_and_set_password_gives_one_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let create = |email: &str, password: &str| {
        run_with_input(
            dir.path(),
            &[
                "create-admin",
                "--email",
                email,
                "--name",
                "管理者",
                "--database-url",
                &db,
            ],
            &format!("{password}\n"),
        )
    };
    let output = create("Admin@Example.co.jp", "first password 1");
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("admin@example.co.jp"));

    // The same address again: refused with what to do instead, nothing changed.
    let again = create("admin@example.co.jp", "second password 2");
    assert!(!again.status.success());
    let stderr = stderr_of(&again);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("already has an account (role: admin)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tsudoi set-password --email admin@example.co.jp"),
        "{stderr}"
    );
    assert!(logs_in(&db, "admin@example.co.jp", "first password 1"));
    assert!(!logs_in(&db, "admin@example.co.jp", "second password 2"));

    // An imported employee without a password gets one from IT.
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,department
hana@example.co.jp,花,営業部
",
    )
    .unwrap();
    let mut import = tsudoi(dir.path());
    import.args(["import-users", csv.to_str().unwrap(), "--database-url", &db]);
    assert!(
        run_with_timeout(import, Duration::from_secs(20))
            .status
            .success()
    );
    assert!(!logs_in(&db, "hana@example.co.jp", "hana password 3"));
    let set = |email: &str, password: &str| {
        run_with_input(
            dir.path(),
            &["set-password", "--email", email, "--database-url", &db],
            &format!("{password}\n"),
        )
    };
    let output = set("Hana@example.co.jp", "hana password 3");
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(logs_in(&db, "hana@example.co.jp", "hana password 3"));

    // Refusals in one line each: an unknown address, a short password.
    let unknown = set("nobody@example.co.jp", "some password 4");
    assert!(!unknown.status.success());
    assert!(
        stderr_of(&unknown).contains("nobody has the e-mail address"),
        "{}",
        stderr_of(&unknown)
    );
    let short = set("hana@example.co.jp", "short");
    assert!(!short.status.success());
    assert!(
        stderr_of(&short).contains("at least 10 characters"),
        "{}",
        stderr_of(&short)
    );
    assert!(logs_in(&db, "hana@example.co.jp", "hana password 3"));
}

#[test]
fn import_users_reports_each_rejected_line_and_reruns_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,department,role\na@example.co.jp,A さん,営業部,\nbroken,B,営業部,\n",
    )
    .unwrap();
    let run = || {
        let mut command = tsudoi(dir.path());
        command.args(["import-users", csv.to_str().unwrap(), "--database-url", &db]);
        run_with_timeout(command, Duration::from_secs(20))
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        stdout.contains("line 3: not imported: “broken” is not a valid e-mail address."),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 created, 0 updated, 0 unchanged, 1 lines not imported"),
        "{stdout}"
    );
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 created, 0 updated, 1 unchanged"));

    let mut missing = tsudoi(dir.path());
    missing.args(["import-users", "nope.csv", "--database-url", &db]);
    let output = run_with_timeout(missing, Duration::from_secs(20));
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).starts_with("tsudoi: error: cannot read nope.csv"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn backup_check_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("t.db");
    let db = format!("sqlite://{}", live.display());
    let run = |args: &[&str]| {
        let mut command = tsudoi(dir.path());
        command.args(args);
        run_with_timeout(command, Duration::from_secs(60))
    };
    let seeded = run(&["seed-demo", "--database-url", &db]);
    assert!(seeded.status.success(), "{}", stderr_of(&seeded));

    let copy = dir.path().join("copy.db");
    let copy_name = copy.to_str().unwrap();
    let backed_up = run(&["backup", copy_name, "--database-url", &db]);
    assert!(backed_up.status.success(), "{}", stderr_of(&backed_up));
    let said = String::from_utf8_lossy(&backed_up.stdout).to_string();
    assert!(said.contains("60 events, 304 people"), "{said}");
    assert!(said.contains("integrity check ok"), "{said}");

    // Again to the same name: refused in one line, the file untouched.
    let bytes = std::fs::read(&copy).unwrap();
    let again = run(&["backup", copy_name, "--database-url", &db]);
    assert!(!again.status.success());
    assert_eq!(
        stderr_of(&again).lines().count(),
        1,
        "{}",
        stderr_of(&again)
    );
    assert!(stderr_of(&again).contains("already exists"));
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);

    let checked = run(&["backup-check", copy_name]);
    assert!(checked.status.success(), "{}", stderr_of(&checked));
    // The checksum beside it is one `sha256sum -c` reads.
    let checksum = std::fs::read_to_string(dir.path().join("copy.db.sha256")).unwrap();
    assert!(checksum.ends_with("  copy.db\n"), "{checksum}");
    assert_eq!(checksum.split_whitespace().next().unwrap().len(), 64);
    // One changed byte anywhere in the file (here the middle, which may
    // well be inside a stored value SQLite cannot check): refused.
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    let damaged_file = dir.path().join("damaged.db");
    std::fs::write(&damaged_file, &damaged).unwrap();
    std::fs::copy(
        dir.path().join("copy.db.sha256"),
        dir.path().join("damaged.db.sha256"),
    )
    .unwrap();
    let refused = run(&["backup-check", damaged_file.to_str().unwrap()]);
    assert!(!refused.status.success(), "a damaged backup passed");
    assert!(
        stderr_of(&refused).contains("SHA-256"),
        "{}",
        stderr_of(&refused)
    );
    let not_restored = run(&[
        "restore",
        damaged_file.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(
        !not_restored.status.success(),
        "a damaged backup was restored"
    );
    assert_eq!(
        stderr_of(&refused).lines().count(),
        1,
        "{}",
        stderr_of(&refused)
    );

    // Restore: the live database comes back as the copy, the old one is kept.
    let restored = run(&["restore", copy_name, "--database-url", &db]);
    assert!(restored.status.success(), "{}", stderr_of(&restored));
    assert!(dir.path().join("t.db.before-restore").exists());
    let migrated = run(&["migrate", "--database-url", &db]);
    assert!(migrated.status.success(), "{}", stderr_of(&migrated));
}

#[test]
fn retention_from_the_command_line_plans_runs_verifies_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let archives = dir.path().join("archives");
    let run = |args: &[&str], months: &str| {
        let mut command = tsudoi(dir.path());
        command
            .args(args)
            .env("TSUDOI_RETENTION_MONTHS", months)
            .env("TSUDOI_ARCHIVE_FOLDER", &archives);
        run_with_timeout(command, Duration::from_secs(60))
    };
    let migrated = run(&["migrate", "--database-url", &db], "24");
    assert!(migrated.status.success(), "{}", stderr_of(&migrated));
    // An event that ended 18 months ago, with one person registered.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = tsudoi::storage::Database::open(
            &tsudoi::storage::DatabaseUrl::parse(&db).unwrap(),
            &tsudoi::storage::PoolSettings::default(),
        )
        .await
        .unwrap();
        let tsudoi::storage::Pool::Sqlite(pool) = db.pool() else {
            unreachable!("a SQLite URL")
        };
        sqlx::query(
            "INSERT INTO events (title_ja, description_ja, description_en, category, place,
                                 starts_at, ends_at, capacity, seats_taken, status)
             VALUES ('昔の研修', '', '', 'training', '7F', datetime('now', '-18 months', '-2 hours'),
                     datetime('now', '-18 months'), 10, 1, 'published')",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO users (email, display_name, role, lang) VALUES ('old@example.co.jp', '古', 'employee', 'ja')",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
             VALUES (1, 1, 'registered', datetime('now', '-19 months'), datetime('now', '-19 months'))",
        )
        .execute(pool)
        .await
        .unwrap();
        db.close().await;
    });
    let stdout =
        |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).to_string();

    let long = run(&["retention", "--dry-run", "--database-url", &db], "24");
    assert!(long.status.success(), "{}", stderr_of(&long));
    assert!(
        stdout(&long).contains("Retention: 24 months"),
        "{}",
        stdout(&long)
    );
    assert!(
        stdout(&long).contains("In all: 0 events"),
        "{}",
        stdout(&long)
    );
    let short = run(&["retention", "--dry-run", "--database-url", &db], "12");
    assert!(short.status.success(), "{}", stderr_of(&short));
    assert!(
        stdout(&short).contains("event 1 (昔の研修)")
            && stdout(&short).contains("In all: 1 events, 1 registrations"),
        "{}",
        stdout(&short)
    );
    assert!(stdout(&short).contains("Dry run: nothing was changed"));

    assert!(stdout(&short).contains("Last run: none yet."));

    // Neither --dry-run nor --run: refused, nothing done.
    let refused = run(&["retention", "--database-url", &db], "12");
    assert!(!refused.status.success());
    assert!(!archives.exists());

    let ran = run(&["retention", "--run", "--database-url", &db], "12");
    assert!(ran.status.success(), "{}", stderr_of(&ran));
    assert!(
        stdout(&ran).contains("1 events (1 registrations"),
        "{}",
        stdout(&ran)
    );
    let folders: Vec<_> = std::fs::read_dir(&archives)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let archive = folders[0].to_str().unwrap().to_string();
    let after = run(&["retention", "--dry-run", "--database-url", &db], "12");
    assert!(
        stdout(&after).contains("In all: 0 events")
            && stdout(&after).contains("1 events (1 registrations, 0 survey answers)"),
        "{}",
        stdout(&after)
    );

    let verified = run(&["archive", "verify", &archive], "12");
    assert!(verified.status.success(), "{}", stderr_of(&verified));
    assert!(
        stdout(&verified).contains("registrations.jsonl.gz: 1 rows"),
        "{}",
        stdout(&verified)
    );

    // One changed byte in a copy: verify fails, naming the file.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&archive).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let file = copy.join("events.jsonl.gz");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();
    let damaged = run(&["archive", "verify", copy.to_str().unwrap()], "12");
    assert!(!damaged.status.success());
    assert!(
        stderr_of(&damaged).contains("events.jsonl.gz"),
        "{}",
        stderr_of(&damaged)
    );

    let restored = run(
        &[
            "archive",
            "restore",
            &archive,
            "--event",
            "1",
            "--database-url",
            &db,
        ],
        "12",
    );
    assert!(restored.status.success(), "{}", stderr_of(&restored));
    assert!(
        stdout(&restored).contains("1 registrations"),
        "{}",
        stdout(&restored)
    );
    let planned_again = run(&["retention", "--dry-run", "--database-url", &db], "12");
    assert!(
        stdout(&planned_again).contains("In all: 1 events, 1 registrations"),
        "{}",
        stdout(&planned_again)
    );
}
