//! Running counts of a survey's answers, per department, question and value,
//! kept by the same transaction that stores or changes an answer.
//!
//! The results read these few dozen rows instead of opening every answer's
//! JSON: counting 5,000 responses × 10 questions from the JSON took ~55 ms on
//! PostgreSQL, the tallies take well under one. The JSON answers stay the
//! record; [`recount`] rebuilds a survey's tallies from them (and the tests
//! check that both agree after answers and changes).
//!
//! A tally's `value` is a scale value or a choice's index; [`ANSWERED`]
//! counts the people who answered the question at all, text included. A
//! response without a department is counted under [`NO_DEPARTMENT`], so the
//! four columns form a key on both backends (NULLs would not).

use std::collections::BTreeMap;

use super::{Answer, Answers};
use crate::Result;
use crate::storage::{Database, UnitOfWork, dialect_sql, on_tx};

/// The `value` of the tally that counts answers to a question, whatever
/// their value.
pub const ANSWERED: i64 = -1;

/// The `department_id` of tallies for responses without a department.
pub const NO_DEPARTMENT: i64 = 0;

/// How one tally changes: `(question key, value)` and by how much.
pub type TallyChanges = BTreeMap<(String, i64), i64>;

/// What replacing `before` (none for a first answer) by `after` does to
/// the tallies; counts that cancel out are left out.
pub fn changes(before: Option<&Answers>, after: &Answers) -> TallyChanges {
    let mut changes = TallyChanges::new();
    let mut count = |answers: &Answers, by: i64| {
        for (key, answer) in answers {
            *changes.entry((key.clone(), ANSWERED)).or_default() += by;
            let values: Vec<i64> = match answer {
                Answer::Scale(value) => vec![*value],
                Answer::Choices(choices) => choices.iter().map(|&c| i64::from(c)).collect(),
                Answer::Text(_) => vec![],
            };
            for value in values {
                *changes.entry((key.clone(), value)).or_default() += by;
            }
        }
    };
    if let Some(before) = before {
        count(before, -1);
    }
    count(after, 1);
    changes.retain(|_, by| *by != 0);
    changes
}

/// Applies `changes` to the tallies of the survey's department, in the
/// caller's transaction: one statement, rows in key order.
pub(crate) async fn apply(
    uow: &mut UnitOfWork<'_>,
    survey_id: i64,
    department_id: Option<i64>,
    changes: &TallyChanges,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..changes.len())
        .map(|n| format!("($1, $2, ${}, ${}, ${})", 3 * n + 3, 3 * n + 4, 3 * n + 5))
        .collect();
    let sql = format!(
        "INSERT INTO survey_tallies (survey_id, department_id, question_key, value, answers)
         VALUES {}
         ON CONFLICT (survey_id, question_key, value, department_id)
         DO UPDATE SET answers = survey_tallies.answers + excluded.answers",
        rows.join(", ")
    );
    let department = department_id.unwrap_or(NO_DEPARTMENT);
    on_tx!(uow, |conn| {
        // The text depends on the number of rows: not worth a prepared
        // statement on every connection.
        let mut query = sqlx::query(&sql)
            .persistent(false)
            .bind(survey_id)
            .bind(department);
        for ((key, value), by) in changes {
            query = query.bind(key).bind(*value).bind(*by);
        }
        query.execute(&mut *conn).await?;
    });
    Ok(())
}

/// Rebuilds the survey's tallies from its stored answers, in one
/// transaction.
pub async fn recount(db: &Database, survey_id: i64) -> Result<()> {
    let mut uow = db.begin_write().await?;
    on_tx!(&mut uow, |conn| sqlx::query(
        "DELETE FROM survey_tallies WHERE survey_id = $1"
    )
    .bind(survey_id)
    .execute(&mut *conn)
    .await?
    .rows_affected());
    let sql = recount_sql(db.backend());
    on_tx!(&mut uow, |conn| sqlx::query(sql)
        .bind(survey_id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    uow.commit().await?;
    Ok(())
}

fn recount_sql(backend: crate::storage::Backend) -> &'static str {
    dialect_sql!(
        backend,
        "INSERT INTO survey_tallies (survey_id, department_id, question_key, value, answers)
         SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, -1, COUNT(*)
           FROM survey_responses r CROSS JOIN ",
        [json_entries "r.answers", "a"],
        " WHERE r.survey_id = $1 GROUP BY r.survey_id, COALESCE(r.department_id, 0), a.key
         UNION ALL
         SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, ",
        [json_number "v"],
        ", COUNT(*) FROM survey_responses r CROSS JOIN ",
        [json_entries "r.answers", "a"],
        " CROSS JOIN ",
        [json_numbers_in "a"],
        " v WHERE r.survey_id = $1 GROUP BY 1, 2, 3, 4"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, Answer)]) -> Answers {
        pairs
            .iter()
            .map(|(k, a)| ((*k).to_owned(), a.clone()))
            .collect()
    }

    #[test]
    fn a_first_answer_counts_each_question_and_each_value() {
        let after = answers(&[
            ("q1", Answer::Scale(4)),
            ("q2", Answer::Choices(vec![0, 2])),
            ("q3", Answer::Text("良かった".into())),
        ]);
        let got: Vec<_> = changes(None, &after).into_iter().collect();
        assert_eq!(
            got,
            vec![
                (("q1".into(), ANSWERED), 1),
                (("q1".into(), 4), 1),
                (("q2".into(), ANSWERED), 1),
                (("q2".into(), 0), 1),
                (("q2".into(), 2), 1),
                (("q3".into(), ANSWERED), 1),
            ]
        );
    }

    #[test]
    fn a_changed_answer_moves_only_what_changed() {
        let before = answers(&[
            ("q1", Answer::Scale(4)),
            ("q2", Answer::Choices(vec![0, 2])),
            ("q3", Answer::Text("良かった".into())),
        ]);
        let after = answers(&[
            ("q1", Answer::Scale(5)),
            ("q2", Answer::Choices(vec![2, 3])),
            ("q3", Answer::Text("とても良かった".into())),
        ]);
        let got: Vec<_> = changes(Some(&before), &after).into_iter().collect();
        assert_eq!(
            got,
            vec![
                (("q1".into(), 4), -1),
                (("q1".into(), 5), 1),
                (("q2".into(), 0), -1),
                (("q2".into(), 3), 1),
            ]
        );
        // An optional question left empty the second time is no longer answered.
        let fewer = answers(&[
            ("q1", Answer::Scale(4)),
            ("q2", Answer::Choices(vec![0, 2])),
        ]);
        let got: Vec<_> = changes(Some(&before), &fewer).into_iter().collect();
        assert_eq!(got, vec![(("q3".into(), ANSWERED), -1)]);
    }
}
