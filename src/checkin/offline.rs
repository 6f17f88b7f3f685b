//! The door device's own memory, so scanning goes on when the venue's network
//! drops: the door list it downloaded, the check-ins it made, and the queue of
//! those made offline until the server has them.
//!
//! Offline answers follow the server's as closely as the list allows: the
//! signature is checked with the event's public key, seat holders come from
//! the list, and a second scan of one person (by this device, or checked in
//! when the list was made) is "already checked in". What the device cannot
//! know — a cancellation since the list was made, another door's check-ins —
//! the server settles when the queue is sent (`apply_queued`), and the scans
//! it did not apply are kept here for staff to follow up.
//!
//! Plain data and no clock or storage of its own: the page passes the time
//! and keeps the whole value in the browser's storage (it is serde).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CheckInCounts, DoorList, DoorRow, MAX_QUEUED_SCANS, QueuedScan, ScanAnswer};
use crate::model::RegistrationStatus;
use crate::ticket_token;

/// Everything one door device keeps for one event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DoorDevice {
    event_id: i64,
    list: Option<DoorList>,
    /// Registrations this device checked in (online or offline) that the
    /// list may not show yet, with the time.
    checked_here: BTreeMap<i64, DateTime<Utc>>,
    /// Offline check-ins not yet accepted by the server, oldest first.
    queue: Vec<QueuedCheckIn>,
    /// Queued check-ins the server refused, with its answer.
    not_applied: Vec<ScanAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct QueuedCheckIn {
    scan: QueuedScan,
    registration_id: i64,
}

impl DoorDevice {
    pub fn new(event_id: i64) -> Self {
        Self {
            event_id,
            ..Self::default()
        }
    }

    pub fn event_id(&self) -> i64 {
        self.event_id
    }

    /// Takes a freshly downloaded list. Check-ins still queued stay
    /// remembered; the others are in the new list (or were undone).
    pub fn take_list(&mut self, list: DoorList) {
        if list.event_id != self.event_id {
            return;
        }
        let queued: Vec<i64> = self.queue.iter().map(|q| q.registration_id).collect();
        self.checked_here.retain(|id, _| queued.contains(id));
        self.list = Some(list);
    }

    /// When the list this device holds was made.
    pub fn list_from(&self) -> Option<DateTime<Utc>> {
        self.list.as_ref().map(|l| l.generated_at)
    }

    /// Remembers what the server answered to a scan made online, so that the
    /// same person scanned again offline is "already checked in".
    pub fn remember_online(&mut self, answer: &ScanAnswer) {
        match answer {
            ScanAnswer::CheckedIn {
                registration_id,
                at,
                ..
            }
            | ScanAnswer::AlreadyCheckedIn {
                registration_id,
                at,
                ..
            } => {
                self.checked_here.entry(*registration_id).or_insert(*at);
            }
            _ => {}
        }
    }

    /// Forgets a check-in taken back with undo (online only).
    pub fn forget(&mut self, registration_id: i64) {
        self.checked_here.remove(&registration_id);
        if let Some(row) = self.row_mut(registration_id) {
            row.checked_in_at = None;
        }
    }

