//! goose's SQL file parser (`internal/sqlparser`), state by state: statements end with `;` at
//! a line's end (a `--` comment after it is allowed), except between `-- +goose StatementBegin`
//! and `-- +goose StatementEnd`; `-- +goose NO TRANSACTION` anywhere runs the file outside a
//! transaction. The error texts are goose's.

use crate::model::Direction;

const SEE: &str = "see https://github.com/pressly/goose#sql-migrations";

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

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub use_tx: bool,
}

/// Both directions of one file, as goose's `ParseAllFromFS` gives them.
pub fn parse_all(body: &str) -> Result<Parsed, String> {
    let (up, use_tx) = parse(body, Direction::Up)?;
    let (down, _) = parse(body, Direction::Down)?;
    Ok(Parsed { up, down, use_tx })
}

/// The statements of one direction and whether they run in a transaction.
pub fn parse(body: &str, direction: Direction) -> Result<(Vec<String>, bool), String> {
    let mut state = State::Start;
    let mut use_tx = true;
    let mut stmts = Vec::new();
    let mut buf = String::new();
    for line in body.lines() {
        if state == State::Start && line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("--") {
            match rest.trim() {
                "+goose Up" => {
                    if state != State::Start {
                        return Err(format!(
                            "duplicate '-- +goose Up' annotations; stateMachine={}, {SEE}",
                            state as u8
                        ));
                    }
                    state = State::Up;
                    continue;
                }
                "+goose Down" => {
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
                "+goose StatementBegin" => {
                    state = match state {
                        State::Up | State::EndUp => State::BeginUp,
                        State::Down | State::EndDown => State::BeginDown,
                        _ => return Err(format!("'-- +goose StatementBegin' must be defined after '-- +goose Up' or '-- +goose Down' annotation, stateMachine={}, {SEE}", state as u8)),
                    };
                    continue;
                }
                // No `continue`: the line goes on to close the statement.
                "+goose StatementEnd" => {
                    state = match state {
                        State::BeginUp => State::EndUp,
                        State::BeginDown => State::EndDown,
                        _ => return Err(format!("'-- +goose StatementEnd' must be defined after '-- +goose StatementBegin', {SEE}")),
                    };
                }
                "+goose NO TRANSACTION" => {
                    use_tx = false;
                    continue;
                }
                "+goose ENVSUBST ON" => {
                    return Err("-- +goose ENVSUBST ON substitutes environment variables, which the console does not do: apply this file with the holomush binary.".to_string());
                }
                "+goose ENVSUBST OFF" => continue,
                _ => {}
            }
        }
        // Comments and empty lines before a statement are dropped; inside one they stay.
        if buf.is_empty() && (line.trim().starts_with("--") || line.is_empty()) {
            continue;
        }
        if !matches!(state, State::EndUp | State::EndDown) {
            buf.push_str(line);
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

/// Go's `%q` for the texts goose quotes.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = parse_all(FULL).expect("parses");
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
        let p = parse_all(body).expect("parses");
        assert!(!p.use_tx);
        assert_eq!(
            p.up,
            vec!["CREATE INDEX CONCURRENTLY i ON t (id);".to_string()]
        );
    }

    #[test]
    fn an_up_only_file_has_no_down_statements() {
        let p = parse_all("-- +goose Up\nSELECT 1;\n").expect("parses");
        assert_eq!(p.up.len(), 1);
        assert!(p.down.is_empty());
    }

    #[test]
    fn errors_are_gooses() {
        let e = |body: &str| parse_all(body).expect_err("refused");
        assert_eq!(
            e("CREATE TABLE t (id int);\n"),
            "failed to parse migration: unexpected state 0 on line \"CREATE TABLE t (id int);\", see https://github.com/pressly/goose#sql-migrations"
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
            e("-- +goose Up\nSELECT 1\n-- +goose Down\nSELECT 2;\n"),
            "failed to parse migration: state 1, direction: up: unexpected unfinished SQL query: \"SELECT 1\": missing semicolon?"
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
            e("-- +goose Up\n-- +goose StatementEnd\n"),
            "'-- +goose StatementEnd' must be defined after '-- +goose StatementBegin', see https://github.com/pressly/goose#sql-migrations"
        );
    }

    #[test]
    fn semicolon_rules() {
        assert!(ends_with_semicolon("SELECT 1; -- done"));
        assert!(ends_with_semicolon("SELECT 1;"));
        assert!(!ends_with_semicolon("SELECT ';' || x"));
        assert!(!ends_with_semicolon("-- SELECT 1;"));
    }
}
