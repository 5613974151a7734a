-- Product images kept in a directory (issue 17; PORTICO_IMAGE_DIR): a shared mount every app node
-- sees, instead of the database. Each `image_files` row says where its bytes are:
-- `stored_in` 'db' (in `full_content`, `medium` and `thumb`, as before) or 'dir' (those three are
-- empty — kept NOT NULL, so no table has to be rebuilt — and the files are
-- `<image dir>/<file_key>-full.jpg`, `-medium.jpg` and `-thumb.jpg`). A file key is the ETag's
-- first two characters as a folder, the ETag and a random part fresh for every row: files that a
-- deletion is removing after its commit are never the files a new row for the same content names.
-- `full_size` is the full image's bytes, wherever they are (lists and the API show it).
ALTER TABLE image_files ADD COLUMN stored_in TEXT NOT NULL DEFAULT 'db' CHECK (stored_in IN ('db', 'dir'));
ALTER TABLE image_files ADD COLUMN file_key TEXT CHECK ((file_key IS NOT NULL) = (stored_in = 'dir'));
ALTER TABLE image_files ADD COLUMN full_size BIGINT NOT NULL DEFAULT 0;
UPDATE image_files SET full_size = LENGTH(full_content);
