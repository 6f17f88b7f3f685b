//! Every refusal of the core's rules, in Japanese. English is the core's own
//! wording (`Reason`'s `Display`). The match is exhaustive: a new reason
//! without its Japanese text does not compile.

use tsudoi::surveys::{AnswerProblem, QuestionProblem};
use tsudoi::{Field, Reason};

/// The field's name inside a Japanese sentence.
pub fn field_ja(field: Field) -> &'static str {
    match field {
        Field::Email => "メールアドレス",
        Field::Name => "氏名",
        Field::Department => "部署",
        Field::Role => "役割",
        Field::Password => "パスワード",
        Field::CurrentPassword => "現在のパスワード",
        Field::NewPassword => "新しいパスワード",
        Field::RepeatPassword => "確認用のパスワード",
        Field::Title => "タイトル",
        Field::Description => "説明",
        Field::Place => "場所",
        Field::Category => "カテゴリー",
        Field::StartsAt => "開始日時",
        Field::EndsAt => "終了日時",
        Field::Capacity => "定員",
        Field::RegistrationOpensAt => "受付開始日時",
        Field::RegistrationClosesAt => "受付終了日時",
        Field::Search => "検索語",
        Field::Date => "日付",
        Field::File => "ファイル",
        Field::Language => "言語",
        Field::TicketCode => "チケットコード",
        Field::SurveyOpensAt => "開始日時",
        Field::OpenDays => "回答期間",
        Field::ReminderDays => "再案内の日数",
    }
}

