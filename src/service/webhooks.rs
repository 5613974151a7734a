//! Webhooks: the admin's endpoints (add, change, rotate the secret, delete, send a test event,
//! replay) and the worker's units of work (fan out, which claims what it can send at once; claim;
//! record). The sending itself is in `jobs::webhooks`; the rules in `domain::webhooks`.

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::{ActorChannel, Permission};
use crate::domain::webhooks::{self as rules, AddressPolicy, RetryPolicy, Secret, Subscription};
use crate::store::webhooks::{self as store, Attempt, EventRow, NewDelivery, Next};
pub use crate::store::webhooks::{AttemptRow, Backlog, Claimed, DeliveryRow, EndpointRow, EndpointSummary};
use crate::store::{Db, new_id};
use serde_json::json;

/// How long a rotated-out secret keeps signing beside the new one, unless the admin says otherwise.
pub const DEFAULT_OVERLAP_SECS: i64 = 24 * 3600;
/// The longest overlap an admin may choose (a week).
pub const MAX_OVERLAP_SECS: i64 = 7 * 24 * 3600;

fn require_admin(actor: &Actor<'_>) -> ServiceResult<()> {
    match actor.principal.can(Permission::ManageWebhooks) {
        true => Ok(()),
        false if actor.principal.is_staff() => Err(ServiceError::Forbidden),
        false => Err(ServiceError::NotFound),
    }
}

/// What an admin or integration says about an endpoint.
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub active: bool,
}

/// The input, checked: every problem, each on its field.
fn check(input: &EndpointInput, policy: &AddressPolicy) -> ServiceResult<(String, String, Subscription)> {
    let mut errors = Vec::new();
    let url = match rules::check_url(&input.url) {
        Ok(u) => match policy.refuse_literal(&u) {
            Some(why) => {
                errors.push(super::FieldError {
                    field: "url".into(),
                    message: format!("Deliveries cannot go there: {why}."),
                });
                None
            }
            None => Some(u.to_string()),
        },
        Err(why) => {
            errors.push(super::FieldError { field: "url".into(), message: why });
            None
        }
    };
    let description = input.description.trim();
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        errors.push(super::FieldError {
            field: "description".into(),
            message: "Describe the endpoint in at most 200 characters, without control characters.".into(),
        });
    }
    let subscription = match Subscription::parse(&input.event_types) {
        Ok(s) => Some(s),
        Err(why) => {
            errors.push(super::FieldError { field: "event_types".into(), message: why });
            None
        }
    };
    match (url, subscription) {
        (Some(u), Some(s)) if errors.is_empty() => Ok((u, description.to_string(), s)),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

fn new_secret() -> Secret {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the OS random source is available");
    Secret::from_random(key)
}

fn described(e: &EndpointRow) -> serde_json::Value {
    json!({ "url": e.url, "description": e.description, "event_types": e.event_types, "active": e.active })
}

/// The `created_by` of a change: the CLI's administrator is no user row.
fn user_of<'a>(actor: &'a Actor<'_>) -> Option<&'a str> {
    (actor.channel != ActorChannel::Cli).then_some(actor.principal.user_id.as_str())
}

/// Adds an endpoint; the returned secret (`whsec_…`) is the only time it is shown.
pub async fn create_endpoint(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    input: &EndpointInput,
    policy: &AddressPolicy,
) -> ServiceResult<(EndpointRow, String)> {
    require_admin(actor)?;
    let (url, description, subscription) = check(input, policy)?;
    let secret = new_secret().as_text();
    let row = EndpointRow {
        id: new_id(),
        url,
        description,
        event_types: subscription.as_text(),
        secret: secret.clone(),
        previous_secret: None,
        previous_until: None,
        active: input.active,
        created_at: now,
        updated_at: now,
    };
    db.write((actor.owned(), row), |tx, (actor, row)| {
        Box::pin(async move {
            let actor = &actor.actor();
            store::insert_endpoint(tx, row, user_of(actor)).await?;
            let after = described(row);
            audit(
                tx,
                Some(actor),
                row.created_at,
                "webhook_endpoint.created",
                ("webhook_endpoint", &row.id),
                None,
                Some(after),
            )
            .await?;
            Ok(row.clone())
        })
    })
    .await
    .map(|row| (row, secret))
}

/// Changes an endpoint's URL, description, event types or whether it is active.
pub async fn update_endpoint(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    input: &EndpointInput,
    policy: &AddressPolicy,
) -> ServiceResult<EndpointRow> {
    require_admin(actor)?;
    let (url, description, subscription) = check(input, policy)?;
    let unit = (actor.owned(), now, id.to_string(), url, description, subscription.as_text(), input.active);
    db.write(unit, |tx, (actor, now, id, url, description, types, active)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let before = store::lock_endpoint(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after = EndpointRow {
                url: url.clone(),
                description: description.clone(),
                event_types: types.clone(),
                active: *active,
                updated_at: *now,
                ..before.clone()
            };
            store::update_endpoint(tx, &after).await?;
            let change = (Some(described(&before)), Some(described(&after)));
            audit(tx, Some(actor), *now, "webhook_endpoint.updated", ("webhook_endpoint", id), change.0, change.1)
                .await?;
            Ok(after)
        })
    })
    .await
}

