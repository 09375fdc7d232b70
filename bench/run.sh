#!/usr/bin/env bash
# Builds release binaries of Parley and the benchmark, then measures the send endpoint:
# a bare axum handler, Parley on SQLite, Parley on PostgreSQL (durable), the bare handler
# again. Markdown goes to stdout, progress to stderr. Extra arguments go to parley-bench
# (e.g. --connections 32 --duration 20 --targets bare,sqlite); see `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p parley -p parley-bench >&2
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/parley-bench" --parley-bin "$target_dir/release/parley" "$@"
