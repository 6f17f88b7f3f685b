//! `tsudoi seed-demo`: a realistic company to click through — departments,
//! employees, and events over past and coming weeks, some full with a waitlist
//! — and one account per role to log in with, under a password made for
//! this database alone. The login page of a demo database names them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::events::{self, NewEvent};
use crate::model::{Category, EventStatus, Lang, Role};
use crate::storage::{Database, on_pool, on_tx};
use crate::users::{self, NewUser};
use crate::{Error, Result};

const DEPARTMENTS: [&str; 10] = [
    "営業部 Sales",
    "マーケティング部 Marketing",
    "開発部 Engineering",
    "品質保証部 Quality Assurance",
    "人事部 Human Resources",
    "経理部 Finance",
    "法務部 Legal",
    "情報システム部 IT",
    "カスタマーサポート部 Customer Support",
    "経営企画部 Corporate Planning",
];

/// (name, romanized for the address, reading in hiragana)
const FAMILY_NAMES: [(&str, &str, &str); 20] = [
    ("佐藤", "sato", "さとう"),
    ("鈴木", "suzuki", "すずき"),
    ("高橋", "takahashi", "たかはし"),
    ("田中", "tanaka", "たなか"),
    ("伊藤", "ito", "いとう"),
    ("渡辺", "watanabe", "わたなべ"),
    ("山本", "yamamoto", "やまもと"),
    ("中村", "nakamura", "なかむら"),
    ("小林", "kobayashi", "こばやし"),
    ("加藤", "kato", "かとう"),
    ("吉田", "yoshida", "よしだ"),
    ("山田", "yamada", "やまだ"),
    ("佐々木", "sasaki", "ささき"),
    ("山口", "yamaguchi", "やまぐち"),
    ("松本", "matsumoto", "まつもと"),
    ("井上", "inoue", "いのうえ"),
    ("木村", "kimura", "きむら"),
    ("林", "hayashi", "はやし"),
    ("清水", "shimizu", "しみず"),
    ("森", "mori", "もり"),
];

const GIVEN_NAMES: [(&str, &str, &str); 15] = [
    ("翔", "sho", "しょう"),
    ("陽菜", "hina", "ひな"),
    ("蓮", "ren", "れん"),
    ("結衣", "yui", "ゆい"),
    ("大翔", "hiroto", "ひろと"),
    ("葵", "aoi", "あおい"),
    ("悠真", "yuma", "ゆうま"),
    ("さくら", "sakura", "さくら"),
    ("湊", "minato", "みなと"),
    ("美咲", "misaki", "みさき"),
    ("健太", "kenta", "けんた"),
    ("由美", "yumi", "ゆみ"),
    ("拓海", "takumi", "たくみ"),
    ("恵", "megumi", "めぐみ"),
    ("直樹", "naoki", "なおき"),
];

/// (Japanese title, English title, category, typical capacity)
const EVENT_TEMPLATES: [(&str, &str, Category, i32); 12] = [
    (
        "新入社員向けオンボーディング研修",
        "New-hire onboarding training",
        Category::Training,
        40,
    ),
    (
        "情報セキュリティ基礎講座",
        "Information security basics",
        Category::Training,
        80,
    ),
    (
        "Rust 入門ハンズオン",
        "Hands-on introduction to Rust",
        Category::Workshop,
        24,
    ),
    (
        "全社タウンホールミーティング",
        "All-hands town hall",
        Category::Townhall,
        300,
    ),
    (
        "生成AI活用セミナー",
        "Seminar: putting generative AI to work",
        Category::Seminar,
        120,
    ),
    (
        "リーダーシップ研修",
        "Leadership training",
        Category::Training,
        30,
    ),
    (
        "部署対抗ボウリング大会",
        "Inter-department bowling night",
        Category::Social,
        60,
    ),
    (
        "デザイン思考ワークショップ",
        "Design thinking workshop",
        Category::Workshop,
        20,
    ),
    (
        "ハラスメント防止研修",
        "Harassment prevention training",
        Category::Training,
        100,
    ),
    (
        "夏祭り（社内懇親会）",
        "Summer festival (company social)",
        Category::Social,
        150,
    ),
    (
        "四半期業績説明会",
        "Quarterly results briefing",
        Category::Townhall,
        250,
    ),
    (
        "プレゼンテーション技術セミナー",
        "Presentation skills seminar",
        Category::Seminar,
        50,
    ),
];

