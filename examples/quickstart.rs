//! The quickstart: the documented async client's scenarios on a real story.
//!
//! `cargo run -p bookwyrm-examples --example quickstart` starts a local emulator of the API in-process, unless
//! `BOOKWYRM_API_URL` is set (then `BOOKWYRM_API_KEY` is used against that server).

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, CitationStreamEvent, PhrasalRequest,
    SummarizeRequest, SummarizeStreamEvent,
};

const STORY: &str = include_str!("../data/country-of-the-blind.txt");
const QUESTION: &str = "Where does the protagonist experience life threatening situations?";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 0. A server: the real API when configured, else the emulator on 127.0.0.1.
    let (_emulator, base_url, key) = match std::env::var("BOOKWYRM_API_URL") {
        Ok(url) if !url.trim().is_empty() => (
            None,
            url,
            std::env::var("BOOKWYRM_API_KEY").unwrap_or_default(),
        ),
        _ => {
            let key = "quickstart-key".to_string();
            let emulator = bookwyrm_emulator::Emulator::builder()
                .api_key(&key)
                .start()
                .await?;
            let url = emulator.base_url();
            println!("Started the local BookWyrm emulator at {url}");
            (Some(emulator), url, key)
        }
    };
    let client = AsyncBookWyrmClient::builder()
        .base_url(&base_url)
        .api_key(&key)
        .build()?;

    // 1. Split the story into phrases (offsets in Unicode code points).
    let phrases = client
        .stream_process_text(PhrasalRequest::from_text(STORY).chunk_size(1000))
        .await?
        .collect_phrases()
        .await?;
    println!(
        "\n1. Phrasal: {} chunks of at most 1000 characters",
        phrases.len()
    );
    if let Some(first) = phrases.iter().find(|p| p.text.contains("Nunez")) {
        println!(
            "   first chunk naming Nunez: chars {}..{}",
            first.start_char, first.end_char
        );
    }

    // 2. Citations and a summary, concurrently, joined.
    let (citations, summary) = tokio::try_join!(
        client.get_citations(CitationRequest::from_chunks(phrases.clone(), QUESTION)),
        client.summarize(SummarizeRequest::from_phrases(phrases.clone()).max_tokens(4000)),
    )?;
    println!("\n2. Concurrent get_citations + summarize");
    println!(
        "   {} citations for {QUESTION:?}",
        citations.total_citations
    );
    for c in citations.citations.iter().take(3) {
        let text: String = c.text.chars().take(90).collect();
        println!(
            "   [{}/4] chunk {}: {}…",
            c.quality,
            c.start_chunk,
            text.replace('\n', " ")
        );
    }
    let short: String = summary.summary.chars().take(240).collect();
    println!(
        "   summary ({} levels, {} subsummaries): {short}…",
        summary.levels_used, summary.subsummary_count
    );

    // 3. Two streams consumed concurrently.
    let cite_stream =
        client.stream_citations(CitationRequest::from_chunks(phrases.clone(), QUESTION));
    let sum_stream =
        client.stream_summarize(SummarizeRequest::from_phrases(phrases).max_tokens(4000));
    let (mut cites, mut sums) = tokio::try_join!(cite_stream, sum_stream)?;
    let count_citations = async {
        let (mut found, mut progress) = (0, 0);
        while let Some(event) = cites.next().await {
            match event? {
                CitationStreamEvent::Citation(_) => found += 1,
                CitationStreamEvent::Progress(_) => progress += 1,
                _ => {}
            }
        }
        Ok::<_, BookWyrmClientError>((found, progress))
    };
    let final_summary = async {
        let mut levels = 0;
        let mut last = None;
        while let Some(event) = sums.next().await {
            match event? {
                SummarizeStreamEvent::Progress(p) => levels = levels.max(p.current_level),
                SummarizeStreamEvent::Summary(s) => last = Some(s),
                _ => {}
            }
        }
        Ok::<_, BookWyrmClientError>((levels, last))
    };
    let ((found, progress), (levels, last)) = tokio::try_join!(count_citations, final_summary)?;
    println!("\n3. Two streams at once");
    println!("   citation stream: {found} citations after {progress} progress events");
    println!(
        "   summarize stream: {levels} levels, final summary of {} characters",
        last.map(|s| s.summary.chars().count()).unwrap_or(0)
    );

    // 4. Errors are typed: a wrong key is a BookWyrmApiError with status 401.
    let wrong = AsyncBookWyrmClient::builder()
        .base_url(&base_url)
        .api_key("not-the-key")
        .build()?;
    println!("\n4. Error handling");
    match wrong
        .summarize(SummarizeRequest::from_content("Hello."))
        .await
    {
        Err(BookWyrmClientError::Api(api)) => {
            println!(
                "   status {}: {} (retryable: {})",
                api.status_code(),
                api.message(),
                api.is_retryable()
            )
        }
        other => println!("   unexpected: {other:?}"),
    }

    // 5. Scoped use: the client is closed when the block ends, whatever happens in it.
    let closed_after = client.clone();
    let classification = client
        .scoped(|c| async move {
            c.classify(bookwyrm::ClassifyRequest::from_text(STORY).filename("story.txt"))
                .await
        })
        .await?;
    println!("\n5. Scoped close");
    println!(
        "   classify inside the scope: {} ({})",
        classification.classification.content_type, classification.classification.mime_type
    );
    println!("   closed afterwards: {}", closed_after.is_closed());
    Ok(())
}
