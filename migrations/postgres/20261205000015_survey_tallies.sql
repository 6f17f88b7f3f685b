-- Running counts of each survey's answers per department, question and
-- value, kept by the transaction that stores or changes an answer, so the
-- results read a few rows instead of every answer's JSON (see
-- src/surveys/tallies.rs). `value` -1 counts the answers to the question
-- whatever their value; `department_id` 0 stands for "no department" so the
-- key holds without NULLs.
CREATE TABLE survey_tallies (
    survey_id      BIGINT NOT NULL REFERENCES surveys(id),
    question_key   TEXT NOT NULL,
    value          BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    answers        BIGINT NOT NULL,
    PRIMARY KEY (survey_id, question_key, value, department_id)
);

INSERT INTO survey_tallies (survey_id, department_id, question_key, value, answers)
SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, -1, COUNT(*)
  FROM survey_responses r CROSS JOIN jsonb_each(r.answers) a
 GROUP BY 1, 2, 3
UNION ALL
SELECT r.survey_id, COALESCE(r.department_id, 0), a.key, CAST(v.value #>> '{}' AS BIGINT), COUNT(*)
  FROM survey_responses r CROSS JOIN jsonb_each(r.answers) a
 CROSS JOIN jsonb_array_elements(CASE jsonb_typeof(a.value)
        WHEN 'array' THEN a.value WHEN 'number' THEN jsonb_build_array(a.value)
        ELSE '[]'::jsonb END) v
 GROUP BY 1, 2, 3, 4;

-- The newest answers first, ties by id, straight from the index.
DROP INDEX survey_responses_submitted;
CREATE INDEX survey_responses_submitted ON survey_responses (survey_id, submitted_at, id);
