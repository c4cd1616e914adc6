//! goose v3.27.3's SQL file parser (`internal/sqlparser/parser.go`), ported line for line:
//! statements end with `;` at a line's end (a `--` comment after it is allowed), except between
//! `-- +goose StatementBegin` and `-- +goose StatementEnd`; annotations are matched without
//! regard to case (`-- +goose up`, `-- +goose statementBegin`); `-- +goose NO TRANSACTION`
//! anywhere runs the file outside a transaction; `-- +goose ENVSUB ON` / `OFF` switch
//! [`super::interpolate`] on and off for the lines that follow. The error texts are goose's,
//! and so are its quirks (an empty `StatementBegin`/`End` pair swallows the next line).

use super::interpolate::{self, Env};
use crate::model::Direction;

const SEE: &str = "see https://github.com/pressly/goose#sql-migrations";

/// `bufio.Scanner`'s limit as goose sets it: no line may reach 4 MiB.
const SCAN_BUF_SIZE: usize = 4 * 1024 * 1024;

/// The parser's states, numbered as goose numbers them (its errors print the number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start = 0,
    Up = 1,
    BeginUp = 2,
    EndUp = 3,
    Down = 4,
    BeginDown = 5,
    EndDown = 6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Annotation {
    Up,
    Down,
    StatementBegin,
    StatementEnd,
    NoTransaction,
    EnvsubOn,
    EnvsubOff,
}

const ANNOTATIONS: [(&str, Annotation); 7] = [
    ("Up", Annotation::Up),
    ("Down", Annotation::Down),
    ("StatementBegin", Annotation::StatementBegin),
    ("StatementEnd", Annotation::StatementEnd),
    ("NO TRANSACTION", Annotation::NoTransaction),
    ("ENVSUB ON", Annotation::EnvsubOn),
    ("ENVSUB OFF", Annotation::EnvsubOff),
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub use_tx: bool,
}

/// Both directions of one file, as goose's `ParseAllFromFS` gives them, with `ENVSUB` reading
/// this process's environment (goose reads `os.LookupEnv`: the console's environment is the one
/// the operator started it with).
pub fn parse_all(body: &str) -> Result<Parsed, String> {
    parse_all_with(body, &interpolate::process_env)
}

/// [`parse_all`] with the environment given. goose parses the two directions at once and
/// reports the first error; when both fail, the up direction's is the one shown here.
pub fn parse_all_with(body: &str, env: Env) -> Result<Parsed, String> {
    let (up, use_tx) = parse(body, Direction::Up, env)?;
    let (down, _) = parse(body, Direction::Down, env)?;
    Ok(Parsed { up, down, use_tx })
}

