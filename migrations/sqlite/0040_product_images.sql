-- Product images (issue 17), in the database so that every app node serves them. An image's
-- files (the normalised full image, a 480 px square for the product page, a 160 px square
-- thumbnail; all re-encoded, so no metadata of the upload survives) are kept once per content
-- (`image_files`, keyed by a hash of the full image, which is also the ETag); `product_images`
-- places them on products, in order, with alt text and exactly one primary per product that has
-- any (the partial unique index). The primary's id and alt text are copied onto the product row
-- (`image_id`, `image_alt`) in the same transaction, so catalog, cart and quick-order pages show
-- a thumbnail without another query, and the catalog version (bumped by the products triggers)
-- drops cached pages when it changes.
CREATE TABLE image_files (
    etag         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    full_content BLOB NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    medium       BLOB NOT NULL,
    thumb        BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE product_images (
    id         TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    file_etag  TEXT NOT NULL REFERENCES image_files(etag),
    position   INTEGER NOT NULL,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    alt        TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX product_images_by_product ON product_images (product_id, position);
CREATE INDEX product_images_by_file ON product_images (file_etag);
CREATE UNIQUE INDEX product_images_one_primary ON product_images (product_id) WHERE is_primary;

ALTER TABLE products ADD COLUMN image_id TEXT;
ALTER TABLE products ADD COLUMN image_alt TEXT;
