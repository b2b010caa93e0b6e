//! The one TLS crypto provider of the fleet: ring.
//!
//! Every TLS client in the fleet (reqwest, lettre, async-imap, sqlx) uses
//! rustls without a default provider compiled in, so exactly one provider is
//! in the tree and it must be installed before the first connection. Keeping
//! aws-lc out is checked by the tidy test (`cargo tree -i aws-lc-sys`).

/// Install the process-wide TLS crypto provider (ring). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
