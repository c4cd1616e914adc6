use super::super::super::source::Source;
use super::*;
use crate::config::DatabaseUrl;

/// golang-migrate v4.19.1 `database/pgx/v5/pgx_test.go` `Test_computeLineFromPos`: each
/// row with LF and CRLF, ASCII and `FRÖM`.
#[test]
fn line_and_column_as_the_pgx_v5_driver_computes_them() {
    type Row = (usize, Option<(u32, u32)>, &'static str);
    let table: [Row; 8] = [
        (15, Some((2, 6)), "SELECT *\nFROM foo"),
        (16, Some((3, 6)), "SELECT *\n\nFROM foo"),
        (25, Some((3, 7)), "SELECT *\nFROM foo\nWHERE x"),
        (27, Some((5, 7)), "SELECT *\n\nFROM foo\n\nWHERE x"),
        (10, Some((2, 1)), "SELECT *\nFROMM foo"),
        (11, Some((3, 1)), "SELECT *\n\nFROMM foo"),
        (17, Some((2, 8)), "SELECT *\nFROM foo"),
        (18, None, "SELECT *\nFROM foo"),
    ];
    for (pos, expected, input) in table {
        for crlf in [false, true] {
            for non_ascii in [false, true] {
                let mut text = input.to_string();
                if crlf {
                    text = text.replace('\n', "\r\n");
                }
                if non_ascii {
                    text = text.replace("FROM", "FRÖM");
                }
                assert_eq!(line_column(&text, pos), expected, "{pos} in {text:?}");
            }
        }
    }
}

/// golang-migrate v4.19.1 `migrate_test.go`'s stub source:
/// `| 1: u d | 3: u | 4: u d | 5: d | 7: u d |`.
fn stub() -> Migrator {
    let names = [
        "1_a.up.sql",
        "1_a.down.sql",
        "3_a.up.sql",
        "4_a.up.sql",
        "4_a.down.sql",
        "5_a.down.sql",
        "7_a.up.sql",
        "7_a.down.sql",
    ];
    let source = Source::from_files(
        super::super::super::source::Origin::Embedded,
        names.iter().map(|n| (n.to_string(), b"SELECT 1".to_vec())),
    )
    .expect("stub source");
    let url = DatabaseUrl::parse("postgres://u@localhost/db").expect("url");
    Migrator::new(source, url, "test")
}

/// What golang-migrate's channel carries: (version, target) pairs, then `Ok` for the end,
/// `no change`, `limit N short`, or the `file does not exist` family.
type Read = (Vec<(u64, i64)>, &'static str);

fn read(m: &Migrator, op: Op, from: i64) -> Read {
    match (Engine { m }).plan(op, from) {
        Ok(p) => {
            let steps: Vec<(u64, i64)> = p.steps.iter().map(|(v, _, t)| (*v, *t)).collect();
            let end = match (p.short, steps.is_empty()) {
                (1, _) => "limit 1 short",
                (0, true) => "no change",
                (0, false) => "ok",
                _ => "short",
            };
            (steps, end)
        }
        Err(MigrateError::NotExist(_)) => (Vec::new(), "not exist"),
        Err(e) => panic!("{e}"),
    }
}

/// `TestReadUp`, every row (limit -1 is `up`, N is `up N`).
#[test]
fn read_up_as_golang_migrates_table() {
    let m = stub();
    let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
    let none = (Vec::new(), "no change");
    let gone = (Vec::new(), "not exist");
    let table: Vec<(i64, i64, Read)> = vec![
        (-1, -1, ok(&[(1, 1), (3, 3), (4, 4), (5, 5), (7, 7)])),
        (-1, 0, none.clone()),
        (-1, 1, ok(&[(1, 1)])),
        (-1, 2, ok(&[(1, 1), (3, 3)])),
        (0, -1, gone.clone()),
        (0, 0, gone.clone()),
        (0, 1, gone.clone()),
        (0, 2, gone.clone()),
        (1, -1, ok(&[(3, 3), (4, 4), (5, 5), (7, 7)])),
        (1, 0, none.clone()),
        (1, 1, ok(&[(3, 3)])),
        (1, 2, ok(&[(3, 3), (4, 4)])),
        (2, -1, gone.clone()),
        (2, 0, gone.clone()),
        (2, 1, gone.clone()),
        (2, 2, gone.clone()),
        (3, -1, ok(&[(4, 4), (5, 5), (7, 7)])),
        (3, 0, none.clone()),
        (3, 1, ok(&[(4, 4)])),
        (3, 2, ok(&[(4, 4), (5, 5)])),
        (4, -1, ok(&[(5, 5), (7, 7)])),
        (4, 0, none.clone()),
        (4, 1, ok(&[(5, 5)])),
        (4, 2, ok(&[(5, 5), (7, 7)])),
        (5, -1, ok(&[(7, 7)])),
        (5, 0, none.clone()),
        (5, 1, ok(&[(7, 7)])),
        (5, 2, (vec![(7, 7)], "limit 1 short")),
        (6, -1, gone.clone()),
        (6, 0, gone.clone()),
        (6, 1, gone.clone()),
        (6, 2, gone.clone()),
        (7, -1, none.clone()),
        (7, 0, none.clone()),
        (7, 1, gone.clone()),
        (7, 2, gone.clone()),
        (8, -1, gone.clone()),
        (8, 0, gone.clone()),
        (8, 1, gone.clone()),
        (8, 2, gone.clone()),
    ];
    for (from, limit, expected) in table {
        let op = Op::Up(u64::try_from(limit).ok());
        assert_eq!(read(&m, op, from), expected, "readUp({from}, {limit})");
    }
}

/// `TestReadDown`, every row (limit -1 is `down --all`, N is `down N`).
#[test]
fn read_down_as_golang_migrates_table() {
    let m = stub();
    let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
    let none = (Vec::new(), "no change");
    let gone = (Vec::new(), "not exist");
    let table: Vec<(i64, i64, Read)> = vec![
        (-1, -1, none.clone()),
        (-1, 0, none.clone()),
        (-1, 1, gone.clone()),
        (-1, 2, gone.clone()),
        (0, -1, gone.clone()),
        (0, 0, gone.clone()),
        (0, 1, gone.clone()),
        (0, 2, gone.clone()),
        (1, -1, ok(&[(1, -1)])),
        (1, 0, none.clone()),
        (1, 1, ok(&[(1, -1)])),
        (1, 2, (vec![(1, -1)], "limit 1 short")),
        (2, -1, gone.clone()),
        (2, 0, gone.clone()),
        (2, 1, gone.clone()),
        (2, 2, gone.clone()),
        (3, -1, ok(&[(3, 1), (1, -1)])),
        (3, 0, none.clone()),
        (3, 1, ok(&[(3, 1)])),
        (3, 2, ok(&[(3, 1), (1, -1)])),
        (4, -1, ok(&[(4, 3), (3, 1), (1, -1)])),
        (4, 0, none.clone()),
        (4, 1, ok(&[(4, 3)])),
        (4, 2, ok(&[(4, 3), (3, 1)])),
        (5, -1, ok(&[(5, 4), (4, 3), (3, 1), (1, -1)])),
        (5, 0, none.clone()),
        (5, 1, ok(&[(5, 4)])),
        (5, 2, ok(&[(5, 4), (4, 3)])),
        (6, -1, gone.clone()),
        (6, 0, gone.clone()),
        (6, 1, gone.clone()),
        (6, 2, gone.clone()),
        (7, -1, ok(&[(7, 5), (5, 4), (4, 3), (3, 1), (1, -1)])),
        (7, 0, none.clone()),
        (7, 1, ok(&[(7, 5)])),
        (7, 2, ok(&[(7, 5), (5, 4)])),
        (8, -1, gone.clone()),
        (8, 0, gone.clone()),
        (8, 1, gone.clone()),
        (8, 2, gone.clone()),
    ];
    for (from, limit, expected) in table {
        let op = match u64::try_from(limit) {
            Ok(n) => Op::Down(Some(n)),
            Err(_) => Op::DownAll,
        };
        assert_eq!(read(&m, op, from), expected, "readDown({from}, {limit})");
    }
}

/// `TestRead` (goto), every row whose target a `goto V` can name (V >= 0).
#[test]
fn read_goto_as_golang_migrates_table() {
    let m = stub();
    let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
    let none = (Vec::new(), "no change");
    let gone = (Vec::new(), "not exist");
    let mut table: Vec<(i64, u64, Read)> = vec![
        (-1, 0, gone.clone()),
        (-1, 1, ok(&[(1, 1)])),
        (-1, 2, gone.clone()),
        (-1, 3, ok(&[(1, 1), (3, 3)])),
        (-1, 4, ok(&[(1, 1), (3, 3), (4, 4)])),
        (-1, 5, ok(&[(1, 1), (3, 3), (4, 4), (5, 5)])),
        (-1, 6, gone.clone()),
        (-1, 7, ok(&[(1, 1), (3, 3), (4, 4), (5, 5), (7, 7)])),
        (-1, 8, gone.clone()),
        (1, 0, gone.clone()),
        (1, 1, none.clone()),
        (1, 2, gone.clone()),
        (1, 3, ok(&[(3, 3)])),
        (1, 4, ok(&[(3, 3), (4, 4)])),
        (1, 5, ok(&[(3, 3), (4, 4), (5, 5)])),
        (1, 6, gone.clone()),
        (1, 7, ok(&[(3, 3), (4, 4), (5, 5), (7, 7)])),
        (1, 8, gone.clone()),
        (3, 0, gone.clone()),
        (3, 1, ok(&[(3, 1)])),
        (3, 2, gone.clone()),
        (3, 3, none.clone()),
        (3, 4, ok(&[(4, 4)])),
        (3, 5, ok(&[(4, 4), (5, 5)])),
        (3, 6, gone.clone()),
        (3, 7, ok(&[(4, 4), (5, 5), (7, 7)])),
        (3, 8, gone.clone()),
        (4, 0, gone.clone()),
        (4, 1, ok(&[(4, 3), (3, 1)])),
        (4, 2, gone.clone()),
        (4, 3, ok(&[(4, 3)])),
        (4, 4, none.clone()),
        (4, 5, ok(&[(5, 5)])),
        (4, 6, gone.clone()),
        (4, 7, ok(&[(5, 5), (7, 7)])),
        (4, 8, gone.clone()),
        (5, 0, gone.clone()),
        (5, 1, ok(&[(5, 4), (4, 3), (3, 1)])),
        (5, 2, gone.clone()),
        (5, 3, ok(&[(5, 4), (4, 3)])),
        (5, 4, ok(&[(5, 4)])),
        (5, 5, none.clone()),
        (5, 6, gone.clone()),
        (5, 7, ok(&[(7, 7)])),
        (5, 8, gone.clone()),
        (7, 0, gone.clone()),
        (7, 1, ok(&[(7, 5), (5, 4), (4, 3), (3, 1)])),
        (7, 2, gone.clone()),
        (7, 3, ok(&[(7, 5), (5, 4), (4, 3)])),
        (7, 4, ok(&[(7, 5), (5, 4)])),
        (7, 5, ok(&[(7, 5)])),
        (7, 6, gone.clone()),
        (7, 7, none.clone()),
        (7, 8, gone.clone()),
    ];
    // From a version the source lacks (0, 2, 6, 8), every target is refused.
    for from in [0, 2, 6, 8] {
        for to in 0..=8 {
            table.push((from, to, gone.clone()));
        }
    }
    for (from, to, expected) in table {
        assert_eq!(read(&m, Op::Goto(to), from), expected, "read({from}, {to})");
    }
}

#[test]
fn no_position_is_line_1_column_0() {
    assert_eq!(line_column("DROP TABLE nope;", 0), Some((1, 0)));
    assert_eq!(line_column("", 0), Some((1, 0)));
    assert_eq!(line_column("abc", 9), None);
}
