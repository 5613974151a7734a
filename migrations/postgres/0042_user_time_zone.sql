-- Each user's own time zone (issue 17): an IANA name such as America/Chicago, checked against the
-- zone database built into Portico when it is saved. NULL: the seller's (setting seller.time_zone,
-- else UTC). Pages show every time in the reader's zone.
ALTER TABLE users ADD COLUMN time_zone TEXT;
