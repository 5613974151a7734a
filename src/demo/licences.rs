//! The demo's regulated products: controlled diagnostic reagents need a verified DEA registration
//! everywhere, and a state controlled substance registration when shipped to Illinois. The
//! healthcare accounts that see them hold licences; Metro Dialysis Partners' DEA registration has
//! expired (so the block can be seen: order for it as the desk), and Cedar Ridge Nursing Home's
//! expires within 30 days (the staff badge).

use super::Rng;
use super::catalog::group_of;
use crate::domain::licences::LicenceType;
use crate::domain::pricing::format_iso_date;
use crate::store::Tx;
use crate::store::licences::{self, LicenceFields};
use time::Duration;

/// The account whose licence has expired.
pub const EXPIRED_ACCOUNT: &str = "Metro Dialysis Partners";
/// The account whose licence expires within 30 days.
pub const EXPIRING_ACCOUNT: &str = "Cedar Ridge Nursing Home";

pub(crate) async fn seed(tx: &mut Tx, now: i64, accounts: &[(String, String)]) -> sqlx::Result<()> {
    // Its own generator: the rest of the demo draws the same numbers as before licences existed.
    let mut rng = Rng(super::SEED ^ 0x11CE_11CE);
    let today = crate::service::catalog::today(now);
    licences::insert_rule(tx, &rng.id(), "controlled_substance", LicenceType::Dea.as_str(), "", true, now).await?;
    licences::insert_rule(
        tx,
        &rng.id(),
        "controlled_substance",
        LicenceType::StateControlled.as_str(),
        "IL",
        false,
        now,
    )
    .await?;
    for (n, (id, name)) in accounts.iter().enumerate() {
        let Some(&(_, _, region)) = super::CUSTOMERS.iter().find(|c| c.0 == name) else { continue };
        if group_of(name) != 0 {
            continue;
        }
        let expires = match name.as_str() {
            EXPIRED_ACCOUNT => today - Duration::days(12),
            EXPIRING_ACCOUNT => today + Duration::days(21),
            _ => today + Duration::days(300 + 20 * n as i64),
        };
        let dea = LicenceFields {
            licence_type: LicenceType::Dea.as_str().into(),
            number: format!("B{}{:07}", &name[..1], 4_100_000 + n * 7_919),
            issuing_region: region.to_string(),
            valid_from: Some(format_iso_date(expires - Duration::days(3 * 365))),
            expires_on: format_iso_date(expires),
        };
        let lid = rng.id();
        licences::insert(tx, &lid, id, &dea, now).await?;
        // Their documents were checked before the portal: verified, by nobody in it.
        licences::set_verified(tx, &lid, None, now).await?;
        if region == "IL" {
            let state = LicenceFields {
                licence_type: LicenceType::StateControlled.as_str().into(),
                number: format!("316.{:06}", 100_000 + n * 31),
                issuing_region: "IL".into(),
                valid_from: None,
                expires_on: format_iso_date(today + Duration::days(400)),
            };
            licences::insert(tx, &rng.id(), id, &state, now).await?;
        }
    }
    Ok(())
}
