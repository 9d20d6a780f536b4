//! `hearth check-config`: the settings read exactly as `hearth serve` reads them, shown as TOML
//! with every secret as `"***"`, and every problem found, each a sentence saying what to do.
//! Nothing is started and nothing is written but a probe file in the data directory (deleted
//! at once); the database is opened, not migrated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hearth_core::db::{self, Backend};

use crate::settings::{Loaded, Settings};

/// What secrets are shown as.
pub const MASK: &str = "***";

/// What `check-config` found.
pub struct Report {
    /// The effective settings as TOML, secrets masked (empty when they could not be read).
    pub settings_toml: String,
    /// Each a line: what is wrong and what to do.
    pub problems: Vec<String>,
    /// Worth knowing, not wrong (a database not created yet).
    pub notes: Vec<String>,
}

/// Reads the settings from `config_file` (and the environment), with `--data-dir` as given,
/// and checks them.
pub fn check(config_file: Option<&Path>, data_dir: Option<PathBuf>) -> Report {
    let mut report = Report {
        settings_toml: String::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let loaded = match Settings::read(config_file) {
        Ok(loaded) => loaded,
        Err(problem) => {
            report.problems.push(format!(
                "{problem}: fix the settings file or the HEARTH_ variable it names"
            ));
            return report;
        }
    };
    let Loaded {
        mut settings,
        effective,
        ignored,
    } = loaded;
    if let Some(dir) = data_dir {
        settings.data_dir = dir;
    }
    let mut secrets = Vec::new();
    // Every `*_file` setting, whichever part of Hearth reads it: (dotted name, path).
    let mut files = Vec::new();
    match effective {
        Ok(mut table) => {
            file_settings(&table, "", &mut files);
            // What `serve` changes after reading: the flag's data directory, `DATABASE_URL`.
            table.insert(
                "data_dir".to_owned(),
                toml::Value::String(settings.data_dir.to_string_lossy().into_owned()),
            );
            if let Some(url) = &settings.database_url {
                table.insert("database_url".to_owned(), toml::Value::String(url.clone()));
            }
            // Settings no field took are not in effect: listed as problems, not shown.
            for path in &ignored {
                forget(&mut table, path);
            }
            mask_table(&mut table, &mut secrets);
            match toml::to_string(&table) {
                Ok(text) => report.settings_toml = text,
                Err(e) => report
                    .problems
                    .push(format!("the settings cannot be shown as TOML: {e}")),
            }
        }
        Err(problem) => {
            report.problems.push(problem);
            files.extend(
                settings
                    .crisis_phrases_file
                    .iter()
                    .map(|path| ("crisis_phrases_file".to_owned(), path.clone())),
            );
            files.extend(
                settings
                    .email
                    .password_file
                    .iter()
                    .map(|path| ("email.password_file".to_owned(), path.clone())),
            );
        }
    }
    if let Some(password) = url_password(&settings.database_url()) {
        secrets.push(password);
    }
    let mut problems = settings.problems();
    for path in ignored {
        problems.push(format!(
            "unknown setting `{path}` (in the config file or a HEARTH_ variable): Hearth ignores \
             it; check its spelling and table against config/hearth.example.toml"
        ));
    }
    check_files(&settings, &files, config_file, &mut problems);
    check_addresses(&settings, &mut problems);
    // The mail sender as `serve` builds it (no connection is made), once the [email]
    // settings pass their own check (which says more about the same mistakes).
    if settings.email.check().is_ok() {
        let public_url = settings.public_url(&settings.listen);
        if let Err(problem) = hearth_core::mail::sender::Sender::from_settings(
            &settings.email,
            &settings.site_name,
            &public_url,
        ) {
            problems.push(format!("{problem}: check the [email] settings"));
        }
    }
    if let Err(problem) = check_writable(&settings.data_dir) {
        problems.push(problem);
    }
    check_database(&settings, &mut problems, &mut report.notes);
    // Belt and braces: no message repeats a secret, whatever it quotes.
    secrets.retain(|secret| secret.len() >= 3);
    // Each problem on one line (a database driver's message may have several).
    report.problems.extend(problems.into_iter().map(|problem| {
        let scrubbed = secrets
            .iter()
            .fold(problem, |text, secret| text.replace(secret.as_str(), MASK));
        scrubbed.split_whitespace().collect::<Vec<_>>().join(" ")
    }));
    report
}

/// Removes the setting at the dotted `path` (`email.smtp_hots`) from `table`; a path into a
/// list (`crisis_resources.helplines.0.hour`) is followed by its index.
fn forget(table: &mut toml::Table, path: &str) {
    let mut keys: Vec<&str> = path.split('.').collect();
    let Some(last) = keys.pop() else { return };
    let mut here: &mut toml::Value = match keys.first() {
        Some(first) => match table.get_mut(*first) {
            Some(value) => value,
            None => return,
        },
        None => {
            table.remove(last);
            return;
        }
    };
    for key in keys.iter().skip(1) {
        let next = match here {
            toml::Value::Table(inner) => inner.get_mut(*key),
            toml::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(value) => here = value,
            None => return,
        }
    }
    if let toml::Value::Table(inner) = here {
        inner.remove(last);
    }
}

/// Whether a setting's name says it holds a secret (a `*_file` holds a path: shown).
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    !key.ends_with("_file")
        && ["password", "token", "secret"]
            .iter()
            .any(|word| key.contains(word))
}

