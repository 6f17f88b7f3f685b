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