/// `ParseSQLMigration`: the statements of one direction and whether they run in a transaction.
pub fn parse(body: &str, direction: Direction, env: Env) -> Result<(Vec<String>, bool), String> {
    let mut state = State::Start;
    let mut use_tx = true;
    let mut use_envsub = false;
    let mut stmts = Vec::new();
    let mut buf = String::new();
    for line in scan_lines(body) {
        let line = line?;
        if state == State::Start && line.trim().is_empty() {
            continue;
        }
        if line.trim().starts_with("--") && line.contains("+goose") {
            let cmd = extract_annotation(line)
                .map_err(|e| format!("failed to parse annotation line {}: {e}", go_quote(line)))?;
            match cmd {
                Annotation::Up => {
                    if state != State::Start {
                        return Err(format!(
                            "duplicate '-- +goose Up' annotations; stateMachine={}, {SEE}",
                            state as u8
                        ));
                    }
                    state = State::Up;
                    continue;
                }
                Annotation::Down => {
                    if !matches!(state, State::Up | State::EndUp) {
                        return Err(format!(
                            "must start with '-- +goose Up' annotation, stateMachine={}, {SEE}",
                            state as u8
                        ));
                    }
                    let remaining = buf.trim();
                    if !remaining.is_empty() {
                        return Err(missing_semicolon(state, direction, remaining));
                    }
                    state = State::Down;
                    continue;
                }
                Annotation::StatementBegin => {
                    state = match state {
                        State::Up | State::EndUp => State::BeginUp,
                        State::Down | State::EndDown => State::BeginDown,
                        _ => return Err(format!("'-- +goose StatementBegin' must be defined after '-- +goose Up' or '-- +goose Down' annotation, stateMachine={}, {SEE}", state as u8)),
                    };
                    continue;
                }
                // No `continue`: the line goes on to close the statement.
                Annotation::StatementEnd => {
                    state = match state {
                        State::BeginUp => State::EndUp,
                        State::BeginDown => State::EndDown,
                        _ => return Err(format!("'-- +goose StatementEnd' must be defined after '-- +goose StatementBegin', {SEE}")),
                    };
                }
                Annotation::NoTransaction => {
                    use_tx = false;
                    continue;
                }
                Annotation::EnvsubOn => {
                    use_envsub = true;
                    continue;
                }
                Annotation::EnvsubOff => {
                    use_envsub = false;
                    continue;
                }
            }
        }
        // Comments and empty lines before a statement are dropped; inside one they stay.
        if buf.is_empty() && (line.trim().starts_with("--") || line.is_empty()) {
            continue;
        }
        if !matches!(state, State::EndUp | State::EndDown) {
            if use_envsub {
                let expanded = interpolate::interpolate(env, line)
                    .map_err(|e| format!("variable substitution failed: {e}:\n{line}"))?;
                buf.push_str(&expanded);
            } else {
                buf.push_str(line);
            }
            buf.push('\n');
        }
        match state {
            State::Up | State::BeginUp | State::EndUp => {
                if direction == Direction::Down {
                    buf.clear();
                    continue;
                }
            }
            State::Down | State::BeginDown | State::EndDown => {
                if direction == Direction::Up {
                    buf.clear();
                    continue;
                }
            }
            State::Start => {
                return Err(format!(
                    "failed to parse migration: unexpected state {} on line {}, {SEE}",
                    state as u8,
                    go_quote(line)
                ))
            }
        }
        match state {
            State::Up | State::Down if ends_with_semicolon(line) => {
                stmts.push(buf.trim().to_string());
                buf.clear();
            }
            State::EndUp => {
                stmts.push(buf.trim().to_string());
                buf.clear();
                state = State::Up;
            }
            State::EndDown => {
                stmts.push(buf.trim().to_string());
                buf.clear();
                state = State::Down;
            }
            _ => {}
        }
    }
    match state {
        State::Start => {
            return Err(format!(
                "failed to parse migration: must start with '-- +goose Up' annotation, {SEE}"
            ))
        }
        State::BeginUp | State::BeginDown => {
            return Err(
                "failed to parse migration: missing '-- +goose StatementEnd' annotation"
                    .to_string(),
            )
        }
        _ => {}
    }
    let remaining = buf.trim();
    if !remaining.is_empty() {
        return Err(missing_semicolon(state, direction, remaining));
    }
    Ok((stmts, use_tx))
}

/// `bufio.ScanLines` under goose's buffer: lines end at `\n`, a `\r` before it is dropped (and
/// at the end of the file), no empty token after a final newline, and a line of 4 MiB or more
/// stops the scan with `bufio.Scanner`'s error.
fn scan_lines(body: &str) -> impl Iterator<Item = Result<&str, String>> {
    let mut rest = Some(body).filter(|b| !b.is_empty());
    std::iter::from_fn(move || {
        let text = rest?;
        let (raw, next) = match text.find('\n') {
            Some(i) => (&text[..i], Some(&text[i + 1..]).filter(|n| !n.is_empty())),
            None => (text, None),
        };
        if raw.len() >= SCAN_BUF_SIZE {
            rest = None;
            return Some(Err(
                "failed to scan migration: bufio.Scanner: token too long".to_string(),
            ));
        }
        rest = next;
        Some(Ok(raw.strip_suffix('\r').unwrap_or(raw)))
    })
}

