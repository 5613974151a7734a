//! Webhooks, as rules: which events exist and which an endpoint receives, the order they keep, how
//! a delivery is signed (the Standard Webhooks spec, <https://www.standardwebhooks.com>), when a
//! failed one is tried again, and which addresses a delivery may reach. No I/O: the worker in
//! `jobs/` does the sending, `store/` the bookkeeping.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An event type Portico raises: its name, what it means, and whether webhooks carry it (mails
/// that carry a one-time link never leave by webhook).
#[derive(Clone, Copy, Debug)]
pub struct EventType {
    pub name: &'static str,
    pub about: &'static str,
    pub webhook: bool,
}

const fn ev(name: &'static str, about: &'static str) -> EventType {
    EventType { name, about, webhook: true }
}

/// Every event type, in the order the documentation lists them (docs/webhooks.md; a test keeps the
/// two alike, and `store::audit::enqueue` refuses, in debug builds, a type not listed here).
pub const EVENTS: &[EventType] = &[
    ev("order.placed", "An order was placed (any channel) or released for good after approval."),
    ev("order.approval_requested", "An order waits for a buyer-side approver."),
    ev("order.approval_given", "One approver of several approved; the order still waits."),
    ev("order.approved", "The last approval was given; the order went on."),
    ev("order.approval_rejected", "An approver rejected the order."),
    ev("order.escalated", "Self-service placement routed the order to its rep or the desk."),
    ev("order.completed", "Staff completed an escalated order; it was placed."),
    ev("order.sent_back", "Staff sent an escalated order back to the buyer."),
    ev("order.amended", "An open order's lines, ship-to or PO changed (a new revision)."),
    ev("order.confirmed", "The seller confirmed the order."),
    ev("order.partially_shipped", "Some of the order shipped."),
    ev("order.shipped", "All of the order shipped."),
    ev("order.closed", "The order is complete."),
    ev("order.cancelled", "The order was cancelled."),
    ev("order.on_hold", "The order was put on hold (credit)."),
    ev("order.released", "Finance released a held order."),
    ev("order.rejected", "Finance rejected a held order (it is cancelled)."),
    ev("shipment.created", "A shipment was recorded: lines, warehouse, carrier, tracking."),
    ev("invoice.issued", "An invoice was issued (after a shipment, or at placement for prepay)."),
    ev("credit_note.issued", "A credit note was issued against an invoice."),
    ev("credit_note.unapplied", "A credit note's application to an invoice was taken off."),
    ev("payment.recorded", "A payment was recorded (manual, import, or online)."),
    ev("payment.applied", "A payment was applied to invoices."),
    ev("payment.unapplied", "A payment's application to an invoice was taken off."),
    ev("payment.reversed", "A payment was reversed (e.g. a bounced check)."),
    ev("statement.sent", "Finance sent an account its statement for a period (by mail)."),
    ev("quote.requested", "A buyer asked for a quote."),
    ev("quote.created", "The seller started a quote."),
    ev("quote.priced", "The seller changed a quote's prices or lines."),
    ev("quote.signoff_requested", "A quote waits for a sales manager's sign-off."),
    ev("quote.signoff_refused", "A sales manager sent a quote back to draft."),
    ev("quote.sent", "A quote was sent to the customer."),
    ev("quote.revised", "A declined or expired quote was revised."),
    ev("quote.withdrawn", "The seller withdrew a quote."),
    ev("quote.declined", "The customer declined a quote."),
    ev("quote.accepted", "The customer accepted a quote; it names its order."),
    ev("quote.expired", "A sent quote passed its last day."),
    ev("quote.message", "A message was posted on a quote."),
    ev("account.created", "A customer account was created."),
    ev("account.updated", "A customer account changed (terms, credit limit, status, owner)."),
    ev("accounts.imported", "An account CSV import finished."),
    ev("ship_to.created", "A ship-to location was added to an account."),
    ev("ship_to.updated", "A ship-to changed (label, address, or it became the account's default)."),
    ev("ship_to.removed", "A ship-to was removed from an account."),
    ev("ship_tos.imported", "A ship-to CSV import finished."),
    ev("account_user.created", "A user was added to (invited into) a customer account."),
    ev("account_user.updated", "An account user's name, role or active state changed."),
    ev("account_group.created", "An account group was created."),
    ev("account_group.renamed", "An account group was renamed."),
    ev("account_group.deleted", "An account group was deleted; its accounts left it and its assignments went."),
    ev("approval_rule.created", "A buyer-side approval rule was added."),
    ev("approval_rule.deleted", "A buyer-side approval rule was removed."),
    ev("licence.added", "A licence was recorded for an account."),
    ev("licence.updated", "A licence changed."),
    ev("licence.verified", "A licence was verified by staff."),
    ev("licence.expiring", "A licence entered its 30-day expiry window."),
    ev("product.created", "A product was created."),
    ev("product.updated", "A product changed."),
    ev("products.imported", "A product CSV import finished."),
    ev("category.created", "A category was created."),
    ev("category.updated", "A category changed."),
    ev("category.deleted", "A category was deleted."),
    ev("catalog.created", "A customer catalog was created."),
    ev("catalog.updated", "A customer catalog's name, rules or assignments changed."),
    ev("catalog.deleted", "A customer catalog was deleted with its rules and assignments."),
    ev("prices.changed", "Price lists or contract prices changed."),
    ev("prices.imported", "A price CSV import finished."),
    ev("stock.changed", "A product's stock in a warehouse changed."),
    ev("stock.imported", "A stock CSV import finished."),
    ev("warehouse.created", "A warehouse was created."),
    ev("warehouse.updated", "A warehouse's name or sort order changed."),
    ev("commission_plan.created", "A commission plan was created."),
    ev("commission_plan.updated", "A commission plan's dates, rates, tiers or cap changed."),
    ev("commission_plan.assigned", "A commission plan was assigned to a sales rep or a team from a date."),
    ev("commission_plan.unassigned", "A commission plan assignment (to a rep or a team) was removed."),
    ev("commission_team.created", "A commission team was created."),
    ev("commission_team.renamed", "A commission team was renamed."),
    ev("commission_team.deleted", "An empty commission team was deleted."),
    ev("commission_team.member_added", "A sales rep joined a commission team."),
    ev("commission_team.member_removed", "A sales rep left a commission team."),
    ev("commission_house.changed", "An account became a house account (earns no commission) or stopped being one."),
    ev("commission_statement.approved", "Finance approved a rep's commission statement for a month."),
    ev("commission_statement.locked", "Finance locked a rep's approved commission statement; it never changes again."),
    ev("commission_statement.reopened", "Finance sent an approved commission statement back to open."),
    EventType {
        name: "user.invited",
        about: "A user was invited (mail only: it carries a one-time link).",
        webhook: false,
    },
    EventType {
        name: "user.password_reset_requested",
        about: "A password reset was asked for (mail only: it carries a one-time link).",
        webhook: false,
    },
    ev("webhook.test", "Sent by “Send a test event” on an endpoint, to that endpoint only."),
];

