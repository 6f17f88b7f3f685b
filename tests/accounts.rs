//! Accounts: logging in, brute-force limits and user administration,
//! on every backend.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{cheap_hash, execute, scalar};
use tokio::sync::Barrier;
use tsudoi::Error;
use tsudoi::Reason;
use tsudoi::audit::{self, AuditAction};
use tsudoi::model::{Lang, Role};
use tsudoi::storage::{Database, test_support};
use tsudoi::users::{self, LoginLimits, NewUser, password, throttle};

#[tokio::test(flavor = "multi_thread")]
async fn login_accepts_the_right_password_and_refuses_everything_else_alike() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let hash = password::hash("correct horse battery".into())
            .await
            .unwrap();
        let user = NewUser {
            email: "Hanako.Sato@example.co.jp".into(),
            display_name: "佐藤 花子".into(),
            department: Some("人事部".into()),
            role: Role::Organizer,
            lang: Lang::Ja,
        };
        let id = users::upsert(db, &user, Some(&hash)).await.unwrap();

        let me = users::authenticate(
            db,
            "  HANAKO.SATO@example.co.jp ",
            "correct horse battery".into(),
        )
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
        assert_eq!(
            (me.id, me.role, me.lang),
            (id, Role::Organizer, Lang::Ja),
            "{backend}"
        );
        assert_eq!(me.email, "hanako.sato@example.co.jp");

        let wrong = users::authenticate(
            db,
            "hanako.sato@example.co.jp",
            "wrong horse battery".into(),
        )
        .await;
        assert_eq!(wrong, Err(Error::Unauthenticated), "{backend}");
        let unknown =
            users::authenticate(db, "nobody@example.co.jp", "correct horse battery".into()).await;
        assert_eq!(unknown, Err(Error::Unauthenticated), "{backend}");

        // No password set yet (e.g. imported, not invited): refused the same way.
        let imported = NewUser {
            email: "new@example.co.jp".into(),
            ..user.clone()
        };
        users::upsert(db, &imported, None).await.unwrap();
        let no_password = users::authenticate(db, "new@example.co.jp", "".into()).await;
        assert_eq!(no_password, Err(Error::Unauthenticated), "{backend}");

        // A deactivated account cannot log in, even with the right password.
        execute(
            db,
            &format!("UPDATE users SET active = FALSE WHERE id = {id}"),
        )
        .await
        .unwrap();
        let inactive = users::authenticate(
            db,
            "hanako.sato@example.co.jp",
            "correct horse battery".into(),
        )
        .await;
        assert_eq!(inactive, Err(Error::Unauthenticated), "{backend}");
    }
}

#[tokio::test]
async fn importing_employees_reports_bad_lines_and_a_rerun_changes_nothing() {
    use tsudoi::users::import::{RejectedLine, import_csv};

    let mut file = "\u{feff}Email,Name,Department,Role\n\
        taro.yamada@example.co.jp,山田 太郎,開発部,\n\
        hanako.sato@example.co.jp,\"Sato, Hanako\",人事部,organizer\n\
        not-an-email,誰か,開発部,\n\
        jiro@example.co.jp,,開発部,\n\
        saburo@example.co.jp,三郎,開発部,boss\n\
        TARO.YAMADA@example.co.jp,山田 太郎,開発部,\n\
        \n\
        staff@example.co.jp,受付 係,総務部,staff\n"
        .as_bytes()
        .to_vec();
    // A line saved in Shift_JIS by an old spreadsheet: 山田 = 0x8E 0x52 0x93 0x63.
    file.extend_from_slice(b"sjis@example.co.jp,\x8e\x52\x93\x63,x,\n");

    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let report = import_csv(db, None, file.as_slice()).await.unwrap();
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (3, 0, 0),
            "{backend}: {report:?}"
        );
        let reasons: Vec<(u64, &str)> = report
            .rejected
            .iter()
            .map(|RejectedLine { line, reason }| (*line, reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 5, "{backend}: {reasons:?}");
        assert!(
            reasons[0].0 == 4 && reasons[0].1.contains("not a valid e-mail"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].0 == 5 && reasons[1].1.contains("name is empty"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].0 == 6 && reasons[2].1.contains("unknown role “boss”"),
            "{reasons:?}"
        );
        assert!(
            reasons[3].0 == 7 && reasons[3].1.contains("already appears on line 2"),
            "{reasons:?}"
        );
        assert!(
            reasons[4].0 == 10 && reasons[4].1.contains("UTF-8"),
            "{reasons:?}"
        );
        let departments = common::scalar(db, "SELECT COUNT(*) FROM departments").await;
        assert_eq!(departments, 3, "{backend}: 開発部, 人事部, 総務部");
        let quoted = common::scalar(
            db,
            "SELECT COUNT(*) FROM users WHERE display_name = 'Sato, Hanako' AND role = 'organizer'",
        )
        .await;
        assert_eq!(quoted, 1, "{backend}");

        let again = import_csv(db, None, file.as_slice()).await.unwrap();
        assert_eq!(
            (again.created, again.updated, again.unchanged),
            (0, 0, 3),
            "{backend}: rerun changed something"
        );

        let moved = "email,name,department\ntaro.yamada@example.co.jp,山田 太郎,人事部\n";
        let report = import_csv(db, None, moved.as_bytes()).await.unwrap();
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 1, 0),
            "{backend}"
        );

        let headless = import_csv(db, None, "mail,fullname\na@b.co,A\n".as_bytes()).await;
        assert!(
            matches!(headless, Err(Error::Invalid(m)) if m.to_string().contains("“email” and “name”")),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_quote_left_open_refuses_the_whole_file_with_its_line() {
    use tsudoi::users::import::import_csv;

    // Line 3's quote never closes: read naively, lines 4 and 5 would become
    // part of one display name and two people would silently go missing.
    let file = "email,name,department\n\
        a@example.co.jp,青木 一郎,営業部\n\
        b@example.co.jp,\"伊藤 二郎,営業部\n\
        c@example.co.jp,上田 三郎,営業部\n\
        d@example.co.jp,江藤 四郎,営業部\n";
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let refused = import_csv(db, None, file.as_bytes()).await;
        assert!(
            matches!(&refused, Err(Error::Invalid(m)) if m.to_string().starts_with("Line 3:") && m.to_string().contains("quotation mark")),
            "{backend}: {refused:?}"
        );
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM users").await,
            0,
            "{backend}: nothing was imported"
        );
    }
}

