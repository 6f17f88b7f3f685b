//! The read caches, on both backends: the public list
//! is served from memory until a write changes it, and the writer never sees
//! a stale page; with Redis, another instance learns of the write and reuses
//! the dashboard numbers computed by the first.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Asia::Tokyo;
use common::{draft, person, tokyo};
use tsudoi::caching::Served;
use tsudoi::caching::redis::SharedCache;
use tsudoi::events::list_cache::ListCache;
use tsudoi::events::stats_cache::StatsCache;
use tsudoi::events::{UpcomingFilter, manage};
use tsudoi::model::{EventSummary, Lang, Page};
use tsudoi::registrations::{self, Ending, Registrar};
use tsudoi::storage::Database;
use tsudoi::storage::test_support::{self, RedisRelay};

async fn member(db: &Database, email: &str) -> i64 {
    person(db, email, email, Lang::En).await
}

/// A published event in three days with four seats, by a new organizer,
/// and one person who may register for it.
async fn open_event(db: &Database, title: &str, now: DateTime<Utc>) -> (i64, i64) {
    let organizer = member(db, "org@example.co.jp").await;
    let id = manage::create(
        db,
        organizer,
        &draft(title, now + Duration::days(3), 4),
        true,
        now,
    )
    .await
    .unwrap();
    (id, member(db, "p@example.co.jp").await)
}

fn find(page: &Page<EventSummary>, id: i64) -> Option<&EventSummary> {
    page.items.iter().find(|event| event.id == id)
}

/// Seats taken and waiting of `id` on the list, or `None` when it is not listed.
fn seats(page: &Page<EventSummary>, id: i64) -> Option<(i32, i32)> {
    find(page, id).map(|event| (event.seats_taken, event.waitlisted))
}

#[tokio::test]
async fn the_list_is_served_from_memory_until_a_write_changes_it() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp").await;
        let id = manage::create(
            db,
            organizer,
            &draft("Cached", tokyo(2026, 12, 20, 18, 0), 1),
            true,
            now,
        )
        .await
        .unwrap();
        let a = member(db, "a@example.co.jp").await;
        let b = member(db, "b@example.co.jp").await;
        let cache = ListCache::new(100);
        let everything = UpcomingFilter::default();
        let read = |at| cache.list_upcoming(db, Tokyo, at, &everything, None, 20);
        let expect = |(page, served): (Page<EventSummary>, Served),
                      seen: Option<(i32, i32)>,
                      how: Served,
                      what: &str| {
            assert_eq!(
                (seats(&page, id), served),
                (seen, how),
                "{backend:?}: {what}"
            );
        };

        expect(
            read(now).await.unwrap(),
            Some((0, 0)),
            Served::Computed,
            "first read",
        );
        expect(
            read(now).await.unwrap(),
            Some((0, 0)),
            Served::Cached,
            "nothing changed",
        );

        let seat = registrations::register(db, id, a, now).await.unwrap();
        expect(
            read(now).await.unwrap(),
            Some((1, 0)),
            Served::Computed,
            "a registration",
        );
        expect(
            read(now).await.unwrap(),
            Some((1, 0)),
            Served::Cached,
            "then nothing",
        );

        let registrar = Registrar::new(db.clone());
        let waiting = registrar.register(id, b, now).await.unwrap();
        expect(
            read(now).await.unwrap(),
            Some((1, 1)),
            Served::Computed,
            "joining the waitlist in a rush group",
        );

        registrations::end(db, seat.id, Ending::Cancelled { by_user: a }, now)
            .await
            .unwrap();
        expect(
            read(now).await.unwrap(),
            Some((1, 0)),
            Served::Computed,
            "a cancellation promoting B",
        );

        registrations::end(db, waiting.id, Ending::Removed, now)
            .await
            .unwrap();
        expect(
            read(now).await.unwrap(),
            Some((0, 0)),
            Served::Computed,
            "an organizer's removal",
        );

        let event = manage::get(db, Tokyo, id).await.unwrap();
        let mut moved = event.draft.clone();
        moved.place = "Hall B".into();
        moved.capacity = 5;
        manage::update(db, organizer, id, event.version, &moved, now)
            .await
            .unwrap();
        let (page, served) = read(now).await.unwrap();
        let listed = find(&page, id).unwrap();
        assert_eq!(
            (listed.place.as_str(), listed.capacity, served),
            ("Hall B", 5, Served::Computed),
            "{backend:?}: an edit"
        );

        let second = manage::create(
            db,
            organizer,
            &draft("Later", tokyo(2026, 12, 21, 18, 0), 3),
            false,
            now,
        )
        .await
        .unwrap();
        let (page, _) = read(now).await.unwrap();
        assert!(
            find(&page, second).is_none(),
            "{backend:?}: a draft is not listed"
        );
        manage::publish(db, organizer, second, now).await.unwrap();
        let (page, served) = read(now).await.unwrap();
        assert_eq!(
            (find(&page, second).is_some(), served),
            (true, Served::Computed),
            "{backend:?}: publication"
        );

        manage::cancel(db, organizer, id, now).await.unwrap();
        expect(
            read(now).await.unwrap(),
            None,
            Served::Computed,
            "a cancelled event leaves the list",
        );

        // A new day is another list ("upcoming" starts at today's midnight).
        assert_eq!(read(now).await.unwrap().1, Served::Cached, "{backend:?}");
        assert_eq!(
            read(now + Duration::days(1)).await.unwrap().1,
            Served::Computed,
            "{backend:?}"
        );

        // Searches are each somebody's own; they always go to the database.
        let search = UpcomingFilter {
            search: Some("Later".into()),
            ..UpcomingFilter::default()
        };
        for _ in 0..2 {
            let (page, served) = cache
                .list_upcoming(db, Tokyo, now, &search, None, 20)
                .await
                .unwrap();
            assert_eq!(
                (page.items.len(), served),
                (1, Served::Computed),
                "{backend:?}"
            );
        }
    }
}

