//! `AsyncBookWyrmClient::new()` reads the environment, and `close()` releases pooled
//! connections. (A test file of its own: it sets process environment variables.)

mod common;

use std::time::Duration;

use bookwyrm::{AsyncBookWyrmClient, SummarizeRequest};

#[tokio::test]
async fn new_reads_the_environment_and_close_releases_connections() {
    let emu = common::emulator().await;
    // SAFETY: the only test of this binary, on a current-thread runtime: no other thread
    // reads the environment while it is written (this is why it is a binary of its own).
    unsafe { std::env::set_var("BOOKWYRM_API_URL", emu.base_url()) };
    // SAFETY: as above.
    unsafe { std::env::set_var("BOOKWYRM_API_KEY", common::KEY) };
    let client = AsyncBookWyrmClient::new().unwrap();
    assert_eq!(client.base_url(), emu.base_url());
    client
        .summarize(SummarizeRequest::from_content("One. Two."))
        .await
        .unwrap();
    let sent = emu.recorded(true);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {}", common::KEY).as_str())
    );
    assert_eq!(
        emu.stats().connections_open(),
        1,
        "the connection is pooled"
    );

    client.close();
    let mut waited = Duration::ZERO;
    while emu.stats().connections_open() > 0 && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(
        emu.stats().connections_open(),
        0,
        "close() released the pooled connection"
    );

    // Empty variables count as unset: the defaults apply.
    // SAFETY: as above.
    unsafe { std::env::set_var("BOOKWYRM_API_URL", "") };
    // SAFETY: as above.
    unsafe { std::env::set_var("BOOKWYRM_API_KEY", " ") };
    let defaults = AsyncBookWyrmClient::new().unwrap();
    assert_eq!(defaults.base_url(), bookwyrm::DEFAULT_BASE_URL);
    assert!(format!("{defaults:?}").contains("api_key: None"));
}
