//! A person's own data, as they download it from *Your account*: their
//! registrations with check-ins and their named survey answers, nobody
//! else's, and no answer of an anonymous survey.

mod common;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Asia::Tokyo;
use common::{event, tokyo};
use tsudoi::checkin;
use tsudoi::model::{EventStatus, Lang, Role};
use tsudoi::registrations;
use tsudoi::storage::Database;
use tsudoi::storage::test_support;
use tsudoi::surveys::{
    Question, QuestionKind, SurveyDraft, SurveySettings, Wording, answering, build,
};
use tsudoi::users::{self, NewUser, own_data};

fn starts() -> DateTime<Utc> {
    tokyo(2026, 12, 10, 18, 0)
}

async fn person(db: &Database, email: &str, role: Role) -> i64 {
    let new = NewUser {
        email: email.into(),
        display_name: format!("名前 {email}"),
        department: Some("人事部".into()),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &new, None).await.unwrap()
}

fn one_question(anonymous: bool) -> SurveyDraft {
    SurveyDraft {
        questions: vec![Question {
            key: String::new(),
            kind: QuestionKind::ShortText,
            text: Wording::new("感想", "Comments"),
            required: true,
            choices: vec![],
            low_label: Wording::default(),
            high_label: Wording::default(),
        }],
        settings: SurveySettings {
            anonymous,
            opens_at: None,
            open_days: 14,
            reminder_days_before: None,
        },
    }
}

/// An event at `starts` that `people` attended, with a survey each answered.
async fn attended(db: &Database, title: &str, people: &[(i64, &str)], anonymous: bool) -> i64 {
    let organizer = person(db, &format!("{title}-org@example.com"), Role::Organizer).await;
    let staff = person(db, &format!("{title}-door@example.com"), Role::Staff).await;
    let mut new = event(title, starts(), EventStatus::Published);
    new.organizer_id = Some(organizer);
    let event_id = tsudoi::events::create(db, &new).await.unwrap();
    for (id, _) in people {
        let registration = registrations::register(db, event_id, *id, starts() - Duration::days(3))
            .await
            .unwrap();
        checkin::by_registration(db, event_id, registration.id, staff, starts())
            .await
            .unwrap();
    }
    let survey = build::save(
        db,
        organizer,
        event_id,
        None,
        &one_question(anonymous),
        starts(),
    )
    .await
    .unwrap();
    for (id, text) in people {
        answering::submit(
            db,
            Tokyo,
            survey.id,
            *id,
            &[("q1".to_string(), text.to_string())],
            starts() + Duration::days(1),
        )
        .await
        .unwrap();
    }
    event_id
}

#[tokio::test]
async fn a_person_gets_their_own_registrations_and_named_answers_only() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let hana = person(db, "hana@example.com", Role::Employee).await;
        let other = person(db, "other@example.com", Role::Employee).await;
        let named = attended(
            db,
            "Named",
            &[(hana, "花の感想"), (other, "他人の感想")],
            false,
        )
        .await;
        let anonymous = attended(
            db,
            "Anonymous",
            &[(hana, "匿名の感想"), (other, "匿名2")],
            true,
        )
        .await;
        // A registration she cancelled is hers too.
        let later = common::open_event(db, 10).await;
        let registration = registrations::register(db, later, hana, Utc::now())
            .await
            .unwrap();
        registrations::end(
            db,
            registration.id,
            registrations::Ending::Cancelled { by_user: hana },
            Utc::now(),
        )
        .await
        .unwrap();

        let data = own_data::own_data(db, hana, Utc::now()).await.unwrap();
        assert_eq!(data.format, own_data::FORMAT);
        assert_eq!(data.person.email, "hana@example.com", "{backend}");
        assert_eq!(data.person.department.as_deref(), Some("人事部"));
        let events: Vec<(i64, &str)> = data
            .registrations
            .iter()
            .map(|r| (r.event_id, r.status.as_str()))
            .collect();
        assert_eq!(
            events,
            [
                (named, "checked_in"),
                (anonymous, "checked_in"),
                (later, "cancelled")
            ],
            "{backend}"
        );
        assert!(data.registrations[0].checked_in_at.is_some());
        assert_eq!(data.survey_answers.len(), 1, "{backend}");
        assert_eq!(data.survey_answers[0].event_id, named);
        assert_eq!(data.survey_answers[0].answers["q1"], "花の感想");
        assert_eq!(data.anonymous_surveys_answered.len(), 1);
        assert_eq!(data.anonymous_surveys_answered[0].event_id, anonymous);

        // Nothing of anybody else, and no anonymous answer, in the file.
        let file = serde_json::to_string(&data).unwrap();
        for foreign in ["other@example.com", "他人の感想", "匿名の感想", "匿名2"] {
            assert!(!file.contains(foreign), "{backend}: {foreign} in {file}");
        }

        assert!(matches!(
            own_data::own_data(db, 999_999, Utc::now()).await,
            Err(tsudoi::Error::NotFound)
        ));
    }
}