pub fn event_type(name: &str) -> Option<&'static EventType> {
    EVENTS.iter().find(|e| e.name == name)
}

pub fn is_known(name: &str) -> bool {
    event_type(name).is_some()
}

/// What an endpoint subscribes to: every webhook event, or a list of types and `noun.*` families.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription(Vec<String>);

impl Subscription {
    /// Parses a list separated by spaces, commas or new lines. `*` alone means every type.
    pub fn parse(text: &str) -> Result<Subscription, String> {
        let mut items: Vec<String> = Vec::new();
        for item in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            let known = item == "*"
                || match item.strip_suffix(".*") {
                    Some(family) => EVENTS.iter().any(|e| e.webhook && e.name.split('.').next() == Some(family)),
                    None => event_type(item).is_some_and(|e| e.webhook),
                };
            if !known {
                return Err(format!(
                    "“{}” is not an event type webhooks carry; use names such as order.placed, a family such as order.*, or * for all.",
                    item.chars().take(60).collect::<String>()
                ));
            }
            if !items.iter().any(|i| i == item) {
                items.push(item.to_string());
            }
        }
        if items.is_empty() {
            return Err("Choose at least one event type (or * for all).".into());
        }
        if items.iter().any(|i| i == "*") {
            items = vec!["*".into()];
        }
        Ok(Subscription(items))
    }

    /// The stored form: the items separated by single spaces.
    pub fn as_text(&self) -> String {
        self.0.join(" ")
    }

    pub fn items(&self) -> &[String] {
        &self.0
    }

    /// Whether an event of `name` goes to this endpoint. `webhook.test` is sent to one endpoint
    /// explicitly, never fanned out.
    pub fn matches(&self, name: &str) -> bool {
        if name == "webhook.test" || !event_type(name).is_some_and(|e| e.webhook) {
            return false;
        }
        self.0
            .iter()
            .any(|i| i == "*" || i == name || i.strip_suffix(".*").is_some_and(|f| name.split('.').next() == Some(f)))
    }
}

