//! Every text of the app, in English and Japanese. Adding a field without a
//! value in both languages does not compile.

use chrono::{DateTime, Datelike, FixedOffset, Weekday};
use tsudoi::model::{Category, RegistrationStatus, Role};

pub struct Texts {
    pub lang_name: &'static str,
    pub switch_to: &'static str,
    pub loading: &'static str,
    pub next_page: &'static str,
    pub back_to_events: &'static str,

    // Header
    pub nav_events: &'static str,
    pub nav_my_events: &'static str,
    pub nav_users: &'static str,
    pub nav_audit: &'static str,
    pub log_in: &'static str,
    pub log_out: &'static str,

    // Event list
    pub events_title: &'static str,
    pub filter_this_page: &'static str,
    pub quick_filter_placeholder: &'static str,
    pub all_categories: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub seats_left_only: &'static str,
    pub apply_filters: &'static str,
    pub clear_filters: &'static str,
    pub no_events_title: &'static str,
    pub no_events_text: &'static str,
    pub no_events_filtered_text: &'static str,
    pub show_all_events: &'static str,
    pub showing: fn(usize, usize) -> String,
    pub seats_left: fn(i32, i32) -> String,
    pub full_with_waitlist: fn(i32) -> String,
    pub full_waitlist_open: &'static str,
    pub category: fn(Category) -> &'static str,

    // Event page
    pub when: &'static str,
    pub place: &'static str,
    pub organizer: &'static str,
    pub availability: &'static str,
    pub register: &'static str,
    pub join_waitlist: &'static str,
    pub registering: &'static str,
    pub you_are_registered: &'static str,
    pub you_are_checked_in: &'static str,
    pub waitlist_position: fn(i64) -> String,
    pub cancel_registration: &'static str,
    pub leave_waitlist: &'static str,
    pub confirm_cancel: &'static str,
    pub registration_opens: fn(&str) -> String,
    pub registration_closed: &'static str,
    pub event_started: &'static str,
    pub event_cancelled: &'static str,
    pub log_in_to_register: &'static str,
    pub view_ticket: &'static str,
    pub add_to_calendar: &'static str,
    pub registration_done: &'static str,
    pub waitlist_done: &'static str,
    pub cancel_done: &'static str,

    // My events
    pub my_events_title: &'static str,
    pub upcoming: &'static str,
    pub past: &'static str,
    pub no_registrations_title: &'static str,
    pub no_registrations_text: &'static str,
    pub no_past_events: &'static str,
    pub status: fn(RegistrationStatus) -> &'static str,
    pub ticket_title: &'static str,
    pub ticket_code_label: &'static str,
    pub ticket_hint: &'static str,
    pub calendar_feed_title: &'static str,
    pub calendar_feed_text: &'static str,
    pub calendar_feed_renew: &'static str,
    pub confirm_renew_feed: &'static str,

    // Login and account
    pub login_title: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub logging_in: &'static str,
    pub logged_out: &'static str,
    pub account_title: &'static str,
    pub name: &'static str,
    pub role_label: &'static str,
    pub role: fn(Role) -> &'static str,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub new_password_again: &'static str,
    pub password_changed: &'static str,
    pub please_log_in: &'static str,
    pub please_log_in_text: &'static str,
    pub not_for_your_role: &'static str,
    pub not_for_your_role_text: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_text: &'static str,
    pub something_wrong: &'static str,

    // Errors that have no words of their own in the core
    pub error_login_failed: &'static str,
    pub error_login_required: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found: &'static str,
    pub error_unavailable: &'static str,
    pub error_internal: &'static str,
    pub error_network: &'static str,
    pub error_too_many_attempts: fn(u64) -> String,

    // Not found
    pub not_found_title: &'static str,

    /// The administration pages.
    pub admin: AdminTexts,
    /// The door check-in page.
    pub door: DoorTexts,

