//! `github.com/mfridman/interpolate` v0.0.2, the module goose v3.27.3 pins, which expands a line
//! under `-- +goose ENVSUB ON`. Its grammar, its texts and its quirks:
//!
//! - `$VAR` and `${VAR}`: the value, or nothing when unset (no error);
//! - `${VAR:-default}`: the default when unset *or empty*; `${VAR-default}`: only when unset;
//! - `${VAR?message}`: an error `$VAR: message` (`not set` when the message is empty) when unset;
//! - `${VAR:offset}` / `${VAR:offset:length}`: a byte slice of the value, negative counting from
//!   the end (as Go slices strings);
//! - defaults and messages may hold further expansions (`${A:-${B:-x}}`);
//! - `$$` and `\$` are a literal `$`, `\\` stays `\\`, `$(` is left alone, and a `$` at the very
//!   end is literal. A name starts with a letter, then letters, digits or `_`; anything else
//!   after `$` is an error (so `$1`, and PL/pgSQL's `$$` becomes `$`: goose does the same).

/// Where the values come from: goose uses `os.LookupEnv`, the process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, as goose's `envWrapper` reads it.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

/// `interpolate.Interpolate(env, s)`.
pub fn interpolate(env: Env, s: &str) -> Result<String, String> {
    let mut p = Parser { input: s, pos: 0 };
    let expr = p.expression(None)?;
    expand(&expr, env)
}

enum Item {
    Text(String),
    Var(String),
    /// `:-`
    EmptyValue(String, Vec<Item>),
    /// `-`
    UnsetValue(String, Vec<Item>),
    Substring {
        name: String,
        offset: i64,
        length: Option<i64>,
    },
    Required(String, Vec<Item>),
}

fn expand(expr: &[Item], env: Env) -> Result<String, String> {
    let mut out = String::new();
    for item in expr {
        match item {
            Item::Text(t) => out.push_str(t),
            Item::Var(name) => out.push_str(&env(name).unwrap_or_default()),
            Item::EmptyValue(name, default) => match env(name).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&expand(default, env)?),
            },
            Item::UnsetValue(name, default) => match env(name) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&expand(default, env)?),
            },
            Item::Substring {
                name,
                offset,
                length,
            } => out.push_str(&substring(&env(name).unwrap_or_default(), *offset, *length)),
            Item::Required(name, message) => match env(name) {
                Some(v) => out.push_str(&v),
                None => {
                    let mut msg = expand(message, env)?;
                    if msg.is_empty() {
                        msg = "not set".to_string();
                    }
                    return Err(format!("${name}: {msg}"));
                }
            },
        }
    }
    Ok(out)
}

/// Go's `val[from:to]` on the value's bytes, with the module's clamping. A cut inside a
/// multi-byte character (which Go would send as is, and PostgreSQL refuse) becomes U+FFFD.
fn substring(val: &str, offset: i64, length: Option<i64>) -> String {
    let len = i64::try_from(val.len()).unwrap_or(i64::MAX);
    let mut from = offset;
    if from < 0 {
        from = from.saturating_add(len);
    }
    from = from.clamp(0, len);
    let to = match length {
        None => len,
        Some(l) if l >= 0 => from.saturating_add(l).min(len),
        Some(l) => l.saturating_add(len).max(from).min(len),
    };
    let bytes =
        &val.as_bytes()[usize::try_from(from).unwrap_or(0)..usize::try_from(to).unwrap_or(0)];
    String::from_utf8_lossy(bytes).into_owned()
}

