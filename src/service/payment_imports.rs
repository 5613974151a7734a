//! The bank's (or ERP's) payment file: every payment of the file recorded in one unit of work, or
//! none — any bad row refuses the whole file, every problem named by line, column and why. Payments
//! whose external id is recorded already are skipped and listed, so importing the same file again
//! records nothing twice and says so.

use super::idempotency::{self, IdemKey, Keyed, UnitKey};
use super::payments::require_writer;
use super::{Actor, FieldError, OwnedActor, ServiceError, ServiceResult};
use crate::domain::import::RowError;
use crate::domain::money::Money;
use crate::domain::payments::{CsvPayment, read_csv};
use crate::store::{Db, Tx, accounts, payments};
use std::collections::HashMap;

/// The largest payment file read (a bank's daily file is far smaller).
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Numbers of the payments recorded, in file order.
    pub recorded: Vec<String>,
    /// (line, external id, the payment already recorded with it): skipped.
    pub skipped: Vec<(u64, String, String)>,
    /// The total recorded.
    pub total: Money,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        let mut s = match self.recorded.len() {
            0 => "No new payment recorded".to_string(),
            1 => format!("1 payment recorded ({})", self.total.format()),
            n => format!("{n} payments recorded ({})", self.total.format()),
        };
        if !self.skipped.is_empty() {
            s.push_str(&format!(
                "; {} already recorded (same external id) and skipped: {}",
                self.skipped.len(),
                self.skipped.iter().map(|(l, e, n)| format!("line {l} “{e}” is {n}")).collect::<Vec<_>>().join(", ")
            ));
        }
        s.push('.');
        s
    }
}

/// Problems of a file as a 422 whose fields name the line and column.
fn refused(errors: Vec<RowError>) -> ServiceError {
    ServiceError::Invalid(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: if e.column.is_empty() {
                    format!("line {}", e.line)
                } else {
                    format!("line {}, {}", e.line, e.column)
                },
                message: format!(
                    "Line {}{}: {}.",
                    e.line,
                    if e.column.is_empty() { String::new() } else { format!(", {}", e.column) },
                    e.reason
                ),
            })
            .collect(),
    )
}

struct ImportUnit {
    now: i64,
    actor: OwnedActor,
    rows: Vec<(CsvPayment, String)>,
    /// The request's Idempotency-Key (or form token), claimed.
    key: Option<UnitKey<ImportReport>>,
}

/// Imports a payment file (staff who write payments).
pub async fn import_payments_csv(db: &Db, now: i64, actor: &Actor<'_>, bytes: &[u8]) -> ServiceResult<ImportReport> {
    match import_payments_csv_once(db, now, actor, bytes, None, |_| (0, String::new())).await? {
        Keyed::Ran(report) => Ok(report),
        Keyed::Replayed { .. } => Err(ServiceError::Internal("an import without a key was replayed".into())),
    }
}

/// [`import_payments_csv`] under an idempotency key: the same key and file again answers the
/// response recorded the first time (`respond` makes it from the report, in the import's unit,
/// which completes the key); another file under the key is `IdempotencyMismatch`, one still
/// running `InFlight`. A refused file leaves no record.
pub async fn import_payments_csv_once<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    bytes: &[u8],
    idem: Option<&IdemKey>,
    respond: F,
) -> ServiceResult<Keyed<ImportReport>>
where
    F: Fn(&ImportReport) -> (i64, String) + Send + Sync + 'static,
{
    require_writer(actor)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ServiceError::TooLarge(format!("The file is larger than {} MB.", MAX_FILE_BYTES / (1024 * 1024))));
    }
    idempotency::run_once(db, now, idem, |claim| async move {
        let rows = resolve(db, now, actor, bytes).await?;
        let unit = ImportUnit { now, actor: actor.owned(), rows, key: UnitKey::new(claim, respond) };
        db.write(unit, |tx, u| Box::pin(import_unit(tx, u))).await
    })
    .await
}

/// The file's rows with their accounts' ids: every bad row (and unknown account) refused at once.
async fn resolve(db: &Db, now: i64, actor: &Actor<'_>, bytes: &[u8]) -> ServiceResult<Vec<(CsvPayment, String)>> {
    let rows = read_csv(bytes, super::catalog::today(now)).map_err(refused)?;
    let index = accounts::reference_index(db).await?;
    let mut errors = Vec::new();
    let mut resolved = Vec::new();
    for row in rows {
        match index.get(&row.account) {
            Some(id)
                if actor.principal.can_see_account(id, None)
                    || actor.principal.can(crate::domain::auth::Permission::ViewAllAccounts) =>
            {
                resolved.push((row, id.clone()))
            }
            _ => errors.push(RowError {
                line: row.line,
                column: "account".into(),
                reason: format!("no account “{}”", row.account),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    Ok(resolved)
}

async fn import_unit(tx: &mut Tx, u: &ImportUnit) -> ServiceResult<ImportReport> {
    let actor = u.actor.actor();
    let mut report = ImportReport::default();
    let mut errors = Vec::new();
    // Each listed invoice must be an open invoice of the row's account (checked against what is
    // open when the file is read; earlier rows of the file may pay some of them in full).
    let mut open_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut known: HashMap<u64, String> = HashMap::new();
    for (row, _) in &u.rows {
        if let Some(ext) = &row.external_id
            && let Some(existing) = payments::by_external_id(tx, ext).await?
        {
            known.insert(row.line, existing.number);
        }
    }
    for (row, account_id) in &u.rows {
        if row.invoices.is_empty() || known.contains_key(&row.line) {
            continue;
        }
        if !open_of.contains_key(account_id) {
            let open = payments::open_invoices_for_update(tx, account_id).await?;
            open_of.insert(account_id.clone(), open.into_iter().map(|i| i.number).collect());
        }
        for n in &row.invoices {
            if !open_of[account_id].contains(n) {
                errors.push(RowError {
                    line: row.line,
                    column: "invoices".into(),
                    reason: format!("{n} is not an open invoice of account {}", row.account),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    for (row, account_id) in &u.rows {
        if let Some(existing) = known.get(&row.line) {
            report.skipped.push((row.line, row.external_id.clone().unwrap_or_default(), existing.clone()));
            continue;
        }
        let number = super::payments::record_imported_tx(
            tx,
            &actor,
            u.now,
            account_id,
            &row.draft,
            row.external_id.as_deref(),
            &row.invoices,
        )
        .await?;
        report.recorded.push(number);
        report.total = report.total.checked_add(row.draft.amount).unwrap_or(report.total);
    }
    if let Some(key) = &u.key {
        key.complete(tx, &report).await?;
    }
    Ok(report)
}
