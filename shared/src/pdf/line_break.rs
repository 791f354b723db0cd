//! Line breaking for report text: where a paragraph may break, measured
//! with the embedded fonts.

use super::font::{FontId, Fonts};

pub(super) fn wrap(fonts: &Fonts, font: FontId, size: f32, text: &str, width: f32) -> Vec<String> {
    wrap_indented(fonts, font, size, text, width, 0.0)
}

/// Breaks `text` into lines no wider than `width` (the first `indent`
/// narrower): between any two CJK characters, at spaces between Latin words,
/// and inside a Latin word only when it alone is wider than a line. Closing
/// punctuation never starts a line; it may overhang instead.
pub(super) fn wrap_indented(
    fonts: &Fonts,
    font: FontId,
    size: f32,
    text: &str,
    width: f32,
    indent: f32,
) -> Vec<String> {
    // Tabs read as spaces; other control characters have no glyph.
    let text: String = text
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        let limit = |lines: &Vec<String>| {
            if lines.is_empty() {
                width - indent
            } else {
                width
            }
        };
        for token in tokens(paragraph) {
            if token == " " && line.is_empty() {
                continue;
            }
            let token_width = fonts.width(font, token, size);
            if line_width + token_width <= limit(&lines) || is_closing_punctuation(token) {
                line.push_str(token);
                line_width += token_width;
                continue;
            }
            if token == " " {
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
                line_width = 0.0;
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
            }
            line.clear();
            line_width = 0.0;
            for ch in token.chars() {
                let ch_width = fonts.advance(font, ch) * size / 1000.0;
                if line_width + ch_width > limit(&lines) && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(ch);
                line_width += ch_width;
            }
        }
        let line = line.trim_end();
        if !line.is_empty() || lines.is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// Wrapping units: one CJK character, one space, or a run of other characters.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let mut chars = rest.char_indices();
        let (_, first) = chars.next()?;
        let end = if is_cjk(first) || first == ' ' {
            first.len_utf8()
        } else {
            chars
                .find(|(_, c)| is_cjk(*c) || *c == ' ')
                .map_or(rest.len(), |(i, _)| i)
        };
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

fn is_cjk(ch: char) -> bool {
    u32::from(ch) >= 0x2E80
}

fn is_closing_punctuation(token: &str) -> bool {
    let mut chars = token.chars();
    matches!(
        (chars.next(), chars.next()),
        (
            Some(
                '，' | '。'
                    | '、'
                    | '；'
                    | '：'
                    | '！'
                    | '？'
                    | '）'
                    | '》'
                    | '」'
                    | '』'
                    | '】'
                    | '〕'
                    | '”'
                    | '’'
            ),
            None
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load().expect("embedded font parses")
    }

    #[test]
    fn chinese_wraps_between_any_characters_within_the_width() {
        let fonts = fonts();
        let text =
            "经查，当事人未按照规定采取有效措施防治扬尘污染，物料堆场未进行覆盖，运输车辆未密闭。"
                .repeat(3);
        let lines = wrap(&fonts, FontId::Sans, 10.0, &text, 100.0);
        assert!(lines.len() > 5);
        assert_eq!(lines.concat(), text);
        for line in &lines[..lines.len() - 1] {
            let width = fonts.width(FontId::Sans, line, 10.0);
            let hanging = line.ends_with(['，', '。']);
            assert!(width <= 100.0 || hanging, "{line:?} is {width} wide");
            assert!(
                !line.starts_with(['，', '。']),
                "{line:?} starts with closing punctuation"
            );
        }
    }

    #[test]
    fn latin_breaks_at_spaces_and_splits_only_overlong_words() {
        let fonts = fonts();
        let lines = wrap(
            &fonts,
            FontId::Sans,
            10.0,
            "inspection report attached as Annex A",
            80.0,
        );
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), "inspection report attached as Annex A");
        let url = "https://credit.example.invalid/#code=Kd7m-Q2eW-h9Rt-ZbH4";
        let lines = wrap(&fonts, FontId::Sans, 10.0, url, 80.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), url);
    }

    #[test]
    fn hard_breaks_and_control_characters_are_handled() {
        let fonts = fonts();
        assert_eq!(
            wrap(&fonts, FontId::Sans, 10.0, "甲\n乙\r\t丙\u{7}", 300.0),
            ["甲", "乙 丙"]
        );
        assert_eq!(wrap(&fonts, FontId::Sans, 10.0, "", 300.0), [""]);
    }
}