const EOF: Option<char> = None;

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// `scanUntil`: Go's decoder answers `RuneError` for U+FFFD too, which stops the scan.
    fn scan_until(&mut self, stop: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == char::REPLACEMENT_CHARACTER || stop(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.input[start..self.pos]
    }

    fn expression(&mut self, stop: Option<char>) -> Result<Vec<Item>, String> {
        let mut expr = Vec::new();
        loop {
            let c = self.peek();
            if c == EOF || c == stop {
                break;
            }
            let rest = self.rest();
            if rest.starts_with("\\\\") {
                self.pos += 2;
                expr.push(Item::Text("\\\\".to_string()));
                continue;
            } else if rest.starts_with("\\$") || rest.starts_with("$$") {
                self.pos += 2;
                expr.push(Item::Text("$".to_string()));
                continue;
            }
            if rest.starts_with("$(") {
                self.pos += 2;
                expr.push(Item::Text("$(".to_string()));
                continue;
            }
            if c == Some('$') && self.pos < self.input.len() - 1 {
                expr.push(self.expansion()?);
                continue;
            }
            let mut text = String::new();
            text.extend(self.next());
            text.push_str(self.scan_until(|r| r == '$' || r == '\\' || Some(r) == stop));
            expr.push(Item::Text(text));
        }
        Ok(expr)
    }

    fn expansion(&mut self) -> Result<Item, String> {
        let c = self.next();
        if c != Some('$') {
            return Err(format!(
                "Expected expansion to start with $, got {}",
                go_char(c)
            ));
        }
        if self.peek() == Some('{') {
            return self.brace_expansion();
        }
        Ok(Item::Var(self.identifier()?))
    }

    fn brace_expansion(&mut self) -> Result<Item, String> {
        let c = self.next();
        if c != Some('{') {
            return Err(format!(
                "Expected brace expansion to start with {{, got {}",
                go_char(c)
            ));
        }
        let name = self.identifier()?;
        if self.peek() == Some('}') {
            self.next();
            return Ok(Item::Var(name));
        }
        let item = match self.next() {
            Some(':') if self.peek() == Some('-') => {
                self.next();
                Item::EmptyValue(name, self.expression(Some('}'))?)
            }
            Some(':') => self.substring(name)?,
            Some('-') => Item::UnsetValue(name, self.expression(Some('}'))?),
            Some('?') => Item::Required(name, self.expression(Some('}'))?),
            other => return Err(format!("Expected an operator, got {}", go_char(other))),
        };
        let c = self.next();
        if c != Some('}') {
            return Err(format!(
                "Expected brace expansion to end with }}, got {}",
                go_char(c)
            ));
        }
        Ok(item)
    }

    fn substring(&mut self, name: String) -> Result<Item, String> {
        let offset = self.scan_until(|r| r == ':' || r == '}').to_string();
        let offset = atoi(&offset).map_err(|e| format!("Unable to parse offset: {e}"))?;
        if self.peek() == Some('}') {
            return Ok(Item::Substring {
                name,
                offset,
                length: None,
            });
        }
        self.next();
        let length = self.scan_until(|r| r == '}').to_string();
        let length = atoi(&length).map_err(|e| format!("Unable to parse length: {e}"))?;
        Ok(Item::Substring {
            name,
            offset,
            length: Some(length),
        })
    }

    fn identifier(&mut self) -> Result<String, String> {
        let c = self.peek();
        if !c.is_some_and(is_letter) {
            return Err(format!(
                "Expected identifier to start with a letter, got {}",
                go_char(c)
            ));
        }
        Ok(self
            .scan_until(|r| !is_letter(r) && !r.is_numeric() && r != '_')
            .to_string())
    }
}

/// Go's `unicode.IsLetter` (category L). Rust's `is_alphabetic` adds the letter numbers
/// (category Nl, which `is_numeric` also answers) and combining vowel signs; the first are
/// taken out here, the second never start an environment variable's name.
fn is_letter(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric()
}

/// Go's `%c` of a rune, where end of input (-1) prints as U+FFFD.
fn go_char(c: Option<char>) -> char {
    c.unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// `strconv.Atoi(strings.TrimSpace(s))`, with Go's error text.
fn atoi(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            super::parser::go_quote(t)
        ));
    }
    t.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            super::parser::go_quote(t)
        )
    })
}

#[cfg(test)]
mod tests {
    //! The module's own tables (interpolate_test.go at v0.0.2).
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn ok(e: Env, s: &str) -> String {
        interpolate(e, s).unwrap_or_else(|err| panic!("{s}: {err}"))
    }

