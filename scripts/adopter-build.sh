#!/usr/bin/env bash
# What depending on this SDK costs an adopter's build: a hello-world service on `bookwyrm`
# (default features) and tokio, and the same on async-openai 0.31 (feature chat-completion,
# its default rustls) and tokio, each built from clean (debug, its own target directory),
# back to back on this machine. Prints both times, the crate counts and the ratio.
#
#   scripts/adopter-build.sh [ROUNDS]   (default 1; the median of the rounds is reported)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

project() { # name, dependency lines, main.rs
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n%s\n' "$1" "$2" >"$work/$1/Cargo.toml"
    printf '%s\n' "$3" >"$work/$1/src/main.rs"
    (cd "$work/$1" && cargo generate-lockfile --quiet && cargo fetch --quiet)
}

project with-bookwyrm "bookwyrm = { path = \"$root\" }
tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }" '
#[tokio::main]
async fn main() {
    let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    let request = bookwyrm::SummarizeRequest::from_content("Hello.");
    println!("{:?}", client.summarize(request).await.map(|s| s.summary));
}'

project with-async-openai 'async-openai = { version = "0.31", features = ["chat-completion"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }' '
use async_openai::types::chat::CreateChatCompletionRequestArgs;
#[tokio::main]
async fn main() {
    let client = async_openai::Client::new();
    let request = CreateChatCompletionRequestArgs::default().model("gpt-4o-mini").build().unwrap();
    println!("{:?}", client.chat().create(request).await.map(|r| r.id));
}'

build() { # name -> seconds of a clean build
    rm -rf "$work/$1/target"
    local start end
    start=$(date +%s.%N)
    (cd "$work/$1" && cargo build --quiet --offline)
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

ours=() theirs=()
for round in $(seq "$rounds"); do
    theirs+=("$(build with-async-openai)")
    ours+=("$(build with-bookwyrm)")
    echo "round $round: bookwyrm ${ours[-1]} s, async-openai ${theirs[-1]} s" >&2
done
o=$(printf '%s\n' "${ours[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
crates() { (cd "$work/$1" && cargo tree --prefix none --edges normal,build --offline | sort -u | wc -l); }
echo "bookwyrm:     ${o} s, $(crates with-bookwyrm) crates"
echo "async-openai: ${t} s, $(crates with-async-openai) crates"
echo "ratio: $(echo "scale=2; $o / $t" | bc)"
