//! Paying invoices online through a payment provider: Portico sends the buyer to the provider's
//! hosted checkout and learns the outcome from the provider's signed callback — card data goes to
//! the provider only, never through Portico.
//!
//! [`PaymentProvider`] is what a real provider's adapter implements. [`LocalTestProvider`] speaks
//! the same shape of protocol as hosted checkouts do, over real HTTP, and is served by Portico
//! itself under `/test-provider/` when configured (`PORTICO_TEST_PROVIDER_SECRET`; on in
//! `portico demo`):
//! 1. Portico redirects the buyer to `/test-provider/checkout?s=<session>&sig=<hmac>` — the session
//!    (account, buyer, invoices, amount, where to call back and return) signed with the shared
//!    secret, so the provider takes only what Portico asked for;
//! 2. the provider's page shows "Pay $X"; on Pay it POSTs the event to Portico's
//!    `/payments/callback` with `Provider-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`;
//! 3. Portico checks the signature and its age (five minutes), records the payment with the
//!    provider's id as its external id and applies it to the chosen invoices; a bad, missing or
//!    stale callback is refused (400) and records nothing; a confirmation of a payment recorded
//!    before (delivered again, or twice at once) records nothing and is answered 200, as the
//!    API answers the same `external_id` again, so a provider whose first answer was lost stops
//!    sending it; if the database fails, 503 (the provider sends it again);
//! 4. the provider sends the buyer back to Portico.

use super::payments::{ProviderPayment, record_provider_payment};
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::signature::{sign_hex, verify_hex};
use crate::store::{Db, payments};
use serde::{Deserialize, Serialize};

/// How old a callback may be (seconds).
pub const CALLBACK_TOLERANCE_SECS: i64 = 300;
/// The header that carries a callback's signature.
pub const SIGNATURE_HEADER: &str = "provider-signature";

/// A hosted checkout Portico asks the provider for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkout {
    /// Portico's reference of the attempt.
    pub reference: String,
    pub account_id: String,
    pub user_id: String,
    pub description: String,
    /// Decimal text, e.g. "125.40".
    pub amount: String,
    pub invoices: Vec<String>,
    /// Where the provider reports the outcome (server to server).
    pub callback_url: String,
    /// Where the provider sends the buyer back.
    pub return_url: String,
    /// Unix seconds; a checkout is good for an hour.
    pub created: i64,
}

/// A payment the provider confirmed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderEvent {
    /// `payment.succeeded`
    #[serde(rename = "type")]
    pub kind: String,
    /// The provider's payment id (Portico's external id for it).
    pub id: String,
    pub checkout: Checkout,
    pub created: i64,
}

/// Why a callback is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback has no signature")]
    Missing,
    #[error("the callback's signature does not match")]
    BadSignature,
    #[error("the callback is too old or from the future")]
    Stale,
    #[error("the callback is not a payment event: {0}")]
    Malformed(String),
    #[error("this payment was reported before")]
    Replayed,
    /// Portico could not record it (its database failed): the provider should send it again.
    #[error("the payment could not be recorded now; send it again later")]
    Unavailable,
}

/// A payment provider with a hosted checkout and signed callbacks.
pub trait PaymentProvider: Send + Sync {
    /// The URL to send the buyer to, to pay `checkout`.
    fn checkout_url(&self, checkout: &Checkout) -> String;
    /// The confirmed payment of a callback, if its signature (the header's value) holds at `now`.
    fn verify_callback(&self, signature: Option<&str>, body: &[u8], now: i64) -> Result<ProviderEvent, CallbackError>;
}

/// The local test provider (see the module doc): a shared secret and where it is served.
#[derive(Clone)]
pub struct LocalTestProvider {
    pub base_url: String,
    secret: Vec<u8>,
}

impl LocalTestProvider {
    pub fn new(base_url: &str, secret: &str) -> LocalTestProvider {
        LocalTestProvider { base_url: base_url.trim_end_matches('/').to_string(), secret: secret.as_bytes().to_vec() }
    }

    /// Signs a session for the checkout URL.
    pub fn sign_session(&self, session_hex: &str) -> String {
        sign_hex(&self.secret, format!("session.{session_hex}").as_bytes())
    }