    #[test]
    fn basic_interpolation() {
        let e = env(&[
            ("TEST1", "A test"),
            ("TEST2", "Another"),
            ("TEST3", "Llamas"),
            ("TEST4", "Only one level of $TEST3 interpolation"),
        ]);
        for (s, want) in [
            ("", ""),
            ("foo", "foo"),
            ("test1", "test1"),
            ("TEST1", "TEST1"),
            ("$TEST1", "A test"),
            ("${TEST1}", "A test"),
            ("$TEST1, $TEST2, $TEST3", "A test, Another, Llamas"),
            ("$Test1, $Test2, $TeST3", ", , "),
            ("${TEST1}, ${Test2}, ${tEST3}", "A test, , "),
            ("my$TEST1", "myA test"),
            ("$TEST4", "Only one level of $TEST3 interpolation"),
            ("${TEST4}", "Only one level of $TEST3 interpolation"),
            ("${TEST5:-${TEST6:-$TEST1}}", "A test"),
            ("${TEST5:-${TEST2:-$TEST1}}", "Another"),
            (
                "${TEST5:-Some text ${TEST2:-$TEST1} with $TEST3}",
                "Some text Another with Llamas",
            ),
        ] {
            assert_eq!(ok(&e, s), want, "{s}");
        }
    }

    #[test]
    fn parentheses_escapes_and_a_trailing_dollar_are_text() {
        let e = env(&[]);
        for s in [
            "$(echo hello world)",
            "testing $(echo hello world)",
            "$(",
            "costs 5$",
        ] {
            assert_eq!(ok(&e, s), s);
        }
        for (s, want) in [
            ("Do this $$ESCAPE_PARTY", "Do this $ESCAPE_PARTY"),
            ("Do this \\$ESCAPE_PARTY", "Do this $ESCAPE_PARTY"),
            ("Do this $${SUCH_ESCAPE}", "Do this ${SUCH_ESCAPE}"),
            ("Do this \\${SUCH_ESCAPE}", "Do this ${SUCH_ESCAPE}"),
            ("a \\\\ b", "a \\\\ b"),
            ("AS $$ BEGIN END $$", "AS $ BEGIN END $"),
        ] {
            assert_eq!(ok(&e, s), want, "{s}");
        }
    }

    #[test]
    fn names_start_with_a_letter() {
        let e = env(&[]);
        assert_eq!(
            interpolate(&e, "$1 burgers").expect_err("digit"),
            "Expected identifier to start with a letter, got 1"
        );
        assert_eq!(
            interpolate(&e, "$99bottles").expect_err("digit"),
            "Expected identifier to start with a letter, got 9"
        );
        assert_eq!(
            interpolate(&e, "${A:-$}").expect_err("brace"),
            "Expected identifier to start with a letter, got }"
        );
        assert_eq!(
            interpolate(&e, "${A").expect_err("unclosed"),
            "Expected an operator, got \u{FFFD}"
        );
        assert_eq!(
            interpolate(&e, "${A:-x").expect_err("unclosed default"),
            "Expected brace expansion to end with }, got \u{FFFD}"
        );
        assert_eq!(
            interpolate(&e, "${A+x}").expect_err("no such operator"),
            "Expected an operator, got +"
        );
    }

