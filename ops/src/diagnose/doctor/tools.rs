//! The client_tools step: which pg_dump, pg_restore and psql the console would run, and why.

use super::{fail, pass, Outcome};

pub(super) async fn client_tools(server_major: Option<u32>) -> Outcome {
    let checks = tool_checks(server_major).await;
    if checks.iter().all(|c| c.ok) {
        let found: Vec<String> = checks
            .iter()
            .map(|c| format!("{} {} ({})", c.name, c.version, c.path))
            .collect();
        let against = server_major.map_or(String::new(), |s| {
            format!(", not older than the server's {s}")
        });
        // Which pg_dump writes the archives decides which pg_restore can read them: say why.
        let dump = checks
            .iter()
            .find(|c| c.name == crate::pgtools::Tool::PgDump.name())
            .map_or(String::new(), |c| format!(" {}", c.message));
        pass(format!("Using {}{against}.{dump}", found.join(", ")))
    } else {
        let problems: Vec<&str> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.message.trim_end_matches('.'))
            .collect();
        let hint =
            crate::pgtools::install_hint(server_major.unwrap_or(crate::pgtools::PYPI_MAJOR)).await;
        let mut fix = hint;
        if let Some(first) = fix.get(..1) {
            fix = format!("{}{}.", first.to_uppercase(), &fix[1..]);
        }
        fail(format!("Backups cannot run: {}.", problems.join("; ")), fix)
    }
}

/// pg_dump, pg_restore and psql one by one: which binary the console runs and why, for the
/// doctor, Settings and the Troubleshooting page's badge. pg_dump's is the one a backup of
/// this server would use: the server's own major when installed.
pub async fn tool_checks(server_major: Option<u32>) -> Vec<crate::model::ToolCheck> {
    use crate::pgtools::{choose, Needs, Tool};
    let needs = Needs {
        server: server_major,
        archive: None,
    };
    let mut out = Vec::new();
    for tool in [Tool::PgDump, Tool::PgRestore, Tool::Psql] {
        out.push(match choose(tool, needs).await {
            Ok(c) => crate::model::ToolCheck {
                name: tool.name().to_string(),
                major: Some(c.binary.major),
                ok: true,
                message: c.why,
                path: c.binary.path.display().to_string(),
                version: c.binary.version,
            },
            Err(e) => crate::model::ToolCheck {
                name: tool.name().to_string(),
                major: None,
                ok: false,
                message: e.to_string(),
                path: String::new(),
                version: String::new(),
            },
        });
    }
    out
}
