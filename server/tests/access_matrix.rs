//! Every action × every role (and anonymous visitors), over HTTP against the
//! real binary: each is either allowed or refused with the right status —
//! 401 for visitors, 403 for logged-in users whose role does not allow it.
//! A new server function or page joins this table when it is added.

mod support;

use reqwest::header;
use reqwest::{Client, Method, StatusCode};
use support::RunningServer;
use tsudoi::model::{Lang, Role};
use tsudoi::storage::{Database, test_support};
use tsudoi::users::{self, NewUser, password};

const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Signed(Role),
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::Signed(Role::Employee),
    Caller::Signed(Role::Staff),
    Caller::Signed(Role::Organizer),
    Caller::Signed(Role::Admin),
];

/// Who may do it.
#[derive(Clone, Copy, Debug)]
enum Rule {
    Everyone,
    LoggedIn,
    AdminOnly,
    /// Someone else's things: refused to every role.
    Nobody,
    /// The door of an event nobody organizes: staff and admins.
    Door,
    /// Organizing in general (not one event): organizers and admins.
    Organizers,
}

impl Rule {
    fn allows(self, caller: Caller) -> bool {
        matches!(
            (self, caller),
            (Rule::Everyone, _)
                | (Rule::LoggedIn, Caller::Signed(_))
                | (Rule::AdminOnly, Caller::Signed(Role::Admin))
                | (Rule::Door, Caller::Signed(Role::Staff | Role::Admin))
                | (
                    Rule::Organizers,
                    Caller::Signed(Role::Organizer | Role::Admin)
                )
        )
    }
}

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Csv(&'static str),
    Json(serde_json::Value),
}

struct Action {
    name: &'static str,
    method: Method,
    path: String,
    body: Body,
    rule: Rule,
}

/// The objects the actions act on: a user, an open event, and that user's registration for it.
#[derive(Clone, Copy)]
struct Targets {
    user: i64,
    event: i64,
    registration: i64,
    /// An event nobody organizes, for the one action that cancels it.
    doomed_event: i64,
    /// The survey of `event`, which nobody attended.
    survey: i64,
}