    /// The checkout a signed session names, if the signature holds and it is less than an hour old.
    pub fn open_session(&self, session_hex: &str, sig: &str, now: i64) -> Option<Checkout> {
        if !verify_hex(&self.secret, format!("session.{session_hex}").as_bytes(), sig) {
            return None;
        }
        let json = hex::decode(session_hex).ok()?;
        let c: Checkout = serde_json::from_slice(&json).ok()?;
        (now - c.created < 3600 && c.created <= now + 60).then_some(c)
    }

    /// The event of a payment taken for `checkout` at `now`, with a new provider payment id.
    pub fn succeeded(&self, checkout: Checkout, now: i64) -> ProviderEvent {
        ProviderEvent {
            kind: "payment.succeeded".into(),
            id: format!("tp_{}", crate::store::new_id()),
            checkout,
            created: now,
        }
    }

    /// The `Provider-Signature` header of a callback body sent at `t`.
    pub fn signature_header(&self, t: i64, body: &[u8]) -> String {
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        format!("t={t},v1={}", sign_hex(&self.secret, &signed))
    }
}

impl PaymentProvider for LocalTestProvider {
    fn checkout_url(&self, checkout: &Checkout) -> String {
        let session = hex::encode(serde_json::to_vec(checkout).unwrap_or_default());
        let sig = self.sign_session(&session);
        format!("{}/test-provider/checkout?s={session}&sig={sig}", self.base_url)
    }

    fn verify_callback(&self, signature: Option<&str>, body: &[u8], now: i64) -> Result<ProviderEvent, CallbackError> {
        let header = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(CallbackError::Missing)?;
        let mut t = None;
        let mut v1 = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = v.parse::<i64>().ok(),
                Some(("v1", v)) => v1 = Some(v),
                _ => {}
            }
        }
        let (Some(t), Some(v1)) = (t, v1) else { return Err(CallbackError::Missing) };
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        if !verify_hex(&self.secret, &signed, v1) {
            return Err(CallbackError::BadSignature);
        }
        if (now - t).abs() > CALLBACK_TOLERANCE_SECS {
            return Err(CallbackError::Stale);
        }
        let event: ProviderEvent = serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
        if event.kind != "payment.succeeded" {
            return Err(CallbackError::Malformed(event.kind));
        }
        Ok(event)
    }
}

/// Starts paying these open invoices online (a buyer with billing rights, for their own account):
/// the URL of the provider's hosted checkout.
pub async fn start_checkout(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    provider: &dyn PaymentProvider,
    public_url: &str,
    invoice_numbers: &[String],
) -> ServiceResult<String> {
    let p = actor.principal;
    let Some(account_id) = p.buyer_account().filter(|_| p.can(Permission::PortalBilling)) else {
        return Err(ServiceError::NotFound);
    };
    if invoice_numbers.is_empty() {
        return Err(ServiceError::invalid("invoices", "Choose the invoices to pay."));
    }
    let open = payments::open_invoices(db, account_id).await?;
    let mut total = Money::ZERO;
    let mut chosen = Vec::new();
    for n in invoice_numbers {
        super::names_nothing(n)?;
        let Some(i) = open.iter().find(|i| &i.number == n) else {
            return Err(ServiceError::invalid("invoices", format!("{n} is not an open invoice of your account.")));
        };
        if !chosen.contains(&i.number) {
            total = total
                .checked_add(Money::from_raw(i.total - i.paid))
                .ok_or_else(|| ServiceError::invalid("invoices", "Too much at once."))?;
            chosen.push(i.number.clone());
        }
    }
    let base = public_url.trim_end_matches('/');
    let checkout = Checkout {
        reference: crate::store::new_id(),
        account_id: account_id.to_string(),
        user_id: p.user_id.clone(),
        description: format!("Invoices {}", chosen.join(", ")),
        amount: total.to_plain(),
        invoices: chosen,
        callback_url: format!("{base}/payments/callback"),
        return_url: format!("{base}/portal/payments"),
        created: now,
    };
    Ok(provider.checkout_url(&checkout))
}