#[tokio::test]
async fn without_redis_another_instance_catches_up_within_the_age_bound() {
    for t in test_support::backends().await {
        let writer = &t.db;
        let reader = writer.another_instance();
        let backend = writer.backend();
        let now = Utc::now();
        let (id, person) = open_event(writer, "Elsewhere", now).await;
        let kept = ListCache::new(10);
        let bounded = ListCache::with_max_age(10, StdDuration::ZERO);
        let everything = UpcomingFilter::default();
        for cache in [&kept, &bounded] {
            cache
                .list_upcoming(&reader, Tokyo, now, &everything, None, 20)
                .await
                .unwrap();
        }

        registrations::register(writer, id, person, now)
            .await
            .unwrap();

        // Nothing told the reader's instance: within the age bound it answers
        // from memory (documented: other instances lag by at most MAX_AGE)...
        let (page, served) = kept
            .list_upcoming(&reader, Tokyo, now, &everything, None, 20)
            .await
            .unwrap();
        assert_eq!(
            (seats(&page, id), served),
            (Some((0, 0)), Served::Cached),
            "{backend:?}"
        );
        // ...and past it, it reads again.
        let (page, served) = bounded
            .list_upcoming(&reader, Tokyo, now, &everything, None, 20)
            .await
            .unwrap();
        assert_eq!(
            (seats(&page, id), served),
            (Some((1, 0)), Served::Computed),
            "{backend:?}"
        );
        assert_eq!(
            tsudoi::events::list_cache::MAX_AGE,
            StdDuration::from_secs(5)
        );
    }
}

/// Polls `check` every 20 ms until it holds, for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

async fn connected(url: &str, db: &Database) -> Arc<SharedCache> {
    let shared = SharedCache::connect(url, db).await.unwrap();
    shared.share_changes(db.changes());
    shared
}

