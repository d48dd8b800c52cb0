#!/usr/bin/env bash
# The whole test suite: every meson test in the release build (ops, parsers,
# fidelity fixtures, plugin smoke binaries, CLI end-to-end, CUDA tests that
# skip without a GPU), the unit and smoke tests again under AddressSanitizer
# + UndefinedBehaviorSanitizer, and a short libFuzzer run of every parser's
# fuzz target. Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0

run_meson_tests() { # $1 = build dir, then meson test options; fresh log every run
  local dir="$1"; shift
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" "$@" || true
  count_meson "$dir"
}

count_meson() { # $1 = build dir; adds meson's testlog summary to the totals
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || { failed=$((failed + 1)); return; }
  local ok fail skip
  ok=$(grep -c '"result": "OK"' "$log" || true)
  fail=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skip=$(grep -c '"result": "SKIP"' "$log" || true)
  passed=$((passed + ok)) failed=$((failed + fail)) skipped=$((skipped + skip))
}

echo "== release build: all tests"
[ -f build/build.ninja ] || meson setup build -Dcuda=auto >/dev/null
if ninja -C build >/dev/null; then
  run_meson_tests build --num-processes "$jobs" --print-errorlogs --no-rebuild
else
  echo "build failed"; failed=$((failed + 1))
fi

echo "== out-of-tree plugin: examples/custom-head built against the installed vla.pc"
stage=$(mktemp -d)
if meson install -C build --destdir "$stage" >/dev/null 2>&1 &&
   pcdir=$(dirname "$(find "$stage" -name vla.pc | head -1)") &&
   PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" \
     cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$stage/vla-head-last-token-linear.so" \
     examples/custom-head/last_token_head.c $(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" pkg-config --cflags --libs vla) &&
   VLA_PLUGIN_PATH="$stage" ./build/cli/vla plugins --kind head | grep -q "last-token-linear" &&
   VLA_PLUGIN_PATH="$stage" ./build/cli/vla run --config examples/custom-head/config.yaml \
     --image examples/sample_224.png --instruction "put the spoon on the towel" | grep -q "16 steps x 7 dims"; then
  echo "custom head: ok"; passed=$((passed + 1))
else
  echo "custom head: FAILED"; failed=$((failed + 1))
fi
rm -rf "$stage"

echo "== ASan + UBSan build: unit and smoke tests"
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcuda=disabled -Dfuzz=disabled >/dev/null
fi
if ninja -C build-asan >/dev/null; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_meson_tests build-asan --num-processes "$jobs" --print-errorlogs --no-rebuild \
    --suite core --suite config --suite ops --suite weights --suite tokenizer --suite image \
    --suite smoke --suite cli --suite policy --timeout-multiplier 4
else
  echo "sanitizer build failed"; failed=$((failed + 1))
fi

echo "== libFuzzer: short runs over every parser"
if command -v clang >/dev/null; then
  if [ ! -f build-fuzz/build.ninja ]; then
    # fuzzer-no-link instruments libvla and the plugins too, so coverage guides the fuzzer
    CC=clang meson setup build-fuzz -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
      -Db_lundef=false -Dcuda=disabled -Dfuzz=enabled -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
  fi
  if ninja -C build-fuzz >/dev/null; then
    seconds=${VLA_FUZZ_SECONDS:-20}
    fuzzers=$(find build-fuzz -type f -name 'fuzz_*' -perm -u+x | sort)
    [ -n "$fuzzers" ] || { echo "fuzz: no targets were built"; failed=$((failed + 1)); }
    for bin in $fuzzers; do
      name=$(basename "$bin")
      corpus="tests/fuzz/corpus/$name"
      work=$(mktemp -d)
      [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
      if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}') runs)"
        passed=$((passed + 1))
      else
        echo "fuzz $name: FAILED"; tail -30 "$work.log"; failed=$((failed + 1))
      fi
      rm -rf "$work" "$work.log"
    done
  else
    echo "fuzz build failed"; failed=$((failed + 1))
  fi
else
  echo "SKIP: clang not installed, fuzz targets not built"; skipped=$((skipped + 1))
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
