//! Configuration: environment variables (and the flags of `portico serve`), documented in README.md.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// The URL users reach Portico at (links in invitations; `https` turns on Secure cookies and HSTS).
    pub public_url: String,
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: i64,
    /// A session ends this many seconds after sign-in, active or not.
    pub session_absolute_secs: i64,
    /// `GET /metrics` on the main address answers only to `Authorization: Bearer <this>`; without
    /// it the main address does not serve metrics at all (404).
    pub metrics_token: Option<String>,
    /// A second address that serves only `GET /metrics`, without a token (for a scraper on a
    /// private network or on the same host).
    pub metrics_bind: Option<SocketAddr>,
    /// The local test payment provider's shared secret: when set, Portico also serves the test
    /// provider under `/test-provider/` and buyers can pay invoices online through it
    /// (`service::payment_provider`). On in `portico demo`.
    pub test_provider_secret: Option<String>,
    /// The outbox worker's settings (retries, the networks deliveries may reach besides the public
    /// internet); the pages and API check endpoint URLs against the same networks.
    pub webhooks: crate::jobs::WorkerConfig,
    /// Whether `serve` runs the outbox worker in its process (`--no-worker` leaves it to
    /// `portico worker` processes).
    pub run_worker: bool,
    /// `PORTICO_IMAGE_DIR`: new product images' files go to this directory (a mount every node
    /// sees) instead of the database. Checked at start ([`crate::store::image_dir::ImageDir::open`]).
    pub image_dir: Option<std::path::PathBuf>,
}

impl Config {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Scheme + host (+ port) of `public_url`, compared with the `Origin` header of form posts.
    pub fn public_origin(&self) -> &str {
        let url = self.public_url.trim_end_matches('/');
        match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => &url[..i + 3 + j],
                None => url,
            },
            None => url,
        }
    }

    /// A config for tests and tools: in-memory defaults around a database URL.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_string(),
            bind: "127.0.0.1:0".parse().expect("static address"),
            public_url: "http://localhost:8080".to_string(),
            session_idle_secs: DEFAULT_IDLE_SECS,
            session_absolute_secs: DEFAULT_ABSOLUTE_SECS,
            metrics_token: None,
            metrics_bind: None,
            test_provider_secret: None,
            webhooks: crate::jobs::WorkerConfig::default(),
            run_worker: false,
            image_dir: None,
        }
    }
}

pub const DEFAULT_IDLE_SECS: i64 = 30 * 60;
pub const DEFAULT_ABSOLUTE_SECS: i64 = 12 * 60 * 60;

/// Wall-clock seconds, with an offset tests can move forward to expire sessions and tokens.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> i64 {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        secs + self.offset.load(Ordering::Relaxed)
    }

    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_origin_strips_path() {
        let mut c = Config::for_database("sqlite://x.db");
        c.public_url = "https://portal.example.com/portico/".into();
        assert_eq!(c.public_origin(), "https://portal.example.com");
        assert!(c.secure_cookies());
        c.public_url = "http://127.0.0.1:8080".into();
        assert_eq!(c.public_origin(), "http://127.0.0.1:8080");
    }
}