/// `extractAnnotation`: the annotation of a `-- +goose …` line, or why it is not one.
fn extract_annotation(line: &str) -> Result<Annotation, String> {
    if line.starts_with(' ') || line.starts_with('\t') {
        return Err(format!(
            "{} contains leading whitespace: invalid annotation",
            go_quote(line)
        ));
    }
    let cmd = line.replace("--", "").replacen("+goose", "", 1);
    if cmd.contains("+goose") {
        return Err(format!(
            "{} contains multiple '+goose' annotations: invalid annotation",
            go_quote(&cmd)
        ));
    }
    let cmd = cmd.trim();
    if cmd.is_empty() {
        return Err("empty annotation".to_string());
    }
    ANNOTATIONS
        .iter()
        .find(|(name, _)| equal_fold(name, cmd))
        .map(|(_, a)| *a)
        .ok_or_else(|| format!("{} not supported: invalid annotation", go_quote(cmd)))
}

/// Go's `strings.EqualFold` against one of goose's ASCII annotation names: ASCII letters in
/// either case, and the two non-ASCII letters whose simple case folding reaches an ASCII one
/// (`ſ` to `s`, the Kelvin sign `K` to `k`).
fn equal_fold(name: &str, s: &str) -> bool {
    let fold = |c: char| match c {
        '\u{017F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    name.chars().map(fold).eq(s.chars().map(fold))
}

fn missing_semicolon(state: State, direction: Direction, rest: &str) -> String {
    format!(
        "failed to parse migration: state {}, direction: {}: unexpected unfinished SQL query: {}: missing semicolon?",
        state as u8,
        direction.as_str(),
        go_quote(rest)
    )
}

/// goose's test: the last whitespace-separated word before any `--` word ends with `;`.
fn ends_with_semicolon(line: &str) -> bool {
    let mut prev = "";
    for word in line.split_whitespace() {
        if word.starts_with("--") {
            break;
        }
        prev = word;
    }
    prev.ends_with(';')
}

/// Go's `%q` (`strconv.Quote`) for the texts goose quotes: printable characters as they are,
/// the usual backslash escapes, `\xNN` below U+0080 and `\uNNNN` / `\UNNNNNNNN` above for what Go
/// does not print (controls, format characters such as a byte-order mark, spaces other than
/// U+0020, private use).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, as far as std can tell: not a control, not a format character,
/// not a space other than U+0020, not private use.
fn printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
            | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn all(body: &str) -> Result<Parsed, String> {
        parse_all_with(body, &no_env)
    }

    const FULL: &str = "-- a leading comment
-- +goose Up
CREATE TABLE t (id int); -- trailing comment
INSERT INTO t
  VALUES (1);
-- +goose StatementBegin
DO $$
BEGIN
  PERFORM 1;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE t;
";

    #[test]
    fn splits_statements_like_goose() {
        let p = all(FULL).expect("parses");
        assert_eq!(
            p.up,
            vec![
                "CREATE TABLE t (id int); -- trailing comment".to_string(),
                "INSERT INTO t\n  VALUES (1);".to_string(),
                "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;".to_string(),
            ]
        );
        assert_eq!(p.down, vec!["DROP TABLE t;".to_string()]);
        assert!(p.use_tx);
    }

    #[test]
    fn no_transaction_anywhere_in_the_file() {
        let body = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n";
        let p = all(body).expect("parses");
        assert!(!p.use_tx);
        assert_eq!(
            p.up,
            vec!["CREATE INDEX CONCURRENTLY i ON t (id);".to_string()]
        );
    }

    #[test]
    fn annotations_ignore_case_and_spacing() {
        let body = "-- +goose up\n--   +GOOSE  StatementBEGIN  \nSELECT 1;\n-- +goose statementend\n-- +goose no transaction\n-- +goose DOWN\nSELECT 2;\n";
        // `+GOOSE` is not `+goose`: that line is a comment, dropped before the statement.
        let e = all(body).expect_err("no StatementBegin was seen");
        assert_eq!(
            e,
            "'-- +goose StatementEnd' must be defined after '-- +goose StatementBegin', see https://github.com/pressly/goose#sql-migrations"
        );
        let body = "-- +goose up\n--   +goose  StatementBEGIN  \nSELECT 1;\n-- +goose statementend\n-- +goose no transaction\n-- +goose DOWN\nSELECT 2;\n";
        let p = all(body).expect("parses");
        assert_eq!(p.up, vec!["SELECT 1;".to_string()]);
        assert_eq!(p.down, vec!["SELECT 2;".to_string()]);
        assert!(!p.use_tx);
    }

    /// parser_test.go `Test_extractAnnotation`, with the error texts its code builds.
    #[test]
    fn extract_annotation_table() {
        for (line, want) in [
            ("-- +goose Up", Ok(Annotation::Up)),
            ("-- +goose Down", Ok(Annotation::Down)),
            ("-- +goose StatementBegin", Ok(Annotation::StatementBegin)),
            ("-- +goose NO TRANSACTION", Ok(Annotation::NoTransaction)),
            ("-- +goose   UP \t", Ok(Annotation::Up)),
            ("-- +goose envsub on", Ok(Annotation::EnvsubOn)),
            ("-- +goose ſtatementEnd", Ok(Annotation::StatementEnd)),
            (
                "-- +goose unsupported",
                Err("\"unsupported\" not supported: invalid annotation".to_string()),
            ),
            ("-- +goose", Err("empty annotation".to_string())),
            (
                " -- +goose   UP \t",
                Err(
                    "\" -- +goose   UP \\t\" contains leading whitespace: invalid annotation"
                        .to_string(),
                ),
            ),
            (
                "\t-- +goose   UP \t",
                Err(
                    "\"\\t-- +goose   UP \\t\" contains leading whitespace: invalid annotation"
                        .to_string(),
                ),
            ),
            (
                "-- +goose +goose Up",
                Err(
                    "\"  +goose Up\" contains multiple '+goose' annotations: invalid annotation"
                        .to_string(),
                ),
            ),
            (
                "-- +goose ENVSUBST ON",
                Err("\"ENVSUBST ON\" not supported: invalid annotation".to_string()),
            ),
            (
                "-- +goose Up -- the first",
                Err("\"Up  the first\" not supported: invalid annotation".to_string()),
            ),
        ] {
            assert_eq!(extract_annotation(line), want, "{line:?}");
        }
    }

    #[test]
    fn errors_are_gooses() {
        let e = |body: &str| all(body).expect_err("refused");
        assert_eq!(
            e("CREATE TABLE t (id int);\n"),
            "failed to parse migration: unexpected state 0 on line \"CREATE TABLE t (id int);\", see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("\u{FEFF}-- +goose Up\nSELECT 1;\n"),
            "failed to parse migration: unexpected state 0 on line \"\\ufeff-- +goose Up\", see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("-- only a comment\n"),
            "failed to parse migration: must start with '-- +goose Up' annotation, see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("-- +goose Up\n-- +goose StatementBegin\nDO $$ BEGIN END $$;\n"),
            "failed to parse migration: missing '-- +goose StatementEnd' annotation"
        );
        assert_eq!(
            e("-- +goose Up\nSELECT 1\n"),
            "failed to parse migration: state 1, direction: up: unexpected unfinished SQL query: \"SELECT 1\": missing semicolon?"
        );
        assert_eq!(
            e("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2\n"),
            "failed to parse migration: state 4, direction: down: unexpected unfinished SQL query: \"SELECT 2\": missing semicolon?"
        );
        assert_eq!(
            e("-- +goose Up\n-- +goose Up\n"),
            "duplicate '-- +goose Up' annotations; stateMachine=1, see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("-- +goose Down\nSELECT 1;\n"),
            "must start with '-- +goose Up' annotation, stateMachine=0, see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("-- +goose StatementBegin\n"),
            "'-- +goose StatementBegin' must be defined after '-- +goose Up' or '-- +goose Down' annotation, stateMachine=0, see https://github.com/pressly/goose#sql-migrations"
        );
        assert_eq!(
            e("-- +goose Up\n-- +goose unsupported\n"),
            "failed to parse annotation line \"-- +goose unsupported\": \"unsupported\" not supported: invalid annotation"
        );
        assert_eq!(
            e("-- +goose Up\n  -- see +goose's docs\nSELECT 1;\n"),
            "failed to parse annotation line \"  -- see +goose's docs\": \"  -- see +goose's docs\" contains leading whitespace: invalid annotation"
        );
    }

    #[test]
    fn an_empty_statement_block_swallows_the_next_line_as_goose_does() {
        let p = all("-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementEnd\nSELECT 1;\n")
            .expect("parses");
        assert_eq!(p.up, vec![String::new()]);
    }

    #[test]
    fn lines_are_scanned_as_bufio_scans_them() {
        let lines: Vec<_> = scan_lines("a\r\nb\n\nc\r")
            .collect::<Result<_, _>>()
            .expect("lines");
        assert_eq!(lines, ["a", "b", "", "c"]);
        assert_eq!(scan_lines("").count(), 0);
        assert_eq!(scan_lines("a\n").count(), 1);
        let long = format!("-- +goose Up\nSELECT '{}';\n", "x".repeat(SCAN_BUF_SIZE));
        assert_eq!(
            all(&long).expect_err("too long"),
            "failed to scan migration: bufio.Scanner: token too long"
        );
        let p = all("-- +goose Up\r\nSELECT 1;\r\n-- +goose Down\r\nSELECT 2;").expect("crlf");
        assert_eq!((p.up.len(), p.down.len()), (1, 1));
        assert_eq!(p.up[0], "SELECT 1;");
    }

    #[test]
    fn envsub_reads_the_given_environment_from_where_it_is_switched_on() {
        let env = |k: &str| (k == "REGION").then(|| "eu_".to_string());
        let body = "-- +goose Up\nCREATE TABLE ${REGION}a (id int);\n-- +goose ENVSUB ON\nCREATE TABLE ${REGION}b (id int);\n-- +goose ENVSUB OFF\nCREATE TABLE ${REGION}c (id int);\n";
        let p = parse_all_with(body, &env).expect("parses");
        assert_eq!(
            p.up,
            [
                "CREATE TABLE ${REGION}a (id int);",
                "CREATE TABLE eu_b (id int);",
                "CREATE TABLE ${REGION}c (id int);"
            ]
        );
        let bad = "-- +goose ENVSUB ON\n-- +goose Up\nSELECT ${NOPE?is required};\n";
        assert_eq!(
            parse_all_with(bad, &env).expect_err("unset"),
            "variable substitution failed: $NOPE: is required:\nSELECT ${NOPE?is required};"
        );
    }

    #[test]
    fn semicolon_rules() {
        // parser_test.go `TestSemicolons`, and two more.
        for (line, want) in [
            ("END;", true),
            ("END; -- comment", true),
            ("END   ; -- comment", true),
            ("END -- comment", false),
            ("END -- comment ;", false),
            ("END \" ; \" -- comment", false),
            ("SELECT ';' || x", false),
            ("-- SELECT 1;", false),
        ] {
            assert_eq!(ends_with_semicolon(line), want, "{line}");
        }
    }

    #[test]
    fn quoting_is_gos() {
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\u{7}\u{0}\u{7f}"), "\"\\a\\x00\\x7f\"");
        assert_eq!(go_quote("\u{85}\u{a0}é"), "\"\\u0085\\u00a0é\"");
        assert_eq!(go_quote("\u{F0000}"), "\"\\U000f0000\"");
    }
}
