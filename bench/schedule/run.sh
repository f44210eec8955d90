#!/bin/sh
# run.sh benchmarks the frequency engine against later.js (@breejs/later
# 4.2.0 under node) on the frequencies in exprs.txt and prints ops/s side
# by side. Needs go; node and npm come from Debian's packages when
# missing, later.js is installed in a temp dir.
# Both sides report the best of ROUNDS (default 5) runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
(cd "$tmp" && npm init -y >/dev/null && npm install --silent @breejs/later@4.2.0 >/dev/null)
(cd "$here" && go test -c -o "$tmp/schedule.test" .)
# The rounds alternate between the two sides, so that a slow spell of a
# shared machine cannot fall on one side only; each side keeps its best.
: > "$tmp/node.txt"
: > "$tmp/go.txt"
rounds=${ROUNDS:-5}
r=0
while [ "$r" -lt "$rounds" ]; do
  ROUNDS=1 NODE_PATH="$tmp/node_modules" node "$here/bench.js" >> "$tmp/node.txt"
  (cd "$here" && "$tmp/schedule.test" -test.run '^$' -test.bench . -test.benchtime "${BENCHTIME:-1s}") >> "$tmp/go.txt"
  r=$((r + 1))
done

awk -v nodefile="$tmp/node.txt" -v gofile="$tmp/go.txt" '
BEGIN {
  # node.txt holds a block of lines per round, in the order of exprs.txt.
  n = 0
  while ((getline line < nodefile) > 0) {
    split(line, f, " ")
    e = line; sub(/^[^ ]+ [^ ]+ /, "", e)
    if (!(e in idx)) { n++; idx[e] = n; expr[n] = e }
    i = idx[e]
    if (f[1] + 0 > jsparse[i]) jsparse[i] = f[1] + 0
    if (f[2] + 0 > jsnext[i]) jsnext[i] = f[2] + 0
  }
  while ((getline line < gofile) > 0) {
    if (line !~ /^Benchmark/) continue
    split(line, f, /[ \t]+/)
    kind = (f[1] ~ /^BenchmarkParse/) ? "parse" : "next"
    id = f[1]; sub(/^.*expr/, "", id); sub(/-[0-9]+$/, "", id)
    i = index("ABCDEFGHIJKLMNOPQRSTUVWXYZ", id)
    for (j = 1; j <= length(f); j++) if (f[j] == "ns/op") ns = f[j-1]
    ops = 1e9 / ns # the best of the runs
    if (kind == "parse") { if (ops > goparse[i]) goparse[i] = ops } else if (ops > gonext[i]) gonext[i] = ops
  }
  printf "%-46s %12s %12s %7s   %12s %12s %7s   %7s\n", "frequency", "later parse/s", "Go parse/s", "ratio", "later next/s", "Go next/s", "ratio", "both"
  for (i = 1; i <= n; i++) {
    rp = goparse[i] / jsparse[i]; rn = gonext[i] / jsnext[i]
    # both: a parse and a next(10), the first fire times of a new frequency;
    # the two engines split that work differently between the steps.
    rb = (1 / jsparse[i] + 1 / jsnext[i]) / (1 / goparse[i] + 1 / gonext[i])
    sp += log(rp); sn += log(rn); sb += log(rb)
    printf "%-46s %12.0f %12.0f %6.1fx   %12.0f %12.0f %6.1fx   %6.1fx\n", expr[i], jsparse[i], goparse[i], rp, jsnext[i], gonext[i], rn, rb
  }
  printf "geometric mean ratio: parse %.1fx, next(10) %.1fx, both %.1fx\n", exp(sp / n), exp(sn / n), exp(sb / n)
}'