    /// Answers a scanned token or a typed code without the network, and
    /// queues the check-in when it admits the person. `None` when the device
    /// has no list yet (it never reached the server for this event).
    pub fn answer_offline(
        &mut self,
        token_or_code: &str,
        now: DateTime<Utc>,
    ) -> Option<ScanAnswer> {
        let list = self.list.as_ref()?;
        let typed = token_or_code.trim();
        let (row, queued_as) = if let Some(code) = ticket_token::normalize_code(typed) {
            match list.rows.iter().find(|r| r.code.as_deref() == Some(&code)) {
                Some(row) => (row, code),
                None => {
                    return Some(ScanAnswer::NotOnDoorList {
                        list_from: list.generated_at,
                    });
                }
            }
        } else {
            let Some(ticket) = ticket_token::SignedTicket::read(typed) else {
                return Some(ScanAnswer::Invalid);
            };
            if ticket.claims.event_id != self.event_id {
                // The device holds only this event's key, so it cannot tell a
                // genuine ticket of another event from a forged one; both are
                // turned away, and staff learn it is not this door's.
                return Some(ScanAnswer::OtherEvent {
                    event_id: ticket.claims.event_id,
                    title_ja: None,
                    title_en: None,
                });
            }
            let genuine = ticket_token::parse_public_key(&list.public_key)
                .is_some_and(|key| ticket.signed_by(&key));
            if !genuine {
                return Some(ScanAnswer::Invalid);
            }
            let claims = ticket.claims;
            match list
                .rows
                .iter()
                .find(|r| r.registration_id == claims.registration_id)
            {
                Some(row) => (row, typed.to_string()),
                None => {
                    return Some(ScanAnswer::NotOnDoorList {
                        list_from: list.generated_at,
                    });
                }
            }
        };
        match row.status {
            RegistrationStatus::Cancelled | RegistrationStatus::Removed => {
                return Some(ScanAnswer::Cancelled {
                    name: row.name.clone(),
                });
            }
            RegistrationStatus::Waitlisted => {
                return Some(ScanAnswer::Waitlisted {
                    name: row.name.clone(),
                });
            }
            RegistrationStatus::Registered | RegistrationStatus::CheckedIn => {}
        }
        let earlier = row
            .checked_in_at
            .or_else(|| self.checked_here.get(&row.registration_id).copied());
        let answer = match earlier {
            Some(at) => ScanAnswer::AlreadyCheckedIn {
                registration_id: row.registration_id,
                name: row.name.clone(),
                department: row.department.clone(),
                at,
                by_name: None,
            },
            None => ScanAnswer::CheckedIn {
                registration_id: row.registration_id,
                name: row.name.clone(),
                department: row.department.clone(),
                at: now,
            },
        };
        if let ScanAnswer::CheckedIn {
            registration_id, ..
        } = answer
        {
            self.checked_here.insert(registration_id, now);
            self.queue.push(QueuedCheckIn {
                scan: QueuedScan {
                    token_or_code: queued_as,
                    scanned_at: now,
                },
                registration_id,
            });
        }
        Some(answer)
    }

    /// How many check-ins wait for the network.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The oldest queued check-ins, as many as one sync may carry.
    pub fn next_batch(&self) -> Vec<QueuedScan> {
        self.queue
            .iter()
            .take(MAX_QUEUED_SCANS)
            .map(|q| q.scan.clone())
            .collect()
    }

    /// Takes the server's answers to the `sent` scans of [`Self::next_batch`]:
    /// they leave the queue, and the ones it did not apply are kept for
    /// staff. Scans queued while the batch was on its way stay queued.
    pub fn settle(&mut self, sent: usize, answers: Vec<(usize, ScanAnswer)>) {
        let sent = sent.min(self.queue.len());
        let settled: Vec<QueuedCheckIn> = self.queue.drain(..sent).collect();
        for (index, answer) in answers {
            let Some(entry) = settled.get(index) else {
                continue;
            };
            match answer {
                ScanAnswer::CheckedIn { at, .. } | ScanAnswer::AlreadyCheckedIn { at, .. } => {
                    let registration_id = entry.registration_id;
                    if let Some(row) = self.row_mut(registration_id) {
                        row.checked_in_at.get_or_insert(at);
                    }
                }
                refused => {
                    self.checked_here.remove(&entry.registration_id);
                    if let Some(row) = self.row_mut(entry.registration_id) {
                        row.status = match refused {
                            ScanAnswer::Waitlisted { .. } => RegistrationStatus::Waitlisted,
                            _ => RegistrationStatus::Cancelled,
                        };
                    }
                    self.not_applied.push(refused);
                }
            }
        }
    }

    /// Queued check-ins the server refused (cancelled meanwhile, …).
    pub fn not_applied(&self) -> &[ScanAnswer] {
        &self.not_applied
    }

    /// Staff have seen the refused check-ins.
    pub fn dismiss_not_applied(&mut self) {
        self.not_applied.clear();
    }

    /// The counter as this device knows it: seat holders on its list, and
    /// those checked in on the list or here.
    pub fn counts(&self) -> Option<CheckInCounts> {
        let list = self.list.as_ref()?;
        let holders = list.rows.iter().filter(|r| holds_seat(r));
        let (mut registered_total, mut checked_in) = (0, 0);
        for row in holders {
            registered_total += 1;
            if row.checked_in_at.is_some() || self.checked_here.contains_key(&row.registration_id) {
                checked_in += 1;
            }
        }
        Some(CheckInCounts {
            checked_in,
            registered_total,
        })
    }

    fn row_mut(&mut self, registration_id: i64) -> Option<&mut DoorRow> {
        self.list
            .as_mut()?
            .rows
            .iter_mut()
            .find(|r| r.registration_id == registration_id)
    }
}

fn holds_seat(row: &DoorRow) -> bool {
    matches!(
        row.status,
        RegistrationStatus::Registered | RegistrationStatus::CheckedIn
    )
}
