//! TLS: a server whose certificate is not trusted is refused with a TLS transport error after
//! one attempt, before any request (or the key) reaches it; trusting its private CA makes every
//! call and stream work; a certificate for another name or an expired one is refused.
//!
//! The server is the emulator serving HTTPS (`EmulatorBuilder::tls`), with certificates made
//! here by rcgen.

use crate::common;

use bookwyrm::{AsyncBookWyrmClient, BookWyrmClientError, PhrasalRequest, TransportKind};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A private CA and a server certificate it signed, in PEM.
struct Pki {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

/// A CA and a certificate for `name` signed by it (`expired`: valid only in 2001).
fn pki(name: &str, expired: bool) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "BookWyrm test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 12, 31);
    }
    Pki {
        ca_pem,
        server_pem: params.signed_by(&key, &issuer).unwrap().pem(),
        server_key_pem: key.serialize_pem(),
    }
}

/// The emulator serving HTTPS with `pki`'s server certificate.
async fn https_emulator(pki: &Pki) -> bookwyrm_emulator::Emulator {
    bookwyrm_emulator::Emulator::builder()
        .api_key(common::KEY)
        .record_requests(true)
        .tls(&pki.server_pem, &pki.server_key_pem)
        .start()
        .await
        .expect("the emulator starts with TLS")
}

fn builder(url: &str) -> bookwyrm::ClientBuilder {
    AsyncBookWyrmClient::builder()
        .base_url(url)
        .api_key(common::KEY)
}

/// A JSON call and a stream through `client` (the two transports: reqwest and direct).
async fn both_calls(client: &AsyncBookWyrmClient) -> Vec<Result<(), BookWyrmClientError>> {
    let json = client
        .classify(bookwyrm::ClassifyRequest::from_text("Hello, world."))
        .await
        .map(|_| ());
    let stream = async {
        let mut s = client
            .stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await?;
        while let Some(e) = s.next().await {
            e?;
        }
        Ok(())
    }
    .await;
    vec![json, stream]
}

fn assert_tls_refusal(results: &[Result<(), BookWyrmClientError>], reason: &str) {
    for r in results {
        let err = r.as_ref().expect_err("refused");
        assert!(err.is_tls(), "{err:?}");
        assert!(!err.is_retryable());
        let BookWyrmClientError::Transport(t) = err else {
            panic!("{err:?}")
        };
        assert_eq!(t.kind(), TransportKind::Tls);
        let message = err.to_string();
        assert!(message.contains(reason), "{message}");
        assert!(std::error::Error::source(t).is_some());
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_once_and_the_key_never_leaves() {
    let pki = pki("127.0.0.1", false);
    let emu = https_emulator(&pki).await;
    let url = emu.base_url();
    // Default policy: 2 retries. A TLS failure must not use them: one connection per call.
    let client = builder(&url).build().unwrap();
    let results = both_calls(&client).await;
    assert_tls_refusal(&results, "UnknownIssuer");
    assert_eq!(emu.stats().connections(), 2, "one attempt per call");
    // classify (a multipart upload) goes through reqwest, the stream over the direct path:
    // one refusal on each path.
    let stats = client.transport_stats();
    assert_eq!(
        (stats.direct, stats.general),
        (1, 1),
        "one call on each path"
    );
    // reqwest verifies with the same verifier.
    let client = builder(&url).direct_streams(false).build().unwrap();
    let results = both_calls(&client).await;
    assert_tls_refusal(&results, "UnknownIssuer");
    let stats = client.transport_stats();
    assert_eq!(
        (stats.direct, stats.general),
        (0, 2),
        "both through reqwest"
    );
    assert_eq!(emu.stats().connections(), 4, "one attempt per call");
    assert_eq!(emu.stats().requests(), 0, "a request reached the server");
    assert!(emu.recorded(false).is_empty());
}

#[tokio::test]
async fn trusting_the_private_ca_makes_calls_and_streams_work() {
    let pki = pki("127.0.0.1", false);
    let emu = https_emulator(&pki).await;
    let url = emu.base_url();
    let client = builder(&url)
        .add_root_certificate(&pki.ca_pem)
        .build()
        .unwrap();
    for r in both_calls(&client).await {
        r.unwrap();
    }
    // The same through reqwest for the stream too.
    let client = builder(&url)
        .add_root_certificate(&pki.ca_pem)
        .direct_streams(false)
        .build()
        .unwrap();
    for r in both_calls(&client).await {
        r.unwrap();
    }
    assert_eq!(emu.recorded(false).len(), 4);
    // From a file, as BOOKWYRM_CA_CERT names it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).unwrap();
    let client = builder(&url)
        .add_root_certificate_file(&path)
        .build()
        .unwrap();
    for r in both_calls(&client).await {
        r.unwrap();
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_or_out_of_date_is_refused() {
    for (name, expired, reason) in [
        ("other.example", false, "not valid for name"),
        ("127.0.0.1", true, "expired"),
    ] {
        let pki = pki(name, expired);
        let emu = https_emulator(&pki).await;
        for direct in [true, false] {
            let client = builder(&emu.base_url())
                .add_root_certificate(&pki.ca_pem)
                .direct_streams(direct)
                .build()
                .unwrap();
            assert_tls_refusal(&both_calls(&client).await, reason);
            let stats = client.transport_stats();
            // classify is a multipart upload: always reqwest's; the stream as asked.
            let expected = if direct { (1, 1) } else { (0, 2) };
            assert_eq!((stats.direct, stats.general), expected, "direct: {direct}");
        }
        assert_eq!(emu.stats().requests(), 0, "a request reached the server");
    }
}

#[test]
fn bad_root_certificates_are_validation_errors() {
    for (pem, needle) in [
        ("no certificate here", "no PEM"),
        (
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "not a valid PEM",
        ),
        // Good PEM, but no certificate inside.
        (
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
            "not a usable certificate",
        ),
    ] {
        let err = AsyncBookWyrmClient::builder()
            .add_root_certificate(pem)
            .build()
            .unwrap_err();
        assert!(matches!(err, BookWyrmClientError::Validation(_)), "{err:?}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[tokio::test]
async fn one_tls_session_serves_streams_and_calls_one_after_another() {
    let pki = pki("127.0.0.1", false);
    let emu = https_emulator(&pki).await;
    let client = builder(&emu.base_url())
        .add_root_certificate(&pki.ca_pem)
        .build()
        .unwrap();
    for _ in 0..5 {
        let phrases = client
            .stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await
            .unwrap()
            .collect_phrases()
            .await
            .unwrap();
        assert_eq!(phrases.len(), 2);
        client
            .summarize(bookwyrm::SummarizeRequest::from_content("One. Two."))
            .await
            .unwrap();
    }
    let stats = client.transport_stats();
    assert_eq!((stats.direct, stats.general), (10, 0));
    assert_eq!(
        (stats.connections, stats.tls_handshakes, stats.reused),
        (1, 1, 9)
    );
    assert_eq!(
        emu.stats().connections(),
        1,
        "one TLS connection for ten requests"
    );
    assert_eq!(emu.stats().requests(), 10);
}
