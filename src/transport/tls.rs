//! TLS for both transports of a client: one certificate verifier (the platform's roots plus
//! the extra ones), built at the first handshake rather than when the client is built.
//!
//! Loading the platform's roots reads and parses every certificate of the system store
//! (about 150 files on Debian: measured at 2.5 % of the CPU of 2,000 small calls to a local
//! server, and paid by every CLI command), and the SDK used to do it twice for an `https`
//! server: once for reqwest's client, once for the direct transport. A client of an `http`
//! server (the emulator) never needs them at all. Here reqwest and the direct transport share
//! one [`LazyVerifier`], which loads them once, when a server first shows a certificate.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The platform's verifier with extra roots, made when first needed.
pub(crate) struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    roots: Vec<CertificateDer<'static>>,
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl std::fmt::Debug for LazyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyVerifier")
            .field("extra_roots", &self.roots.len())
            .field("loaded", &self.verifier.get().is_some())
            .finish()
    }
}

/// The crypto provider of a process that installed none: ring (nothing to build beyond Rust
/// and a little C, no cmake). A process that wants aws-lc-rs (FIPS, post-quantum key
/// exchange) installs it as the default provider before building a client.
// rustls 0.23.48 deprecates ring's provider for its lack of post-quantum key exchange; it
// stays the default here for the build cost (aws-lc-sys is a C library built with cmake),
// and the README says how to choose aws-lc-rs.
#[allow(deprecated)]
fn builtin_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

impl LazyVerifier {
    /// The platform's roots plus `roots`, with the process's default crypto provider (else
    /// ring). Each extra root is checked now, so that a root rustls cannot
    /// use is refused when the client is built; the platform's roots wait for a handshake.
    pub(crate) fn new(roots: Vec<CertificateDer<'static>>) -> Result<Self, rustls::Error> {
        let mut check = rustls::RootCertStore::empty();
        for root in &roots {
            check.add(root.clone())?;
        }
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(builtin_provider()));
        Ok(Self {
            provider,
            roots,
            verifier: OnceLock::new(),
        })
    }

    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                tracing::debug!("loading the platform's root certificates");
                if self.roots.is_empty() {
                    rustls_platform_verifier::Verifier::new(self.provider.clone())
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        self.roots.iter().cloned(),
                        self.provider.clone(),
                    )
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A client configuration verifying with `self`, offering `alpn`.
    pub(crate) fn config(
        self: &Arc<Self>,
        alpn: &[&[u8]],
    ) -> Result<rustls::ClientConfig, rustls::Error> {
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(self.clone())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    // The signature checks need no roots: the provider's algorithms, as the platform's
    // verifier uses them.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier;

    use super::LazyVerifier;

    #[test]
    fn the_platform_roots_wait_for_a_certificate_to_verify() {
        let verifier = Arc::new(LazyVerifier::new(Vec::new()).unwrap());
        let config = verifier.config(&[b"http/1.1"]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(
            verifier.verifier.get().is_none(),
            "loaded before a handshake"
        );
        // A certificate to verify loads them (and refuses this one).
        let junk = rustls::pki_types::CertificateDer::from(vec![1, 2, 3]);
        let name = rustls::pki_types::ServerName::try_from("example.com").unwrap();
        let now = rustls::pki_types::UnixTime::now();
        assert!(verifier
            .verify_server_cert(&junk, &[], &name, &[], now)
            .is_err());
        assert!(verifier.verifier.get().is_some());
    }

    #[test]
    fn an_extra_root_that_is_no_certificate_is_refused_at_once() {
        let junk = rustls::pki_types::CertificateDer::from(b"hello world".to_vec());
        assert!(LazyVerifier::new(vec![junk]).is_err());
    }
}