/// Every secret of `table` becomes [`MASK`] (collected in `secrets`); a database URL keeps
/// everything but its password.
fn mask_table(table: &mut toml::Table, secrets: &mut Vec<String>) {
    for (key, value) in table.iter_mut() {
        match value {
            toml::Value::String(text) if is_secret(key) => {
                if !text.is_empty() {
                    secrets.push(std::mem::take(text));
                }
                *value = toml::Value::String(MASK.to_owned());
            }
            toml::Value::String(text) if key.to_ascii_lowercase().contains("url") => {
                if let Some(password) = url_password(text) {
                    *text = text.replacen(&format!(":{password}@"), &format!(":{MASK}@"), 1);
                    secrets.push(password);
                }
            }
            toml::Value::Table(inner) => mask_table(inner, secrets),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        mask_table(inner, secrets);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The password in a URL's `user:password@` part, if it has one.
fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (user_info, _) = authority.rsplit_once('@')?;
    let (_, password) = user_info.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

/// The `*_file` settings of `table` (at any depth) with a path, as (dotted name, path).
fn file_settings(table: &toml::Table, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(path) if key.ends_with("_file") && !path.trim().is_empty() => {
                files.push((name, PathBuf::from(path)));
            }
            toml::Value::Table(inner) => file_settings(inner, &name, files),
            _ => {}
        }
    }
}

/// A `*_file` setting that cannot be read, and the crisis phrases as `serve` loads them.
fn check_files(
    settings: &Settings,
    files: &[(String, PathBuf)],
    config_file: Option<&Path>,
    problems: &mut Vec<String>,
) {
    for (key, path) in files {
        let shown = path.display().to_string();
        if problems.iter().any(|p| p.contains(&shown)) {
            continue;
        }
        let readable = std::fs::File::open(path).and_then(|file| file.metadata());
        match readable {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => problems.push(format!(
                "{key} = {shown} is not a file: name the file itself"
            )),
            Err(e) => problems.push(format!(
                "cannot read {key} = {shown} ({e}): fix the path, or let Hearth's user read the \
                 file"
            )),
        }
    }
    if let Err(problem) =
        hearth_core::safety::crisis::load_phrases(settings.crisis_phrases_file.as_deref())
    {
        let shown = settings
            .crisis_phrases_file
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if !problems.iter().any(|p| p.contains(&shown)) {
            problems.push(problem);
        }
    }
    if let Some(path) = config_file {
        if let Err(e) = std::fs::read_to_string(path) {
            problems.push(format!(
                "cannot read the config file {} ({e}): let Hearth's user read it",
                path.display()
            ));
        }
    }
}

fn listens_on_loopback(listen: &str) -> bool {
    match listen.parse::<SocketAddr>() {
        Ok(address) => address.ip().is_loopback(),
        Err(_) => listen.starts_with("localhost:"),
    }
}

/// `public_url` where mail, feeds and form checks need it; `trust_x_forwarded_for` without a
/// proxy in front.
fn check_addresses(settings: &Settings, problems: &mut Vec<String>) {
    let listen = settings.listen.as_str();
    let local = listens_on_loopback(listen);
    let public = settings.public_url.as_deref().map(str::trim);
    let https = public.is_some_and(|url| url.starts_with("https://"));
    match public {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            problems.push(format!(
                "public_url = {url:?} is not an http(s) address: set it to the address members \
                 open, such as https://forum.example.org"
            ));
        }
        Some(url) if !local && !https => problems.push(format!(
            "public_url = {url:?} is not https, but Hearth listens on {listen}, beyond this \
             machine: serve it behind a TLS proxy and set public_url to its https address"
        )),
        Some(_) => {}
        None if settings.email.enabled() => problems.push(format!(
            "public_url is not set, but e-mail is on: links in mail would name http://{listen}; \
             set public_url to the https address members open"
        )),
        None if !local => problems.push(format!(
            "public_url is not set, but Hearth listens on {listen}, beyond this machine: feeds \
             and form checks would use http://{listen}; set public_url to the https address \
             members open"
        )),
        None => {}
    }
    if settings.trust_x_forwarded_for {
        if !local {
            problems.push(format!(
                "trust_x_forwarded_for is on, but Hearth listens on {listen}, beyond this \
                 machine: whoever reaches it directly can forge X-Forwarded-For and dodge the \
                 sign-in limits; listen on 127.0.0.1 behind the proxy (docs/operating.md), or \
                 turn it off"
            ));
        } else if !https {
            problems.push(
                "trust_x_forwarded_for is on, but public_url is not an https address, so nothing \
                 says a reverse proxy is in front: set public_url to the proxy's https address, \
                 or turn trust_x_forwarded_for off if members reach Hearth directly"
                    .to_owned(),
            );
        }
    }
}

