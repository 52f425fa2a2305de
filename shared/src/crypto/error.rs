use thiserror::Error;

/// Every way a crypto operation can fail. Decryption failures are kept
/// generic on purpose: telling *why* authentication failed helps attackers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    #[error("not a Cloister sealed stream (bad header)")]
    BadHeader,
    #[error("unsupported sealed-stream format version {0}")]
    UnsupportedVersion(u8),
    #[error("chunk size {0} is out of range")]
    BadChunkSize(u32),
    #[error("chunk is longer than the stream's chunk size")]
    ChunkTooLong,
    #[error("chunk has the wrong length for its position")]
    BadChunkLength,
    #[error("sealed data is truncated")]
    Truncated,
    #[error("decryption failed: data is corrupt, tampered with, or under another key")]
    Decrypt,
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("key derivation parameters are out of the allowed range")]
    BadKdfParams,
    #[error("encryption failed")]
    Encrypt,
    #[error("key derivation failed")]
    KeyDerivation,
    #[error("the system random number generator failed")]
    Random,
    #[error("wrapped key is malformed")]
    BadWrappedKey,
    #[error("share link secret is malformed (cut off or altered)")]
    BadShareSecret,
    #[error("not a valid public key (wrong length or a point of small order)")]
    BadPublicKey,
    #[error("sealed key is malformed")]
    BadSealedKey,
    #[error("the sealed library key is for another key generation")]
    WrongGeneration,
    #[error("invalid purpose name (must be 1 to 64 lowercase letters or digits)")]
    BadPurpose,
}