    /// "Thu 3 Dec 2026, 14:00" / "2026年12月3日(木) 14:00"
    pub date_time: fn(DateTime<FixedOffset>) -> String,
    pub time: fn(DateTime<FixedOffset>) -> String,
    /// Month and day for the date badge: ("Dec", "3") / ("12月", "3").
    pub badge: fn(DateTime<FixedOffset>) -> (String, String, String),
}

pub struct DoorTexts {
    pub title: &'static str,
    pub count: fn(i64, i64) -> String,
    pub code_label: &'static str,
    pub check_in: &'static str,
    pub search_label: &'static str,
    pub checked_in: &'static str,
    pub already: &'static str,
    pub already_detail: fn(&str, &str, Option<&str>) -> String,
    pub cancelled: &'static str,
    pub waitlisted: &'static str,
    pub other_event: &'static str,
    pub invalid: &'static str,
    pub undo: &'static str,
}

pub struct AdminTexts {
    pub users_title: &'static str,
    pub search_users: &'static str,
    pub search_users_placeholder: &'static str,
    pub search: &'static str,
    pub role_change: &'static str,
    pub account_change: &'static str,
    pub no_users_title: &'static str,
    pub no_users_text: &'static str,
    pub department: &'static str,
    pub status: &'static str,
    pub save: &'static str,
    pub active: &'static str,
    pub deactivated: &'static str,
    pub deactivate: &'static str,
    pub reactivate: &'static str,
    pub confirm_deactivate: fn(&str) -> String,
    pub role_of: fn(&str) -> String,
    pub create_title: &'static str,
    pub language: &'static str,
    pub initial_password: &'static str,
    pub create_button: &'static str,
    pub created: &'static str,
    pub import_title: &'static str,
    pub import_hint: &'static str,
    pub csv_file: &'static str,
    pub import_button: &'static str,
    pub last_import: fn(&str) -> String,
    pub import_summary: fn(usize, usize, usize, usize) -> String,
    pub rejected_line: fn(u64, &str) -> String,
    pub audit_title: &'static str,
    pub audit_empty_title: &'static str,
    pub audit_empty_text: &'static str,
    pub when_utc: &'static str,
    pub who: &'static str,
    pub what: &'static str,
    pub target: &'static str,
    pub details: &'static str,
    pub older_entries: &'static str,
}

fn en_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

fn ja_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

fn en_wait(secs: u64) -> String {
    if secs < 60 {
        let s = secs.max(1);
        format!(
            "Too many failed sign-in attempts. Try again in {s} second{}.",
            if s == 1 { "" } else { "s" }
        )
    } else {
        let m = secs.div_ceil(60);
        format!(
            "Too many failed sign-in attempts. Try again in {m} minute{}.",
            if m == 1 { "" } else { "s" }
        )
    }
}

fn ja_wait(secs: u64) -> String {
    if secs < 60 {
        format!(
            "ログインの失敗が続いたため、一時的に停止しています。{}秒後にもう一度お試しください。",
            secs.max(1)
        )
    } else {
        format!(
            "ログインの失敗が続いたため、一時的に停止しています。{}分後にもう一度お試しください。",
            secs.div_ceil(60)
        )
    }
}

