//! Running a write once per idempotency key — the API's `Idempotency-Key`, or a web form's one-time
//! token — for every action that creates something (order placement, payments, the bank's file).
//!
//! The key is claimed in its own short unit (`store::idempotency::claim`) so a concurrent retry sees
//! it in flight (409); a finished key replays its recorded response (same body) or is refused (422,
//! another body). The action's own unit completes the claim ([`UnitClaim::complete`]) in the
//! transaction that does the work, so the response and the work commit together. A request that
//! ends without an effect — refused, failed, or dropped because its client hung up — releases its
//! claim at once, so a retry runs again.

use super::{ServiceError, ServiceResult};
use crate::store::{Db, StoreResult, Tx, idempotency, new_id};
use sha2::{Digest, Sha256};

/// An idempotency key for a request: the API's `Idempotency-Key` (scope = the token's user, and the
/// operation for operations other than placement) or a form's one-time token (scope = the user).
#[derive(Clone, Debug)]
pub struct IdemKey {
    pub scope: String,
    pub key: String,
    /// What makes two requests "the same": a hash of the request's canonical body.
    pub request_hash: String,
}

impl IdemKey {
    /// A key whose request is identified by the hash of `body` (canonical JSON, or a file's bytes).
    pub fn hashed(scope: String, key: &str, body: &[u8]) -> IdemKey {
        IdemKey { scope, key: key.to_string(), request_hash: hex::encode(Sha256::digest(body)) }
    }
}

/// The claim a unit of work completes: owned, so it travels with the unit to the writer.
#[derive(Clone, Debug)]
pub struct UnitClaim {
    scope: String,
    key: String,
    claim_id: String,
}

impl UnitClaim {
    /// Records the response of the keyed request inside the unit that did its work (`subject_id`:
    /// what a form waiting for the key may look up; placement records the order). `InFlight` when
    /// the claim is no longer this request's — its client hung up and a retry may be running — so
    /// the unit fails and its work is rolled back; the retry does it.
    pub async fn complete(&self, tx: &mut Tx, status: i64, body: &str, subject_id: Option<&str>) -> ServiceResult<()> {
        match idempotency::complete(tx, &self.scope, &self.key, &self.claim_id, status, body, subject_id).await? {
            true => Ok(()),
            false => Err(ServiceError::InFlight),
        }
    }
}

/// A claimed key that travels with its unit of work, with the response it records made from what
/// the unit wrote (for actions whose response is one value: a payment, an import's report).
pub struct UnitKey<T> {
    claim: UnitClaim,
    respond: Respond<T>,
}

/// Makes the (status, body) a keyed request records from what its unit did.
type Respond<T> = Box<dyn Fn(&T) -> (i64, String) + Send + Sync>;

impl<T> UnitKey<T> {
    /// The request's claim (if it had a key) with `respond`.
    pub fn new(
        claim: Option<UnitClaim>,
        respond: impl Fn(&T) -> (i64, String) + Send + Sync + 'static,
    ) -> Option<UnitKey<T>> {
        claim.map(|claim| UnitKey { claim, respond: Box::new(respond) })
    }

    /// Completes the claim with the response to `done`, in the unit (see [`UnitClaim::complete`]).
    pub async fn complete(&self, tx: &mut Tx, done: &T) -> ServiceResult<()> {
        let (status, body) = (self.respond)(done);
        self.claim.complete(tx, status, &body, None).await
    }
}

/// Completes `claim`, if the request had a key, with its response: the end of a keyed unit of work.
pub async fn complete_if(
    tx: &mut Tx,
    claim: Option<&UnitClaim>,
    (status, body): (i64, &str),
    subject_id: Option<&str>,
) -> ServiceResult<()> {
    match claim {
        Some(c) => c.complete(tx, status, body, subject_id).await,
        None => Ok(()),
    }
}

/// What a keyed request came to.
#[derive(Clone, Debug)]
pub enum Keyed<T> {
    /// The work ran (with or without a key).
    Ran(T),
    /// The key was used before with the same request: its recorded response.
    Replayed { status: i64, body: String, subject_id: Option<String> },
}

