//! Why a rule refused something, as data rather than a sentence.
//!
//! The core says *which* rule and with what numbers; the pages say it in the
//! reader's language (`app/src/i18n/reasons.rs`, where a reason without a
//! Japanese text does not compile). The English wording here is what the
//! command line, logs and the English pages show.
//!
//! A reason that belongs to one input names its [`Field`], so a form can put
//! the message next to that field.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::surveys::{AnswerProblem, QuestionProblem};

/// An input a person fills in, for messages placed next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    Email,
    Name,
    Department,
    Role,
    Password,
    CurrentPassword,
    NewPassword,
    RepeatPassword,
    Title,
    Description,
    Place,
    Category,
    StartsAt,
    EndsAt,
    Capacity,
    RegistrationOpensAt,
    RegistrationClosesAt,
    Search,
    Date,
    File,
    Language,
    TicketCode,
    SurveyOpensAt,
    OpenDays,
    ReminderDays,
}

impl Field {
    /// A stable name for element ids and test ids (`error-ends_at`).
    pub fn code(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "name",
            Field::Department => "department",
            Field::Role => "role",
            Field::Password => "password",
            Field::CurrentPassword => "current_password",
            Field::NewPassword => "new_password",
            Field::RepeatPassword => "repeat_password",
            Field::Title => "title",
            Field::Description => "description",
            Field::Place => "place",
            Field::Category => "category",
            Field::StartsAt => "starts_at",
            Field::EndsAt => "ends_at",
            Field::Capacity => "capacity",
            Field::RegistrationOpensAt => "registration_opens_at",
            Field::RegistrationClosesAt => "registration_closes_at",
            Field::Search => "search",
            Field::Date => "date",
            Field::File => "file",
            Field::Language => "language",
            Field::TicketCode => "ticket_code",
            Field::SurveyOpensAt => "survey_opens_at",
            Field::OpenDays => "open_days",
            Field::ReminderDays => "reminder_days",
        }
    }

    /// The field's name in English sentences ("The title is too long").
    pub fn english(self) -> &'static str {
        match self {
            Field::Email => "e-mail address",
            Field::Name => "name",
            Field::Department => "department",
            Field::Role => "role",
            Field::Password => "password",
            Field::CurrentPassword => "current password",
            Field::NewPassword => "new password",
            Field::RepeatPassword => "repeated password",
            Field::Title => "title",
            Field::Description => "description",
            Field::Place => "place",
            Field::Category => "category",
            Field::StartsAt => "start",
            Field::EndsAt => "end",
            Field::Capacity => "number of seats",
            Field::RegistrationOpensAt => "registration opening",
            Field::RegistrationClosesAt => "registration closing",
            Field::Search => "search",
            Field::Date => "date",
            Field::File => "file",
            Field::Language => "language",
            Field::TicketCode => "ticket code",
            Field::SurveyOpensAt => "opening time",
            Field::OpenDays => "number of days open",
            Field::ReminderDays => "reminder's days before closing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Reason {
    // ---- Any text a person types --------------------------------------------
    #[error("The {} is too long ({max_chars} characters at most).", field.english())]
    TooLong { field: Field, max_chars: u32 },
    #[error("The {} must be one line without control characters.", field.english())]
    ControlCharacters { field: Field },
    #[error("The {} is needed.", field.english())]
    Missing { field: Field },
    #[error("The {} is not one Tsudoi knows.", field.english())]
    Unknown { field: Field },
    #[error("The {}: give a date and time such as 2026-12-10 18:00.", field.english())]
    NotADateTime { field: Field },
    #[error("“{text}” is not a date (YYYY-MM-DD).")]
    NotADate { text: String },
    #[error("The {}: give a whole number, such as 30.", field.english())]
    NotAWholeNumber { field: Field },
    #[error("Search for at most {max_chars} characters.")]
    SearchTooLong { max_chars: u32 },
    #[error("This page link is broken.")]
    BrokenLink,
    #[error("The form is incomplete; reload it.")]
    IncompleteForm,

    // ---- People and passwords -----------------------------------------------
    #[error("“{shown}” is not a valid e-mail address.")]
    InvalidEmail { shown: String },
    #[error("A password needs at least {min_chars} characters.")]
    PasswordTooShort { min_chars: u32 },
    #[error("The new passwords do not match.")]
    PasswordsDiffer,
    #[error("The new password must differ from the current one.")]
    PasswordUnchanged,
    #[error("The current password is not correct.")]
    WrongCurrentPassword,
    #[error("Your password was changed meanwhile; please sign in again.")]
    PasswordChangedMeanwhile,
    #[error("An account with this e-mail address already exists.")]
    EmailTaken,
    #[error("This is the last active administrator. Make someone else an administrator first.")]
    LastActiveAdmin,
    #[error("You cannot deactivate your own account.")]
    CannotDeactivateSelf,
    #[error("You cannot anonymize your own account.")]
    CannotAnonymizeSelf,
    #[error("Tick the box to confirm that this cannot be undone.")]
    AnonymizeNotConfirmed,
    #[error(
        "This link has expired or has been used already. Ask for a new one with “Forgot your password?” on the sign-in page."
    )]
    PasswordLinkInvalid,
    #[error("Choose at least one person to invite.")]
    NobodyChosen,
    #[error("Invite at most {max} people at a time, or invite everyone without a password.")]
    TooManyChosen { max: u32 },

    // ---- Importing people -----------------------------------------------------
    #[error(
        "The file needs a header line with at least the columns “email” and “name” \
         (or メールアドレス and 氏名; optional: “department”/部署, “role”/権限); found: {found}."
    )]
    ImportHeaderMissing { found: String },
    #[error("The file is not CSV text in UTF-8 or Shift_JIS (in Excel: save as “CSV UTF-8”).")]
    ImportNotUtf8,
    #[error(
        "Line {line}: a quotation mark is not closed, so the lines after it run into one \
         field. Nothing was imported; close the quote and upload again."
    )]
    ImportUnclosedQuote { line: u64 },
    #[error("Choose a CSV file to import.")]
    UploadMissing,
    #[error("The upload could not be read. Please try again.")]
    UploadUnreadable,
    #[error("The file is larger than {max_mb} MB; split it into several files.")]
    UploadTooLarge { max_mb: u32 },

    // ---- Making and changing events ------------------------------------------
    #[error("An event needs a title in Japanese or English.")]
    TitleMissing,
    #[error("An event must end after it starts.")]
    EndsBeforeStart,
    #[error("Capacity must be between 1 and {max}.")]
    CapacityOutOfRange { max: u32 },
    #[error("Registration must close after it opens.")]
    RegistrationClosesBeforeOpening,
    #[error("Registration must close by the time the event starts.")]
    RegistrationClosesAfterStart,
    #[error("Registration must open before the event starts.")]
    RegistrationOpensAfterStart,
    #[error(
        "{taken} seats are already taken; the capacity cannot go below that. Remove registrations first."
    )]
    CapacityBelowSeatsTaken { taken: u32 },
    #[error("A cancelled event cannot be edited.")]
    EditingCancelledEvent,
    #[error("Someone else changed this event meanwhile. Reload it and edit again.")]
    EventChangedMeanwhile,
    #[error("Only a draft can be published.")]
    OnlyDraftsArePublished,
    #[error("This event is cancelled already.")]
    EventAlreadyCancelled,
    #[error("This event is over; an event that took place cannot be cancelled.")]
    EventIsOver,
    #[error("The database already has events; seed-demo only fills an empty database.")]
    DemoNeedsEmptyDatabase,

    // ---- Registering -----------------------------------------------------------
    #[error("This event has been cancelled.")]
    EventCancelled,
    #[error(
        "Registration for this event has not opened yet; it opens on {}.",
        opens_at.format("%Y-%m-%d %H:%M")
    )]
    RegistrationNotOpenYet { opens_at: DateTime<FixedOffset> },
    #[error("Registration for this event has closed.")]
    RegistrationClosed,
    #[error("Your registration changed meanwhile; please try again.")]
    RegistrationChangedMeanwhile,
    #[error("This ticket has already been used to check in.")]
    AlreadyCheckedIn,
    #[error("This registration is already cancelled.")]
    AlreadyCancelled,
    #[error("This person is on the waitlist, not registered.")]
    OnWaitlist,
    #[error("This event has started; a registration can no longer be cancelled.")]
    CancellingAfterStart,
    #[error("This event is over; who came and who did not stays on record.")]
    RemovingAfterEnd,

    // ---- Tickets and the door -------------------------------------------------
    #[error("This is not a valid Tsudoi ticket.")]
    InvalidTicket,
    #[error("A ticket code has 8 letters and digits, like 7K3M-Q9XD.")]
    InvalidTicketCode,
    #[error("You are on the waitlist; your ticket comes with a seat.")]
    NoTicketOnWaitlist,
    #[error("This registration was cancelled, so it has no ticket.")]
    NoTicketWhenCancelled,
    #[error("This person is not checked in.")]
    NotCheckedIn,
    #[error("This registration keeps changing; please scan again.")]
    ScanAgain,
    #[error("Send at most {max} scans at a time.")]
    TooManyScans { max: u32 },

    // ---- Mail --------------------------------------------------------------------
    #[error("Only a failed mail can be sent again.")]
    OnlyFailedMailIsRetried,

    // ---- Surveys -------------------------------------------------------------------
    #[error("A survey needs at least one question and at most {max}.")]
    SurveyQuestionCount { max: u32 },
    /// Each problem names the question's position (from 1), so the builder
    /// can say it next to that question.
    #[error("{} of the questions need attention; each says what.", problems.len())]
    SurveyQuestionsInvalid {
        problems: Vec<(u32, QuestionProblem)>,
    },
    #[error("A survey stays open for 1 to {max} days.")]
    SurveyOpenDaysOutOfRange { max: u32 },
    #[error("The reminder must come at least a day after the survey opens and before it closes.")]
    SurveyReminderOutOfRange,
    #[error(
        "People have answered already, so questions can no longer be added, removed, or \
         changed in kind or number of choices, and the survey cannot switch between anonymous \
         and named: every answer must keep its meaning. The wording can still be improved."
    )]
    SurveyFixedByAnswers,
    #[error("Someone else changed this survey meanwhile. Reload it and edit again.")]
    SurveyChangedMeanwhile,
    #[error("A cancelled event gets no survey.")]
    SurveyForCancelledEvent,
    /// Each problem names the question's key, so the page can say it next
    /// to that question.
    #[error("{} of the answers need attention; each question says what.", problems.len())]
    SurveyAnswersInvalid {
        problems: Vec<(String, AnswerProblem)>,
    },
    #[error(
        "This survey opens on {}.",
        opens_at.format("%Y-%m-%d %H:%M")
    )]
    SurveyNotOpenYet { opens_at: DateTime<FixedOffset> },
    #[error("This survey has closed; it no longer takes answers.")]
    SurveyClosed,
    #[error(
        "This survey asks the people who were checked in at the event, and there is no \
         check-in of yours for it."
    )]
    SurveyOnlyForAttendees,
    #[error(
        "You have answered this anonymous survey already. Anonymous answers cannot be \
         changed, because nothing links them to you."
    )]
    SurveyAnsweredAnonymously,
}

