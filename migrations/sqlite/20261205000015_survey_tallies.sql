-- Running counts of each survey's answers per department, question and
-- value, kept by the transaction that stores or changes an answer, so the
-- results read a few rows instead of every answer's JSON (see
-- src/surveys/tallies.rs). `value` -1 counts the answers to the question
-- whatever their value; `department_id` 0 stands for "no department" so the
-- key holds without NULLs.
CREATE TABLE survey_tallies (
    survey_id      INTEGER NOT NULL REFERENCES surveys(id),
    question_key   TEXT NOT NULL,
    value          INTEGER NOT NULL,
    department_id  INTEGER NOT NULL,
    answers        INTEGER NOT NULL,
    PRIMARY KEY (survey_id, question_key, value, department_id)
) WITHOUT ROWID;

INSERT INTO survey_tallies (survey_id, department_id, question_key, value, answers)
SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, -1, COUNT(*)
  FROM survey_responses r CROSS JOIN json_each(r.answers) a
 GROUP BY 1, 2, 3
UNION ALL
SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, v.value, COUNT(*)
  FROM survey_responses r CROSS JOIN json_each(r.answers) a
 CROSS JOIN json_each(CASE a.type WHEN 'array' THEN a.value
        WHEN 'integer' THEN json_array(a.value) ELSE '[]' END) v
 GROUP BY 1, 2, 3, 4;