const PLACES: [&str; 6] = [
    "本社 12F 大会議室 / HQ 12F Main Hall",
    "本社 8F セミナールーム A / HQ 8F Seminar Room A",
    "大阪支社 会議室 3 / Osaka Office Room 3",
    "オンライン (Teams) / Online (Teams)",
    "本社 1F カフェテリア / HQ 1F Cafeteria",
    "研修センター 201 / Training Center 201",
];

/// Company events happen on working days: a weekend date moves to Monday.
/// When `count` people registered for an event starting at `starts_at`, in
/// order: as in a real company, about half in the first days after the
/// announcement four weeks before, the rest spread out until the start —
/// never later than `now`, so the dashboard's "registrations per day" shows
/// a rush and a tail rather than one bar.
fn registration_times(
    rng: &mut impl Rng,
    count: usize,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let announced = starts_at - Duration::days(28);
    let until = starts_at.min(now);
    let from = if announced < until {
        announced
    } else {
        until - Duration::days(2)
    };
    let span = (until - from).num_minutes().max(60) as f64;
    let mut times: Vec<DateTime<Utc>> = (0..count)
        .map(|_| {
            let share: f64 = rng.r#gen();
            let share = if rng.gen_bool(0.5) {
                share * 0.12
            } else {
                share
            };
            from + Duration::minutes((share * span) as i64)
        })
        .collect();
    times.sort();
    times
}

fn weekday_on_or_after(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day + Duration::days(2),
        Weekday::Sun => day + Duration::days(1),
        _ => day,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub departments: usize,
    pub users: usize,
    pub events: usize,
    pub registrations: usize,
    pub login: DemoLogin,
}

/// How to get into a demo database: an account per role, one password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoLogin {
    /// Admin, organizer, door staff, employee, in that order.
    pub accounts: Vec<(Role, String)>,
    pub password: String,
}

/// The accounts to log in with: e-mail, name, role. The organizer runs a
/// share of the events and the employee is registered for some, so each
/// role finds its work waiting.
const DEMO_ACCOUNTS: [(&str, &str, Role); 4] = [
    (
        "demo.admin@example.co.jp",
        "管理 花子 (demo admin)",
        Role::Admin,
    ),
    (
        "demo.organizer@example.co.jp",
        "企画 太郎 (demo organizer)",
        Role::Organizer,
    ),
    (
        "demo.staff@example.co.jp",
        "受付 次郎 (demo door staff)",
        Role::Staff,
    ),
    (
        "demo.employee@example.co.jp",
        "社員 桜 (demo employee)",
        Role::Employee,
    ),
];

/// A password for this database only, from the operating system's random
/// source: 12 letters and digits that cannot be misread (no 0/O, 1/l/I),
/// in groups of four.
fn new_demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..3)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The demo accounts, when this database was filled by [`seed`]; `None`
/// for every other installation.
pub async fn login_hint(db: &Database) -> Result<Option<DemoLogin>> {
    let rows: Vec<(String, String, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT email, role, password FROM demo_accounts"
    )
    .fetch_all(pool)
    .await?);
    let Some(password) = rows.first().map(|row| row.2.clone()) else {
        return Ok(None);
    };
    let mut accounts: Vec<(Role, String)> = rows
        .into_iter()
        .filter_map(|(email, role, _)| Role::parse(&role).map(|role| (role, email)))
        .collect();
    let rank = |role: &Role| DEMO_ACCOUNTS.iter().position(|(_, _, r)| r == role);
    accounts.sort_by_key(|(role, _)| rank(role));
    Ok(Some(DemoLogin { accounts, password }))
}