    #[test]
    fn missing_values_are_empty_and_substrings_slice() {
        let none = env(&[]);
        for s in [
            "$BUILDKITE_COMMIT",
            "${BUILDKITE_COMMIT}",
            "${BUILDKITE_COMMIT:0:7}",
            "${BUILDKITE_COMMIT:7}",
            "${BUILDKITE_COMMIT:7:14}",
        ] {
            assert_eq!(ok(&none, s), "", "{s}");
        }
        let e = env(&[(
            "BUILDKITE_COMMIT",
            "1adf998e39f647b4b25842f107c6ed9d30a3a7c7",
        )]);
        for (s, want) in [
            (
                "${BUILDKITE_COMMIT:0}",
                "1adf998e39f647b4b25842f107c6ed9d30a3a7c7",
            ),
            ("${BUILDKITE_COMMIT:7}", "e39f647b4b25842f107c6ed9d30a3a7c7"),
            ("${BUILDKITE_COMMIT: -7}", "0a3a7c7"),
            (
                "${BUILDKITE_COMMIT: -128}",
                "1adf998e39f647b4b25842f107c6ed9d30a3a7c7",
            ),
            ("${BUILDKITE_COMMIT:128}", ""),
            ("${BUILDKITE_COMMIT:0:7}", "1adf998"),
            ("${BUILDKITE_COMMIT:7:7}", "e39f647"),
            ("${BUILDKITE_COMMIT:7:-7}", "e39f647b4b25842f107c6ed9d3"),
            ("${BUILDKITE_COMMIT:0:0}", ""),
            ("${BUILDKITE_COMMIT:7:0}", ""),
            (
                "${BUILDKITE_COMMIT:0:128}",
                "1adf998e39f647b4b25842f107c6ed9d30a3a7c7",
            ),
            (
                "${BUILDKITE_COMMIT:7:128}",
                "e39f647b4b25842f107c6ed9d30a3a7c7",
            ),
            ("${BUILDKITE_COMMIT:0:-128}", ""),
            ("${BUILDKITE_COMMIT:7:-128}", ""),
        ] {
            assert_eq!(ok(&e, s), want, "{s}");
        }
        assert_eq!(
            interpolate(&e, "${BUILDKITE_COMMIT:x}").expect_err("offset"),
            "Unable to parse offset: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            interpolate(&e, "${BUILDKITE_COMMIT:1:99999999999999999999}").expect_err("length"),
            "Unable to parse length: strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
    }

    #[test]
    fn names_are_not_greedy_past_their_characters() {
        let e = env(&[
            (
                "BUILDKITE_COMMIT",
                "cfeeee3fa7fa1a6311723f5cbff95b738ec6e683",
            ),
            ("BUILDKITE_PARALLEL_JOB", "456"),
        ]);
        for (s, want) in [
            (
                "echo \"ENV_1=test_$BUILDKITE_COMMIT_$BUILDKITE_PARALLEL_JOB\"",
                "echo \"ENV_1=test_456\"",
            ),
            (
                "echo \"ENV_1=test-$BUILDKITE_COMMIT-$BUILDKITE_PARALLEL_JOB\"",
                "echo \"ENV_1=test-cfeeee3fa7fa1a6311723f5cbff95b738ec6e683-456\"",
            ),
            (
                "echo \"ENV_1=test_${BUILDKITE_COMMIT}_${BUILDKITE_PARALLEL_JOB}\"",
                "echo \"ENV_1=test_cfeeee3fa7fa1a6311723f5cbff95b738ec6e683_456\"",
            ),
        ] {
            assert_eq!(ok(&e, s), want, "{s}");
        }
    }

    #[test]
    fn defaults_and_required_values() {
        let e = env(&[("DAY", "Blarghday"), ("EMPTY_DAY", "")]);
        for (s, want) in [
            ("Today is ${TODAY-Tuesday}", "Today is Tuesday"),
            ("Tomorrow is ${TOMORROW-Wednesday}", "Tomorrow is Wednesday"),
            ("Today is ${DAY-Wednesday}", "Today is Blarghday"),
            ("Today is ${EMPTY_DAY-Wednesday}", "Today is "),
            ("Today is ${EMPTY_DAY:-Wednesday}", "Today is Wednesday"),
            ("${EMPTY_DAY:--:{}}", "-:{}"),
            ("${EMPTY:-${LLAMAS-test}}", "test"),
            ("${EMPTY:-127}", "127"),
        ] {
            assert_eq!(ok(&e, s), want, "{s}");
        }
        let none = env(&[]);
        for (s, want) in [
            ("Hello ${REQUIRED_VAR?}", "$REQUIRED_VAR: not set"),
            (
                "Hello ${REQUIRED_VAR?y u no set me? :-{}",
                "$REQUIRED_VAR: y u no set me? :-{",
            ),
            ("Hello ${REQUIRED_VAR?{}}", "$REQUIRED_VAR: {"),
        ] {
            assert_eq!(interpolate(&none, s).expect_err("required"), want, "{s}");
        }
        assert_eq!(ok(&e, "${DAY?never}"), "Blarghday");
    }
}
