//! The simulator token: the bearer key of the simulator's control API for callers without
//! a console session. Made once per data directory (`simulator-token`, readable by its
//! owner only) unless `simulator.control_token` sets it, so scripts keep working across
//! restarts and every node of a cluster can share one through the configuration.

use std::path::{Path, PathBuf};

use anyhow::Context;

pub fn token_file(data_dir: &Path) -> PathBuf {
    data_dir.join("simulator-token")
}

/// The configured token, else the one in the data directory, made there if missing.
/// Yields it and whether it was made now (to be shown once).
pub fn load_or_create(configured: &str, data_dir: &Path) -> anyhow::Result<(String, bool)> {
    if !configured.trim().is_empty() {
        return Ok((configured.trim().to_owned(), false));
    }
    let path = token_file(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok((token.trim().to_owned(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let token = format!("st_{}", hex::encode(rand::random::<[u8; 24]>()));
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    crate::bootstrap::write_owner_only(&path, token.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((token, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (made, new) = load_or_create("", dir.path()).unwrap();
        assert!(new && made.starts_with("st_") && made.len() > 40);
        let (again, new) = load_or_create("", dir.path()).unwrap();
        assert_eq!((again.as_str(), new), (made.as_str(), false));
        let (configured, _) = load_or_create(" chosen ", dir.path()).unwrap();
        assert_eq!(configured, "chosen");
    }
}