pub fn japanese(reason: &Reason) -> String {
    use Reason::*;
    match reason {
        TooLong { field, max_chars } => {
            format!("{}は{max_chars}文字以内で入力してください。", field_ja(*field))
        }
        ControlCharacters { field } => format!(
            "{}には改行や制御文字を使えません。1行で入力してください。",
            field_ja(*field)
        ),
        Missing { field } => format!("{}を入力してください。", field_ja(*field)),
        Unknown { field } => format!("{}の値が正しくありません。", field_ja(*field)),
        NotADateTime { field } => format!(
            "{}は「2026-12-10 18:00」の形式で入力してください。",
            field_ja(*field)
        ),
        NotADate { text } => format!("「{text}」は日付ではありません（YYYY-MM-DD の形式）。"),
        NotAWholeNumber { field } => {
            format!("{}は整数で入力してください（例：30）。", field_ja(*field))
        }
        SearchTooLong { max_chars } => format!("検索語は{max_chars}文字以内にしてください。"),
        BrokenLink => "このページのリンクが正しくありません。".into(),
        IncompleteForm => "フォームの内容が不完全です。ページを再読み込みしてください。".into(),

        InvalidEmail { shown } => format!("「{shown}」は正しいメールアドレスではありません。"),
        PasswordTooShort { min_chars } => {
            format!("パスワードは{min_chars}文字以上にしてください。")
        }
        PasswordsDiffer => "新しいパスワードが一致しません。".into(),
        PasswordUnchanged => "新しいパスワードは現在のものと別にしてください。".into(),
        WrongCurrentPassword => "現在のパスワードが正しくありません。".into(),
        PasswordChangedMeanwhile => {
            "パスワードが別の場所で変更されました。もう一度ログインしてください。".into()
        }
        EmailTaken => "このメールアドレスのアカウントはすでにあります。".into(),
        LastActiveAdmin => {
            "最後の有効な管理者です。先に別の人を管理者にしてください。".into()
        }
        CannotDeactivateSelf => "自分のアカウントは無効にできません。".into(),
        CannotAnonymizeSelf => "自分のアカウントは匿名化できません。".into(),
        AnonymizeNotConfirmed => "元に戻せないことを確認するチェックを入れてください。".into(),
        PasswordLinkInvalid => "このリンクは有効期限が切れたか、すでに使われています。サインイン画面の「パスワードをお忘れの方」から新しいリンクを受け取ってください。".into(),
        NobodyChosen => "招待する人を1人以上選んでください。".into(),
        TooManyChosen { max } => format!("一度に招待できるのは{max}人までです。パスワード未設定の全員を招待することもできます。"),

        ImportHeaderMissing { found } => format!(
            "1行目に少なくとも「メールアドレス」と「氏名」（または email と name）の列名が必要です（任意：「部署」「権限」）。見つかった列名：{found}"
        ),
        ImportNotUtf8 => {
            "UTF-8 または Shift_JIS の CSV ではありません（Excel では「CSV UTF-8」で保存してください）。".into()
        }
        ImportUnclosedQuote { line } => format!(
            "{line}行目：引用符（\"）が閉じられていないため、以降の行が1つの項目になってしまいます。何も取り込んでいません。引用符を閉じてからもう一度アップロードしてください。"
        ),
        UploadMissing => "取り込む CSV ファイルを選んでください。".into(),
        UploadUnreadable => {
            "アップロードを読み取れませんでした。もう一度お試しください。".into()
        }
        UploadTooLarge { max_mb } => {
            format!("ファイルが{max_mb}MBを超えています。複数のファイルに分けてください。")
        }

        TitleMissing => "タイトルを日本語か英語で入力してください。".into(),
        EndsBeforeStart => "終了日時は開始日時より後にしてください。".into(),
        CapacityOutOfRange { max } => format!("定員は1から{max}の間で入力してください。"),
        RegistrationClosesBeforeOpening => {
            "受付終了日時は受付開始日時より後にしてください。".into()
        }
        RegistrationClosesAfterStart => {
            "受付終了日時はイベント開始日時までにしてください。".into()
        }
        RegistrationOpensAfterStart => {
            "受付開始日時はイベント開始日時より前にしてください。".into()
        }
        CapacityBelowSeatsTaken { taken } => format!(
            "すでに{taken}席が埋まっているため、定員をそれより少なくできません。先に登録を取り消してください。"
        ),
        EditingCancelledEvent => "中止したイベントは編集できません。".into(),
        EventChangedMeanwhile => {
            "このイベントは別の人が変更しました。再読み込みしてから編集してください。".into()
        }
        OnlyDraftsArePublished => "公開できるのは下書きのイベントだけです。".into(),
        EventAlreadyCancelled => "このイベントはすでに中止されています。".into(),
        EventIsOver => "終了したイベントは中止できません。".into(),
        DemoNeedsEmptyDatabase => {
            "データベースにすでにイベントがあります。デモデータは空のデータベースにだけ作成できます。"
                .into()
        }

        EventCancelled => "このイベントは中止されました。".into(),
        RegistrationNotOpenYet { opens_at } => format!(
            "このイベントの受付はまだ始まっていません。{}に始まります。",
            opens_at.format("%Y年%-m月%-d日 %H:%M")
        ),
        RegistrationClosed => "このイベントの受付は終了しました。".into(),
        RegistrationChangedMeanwhile => {
            "登録の状態が変わりました。もう一度お試しください。".into()
        }
        AlreadyCheckedIn => "このチケットはすでに受付に使われています。".into(),
        AlreadyCancelled => "この登録はすでにキャンセルされています。".into(),
        OnWaitlist => "この方はキャンセル待ちで、参加登録はされていません。".into(),
        CancellingAfterStart => {
            "このイベントはすでに始まっているため、キャンセルできません。".into()
        }
        RemovingAfterEnd => {
            "このイベントは終了しています。参加・不参加の記録はそのまま残ります。".into()
        }

        InvalidTicket => "有効な Tsudoi のチケットではありません。".into(),
        InvalidTicketCode => {
            "チケットコードは英数字8文字です（例：7K3M-Q9XD）。".into()
        }
        NoTicketOnWaitlist => "キャンセル待ちの間はチケットがありません。席が確保されると発行されます。".into(),
        NoTicketWhenCancelled => "この登録はキャンセルされたため、チケットはありません。".into(),
        NotCheckedIn => "この方はまだ受付されていません。".into(),
        ScanAgain => "登録の状態が変わり続けています。もう一度読み取ってください。".into(),
        TooManyScans { max } => format!("一度に送れる読み取りは{max}件までです。"),

        OnlyFailedMailIsRetried => "再送できるのは送信に失敗したメールだけです。".into(),

        SurveyQuestionCount { max } => {
            format!("アンケートには1問以上、{max}問までの質問が必要です。")
        }
        SurveyQuestionsInvalid { problems } => {
            format!("{}件の質問を確認してください。それぞれの質問に理由を表示しています。", problems.len())
        }
        SurveyOpenDaysOutOfRange { max } => {
            format!("回答期間は1日から{max}日までにしてください。")
        }
        SurveyReminderOutOfRange => {
            "再案内は、回答受付の開始から1日以上あと、締切より前にしてください。".into()
        }
        SurveyFixedByAnswers => "すでに回答があるため、質問の追加・削除、種類や選択肢の数の変更、匿名・記名の切り替えはできません（回答の意味が変わってしまうため）。文言の修正はできます。".into(),
        SurveyChangedMeanwhile => {
            "このアンケートは別の人が変更しました。再読み込みしてから編集してください。".into()
        }
        SurveyForCancelledEvent => "中止したイベントにはアンケートを作成できません。".into(),
        SurveyAnswersInvalid { problems } => {
            format!("{}件の回答を確認してください。それぞれの質問に理由を表示しています。", problems.len())
        }
        SurveyNotOpenYet { opens_at } => format!(
            "このアンケートはまだ始まっていません。{}に回答を受け付け始めます。",
            opens_at.format("%Y年%-m月%-d日 %H:%M")
        ),
        SurveyClosed => "このアンケートは締め切られました。回答は受け付けていません。".into(),
        SurveyOnlyForAttendees => "このアンケートは、イベント当日に受付を済ませた方にお願いしています。あなたの受付記録はありません。".into(),
        SurveyAnsweredAnonymously => "この匿名アンケートにはすでに回答済みです。匿名の回答はあなたと結び付けて保存していないため、変更できません。".into(),
    }
}