/// The data directory (or the folder it will be made in) takes a new file.
fn check_writable(dir: &Path) -> Result<(), String> {
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    let not_writable = |why: String| {
        format!(
            "data_dir {} is not writable ({why}): create it, or give Hearth's user write access \
             to it",
            dir.display()
        )
    };
    if !existing.is_dir() {
        return Err(not_writable(format!(
            "{} is not a folder",
            existing.display()
        )));
    }
    let probe = existing.join(format!(".hearth-check-config-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| not_writable(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The database opens and has no migration waiting (nor one from a newer Hearth).
fn check_database(settings: &Settings, problems: &mut Vec<String>, notes: &mut Vec<String>) {
    let url = settings.database_url();
    let mut shown = url.clone();
    if let Some(password) = url_password(&url) {
        shown = shown.replacen(&format!(":{password}@"), &format!(":{MASK}@"), 1);
    }
    if Backend::of_url(&url) == Backend::Sqlite
        && url != ":memory:"
        && !url.starts_with("file:")
        && !Path::new(&url).exists()
    {
        notes.push(format!(
            "there is no database at {shown} yet: `hearth migrate` or the first `hearth serve` \
             creates it"
        ));
        return;
    }
    let mut conn = match db::connect(&url) {
        Ok(conn) => conn,
        Err(e) => {
            problems.push(format!(
                "cannot reach the database {shown} ({e}): check database_url, that the \
                 database server runs, and that it accepts this user"
            ));
            return;
        }
    };
    match db::pending_migrations(&mut conn) {
        Ok(true) => problems.push(format!(
            "the database {shown} has migrations waiting: run `hearth migrate` (`hearth serve` \
             also runs them as it starts)"
        )),
        Ok(false) => {}
        Err(e) => problems.push(format!(
            "cannot read the migrations of the database {shown} ({e}): is it Hearth's database?"
        )),
    }
    if let Ok(unknown) = db::unknown_migrations(&mut conn) {
        if !unknown.is_empty() {
            problems.push(format!(
                "the database {shown} was migrated by a newer Hearth ({}): run that version, \
                 or restore a backup made by this one",
                unknown.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests;
