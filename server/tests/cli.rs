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
        vec!["seed-demo", "--help"],
        vec!["import-users", "--help"],
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

#[test]
fn create_admin_reads_the_password_from_stdin_and_can_be_rerun() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    for password in ["first password 1", "second password 2"] {
        let mut child = tsudoi(dir.path())
            .args([
                "create-admin",
                "--email",
                "Admin@Example.co.jp",
                "--name",
                "管理者",
                "--database-url",
                &db,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("admin@example.co.jp"));
    }
    let mut child = tsudoi(dir.path())
        .args([
            "create-admin",
            "--email",
            "a@example.co.jp",
            "--name",
            "A",
            "--database-url",
            &db,
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("at least 10 characters"),
        "{}",
        stderr_of(&output)
    );
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
