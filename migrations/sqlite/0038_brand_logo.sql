-- The seller's logo (issue 17), in the database so that every app node serves it. One row at most;
-- its name and accent colour are settings (`seller.name`, `brand.accent`). The ETag (a hash of the
-- bytes) is also the version in the logo's URL, so pages can let browsers cache it for good.
CREATE TABLE brand_logo (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    etag         TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
