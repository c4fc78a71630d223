#!/bin/sh
# Runs every unit-test binary in BUILD/tests, then `convbench check` on
# every shipped suite; prints one closing line and fails if anything did.
#   tests/run.sh BUILD [long]     long: benchdnn's batch of 2, not 1
build=${1:?usage: tests/run.sh BUILD [long]}
mode=${2:-quick}
passed=0
failed=0
failures=""

run() {
    name=$1
    shift
    start=$(date +%s)
    if "$@" > "$build/tests/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS  $name ($(( $(date +%s) - start )) s)"
    else
        failed=$((failed + 1))
        failures="$failures $name"
        echo "FAIL  $name ($(( $(date +%s) - start )) s), log:"
        sed 's/^/    /' "$build/tests/$name.log" | tail -n 40
    fi
}

for t in "$build"/tests/test_*; do
    case "$t" in *.o|*.d|*.log) continue ;; esac
    [ -x "$t" ] && run "$(basename "$t")" "$t"
done

mb=1
[ "$mode" = long ] && mb=2
for f in harness/suites/*.txt; do
    suite=$(basename "$f" .txt)
    run "check-$suite" "$build/convbench" check --suite "$suite" --mb "$mb"
done

[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