/// Takes a provider's callback: verified, then recorded and applied (once). The number of the
/// payment recorded.
pub async fn confirm_callback(
    db: &Db,
    now: i64,
    provider: &dyn PaymentProvider,
    signature: Option<&str>,
    body: &[u8],
) -> Result<String, CallbackError> {
    let event = provider.verify_callback(signature, body, now)?;
    let amount = Money::parse(&event.checkout.amount).map_err(|e| CallbackError::Malformed(e.to_string()))?;
    let user = crate::store::users::get(db, &event.checkout.user_id)
        .await
        .ok()
        .flatten()
        .and_then(|u| u.principal())
        .ok_or_else(|| CallbackError::Malformed("unknown buyer".into()))?;
    if user.buyer_account() != Some(event.checkout.account_id.as_str()) {
        return Err(CallbackError::Malformed("the buyer is not of the account".into()));
    }
    let paid = ProviderPayment {
        account_id: event.checkout.account_id.clone(),
        amount,
        invoices: event.checkout.invoices.clone(),
        external_id: event.id.clone(),
        reference: event.checkout.description.chars().take(200).collect(),
        paid_by: user,
    };
    match record_provider_payment(db, now, paid).await {
        Ok(Some(id)) => Ok(payments::get(db, &id).await.ok().flatten().map(|p| p.number).unwrap_or(id)),
        Ok(None) => Err(CallbackError::Replayed),
        // The database's own words stay in the log.
        Err(e @ (ServiceError::Store(_) | ServiceError::Internal(_))) => {
            tracing::error!(error = %e, "recording a provider's payment failed");
            Err(CallbackError::Unavailable)
        }
        Err(e) => Err(CallbackError::Malformed(e.to_string())),
    }
}

/// A minimal HTTP/1.1 client for `http://` URLs (the test provider's callback to Portico; tests):
/// one request, `Connection: close`, the whole answer read. Returns (status, body).
pub async fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, m.to_string());
    let rest = url.strip_prefix("http://").ok_or_else(|| invalid("only http:// URLs"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
    let mut stream = tokio::time::timeout(std::time::Duration::from_secs(10), tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))??;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status =
        text.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or_else(|| invalid("not HTTP"))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(now: i64) -> Checkout {
        Checkout {
            reference: "r".into(),
            account_id: "a".into(),
            user_id: "u".into(),
            description: "Invoices INV-1".into(),
            amount: "10.00".into(),
            invoices: vec!["INV-1".into()],
            callback_url: "http://x/payments/callback".into(),
            return_url: "http://x/portal/payments".into(),
            created: now,
        }
    }

    #[test]
    fn sessions_and_callbacks_hold_only_with_the_secret_and_in_time() {
        let p = LocalTestProvider::new("http://x/", "secret");
        let url = p.checkout_url(&checkout(1000));
        let q = url.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
        assert_eq!(p.open_session(&pairs[0].1, &pairs[1].1, 1010), Some(checkout(1000)));
        assert_eq!(p.open_session(&pairs[0].1, &pairs[1].1, 1000 + 3601), None, "expired");
        assert_eq!(LocalTestProvider::new("http://x", "other").open_session(&pairs[0].1, &pairs[1].1, 1010), None);
        let event = ProviderEvent {
            kind: "payment.succeeded".into(),
            id: "tp_1".into(),
            checkout: checkout(1000),
            created: 1000,
        };
        let body = serde_json::to_vec(&event).unwrap();
        let sig = p.signature_header(1000, &body);
        assert_eq!(p.verify_callback(Some(&sig), &body, 1100), Ok(event));
        assert_eq!(p.verify_callback(None, &body, 1100), Err(CallbackError::Missing));
        assert_eq!(p.verify_callback(Some(&sig), &body, 1000 + 301), Err(CallbackError::Stale));
        let mut tampered = body.clone();
        tampered[5] ^= 1;
        assert_eq!(p.verify_callback(Some(&sig), &tampered, 1100), Err(CallbackError::BadSignature));
        let forged = LocalTestProvider::new("http://x", "guess").signature_header(1000, &body);
        assert_eq!(p.verify_callback(Some(&forged), &body, 1100), Err(CallbackError::BadSignature));
    }
}
