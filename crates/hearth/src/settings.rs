//! The operator's settings: built-in defaults, then the config file, then `HEARTH_…`
//! environment variables, then command-line flags — each overriding the one before.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub site_name: String,
    pub listen: String,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub pool_size: u32,
    pub workers: usize,
    pub theme_dir: Option<PathBuf>,
    pub default_time_zone: String,
    pub session_days: i64,
    pub log: String,
    pub new_account_premod_posts: i32,
    pub public_log_shows_names: bool,
}

/// The defaults, as TOML, so they read exactly like `config/hearth.example.toml`.
const DEFAULTS: &str = r#"
site_name = "Hearth"
listen = "127.0.0.1:8080"
data_dir = "./data"
pool_size = 16
workers = 0
default_time_zone = "UTC"
session_days = 30
log = "info"
new_account_premod_posts = 0
public_log_shows_names = false
"#;

impl Settings {
    pub fn load(config_file: Option<&Path>) -> Result<Settings, String> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = config_file {
            if !path.exists() {
                return Err(format!("the config file {} does not exist", path.display()));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        builder = builder.add_source(
            Environment::with_prefix("HEARTH")
                .prefix_separator("_")
                .try_parsing(true),
        );
        let built = builder
            .build()
            .map_err(|e| format!("cannot read the configuration: {e}"))?;
        let mut settings: Settings = built
            .try_deserialize()
            .map_err(|e| format!("a setting has the wrong form: {e}"))?;
        // `DATABASE_URL` is the name most tools use; `HEARTH_DATABASE_URL` wins when both are set.
        if settings.database_url.is_none() {
            settings.database_url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
        }
        Ok(settings)
    }

    /// The database to open: the configured URL, or `hearth.db` in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => self
                .data_dir
                .join("hearth.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The configured public address, or the plain-http address the server is bound to.
    pub fn public_url(&self, bound_address: &str) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound_address}"),
        }
    }

    pub fn workers(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            self.workers
        }
    }
}

#[cfg(test)]
mod tests;
