//! Sending one delivery: the Standard Webhooks request, to an address the policy permits.
//!
//! The address is checked after DNS resolution, by our own resolver (a name that resolves to a
//! private address is refused however it is spelt), on every redirect (at most three; an address
//! literal in a `Location` is checked before it is followed), and never through a proxy from the
//! environment (which would resolve the name itself).

use crate::domain::webhooks::{AddressPolicy, envelope, refusal, signature_header};
use crate::service::webhooks::{Claimed, Outcome, signing_secrets};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest part of an answer kept in the delivery log.
const EXCERPT_CHARS: usize = 500;
/// At most this much of an answer is read.
const READ_LIMIT: usize = 4096;

/// The HTTP client deliveries share (keep-alive connections per host).
pub struct Sender {
    client: reqwest::Client,
    allow: AddressPolicy,
}

struct CheckedResolver {
    allow: AddressPolicy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.iter().copied().filter(|a| allow.permits(a.ip())).collect();
            match (permitted.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs),
                (true, Some(first)) => Err(format!("{} resolves to {}", name.as_str(), refusal(first.ip())).into()),
                (true, None) => Err(format!("{} does not resolve", name.as_str()).into()),
            }
        })
    }
}

impl Sender {
    pub fn new(allow: AddressPolicy, timeout: Duration) -> Sender {
        let redirects = allow.clone();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("Portico-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver { allow: allow.clone() }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 3 {
                    attempt.error("more than 3 redirects")
                } else if !matches!(attempt.url().scheme(), "http" | "https") {
                    attempt.error("a redirect to a scheme other than http(s)")
                } else if let Some(why) = redirects.refuse_literal(attempt.url()) {
                    attempt.error(format!("a redirect to {why}"))
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .expect("the webhook HTTP client builds");
        Sender { client, allow }
    }

    /// Sends one claimed delivery and says how it went (never fails: a failure is an outcome).
    pub async fn deliver(&self, c: Claimed) -> Outcome {
        let at_ms = super::now_ms();
        let started = Instant::now();
        let mut outcome = Outcome {
            delivery_id: c.id.clone(),
            attempt: c.attempts,
            at_ms,
            status_code: None,
            latency_ms: 0,
            excerpt: String::new(),
            error: None,
        };
        let result = self.send(&c, at_ms / 1000).await;
        outcome.latency_ms = started.elapsed().as_millis() as i64;
        match result {
            Ok((status, excerpt)) => {
                outcome.status_code = Some(status);
                outcome.excerpt = excerpt;
                if !(200..300).contains(&status) {
                    outcome.error = Some(format!("the endpoint answered {status}"));
                }
            }
            Err(why) => outcome.error = Some(clean(&why)),
        }
        outcome
    }

    async fn send(&self, c: &Claimed, now: i64) -> Result<(u16, String), String> {
        let url = reqwest::Url::parse(&c.url).map_err(|e| format!("the endpoint URL is invalid: {e}"))?;
        if let Some(why) = self.allow.refuse_literal(&url) {
            return Err(why);
        }
        let data: serde_json::Value = serde_json::from_str(&c.payload).unwrap_or(serde_json::Value::Null);
        let body = envelope(&c.event_type, c.created_at, data).to_string();
        let secrets = signing_secrets(c, now);
        let signature = signature_header(&secrets.iter().collect::<Vec<_>>(), &c.event_id, now, body.as_bytes());
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &c.event_id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        let status = response.status().as_u16();
        let excerpt = read_excerpt(response).await;
        Ok((status, excerpt))
    }
}

/// The start of an answer's body, as text fit for the log.
async fn read_excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < READ_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    clean(&String::from_utf8_lossy(&bytes[..bytes.len().min(READ_LIMIT)]))
}

/// At most [`EXCERPT_CHARS`] characters, without control characters (a NUL cannot be stored).
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || *c == '\n').take(EXCERPT_CHARS).collect()
}

/// A request error with its causes (the resolver's refusal is a cause of "error sending request").
fn describe(e: reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_string() } else { e.to_string() };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
