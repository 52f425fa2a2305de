//! The one entry point to the OS / browser random number generator.

use super::CryptoError;

/// Fill `buf` with cryptographically secure random bytes
/// (`getrandom`; `crypto.getRandomValues` in the browser).
pub fn fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Random)
}

/// A fresh random array.
pub fn array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
