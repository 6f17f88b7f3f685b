//! Calendar files over HTTP: what calendar apps are told, and the `304 Not
//! Modified` that spares them (and the server) a whole file on every hourly
//! poll that finds nothing new.

mod support;

use reqwest::{StatusCode, header};
use support::RunningServer;
use tsudoi::storage::{Database, Pool, test_support};

async fn execute(db: &Database, sql: &str) {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap();
}

async fn get(url: &str, validators: &[(header::HeaderName, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in validators {
        request = request.header(name, *value);
    }
    request.send().await.unwrap()
}

fn header_of(answer: &reqwest::Response, name: header::HeaderName) -> String {
    answer
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", answer.headers()))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn calendar_files_answer_not_modified_to_their_validators() {
    let t = test_support::sqlite().await;
    let person = support::add_employees(&t.db, 0..1).await;
    let user = tsudoi::users::find_by_email(&t.db, &person[0])
        .await
        .unwrap()
        .expect("the employee")
        .0;
    let event = support::open_seminar(&t.db, 10).await;
    let registration = tsudoi::registrations::register(&t.db, event, user, chrono::Utc::now())
        .await
        .unwrap();
    let token = tsudoi::calendar::feed_token(&t.db, user).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());

    // The feed: an entity tag, and 304 without a body when it still holds.
    let feed_url = server.url(&format!("/calendar/{token}.ics"));
    let first = get(&feed_url, &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        header_of(&first, header::CONTENT_TYPE),
        "text/calendar; charset=utf-8"
    );
    let tag = header_of(&first, header::ETAG);
    assert!(tag.starts_with("W/\""), "{tag}");
    assert!(first.text().await.unwrap().contains("BEGIN:VEVENT"));

    let again = get(&feed_url, &[(header::IF_NONE_MATCH, &tag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&again, header::ETAG), tag);
    assert_eq!(again.text().await.unwrap(), "");
    // One of several tags, the strong form of the same tag, or any.
    for validator in [
        format!("\"other\", {tag}"),
        tag.trim_start_matches("W/").to_string(),
        "*".to_string(),
    ] {
        let answer = get(&feed_url, &[(header::IF_NONE_MATCH, &validator)]).await;
        assert_eq!(answer.status(), StatusCode::NOT_MODIFIED, "{validator}");
    }
    let other = get(&feed_url, &[(header::IF_NONE_MATCH, "W/\"other\"")]).await;
    assert_eq!(other.status(), StatusCode::OK);

    // Giving up the seat changes the feed: the old tag no longer matches.
    tsudoi::registrations::end(
        &t.db,
        registration.id,
        tsudoi::registrations::Ending::Cancelled { by_user: user },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let changed = get(&feed_url, &[(header::IF_NONE_MATCH, &tag)]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(header_of(&changed, header::ETAG), tag);
    assert!(!changed.text().await.unwrap().contains("BEGIN:VEVENT"));

    // The event's file: its entity tag and its last change both validate.
    let file_url = server.url(&format!("/events/{event}/calendar.ics"));
    let file = get(&file_url, &[]).await;
    assert_eq!(file.status(), StatusCode::OK);
    let tag = header_of(&file, header::ETAG);
    let modified = header_of(&file, header::LAST_MODIFIED);
    for validators in [
        vec![(header::IF_NONE_MATCH, tag.as_str())],
        vec![(header::IF_MODIFIED_SINCE, modified.as_str())],
    ] {
        let answer = get(&file_url, &validators).await;
        assert_eq!(answer.status(), StatusCode::NOT_MODIFIED, "{validators:?}");
    }
    // A tag that does not match decides, whatever the date says.
    let answer = get(
        &file_url,
        &[
            (header::IF_NONE_MATCH, "W/\"other\""),
            (header::IF_MODIFIED_SINCE, modified.as_str()),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    // A date before the last change, or one that is not a date.
    for since in ["Thu, 01 Jan 2015 00:00:00 GMT", "yesterday"] {
        let answer = get(&file_url, &[(header::IF_MODIFIED_SINCE, since)]).await;
        assert_eq!(answer.status(), StatusCode::OK, "{since}");
    }

    // The organizer renames the event a minute later: both validators fail.
    execute(
        &t.db,
        &format!(
            "UPDATE events SET title_ja = '計測会（改）', title_en = 'Measuring again', version = version + 1, updated_at = '{}' WHERE id = {event}",
            (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339()
        ),
    )
    .await;
    for validators in [
        vec![(header::IF_NONE_MATCH, tag.as_str())],
        vec![(header::IF_MODIFIED_SINCE, modified.as_str())],
    ] {
        let answer = get(&file_url, &validators).await;
        assert_eq!(answer.status(), StatusCode::OK, "{validators:?}");
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("SUMMARY:Measuring again")
        );
    }
}
