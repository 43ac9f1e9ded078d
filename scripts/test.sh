#!/usr/bin/env bash
# `npm test`: builds, type-checks, then runs every test tier — unit (test/unit), browser component tests
# in headless Debian Chromium (test/browser), end-to-end tests in a real VS Code served by code-server
# (test/e2e), the torch executor driven for real in a Python with torch + transformers + accelerate
# (test/python; scripts/setup-python.sh builds the Debian chroot when missing) — with Node's built-in runner. Every tier runs even when an earlier one fails, so all
# results are visible; the script exits non-zero if any tier failed. Each tier prints the readable
# `spec` report; the output ends with one combined TAP-style summary (`# tests N`, `# pass N`,
# `# fail N`, ...) summed over all tiers, where a failed build/type-check/setup step counts as a failure.
# Environment: DAP_TEST_TIERS="unit browser e2e python" picks tiers (build and type checks always run);
# DAP_PYTHON=/path/to/python runs the python tier on that interpreter instead of the chroot.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
shopt -s nullglob

TIERS="${DAP_TEST_TIERS:-unit browser e2e python}"
RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/dap-test-results.XXXXXX")"
trap 'rm -rf "$RESULTS"' EXIT
# The torch environment probe's kept answers (src/train/torch/envCache.ts) live and die with this test run.
export DAP_CACHE_DIR="${DAP_CACHE_DIR:-$RESULTS/cache}"
# So do the tests' temporary folders (mkdtemp in os.tmpdir(): run folders, written models, crash logs), which
# otherwise pile up by the gigabyte over repeated runs.
export TMPDIR="$RESULTS/tmp"
mkdir -p "$TMPDIR"
SUITE_START=$(date +%s)

declare -a SUMMARY_LINES=()
STEP_FAILURES=0   # failed steps that are not node test runs (build, type check, setup)
TOTAL_TESTS=0 TOTAL_SUITES=0 TOTAL_PASS=0 TOTAL_FAIL=0 TOTAL_CANCELLED=0 TOTAL_SKIPPED=0 TOTAL_TODO=0

banner() { printf '\n=== %s ===\n' "$*"; }

# step NAME COMMAND...: runs a non-test step, records its status and duration.
step() {
  local name="$1"; shift
  banner "$name"
  local t0=$(date +%s)
  "$@"
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  if (( rc == 0 )); then
    SUMMARY_LINES+=("ok      $name (${dt}s)")
  else
    SUMMARY_LINES+=("FAILED  $name (exit $rc, ${dt}s)")
    STEP_FAILURES=$(( STEP_FAILURES + 1 ))
  fi
  return $rc
}

# tap_count FILE KEY: the number on the last `# KEY N` line of a TAP file (0 if none).
tap_count() { grep -E "^# $2 [0-9]+" "$1" 2>/dev/null | tail -n 1 | awk '{print $3}' || true; }

# tier NAME TIMEOUT_S FILES...: runs test files in one node --test process (one file at a time).
tier() {
  local name="$1" limit="$2"; shift 2
  local files=("$@")
  banner "$name tests (${#files[@]} files)"
  if (( ${#files[@]} == 0 )); then
    SUMMARY_LINES+=("skip    $name: no test files")
    return 0
  fi
  local tap="$RESULTS/$name.tap"
  local t0=$(date +%s)
  timeout --kill-after=20s "$limit" node --import tsx --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "${files[@]}"
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  local tests pass fail cancelled skipped todo suites
  tests=$(tap_count "$tap" tests); pass=$(tap_count "$tap" pass); fail=$(tap_count "$tap" fail)
  cancelled=$(tap_count "$tap" cancelled); skipped=$(tap_count "$tap" skipped); todo=$(tap_count "$tap" todo)
  suites=$(tap_count "$tap" suites)
  if [[ -z "$tests" ]]; then
    # The runner died before its summary (timeout, crash): count the tier as one failure.
    SUMMARY_LINES+=("FAILED  $name: runner exited $rc without a summary (${dt}s; limit ${limit}s)")
    STEP_FAILURES=$(( STEP_FAILURES + 1 ))
    return 1
  fi
  TOTAL_TESTS=$(( TOTAL_TESTS + tests )); TOTAL_SUITES=$(( TOTAL_SUITES + ${suites:-0} ))
  TOTAL_PASS=$(( TOTAL_PASS + ${pass:-0} )); TOTAL_FAIL=$(( TOTAL_FAIL + ${fail:-0} ))
  TOTAL_CANCELLED=$(( TOTAL_CANCELLED + ${cancelled:-0} )); TOTAL_SKIPPED=$(( TOTAL_SKIPPED + ${skipped:-0} ))
  TOTAL_TODO=$(( TOTAL_TODO + ${todo:-0} ))
  local verdict="ok     "
  if (( rc != 0 )) || (( ${fail:-0} + ${cancelled:-0} > 0 )); then
    verdict="FAILED "
    # A non-zero exit with no failing test (e.g. an error outside any test) still fails the tier.
    if (( ${fail:-0} + ${cancelled:-0} == 0 )); then STEP_FAILURES=$(( STEP_FAILURES + 1 )); fi
  fi
  SUMMARY_LINES+=("$verdict $name: $tests tests, ${pass:-0} pass, ${fail:-0} fail, ${cancelled:-0} cancelled, ${skipped:-0} skipped (${dt}s)")
}

echo "dap test: node $(node --version), CI=${CI:-}, tiers: $TIERS"

if [[ -f scripts/setup-vulkan.sh ]]; then
  step "setup-vulkan" bash scripts/setup-vulkan.sh
fi
step "build" node scripts/build.mjs
step "typecheck" npm run --silent typecheck

for t in $TIERS; do
  case "$t" in
    unit)
      tier unit 900 test/unit/*.test.ts
      ;;
    browser)
      if step "setup-browser" bash scripts/setup-browser.sh; then
        tier browser 600 test/browser/*.test.ts
      fi
      ;;
    e2e)
      # test/e2e/training-torch.e2e.test.ts trains with scripts/chroot-python: the chroot first (seconds when
      # it exists; a failure is counted here and that test then fails naming the interpreter).
      [[ -n "${DAP_PYTHON:-}" ]] || step "setup-python" bash scripts/setup-python.sh
      if step "setup-code-server" bash scripts/setup-code-server.sh; then
        tier e2e 1200 test/e2e/*.test.ts
      fi
      ;;
    python)
      if step "setup-python" bash scripts/setup-python.sh; then
        tier python 1800 test/python/*.test.ts
      fi
      ;;
    *)
      echo "unknown tier '$t' in DAP_TEST_TIERS" >&2
      STEP_FAILURES=$(( STEP_FAILURES + 1 ))
      ;;
  esac
done

banner "summary ($(( $(date +%s) - SUITE_START ))s in total)"
printf '%s\n' "${SUMMARY_LINES[@]}"
# Combined summary in the node test runner's TAP format; failed non-test steps count as failures.
echo "# tests $(( TOTAL_TESTS + STEP_FAILURES ))"
echo "# suites $TOTAL_SUITES"
echo "# pass $TOTAL_PASS"
echo "# fail $(( TOTAL_FAIL + STEP_FAILURES ))"
echo "# cancelled $TOTAL_CANCELLED"
echo "# skipped $TOTAL_SKIPPED"
echo "# todo $TOTAL_TODO"
echo "# duration_ms $(( ( $(date +%s) - SUITE_START ) * 1000 ))"
if (( TOTAL_FAIL + TOTAL_CANCELLED + STEP_FAILURES > 0 )); then
  exit 1
fi
exit 0