impl Reason {
    /// The input this reason is about, when there is one.
    pub fn field(&self) -> Option<Field> {
        use Reason::*;
        match self {
            TooLong { field, .. }
            | ControlCharacters { field }
            | Missing { field }
            | Unknown { field }
            | NotADateTime { field }
            | NotAWholeNumber { field } => Some(*field),
            NotADate { .. } => Some(Field::Date),
            SearchTooLong { .. } => Some(Field::Search),
            InvalidEmail { .. } | EmailTaken => Some(Field::Email),
            PasswordTooShort { .. } | PasswordUnchanged => Some(Field::NewPassword),
            PasswordsDiffer => Some(Field::RepeatPassword),
            WrongCurrentPassword => Some(Field::CurrentPassword),
            UploadMissing | UploadUnreadable | UploadTooLarge { .. } => Some(Field::File),
            TitleMissing => Some(Field::Title),
            EndsBeforeStart => Some(Field::EndsAt),
            CapacityOutOfRange { .. } | CapacityBelowSeatsTaken { .. } => Some(Field::Capacity),
            RegistrationClosesBeforeOpening | RegistrationClosesAfterStart => {
                Some(Field::RegistrationClosesAt)
            }
            RegistrationOpensAfterStart => Some(Field::RegistrationOpensAt),
            InvalidTicketCode => Some(Field::TicketCode),
            SurveyOpenDaysOutOfRange { .. } => Some(Field::OpenDays),
            SurveyReminderOutOfRange => Some(Field::ReminderDays),
            _ => None,
        }
    }
}
