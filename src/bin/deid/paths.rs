//! The one check every command that writes a file makes first: its output
//! must not be one of its inputs. Writing a report over the claims file, or
//! tokens over the keyset that opens them, destroys the input for good.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::ui::usage;

/// Refuses `output` (given as option `flag`) when it is an existing
/// directory or the same file as one of `inputs` (each with what it is,
/// e.g. `"keyset"`). `-` (standard input or output) is never a file here.
///
/// Two paths are the same file when they reach the same device and inode
/// (symbolic links, hard links, `./x` and `x`); a path that does not exist
/// yet is compared by its canonical parent folder and name. Character
/// devices (`/dev/null`) are exempt: writing one does not consume the input.
///
/// # Errors
/// A usage error (exit 2) naming both paths.
pub fn refuse_output_over_inputs(
    flag: &str,
    output: Option<&Path>,
    inputs: &[(&str, Option<&Path>)],
) -> Result<()> {
    let Some(output) = output.filter(|p| !is_dash(p)) else {
        return Ok(());
    };
    if output.is_dir() {
        return Err(usage(format!(
            "{flag} {} is a directory; name a file to write",
            output.display()
        )));
    }
    for (what, input) in inputs {
        let Some(input) = input.filter(|p| !is_dash(p)) else {
            continue;
        };
        if same_file(output, input) {
            return Err(usage(format!(
                "{flag} {} is the same file as the {what} {}; refusing to overwrite an input (write somewhere else)",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

fn is_dash(p: &Path) -> bool {
    p.as_os_str() == "-"
}

fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        return ma.dev() == mb.dev() && ma.ino() == mb.ino() && !ma.file_type().is_char_device();
    }
    match (canonical(a), canonical(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The canonical form of `p`, or of its parent folder joined with its name
/// when `p` itself does not exist (yet).
fn canonical(p: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(p) {
        Ok(c) => Ok(c),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = p.file_name().ok_or(e)?;
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Ok(fs::canonicalize(parent)?.join(name))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_by_any_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys.json");
        fs::write(&keys, "{}").unwrap();
        let dotted = dir.path().join(".").join("keys.json");
        let link = dir.path().join("link.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&keys, &link).unwrap();
        for out in [&keys, &dotted, &link] {
            let e =
                refuse_output_over_inputs("-o", Some(out), &[("keyset", Some(&keys))]).unwrap_err();
            assert!(e.to_string().contains("keyset"), "{e}");
        }
        let other = dir.path().join("out.csv");
        refuse_output_over_inputs("-o", Some(&other), &[("keyset", Some(&keys))]).unwrap();
        // Not there yet, on either side: compared by path.
        let missing = dir.path().join("new.csv");
        let missing_dotted = dir.path().join(".").join("new.csv");
        assert!(
            refuse_output_over_inputs("-o", Some(&missing), &[("input", Some(&missing_dotted))])
                .is_err()
        );
        refuse_output_over_inputs(
            "-o",
            Some(Path::new("-")),
            &[("input", Some(Path::new("-")))],
        )
        .unwrap();
        assert!(refuse_output_over_inputs("-o", Some(dir.path()), &[]).is_err());
    }
}
