#!/usr/bin/env bash
# codex-local next to llmfit and llm-checker on the same machine, in one run: wall time (median of RUNS) and peak
# resident memory of each command. Install the peers first (see docs/benchmarks.md):
#   cargo install llmfit --root "$PEERS"         # gives $PEERS/bin/llmfit
#   npm install --prefix "$PEERS" llm-checker     # gives $PEERS/node_modules/.bin/llm-checker
# then: PEERS=/path RUNS=10 bash benches/peers.sh (or name each with LLMFIT=... LLM_CHECKER=...)
set -euo pipefail
RUNS="${RUNS:-10}"
PEERS="${PEERS:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
CL="$ROOT/target/release/codex-local"
LLMFIT="${LLMFIT:-$PEERS/bin/llmfit}"
CHECKER="${LLM_CHECKER:-$PEERS/node_modules/.bin/llm-checker}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home/.codex"
# Nothing listens on these ports: no runtime answers, for every tool alike.
export HOME="$WORK/home" CODEX_HOME="$WORK/home/.codex" OLLAMA_HOST=127.0.0.1:9 LMSTUDIO_HOST=127.0.0.1:9
export NO_COLOR=1 CODEX_LOCAL_NO_PROGRESS=1

measure() {
  local name="$1"; shift
  local times=() peak=0
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(( (end - start) / 100000 )))
    local rss; rss=$(tail -n 1 "$WORK/rss")
    (( rss > peak )) && peak=$rss
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '| %s | %s ms | %s MiB |\n' "$name" "$(awk "BEGIN { printf \"%.1f\", $median / 10 }")" \
    "$(awk "BEGIN { printf \"%.1f\", $peak / 1024 }")"
}

echo "| command | median wall time ($RUNS runs) | peak memory |"
echo "|---|---|---|"
measure "codex-local status --json" "$CL" status --json
measure "codex-local models --json (this machine)" "$CL" models --json
measure "codex-local models --json --ram 32GiB --gpu \"RTX 4090\"" "$CL" models --json --ram 32GiB --gpu "RTX 4090"
measure "codex-local init --dry-run --json" "$CL" init --dry-run --json
if [ -x "$LLMFIT" ]; then
  measure "llmfit --json system ($("$LLMFIT" --version 2>/dev/null | head -n 1))" "$LLMFIT" --json system
  measure "llmfit --json fit" "$LLMFIT" --json fit
  measure "llmfit --json --memory 24G --ram 32G fit" "$LLMFIT" --json --memory 24G --ram 32G fit
fi
if [ -x "$CHECKER" ]; then
  measure "llm-checker check --no-verbose ($("$CHECKER" --version))" "$CHECKER" check --no-verbose
  measure "llm-checker check --no-verbose --gpu \"RTX 4090\" --ram 32" "$CHECKER" check --no-verbose --gpu "RTX 4090" --ram 32
fi
echo
echo "binary: codex-local $(du -h "$CL" | cut -f1)"
