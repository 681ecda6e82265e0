//! The CLI against an HTTPS server behind a private CA: the certificate problem is named with a
//! hint about `--ca-cert` (never "is the server reachable?") and not retried; `--ca-cert`,
//! `BOOKWYRM_CA_CERT` and `SSL_CERT_FILE` each make it trusted.

use assert_cmd::Command;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

const KEY: &str = "sk-cli-tls";

/// The emulator over HTTPS with a certificate for 127.0.0.1 from a fresh CA; the CA's PEM is
/// written to `ca.pem` in the returned folder, beside a `hello.txt` to classify.
fn https_env() -> (
    tokio::runtime::Runtime,
    bookwyrm_emulator::Emulator,
    tempfile::TempDir,
) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt
        .block_on(
            bookwyrm_emulator::Emulator::builder()
                .api_key(KEY)
                .tls(cert.pem(), key.serialize_pem())
                .start(),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.path().join("hello.txt"), "Hello, world.").unwrap();
    (rt, emu, dir)
}

fn cmd(emu: &bookwyrm_emulator::Emulator, dir: &tempfile::TempDir) -> Command {
    let mut c = Command::cargo_bin("bookwyrm").unwrap();
    c.env("BOOKWYRM_API_URL", emu.base_url())
        .env("BOOKWYRM_API_KEY", KEY)
        .env_remove("BOOKWYRM_CA_CERT")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("BOOKWYRM_LOG")
        .current_dir(dir.path());
    c
}

#[test]
fn an_untrusted_certificate_is_named_with_a_hint_and_not_retried() {
    let (_rt, emu, dir) = https_env();
    for args in [&["classify", "hello.txt"][..], &["phrasal", "One. Two."]] {
        let out = cmd(&emu, &dir).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("TLS failed: invalid peer certificate"),
            "{stderr}"
        );
        assert!(stderr.contains("--ca-cert"), "{stderr}");
        assert!(!stderr.contains("reachable"), "{stderr}");
    }
    // The CLI's default policy retries connection failures; a TLS refusal must not use it:
    // one connection per command, and no request got through.
    assert_eq!(emu.stats().connections(), 2, "one connection per command");
    assert_eq!(emu.stats().requests(), 0);
}

#[test]
fn ca_cert_flag_env_and_ssl_cert_file_each_trust_the_ca() {
    let (_rt, emu, dir) = https_env();
    let ca = dir.path().join("ca.pem");
    // The flag, or a variable naming the CA file.
    for (flag, var) in [
        (true, None),
        (false, Some("BOOKWYRM_CA_CERT")),
        (false, Some("SSL_CERT_FILE")),
    ] {
        for args in [&["classify", "hello.txt"][..], &["phrasal", "One. Two."]] {
            let mut c = cmd(&emu, &dir);
            if flag {
                c.args(["--ca-cert", "ca.pem"]);
            }
            if let Some(var) = var {
                c.env(var, &ca);
            }
            let out = c.args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{var:?} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = cmd(&emu, &dir)
        .args(["--ca-cert", "missing.pem", "classify", "hello.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
}
