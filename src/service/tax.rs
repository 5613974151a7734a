//! Sales-tax rates the seller charges (staff who manage prices): a rate per country, optionally
//! per region of it, and per product tax class. Invoices apply them (`service::invoices`).

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::invoicing::{TaxRate, format_rate, parse_rate};
use crate::store::{Db, invoices, new_id};
use serde_json::json;

/// A rate as typed into the form or sent by an integration.
#[derive(Clone, Debug, Default)]
pub struct TaxRateInput {
    /// ISO 3166 alpha-2, e.g. `US`.
    pub country: String,
    /// A region code (`IL`); empty for the whole country.
    pub region: String,
    /// A product tax class (`standard`, `medical`, …).
    pub tax_class: String,
    /// A percentage, e.g. `8.875`.
    pub rate: String,
    /// As printed on invoices; the percentage when empty.
    pub label: String,
}

pub async fn tax_rates(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<TaxRate>> {
    actor.require(Permission::ManagePrices)?;
    Ok(invoices::tax_rates(db).await?)
}

/// Checks a rate's fields, every problem named: a two-letter country, a short region and class
/// code, a percentage of at most four decimals up to 100, a printable label.
pub fn parse_tax_rate(input: &TaxRateInput) -> ServiceResult<TaxRate> {
    let mut problems = super::text_problems(
        &[
            ("country", &input.country),
            ("region", &input.region),
            ("tax_class", &input.tax_class),
            ("rate", &input.rate),
            ("label", &input.label),
        ],
        &[],
    );
    let country = input.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        problems.push(("country".into(), "Use the two-letter country code, e.g. US.".into()));
    }
    let region = input.region.trim().to_ascii_uppercase();
    if region.len() > 10 || !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        problems.push((
            "region".into(),
            "Use a region code of up to 10 letters or digits (e.g. IL), or leave it empty for the whole country."
                .into(),
        ));
    }
    let tax_class = input.tax_class.trim().to_ascii_lowercase();
    let tax_class = if tax_class.is_empty() { "standard".to_string() } else { tax_class };
    if tax_class.len() > 32 || !tax_class.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        problems.push(("tax_class".into(), "Use up to 32 letters, digits, - or _ (e.g. standard, medical).".into()));
    }
    let rate = parse_rate(&input.rate);
    if rate.is_none() {
        problems.push((
            "rate".into(),
            format!(
                "“{}” is not a rate: a percentage from 0 to 100 with at most 4 decimals, e.g. 8.875.",
                input.rate.trim()
            ),
        ));
    }
    if input.label.trim().chars().count() > 60 {
        problems.push(("label".into(), "At most 60 characters.".into()));
    }
    ServiceError::from_problems(problems)?;
    let rate_ppm = rate.unwrap_or(0);
    let label = input.label.trim().to_string();
    Ok(TaxRate { country, region, tax_class, rate_ppm, label })
}

/// Sets a rate (country, region and class are its key); audited.
pub async fn set_tax_rate(db: &Db, now: i64, actor: &Actor<'_>, input: &TaxRateInput) -> ServiceResult<TaxRate> {
    actor.require(Permission::ManagePrices)?;
    let rate = parse_tax_rate(input)?;
    let unit = (now, actor.owned(), rate.clone());
    db.write(unit, |tx, (now, actor, rate)| {
        Box::pin(async move {
            invoices::put_tax_rate(tx, &new_id(), rate).await?;
            let detail = json!({ "country": rate.country, "region": rate.region, "tax_class": rate.tax_class,
                "rate": format_rate(rate.rate_ppm), "label": rate.label });
            let key = format!("{}/{}/{}", rate.country, rate.region, rate.tax_class);
            audit(tx, Some(&actor.actor()), *now, "tax_rate.set", ("tax_rate", &key), None, Some(detail)).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await?;
    Ok(rate)
}

/// Removes a rate (invoices already issued keep theirs); 404 when there is none.
pub async fn remove_tax_rate(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    country: &str,
    region: &str,
    tax_class: &str,
) -> ServiceResult<()> {
    actor.require(Permission::ManagePrices)?;
    super::check_texts(&[("country", country), ("region", region), ("tax_class", tax_class)], &[])?;
    let key = (country.trim().to_ascii_uppercase(), region.trim().to_ascii_uppercase(), tax_class.trim().to_string());
    db.write((now, actor.owned(), key), |tx, (now, actor, (country, region, class))| {
        Box::pin(async move {
            if !invoices::delete_tax_rate(tx, country, region, class).await? {
                return Err(ServiceError::NotFound);
            }
            let key = format!("{country}/{region}/{class}");
            audit(tx, Some(&actor.actor()), *now, "tax_rate.removed", ("tax_rate", &key), None, None).await
        })
    })
    .await
}
