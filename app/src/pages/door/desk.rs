//! The door desk: one place where every scan and typed code goes, online or
//! not. Online it asks the server; when the network is gone it answers from
//! the device's own list ([`DoorDevice`]), queues the check-in in the
//! browser's storage, and sends the queue as soon as the server answers
//! again.

use leptos::prelude::*;
use tsudoi::checkin::{CheckInCounts, DoorDevice, ScanAnswer};
use tsudoi::ticket_token::looks_like_token;

use super::{door_code, door_scan, door_sync, download_door_list};
use crate::AppError;

/// One answer on the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub answer: ScanAnswer,
    /// Answered by this device without the server.
    pub offline: bool,
    /// The page clock (`performance.now()`) of the camera frame the code was
    /// read from; none for typed codes.
    pub frame_at: Option<f64>,
    /// Counts answers, so two equal answers in a row still read as new.
    pub number: u64,
}

/// What went wrong with a scan, other than the ticket itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Failed(AppError),
    /// Offline before this device ever downloaded the event's list.
    NoList,
}

/// How many answers the recent-scans list keeps.
const RECENT: usize = 6;
/// How often the page retries the server while offline or with a queue.
#[cfg(feature = "hydrate")]
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// The list is downloaded again every this many retries while all is well.
#[cfg(feature = "hydrate")]
const REFRESH_LIST_EVERY: u32 = 6;

#[derive(Clone, Copy)]
pub struct Desk {
    event_id: i64,
    device: StoredValue<DoorDevice>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    syncing: StoredValue<bool>,
    pub online: RwSignal<bool>,
    pub queued: RwSignal<usize>,
    pub local_counts: RwSignal<Option<CheckInCounts>>,
    pub not_applied: RwSignal<Vec<ScanAnswer>>,
    pub shown: RwSignal<Option<Shown>>,
    pub recent: RwSignal<Vec<Shown>>,
    pub busy: RwSignal<bool>,
    pub problem: RwSignal<Option<Problem>>,
    /// Bumped by every change the server now knows of, so the counter and
    /// the search reload.
    pub server_changed: RwSignal<u64>,
}

impl Desk {
    pub fn new(event_id: i64) -> Self {
        Self {
            event_id,
            device: StoredValue::new(DoorDevice::new(event_id)),
            syncing: StoredValue::new(false),
            online: RwSignal::new(true),
            queued: RwSignal::new(0),
            local_counts: RwSignal::new(None),
            not_applied: RwSignal::new(Vec::new()),
            shown: RwSignal::new(None),
            recent: RwSignal::new(Vec::new()),
            busy: RwSignal::new(false),
            problem: RwSignal::new(None),
            server_changed: RwSignal::new(0),
        }
    }

    /// In the browser: takes back what the device kept, follows the network,
    /// sends anything queued and fetches a fresh list. Stops with the page.
    pub fn start(self) {
        #[cfg(feature = "hydrate")]
        {
            use super::browser;
            use leptos::task::spawn_local;
            if let Some(saved) = browser::load(self.event_id) {
                self.device.set_value(saved);
            }
            self.publish();
            self.online.set(browser::navigator_online());
            let back = window_event_listener(leptos::ev::online, move |_| {
                self.online.set(true);
                spawn_local(self.catch_up());
            });
            let gone = window_event_listener(leptos::ev::offline, move |_| {
                self.online.set(false);
            });
            spawn_local(self.catch_up());
            // The Wi-Fi can come back without an event, or be up while the
            // server is not: retry now and then.
            let ticks = StoredValue::new(0u32);
            let retry = set_interval_with_handle(
                move || {
                    ticks.update_value(|n| *n += 1);
                    let due = ticks.get_value().is_multiple_of(REFRESH_LIST_EVERY);
                    if !self.online.get_untracked() || self.queued.get_untracked() > 0 || due {
                        spawn_local(self.catch_up());
                    }
                },
                RETRY_EVERY,
            )
            .ok();
            on_cleanup(move || {
                back.remove();
                gone.remove();
                if let Some(retry) = retry {
                    retry.clear();
                }
            });
        }
    }

