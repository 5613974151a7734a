//! Statements and aging (issue 15 §5): an account's statement for a period — opening balance,
//! invoices, credit notes, payments and reversals with a running balance, its open invoices and
//! their aging — as a page, a PDF and a CSV; and the receivables aging across accounts.
//!
//! Who may read what: a buyer with billing rights (`PortalBilling`) their own account only;
//! staff the accounts they may see (reps their book). The aging across accounts: finance staff
//! (and `invoices:read` tokens) every account, reps their book; buyers nobody's (404).

use super::catalog::today;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::aging::{
    AccountAging, AgingReport, AgingRow, Bounds, Bucket, Buckets, OpenItem, ReportKey, is_after,
};
use crate::domain::auth::{AccountScope, Permission};
use crate::domain::money::Money;
use crate::domain::pricing::format_iso_date as iso;
use crate::domain::statement::{Entry, EntryKind, OpenInvoice, Statement, StatementDocument};
use crate::store::accounts::AccountRow;
use crate::store::statements::{self as store, AgingFilter};
use crate::store::{Db, invoices, like_pattern};
use time::{Date, Duration};

/// The longest period one statement covers.
pub const MAX_PERIOD_DAYS: i64 = 3_660;
/// The default period: the last 90 days.
pub const DEFAULT_PERIOD_DAYS: i64 = 90;

/// A statement's period, both days included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

fn parse_day(field: &str, text: &str) -> ServiceResult<Date> {
    crate::store::pricing::parse_date(Some(text.trim()))
        .ok_or_else(|| ServiceError::invalid(field, format!("“{}” is not a date: use YYYY-MM-DD.", text.trim())))
}

impl Period {
    /// The period an API read names, as it can always answer: `from` and `to` must be dates when
    /// given (an empty one is refused), a reversed pair is swapped, and a period longer than 10
    /// years starts 10 years before `to`. The answer says the period it covers.
    pub fn for_read(from: Option<&str>, to: Option<&str>, today: Date) -> ServiceResult<Period> {
        let day = |field: &str, v: Option<&str>| v.map(|t| parse_day(field, t)).transpose();
        let to = day("to", to)?.unwrap_or(today);
        let from = day("from", from)?
            .unwrap_or_else(|| to.checked_sub(Duration::days(DEFAULT_PERIOD_DAYS - 1)).unwrap_or(Date::MIN));
        let (from, to) = if from > to { (to, from) } else { (from, to) };
        let earliest = to.checked_sub(Duration::days(MAX_PERIOD_DAYS - 1)).unwrap_or(Date::MIN);
        Ok(Period { from: from.max(earliest), to })
    }

    /// The period a request names (`from`, `to` as YYYY-MM-DD; empty or absent: the last 90 days
    /// up to today). A period that ends before it starts, or spans more than 10 years, is refused.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> ServiceResult<Period> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let to = match given(to) {
            Some(t) => parse_day("to", t)?,
            None => today,
        };
        let from = match given(from) {
            Some(f) => parse_day("from", f)?,
            None => to.checked_sub(Duration::days(DEFAULT_PERIOD_DAYS - 1)).unwrap_or(Date::MIN),
        };
        if from > to {
            return Err(ServiceError::invalid(
                "from",
                format!("The period starts ({}) after it ends ({}).", iso(from), iso(to)),
            ));
        }
        if (to - from).whole_days() >= MAX_PERIOD_DAYS {
            return Err(ServiceError::invalid("to", "A statement covers at most 10 years; choose a shorter period."));
        }
        Ok(Period { from, to })
    }
}

fn start_of(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp()
}

fn day_of(ts: i64) -> Date {
    today(ts)
}

/// The account whose billing the actor may read: a buyer with billing rights their own; staff an
/// account they may see. Anything else is 404.
async fn billing_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<AccountRow> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account()
        && (own != account_id || !p.can(Permission::PortalBilling))
    {
        return Err(ServiceError::NotFound);
    }
    super::accounts::get_account(db, actor, account_id).await
}

/// The account's credit limit and what is available under it, when it has a limit.
async fn credit_of(db: &Db, account: &AccountRow) -> ServiceResult<Option<(Money, Money)>> {
    let limit = Money::from_raw(account.credit_limit);
    let exposure = crate::store::credit::get(db, &account.id).await?;
    Ok(exposure.available(limit).map(|available| (limit, available)))
}

