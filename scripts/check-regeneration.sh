#!/usr/bin/env bash
# Does the SDK still build when regenerated from a server's OpenAPI document?
#
#   scripts/check-regeneration.sh tests/fixtures/fastapi/openapi.json
#
# In a throwaway git worktree of HEAD: `bookwyrm contract update FILE` writes the contract,
# then `cargo build -p bookwyrm` regenerates the typed API and compiles the handwritten layer
# against it (the workspace's target directory is shared, so only the SDK crate rebuilds).
# Exit 0 when it builds; the worktree is removed either way.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OPENAPI-FILE" >&2; exit 2; }
doc=$(realpath "$1")
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
git -C "$root" worktree add --quiet --detach "$work" HEAD
trap 'git -C "$root" worktree remove --force "$work"' EXIT
cd "$work"
export CARGO_TARGET_DIR="$root/target"
cargo run --quiet --locked -p bookwyrm-cli -- contract update "$doc" --write openapi/bookwyrm.yaml
git --no-pager diff --stat -- openapi/bookwyrm.yaml
cargo build --quiet --locked -p bookwyrm --lib
echo "regenerated from $1 and built"