#[tokio::test]
async fn an_import_bounds_every_field_and_refuses_control_characters() {
    use tsudoi::users::import::import_csv;

    let long = "長".repeat(101);
    let file = format!(
        "email,name,department\n\
         ok@example.co.jp,普通 の人,総務部\n\
         long@example.co.jp,{long},総務部\n\
         nul@example.co.jp,a\u{0}b,総務部\n\
         esc@example.co.jp,\u{1b}[31mred,総務部\n\
         dept@example.co.jp,部署 長い,{long}\n\
         a\u{0}b@example.co.jp,ヌル,総務部\n"
    );
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let report = import_csv(db, None, file.as_bytes()).await.unwrap();
        assert_eq!(report.created, 1, "{backend}: {report:?}");
        let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{backend}: {report:?}");
        assert!(report.rejected[0].reason.contains("too long"), "{report:?}");
        assert!(report.rejected[1].reason.contains("control"), "{report:?}");
        assert!(
            report.rejected.iter().all(|r| !r.reason.contains('\0')),
            "{backend}: the report itself stays printable"
        );
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM users").await,
            1,
            "{backend}"
        );
        // The report is kept in the audit log as JSON: a NUL in it would be
        // refused by PostgreSQL.
        tsudoi::users::import::import_csv_as(db, None, file.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
    }
}

#[tokio::test]
async fn no_import_demotes_the_last_active_admin() {
    use tsudoi::users::import::{import_csv, import_csv_as};

    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = with_password(db, "boss@example.co.jp", Role::Admin).await;
        // An empty role means employee: this file would lock everyone out.
        let file = "email,name,department,role\nboss@example.co.jp,社長,経営,\n";
        let report = import_csv(db, Some(admin), file.as_bytes()).await.unwrap();
        assert_eq!(report.updated, 0, "{backend}: {report:?}");
        assert!(
            report.rejected.len() == 1
                && report.rejected[0]
                    .reason
                    .contains("last active administrator"),
            "{backend}: {report:?}"
        );
        assert_eq!(
            users::current(db, admin).await.unwrap().map(|u| u.role),
            Some(Role::Admin),
            "{backend}"
        );

        // With a second admin in the same file first, the demotion is fine —
        // and audited as a role change, also from the command line.
        let file = "email,name,role\nnew.boss@example.co.jp,新 社長,admin\nboss@example.co.jp,社長,employee\n";
        let report = import_csv_as(db, None, file.as_bytes()).await.unwrap();
        assert_eq!(
            (report.created, report.updated),
            (1, 1),
            "{backend}: {report:?}"
        );
        assert_eq!(
            users::current(db, admin).await.unwrap().map(|u| u.role),
            Some(Role::Employee),
            "{backend}"
        );
        assert_eq!(
            count_actions(db, AuditAction::RoleChanged).await,
            1,
            "{backend}"
        );
        let imported = audit::latest(db, AuditAction::UsersImported, None)
            .await
            .unwrap();
        assert!(
            imported.is_some(),
            "{backend}: the command-line import is audited"
        );
    }
}

// ---- Brute-force limits -------------------------------------------------

const PASSWORD: &str = "correct horse battery";

fn person(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: format!("Person {email}"),
        department: None,
        role,
        lang: Lang::En,
    }
}

/// Someone who can log in with [`PASSWORD`].
async fn with_password(db: &Database, email: &str, role: Role) -> i64 {
    users::upsert(db, &person(email, role), Some(&cheap_hash(PASSWORD)))
        .await
        .unwrap()
}

async fn attempt(
    db: &Database,
    limits: &LoginLimits,
    email: &str,
    password: &str,
    address: &str,
    now: DateTime<Utc>,
) -> tsudoi::Result<i64> {
    users::log_in(db, limits, email, password.into(), address, now)
        .await
        .map(|user| user.id)
}

async fn count_actions(db: &Database, action: AuditAction) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{}'",
            action.code()
        ),
    )
    .await
}

