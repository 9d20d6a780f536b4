//! What an operator copies from the repository: `docs/operating.md` names only files and
//! commands that exist, its settings load, the systemd unit parses and has its hardening, and
//! the proxy examples set the forwarded address Hearth is told to trust.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::served::HEARTH;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text inside backticks and inside fenced code blocks: where the guide names files and
/// commands.
fn quoted_and_code(doc: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut in_block = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            pieces.push(line.to_owned());
        } else {
            pieces.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    pieces
}

/// Repository paths (`contrib/…`, `config/…`, `docs/…`) named in `pieces`.
fn repository_paths(pieces: &[String]) -> BTreeSet<String> {
    const TOP: [&str; 5] = ["contrib/", "config/", "docs/", "crates/", "migrations/"];
    pieces
        .iter()
        .flat_map(|piece| piece.split_whitespace())
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != '.'))
        .filter(|word| TOP.iter().any(|top| word.starts_with(top)))
        .map(|word| word.trim_end_matches('.').to_owned())
        .collect()
}

/// The subcommands named after `hearth` (past `--config FILE` and `--data-dir DIR`), with
/// `admin`'s own subcommand: `["backup"]`, `["admin", "create"]`.
fn commands(pieces: &[String]) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for piece in pieces {
        let words: Vec<&str> = piece.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            if *word != "hearth" {
                continue;
            }
            let mut rest = words[i + 1..].iter().copied().peekable();
            while let Some(flag) = rest.next_if(|w| *w == "--config" || *w == "--data-dir") {
                let _ = flag;
                rest.next();
            }
            let is_word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase());
            let Some(first) = rest.next().filter(|w| is_word(w) && *w != "hearth") else {
                continue;
            };
            let mut command = vec![first.to_owned()];
            if first == "admin" {
                if let Some(second) = rest.next().filter(|w| is_word(w)) {
                    command.push(second.to_owned());
                }
            }
            found.insert(command);
        }
    }
    found
}

#[test]
fn operating_md_names_only_files_and_commands_that_exist() {
    let doc = read("docs/operating.md");
    let pieces = quoted_and_code(&doc);
    let paths = repository_paths(&pieces);
    for wanted in [
        "contrib/systemd/hearth.service",
        "contrib/nginx/hearth.conf",
        "contrib/caddy/Caddyfile",
        "config/hearth.example.toml",
    ] {
        assert!(paths.contains(wanted), "{wanted} is named: {paths:?}");
    }
    let missing: Vec<&String> = paths.iter().filter(|p| !root().join(p).exists()).collect();
    assert!(missing.is_empty(), "named but missing: {missing:?}");

    let commands = commands(&pieces);
    for wanted in ["serve", "backup", "restore", "migrate"] {
        assert!(
            commands.contains(&vec![wanted.to_owned()]),
            "`hearth {wanted}` is explained: {commands:?}"
        );
    }
    for command in &commands {
        let output = Command::new(HEARTH)
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`hearth {}` is not a command: {}",
            command.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The settings the guide tells an operator to write are settings Hearth accepts.
#[test]
fn the_settings_in_operating_md_load() {
    let doc = read("docs/operating.md");
    let toml: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect();
    assert_eq!(toml.len(), 1, "one settings example");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hearth.toml");
    std::fs::write(&config, toml[0]).unwrap();
    for wanted in [
        "public_url",
        "trust_x_forwarded_for = true",
        "data_dir",
        "[backups]",
    ] {
        assert!(toml[0].contains(wanted), "{wanted}");
    }
    let output = Command::new(HEARTH)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_service_unit_is_hardened_and_parses() {
    let unit = read("contrib/systemd/hearth.service");
    let lines: BTreeSet<&str> = unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for wanted in [
        "Type=notify",
        "User=hearth",
        "StateDirectory=hearth",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/hearth",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
        "ExecStart=/usr/local/bin/hearth --config /etc/hearth/hearth.toml serve",
        "WantedBy=multi-user.target",
    ] {
        assert!(lines.contains(wanted), "the unit has {wanted:?}");
    }
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("systemd-analyze is not installed: the unit was checked by its keys only");
        return;
    };
    // systemd checks that ExecStart exists: the binary under test stands in for the installed one.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("hearth.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/hearth", HEARTH)).unwrap();
    let output = Command::new(analyze)
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    // An unknown key or a bad value is only a warning to systemd: none is allowed here.
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
        .ok_or(())
}

/// Both proxies replace X-Forwarded-For with the client's address (Hearth takes the
/// right-most entry once `trust_x_forwarded_for = true`), and say which settings go with them.
#[test]
fn the_proxy_examples_set_the_address_hearth_trusts() {
    let nginx = read("contrib/nginx/hearth.conf");
    let caddy = read("contrib/caddy/Caddyfile");
    for wanted in [
        "proxy_pass http://127.0.0.1:8080;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header Host $host;",
        "ssl_certificate ",
        "return 301 https://",
    ] {
        assert!(nginx.contains(wanted), "nginx: {wanted}");
    }
    for wanted in [
        "reverse_proxy 127.0.0.1:8080",
        "header_up X-Forwarded-For {remote_host}",
    ] {
        assert!(caddy.contains(wanted), "Caddy: {wanted}");
    }
    for text in [&nginx, &caddy] {
        for setting in [
            "trust_x_forwarded_for = true",
            "public_url = \"https://",
            "listen = \"127.0.0.1:8080\"",
        ] {
            assert!(text.contains(setting), "{setting}");
        }
    }
}