#[tokio::test(flavor = "multi_thread")]
async fn with_redis_instances_hear_of_each_others_writes_and_share_the_numbers() {
    let url = format!("redis://{}", test_support::redis_addr());
    for t in test_support::backends().await {
        let first = &t.db;
        let second = first.another_instance();
        let backend = first.backend();
        let (first_redis, second_redis) =
            (connected(&url, first).await, connected(&url, &second).await);
        let now = Utc::now();
        let (id, person) = open_event(first, "Shared", now).await;
        let everything = UpcomingFilter::default();

        // The list: the second instance drops its page when the first writes.
        let list = ListCache::new(10);
        let (page, _) = list
            .list_upcoming(&second, Tokyo, now, &everything, None, 20)
            .await
            .unwrap();
        assert_eq!(seats(&page, id), Some((0, 0)));
        let before = second.changes().generation();
        registrations::register(first, id, person, now)
            .await
            .unwrap();
        eventually("the second instance hears of the registration", || async {
            second.changes().generation() != before
        })
        .await;
        let (page, served) = list
            .list_upcoming(&second, Tokyo, now, &everything, None, 20)
            .await
            .unwrap();
        assert_eq!(
            (seats(&page, id), served),
            (Some((1, 0)), Served::Computed),
            "{backend:?}"
        );
        // Its own announcement does not come back to the writer as a remote change.
        let own = first.changes().generation();
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        assert_eq!(first.changes().generation(), own, "{backend:?}");

        // The numbers: computed by the first, taken from Redis by the second.
        let on_first = StatsCache::new(10).shared_through(first_redis.clone());
        let (stats, served) = on_first.get(first, Tokyo, id, now).await.unwrap();
        assert_eq!(
            (stats.registered, served),
            (1, Served::Computed),
            "{backend:?}"
        );
        eventually("the second instance finds the numbers in Redis", || async {
            let fresh = StatsCache::new(10).shared_through(second_redis.clone());
            let (found, served) = fresh.get(&second, Tokyo, id, now).await.unwrap();
            served == Served::Shared && found == stats
        })
        .await;
        // A write makes the shared copy useless: its fingerprint no longer matches.
        let other = member(first, "q@example.co.jp").await;
        registrations::register(first, id, other, now)
            .await
            .unwrap();
        let on_second = StatsCache::new(10).shared_through(second_redis.clone());
        let (stats, served) = on_second.get(&second, Tokyo, id, now).await.unwrap();
        assert_eq!(
            (stats.registered, served),
            (2, Served::Computed),
            "{backend:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn installations_sharing_one_redis_keep_apart_and_a_reconnect_drops_the_pages() {
    let url = format!("redis://{}", test_support::redis_addr());
    let one = test_support::sqlite().await;
    let two = test_support::sqlite().await;
    let (one_redis, two_redis) = (
        connected(&url, &one.db).await,
        connected(&url, &two.db).await,
    );
    assert_ne!(one_redis.key("stats"), two_redis.key("stats"));
    // The same installation always finds its own keys again.
    assert_eq!(
        one_redis.key("stats"),
        SharedCache::connect(&url, &one.db)
            .await
            .unwrap()
            .key("stats")
    );

    // An instance cut off from Redis misses announcements; when it is back it
    // assumes it missed some.
    let relay = RedisRelay::start().await;
    let cut_off = one.db.another_instance();
    connected(&relay.url(), &cut_off).await;
    // Let the first connection's own events pass before taking the reading.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let before = cut_off.changes().generation();
    relay.cut();
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    relay.restore();
    eventually("the reconnected instance drops its pages", || async {
        cut_off.changes().generation() != before
    })
    .await;
}

#[tokio::test]
async fn a_rendering_is_made_once_per_page_and_language_and_anew_after_a_write() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let (id, person) = open_event(db, "Rendered", now).await;
        let cache = ListCache::new(100);
        let everything = UpcomingFilter::default();
        let renders = std::sync::atomic::AtomicUsize::new(0);
        // The rendering names the language and the seats taken, so a stale
        // one would show.
        let render = |lang: Lang| {
            let renders = &renders;
            move |page: &Page<EventSummary>| {
                renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                format!("{}:{:?}", lang.code(), seats(page, id))
            }
        };
        let read =
            |lang: Lang| cache.rendered(db, Tokyo, now, &everything, None, 20, lang, render(lang));
        let made = || renders.load(std::sync::atomic::Ordering::SeqCst);

        let (ja, served) = read(Lang::Ja).await.unwrap();
        assert_eq!(
            (&*ja, served, made()),
            ("ja:Some((0, 0))", Served::Computed, 1),
            "{backend:?}"
        );
        let (ja, served) = read(Lang::Ja).await.unwrap();
        assert_eq!(
            (&*ja, served, made()),
            ("ja:Some((0, 0))", Served::Cached, 1),
            "{backend:?}: kept"
        );
        let (en, _) = read(Lang::En).await.unwrap();
        assert_eq!(
            (&*en, made()),
            ("en:Some((0, 0))", 2),
            "{backend:?}: each language its own"
        );
        // The rows read for the rendering are the ones `list_upcoming` keeps.
        let (_, served) = cache
            .list_upcoming(db, Tokyo, now, &everything, None, 20)
            .await
            .unwrap();
        assert_eq!(served, Served::Cached, "{backend:?}");

        registrations::register(db, id, person, now).await.unwrap();
        let (ja, served) = read(Lang::Ja).await.unwrap();
        assert_eq!(
            (&*ja, served, made()),
            ("ja:Some((1, 0))", Served::Computed, 3),
            "{backend:?}: made anew after a registration"
        );

        // A keyword search is never kept, so neither is its rendering.
        let search = UpcomingFilter {
            search: Some("Rendered".into()),
            ..UpcomingFilter::default()
        };
        for expected in [4, 5] {
            cache
                .rendered(
                    db,
                    Tokyo,
                    now,
                    &search,
                    None,
                    20,
                    Lang::Ja,
                    render(Lang::Ja),
                )
                .await
                .unwrap();
            assert_eq!(
                made(),
                expected,
                "{backend:?}: searches are rendered each time"
            );
        }
    }
}
