//! Control characters made visible. A target or detail may carry text from outside (an
//! uploaded file's name, an error quoting it); printed raw, a newline forges a second
//! record on a terminal, an escape sequence recolours or rewrites the screen, and a bidi
//! control reorders what is read. The log escapes them when it records, and `activity`
//! again when it prints (records written before this, or by hand).

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is shown escaped: C0, DEL, C1, and the bidi embeddings, overrides, isolates
/// and marks.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `\n`, `\r` and `\t` as those two characters, every other control as `\u{…}` (its hex
/// code, as Rust writes it): `a\nb\u{1b}[31m`. Text without controls is returned as is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_and_bidi_are_escaped_and_other_text_kept() {
        assert_eq!(
            escape_controls("bad\n\x1b[31mred\r\t\0\x7f\u{85}.dump"),
            "bad\\n\\u{1b}[31mred\\r\\t\\u{0}\\u{7f}\\u{85}.dump"
        );
        assert_eq!(
            escape_controls("a\u{202e}b\u{2066}c\u{200f}"),
            "a\\u{202e}b\\u{2066}c\\u{200f}"
        );
        assert_eq!(escape_controls("holomush_é ü.dump"), "holomush_é ü.dump");
    }
}