pub static EN: Texts = Texts {
    lang_name: "English",
    switch_to: "日本語",
    loading: "Loading…",
    next_page: "Next page →",
    back_to_events: "Back to the events",

    nav_events: "Events",
    nav_my_events: "My events",
    nav_users: "Users",
    nav_audit: "Audit log",
    log_in: "Log in",
    log_out: "Log out",

    events_title: "Upcoming events",
    filter_this_page: "Filter this page",
    quick_filter_placeholder: "Filter this page…",
    all_categories: "All",
    search_label: "Keyword",
    search_placeholder: "Title, place, description",
    from_label: "From",
    to_label: "To",
    seats_left_only: "Only with seats left",
    apply_filters: "Search",
    clear_filters: "Clear",
    no_events_title: "No upcoming events here yet",
    no_events_text: "Nothing is planned in this category for now. Try another category, or check back soon.",
    no_events_filtered_text: "No event matches these filters. Try fewer words, a wider date range, or clear the filters.",
    show_all_events: "Show all events",
    showing: |shown, total| format!("Showing {shown} of {total} on this page"),
    seats_left: |left, capacity| format!("{left} of {capacity} seats left"),
    full_with_waitlist: |waiting| format!("Full · {waiting} on the waitlist"),
    full_waitlist_open: "Full · waitlist open",
    category: |category| match category {
        Category::Seminar => "Seminar",
        Category::Training => "Training",
        Category::Social => "Social",
        Category::Townhall => "Town hall",
        Category::Workshop => "Workshop",
    },

    when: "When",
    place: "Where",
    organizer: "Organizer",
    availability: "Seats",
    register: "Register",
    join_waitlist: "Join the waitlist",
    registering: "Registering…",
    you_are_registered: "You are registered.",
    you_are_checked_in: "You are checked in.",
    waitlist_position: |n| format!("You are #{n} on the waitlist."),
    cancel_registration: "Cancel my registration",
    leave_waitlist: "Leave the waitlist",
    confirm_cancel: "Give up your place? Someone on the waitlist may take it.",
    registration_opens: |when| format!("Registration opens {when}."),
    registration_closed: "Registration is closed.",
    event_started: "This event has already started.",
    event_cancelled: "This event has been cancelled.",
    log_in_to_register: "Log in to register",
    view_ticket: "Show my ticket",
    add_to_calendar: "Add to calendar (.ics)",
    registration_done: "You are registered. Your ticket is in My events.",
    waitlist_done: "The event is full; you are on the waitlist. We will e-mail you if a seat frees up.",
    cancel_done: "Your registration has been cancelled.",

    my_events_title: "My events",
    upcoming: "Upcoming",
    past: "Past",
    no_registrations_title: "You have no upcoming events",
    no_registrations_text: "Find something interesting in the event list and register in one click.",
    no_past_events: "No past events yet.",
    status: |status| match status {
        RegistrationStatus::Registered => "Registered",
        RegistrationStatus::Waitlisted => "On the waitlist",
        RegistrationStatus::CheckedIn => "Checked in",
        RegistrationStatus::Cancelled => "Cancelled",
        RegistrationStatus::Removed => "Removed by the organizer",
    },
    ticket_title: "Your ticket",
    ticket_code_label: "Code for manual entry",
    ticket_hint: "Show this QR code at the entrance. Door staff can also type the code.",
    calendar_feed_title: "Your calendar feed",
    calendar_feed_text: "Subscribe to this address in Outlook, Google Calendar or Apple Calendar to see your events there. Keep it private.",
    calendar_feed_renew: "Make a new address (the old one stops working)",
    confirm_renew_feed: "Calendars subscribed to the old address will stop updating. Continue?",

    login_title: "Log in",
    email: "E-mail address",
    password: "Password",
    logging_in: "Logging in…",
    logged_out: "You are logged out.",
    account_title: "Your account",
    name: "Name",
    role_label: "Role",
    role: |role| match role {
        Role::Employee => "Employee",
        Role::Staff => "Staff",
        Role::Organizer => "Organizer",
        Role::Admin => "Administrator",
    },
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password (at least 10 characters)",
    new_password_again: "New password again",
    password_changed: "Your password has been changed.",
    please_log_in: "Please log in",
    please_log_in_text: "This page shows your own information. Log in to continue.",
    not_for_your_role: "Not available for your role",
    not_for_your_role_text: "Your account cannot open this page. Ask an administrator if you need it.",
    unavailable_title: "Temporarily unavailable",
    unavailable_text: "Logins cannot be checked right now. Please try again in a minute.",
    something_wrong: "Something went wrong",

    error_login_failed: "The e-mail address or password is not correct.",
    error_login_required: "Please log in to continue.",
    error_forbidden: "You are not allowed to do this.",
    error_not_found: "This was not found. It may have been removed.",
    error_unavailable: "The service is temporarily unavailable. Please try again shortly.",
    error_internal: "Something went wrong on our side. Please try again.",
    error_network: "The server could not be reached. Check your connection and try again.",
    error_too_many_attempts: en_wait,

    not_found_title: "This page does not exist",

    door: DoorTexts {
        title: "Check-in",
        count: |done, total| format!("{done} / {total} checked in"),
        code_label: "Ticket code",
        check_in: "Check in",
        search_label: "Search by name, e-mail or code",
        checked_in: "Checked in",
        already: "Already checked in",
        already_detail: |name, at, by| match by {
            Some(by) => format!("{name} · at {at} by {by}"),
            None => format!("{name} · at {at}"),
        },
        cancelled: "Cancelled — no seat",
        waitlisted: "On the waitlist — no seat",
        other_event: "Ticket for another event",
        invalid: "Not a valid ticket",
        undo: "Undo check-in",
    },

    admin: AdminTexts {
        users_title: "Users",
        search_users: "Search by name or e-mail",
        search_users_placeholder: "Name or e-mail",
        search: "Search",
        role_change: "Role",
        account_change: "Account",
        no_users_title: "No users found",
        no_users_text: "Try another search, create a user below, or import a CSV file.",
        department: "Department",
        status: "Status",
        save: "Save",
        active: "Active",
        deactivated: "Deactivated",
        deactivate: "Deactivate",
        reactivate: "Reactivate",
        confirm_deactivate: |email| {
            format!("Deactivate {email}? They will be logged out and cannot log in.")
        },
        role_of: |email| format!("Role of {email}"),
        create_title: "Create a user",
        language: "Language",
        initial_password: "Initial password (optional, at least 10 characters)",
        create_button: "Create user",
        created: "The user has been created.",
        import_title: "Import employees",
        import_hint: "CSV in UTF-8 with the columns email, name, department, role. Existing people are updated; importing the same file again changes nothing.",
        csv_file: "CSV file",
        import_button: "Import",
        last_import: |at| format!("Last import, {at} UTC"),
        import_summary: |created, updated, unchanged, rejected| {
            format!(
                "{created} created, {updated} updated, {unchanged} unchanged, {rejected} lines not imported."
            )
        },
        rejected_line: |line, reason| format!("Line {line}: {reason}"),
        audit_title: "Audit log",
        audit_empty_title: "Nothing recorded yet",
        audit_empty_text: "Logins, role changes, imports and event edits will appear here.",
        when_utc: "When (UTC)",
        who: "Who",
        what: "What",
        target: "Target",
        details: "Details",
        older_entries: "Older entries →",
    },

    date_time: |at| {
        format!(
            "{} {} {}, {}",
            en_weekday(at.weekday()),
            at.format("%-d %b"),
            at.year(),
            at.format("%H:%M")
        )
    },
    time: |at| at.format("%H:%M").to_string(),
    badge: |at| {
        (
            at.format("%b").to_string(),
            at.format("%-d").to_string(),
            en_weekday(at.weekday()).to_string(),
        )
    },
};