fn ledger_entry(r: store::LedgerRow) -> ServiceResult<Entry> {
    let kind = EntryKind::parse(&r.kind).ok_or_else(|| ServiceError::Internal(format!("ledger kind {}", r.kind)))?;
    let on = if kind == EntryKind::PaymentReversal {
        day_of(r.at)
    } else {
        crate::store::pricing::parse_date(Some(&r.on_date))
            .ok_or_else(|| ServiceError::Internal(format!("{} has no date", r.reference)))?
    };
    Ok(Entry { on, kind, reference: r.reference, detail: r.detail, amount: Money::from_raw(r.amount) })
}

/// An account's statement for `period`, its open invoices aged on `now`'s day, its credit.
pub async fn statement(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    period: Period,
) -> ServiceResult<StatementDocument> {
    let account = billing_scope(db, actor, account_id).await?;
    let as_of = today(now);
    let until_ts = start_of(period.to.next_day().unwrap_or(period.to));
    let from_ts = start_of(period.from);
    let opening = store::balance_before(db, &account.id, &iso(period.from), from_ts).await?;
    let rows = store::ledger(db, &account.id, (&iso(period.from), &iso(period.to)), (from_ts, until_ts)).await?;
    let entries = rows.into_iter().map(ledger_entry).collect::<ServiceResult<Vec<_>>>()?;
    let overflow = |_| ServiceError::invalid("statement", "The amounts are too large to add up.");
    let statement = Statement::build(period.from, period.to, Money::from_raw(opening), entries).map_err(overflow)?;
    let mut open_invoices = Vec::new();
    for r in store::open_invoices(db, &account.id).await? {
        let date = |s: &str| {
            crate::store::pricing::parse_date(Some(s))
                .ok_or_else(|| ServiceError::Internal(format!("{} has no date", r.number)))
        };
        let (issued_on, due_on) = (date(&r.issued_on)?, date(&r.due_on)?);
        open_invoices.push(OpenInvoice {
            days_overdue: crate::domain::aging::days_past_due(due_on, as_of),
            number: r.number,
            issued_on,
            due_on,
            total: Money::from_raw(r.total),
            open: Money::from_raw(r.total - r.paid),
        });
    }
    let items: Vec<OpenItem> = open_invoices.iter().map(|i| OpenItem { due_on: i.due_on, open: i.open }).collect();
    let credits = Money::from_raw(store::unapplied_credits(db, &account.id).await?);
    let aging = AccountAging::of(&items, credits, as_of).map_err(overflow)?;
    let seller_name = invoices::setting(db, "seller.name").await?.unwrap_or_default();
    let seller_address = invoices::setting(db, "seller.address").await?.unwrap_or_default();
    let seller = std::iter::once(seller_name)
        .chain(seller_address.lines().map(str::to_string))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let city = [account.bill_postal_code.as_str(), account.bill_city.as_str(), account.bill_region.as_str()]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let bill_to = [&account.name, &account.bill_line1, &account.bill_line2, &city, &account.bill_country]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.to_string())
        .collect();
    Ok(StatementDocument {
        seller,
        account_name: account.name.clone(),
        account_number: account.number.clone(),
        bill_to,
        as_of,
        statement,
        open_invoices,
        aging,
        credit: credit_of(db, &account).await?,
    })
}

/// The statement's file name: `statement-A-10001-2026-01-01-2026-03-31.pdf`.
pub fn file_name(doc: &StatementDocument, ext: &str) -> String {
    let safe: String =
        doc.account_number.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("statement-{safe}-{}-{}.{ext}", iso(doc.statement.from), iso(doc.statement.to))
}

/// The statement as a PDF drawn by the server: (file name, bytes).
pub async fn statement_pdf(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    period: Period,
) -> ServiceResult<(String, Vec<u8>)> {
    let doc = statement(db, now, actor, account_id, period).await?;
    let bytes = super::invoice_pdf::statement::render(&doc).map_err(|e| ServiceError::TooLarge(e.to_string()))?;
    Ok((file_name(&doc, "pdf"), bytes))
}

/// The statement as CSV: (file name, text).
pub async fn statement_csv(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    period: Period,
) -> ServiceResult<(String, String)> {
    let doc = statement(db, now, actor, account_id, period).await?;
    Ok((file_name(&doc, "csv"), doc.to_csv()))
}

