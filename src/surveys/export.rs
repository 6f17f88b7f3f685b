//! The answers as a CSV file: one line per response, one column per
//! question, with a byte order mark so Excel opens Japanese correctly. An
//! anonymous survey's file has no name or e-mail column (the answers have
//! none to give). Streamed in one ordered pass like the attendee export.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::Stream;
use sqlx::types::Json;

use super::{Answer, Answers, Question, Survey};
use crate::model::Lang;
use crate::storage::{Database, on_pool};
use crate::{Result, csv_export};

/// Lines written per chunk.
const CHUNK_ROWS: usize = 500;

#[derive(sqlx::FromRow)]
struct ResponseRow {
    id: i64,
    submitted_at: DateTime<Utc>,
    answers: Json<Answers>,
    name: Option<String>,
    email: Option<String>,
    department: Option<String>,
}

const STATEMENT: &str = "SELECT r.id, r.submitted_at, r.answers, u.display_name AS name, u.email,
        d.name AS department
 FROM survey_responses r
 LEFT JOIN users u ON u.id = r.user_id
 LEFT JOIN departments d ON d.id = r.department_id
 WHERE r.survey_id = $1
 ORDER BY r.id";

fn header(survey: &Survey, lang: Lang) -> Vec<String> {
    let mut header: Vec<String> = match lang {
        Lang::Ja => vec!["回答ID".into(), "回答日時".into()],
        Lang::En => vec!["Response".into(), "Submitted at".into()],
    };
    if !survey.settings.anonymous {
        header.extend(match lang {
            Lang::Ja => ["氏名", "メールアドレス"].map(String::from),
            Lang::En => ["Name", "E-mail"].map(String::from),
        });
    }
    header.push(match lang {
        Lang::Ja => "部署".into(),
        Lang::En => "Department".into(),
    });
    for (index, question) in survey.questions.iter().enumerate() {
        header.push(format!("{}. {}", index + 1, question.text.read(lang)));
    }
    header
}

/// An answer as a cell: the number of a scale, the wording of the chosen
/// choices (" / " between several), or the text.
fn answer_cell(question: &Question, answer: Option<&Answer>, lang: Lang) -> String {
    match answer {
        None => String::new(),
        Some(Answer::Scale(n)) => n.to_string(),
        Some(Answer::Choices(chosen)) => chosen
            .iter()
            .filter_map(|&i| question.choices.get(i as usize))
            .map(|choice| choice.read(lang))
            .collect::<Vec<_>>()
            .join(" / "),
        Some(Answer::Text(text)) => text.clone(),
    }
}

fn fields(survey: &Survey, row: &ResponseRow, tz: Tz, lang: Lang) -> Vec<String> {
    let mut fields = vec![
        row.id.to_string(),
        // An anonymous answer keeps its day only.
        if survey.settings.anonymous {
            row.submitted_at
                .with_timezone(&tz)
                .format("%Y-%m-%d")
                .to_string()
        } else {
            row.submitted_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    ];
    if !survey.settings.anonymous {
        fields.push(row.name.clone().unwrap_or_default());
        fields.push(row.email.clone().unwrap_or_default());
    }
    fields.push(row.department.clone().unwrap_or_default());
    for question in &survey.questions {
        fields.push(answer_cell(
            question,
            row.answers.0.get(&question.key),
            lang,
        ));
    }
    fields
}

/// The file as a stream of chunks: the byte order mark and the header
/// first, then the responses in the order they came.
pub fn export_csv(
    db: Database,
    survey: Survey,
    tz: Tz,
    lang: Lang,
) -> impl Stream<Item = Result<Vec<u8>>> + Send + 'static {
    let (chunks, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>>>(2);
    tokio::spawn(async move {
        let mut head = "\u{FEFF}".as_bytes().to_vec();
        let written = csv_export::write_row(&mut head, header(&survey, lang)).map(|()| head);
        let failed = written.is_err();
        if chunks.send(written).await.is_err() || failed {
            return;
        }
        let outcome: Result<()> = on_pool!(db, |pool| {
            use futures_util::StreamExt;
            let rows = sqlx::query_as::<_, ResponseRow>(STATEMENT)
                .bind(survey.id)
                .fetch(pool);
            let mut rows = std::pin::pin!(rows);
            let mut chunk = Vec::new();
            let mut in_chunk = 0;
            let mut outcome = Ok(());
            while let Some(row) = rows.next().await {
                let row = match row {
                    Ok(row) => row,
                    Err(err) => {
                        outcome = Err(err.into());
                        break;
                    }
                };
                if let Err(err) = csv_export::write_row(&mut chunk, fields(&survey, &row, tz, lang))
                {
                    outcome = Err(err);
                    break;
                }
                in_chunk += 1;
                if in_chunk == CHUNK_ROWS {
                    in_chunk = 0;
                    if chunks.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                        return;
                    }
                }
            }
            if outcome.is_ok() && !chunk.is_empty() {
                let _ = chunks.send(Ok(chunk)).await;
            }
            outcome
        });
        if let Err(err) = outcome {
            let _ = chunks.send(Err(err)).await;
        }
    });
    // Fused: the HTTP compression layer may poll once more after the end.
    use futures_util::StreamExt;
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    })
    .fuse()
}
