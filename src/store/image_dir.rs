//! The image directory (`PORTICO_IMAGE_DIR`): product images' files kept on a file system every
//! app node mounts, instead of in the database (`image_files.stored_in = 'dir'`, migration 0043).
//! The one place that touches it.
//!
//! An image's three files are `<dir>/<key>-full.jpg`, `-medium.jpg` and `-thumb.jpg`, where the
//! key ([`ImageDir::new_key`]) is `<etag[0..2]>/<etag>-<random>`: a folder per two hex digits
//! keeps directories small; the ETag makes a file findable by eye; the random part is fresh for
//! every `image_files` row, so the files a deletion removes after its commit are never the files
//! of a newer row for the same content (an identical upload made meanwhile writes its own).
//!
//! Writes are crash-safe: each file is written to a temporary name in its folder, synced, renamed
//! into place, and the folder synced; files are written before the transaction that names them
//! commits, so a committed row never names a missing file (a crash in between leaves an orphan
//! file, which is harmless). The synchronous work runs on blocking threads, never on the async
//! runtime's.

use crate::domain::product_images::{ImageSize, PreparedImage};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A directory that exists and that this process can write (checked by [`ImageDir::open`]).
#[derive(Clone, Debug)]
pub struct ImageDir {
    root: PathBuf,
}

/// Why the image directory cannot be used (Portico refuses to start).
#[derive(Debug, thiserror::Error)]
pub enum ImageDirError {
    #[error("PORTICO_IMAGE_DIR {0}: no such directory (create it, or mount the shared one there)")]
    Missing(String),
    #[error("PORTICO_IMAGE_DIR {0}: not a directory")]
    NotADirectory(String),
    #[error("PORTICO_IMAGE_DIR {0}: cannot be read: {1}")]
    Unreadable(String, io::Error),
    #[error("PORTICO_IMAGE_DIR {0}: this process cannot write there: {1}")]
    NotWritable(String, io::Error),
}

impl ImageDir {
    /// The directory at `path`, once it is shown to exist and to take a file: a probe file is
    /// written, synced and removed.
    pub fn open(path: &Path) -> Result<ImageDir, ImageDirError> {
        let shown = path.display().to_string();
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(ImageDirError::NotADirectory(shown)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ImageDirError::Missing(shown)),
            Err(e) => return Err(ImageDirError::Unreadable(shown, e)),
        }
        let probe = path.join(format!(".portico-probe-{}", random_hex(8)));
        let written = write_synced(&probe, b"portico").and_then(|()| fs::remove_file(&probe));
        if let Err(e) = written {
            let _ = fs::remove_file(&probe);
            return Err(ImageDirError::NotWritable(shown, e));
        }
        Ok(ImageDir { root: path.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh key for the files of a new `image_files` row (see the module doc).
    pub fn new_key(etag: &str) -> String {
        let folder: String = etag.chars().take(2).collect();
        format!("{folder}/{etag}-{}", random_hex(8))
    }

    /// Where a rendition of the files under `key` is. A key is made by [`ImageDir::new_key`]
    /// and read back from the database; anything else (a path that could leave the directory) is
    /// refused.
    pub fn path(&self, key: &str, size: ImageSize) -> io::Result<PathBuf> {
        let valid = key.split_once('/').is_some_and(|(folder, name)| {
            !folder.is_empty()
                && !name.is_empty()
                && folder.chars().chain(name.chars()).all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !valid {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not an image file key: {key:?}")));
        }
        Ok(self.root.join(format!("{key}-{}.jpg", size.as_str())))
    }

    /// Writes an image's three files under `key`, crash-safely (see the module doc); answered once
    /// they are durable.
    pub async fn write(&self, key: &str, image: &PreparedImage) -> io::Result<()> {
        let files = [
            (self.path(key, ImageSize::Full)?, image.full.clone()),
            (self.path(key, ImageSize::Medium)?, image.medium.clone()),
            (self.path(key, ImageSize::Thumb)?, image.thumb.clone()),
        ];
        let root = self.root.clone();
        blocking(move || {
            let folder = files[0].0.parent().unwrap_or(&root).to_path_buf();
            if !folder.is_dir() {
                fs::create_dir_all(&folder)?;
                sync_dir(&root)?;
            }
            for (path, bytes) in &files {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let temporary = folder.join(format!(".{name}.{}.tmp", random_hex(4)));
                let placed = write_synced(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
                if placed.is_err() {
                    let _ = fs::remove_file(&temporary);
                }
                placed?;
            }
            sync_dir(&folder)
        })
        .await
    }

    /// One rendition's bytes.
    pub async fn read(&self, key: &str, size: ImageSize) -> io::Result<Vec<u8>> {
        let path = self.path(key, size)?;
        blocking(move || fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))))
            .await
    }

    /// Removes the three files under `key`; one already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        let paths =
            [self.path(key, ImageSize::Full)?, self.path(key, ImageSize::Medium)?, self.path(key, ImageSize::Thumb)?];
        blocking(move || {
            for path in &paths {
                match fs::remove_file(path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())));
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(io::Error::other(format!("file work stopped: {e}"))))
}

/// Writes a new file and syncs its content to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Syncs a directory, so the names created or renamed in it survive a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_files_inside_the_directory_only() {
        let dir = ImageDir { root: PathBuf::from("/srv/images") };
        let key = ImageDir::new_key("0123abcd");
        assert!(key.starts_with("01/0123abcd-"), "{key}");
        assert_eq!(dir.path(&key, ImageSize::Thumb).unwrap(), PathBuf::from(format!("/srv/images/{key}-thumb.jpg")));
        for bad in ["../x/y", "ab/../../etc", "/etc/passwd", "ab", "ab/", "/x", "a b/c", "ab/c/d"] {
            assert!(dir.path(bad, ImageSize::Full).is_err(), "{bad}");
        }
    }
}
