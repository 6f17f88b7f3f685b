//! The limits every piece of text a person types must keep before it is
//! stored: a length, and no characters that cannot be shown.
//!
//! Control characters are refused because they do harm downstream: a NUL is
//! rejected by PostgreSQL mid-statement, a line break in a title would end a
//! mail header, and a name with a line break breaks the CSV and the door
//! list. Multi-line fields (descriptions) keep their line breaks and tabs.

use crate::reason::{Field, Reason};
use crate::{Error, Result};

/// Whether a field may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Several,
}

/// Refuses `value` when it is longer than `max_chars` or holds a character
/// that cannot be shown.
pub fn check(field: Field, value: &str, max_chars: usize, lines: Lines) -> Result<()> {
    let allowed = |c: char| lines == Lines::Several && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Error::Invalid(Reason::ControlCharacters { field }));
    }
    if value.chars().count() > max_chars {
        return Err(Error::Invalid(Reason::TooLong {
            field,
            max_chars: u32::try_from(max_chars).unwrap_or(u32::MAX),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_control_characters_are_limited() {
        assert!(check(Field::Name, "佐藤 花子", 100, Lines::One).is_ok());
        assert!(check(Field::Name, &"あ".repeat(100), 100, Lines::One).is_ok());
        assert_eq!(
            check(Field::Name, &"あ".repeat(101), 100, Lines::One),
            Err(Error::Invalid(Reason::TooLong {
                field: Field::Name,
                max_chars: 100
            }))
        );
        for bad in ["a\nb", "a\rb", "a\0b", "a\tb", "a\u{7f}b", "a\u{1b}[31mb"] {
            assert!(check(Field::Name, bad, 100, Lines::One).is_err(), "{bad:?}");
        }
        let description = "line one\r\nline two\tend";
        assert!(check(Field::Description, description, 100, Lines::Several).is_ok());
        assert!(check(Field::Description, "nul\0", 100, Lines::Several).is_err());
    }
}