/// The key whose events are delivered to an endpoint one after another, in the order they
/// happened: an order's events (its shipments, invoices and credit notes included, through their
/// `order_id`); otherwise the object the event is about (its `id` or `<noun>_id`, a product by its
/// `sku`, else its account). An event about none of these (an import's summary) waits for no other.
pub fn ordering_key(event_id: &str, event_type: &str, payload: &serde_json::Value) -> String {
    let noun = event_type.split('.').next().unwrap_or(event_type);
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    let of_an_order = matches!(noun, "order" | "shipment" | "invoice" | "credit_note");
    let order = if noun == "order" { text("id") } else { text("order_id") };
    if of_an_order && let Some(order) = order {
        return format!("order:{order}");
    }
    if let Some(id) = text("id").or_else(|| text(&format!("{noun}_id"))) {
        return format!("{noun}:{id}");
    }
    if let Some(sku) = text("sku") {
        return format!("product:{sku}");
    }
    if let Some(account) = text("account_id") {
        return format!("account:{account}");
    }
    format!("event:{event_id}")
}

/// The JSON body every delivery carries: `{"type", "timestamp", "data"}` (Standard Webhooks'
/// recommended shape); `timestamp` is when the event happened, RFC 3339 in UTC.
pub fn envelope(event_type: &str, created_at: i64, data: serde_json::Value) -> serde_json::Value {
    let ts = time::OffsetDateTime::from_unix_timestamp(created_at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    serde_json::json!({ "type": event_type, "timestamp": ts, "data": data })
}

/// An endpoint's signing secret: `whsec_` and the base64 of 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    pub const PREFIX: &'static str = "whsec_";

    pub fn from_random(bytes: [u8; 32]) -> Secret {
        Secret(bytes.to_vec())
    }

    /// Reads `whsec_<base64>` (24 to 64 key bytes, as the spec allows).
    pub fn parse(text: &str) -> Option<Secret> {
        let key = B64.decode(text.strip_prefix(Secret::PREFIX)?).ok()?;
        (24..=64).contains(&key.len()).then_some(Secret(key))
    }

    pub fn as_text(&self) -> String {
        format!("{}{}", Secret::PREFIX, B64.encode(&self.0))
    }

    /// `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut content = Vec::with_capacity(msg_id.len() + body.len() + 24);
        content.extend_from_slice(msg_id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(timestamp.to_string().as_bytes());
        content.push(b'.');
        content.extend_from_slice(body);
        format!("v1,{}", B64.encode(super::signature::hmac_sha256(&self.0, &content)))
    }
}