fn actions(targets: Targets, tag: &str) -> Vec<Action> {
    let target_user = targets.user;
    let form = |pairs: &[(&'static str, &str)]| {
        Body::Form(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    };
    let target = target_user.to_string();
    vec![
        Action {
            name: "browse events (page)",
            method: Method::GET,
            path: "/".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "list events",
            method: Method::GET,
            path: "/api/events/list".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "list events as the page shows them",
            method: Method::GET,
            path: "/api/events/list_html".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "login page",
            method: Method::GET,
            path: "/login".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "who am I",
            method: Method::GET,
            path: "/api/auth/me".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "my account",
            method: Method::GET,
            path: "/api/auth/account".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "account page",
            method: Method::GET,
            path: "/account".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "change password",
            method: Method::POST,
            path: "/api/auth/password".into(),
            // A wrong current password: allowed callers get 422, not 401/403.
            body: form(&[
                ("current", "not my password"),
                ("new", "another long password"),
                ("repeat", "another long password"),
            ]),
            rule: Rule::LoggedIn,
        },
        Action {
            name: "users page",
            method: Method::GET,
            path: "/admin/users".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "list users",
            method: Method::GET,
            path: "/api/admin/users/list".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "create user",
            method: Method::POST,
            path: "/api/admin/users/create".into(),
            body: Body::Form(vec![
                ("email", format!("created-by-{tag}@example.co.jp")),
                ("display_name", "New Person".into()),
                ("department", "営業部".into()),
                ("role", "employee".into()),
            ]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "invite people",
            method: Method::POST,
            path: "/api/admin/users/invite".into(),
            body: form(&[("user_ids[]", &target)]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "change role",
            method: Method::POST,
            path: "/api/admin/users/role".into(),
            body: form(&[("user_id", &target), ("role", "staff")]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "deactivate user",
            method: Method::POST,
            path: "/api/admin/users/active".into(),
            body: form(&[("user_id", &target), ("active", "false")]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "reactivate user",
            method: Method::POST,
            path: "/api/admin/users/active".into(),
            body: form(&[("user_id", &target), ("active", "true")]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "retention page",
            method: Method::GET,
            path: "/admin/retention".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "retention plan",
            method: Method::GET,
            path: "/api/admin/retention".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "anonymize page",
            method: Method::GET,
            path: format!("/admin/users/anonymize?id={target}"),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "person to anonymize",
            method: Method::GET,
            path: format!("/api/admin/users/anonymize/preview?user_id={target}"),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        // Unconfirmed: refused for everyone, but only an administrator
        // learns why (the others are refused before).
        Action {
            name: "anonymize without confirming",
            method: Method::POST,
            path: "/api/admin/users/anonymize".into(),
            body: form(&[("user_id", &target)]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "import users",
            method: Method::POST,
            path: "/api/admin/users/import".into(),
            body: Body::Csv(
                "email,name,department,role\nimported@example.co.jp,Imported,経理部,employee\n",
            ),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "last import",
            method: Method::GET,
            path: "/api/admin/users/last-import".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "audit log page",
            method: Method::GET,
            path: "/admin/audit".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "audit log",
            method: Method::GET,
            path: "/api/admin/audit".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "organizer's events page",
            method: Method::GET,
            path: "/organize".into(),
            body: Body::None,
            rule: Rule::Organizers,
        },
        Action {
            name: "organizer's events",
            method: Method::GET,
            path: "/api/organize/list".into(),
            body: Body::None,
            rule: Rule::Organizers,
        },
        Action {
            name: "new event form",
            method: Method::GET,
            path: "/api/organize/event".into(),
            body: Body::None,
            rule: Rule::Organizers,
        },
        Action {
            name: "create an event",
            method: Method::POST,
            path: "/api/organize/save".into(),
            body: Body::Form(vec![
                ("title_ja", format!("権限 {tag}")),
                ("title_en", String::new()),
                ("description_ja", String::new()),
                ("description_en", String::new()),
                ("category", "seminar".into()),
                ("place", "Room B".into()),
                ("starts", "2030-01-10T10:00".into()),
                ("ends", "2030-01-10T11:00".into()),
                ("capacity", "10".into()),
                ("opens", String::new()),
                ("closes", String::new()),
            ]),
            rule: Rule::Organizers,
        },
        Action {
            name: "event dashboard page",
            method: Method::GET,
            path: format!("/organize/{}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "event dashboard",
            method: Method::GET,
            path: format!("/api/organize/dashboard?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "edit form of an event",
            method: Method::GET,
            path: format!("/api/organize/event?id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "attendees",
            method: Method::GET,
            path: format!("/api/organize/attendees?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "attendees CSV",
            method: Method::GET,
            path: format!("/api/organize/attendees.csv?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            // Published already: admins get 409.
            name: "publish an event",
            method: Method::POST,
            path: "/api/organize/publish".into(),
            body: form(&[("event_id", &targets.event.to_string())]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "duplicate an event",
            method: Method::POST,
            path: "/api/organize/duplicate".into(),
            body: form(&[("event_id", &targets.event.to_string())]),
            rule: Rule::AdminOnly,
        },
        Action {
            // No such registration at this event: admins get 404.
            name: "check in by hand",
            method: Method::POST,
            path: "/api/organize/check-in".into(),
            body: form(&[
                ("event_id", &targets.event.to_string()),
                ("registration_id", "999999"),
            ]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "remove an attendee",
            method: Method::POST,
            path: "/api/organize/remove".into(),
            body: form(&[
                ("event_id", &targets.event.to_string()),
                ("registration_id", "999999"),
            ]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "cancel an event",
            method: Method::POST,
            path: "/api/organize/cancel".into(),
            body: form(&[("event_id", &targets.doomed_event.to_string())]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "overview page",
            method: Method::GET,
            path: "/admin/overview".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "overview across events",
            method: Method::GET,
            path: "/api/admin/overview".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "mail outbox page",
            method: Method::GET,
            path: "/admin/outbox".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "mail outbox",
            method: Method::GET,
            path: "/api/admin/outbox?status=dead".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            // The target's confirmation mail is not dead: admins get 409.
            name: "send a failed mail again",
            method: Method::POST,
            path: "/api/admin/outbox/retry".into(),
            body: form(&[("id", "1")]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "event page",
            method: Method::GET,
            path: format!("/events/{}", targets.event),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "event detail",
            method: Method::GET,
            path: format!("/api/events/detail?id={}", targets.event),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "event calendar file",
            method: Method::GET,
            path: format!("/events/{}/calendar.ics", targets.event),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "register for an event",
            method: Method::POST,
            path: "/api/events/register".into(),
            body: Body::Form(vec![("event_id", targets.event.to_string())]),
            rule: Rule::LoggedIn,
        },
        Action {
            name: "cancel someone else's registration",
            method: Method::POST,
            path: "/api/registrations/cancel".into(),
            body: Body::Form(vec![("registration_id", targets.registration.to_string())]),
            rule: Rule::Nobody,
        },
        Action {
            name: "someone else's ticket",
            method: Method::GET,
            path: format!("/api/me/ticket?registration_id={}", targets.registration),
            body: Body::None,
            rule: Rule::Nobody,
        },
        Action {
            name: "someone else's ticket page",
            method: Method::GET,
            path: format!("/tickets/{}", targets.registration),
            body: Body::None,
            rule: Rule::Nobody,
        },
        Action {
            name: "my events",
            method: Method::GET,
            path: "/api/me/events".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "own data download",
            method: Method::GET,
            path: "/api/me/data.json".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "my events page",
            method: Method::GET,
            path: "/my-events".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "my calendar feed",
            method: Method::GET,
            path: "/api/me/calendar".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "renew my calendar feed",
            method: Method::POST,
            path: "/api/me/calendar/renew".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "my reminder setting",
            method: Method::GET,
            path: "/api/reminders/mine".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "set my reminders",
            method: Method::POST,
            path: "/api/reminders/set".into(),
            body: form(&[("wants", "true")]),
            rule: Rule::LoggedIn,
        },
        // The stop link is its own credential: anyone holding it may use
        // it, nobody may use a made-up one (422 for everybody).
        Action {
            name: "stop-reminders page",
            method: Method::GET,
            path: "/reminders/stop/not-a-token".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "whom a stop link is for",
            method: Method::GET,
            path: "/api/reminders/link?token=not-a-token".into(),
            body: Body::None,
            rule: Rule::Everyone,
        },
        Action {
            name: "stop reminders with a link",
            method: Method::POST,
            path: "/api/reminders/stop".into(),
            body: form(&[("token", "not-a-token")]),
            rule: Rule::Everyone,
        },
        Action {
            name: "stop reminders with one click (RFC 8058)",
            method: Method::POST,
            path: "/reminders/stop/not-a-token".into(),
            body: form(&[("List-Unsubscribe", "One-Click")]),
            rule: Rule::Everyone,
        },
        Action {
            name: "survey builder (page)",
            method: Method::GET,
            path: format!("/organize/{}/survey", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "survey builder",
            method: Method::GET,
            path: format!("/api/organize/survey?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            // A form from an older version: admins get 409 and nothing changes.
            name: "save a survey",
            method: Method::POST,
            path: "/api/organize/survey/save".into(),
            body: form(&[
                ("event_id", &targets.event.to_string()),
                ("version", "999"),
                ("questions[0][kind]", "rating"),
                ("questions[0][text_en]", "Changed?"),
                ("opens", ""),
                ("open_days", "14"),
                ("reminder_days", ""),
            ]),
            rule: Rule::AdminOnly,
        },
        Action {
            // The doomed event has no survey: admins get 404.
            name: "close a survey",
            method: Method::POST,
            path: "/api/organize/survey/close".into(),
            body: form(&[("event_id", &targets.doomed_event.to_string())]),
            rule: Rule::AdminOnly,
        },
        Action {
            name: "survey answers CSV",
            method: Method::GET,
            path: format!("/api/organize/survey.csv?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "survey page of an event one did not attend",
            method: Method::GET,
            path: format!("/surveys/{}", targets.survey),
            body: Body::None,
            rule: Rule::Nobody,
        },
        Action {
            name: "survey of an event one did not attend",
            method: Method::GET,
            path: format!("/api/surveys/page?survey_id={}", targets.survey),
            body: Body::None,
            rule: Rule::Nobody,
        },
        Action {
            name: "answer a survey of an event one did not attend",
            method: Method::POST,
            path: "/api/surveys/answer".into(),
            body: form(&[
                ("survey_id", &targets.survey.to_string()),
                ("answers[q1]", "5"),
            ]),
            rule: Rule::Nobody,
        },
        Action {
            name: "survey: all answers to one question",
            method: Method::GET,
            path: format!(
                "/api/organize/survey/answers?event_id={}&key=q1",
                targets.event
            ),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "survey overview",
            method: Method::GET,
            path: "/api/admin/survey-overview".into(),
            body: Body::None,
            rule: Rule::AdminOnly,
        },
        Action {
            name: "my open surveys",
            method: Method::GET,
            path: "/api/me/surveys".into(),
            body: Body::None,
            rule: Rule::LoggedIn,
        },
        Action {
            name: "switch language",
            method: Method::POST,
            path: "/api/lang".into(),
            body: Body::Form(vec![("lang", "en".into())]),
            rule: Rule::Everyone,
        },
        Action {
            name: "door page",
            method: Method::GET,
            path: format!("/events/{}/door", targets.event),
            body: Body::None,
            rule: Rule::Door,
        },
        Action {
            name: "door: typed code",
            method: Method::POST,
            path: "/api/door/code".into(),
            body: Body::Form(vec![
                ("event_id", targets.event.to_string()),
                ("code", "ZZZZZZZZ".into()),
            ]),
            rule: Rule::Door,
        },
        Action {
            name: "door: scan",
            method: Method::POST,
            path: "/api/door/scan".into(),
            body: Body::Form(vec![
                ("event_id", targets.event.to_string()),
                ("token", "not-a-ticket".into()),
            ]),
            rule: Rule::Door,
        },
        Action {
            name: "door: check in from the name search",
            method: Method::POST,
            path: "/api/door/admit".into(),
            body: Body::Form(vec![
                ("event_id", targets.event.to_string()),
                ("registration_id", targets.registration.to_string()),
            ]),
            // Before the undo, which takes it back for the roles allowed both.
            rule: Rule::Door,
        },
        Action {
            name: "door: undo",
            method: Method::POST,
            path: "/api/door/undo".into(),
            body: Body::Form(vec![
                ("event_id", targets.event.to_string()),
                ("registration_id", targets.registration.to_string()),
            ]),
            rule: Rule::Door,
        },
        Action {
            name: "door: counter",
            method: Method::GET,
            path: format!("/api/door/counts?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::Door,
        },
        Action {
            name: "door: which event",
            method: Method::GET,
            path: format!("/api/door/event?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::Door,
        },
        Action {
            name: "door: search",
            method: Method::GET,
            path: format!("/api/door/search?event_id={}&q=target", targets.event),
            body: Body::None,
            rule: Rule::Door,
        },
        Action {
            name: "door: offline list",
            method: Method::GET,
            path: format!("/api/door/list?event_id={}", targets.event),
            body: Body::None,
            rule: Rule::Door,
        },
        Action {
            name: "door: offline sync",
            method: Method::POST,
            path: "/api/door/sync".into(),
            body: Body::Json(serde_json::json!({"event_id": targets.event, "scans": []})),
            rule: Rule::Door,
        },
    ]
}

fn open_event() -> tsudoi::events::NewEvent {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(7);
    tsudoi::events::NewEvent {
        title_ja: Some("権限テスト".into()),
        title_en: Some("Access test".into()),
        description_ja: String::new(),
        description_en: String::new(),
        category: tsudoi::model::Category::Seminar,
        place: "Room A".into(),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(1),
        capacity: 50,
        status: tsudoi::model::EventStatus::Published,
        organizer_id: None,
    }
}

async fn add_user(db: &Database, email: &str, role: Role) -> i64 {
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let user = NewUser {
        email: email.into(),
        display_name: format!("{role:?} user"),
        department: None,
        role,
        lang: Lang::En,
    };
    users::upsert(db, &user, Some(&hash)).await.unwrap()
}

async fn cookie_for(http: &Client, server: &RunningServer, email: &str) -> String {
    let response = http
        .post(server.url("/api/auth/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "login {email}: {}",
        response.status()
    );
    support::session_cookie(response.headers()).expect("session cookie")
}

/// The `datetime` attributes of `page` that HTML's grammar refuses: a
/// valid one is `YYYY-MM-DDTHH:MM[:SS[.f]]` with one to three fraction
/// digits, then `Z` or `±HH:MM` (the Nu Html Checker's rule).
fn invalid_datetimes(page: &str) -> Vec<String> {
    fn valid(value: &str) -> bool {
        let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let Some((date, time)) = value.split_once('T') else {
            return false;
        };
        let date_ok =
            date.len() == 10 && date.split('-').all(digits) && date.split('-').count() == 3;
        let (clock, zone) = match time.find(['Z', '+', '-']) {
            Some(at) => time.split_at(at),
            None => return false,
        };
        let zone_ok = zone == "Z"
            || (zone.len() == 6 && digits(&zone[1..3]) && &zone[3..4] == ":" && digits(&zone[4..]));
        let (whole, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
        let parts: Vec<&str> = whole.split(':').collect();
        let clock_ok = (2..=3).contains(&parts.len())
            && parts.iter().all(|p| p.len() == 2 && digits(p))
            && (1..=3).contains(&fraction.len())
            && digits(fraction)
            && (parts.len() == 3 || !clock.contains('.'));
        date_ok && zone_ok && clock_ok
    }
    page.match_indices("datetime=\"")
        .filter_map(|(at, found)| {
            let rest = &page[at + found.len()..];
            rest.split_once('"').map(|(value, _)| value.to_string())
        })
        .filter(|value| !valid(value))
        .collect()
}

#[test]
fn the_datetime_check_knows_the_grammar() {
    let page = |value: &str| format!("<time datetime=\"{value}\">x</time>");
    for good in [
        "2026-12-05T12:04:05+09:00",
        "2026-12-05T12:04+09:00",
        "2026-12-05T03:04:05.123Z",
    ] {
        assert!(invalid_datetimes(&page(good)).is_empty(), "{good}");
    }
    for bad in [
        "2026-12-05T12:04:05.123456+09:00",
        "2026-12-05 12:04:05+09:00",
        "2026-12-05T12:04:05",
    ] {
        assert_eq!(invalid_datetimes(&page(bad)), [bad], "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_allows_exactly_the_roles_it_should_on_every_backend() {
    for t in test_support::backends().await {
        let backend = t.db.backend().name();
        let target = add_user(&t.db, "target@example.co.jp", Role::Employee).await;
        let event = tsudoi::events::create(&t.db, &open_event()).await.unwrap();
        let registration =
            tsudoi::registrations::register(&t.db, event, target, chrono::Utc::now())
                .await
                .unwrap()
                .id;
        let doomed_event = tsudoi::events::create(&t.db, &open_event()).await.unwrap();
        let survey = tsudoi::surveys::build::save(
            &t.db,
            target,
            event,
            None,
            &tsudoi::surveys::SurveyDraft {
                questions: vec![tsudoi::surveys::Question {
                    key: String::new(),
                    kind: tsudoi::surveys::QuestionKind::Rating,
                    text: tsudoi::surveys::Wording::new("満足度", "Satisfaction"),
                    required: true,
                    choices: vec![],
                    low_label: Default::default(),
                    high_label: Default::default(),
                }],
                settings: tsudoi::surveys::SurveySettings {
                    opens_at: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
                    ..Default::default()
                },
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id;
        let targets = Targets {
            user: target,
            event,
            registration,
            doomed_event,
            survey,
        };
        for (i, caller) in CALLERS.iter().enumerate().skip(1) {
            if let Caller::Signed(role) = caller {
                add_user(&t.db, &format!("caller{i}@example.co.jp"), *role).await;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start(dir.path(), &t.url());
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        let mut failures = Vec::new();
        let mut checked = 0;
        for (i, caller) in CALLERS.iter().enumerate() {
            let cookie = match caller {
                Caller::Anonymous => None,
                Caller::Signed(_) => {
                    Some(cookie_for(&http, &server, &format!("caller{i}@example.co.jp")).await)
                }
            };
            for action in actions(targets, &i.to_string()) {
                let mut request = http.request(action.method.clone(), server.url(&action.path));
                if let Some(cookie) = &cookie {
                    request = request.header(header::COOKIE, cookie);
                }
                request = match action.body {
                    Body::None => request,
                    Body::Form(pairs) => request.form(&pairs),
                    Body::Json(value) => request.json(&value),
                    Body::Csv(text) => request.multipart(reqwest::multipart::Form::new().part(
                        "file",
                        reqwest::multipart::Part::text(text).file_name("people.csv"),
                    )),
                };
                let response = request.send().await.unwrap();
                let status = response.status();
                let is_page = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
                if status == StatusCode::OK && is_page {
                    let page = response.text().await.unwrap();
                    for value in invalid_datetimes(&page) {
                        failures.push(format!(
                            "{backend}: {} as {caller:?}: <time datetime=\"{value}\"> is not an HTML date and time",
                            action.name
                        ));
                    }
                }
                let allowed = action.rule.allows(*caller);
                let ok = if allowed {
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error()
                } else {
                    let expected = if *caller == Caller::Anonymous {
                        StatusCode::UNAUTHORIZED
                    } else {
                        StatusCode::FORBIDDEN
                    };
                    status == expected
                };
                checked += 1;
                if !ok {
                    failures.push(format!(
                        "{backend}: {} as {caller:?}: expected {}, got {status}",
                        action.name,
                        if allowed { "allowed" } else { "denied" }
                    ));
                }
            }
        }
        assert_eq!(checked, CALLERS.len() * actions(targets, "").len());
        let registration_now = tsudoi::registrations::get(&t.db, registration)
            .await
            .unwrap();
        assert_eq!(
            registration_now.status,
            tsudoi::model::RegistrationStatus::Registered,
            "{backend}"
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));

        // The refused writes really changed nothing: only the admin's create and import happened.
        let created = users::list(&t.db, Some("created-by-"), None, 50)
            .await
            .unwrap();
        let emails: Vec<_> = created.items.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["created-by-4@example.co.jp"], "{backend}");
        let target_now = users::find(&t.db, target).await.unwrap();
        assert_eq!(
            (target_now.role, target_now.active),
            (Role::Staff, true),
            "{backend}"
        );
    }
}