/// A new secret for an endpoint; the old one keeps signing too for `overlap_secs` (both
/// signatures go in each delivery's header meanwhile), so the receiver can switch without
/// missing a delivery. Returns the new secret: the only time it is shown.
pub async fn rotate_secret(db: &Db, now: i64, actor: &Actor<'_>, id: &str, overlap_secs: i64) -> ServiceResult<String> {
    require_admin(actor)?;
    if !(0..=MAX_OVERLAP_SECS).contains(&overlap_secs) {
        return Err(ServiceError::invalid("overlap_hours", "Keep the old secret for 0 to 168 hours."));
    }
    let secret = new_secret().as_text();
    let unit = (actor.owned(), now, id.to_string(), secret.clone(), overlap_secs);
    db.write(unit, |tx, (actor, now, id, secret, overlap)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let before = store::lock_endpoint(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after = EndpointRow {
                secret: secret.clone(),
                previous_secret: (*overlap > 0).then(|| before.secret.clone()),
                previous_until: (*overlap > 0).then_some(*now + *overlap),
                updated_at: *now,
                ..before
            };
            store::update_endpoint(tx, &after).await?;
            let detail = json!({ "old_secret_signs_until": after.previous_until });
            audit(
                tx,
                Some(actor),
                *now,
                "webhook_endpoint.secret_rotated",
                ("webhook_endpoint", id),
                None,
                Some(detail),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await?;
    Ok(secret)
}

/// Deletes an endpoint: it receives nothing more, what it still had to receive is cancelled, and
/// its delivery log stays for the audit.
pub async fn delete_endpoint(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<()> {
    require_admin(actor)?;
    db.write((actor.owned(), now, id.to_string()), |tx, (actor, now, id)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let before = store::lock_endpoint(tx, id).await?.ok_or(ServiceError::NotFound)?;
            store::delete_endpoint(tx, id, *now).await?;
            audit(
                tx,
                Some(actor),
                *now,
                "webhook_endpoint.deleted",
                ("webhook_endpoint", id),
                Some(described(&before)),
                None,
            )
            .await?;
            Ok(())
        })
    })
    .await
}

/// Queues a `webhook.test` event for one endpoint (only it receives it, active or not).
pub async fn send_test(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<()> {
    require_admin(actor)?;
    db.write((actor.owned(), now, id.to_string()), |tx, (actor, now, id)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let endpoint = store::lock_endpoint(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let payload = json!({ "endpoint_id": endpoint.id, "url": endpoint.url, "sent_by": actor.principal.name });
            let event_id = crate::store::audit::enqueue(tx, "webhook.test", &payload, *now).await?;
            let delivery = NewDelivery {
                event_id: &event_id,
                endpoint_id: &endpoint.id,
                ordering_key: format!("webhook_test:{event_id}"),
                due_ms: *now * 1000,
                now: *now,
                lease: None,
            };
            store::insert_deliveries(tx, &[delivery]).await?;
            store::mark_dispatched(tx, std::slice::from_ref(&event_id), *now).await?;
            audit(tx, Some(actor), *now, "webhook_endpoint.test_sent", ("webhook_endpoint", id), None, None).await?;
            Ok(())
        })
    })
    .await
}