/// Fills an empty database with the demo company. Deterministic: the same
/// `seed` gives the same company, with event dates relative to `now`.
pub async fn seed(db: &Database, tz: Tz, now: DateTime<Utc>, seed: u64) -> Result<DemoSummary> {
    let existing: i64 = on_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(pool)
        .await?);
    if existing > 0 {
        return Err(Error::Conflict(
            crate::reason::Reason::DemoNeedsEmptyDatabase,
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);

    let mut user_ids = Vec::with_capacity(300);
    for n in 0..300 {
        let (family_ja, family, family_kana) = FAMILY_NAMES[n % FAMILY_NAMES.len()];
        let (given_ja, given, given_kana) =
            GIVEN_NAMES[(n / FAMILY_NAMES.len()) % GIVEN_NAMES.len()];
        let role = match n {
            0..=4 => Role::Organizer,
            5..=9 => Role::Staff,
            _ => Role::Employee,
        };
        let user = NewUser {
            email: format!("{given}.{family}{n}@example.co.jp"),
            display_name: format!("{family_ja} {given_ja}"),
            department: Some(DEPARTMENTS[n % DEPARTMENTS.len()].to_string()),
            role,
            lang: if n % 5 == 0 { Lang::En } else { Lang::Ja },
        };
        let id = users::upsert(db, &user, None).await?;
        // As an import with a reading column gives it: lists sort by it.
        on_pool!(db, |pool| sqlx::query(
            "UPDATE users SET name_reading = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(format!("{family_kana} {given_kana}"))
        .execute(pool)
        .await
        .map(|_| ())?);
        user_ids.push(id);
    }
    let password = new_demo_password();
    let hash = users::password::hash(password.clone()).await?;
    let mut accounts = Vec::with_capacity(DEMO_ACCOUNTS.len());
    let mut demo_ids = Vec::with_capacity(DEMO_ACCOUNTS.len());
    for (n, (email, name, role)) in DEMO_ACCOUNTS.into_iter().enumerate() {
        let user = NewUser {
            email: email.to_string(),
            display_name: name.to_string(),
            department: Some(DEPARTMENTS[n].to_string()),
            role,
            lang: Lang::Ja,
        };
        demo_ids.push(users::upsert(db, &user, Some(&hash)).await?);
        on_pool!(db, |pool| sqlx::query(
            "INSERT INTO demo_accounts (email, role, password) VALUES ($1, $2, $3)"
        )
        .bind(email)
        .bind(role.code())
        .bind(&password)
        .execute(pool)
        .await
        .map(|_| ()))?;
        accounts.push((role, email.to_string()));
    }
    let [_, demo_organizer, _, demo_employee] = demo_ids[..] else {
        unreachable!("four demo accounts");
    };
    let organizers = [
        demo_organizer,
        user_ids[0],
        user_ids[1],
        user_ids[2],
        user_ids[3],
    ];
    let everyone = user_ids.len() + demo_ids.len();
    // The demo employee is one of the crowd that registers.
    user_ids.push(demo_employee);

    // 60 events from three weeks back to five weeks ahead, during office hours.
    let today = now.with_timezone(&tz).date_naive();
    let mut event_ids = Vec::with_capacity(60);
    for n in 0..60i64 {
        let (title_ja, title_en, category, capacity) =
            EVENT_TEMPLATES[n as usize % EVENT_TEMPLATES.len()];
        let day = weekday_on_or_after(today + Duration::days(-21 + n * 56 / 60));
        let hour = [10, 13, 15, 17][n as usize % 4];
        let local_start = day.and_hms_opt(hour, 0, 0).expect("valid demo time");
        let starts_at = tz
            .from_local_datetime(&local_start)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        let edition = n / EVENT_TEMPLATES.len() as i64 + 1;
        let event = NewEvent {
            title_ja: Some(if edition > 1 {
                format!("{title_ja}（第{edition}回）")
            } else {
                title_ja.to_string()
            }),
            // A few events exist in Japanese only, as in a real company.
            title_en: (n % 7 != 3).then(|| {
                if edition > 1 {
                    format!("{title_en} (part {edition})")
                } else {
                    title_en.to_string()
                }
            }),
            description_ja: format!("{title_ja}を開催します。どなたでも参加できます。"),
            description_en: format!("Join us for “{title_en}”. Everyone is welcome."),
            category,
            place: PLACES[n as usize % PLACES.len()].to_string(),
            starts_at,
            ends_at: starts_at + Duration::minutes([60, 90, 120][n as usize % 3]),
            capacity,
            status: if n % 17 == 16 {
                EventStatus::Draft
            } else {
                EventStatus::Published
            },
            organizer_id: Some(organizers[n as usize % organizers.len()]),
        };
        event_ids.push((events::create(db, &event).await?, capacity, starts_at));
    }

    let mut registrations = 0;
    for (index, &(event_id, capacity, starts_at)) in event_ids.iter().enumerate() {
        // Every fourth event is oversubscribed; the rest fill partly.
        let wanted = if index % 4 == 1 {
            capacity as usize + rng.gen_range(3..15)
        } else {
            rng.gen_range(0..=capacity as usize * 9 / 10)
        };
        let mut people = user_ids[10..].to_vec();
        people.shuffle(&mut rng);
        people.truncate(wanted);
        let seated = people.len().min(capacity as usize);
        let past = starts_at < now;
        let times = registration_times(&mut rng, people.len(), starts_at, now);
        let mut uow = db.begin_write().await?;
        on_tx!(&mut uow, |tx| {
            for (position, user_id) in people.iter().enumerate() {
                let (status, seq) = if position < seated {
                    (
                        if past && position % 5 != 0 {
                            "checked_in"
                        } else {
                            "registered"
                        },
                        None,
                    )
                } else {
                    ("waitlisted", Some(position as i64))
                };
                let at = times[position];
                sqlx::query(
                    "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at, checked_in_at, department_id)
                     VALUES ($1, $2, $3, $4, $5, $5, $6, (SELECT department_id FROM users WHERE id = $2))",
                )
                .bind(event_id)
                .bind(user_id)
                .bind(status)
                .bind(seq)
                .bind(at)
                .bind((status == "checked_in").then_some(starts_at))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE events SET seats_taken = $2 WHERE id = $1")
                .bind(event_id)
                .bind(seated as i32)
                .execute(&mut *tx)
                .await?;
        });
        uow.commit_event_change(db).await?;
        registrations += people.len();
    }

    survey_after_training(
        db,
        tz,
        demo_organizer,
        demo_employee,
        &event_ids,
        now,
        &mut rng,
    )
    .await?;

    Ok(DemoSummary {
        departments: DEPARTMENTS.len(),
        users: everyone,
        events: event_ids.len(),
        registrations,
        login: DemoLogin { accounts, password },
    })
}

/// The most recent event of the demo organizer that is over gets a survey
/// that is open now: the demo employee was checked in there and has yet to
/// answer (their *My events* asks them), and most others have answered, so
/// the dashboard shows results from the first click.
async fn survey_after_training(
    db: &Database,
    tz: Tz,
    demo_organizer: i64,
    demo_employee: i64,
    event_ids: &[(i64, i32, DateTime<Utc>)],
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<()> {
    use crate::surveys::{
        Question, QuestionKind, SurveyDraft, SurveySettings, Wording, answering, build,
    };
    let mut last_over = None;
    for &(event_id, _, starts_at) in event_ids {
        let managed = events::manage::get(db, tz, event_id).await?;
        if managed.organizer_id == Some(demo_organizer)
            && managed.status == EventStatus::Published
            && managed.draft.ends_at < now
            && starts_at > now - Duration::days(10)
        {
            last_over = Some(event_id);
        }
    }
    let Some(event_id) = last_over else {
        return Ok(());
    };
    // The demo employee sat in this one: they take over the seat of someone
    // checked in there (their own registration, if any, goes), and the
    // seats are counted again.
    let taken: Option<i64> = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT id FROM registrations WHERE event_id = $1 AND status = 'checked_in' AND user_id <> $2
         ORDER BY id LIMIT 1"
    )
    .bind(event_id)
    .bind(demo_employee)
    .fetch_optional(pool)
    .await?
    });
    let Some(seat) = taken else {
        return Ok(());
    };
    on_pool!(db, |pool| {
        sqlx::query("DELETE FROM registrations WHERE event_id = $1 AND user_id = $2")
            .bind(event_id)
            .bind(demo_employee)
            .execute(pool)
            .await?;
        sqlx::query("UPDATE registrations SET user_id = $2 WHERE id = $1")
            .bind(seat)
            .bind(demo_employee)
            .execute(pool)
            .await?;
        sqlx::query(
            "UPDATE events SET seats_taken = (SELECT COUNT(*) FROM registrations
                 WHERE event_id = $1 AND status IN ('registered', 'checked_in'))
             WHERE id = $1",
        )
        .bind(event_id)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    let scale =
        |kind: QuestionKind, ja: &str, en: &str, low: (&str, &str), high: (&str, &str)| Question {
            key: String::new(),
            kind,
            text: Wording::new(ja, en),
            required: kind == QuestionKind::Rating,
            choices: vec![],
            low_label: Wording::new(low.0, low.1),
            high_label: Wording::new(high.0, high.1),
        };
    let choice = |kind: QuestionKind, ja: &str, en: &str, choices: &[(&str, &str)]| Question {
        key: String::new(),
        kind,
        text: Wording::new(ja, en),
        required: false,
        choices: choices.iter().map(|(j, e)| Wording::new(*j, *e)).collect(),
        low_label: Wording::default(),
        high_label: Wording::default(),
    };
    let draft = SurveyDraft {
        questions: vec![
            scale(
                QuestionKind::Rating,
                "全体の満足度",
                "Overall, how satisfied were you?",
                ("不満", "Poor"),
                ("満足", "Great"),
            ),
            choice(
                QuestionKind::SingleChoice,
                "一番役立った内容",
                "The most useful part",
                &[
                    ("講義", "Talks"),
                    ("演習", "Exercises"),
                    ("質疑応答", "Questions and answers"),
                ],
            ),
            choice(
                QuestionKind::MultipleChoice,
                "参加した理由（複数可）",
                "Why did you come? (any)",
                &[
                    ("業務で必要", "Needed at work"),
                    ("興味があった", "Interest"),
                    ("上司の勧め", "My manager suggested it"),
                ],
            ),
            scale(
                QuestionKind::Nps,
                "同僚にすすめたいですか",
                "Would you recommend it to a colleague?",
                ("", ""),
                ("", ""),
            ),
            Question {
                required: false,
                ..choice(QuestionKind::LongText, "ご意見・ご感想", "Comments", &[])
            },
        ],
        settings: SurveySettings::default(),
    };
    let survey = build::save(db, demo_organizer, event_id, None, &draft, now).await?;
    let people: Vec<i64> = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT user_id FROM registrations WHERE event_id = $1 AND status = 'checked_in' AND user_id <> $2 ORDER BY id"
    )
    .bind(event_id)
    .bind(demo_employee)
    .fetch_all(pool)
    .await?
    });
    const COMMENTS: [&str; 5] = [
        "演習の時間がもっとほしいです。",
        "資料がわかりやすかったです。",
        "Great examples, thank you.",
        "次回は応用編も希望します。",
        "",
    ];
    for (n, person) in people.iter().enumerate() {
        if n % 4 == 3 {
            continue;
        }
        let form = vec![
            ("q1".to_string(), rng.gen_range(3..=5).to_string()),
            ("q2".to_string(), rng.gen_range(0..3).to_string()),
            ("q3".to_string(), rng.gen_range(0..3).to_string()),
            ("q4".to_string(), rng.gen_range(5..=10).to_string()),
            ("q5".to_string(), COMMENTS[n % COMMENTS.len()].to_string()),
        ];
        answering::submit(db, tz, survey.id, *person, &form, now).await?;
    }
    Ok(())
}
