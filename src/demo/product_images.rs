//! A picture for every demo product (issue 17): simple generated shapes in a few colours, one per
//! category, so the catalog, product pages, cart and quick order look as they will with a
//! seller's photos. The pictures are made once and their files stored once (`image_files` is
//! keyed by content); each product gets its own image row pointing at its category's picture, so
//! even the large catalog (100,000 products) is seeded in one bulk insert. With an image
//! directory the pictures' files go there (written before the unit that names them).

use crate::domain::product_images::{PreparedImage, generated_picture, renditions};
use crate::store::image_dir::ImageDir;
use crate::store::{Db, product_images};
use std::collections::BTreeMap;

/// The colours of the pictures: blues, greens, ambers and reds that read as product shots.
const COLOURS: [[u8; 3]; 6] =
    [[29, 95, 209], [11, 110, 79], [180, 83, 9], [155, 28, 28], [91, 33, 182], [15, 118, 110]];
/// Four shapes (disc, box, bottle, diamond) in six colours: twelve pairs (kept few and small, so
/// drawing them in a debug build takes a fraction of a second).
const PICTURES: usize = 12;
/// The pictures' side in pixels (the product page shows them scaled to 480).
const SIDE: u32 = 320;

/// The demo's pictures, drawn on a blocking thread: started first, they are ready by the time
/// the products they go on are seeded.
pub fn draw_pictures() -> tokio::task::JoinHandle<Vec<PreparedImage>> {
    tokio::task::spawn_blocking(|| {
        (0..PICTURES).map(|i| renditions(generated_picture(COLOURS[i % COLOURS.len()], (i % 4) as u8, SIDE))).collect()
    })
}

/// Gives every product without an image its category's picture (from [`draw_pictures`]), as its
/// primary image.
pub async fn seed(
    db: &Db,
    image_dir: Option<&ImageDir>,
    now: i64,
    pictures: tokio::task::JoinHandle<Vec<PreparedImage>>,
) -> Result<usize, sqlx::Error> {
    let pictures = pictures.await.map_err(|e| sqlx::Error::Protocol(format!("drawing the demo's pictures: {e}")))?;
    // The file key of each picture written to the image directory (none kept already).
    let mut keys: Vec<Option<String>> = Vec::new();
    for p in &pictures {
        let key = match image_dir {
            Some(dir) if !product_images::file_kept(db, &p.etag).await? => {
                let key = ImageDir::new_key(&p.etag);
                dir.write(&key, p).await?;
                Some(key)
            }
            _ => None,
        };
        keys.push(key);
    }
    let in_dir = image_dir.is_some();
    db.write((pictures, keys, now), move |tx, (pictures, keys, now)| {
        Box::pin(async move {
            tx.bulk_mode().await?;
            for (p, key) in pictures.iter().zip(keys) {
                match key {
                    Some(key) => {
                        product_images::put_file_in_dir(tx, p, key, *now).await?;
                    }
                    None if !in_dir => product_images::put_file(tx, p, *now).await?,
                    None => {}
                }
            }
            let products: Vec<(String, Option<String>, Option<String>)> = tx
                .fetch_all(
                    "SELECT p.id, p.category_id, c.name FROM products p LEFT JOIN categories c ON c.id = p.category_id
                     WHERE p.image_id IS NULL ORDER BY p.id",
                    Vec::new(),
                )
                .await?;
            // Categories in a fixed order, each with its picture.
            let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
            for (_, category, _) in &products {
                let next = by_category.len();
                by_category.entry(category.clone().unwrap_or_default()).or_insert(next);
            }
            let rows: Vec<(String, String, String, String)> = products
                .iter()
                .map(|(id, category, name)| {
                    let picture = &pictures[by_category[category.as_deref().unwrap_or("")] % pictures.len()];
                    let alt = match name {
                        Some(n) => format!("Illustration of a product in {n}"),
                        None => "Illustration of the product".to_string(),
                    };
                    (format!("demo-{id}"), id.clone(), picture.etag.clone(), alt)
                })
                .collect();
            for chunk in rows.chunks(20_000) {
                product_images::insert_primaries(tx, chunk, *now).await?;
            }
            product_images::sync_unset_products(tx).await?;
            Ok::<_, sqlx::Error>(rows.len())
        })
    })
    .await
}