/// Sends one delivery of an endpoint again (manual replay), now.
pub async fn replay(db: &Db, now: i64, actor: &Actor<'_>, endpoint_id: &str, delivery_id: &str) -> ServiceResult<()> {
    replay_some(db, now, actor, endpoint_id, Some(delivery_id.to_string())).await.map(|_| ())
}

/// Sends every dead delivery of an endpoint again; returns how many.
pub async fn replay_dead(db: &Db, now: i64, actor: &Actor<'_>, endpoint_id: &str) -> ServiceResult<u64> {
    replay_some(db, now, actor, endpoint_id, None).await
}

/// Replays one delivery (`Some`) or every dead one (`None`), audited.
async fn replay_some(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    endpoint_id: &str,
    delivery: Option<String>,
) -> ServiceResult<u64> {
    require_admin(actor)?;
    let unit = (actor.owned(), now, endpoint_id.to_string(), delivery);
    db.write(unit, |tx, (actor, now, endpoint_id, delivery)| {
        Box::pin(async move {
            let actor = &actor.actor();
            store::lock_endpoint(tx, endpoint_id).await?.ok_or(ServiceError::NotFound)?;
            let (n, detail) = match delivery {
                Some(id) => {
                    if !store::replay(tx, endpoint_id, id, *now * 1000).await? {
                        return Err(ServiceError::Conflict(
                            "That delivery is waiting to be sent already (or is not this endpoint's).".into(),
                        ));
                    }
                    (1, json!({ "delivery_id": id }))
                }
                None => {
                    let n = store::replay_dead(tx, endpoint_id, *now * 1000).await?;
                    (n, json!({ "replayed": n }))
                }
            };
            let object = ("webhook_endpoint", endpoint_id.as_str());
            audit(tx, Some(actor), *now, "webhook_delivery.replayed", object, None, Some(detail)).await?;
            Ok(n)
        })
    })
    .await
}