async fn failures(db: &Database, key: &str) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT COALESCE(MAX(CAST(failures AS BIGINT)), 0) FROM login_throttle WHERE key = '{key}'"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn five_wrong_passwords_block_the_account_even_for_the_right_one() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "hanako@example.co.jp", Role::Employee).await;
        let now = Utc::now();
        for n in 0..5 {
            let wrong = attempt(
                db,
                &limits,
                "Hanako@example.co.jp",
                "wrong horse battery",
                "192.0.2.1",
                now + Duration::seconds(n),
            )
            .await;
            assert_eq!(wrong, Err(Error::Unauthenticated), "{backend}: attempt {n}");
        }
        // The last failure was at now + 4 s, the block runs 15 minutes from it.
        let later = now + Duration::seconds(64);
        let blocked = attempt(
            db,
            &limits,
            "hanako@example.co.jp",
            PASSWORD,
            "198.51.100.7",
            later,
        )
        .await;
        assert_eq!(
            blocked,
            Err(Error::TooManyAttempts {
                retry_after_secs: 15 * 60 - 60
            }),
            "{backend}"
        );
        let message = blocked.unwrap_err().to_string();
        assert_eq!(
            message, "Too many failed sign-in attempts. Try again in 14 minutes.",
            "{backend}"
        );
        assert_eq!(
            count_actions(db, AuditAction::LoginFailed).await,
            5,
            "{backend}"
        );
        let throttled = audit::latest(db, AuditAction::LoginThrottled, None)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{backend}: the refusal is not in the audit log"));
        assert_eq!(throttled.target, "hanako@example.co.jp", "{backend}");

        let after_block = now + Duration::seconds(4) + Duration::minutes(15);
        let allowed = attempt(
            db,
            &limits,
            "hanako@example.co.jp",
            PASSWORD,
            "192.0.2.1",
            after_block,
        )
        .await;
        assert_eq!(allowed, Ok(id), "{backend}");
        let logged_in = audit::latest(db, AuditAction::LoggedIn, Some(id))
            .await
            .unwrap();
        assert!(logged_in.is_some(), "{backend}");
        assert_eq!(
            failures(db, "account:hanako@example.co.jp").await,
            0,
            "{backend}: success forgets the account's failures"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_in_different_windows_do_not_add_up() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "taro@example.co.jp", Role::Employee).await;
        let first_window = Utc::now();
        let second_window = first_window + limits.window + Duration::seconds(1);
        for now in [first_window, second_window] {
            for _ in 0..4 {
                let wrong = attempt(
                    db,
                    &limits,
                    "taro@example.co.jp",
                    "not it at all",
                    "192.0.2.9",
                    now,
                )
                .await;
                assert_eq!(wrong, Err(Error::Unauthenticated), "{backend}");
            }
        }
        assert_eq!(
            failures(db, "account:taro@example.co.jp").await,
            4,
            "{backend}"
        );
        let allowed = attempt(
            db,
            &limits,
            "taro@example.co.jp",
            PASSWORD,
            "192.0.2.9",
            second_window,
        )
        .await;
        assert_eq!(
            allowed,
            Ok(id),
            "{backend}: 4 + 4 failures in two windows must not block"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_address_limit_stops_a_spray_over_many_accounts() {
    // Fewer than the default 20, to keep the test quick; the rule is the same.
    let limits = LoginLimits {
        per_address: 6,
        ..LoginLimits::default()
    };
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let target = with_password(db, "target@example.co.jp", Role::Admin).await;
        for n in 0..6 {
            with_password(db, &format!("victim{n}@example.co.jp"), Role::Employee).await;
        }
        let now = Utc::now();
        for n in 0..6 {
            let wrong = attempt(
                db,
                &limits,
                &format!("victim{n}@example.co.jp"),
                "Winter2026!!",
                "203.0.113.5",
                now,
            )
            .await;
            assert_eq!(wrong, Err(Error::Unauthenticated), "{backend}: {n}");
        }
        let from_sprayer = attempt(
            db,
            &limits,
            "target@example.co.jp",
            PASSWORD,
            "203.0.113.5",
            now,
        )
        .await;
        assert!(
            matches!(from_sprayer, Err(Error::TooManyAttempts { retry_after_secs }) if retry_after_secs == 15 * 60),
            "{backend}: {from_sprayer:?}"
        );
        // Every account got only one failure, so from elsewhere they are fine.
        let from_elsewhere = attempt(
            db,
            &limits,
            "target@example.co.jp",
            PASSWORD,
            "192.0.2.44",
            now,
        )
        .await;
        assert_eq!(from_elsewhere, Ok(target), "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_successful_login_clears_the_account_counter_but_not_the_address_counter() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "jiro@example.co.jp", Role::Staff).await;
        let now = Utc::now();
        for round in 0..2 {
            for _ in 0..4 {
                let wrong = attempt(
                    db,
                    &limits,
                    "jiro@example.co.jp",
                    "typo typo typo",
                    "192.0.2.3",
                    now,
                )
                .await;
                assert_eq!(
                    wrong,
                    Err(Error::Unauthenticated),
                    "{backend}: round {round}"
                );
            }
            let right = attempt(
                db,
                &limits,
                "jiro@example.co.jp",
                PASSWORD,
                "192.0.2.3",
                now,
            )
            .await;
            assert_eq!(right, Ok(id), "{backend}: round {round}");
        }
        assert_eq!(
            failures(db, "account:jiro@example.co.jp").await,
            0,
            "{backend}"
        );
        assert_eq!(failures(db, "address:192.0.2.3").await, 8, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_failures_are_all_counted() {
    // Limits out of reach, so every attempt gets as far as counting its failure.
    let limits = LoginLimits {
        per_account: 1000,
        per_address: 1000,
        ..LoginLimits::default()
    };
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        with_password(db, "saburo@example.co.jp", Role::Employee).await;
        let now = Utc::now();
        let start = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let (db, start, limits) = (db.clone(), start.clone(), limits.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    users::log_in(
                        &db,
                        &limits,
                        "saburo@example.co.jp",
                        format!("guess number {n}"),
                        "198.51.100.20",
                        now,
                    )
                    .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(
                task.await.unwrap(),
                Err(Error::Unauthenticated),
                "{backend}"
            );
        }
        assert_eq!(
            failures(db, "account:saburo@example.co.jp").await,
            20,
            "{backend}"
        );
        assert_eq!(failures(db, "address:198.51.100.20").await, 20, "{backend}");
        assert_eq!(
            count_actions(db, AuditAction::LoginFailed).await,
            20,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn pruning_forgets_only_counts_that_no_longer_matter() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let now = Utc::now();
        let long_ago = now - Duration::hours(2);
        // Unknown accounts are counted too; these rows are what pruning is for.
        attempt(
            db,
            &limits,
            "old@example.co.jp",
            "whatever pw",
            "192.0.2.70",
            long_ago,
        )
        .await
        .unwrap_err();
        attempt(
            db,
            &limits,
            "new@example.co.jp",
            "whatever pw",
            "192.0.2.71",
            now,
        )
        .await
        .unwrap_err();
        let pruned = throttle::prune(db, &limits, now).await.unwrap();
        assert_eq!(pruned, 2, "{backend}: the old account and address rows");
        assert_eq!(
            failures(db, "account:old@example.co.jp").await,
            0,
            "{backend}"
        );
        assert_eq!(
            failures(db, "account:new@example.co.jp").await,
            1,
            "{backend}"
        );
    }
}

// ---- User administration ------------------------------------------------

/// The first administrator, as `tsudoi create-admin` makes one.
async fn first_admin(db: &Database) -> i64 {
    with_password(db, "admin@example.co.jp", Role::Admin).await
}

async fn audit_detail(db: &Database, action: AuditAction, actor: i64) -> serde_json::Value {
    audit::latest(db, action, Some(actor))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {action:?} entry by {actor}"))
        .detail_value()
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_create_accounts_once_and_the_creation_is_audited() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = first_admin(db).await;
        let mut new = person("Ken.Ito@example.co.jp", Role::Organizer);
        new.department = Some("営業部".into());
        let id = users::create(db, admin, &new, Some(PASSWORD.into()))
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
        let created = users::find(db, id).await.unwrap();
        assert_eq!(
            (
                created.email.as_str(),
                created.role,
                created.department.as_deref(),
                created.active,
                created.has_password
            ),
            (
                "ken.ito@example.co.jp",
                Role::Organizer,
                Some("営業部"),
                true,
                true
            ),
            "{backend}"
        );
        let entry = audit::latest(db, AuditAction::UserCreated, Some(admin))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.target, "ken.ito@example.co.jp", "{backend}");
        assert_eq!(
            entry.actor_name.as_deref(),
            Some("Person admin@example.co.jp")
        );
        assert_eq!(entry.detail_value()["user_id"], id, "{backend}");
        let me = users::log_in(
            db,
            &LoginLimits::default(),
            "ken.ito@example.co.jp",
            PASSWORD.into(),
            "192.0.2.1",
            Utc::now(),
        )
        .await;
        assert_eq!(me.map(|me| me.id), Ok(id), "{backend}");

        let again = users::create(
            db,
            admin,
            &person("KEN.ITO@example.co.jp", Role::Employee),
            None,
        )
        .await;
        assert_eq!(again, Err(Error::Conflict(Reason::EmailTaken)), "{backend}");
        let weak = users::create(
            db,
            admin,
            &person("weak@example.co.jp", Role::Employee),
            Some("short".into()),
        )
        .await;
        assert!(
            matches!(weak, Err(Error::Invalid(m)) if m.to_string().contains("at least")),
            "{backend}"
        );
        let without = users::create(
            db,
            admin,
            &person("later@example.co.jp", Role::Employee),
            None,
        )
        .await
        .unwrap();
        assert!(
            !users::find(db, without).await.unwrap().has_password,
            "{backend}"
        );
        assert_eq!(
            count_actions(db, AuditAction::UserCreated).await,
            2,
            "{backend}: refusals are not logged as creations"
        );
        assert_eq!(
            users::find(db, 999_999).await,
            Err(Error::NotFound),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn role_changes_are_audited_with_from_and_to() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = first_admin(db).await;
        let id = with_password(db, "member@example.co.jp", Role::Employee).await;

        users::set_role(db, admin, id, Role::Organizer)
            .await
            .unwrap();
        assert_eq!(
            users::find(db, id).await.unwrap().role,
            Role::Organizer,
            "{backend}"
        );
        let detail = audit_detail(db, AuditAction::RoleChanged, admin).await;
        assert_eq!(
            (
                detail["from"].as_str(),
                detail["to"].as_str(),
                detail["user_id"].as_i64()
            ),
            (Some("employee"), Some("organizer"), Some(id)),
            "{backend}"
        );
        users::set_role(db, admin, id, Role::Organizer)
            .await
            .unwrap();
        assert_eq!(
            count_actions(db, AuditAction::RoleChanged).await,
            1,
            "{backend}: setting the same role again is not a change"
        );
        assert_eq!(
            users::set_role(db, admin, 999_999, Role::Staff).await,
            Err(Error::NotFound),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let first = first_admin(db).await;
        let employee = with_password(db, "e@example.co.jp", Role::Employee).await;
        let is_last_admin = |result: tsudoi::Result<()>| matches!(result, Err(Error::Conflict(m)) if m.to_string().contains("last active administrator"));
        assert!(
            is_last_admin(users::set_role(db, first, first, Role::Staff).await),
            "{backend}"
        );
        assert!(
            is_last_admin(users::set_active(db, employee, first, false).await),
            "{backend}"
        );
        assert_eq!(
            users::set_active(db, first, first, false).await,
            Err(Error::Conflict(Reason::CannotDeactivateSelf)),
            "{backend}"
        );

        // With a second admin, either may go; an inactive admin does not count.
        let second = with_password(db, "second@example.co.jp", Role::Admin).await;
        users::set_active(db, first, second, false).await.unwrap();
        assert!(
            is_last_admin(users::set_role(db, first, first, Role::Staff).await),
            "{backend}"
        );
        users::set_role(db, first, second, Role::Employee)
            .await
            .unwrap();
        users::set_active(db, first, second, true).await.unwrap();
        users::set_role(db, first, second, Role::Admin)
            .await
            .unwrap();
        users::set_role(db, second, first, Role::Organizer)
            .await
            .unwrap();
        assert_eq!(
            users::find(db, first).await.unwrap().role,
            Role::Organizer,
            "{backend}"
        );
        let admins = scalar(
            db,
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active",
        )
        .await;
        assert_eq!(admins, 1, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let a = with_password(db, "a@example.co.jp", Role::Admin).await;
        let b = with_password(db, "b@example.co.jp", Role::Admin).await;
        for round in 0..5 {
            let start = Arc::new(Barrier::new(2));
            let demote = |actor: i64, target: i64| {
                let (db, start) = (db.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    users::set_role(&db, actor, target, Role::Staff).await
                })
            };
            let (by_a, by_b) = (demote(a, b), demote(b, a));
            let results = [by_a.await.unwrap(), by_b.await.unwrap()];
            let succeeded = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(succeeded, 1, "{backend}, round {round}: {results:?}");
            let admins = scalar(
                db,
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active",
            )
            .await;
            assert_eq!(admins, 1, "{backend}, round {round}");
            // Restore both for the next round.
            let remaining = if results[0].is_ok() { a } else { b };
            users::set_role(db, remaining, a, Role::Admin)
                .await
                .unwrap();
            users::set_role(db, remaining, b, Role::Admin)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_deactivated_account_has_no_session_and_cannot_log_in() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = first_admin(db).await;
        let id = with_password(db, "leaver@example.co.jp", Role::Staff).await;
        let now = Utc::now();
        assert_eq!(
            attempt(
                db,
                &limits,
                "leaver@example.co.jp",
                PASSWORD,
                "192.0.2.5",
                now
            )
            .await,
            Ok(id)
        );
        let session = users::current(db, id).await.unwrap();
        assert_eq!(
            session.map(|u| (u.id, u.role)),
            Some((id, Role::Staff)),
            "{backend}"
        );

        users::set_active(db, admin, id, false).await.unwrap();
        assert_eq!(users::current(db, id).await, Ok(None), "{backend}");
        assert_eq!(
            attempt(
                db,
                &limits,
                "leaver@example.co.jp",
                PASSWORD,
                "192.0.2.5",
                now
            )
            .await,
            Err(Error::Unauthenticated),
            "{backend}"
        );
        assert!(!users::find(db, id).await.unwrap().active, "{backend}");
        assert_eq!(
            audit_detail(db, AuditAction::UserDeactivated, admin).await["user_id"],
            id
        );

        users::set_active(db, admin, id, true).await.unwrap();
        assert!(users::current(db, id).await.unwrap().is_some(), "{backend}");
        assert_eq!(
            audit_detail(db, AuditAction::UserReactivated, admin).await["user_id"],
            id
        );
        assert_eq!(users::current(db, 999_999).await, Ok(None), "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_a_password_needs_the_current_one() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "mika@example.co.jp", Role::Employee).await;
        let wrong = users::change_password(
            db,
            &limits,
            id,
            "not my password".into(),
            "a brand new secret".into(),
            "192.0.2.8",
        )
        .await;
        assert_eq!(
            wrong,
            Err(Error::Invalid(Reason::WrongCurrentPassword)),
            "{backend}"
        );
        let weak = users::change_password(
            db,
            &limits,
            id,
            PASSWORD.into(),
            "short".into(),
            "192.0.2.8",
        )
        .await;
        assert!(
            matches!(weak, Err(Error::Invalid(m)) if m.to_string().contains("at least")),
            "{backend}"
        );
        assert_eq!(
            count_actions(db, AuditAction::PasswordChanged).await,
            0,
            "{backend}"
        );

        let generation = users::change_password(
            db,
            &limits,
            id,
            PASSWORD.into(),
            "a brand new secret".into(),
            "192.0.2.8",
        )
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
        assert_eq!(generation, 1, "{backend}: sessions from before are over");
        let current = users::current(db, id).await.unwrap().unwrap();
        assert_eq!(current.session_generation, 1, "{backend}");
        let now = Utc::now();
        assert_eq!(
            attempt(
                db,
                &limits,
                "mika@example.co.jp",
                PASSWORD,
                "192.0.2.8",
                now
            )
            .await,
            Err(Error::Unauthenticated),
            "{backend}: the old password is gone"
        );
        assert_eq!(
            attempt(
                db,
                &limits,
                "mika@example.co.jp",
                "a brand new secret",
                "192.0.2.8",
                now
            )
            .await,
            Ok(id),
            "{backend}"
        );
        let entry = audit::latest(db, AuditAction::PasswordChanged, Some(id))
            .await
            .unwrap();
        assert_eq!(
            entry.map(|e| e.target),
            Some("mika@example.co.jp".into()),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn users_are_listed_in_e_mail_order_a_page_at_a_time_and_searchable() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let mut emails: Vec<String> = (0..25)
            .map(|n| format!("user{n:02}@example.co.jp"))
            .collect();
        for email in &emails {
            users::upsert(db, &person(email, Role::Employee), None)
                .await
                .unwrap();
        }
        let mut sato = person("h.sato@example.co.jp", Role::Staff);
        sato.display_name = "Hanako SATO".into();
        users::upsert(db, &sato, Some(&cheap_hash(PASSWORD)))
            .await
            .unwrap();
        let mut percent = person("100%_done@example.co.jp", Role::Employee);
        percent.display_name = "Odd Address".into();
        users::upsert(db, &percent, None).await.unwrap();
        emails.extend([
            "h.sato@example.co.jp".into(),
            "100%_done@example.co.jp".into(),
        ]);
        emails.sort();

        let mut listed = Vec::new();
        let mut sizes = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = users::list(db, None, after.as_deref(), 10).await.unwrap();
            sizes.push(page.items.len());
            listed.extend(page.items.into_iter().map(|u| u.email));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(sizes, [10, 10, 7], "{backend}");
        // Where punctuation sorts depends on the server's collation; the
        // numbered addresses come in the same order under any of them.
        let numbered: Vec<&String> = listed.iter().filter(|e| e.starts_with("user")).collect();
        assert!(numbered.is_sorted(), "{backend}: {numbered:?}");
        let mut every = listed.clone();
        every.sort();
        assert_eq!(every, emails, "{backend}: every user exactly once");

        let found = users::list(db, Some("  sato "), None, 10).await.unwrap();
        assert_eq!(found.items.len(), 1, "{backend}: {found:?}");
        assert_eq!(found.items[0].display_name, "Hanako SATO");
        assert!(
            found.items[0].has_password && found.next.is_none(),
            "{backend}"
        );
        // Wildcards typed into the search box are plain characters.
        let literal: Vec<String> = users::list(db, Some("%_"), None, 10)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|u| u.email)
            .collect();
        assert_eq!(literal, ["100%_done@example.co.jp"], "{backend}");
        let by_name = users::list(db, Some("USER1"), None, 100).await.unwrap();
        assert_eq!(by_name.items.len(), 10, "{backend}: user10..user19");
        // Short searches (no three-character piece to look up) find the same.
        let short = users::list(db, Some("R1"), None, 100).await.unwrap();
        assert_eq!(short.items.len(), 10, "{backend}: user10..user19");
        // The search index follows a renamed person.
        execute(
            db,
            "UPDATE users SET display_name = '田中 花子' WHERE email = 'h.sato@example.co.jp'",
        )
        .await
        .unwrap();
        let renamed = users::list(db, Some("田中 花"), None, 10).await.unwrap();
        assert_eq!(renamed.items.len(), 1, "{backend}: {renamed:?}");
        let old_name = users::list(db, Some("Hanako SATO"), None, 10)
            .await
            .unwrap();
        assert!(old_name.items.is_empty(), "{backend}: {old_name:?}");

        assert!(
            matches!(
                users::list(db, None, Some("not-a-cursor"), 10).await,
                Err(Error::Invalid(_))
            ),
            "{backend}"
        );

        let id = users::list(db, Some("user07"), None, 1)
            .await
            .unwrap()
            .items[0]
            .id;
        users::set_lang(db, id, Lang::Ja).await.unwrap();
        assert_eq!(
            users::find(db, id).await.unwrap().lang,
            Lang::Ja,
            "{backend}"
        );
        assert_eq!(
            users::set_lang(db, 999_999, Lang::Ja).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_parallel_guesses_check_at_most_the_limit() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        with_password(db, "kenji@example.co.jp", Role::Employee).await;
        let now = Utc::now();
        let start = Arc::new(Barrier::new(30));
        // Thirty addresses, so only the per-account limit can stop them.
        let tasks: Vec<_> = (0..30)
            .map(|n| {
                let (db, start, limits) = (db.clone(), start.clone(), limits.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    users::log_in(
                        &db,
                        &limits,
                        "kenji@example.co.jp",
                        format!("guess number {n}"),
                        &format!("198.51.100.{n}"),
                        now,
                    )
                    .await
                })
            })
            .collect();
        let mut checked = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                Err(Error::Unauthenticated) => checked += 1,
                Err(Error::TooManyAttempts { .. }) => refused += 1,
                other => panic!("{backend}: {other:?}"),
            }
        }
        assert_eq!(checked, limits.per_account, "{backend}: passwords checked");
        assert_eq!(refused, 30 - limits.per_account, "{backend}");
        assert_eq!(
            count_actions(db, AuditAction::LoginFailed).await,
            i64::from(limits.per_account),
            "{backend}"
        );
        assert_eq!(
            count_actions(db, AuditAction::LoginThrottled).await,
            i64::from(30 - limits.per_account),
            "{backend}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_the_current_password_shares_the_login_limit() {
    let limits = LoginLimits::default();
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "nobu@example.co.jp", Role::Employee).await;
        let change = |current: String, address: &'static str| {
            users::change_password(
                db,
                &limits,
                id,
                current,
                "a brand new secret".into(),
                address,
            )
        };
        for n in 0..limits.per_account {
            let wrong = change(format!("guess {n}"), "192.0.2.60").await;
            assert!(
                matches!(wrong, Err(Error::Invalid(_))),
                "{backend}: {n}: {wrong:?}"
            );
        }
        let blocked = change(PASSWORD.into(), "192.0.2.61").await;
        assert!(
            matches!(blocked, Err(Error::TooManyAttempts { .. })),
            "{backend}: the right password is refused during the block: {blocked:?}"
        );
        let login = attempt(
            db,
            &limits,
            "nobu@example.co.jp",
            PASSWORD,
            "192.0.2.62",
            Utc::now(),
        )
        .await;
        assert!(
            matches!(login, Err(Error::TooManyAttempts { .. })),
            "{backend}: logging in is blocked too: {login:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_password_gives_its_attempt_back_to_the_address() {
    let limits = LoginLimits {
        per_address: 3,
        ..LoginLimits::default()
    };
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let id = with_password(db, "ok@example.co.jp", Role::Employee).await;
        let now = Utc::now();
        // An office behind one address logs in many times: right passwords
        // never add up to a block.
        for n in 0..10 {
            let right = attempt(db, &limits, "ok@example.co.jp", PASSWORD, "192.0.2.70", now).await;
            assert_eq!(right, Ok(id), "{backend}: {n}");
        }
        assert_eq!(failures(db, "address:192.0.2.70").await, 0, "{backend}");
    }
}

#[tokio::test]
async fn a_shift_jis_file_with_japanese_headers_imports_like_a_utf8_one() {
    use tsudoi::users::import::import_csv;
    // What Excel on a Japanese Windows saves as "CSV".
    let text = "メールアドレス,氏名,部署,権限\r\n\
        hana@example.co.jp,佐藤 花子,営業部,主催者\r\n\
        ken@example.co.jp,鈴木 健,開発部,\r\n\
        door@example.co.jp,受付 太郎,総務部,受付スタッフ\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let report = import_csv(db, None, &bytes[..]).await.unwrap();
        assert!(report.rejected.is_empty(), "{backend}: {report:?}");
        assert_eq!(report.created, 3, "{backend}");
        let rows = common::scalar(
            db,
            "SELECT COUNT(*) FROM users u JOIN departments d ON d.id = u.department_id
              WHERE (u.display_name = '佐藤 花子' AND d.name = '営業部' AND u.role = 'organizer')
                 OR (u.display_name = '鈴木 健' AND d.name = '開発部' AND u.role = 'employee')
                 OR (u.display_name = '受付 太郎' AND d.name = '総務部' AND u.role = 'staff')",
        )
        .await;
        assert_eq!(
            rows, 3,
            "{backend}: names, departments and roles read right"
        );
        // The same file again changes nothing.
        let again = import_csv(db, None, &bytes[..]).await.unwrap();
        assert_eq!((again.created, again.unchanged), (0, 3), "{backend}");
    }
}

// ---- Invitations and password resets ------------------------------------------

mod password_links {
    use super::*;
    use tsudoi::mail::MailKind;
    use tsudoi::mail::compose::{self, Composition, MailSite};
    use tsudoi::mail::outbox;
    use tsudoi::users::password_links::{self, Invitees};

    fn site() -> MailSite {
        MailSite {
            public_url: url::Url::parse("https://tsudoi.example.co.jp/").unwrap(),
            time_zone: chrono_tz::Asia::Tokyo,
        }
    }

    /// Someone imported: no password, so no way to sign in yet.
    async fn imported(db: &Database, email: &str) -> i64 {
        users::upsert(db, &person(email, Role::Employee), None)
            .await
            .unwrap()
    }

    /// Every mail due now, composed as the delivery worker would, with the
    /// link it carries (the token at the end of its button's address).
    async fn mailed_links(db: &Database, now: DateTime<Utc>) -> Vec<(MailKind, String, String)> {
        let claimed = outbox::claim_due(db, now, now + Duration::minutes(5), 100)
            .await
            .unwrap();
        let mut links = Vec::new();
        for mail in claimed {
            let composition = compose::compose(db, &site(), &mail, now).await.unwrap();
            let Composition::Send(composed) = composition else {
                panic!("{:?} to {}: {composition:?}", mail.kind, mail.to_address);
            };
            let (_, url) = composed
                .letter
                .button
                .clone()
                .expect("a button with the link");
            let token = url
                .strip_prefix("https://tsudoi.example.co.jp/password/")
                .unwrap_or_else(|| panic!("{url}"))
                .to_string();
            // What the outbox keeps is the link's id, never its secret.
            assert!(!mail.payload.to_string().contains(&token));
            links.push((mail.kind, mail.to_address.clone(), token));
        }
        // Delivered: a later look finds only what was queued since.
        execute(
            db,
            "UPDATE mail_outbox SET status = 'sent' WHERE status = 'sending'",
        )
        .await
        .unwrap();
        links
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_invitation_sets_a_first_password_once_and_signs_in() {
        for t in test_support::backends().await {
            let db = &t.db;
            let backend = db.backend().name();
            let admin = with_password(db, "admin@example.co.jp", Role::Admin).await;
            let hana = imported(db, "hana@example.co.jp").await;
            let ken = imported(db, "ken@example.co.jp").await;
            with_password(db, "has-one@example.co.jp", Role::Employee).await;
            let now = Utc::now();

            // Everyone without a password: Hana and Ken, not the two who have one.
            let invited = password_links::invite(db, admin, Invitees::EveryoneWithoutPassword, now)
                .await
                .unwrap();
            assert_eq!(invited, 2, "{backend}");
            let links = mailed_links(db, now).await;
            assert_eq!(links.len(), 2, "{backend}");
            assert!(links.iter().all(|(kind, ..)| *kind == MailKind::Invitation));
            let (_, _, hana_token) = links
                .iter()
                .find(|(_, to, _)| to == "hana@example.co.jp")
                .unwrap()
                .clone();

            // A second "invite everyone" right away sends nothing twice.
            let again = password_links::invite(db, admin, Invitees::EveryoneWithoutPassword, now)
                .await
                .unwrap();
            assert_eq!(again, 0, "{backend}");

            // An administrator reading the queued mail sees the link without its secret.
            let mail_id = scalar(
                db,
                "SELECT id FROM mail_outbox WHERE to_address = 'hana@example.co.jp'",
            )
            .await;
            let read = tsudoi::mail::preview::preview(db, &site(), mail_id, now)
                .await
                .unwrap();
            let text = read.text.unwrap();
            assert!(
                text.contains("https://tsudoi.example.co.jp/password/…"),
                "{text}"
            );
            assert!(!text.contains(&hana_token), "{backend}: {text}");

            let link = password_links::usable(db, &hana_token, now).await.unwrap();
            assert_eq!(
                (link.user_id, link.email.as_str()),
                (hana, "hana@example.co.jp")
            );

            // A refused password leaves the link usable.
            assert_eq!(
                password_links::set_password(db, &hana_token, "short".into(), now).await,
                Err(Error::Invalid(Reason::PasswordTooShort { min_chars: 10 })),
                "{backend}"
            );
            let me =
                password_links::set_password(db, &hana_token, "a brand new secret".into(), now)
                    .await
                    .unwrap();
            assert_eq!(me.id, hana, "{backend}");
            assert!(
                users::authenticate(db, "hana@example.co.jp", "a brand new secret".into())
                    .await
                    .is_ok(),
                "{backend}"
            );
            // Used once: refused after, whatever is typed.
            assert_eq!(
                password_links::set_password(db, &hana_token, "another new secret".into(), now)
                    .await,
                Err(Error::Invalid(Reason::PasswordLinkInvalid)),
                "{backend}"
            );
            assert_eq!(
                count_actions(db, AuditAction::PasswordSetWithLink).await,
                1,
                "{backend}"
            );
            assert_eq!(count_actions(db, AuditAction::InvitationsSent).await, 1);

            // Ken's link expires after seven days.
            let (_, _, ken_token) = links
                .iter()
                .find(|(_, to, _)| to == "ken@example.co.jp")
                .unwrap()
                .clone();
            let later = now + password_links::INVITATION_VALID + Duration::seconds(1);
            assert_eq!(
                password_links::set_password(db, &ken_token, "too late for this".into(), later)
                    .await,
                Err(Error::Invalid(Reason::PasswordLinkInvalid)),
                "{backend}"
            );
            // A made-up or altered token is refused the same way.
            let mut forged = ken_token.clone();
            forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
            for token in [forged.as_str(), "", "<script>", &"x".repeat(5000)] {
                assert_eq!(
                    password_links::usable(db, token, now).await,
                    Err(Error::Invalid(Reason::PasswordLinkInvalid)),
                    "{backend}: {token}"
                );
            }

            // Inviting him again later replaces the old link: only the newest works.
            let after_a_while = now + password_links::REINVITE_AFTER + Duration::seconds(1);
            let chosen =
                password_links::invite(db, admin, Invitees::Chosen(vec![ken, hana]), after_a_while)
                    .await
                    .unwrap();
            assert_eq!(chosen, 1, "{backend}: Hana has a password now");
            let newer = mailed_links(db, after_a_while).await;
            assert_eq!(newer.len(), 1, "{backend}");
            assert_eq!(
                password_links::usable(db, &ken_token, after_a_while).await,
                Err(Error::Invalid(Reason::PasswordLinkInvalid)),
                "{backend}"
            );
            assert!(
                password_links::usable(db, &newer[0].2, after_a_while)
                    .await
                    .is_ok()
            );
            assert_eq!(
                password_links::invite(db, admin, Invitees::Chosen(vec![]), now).await,
                Err(Error::Invalid(Reason::NobodyChosen))
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn forgot_password_answers_alike_for_anyone_and_is_limited() {
        for t in test_support::backends().await {
            let db = &t.db;
            let backend = db.backend().name();
            let limits = LoginLimits::default();
            let aki = with_password(db, "aki@example.co.jp", Role::Employee).await;
            let now = Utc::now();

            // Unknown address: the same answer, no mail.
            password_links::request_reset(db, &limits, "nobody@example.co.jp", "10.0.0.1", now)
                .await
                .unwrap();
            assert!(mailed_links(db, now).await.is_empty(), "{backend}");

            password_links::request_reset(db, &limits, " AKI@example.co.jp ", "10.0.0.1", now)
                .await
                .unwrap();
            let links = mailed_links(db, now).await;
            assert_eq!(links.len(), 1, "{backend}");
            assert_eq!(links[0].0, MailKind::PasswordReset);
            let token = links[0].2.clone();

            // The old password keeps working until the new one is set.
            assert!(
                users::authenticate(db, "aki@example.co.jp", PASSWORD.into())
                    .await
                    .is_ok()
            );
            // A reset link works for an hour.
            let late = now + password_links::RESET_VALID + Duration::seconds(1);
            assert_eq!(
                password_links::usable(db, &token, late).await,
                Err(Error::Invalid(Reason::PasswordLinkInvalid)),
                "{backend}"
            );
            let me = password_links::set_password(db, &token, "my new password!".into(), now)
                .await
                .unwrap();
            assert_eq!(me.id, aki);
            assert_eq!(
                users::authenticate(db, "aki@example.co.jp", PASSWORD.into()).await,
                Err(Error::Unauthenticated),
                "{backend}: the old password is gone"
            );

            // Three asks per address in the window, known or not; then a pause.
            for _ in 0..2 {
                password_links::request_reset(db, &limits, "aki@example.co.jp", "10.0.0.2", now)
                    .await
                    .unwrap();
            }
            assert!(matches!(
                password_links::request_reset(db, &limits, "aki@example.co.jp", "10.0.0.3", now)
                    .await,
                Err(Error::TooManyAttempts { .. })
            ));
            for _ in 0..3 {
                password_links::request_reset(db, &limits, "ghost@example.co.jp", "10.0.0.4", now)
                    .await
                    .unwrap();
            }
            assert!(
                matches!(
                    password_links::request_reset(
                        db,
                        &limits,
                        "ghost@example.co.jp",
                        "10.0.0.4",
                        now
                    )
                    .await,
                    Err(Error::TooManyAttempts { .. })
                ),
                "{backend}: an unknown address is limited like a known one"
            );
            // Of aki's several links only the newest is usable.
            let usable: i64 = scalar(
                db,
                &format!(
                    "SELECT COUNT(*) FROM password_links WHERE user_id = {aki} AND spent_at IS NULL"
                ),
            )
            .await;
            assert_eq!(usable, 1, "{backend}");
            assert_eq!(
                count_actions(db, AuditAction::PasswordResetRequested).await,
                7,
                "{backend}"
            );
        }
    }
}