pub static JA: Texts = Texts {
    lang_name: "日本語",
    switch_to: "English",
    loading: "読み込み中…",
    next_page: "次のページ →",
    back_to_events: "イベント一覧へ戻る",

    nav_events: "イベント",
    nav_my_events: "マイイベント",
    nav_users: "ユーザー",
    nav_audit: "監査ログ",
    log_in: "ログイン",
    log_out: "ログアウト",

    events_title: "今後のイベント",
    filter_this_page: "このページを絞り込む",
    quick_filter_placeholder: "このページを絞り込む…",
    all_categories: "すべて",
    search_label: "キーワード",
    search_placeholder: "タイトル・場所・説明",
    from_label: "開始日",
    to_label: "終了日",
    seats_left_only: "空席ありのみ",
    apply_filters: "検索",
    clear_filters: "クリア",
    no_events_title: "予定されているイベントはまだありません",
    no_events_text: "このカテゴリーには今のところ予定がありません。別のカテゴリーを選ぶか、また後でご確認ください。",
    no_events_filtered_text: "条件に合うイベントがありません。キーワードを減らすか、期間を広げるか、条件をクリアしてください。",
    show_all_events: "すべてのイベントを表示",
    showing: |shown, total| format!("このページの{total}件中{shown}件を表示"),
    seats_left: |left, capacity| format!("残り{left}席(定員{capacity})"),
    full_with_waitlist: |waiting| format!("満席・キャンセル待ち{waiting}人"),
    full_waitlist_open: "満席・キャンセル待ち受付中",
    category: |category| match category {
        Category::Seminar => "セミナー",
        Category::Training => "研修",
        Category::Social => "懇親会",
        Category::Townhall => "全社集会",
        Category::Workshop => "ワークショップ",
    },

    when: "日時",
    place: "場所",
    organizer: "主催者",
    availability: "席",
    register: "参加登録する",
    join_waitlist: "キャンセル待ちに登録する",
    registering: "登録中…",
    you_are_registered: "参加登録済みです。",
    you_are_checked_in: "受付済みです。",
    waitlist_position: |n| format!("キャンセル待ち{n}番目です。"),
    cancel_registration: "参加をキャンセルする",
    leave_waitlist: "キャンセル待ちをやめる",
    confirm_cancel: "参加をキャンセルしますか?空いた席はキャンセル待ちの方に回ります。",
    registration_opens: |when| format!("受付開始は{when}です。"),
    registration_closed: "受付は終了しました。",
    event_started: "このイベントはすでに始まっています。",
    event_cancelled: "このイベントは中止になりました。",
    log_in_to_register: "ログインして参加登録",
    view_ticket: "チケットを表示",
    add_to_calendar: "カレンダーに追加(.ics)",
    registration_done: "参加登録しました。チケットはマイイベントにあります。",
    waitlist_done: "満席のためキャンセル待ちに登録しました。席が空いたらメールでお知らせします。",
    cancel_done: "参加をキャンセルしました。",

    my_events_title: "マイイベント",
    upcoming: "これから",
    past: "終了したイベント",
    no_registrations_title: "参加予定のイベントはありません",
    no_registrations_text: "イベント一覧から気になるものを探して、ワンクリックで参加登録できます。",
    no_past_events: "終了したイベントはまだありません。",
    status: |status| match status {
        RegistrationStatus::Registered => "参加登録済み",
        RegistrationStatus::Waitlisted => "キャンセル待ち",
        RegistrationStatus::CheckedIn => "受付済み",
        RegistrationStatus::Cancelled => "キャンセル済み",
        RegistrationStatus::Removed => "主催者により取り消し",
    },
    ticket_title: "チケット",
    ticket_code_label: "手入力用コード",
    ticket_hint: "受付でこのQRコードを提示してください。コードを伝えて手入力してもらうこともできます。",
    calendar_feed_title: "カレンダー配信",
    calendar_feed_text: "このアドレスをOutlook・Googleカレンダー・Appleカレンダーで購読すると、参加予定が表示されます。他の人に共有しないでください。",
    calendar_feed_renew: "新しいアドレスを発行(古いアドレスは使えなくなります)",
    confirm_renew_feed: "古いアドレスを購読しているカレンダーは更新されなくなります。続けますか?",

    login_title: "ログイン",
    email: "メールアドレス",
    password: "パスワード",
    logging_in: "ログイン中…",
    logged_out: "ログアウトしました。",
    account_title: "アカウント",
    name: "氏名",
    role_label: "権限",
    role: |role| match role {
        Role::Employee => "社員",
        Role::Staff => "受付スタッフ",
        Role::Organizer => "主催者",
        Role::Admin => "管理者",
    },
    change_password: "パスワードの変更",
    current_password: "現在のパスワード",
    new_password: "新しいパスワード(10文字以上)",
    new_password_again: "新しいパスワード(確認)",
    password_changed: "パスワードを変更しました。",
    please_log_in: "ログインしてください",
    please_log_in_text: "このページにはあなた自身の情報が表示されます。続けるにはログインしてください。",
    not_for_your_role: "この権限では利用できません",
    not_for_your_role_text: "あなたのアカウントではこのページを開けません。必要な場合は管理者にご相談ください。",
    unavailable_title: "一時的に利用できません",
    unavailable_text: "現在ログイン状態を確認できません。1分ほどしてからもう一度お試しください。",
    something_wrong: "問題が発生しました",

    error_login_failed: "メールアドレスまたはパスワードが正しくありません。",
    error_login_required: "続けるにはログインしてください。",
    error_forbidden: "この操作は許可されていません。",
    error_not_found: "見つかりませんでした。削除された可能性があります。",
    error_unavailable: "サービスが一時的に利用できません。しばらくしてからもう一度お試しください。",
    error_internal: "サーバー側で問題が発生しました。もう一度お試しください。",
    error_network: "サーバーに接続できません。接続を確認してもう一度お試しください。",
    error_too_many_attempts: ja_wait,

    not_found_title: "ページが見つかりません",

    door: DoorTexts {
        title: "受付",
        count: |done, total| format!("受付済み {done} / {total}"),
        code_label: "チケットコード",
        check_in: "受付する",
        search_label: "氏名・メール・コードで検索",
        checked_in: "受付しました",
        already: "受付済みです",
        already_detail: |name, at, by| match by {
            Some(by) => format!("{name} · {at} に {by} が受付"),
            None => format!("{name} · {at} に受付"),
        },
        cancelled: "キャンセル済み — 席はありません",
        waitlisted: "キャンセル待ち — 席はありません",
        other_event: "別のイベントのチケットです",
        invalid: "無効なチケットです",
        undo: "受付を取り消す",
    },

    admin: AdminTexts {
        users_title: "ユーザー管理",
        search_users: "氏名またはメールアドレスで検索",
        search_users_placeholder: "氏名・メールアドレス",
        search: "検索",
        role_change: "権限",
        account_change: "アカウント",
        no_users_title: "ユーザーが見つかりません",
        no_users_text: "検索条件を変えるか、下のフォームで作成するか、CSVファイルを取り込んでください。",
        department: "部署",
        status: "状態",
        save: "保存",
        active: "有効",
        deactivated: "無効",
        deactivate: "無効にする",
        reactivate: "有効に戻す",
        confirm_deactivate: |email| {
            format!("{email} を無効にしますか?ログアウトされ、ログインできなくなります。")
        },
        role_of: |email| format!("{email} の権限"),
        create_title: "ユーザーの作成",
        language: "言語",
        initial_password: "初期パスワード(任意・10文字以上)",
        create_button: "作成する",
        created: "ユーザーを作成しました。",
        import_title: "社員の取り込み",
        import_hint: "UTF-8のCSVで、列は email, name, department, role です。既存の人は更新され、同じファイルを再度取り込んでも何も変わりません。",
        csv_file: "CSVファイル",
        import_button: "取り込む",
        last_import: |at| format!("前回の取り込み({at} UTC)"),
        import_summary: |created, updated, unchanged, rejected| {
            format!(
                "作成{created}件、更新{updated}件、変更なし{unchanged}件、取り込めなかった行{rejected}件。"
            )
        },
        rejected_line: |line, reason| format!("{line}行目:{reason}"),
        audit_title: "監査ログ",
        audit_empty_title: "まだ記録はありません",
        audit_empty_text: "ログイン、権限の変更、取り込み、イベントの編集がここに表示されます。",
        when_utc: "日時(UTC)",
        who: "実行者",
        what: "操作",
        target: "対象",
        details: "詳細",
        older_entries: "古い記録 →",
    },

    date_time: |at| {
        format!(
            "{}年{}月{}日({}) {}",
            at.year(),
            at.month(),
            at.day(),
            ja_weekday(at.weekday()),
            at.format("%H:%M")
        )
    },
    time: |at| at.format("%H:%M").to_string(),
    badge: |at| {
        (
            format!("{}月", at.month()),
            at.day().to_string(),
            ja_weekday(at.weekday()).to_string(),
        )
    },
};
