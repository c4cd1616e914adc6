//! A database's schema as (kind, name, definition) rows read from pg_catalog, and the
//! difference between two readings: what a rehearsal's files added, changed and removed.
//! Objects that belong to an extension are the extension's (one row each).

use std::collections::BTreeMap;

use sqlx::PgConnection;

use crate::model::{Change, SchemaChange};

/// (kind, name) → definition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<(String, String), String>);

const READ: &str = r#"
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname NOT IN ('pg_catalog', 'information_schema')
     AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%'
), ext AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'schema'::text, quote_ident(nspname)::text, ''::text FROM ns
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = ns.oid)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
       quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
            WHEN c.relpersistence = 'u' THEN 'unlogged' ELSE '' END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT 'column',
       quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname),
       format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT 'index', quote_ident(ns.nspname) || '.' || quote_ident(c.relname), pg_get_indexdef(c.oid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = i.indrelid)
UNION ALL
SELECT 'constraint',
       quote_ident(ns.nspname) || '.' || quote_ident(r.relname) || '.' || quote_ident(k.conname),
       pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN ns ON ns.oid = r.relnamespace
 WHERE k.contype <> 'n' -- PostgreSQL 18's NOT NULL constraints: the column says NOT NULL
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = r.oid)
UNION ALL
SELECT 'function',
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'trigger',
       quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname),
       pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT t.tgisinternal
UNION ALL
SELECT 'type', quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       'enum (' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                               FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
 WHERE t.typtype = 'e'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'extension', quote_ident(extname), extversion FROM pg_extension
"#;

/// Reads the schema of the database `conn` is on.
pub async fn snapshot(conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as(READ).fetch_all(&mut *conn).await?;
    Ok(Snapshot(
        rows.into_iter()
            .map(|(kind, name, def)| ((kind, name), def.unwrap_or_default()))
            .collect(),
    ))
}

/// What differs from `before` to `after`, by kind then name.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<SchemaChange> {
    let mut out = Vec::new();
    for ((kind, name), old) in &before.0 {
        match after.0.get(&(kind.clone(), name.clone())) {
            None => out.push(SchemaChange {
                change: Change::Removed,
                kind: kind.clone(),
                name: name.clone(),
                before: Some(old.clone()),
                after: None,
            }),
            Some(new) if new != old => out.push(SchemaChange {
                change: Change::Changed,
                kind: kind.clone(),
                name: name.clone(),
                before: Some(old.clone()),
                after: Some(new.clone()),
            }),
            Some(_) => {}
        }
    }
    for ((kind, name), new) in &after.0 {
        if !before.0.contains_key(&(kind.clone(), name.clone())) {
            out.push(SchemaChange {
                change: Change::Added,
                kind: kind.clone(),
                name: name.clone(),
                before: None,
                after: Some(new.clone()),
            });
        }
    }
    out.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(rows: &[(&str, &str, &str)]) -> Snapshot {
        Snapshot(
            rows.iter()
                .map(|(k, n, d)| ((k.to_string(), n.to_string()), d.to_string()))
                .collect(),
        )
    }

    #[test]
    fn added_changed_and_removed_are_told_apart() {
        let before = snap(&[
            ("table", "public.a", ""),
            ("column", "public.a.x", "integer"),
        ]);
        let after = snap(&[
            ("table", "public.a", ""),
            ("column", "public.a.x", "bigint"),
            ("table", "public.b", ""),
        ]);
        let d = diff(&before, &after);
        let seen: Vec<(Change, &str)> = d.iter().map(|c| (c.change, c.name.as_str())).collect();
        assert_eq!(
            seen,
            vec![(Change::Changed, "public.a.x"), (Change::Added, "public.b")]
        );
        assert_eq!(d[0].before.as_deref(), Some("integer"));
        assert_eq!(d[0].after.as_deref(), Some("bigint"));
        let back = diff(&after, &before);
        assert!(back
            .iter()
            .any(|c| c.change == Change::Removed && c.name == "public.b"));
        assert!(diff(&before, &before).is_empty());
    }
}