/// Runs `work` once per key: without a key it simply runs. With one, a finished key with the same
/// request hash replays (`Keyed::Replayed`), another hash is `IdempotencyMismatch`, a key still in
/// flight is `InFlight`; otherwise `work` runs with the claim, which its unit must complete. If
/// `work` fails, or this future is dropped before it ends, the claim is released.
pub async fn run_once<T, F, Fut>(db: &Db, now: i64, key: Option<&IdemKey>, work: F) -> ServiceResult<Keyed<T>>
where
    F: FnOnce(Option<UnitClaim>) -> Fut,
    Fut: std::future::Future<Output = ServiceResult<T>>,
{
    let Some(k) = key else { return work(None).await.map(Keyed::Ran) };
    // The guard exists before the claim is sent: a request dropped at any moment from here on
    // releases its claim once the claim's unit has finished.
    let mut guard = ClaimGuard { db, key: k, claim_id: new_id(), armed: true, claiming: None };
    let (db2, k2, id) = (db.clone(), k.clone(), guard.claim_id.clone());
    let claiming = guard.claiming.insert(tokio::spawn(async move {
        idempotency::claim(&db2, &k2.scope, &k2.key, &k2.request_hash, &id, now).await
    }));
    let claimed = claiming.await.map_err(|e| ServiceError::Internal(format!("claiming an idempotency key: {e}")))??;
    guard.claiming = None;
    match claimed {
        idempotency::Claim::Claimed => {}
        idempotency::Claim::InFlight { request_hash }
        | idempotency::Claim::Done(idempotency::KeyRow { request_hash, .. })
            if request_hash != k.request_hash =>
        {
            guard.armed = false;
            return Err(ServiceError::IdempotencyMismatch);
        }
        idempotency::Claim::InFlight { .. } => {
            guard.armed = false;
            return Err(ServiceError::InFlight);
        }
        idempotency::Claim::Done(row) => {
            guard.armed = false;
            return Ok(Keyed::Replayed {
                status: row.response_status.unwrap_or(200),
                body: row.response_body.unwrap_or_default(),
                subject_id: row.order_id,
            });
        }
    }
    let claim = UnitClaim { scope: k.scope.clone(), key: k.key.clone(), claim_id: guard.claim_id.clone() };
    let result = work(Some(claim)).await;
    guard.armed = false;
    if result.is_err() {
        // Nothing was written: let a retry run again (refusals may pass later, e.g. after restock).
        idempotency::release(db, &k.scope, &k.key, &guard.claim_id).await?;
    }
    result.map(Keyed::Ran)
}

/// The recorded response of a key another request (the first click of a double submit) still
/// holds: waits up to ten seconds for that request to finish. `InFlight` if it has not, or if it
/// gave up without an effect (its key was released).
pub async fn wait_for(db: &Db, key: &IdemKey) -> ServiceResult<(i64, String, Option<String>)> {
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        match idempotency::get(db, &key.scope, &key.key).await? {
            Some(row) if row.is_done() => {
                return Ok((row.response_status.unwrap_or(200), row.response_body.unwrap_or_default(), row.order_id));
            }
            Some(_) => {}
            None => break,
        }
    }
    Err(ServiceError::InFlight)
}

/// A key this request claimed. If the request is dropped before it finished (its client hung up),
/// the claim is released at once: a retry need not wait for anything. The release only removes
/// this claim while still in flight, so work already sent to the writer (which runs to its end)
/// keeps its completed record.
struct ClaimGuard<'a> {
    db: &'a Db,
    key: &'a IdemKey,
    claim_id: String,
    armed: bool,
    /// The claim's own task while it runs: a release waits for it, so it never comes first.
    claiming: Option<tokio::task::JoinHandle<StoreResult<idempotency::Claim>>>,
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (db, scope, key, id) =
            (self.db.clone(), self.key.scope.clone(), self.key.key.clone(), self.claim_id.clone());
        let claiming = self.claiming.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Some(c) = claiming {
                        let _ = c.await;
                    }
                    if let Err(e) = idempotency::release(&db, &scope, &key, &id).await {
                        tracing::warn!(error = %e, "releasing the idempotency key of a dropped request failed");
                    }
                });
            }
            Err(_) => tracing::warn!("a dropped request's idempotency key is left to its process's heartbeat"),
        }
    }
}
