//! Characters that do not show as themselves: how a message names them,
//! and which of them a record's text may not hold.

/// Bidirectional embeddings, overrides and isolates: they reorder the text
/// around them as it is shown, so a printed report would read otherwise
/// than the record it was made from.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters a reader cannot see or tell apart where they are printed.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
        )
}

/// A character as a message names it: itself in quotes when it prints, else
/// its code point (`U+0007`), which a user can look up and an empty pair of
/// quotes would hide.
pub fn quoted_char(c: char) -> String {
    if is_invisible(c) {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("“{c}”")
    }
}

/// The first character a record's text may not hold: a control character
/// or a direction control. Tabs and line breaks stay: free text such as the
/// facts of a case is written in paragraphs, and reports print them as a
/// space and a new line.
pub fn first_forbidden_in_record_text(text: &str) -> Option<char> {
    text.chars()
        .find(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_bidi_control(*c))
}

/// Whether a name can be printed as one line as it is: no control
/// characters (not even a line break) and no direction controls.
pub fn is_one_printable_line(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// The body without a leading UTF-8 byte-order mark, which Windows tools write before JSON and
/// CSV alike and which carries nothing.
pub fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_characters_are_shown_and_the_rest_named_by_code_point() {
        assert_eq!(quoted_char('—'), "“—”");
        assert_eq!(quoted_char('<'), "“<”");
        assert_eq!(quoted_char('罚'), "“罚”");
        assert_eq!(quoted_char('\u{7}'), "U+0007");
        assert_eq!(quoted_char('\u{202E}'), "U+202E");
        assert_eq!(quoted_char('\u{200B}'), "U+200B");
        assert_eq!(quoted_char(' '), "U+0020");
        assert_eq!(quoted_char('\u{3000}'), "U+3000");
    }

    #[test]
    fn record_text_keeps_paragraphs_but_not_controls_or_direction_overrides() {
        assert_eq!(
            first_forbidden_in_record_text("事实一\r\n事实二\t补充"),
            None
        );
        for bad in [
            '\0', '\u{1B}', '\u{7F}', '\u{85}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            let text = format!("FUZZ{bad}X");
            assert_eq!(first_forbidden_in_record_text(&text), Some(bad), "{bad:?}");
        }
    }
}
