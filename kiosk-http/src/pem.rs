//! Reading certificates and keys from PEM files, with errors that name the
//! file and say what is wrong with it. Shared by the link and the reference
//! billing server so both read the same files the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A PEM file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it, in words.
    pub problem: String,
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for PemError {}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|e| PemError {
        path: path.to_path_buf(),
        problem: format!("cannot be read: {e}"),
    })
}

/// Every certificate in the PEM file at `path`, in order; at least one.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let bytes = read(path)?;
    certificates_from(path, &bytes)
}

/// Every certificate in `bytes` (read from `path`); at least one.
fn certificates_from(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PemError {
            path: path.to_path_buf(),
            problem: format!("is not valid PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(PemError {
            path: path.to_path_buf(),
            problem: "holds no certificate (no `BEGIN CERTIFICATE` section)".into(),
        });
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in the PEM file at `path`.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let bytes = read(path)?;
    private_key_from(path, &bytes)
}

fn private_key_from(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, PemError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|e| PemError {
        path: path.to_path_buf(),
        problem: match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                "holds no private key (no `BEGIN PRIVATE KEY` section)".into()
            }
            e => format!("is not valid PEM: {e}"),
        },
    })
}

/// The certificate chain and private key in one PEM file (a client
/// identity): the certificates first, this kiosk's own first of all.
pub fn identity(
    path: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PemError> {
    let bytes = read(path)?;
    Ok((
        certificates_from(path, &bytes)?,
        private_key_from(path, &bytes)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named_with_the_reason() {
        let e = certificates(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert_eq!(e.path, Path::new("/nonexistent/ca.pem"));
        assert!(
            e.to_string()
                .starts_with("/nonexistent/ca.pem: cannot be read"),
            "{e}"
        );
    }

    #[test]
    fn a_file_without_certificates_or_key_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "just text\n").unwrap();
        assert!(certificates(&path)
            .unwrap_err()
            .problem
            .contains("no certificate"));
        assert!(private_key(&path)
            .unwrap_err()
            .problem
            .contains("no private key"));
    }
}