    /// Checks in a scanned token or a typed code. False if the desk is still
    /// busy with the previous one (the caller keeps the input).
    pub fn submit(self, input: String, frame_at: Option<f64>) -> bool {
        let input = input.trim().to_string();
        if input.is_empty() || self.busy.get_untracked() {
            return false;
        }
        self.busy.set(true);
        self.problem.set(None);
        leptos::task::spawn_local(async move {
            if self.online.get_untracked() {
                let asked = if looks_like_token(&input) {
                    door_scan(self.event_id, input.clone()).await
                } else {
                    door_code(self.event_id, input.clone()).await
                };
                match asked {
                    Ok(answer) => {
                        self.device.update_value(|d| d.remember_online(&answer));
                        self.publish();
                        self.show(answer, false, frame_at);
                        self.server_changed.update(|n| *n += 1);
                    }
                    Err(AppError::Transport(_)) => {
                        self.online.set(false);
                        self.answer_offline(&input, frame_at);
                    }
                    Err(err) => self.problem.set(Some(Problem::Failed(err))),
                }
            } else {
                self.answer_offline(&input, frame_at);
            }
            self.busy.set(false);
        });
        true
    }

    /// A check-in was undone: the list must say so before the next offline scan.
    pub fn undone(self, registration_id: i64) {
        self.device.update_value(|d| d.forget(registration_id));
        self.publish();
        self.server_changed.update(|n| *n += 1);
    }

    pub fn dismiss_not_applied(self) {
        self.device.update_value(DoorDevice::dismiss_not_applied);
        self.publish();
    }

    fn answer_offline(self, input: &str, frame_at: Option<f64>) {
        let answered = self
            .device
            .try_update_value(|d| d.answer_offline(input, device_now()))
            .flatten();
        match answered {
            Some(answer) => {
                self.publish();
                self.show(answer, true, frame_at);
            }
            None => self.problem.set(Some(Problem::NoList)),
        }
    }

    fn show(self, answer: ScanAnswer, offline: bool, frame_at: Option<f64>) {
        #[cfg(feature = "hydrate")]
        super::browser::vibrate(match answer {
            ScanAnswer::CheckedIn { .. } => 80,
            _ => 400,
        });
        let number = self
            .shown
            .with_untracked(|s| s.as_ref().map_or(0, |s| s.number + 1));
        let shown = Shown {
            answer,
            offline,
            frame_at,
            number,
        };
        self.recent.update(|recent| {
            recent.insert(0, shown.clone());
            recent.truncate(RECENT);
        });
        self.shown.set(Some(shown));
    }

    /// Sends the queue, then fetches a fresh list; either succeeding proves
    /// the network is back.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    async fn catch_up(self) {
        if self.sync().await {
            self.refresh_list().await;
        }
    }

    /// Sends queued check-ins, a batch at a time. False if the server could
    /// not be reached.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    async fn sync(self) -> bool {
        if self.syncing.get_value() {
            return true;
        }
        self.syncing.set_value(true);
        let reached = loop {
            let batch = self.device.with_value(DoorDevice::next_batch);
            if batch.is_empty() {
                break true;
            }
            let sent = batch.len();
            match door_sync(self.event_id, batch).await {
                Ok(answers) => {
                    self.device.update_value(|d| d.settle(sent, answers));
                    self.online.set(true);
                    self.publish();
                    self.server_changed.update(|n| *n += 1);
                }
                Err(AppError::Transport(_)) => {
                    self.online.set(false);
                    break false;
                }
                Err(err) => {
                    self.problem.set(Some(Problem::Failed(err)));
                    break true;
                }
            }
        };
        self.syncing.set_value(false);
        reached
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    async fn refresh_list(self) {
        match download_door_list(self.event_id).await {
            Ok(list) => {
                self.device.update_value(|d| d.take_list(list));
                self.online.set(true);
                self.publish();
            }
            Err(AppError::Transport(_)) => self.online.set(false),
            // Not allowed or gone: the page says so through its counter.
            Err(_) => {}
        }
    }

    /// Saves the device and shows what changed.
    fn publish(self) {
        self.device.with_value(|device| {
            #[cfg(feature = "hydrate")]
            super::browser::save(device);
            self.queued.set(device.queued());
            self.local_counts.set(device.counts());
            self.not_applied.set(device.not_applied().to_vec());
        });
    }
}

fn device_now() -> chrono::DateTime<chrono::Utc> {
    #[cfg(feature = "hydrate")]
    return super::browser::now();
    #[cfg(not(feature = "hydrate"))]
    return chrono::Utc::now();
}