/// What is wrong with one answer, in Japanese, shown at its question.
pub fn answer_problem_ja(problem: AnswerProblem) -> String {
    match problem {
        AnswerProblem::Required => "この質問は回答が必要です。".into(),
        AnswerProblem::NotAnOption => "選択肢の中から選んでください。".into(),
        AnswerProblem::TooLong { max_chars } => format!("{max_chars}文字以内で入力してください。"),
        AnswerProblem::ControlCharacters => "表示できない文字が含まれています。".into(),
    }
}

/// What is wrong with one question of a survey being built, in Japanese.
pub fn question_problem_ja(problem: QuestionProblem) -> String {
    match problem {
        QuestionProblem::TextMissing => "質問文を日本語か英語で入力してください。".into(),
        QuestionProblem::TooFewChoices => "選択肢を2つ以上入力してください。".into(),
        QuestionProblem::TooManyChoices { max } => format!("選択肢は{max}個までです。"),
        QuestionProblem::ChoiceTextMissing => "空の選択肢があります。文言を入力するか削除してください。".into(),
        QuestionProblem::TooLong { max_chars } => format!("文言は{max_chars}文字以内にしてください。"),
        QuestionProblem::ControlCharacters => "文言は改行や制御文字を含まない1行にしてください。".into(),
        QuestionProblem::ChangedAfterAnswers => "回答があるため、この質問は文言だけ変更できます（追加や種類・選択肢の数の変更はできません）。".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each reason, so the test below walks every variant. A new
    /// variant breaks the exhaustive match in `every_reason` until it is
    /// listed here too.
    fn every_reason() -> Vec<Reason> {
        use Reason::*;
        let opens_at = chrono::DateTime::parse_from_rfc3339("2026-12-10T09:00:00+09:00").unwrap();
        let all = vec![
            TooLong {
                field: Field::Title,
                max_chars: 200,
            },
            ControlCharacters { field: Field::Name },
            Missing {
                field: Field::StartsAt,
            },
            Unknown {
                field: Field::Category,
            },
            NotADateTime {
                field: Field::EndsAt,
            },
            NotADate { text: "x".into() },
            NotAWholeNumber {
                field: Field::Capacity,
            },
            SearchTooLong { max_chars: 100 },
            BrokenLink,
            IncompleteForm,
            InvalidEmail { shown: "a".into() },
            PasswordTooShort { min_chars: 10 },
            PasswordsDiffer,
            PasswordUnchanged,
            WrongCurrentPassword,
            PasswordChangedMeanwhile,
            EmailTaken,
            LastActiveAdmin,
            CannotDeactivateSelf,
            CannotAnonymizeSelf,
            AnonymizeNotConfirmed,
            PasswordLinkInvalid,
            NobodyChosen,
            TooManyChosen { max: 200 },
            ImportHeaderMissing { found: "a".into() },
            ImportNotUtf8,
            ImportUnclosedQuote { line: 3 },
            UploadMissing,
            UploadUnreadable,
            UploadTooLarge { max_mb: 5 },
            TitleMissing,
            EndsBeforeStart,
            CapacityOutOfRange { max: 100_000 },
            RegistrationClosesBeforeOpening,
            RegistrationClosesAfterStart,
            RegistrationOpensAfterStart,
            CapacityBelowSeatsTaken { taken: 3 },
            EditingCancelledEvent,
            EventChangedMeanwhile,
            OnlyDraftsArePublished,
            EventAlreadyCancelled,
            EventIsOver,
            DemoNeedsEmptyDatabase,
            EventCancelled,
            RegistrationNotOpenYet { opens_at },
            RegistrationClosed,
            RegistrationChangedMeanwhile,
            AlreadyCheckedIn,
            AlreadyCancelled,
            OnWaitlist,
            CancellingAfterStart,
            RemovingAfterEnd,
            InvalidTicket,
            InvalidTicketCode,
            NoTicketOnWaitlist,
            NoTicketWhenCancelled,
            NotCheckedIn,
            ScanAgain,
            TooManyScans { max: 1000 },
            OnlyFailedMailIsRetried,
            SurveyQuestionCount { max: 30 },
            SurveyQuestionsInvalid {
                problems: vec![(1, QuestionProblem::TextMissing)],
            },
            SurveyOpenDaysOutOfRange { max: 90 },
            SurveyReminderOutOfRange,
            SurveyFixedByAnswers,
            SurveyChangedMeanwhile,
            SurveyForCancelledEvent,
            SurveyAnswersInvalid {
                problems: vec![("q1".into(), AnswerProblem::Required)],
            },
            SurveyNotOpenYet { opens_at },
            SurveyClosed,
            SurveyOnlyForAttendees,
            SurveyAnsweredAnonymously,
        ];
        // Compile-time reminder: this match must name every variant.
        for reason in &all {
            match reason {
                TooLong { .. }
                | ControlCharacters { .. }
                | Missing { .. }
                | Unknown { .. }
                | NotADateTime { .. }
                | NotADate { .. }
                | NotAWholeNumber { .. }
                | SearchTooLong { .. }
                | BrokenLink
                | IncompleteForm
                | InvalidEmail { .. }
                | PasswordTooShort { .. }
                | PasswordsDiffer
                | PasswordUnchanged
                | WrongCurrentPassword
                | PasswordChangedMeanwhile
                | EmailTaken
                | LastActiveAdmin
                | CannotDeactivateSelf
                | CannotAnonymizeSelf
                | AnonymizeNotConfirmed
                | PasswordLinkInvalid
                | NobodyChosen
                | TooManyChosen { .. }
                | ImportHeaderMissing { .. }
                | ImportNotUtf8
                | ImportUnclosedQuote { .. }
                | UploadMissing
                | UploadUnreadable
                | UploadTooLarge { .. }
                | TitleMissing
                | EndsBeforeStart
                | CapacityOutOfRange { .. }
                | RegistrationClosesBeforeOpening
                | RegistrationClosesAfterStart
                | RegistrationOpensAfterStart
                | CapacityBelowSeatsTaken { .. }
                | EditingCancelledEvent
                | EventChangedMeanwhile
                | OnlyDraftsArePublished
                | EventAlreadyCancelled
                | EventIsOver
                | DemoNeedsEmptyDatabase
                | EventCancelled
                | RegistrationNotOpenYet { .. }
                | RegistrationClosed
                | RegistrationChangedMeanwhile
                | AlreadyCheckedIn
                | AlreadyCancelled
                | OnWaitlist
                | CancellingAfterStart
                | RemovingAfterEnd
                | InvalidTicket
                | InvalidTicketCode
                | NoTicketOnWaitlist
                | NoTicketWhenCancelled
                | NotCheckedIn
                | ScanAgain
                | TooManyScans { .. }
                | OnlyFailedMailIsRetried
                | SurveyQuestionCount { .. }
                | SurveyQuestionsInvalid { .. }
                | SurveyOpenDaysOutOfRange { .. }
                | SurveyReminderOutOfRange
                | SurveyFixedByAnswers
                | SurveyChangedMeanwhile
                | SurveyForCancelledEvent
                | SurveyAnswersInvalid { .. }
                | SurveyNotOpenYet { .. }
                | SurveyClosed
                | SurveyOnlyForAttendees
                | SurveyAnsweredAnonymously => {}
            }
        }
        all
    }

    #[test]
    fn every_reason_has_a_text_in_both_languages() {
        let all = every_reason();
        assert_eq!(all.len(), 72);
        for reason in all {
            let japanese = japanese(&reason);
            let english = reason.to_string();
            assert!(!japanese.trim().is_empty(), "{reason:?}");
            assert!(!english.trim().is_empty(), "{reason:?}");
            assert!(
                japanese
                    .chars()
                    .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "{reason:?}: no kana in {japanese}"
            );
            assert!(
                english.is_ascii() || english.contains('“'),
                "{reason:?}: {english}"
            );
        }
    }

    #[test]
    fn fields_have_japanese_names() {
        assert_eq!(field_ja(Field::Capacity), "定員");
        assert_eq!(
            japanese(&Reason::TooLong {
                field: Field::Title,
                max_chars: 200
            }),
            "タイトルは200文字以内で入力してください。"
        );
    }
}
