//! Logging in (issue #4, first part) on every backend.

mod common;

use common::execute;
use tsudoi::Error;
use tsudoi::model::{Lang, Role};
use tsudoi::storage::test_support;
use tsudoi::users::{self, NewUser, password};

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
        assert_eq!(Error::Unauthenticated.http_status(), 401);
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
        let report = import_csv(db, file.as_slice()).await.unwrap();
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

        let again = import_csv(db, file.as_slice()).await.unwrap();
        assert_eq!(
            (again.created, again.updated, again.unchanged),
            (0, 0, 3),
            "{backend}: rerun changed something"
        );

        let moved = "email,name,department\ntaro.yamada@example.co.jp,山田 太郎,人事部\n";
        let report = import_csv(db, moved.as_bytes()).await.unwrap();
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 1, 0),
            "{backend}"
        );

        let headless = import_csv(db, "mail,fullname\na@b.co,A\n".as_bytes()).await;
        assert!(
            matches!(headless, Err(Error::Invalid(m)) if m.contains("“email” and “name”")),
            "{backend}"
        );
    }
}
