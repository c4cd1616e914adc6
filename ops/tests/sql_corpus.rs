//! The statement scanner (`diagnose::sql`, whose output decides the dirty-state repair
//! advice) on real-world migration files: DO blocks, dollar quoting with and without tags,
//! `CREATE INDEX CONCURRENTLY`, nested comments, strings and quoted identifiers holding `;`,
//! goose annotations. Each `NAME.sql` in `tests/sql-corpus` has beside it the statements it
//! must split into (`NAME.statements`, separated by lines `;;`) and the objects it must
//! recognise (`NAME.objects`, `kind<TAB>name` per line), written out and checked by hand.
//! `BLESS_SQL_CORPUS=1` writes those files from the scanner's output, for review.

use std::path::{Path, PathBuf};

use ops::diagnose::sql::{objects, statements};

const SEPARATOR: &str = "\n;;\n";

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn each_corpus_file_splits_and_is_recognised_as_written_out() {
    let files = corpus();
    assert!(files.len() >= 5, "{files:?}");
    let bless = std::env::var_os("BLESS_SQL_CORPUS").is_some();
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("read");
        let got_statements = statements(&sql).join(SEPARATOR);
        let got_objects: String = objects(&sql)
            .iter()
            .map(|o| format!("{}\t{}\n", o.kind(), o.name()))
            .collect();
        let statements_file = file.with_extension("statements");
        let objects_file = file.with_extension("objects");
        if bless {
            std::fs::write(&statements_file, format!("{got_statements}\n")).expect("write");
            std::fs::write(&objects_file, &got_objects).expect("write");
            continue;
        }
        let want_statements = std::fs::read_to_string(&statements_file)
            .unwrap_or_else(|e| panic!("{}: {e}", statements_file.display()));
        assert_eq!(
            got_statements,
            want_statements.trim_end_matches('\n'),
            "{}",
            file.display()
        );
        let want_objects = std::fs::read_to_string(&objects_file)
            .unwrap_or_else(|e| panic!("{}: {e}", objects_file.display()));
        assert_eq!(got_objects, want_objects, "{}", file.display());
    }
}
