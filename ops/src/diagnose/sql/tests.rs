use super::*;

#[test]
fn splits_outside_quotes_comments_and_dollar_quotes() {
    let sql =
        "-- a; comment\nCREATE TABLE a (x text DEFAULT ';');\n/* b; /* nested; */ still; */\n\
               CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
               SELECT E'it\\'s; fine', \"we;ird\"";
    let s = statements(sql);
    assert_eq!(s.len(), 3, "{s:?}");
    assert_eq!(s[0], "CREATE TABLE a (x text DEFAULT ';')");
    assert!(s[1].contains("$body$ SELECT 1; $body$"));
    assert!(s[2].ends_with("\"we;ird\""));
}

#[test]
fn recognises_what_migrations_do() {
    let sql = r#"
            CREATE TABLE IF NOT EXISTS characters (id bigint PRIMARY KEY, "Name" text);
            CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS characters_name_idx ON characters (lower("Name"));
            CREATE INDEX ON characters (id);
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$ BEGIN CREATE TABLE nope (); END $$ LANGUAGE plpgsql;
            CREATE TYPE mood AS ENUM ('happy', 'sad');
            CREATE SEQUENCE public.ticket_seq;
            CREATE MATERIALIZED VIEW stats AS SELECT 1;
            ALTER TABLE ONLY characters ADD COLUMN level int DEFAULT 1, ADD CONSTRAINT level_positive CHECK (level > 0), DROP COLUMN IF EXISTS old;
            ALTER TABLE characters ADD PRIMARY KEY (id), DROP CONSTRAINT IF EXISTS gone;
            ALTER TABLE characters ADD bio text;
            DROP TABLE IF EXISTS a, b CASCADE;
            DROP INDEX CONCURRENTLY old_idx;
            INSERT INTO characters VALUES (1, 'x');
        "#;
    let got: Vec<(String, String)> = objects(sql).iter().map(|o| (o.kind(), o.name())).collect();
    let want = [
        ("table", "characters"),
        ("index", "characters_name_idx"),
        ("extension", "pg_trgm"),
        ("function", "touch"),
        ("type", "mood"),
        ("sequence", "public.ticket_seq"),
        ("view", "stats"),
        ("column", "characters.level"),
        ("constraint", "characters.level_positive"),
        ("drop column", "characters.old"),
        ("drop constraint", "characters.gone"),
        ("column", "characters.bio"),
        ("drop table", "a"),
        ("drop table", "b"),
        ("drop index", "old_idx"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn folds_like_postgres() {
    assert_eq!(fold("Public.Users"), ["public", "users"]);
    assert_eq!(fold("\"My \"\"T\"\"\".x"), ["My \"T\"", "x"]);
}

#[test]
fn nothing_recognisable_is_empty() {
    assert!(objects("UPDATE t SET x = 1; -- CREATE TABLE z ()").is_empty());
    assert!(objects("").is_empty());
}
