#!/bin/sh
# Runs every libFuzzer target of a GOVCHAIN_FUZZ build for SECONDS each, starting from
# the committed corpus (tests/fuzz/corpus/<target>) and writing new inputs to a scratch
# copy. A crash leaves its input in build-dir/fuzz-artifacts/ and fails the run.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -eu
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-artifacts"
status=0
for source in "$root"/tests/fuzz/fuzz_*.c; do
    target=$(basename "$source" .c)
    corpus=${target#fuzz_}
    scratch="$build/fuzz-corpus/$corpus"
    mkdir -p "$scratch"
    cp "$root/tests/fuzz/corpus/$corpus"/* "$scratch"/
    echo "fuzz: $target for ${seconds}s"
    if ! "$build/$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$build/fuzz-artifacts/$corpus-" "$scratch" \
            >"$build/fuzz-artifacts/$corpus.log" 2>&1; then
        echo "fuzz: $target FAILED; see $build/fuzz-artifacts/$corpus.log" >&2
        tail -n 40 "$build/fuzz-artifacts/$corpus.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" \
            "$build/fuzz-artifacts/$corpus.log" | tr '\n' ' '
        echo
    fi
done
exit $status