/// The `webhook-signature` header: one signature per secret in force (the current one, and the
/// previous one during a rotation's overlap), separated by spaces.
pub fn signature_header(secrets: &[&Secret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// How a receiver checks a delivery (the tests' receiver, and the example in docs/webhooks.md):
/// some `v1` signature in the header is the secret's, and the timestamp is within `tolerance`
/// seconds of `now`.
pub fn verify(
    secret: &Secret,
    header: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> bool {
    if (now - timestamp).abs() > tolerance {
        return false;
    }
    let expected = secret.sign(msg_id, timestamp, body);
    header.split(' ').any(|given| {
        given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// When a failed delivery is tried again, and when it is given up (dead-lettered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles after each further one…
    pub base_ms: u64,
    /// …up to this.
    pub cap_ms: u64,
    /// After this many failed attempts the delivery is dead (an admin can replay it).
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    /// 5 s, 10 s, 20 s … capped at 6 hours; given up after 15 attempts (about 26 hours).
    fn default() -> RetryPolicy {
        RetryPolicy { base_ms: 5_000, cap_ms: 6 * 3_600_000, max_attempts: 15 }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`, after `attempts` failures: the exponential step,
    /// capped, then a random point in its upper half (`jitter` is any random number), so the
    /// deliveries that failed together (an endpoint that was down) do not all come back together.
    pub fn backoff_ms(&self, attempts: i64, jitter: u64) -> u64 {
        let shift = (attempts.max(1) - 1).min(40) as u32;
        let step = self.base_ms.saturating_mul(1u64 << shift).min(self.cap_ms).max(1);
        let half = step / 2;
        step - half + jitter % (half + 1)
    }

    pub fn gives_up_after(&self, attempts: i64) -> bool {
        attempts >= self.max_attempts
    }

    /// When attempt `attempt`, failed at `at_ms`, is followed by the next: `None` once given up.
    pub fn retry_at(&self, attempt: i64, at_ms: i64, jitter: u64) -> Option<i64> {
        (!self.gives_up_after(attempt)).then(|| at_ms + self.backoff_ms(attempt, jitter) as i64)
    }
}

/// An endpoint's URL, checked: `http` or `https`, a host, no credentials, no fragment, at most
/// 2,000 characters.
pub fn check_url(text: &str) -> Result<url::Url, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the endpoint's URL, e.g. https://erp.example.com/portico/webhooks.".into());
    }
    if text.chars().count() > 2000 {
        return Err("The URL is longer than 2,000 characters.".into());
    }
    if text.chars().any(char::is_control) {
        return Err("The URL contains control characters.".into());
    }
    let url = url::Url::parse(text)
        .map_err(|e| format!("“{}” is not a URL ({e}).", text.chars().take(80).collect::<String>()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("The URL must start with https:// (or http://).".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The URL has no host.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Put no user name or password in the URL; deliveries are signed instead.".into());
    }
    if url.fragment().is_some() {
        return Err("The URL has a #fragment, which is never sent; remove it.".into());
    }
    Ok(url)
}

/// A network, `address/prefix` (an address alone is the one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr =
            addr.parse().map_err(|_| format!("“{text}” is not an address or network (e.g. 10.0.0.0/8)."))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("“{text}”: the prefix must be 0–{max}."))?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address carried in IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata at 169.254.169.254), shared (CGNAT), unspecified, multicast, broadcast, documentation
/// or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => {
            let [b0, b1, ..] = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || b0 == 0
                || (b0 == 100 && (64..128).contains(&b1))
                || (b0 == 192 && b1 == 0 && a.octets()[2] == 0)
                || (b0 == 198 && (18..20).contains(&b1))
                || b0 >= 240)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b && !is_public(IpAddr::V4(embedded_v4(a)))))
        }
    }
}

fn embedded_v4(a: Ipv6Addr) -> Ipv4Addr {
    let o = a.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// Which addresses deliveries may reach: public ones, and the networks a setting allows
/// (`PORTICO_WEBHOOKS_ALLOW_NETWORKS`, e.g. an ERP on the office network).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allowed: Vec<Network>,
}

impl AddressPolicy {
    /// Parses a list of networks separated by commas or spaces.
    pub fn parse(text: &str) -> Result<AddressPolicy, String> {
        let allowed = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// The refusal, for a URL whose host is an address literal the policy does not permit.
    pub fn refuse_literal(&self, url: &url::Url) -> Option<String> {
        let ip = match url.host()? {
            url::Host::Ipv4(a) => IpAddr::V4(a),
            url::Host::Ipv6(a) => IpAddr::V6(a),
            url::Host::Domain(_) => return None,
        };
        (!self.permits(ip)).then(|| refusal(ip))
    }
}

/// Why a delivery did not go to `ip`.
pub fn refusal(ip: IpAddr) -> String {
    format!(
        "{ip} is a private, loopback or reserved address; deliveries go only to public addresses unless PORTICO_WEBHOOKS_ALLOW_NETWORKS allows it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spec_example_signature() {
        // The example in the Standard Webhooks specification.
        let s = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(verify(
            &s,
            "v1,bogus v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            1614265331,
            300
        ));
        assert!(!verify(
            &s,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            1614265330 + 301,
            300
        ));
    }

    #[test]
    fn secrets_read_back_and_bad_ones_are_refused() {
        let s = Secret::from_random([7; 32]);
        assert_eq!(Secret::parse(&s.as_text()), Some(s));
        assert!(Secret::parse("whsec_short").is_none());
        assert!(Secret::parse("sk_live_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
    }

    #[test]
    fn subscriptions_name_known_types_or_families() {
        let s = Subscription::parse("order.placed, invoice.*\nshipment.created order.placed").unwrap();
        assert_eq!(s.as_text(), "order.placed invoice.* shipment.created");
        assert!(s.matches("order.placed") && s.matches("invoice.issued") && s.matches("shipment.created"));
        assert!(!s.matches("order.shipped") && !s.matches("payment.recorded"));
        let all = Subscription::parse("order.placed *").unwrap();
        assert_eq!(all.as_text(), "*");
        assert!(all.matches("stock.changed"));
        // Link mails and test events never fan out.
        assert!(!all.matches("user.invited") && !all.matches("webhook.test"));
        assert!(Subscription::parse("order.teleported").unwrap_err().contains("order.teleported"));
        assert!(Subscription::parse("user.invited").is_err());
        assert!(Subscription::parse("nothing.*").is_err());
        assert!(Subscription::parse(" , ").is_err());
    }

    #[test]
    fn an_orders_events_share_its_key() {
        let order = serde_json::json!({"id": "o1", "number": "SO-1"});
        let shipment = serde_json::json!({"id": "s1", "order_id": "o1"});
        assert_eq!(ordering_key("e1", "order.placed", &order), "order:o1");
        assert_eq!(ordering_key("e1", "shipment.created", &shipment), "order:o1");
        assert_eq!(ordering_key("e1", "invoice.issued", &serde_json::json!({"invoice_id": "i1"})), "invoice:i1");
        let stock = serde_json::json!({"sku": "GLV-1", "warehouse": "CHI", "on_hand": 5});
        assert_eq!(ordering_key("e1", "stock.changed", &stock), "product:GLV-1");
        // A summary about no one object waits for nothing.
        assert_eq!(ordering_key("e1", "stock.imported", &serde_json::json!({"rows": 3})), "event:e1");
        // A quote's events stay the quote's, before and after it names its order.
        let accepted = serde_json::json!({"id": "q1", "order_id": "o1"});
        assert_eq!(ordering_key("e1", "quote.accepted", &accepted), "quote:q1");
        assert_eq!(ordering_key("e1", "quote.message", &serde_json::json!({"quote_id": "q1"})), "quote:q1");
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://erp.example.com/hooks?x=1").is_ok());
        for bad in [
            "",
            "ftp://x.example",
            "https://user:pw@x.example/",
            "https://x.example/#a",
            "not a url",
            "https://x\0y.example",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn a_setting_can_allow_a_network() {
        let p = AddressPolicy::parse("127.0.0.1/32, 10.0.0.0/8 ::1").unwrap();
        assert!(p.permits("127.0.0.1".parse().unwrap()));
        assert!(!p.permits("127.0.0.2".parse().unwrap()));
        assert!(p.permits("10.200.0.1".parse().unwrap()));
        assert!(p.permits("::1".parse().unwrap()));
        assert!(!p.permits("192.168.0.1".parse().unwrap()));
        assert!(AddressPolicy::parse("10.0.0.0/33").is_err());
        assert!(AddressPolicy::parse("intranet").is_err());
        let url = url::Url::parse("http://127.0.0.2:9/x").unwrap();
        assert!(p.refuse_literal(&url).unwrap().contains("127.0.0.2"));
        assert!(p.refuse_literal(&url::Url::parse("http://127.0.0.1:9/x").unwrap()).is_none());
        assert!(AddressPolicy::default().refuse_literal(&url::Url::parse("http://[::1]/").unwrap()).is_some());
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_for_its_message(key in proptest::array::uniform32(any::<u8>()), body in proptest::collection::vec(any::<u8>(), 0..200), ts in 0i64..4_000_000_000, other in any::<u8>()) {
            let s = Secret::from_random(key);
            let header = signature_header(&[&s], "msg_1", ts, &body);
            prop_assert!(verify(&s, &header, "msg_1", ts, &body, ts, 300));
            let mut changed = body.clone();
            changed.push(other);
            prop_assert!(!verify(&s, &header, "msg_1", ts, &changed, ts, 300));
            prop_assert!(!verify(&s, &header, "msg_2", ts, &body, ts, 300));
        }

        #[test]
        fn backoff_grows_stays_in_its_step_and_never_passes_the_cap(attempts in 1i64..100, jitter in any::<u64>(), base in 1u64..100_000, cap in 1u64..100_000_000) {
            let p = RetryPolicy { base_ms: base, cap_ms: cap.max(base), max_attempts: 10 };
            let wait = p.backoff_ms(attempts, jitter);
            let step = base.saturating_mul(1u64 << ((attempts - 1).min(40) as u32)).min(p.cap_ms);
            prop_assert!(wait <= step && wait >= step / 2, "wait {} step {}", wait, step);
        }
    }
}