/// A statement that was sent: to whom (the account's finance contacts, else its purchasing
/// managers, less those who turned statement mail off) and what it said.
#[derive(Clone, Debug)]
pub struct SentStatement {
    pub account_number: String,
    pub period: Period,
    pub closing_balance: Money,
    pub overdue: Money,
    pub recipients: Vec<String>,
}

/// Sends an account's statement for `period` by mail (finance staff and admins, `ManageCredit`;
/// an API token with `payments:write`): writes `statement.sent` with the period's figures, whose mail goes to
/// the account's finance contacts (else its purchasing managers) with links to the statement page
/// and PDF of that period; audited. An account with nobody to send to is refused (409), and
/// nothing is written.
pub async fn send_statement(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    period: Period,
) -> ServiceResult<SentStatement> {
    let doc = statement(db, now, actor, account_id, period).await?;
    actor.require(Permission::ManageCredit)?;
    let sent = SentStatement {
        account_number: doc.account_number.clone(),
        period,
        closing_balance: doc.statement.closing,
        overdue: doc.aging.overdue(),
        recipients: Vec::new(),
    };
    let account = super::accounts::get_account(db, actor, account_id).await?;
    let unit = (actor.owned(), now, account.id, account.name, sent);
    db.write(unit, |tx, (actor, now, account_id, account_name, sent)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let mut to = crate::store::mail::account_contacts(tx, account_id, "finance").await?;
            if to.is_empty() {
                to = crate::store::mail::account_contacts(tx, account_id, "manager").await?;
            }
            let recipients: Vec<String> = to
                .into_iter()
                .filter(|c| crate::domain::mail::wanted(crate::domain::mail::MailKind::Statement, &c.mail_opt_outs))
                .map(|c| c.email)
                .collect();
            if recipients.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "{} has no finance contact or purchasing manager who receives statements: invite one first.",
                    sent.account_number
                )));
            }
            let payload = serde_json::json!({
                "account_id": account_id, "account_number": sent.account_number, "account_name": account_name,
                "from": iso(sent.period.from), "to": iso(sent.period.to),
                "closing_balance": sent.closing_balance.to_plain(), "overdue": sent.overdue.to_plain(),
                "sent_by": actor.principal.name,
            });
            super::audit_and_publish(tx, Some(actor), *now, "statement.sent", ("account", account_id), None, payload)
                .await?;
            Ok(SentStatement { recipients, ..sent.clone() })
        })
    })
    .await
}

/// What a buyer's finance contact sees first: what the account owes by bucket, and its credit.
pub struct BillingSummary {
    pub aging: AccountAging,
    pub credit: Option<(Money, Money)>,
}

pub async fn billing_summary(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str) -> ServiceResult<BillingSummary> {
    let account = billing_scope(db, actor, account_id).await?;
    let bounds = bound_strings(today(now));
    let filter = AgingFilter { rep_id: "", pattern: "%%", account_id: &account.id };
    let rows = store::aging(db, bounds.each_ref().map(String::as_str), &filter).await?;
    let aging = rows.into_iter().next().map(|r| aging_row(r).aging).unwrap_or_default();
    Ok(BillingSummary { aging, credit: credit_of(db, &account).await? })
}

fn bound_strings(as_of: Date) -> [String; 4] {
    let b = Bounds::on(as_of);
    [iso(b.current_from), iso(b.d30_from), iso(b.d60_from), iso(b.d90_from)]
}

fn aging_row(r: store::AgingRowRaw) -> AgingRow {
    let m = Money::from_raw;
    AgingRow {
        account_id: r.account_id,
        account_number: r.account_number,
        account_name: r.account_name,
        rep_name: r.rep_name,
        aging: AccountAging {
            buckets: Buckets::from_amounts([m(r.current), m(r.d1_30), m(r.d31_60), m(r.d61_90), m(r.over_90)]),
            credits: m(r.credits),
        },
    }
}

/// Which accounts the aging covers.
#[derive(Clone, Debug, Default)]
pub struct AgingQuery {
    /// Only accounts this rep owns (finance's filter).
    pub rep_id: Option<String>,
    /// Name, account number or ERP id contains this.
    pub q: String,
}

