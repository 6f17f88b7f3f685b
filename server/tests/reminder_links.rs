//! The link in every reminder that stops them, over HTTP: a mail client's
//! one-click POST (RFC 8058) with no session and no page, the page a reader
//! opens (asks first, in their language), and the setting on *My account*.

mod support;

use reqwest::{StatusCode, header};
use support::RunningServer;
use tsudoi::storage::test_support;
use tsudoi::users::reminder_preference;

#[tokio::test(flavor = "multi_thread")]
async fn the_stop_link_works_with_one_click_and_from_its_page() {
    let t = test_support::sqlite().await;
    let emails = support::add_employees(&t.db, 0..2).await;
    let mut people = Vec::new();
    for email in &emails {
        let (id, ..) = tsudoi::users::find_by_email(&t.db, email)
            .await
            .unwrap()
            .expect("the employee");
        people.push(id);
    }
    let one_click_token = reminder_preference::stop_token(&t.db, people[0])
        .await
        .unwrap();
    let page_token = reminder_preference::stop_token(&t.db, people[1])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // A mail provider's POST: no cookie, no Origin, the RFC's body.
    let one_click = http
        .post(server.url(&format!("/reminders/stop/{one_click_token}")))
        .header(header::ACCEPT_LANGUAGE, "en")
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), StatusCode::OK);
    assert!(
        one_click
            .text()
            .await
            .unwrap()
            .contains("Reminder mails are off for person0@example.co.jp"),
    );
    assert!(!reminder_preference::wants(&t.db, people[0]).await.unwrap());
    assert!(
        reminder_preference::wants(&t.db, people[1]).await.unwrap(),
        "nobody else's"
    );
    // Again: still fine. A made-up or altered link: refused, nothing changes.
    let again = http
        .post(server.url(&format!("/reminders/stop/{one_click_token}")))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let mut altered = page_token.clone().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    for token in [
        String::from_utf8(altered).unwrap(),
        "x".repeat(5000),
        "%3Cscript%3E".into(),
    ] {
        let refused = http
            .post(server.url(&format!("/reminders/stop/{token}")))
            .header(header::ACCEPT_LANGUAGE, "ja")
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap();
        assert!(
            refused.status().is_client_error(),
            "{token}: {}",
            refused.status()
        );
        let text = refused.text().await.unwrap();
        assert!(!text.contains('<'), "{text}");
    }
    assert!(reminder_preference::wants(&t.db, people[1]).await.unwrap());

    // The page a reader opens: it asks first, and GET changes nothing.
    let page = http
        .get(server.url(&format!("/reminders/stop/{page_token}")))
        .header(header::ACCEPT_LANGUAGE, "ja")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("person1@example.co.jp 宛てのリマインダーメールを停止しますか？"),
        "{html}"
    );
    assert!(reminder_preference::wants(&t.db, people[1]).await.unwrap());
    // Its button, without JavaScript: the form posts to the server function.
    let stop = http
        .post(server.url("/api/reminders/stop"))
        .header(header::ACCEPT, "text/html")
        .form(&[("token", page_token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        stop.status().is_success() || stop.status().is_redirection(),
        "{}",
        stop.status()
    );
    assert!(!reminder_preference::wants(&t.db, people[1]).await.unwrap());
    let stopped = http
        .get(server.url(&format!("/reminders/stop/{page_token}")))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        stopped.contains("Reminder mails are off for person1@example.co.jp."),
        "{stopped}"
    );

    // On My account the person turns them back on.
    let cookie = support::log_in(&http, &server, &emails[0], support::EMPLOYEE_PASSWORD).await;
    let on = http
        .post(server.url("/api/reminders/set"))
        .header(header::COOKIE, &cookie)
        .form(&[("wants", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(on.status(), StatusCode::OK);
    assert!(reminder_preference::wants(&t.db, people[0]).await.unwrap());
    let account = http
        .get(server.url("/account"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("data-testid=\"reminders-state\""),
        "{account}"
    );
    assert!(account.contains("data-on=\"true\""), "{account}");
    // A value that is not yes or no is refused.
    let odd = http
        .post(server.url("/api/reminders/set"))
        .header(header::COOKIE, &cookie)
        .form(&[("wants", "maybe")])
        .send()
        .await
        .unwrap();
    assert!(odd.status().is_client_error(), "{}", odd.status());
    assert!(reminder_preference::wants(&t.db, people[0]).await.unwrap());
}