pub async fn endpoints(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<EndpointSummary>> {
    require_admin(actor)?;
    Ok(store::endpoints(db).await?)
}

pub async fn endpoint(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<EndpointSummary> {
    require_admin(actor)?;
    store::endpoint(db, id).await?.ok_or(ServiceError::NotFound)
}

/// A page of an endpoint's deliveries, newest first, with each one's attempts.
pub struct DeliveryPage {
    pub deliveries: Vec<(DeliveryRow, Vec<AttemptRow>)>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// Statuses a delivery list can be filtered by.
pub const STATUSES: [&str; 4] = ["pending", "delivered", "dead", "cancelled"];

pub async fn deliveries(
    db: &Db,
    actor: &Actor<'_>,
    endpoint_id: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> ServiceResult<DeliveryPage> {
    require_admin(actor)?;
    store::endpoint(db, endpoint_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(ServiceError::invalid("status", "Status is one of pending, delivered, dead, cancelled."));
    }
    let limit = limit.clamp(1, 200);
    let mut rows = store::deliveries(db, endpoint_id, status, before, limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone()).unwrap_or_default()
    });
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attempts: std::collections::HashMap<String, Vec<AttemptRow>> = std::collections::HashMap::new();
    for a in store::attempts(db, endpoint_id, &ids).await? {
        attempts.entry(a.delivery_id.clone()).or_default().push(a);
    }
    let deliveries = rows
        .into_iter()
        .map(|d| {
            let mine = attempts.remove(&d.id).unwrap_or_default();
            (d, mine)
        })
        .collect();
    Ok(DeliveryPage { deliveries, next })
}

pub async fn backlog(db: &Db, actor: &Actor<'_>) -> ServiceResult<Backlog> {
    require_admin(actor)?;
    Ok(store::backlog(db).await?)
}

/// The backlog for `/metrics` (its own guard: a metrics token or address).
pub async fn backlog_for_metrics(db: &Db) -> ServiceResult<Backlog> {
    Ok(store::backlog(db).await?)
}

// ---- the worker's units --------------------------------------------------------------------

/// The fan-out's own worker: it claims the new deliveries it may send at once (up to `max`),
/// saving a claim unit and a row update per delivery.
#[derive(Clone, Copy, Debug)]
pub struct FanOutClaim<'a> {
    pub owner: &'a str,
    pub lease_ms: i64,
    pub max: usize,
}

/// Fans out up to `limit` events: one delivery per live endpoint subscribed to the event's type
/// that existed when the event happened, and the event's mails (`service::mail::plan`). Returns
/// how many events were fanned out, and the deliveries claimed for `claim`'s worker as they were
/// created: of an endpoint with nothing pending, the first new delivery of each ordering key
/// (the others wait for it, as a claim would have them wait).
pub async fn dispatch(
    db: &Db,
    now_ms: i64,
    limit: i64,
    claim: Option<FanOutClaim<'_>>,
) -> ServiceResult<(usize, Vec<Claimed>)> {
    // Nothing to do is found by a read, so an idle worker writes nothing.
    if !store::any_undispatched(db).await? {
        return Ok((0, Vec::new()));
    }
    let claim = claim.map(|c| (c.owner.to_string(), c.lease_ms, c.max));
    db.write((now_ms, limit, claim), |tx, (now_ms, limit, claim)| {
        Box::pin(async move {
            let events = store::take_undispatched(tx, *limit).await?;
            if events.is_empty() {
                return Ok((0, Vec::new()));
            }
            let endpoints: Vec<(EndpointRow, Subscription)> = store::live_endpoints(tx)
                .await?
                .into_iter()
                .filter_map(|e| Subscription::parse(&e.event_types).ok().map(|s| (e, s)))
                .collect();
            // Endpoints whose new deliveries this worker may take at once: nothing of theirs pending.
            let mut free = std::collections::HashSet::new();
            if let Some((_, _, max)) = claim
                && *max > 0
            {
                for (e, _) in &endpoints {
                    if !store::has_pending(tx, &e.id).await? {
                        free.insert(e.id.as_str());
                    }
                }
            }
            let lease = claim.as_ref().map(|(owner, lease_ms, _)| (owner.as_str(), *now_ms + *lease_ms));
            let max = claim.as_ref().map_or(0, |c| c.2);
            let now = now_ms / 1000;
            let mut rows = Vec::new();
            let mut sent: Vec<(&EventRow, &EndpointRow)> = Vec::new();
            let mut keys = std::collections::HashSet::new();
            let mut mails = Vec::new();
            let parsed: Vec<(&EventRow, serde_json::Value)> = events
                .iter()
                .map(|ev| (ev, serde_json::from_str(&ev.payload).unwrap_or(serde_json::Value::Null)))
                .collect();
            let known = super::mail::recipients(tx, &parsed).await?;
            for (ev, payload) in &parsed {
                let ev = *ev;
                mails.extend(super::mail::plan(tx, &known, ev, payload, *now_ms).await?);
                let key = rules::ordering_key(&ev.id, &ev.event_type, payload);
                for (e, s) in &endpoints {
                    if e.created_at <= ev.created_at && s.matches(&ev.event_type) {
                        // Only the first of a key is sent now: the next waits for it.
                        let first = keys.insert((e.id.as_str(), key.clone()));
                        let leased = first && sent.len() < max && free.contains(e.id.as_str());
                        if leased {
                            sent.push((ev, e));
                        }
                        rows.push(NewDelivery {
                            event_id: &ev.id,
                            endpoint_id: &e.id,
                            ordering_key: key.clone(),
                            due_ms: *now_ms,
                            now,
                            lease: if leased { lease } else { None },
                        });
                    }
                }
            }
            let ids = store::insert_deliveries(tx, &rows).await?;
            crate::store::mail::insert_mails(tx, &mails).await?;
            let event_ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            store::mark_dispatched(tx, &event_ids, now).await?;
            // `sent` holds the leased rows' events and endpoints in the rows' order.
            let leased_ids = rows.iter().zip(ids).filter(|(r, _)| r.lease.is_some()).map(|(_, id)| id);
            let claimed = sent
                .into_iter()
                .zip(leased_ids)
                .map(|((ev, e), id)| Claimed {
                    id,
                    event_id: ev.id.clone(),
                    attempts: 1,
                    event_type: ev.event_type.clone(),
                    payload: ev.payload.clone(),
                    created_at: ev.created_at,
                    url: e.url.clone(),
                    secret: e.secret.clone(),
                    previous_secret: e.previous_secret.clone(),
                    previous_until: e.previous_until,
                })
                .collect();
            Ok::<_, ServiceError>((events.len(), claimed))
        })
    })
    .await
}

/// Claims up to `limit` due deliveries for this worker (`owner`) for `lease_ms`.
pub async fn claim(db: &Db, owner: &str, now_ms: i64, lease_ms: i64, limit: i64) -> ServiceResult<Vec<Claimed>> {
    if !crate::store::leases::any_due(db, store::LEASED, now_ms).await? {
        return Ok(Vec::new());
    }
    let unit = (owner.to_string(), now_ms, lease_ms, limit);
    db.write(unit, |tx, (owner, now_ms, lease_ms, limit)| {
        Box::pin(async move { Ok::<_, ServiceError>(store::claim(tx, owner, *now_ms, *lease_ms, *limit).await?) })
    })
    .await
}

/// What one attempt at a delivery came to.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub delivery_id: String,
    /// The attempt's number (1 for the first).
    pub attempt: i64,
    pub at_ms: i64,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub excerpt: String,
    /// Why it failed, when the endpoint did not answer 2xx.
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// Records a batch of attempts: delivered, due again after the policy's backoff, or dead.
pub async fn record(db: &Db, owner: &str, policy: &RetryPolicy, outcomes: Vec<Outcome>) -> ServiceResult<u64> {
    let attempts: Vec<Attempt> = outcomes
        .into_iter()
        .map(|o| {
            let next = match o.succeeded() {
                true => Next::Delivered,
                false => policy.retry_at(o.attempt, o.at_ms, jitter()).map_or(Next::Dead, Next::RetryAt),
            };
            Attempt {
                delivery_id: o.delivery_id,
                attempt: o.attempt,
                at_ms: o.at_ms,
                status_code: o.status_code.map(i64::from),
                latency_ms: o.latency_ms,
                excerpt: o.excerpt,
                error: o.error,
                next,
            }
        })
        .collect();
    db.write((owner.to_string(), attempts), |tx, (owner, attempts)| {
        Box::pin(async move { Ok::<_, ServiceError>(store::record(tx, owner, attempts).await?) })
    })
    .await
}

/// A random number for a retry's jitter.
pub(crate) fn jitter() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// Gives back the leases this worker holds (a clean stop), so another node sends them at once.
pub async fn release(db: &Db, owner: &str) -> ServiceResult<u64> {
    db.write(owner.to_string(), |tx, owner| {
        Box::pin(async move { Ok::<_, ServiceError>(crate::store::leases::release(tx, store::LEASED, owner).await?) })
    })
    .await
}

/// The secrets that sign a delivery now: the endpoint's, and the previous one during an overlap.
pub fn signing_secrets(c: &Claimed, now: i64) -> Vec<Secret> {
    let mut out: Vec<Secret> = Secret::parse(&c.secret).into_iter().collect();
    if let (Some(prev), Some(until)) = (&c.previous_secret, c.previous_until)
        && now < until
        && let Some(s) = Secret::parse(prev)
    {
        out.push(s);
    }
    out
}