/// The receivables aging on `now`'s day across the accounts the actor may see, sorted by the
/// 90+ amount then the open total, with totals. One grouped query.
pub async fn aging_report(db: &Db, now: i64, actor: &Actor<'_>, query: &AgingQuery) -> ServiceResult<AgingReport> {
    let p = actor.principal;
    super::check_texts(&[("q", &query.q), ("rep", query.rep_id.as_deref().unwrap_or(""))], &[])?;
    let rep = match p.account_scope() {
        AccountScope::One(_) => return Err(ServiceError::NotFound),
        _ if p.can(Permission::FinanceArea) => query.rep_id.clone().unwrap_or_default(),
        AccountScope::Book(me) => me.to_string(),
        _ => return Err(ServiceError::Forbidden),
    };
    let bounds = bound_strings(today(now));
    let pattern = like_pattern(&query.q);
    let filter = AgingFilter { rep_id: &rep, pattern: &pattern, account_id: "" };
    let rows = store::aging(db, bounds.each_ref().map(String::as_str), &filter).await?;
    AgingReport::of(rows.into_iter().map(aging_row).collect())
        .map_err(|_| ServiceError::invalid("aging", "The amounts are too large to add up."))
}

/// The aging report as CSV: one row per account, then the totals.
pub fn aging_csv(report: &AgingReport, as_of: Date) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["Account".to_string(), "Name".into(), "Rep".into()];
    head.extend(Bucket::ALL.iter().map(|b| b.key().to_string()));
    head.extend(["open_total", "unapplied_credits", "balance"].map(String::from));
    let row = |number: &str, name: &str, rep: &str, a: &AccountAging| {
        let mut r = vec![number.to_string(), name.to_string(), rep.to_string()];
        r.extend(Bucket::ALL.iter().map(|b| a.buckets.get(*b).to_plain()));
        r.extend([a.open_total().to_plain(), a.credits.to_plain(), a.balance().to_plain()]);
        r
    };
    let _ = w.write_record(&head);
    for r in &report.rows {
        let _ = w.write_record(row(&r.account_number, &r.account_name, r.rep_name.as_deref().unwrap_or(""), &r.aging));
    }
    let _ = w.write_record(row("Total", &format!("as of {}", iso(as_of)), "", &report.totals));
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One page of the aging report, with the totals over every row (not just the page's).
pub struct AgingPage {
    pub rows: Vec<AgingRow>,
    pub totals: AccountAging,
    /// How many accounts the whole report has.
    pub accounts: usize,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// A row's cursor: `<90+ raw>.<open total raw>.<account number>` (the report's sort key).
fn cursor_of(row: &AgingRow) -> String {
    let k = ReportKey::of(row);
    format!("{}.{}.{}", k.over90.raw(), k.total.raw(), k.account_number)
}

fn parse_cursor(c: &str) -> ServiceResult<ReportKey> {
    let bad = || ServiceError::invalid("cursor", "not a cursor of the aging report");
    let mut parts = c.splitn(3, '.');
    let (Some(a), Some(b), Some(n)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    let (over90, total) = (a.parse::<i64>().map_err(|_| bad())?, b.parse::<i64>().map_err(|_| bad())?);
    if n.is_empty() || n.len() > 64 || n.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(ReportKey { over90: Money::from_raw(over90), total: Money::from_raw(total), account_number: n.to_string() })
}

/// The rows after `after` (a cursor from a previous page), at most `limit` (1–1000).
pub fn aging_page(report: AgingReport, after: Option<&str>, limit: usize) -> ServiceResult<AgingPage> {
    let limit = limit.clamp(1, 1000);
    let key = after.map(str::trim).filter(|c| !c.is_empty()).map(parse_cursor).transpose()?;
    let accounts = report.rows.len();
    let start = match &key {
        Some(k) => report.rows.partition_point(|r| !is_after(r, k)),
        None => 0,
    };
    let mut rows: Vec<AgingRow> = report.rows.into_iter().skip(start).take(limit + 1).collect();
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(cursor_of)
    } else {
        None
    };
    Ok(AgingPage { rows, totals: report.totals, accounts, next })
}

/// The sales reps finance may filter the aging by: (id, name).
pub async fn aging_reps(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<(String, String)>> {
    if !actor.principal.can(Permission::FinanceArea) {
        return Ok(Vec::new());
    }
    Ok(crate::store::users::list_reps(db).await?.into_iter().map(|u| (u.id, u.name)).collect())
}
