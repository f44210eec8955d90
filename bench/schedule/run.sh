#!/bin/sh
# run.sh benchmarks the frequency engine against later.js (@breejs/later
# 4.2.0 under node) on the frequencies in exprs.txt and prints ops/s side
# by side. Needs go; node and npm come from Debian's packages when
# missing, later.js is installed in a temp dir.
# Both sides report the best of ROUNDS (default 3) runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
(cd "$tmp" && npm init -y >/dev/null && npm install --silent @breejs/later@4.2.0 >/dev/null)
NODE_PATH="$tmp/node_modules" node "$here/bench.js" > "$tmp/node.txt"
(cd "$here" && go test -run '^$' -bench . -benchtime "${BENCHTIME:-1s}" -count "${ROUNDS:-3}" .) > "$tmp/go.txt"

awk -v nodefile="$tmp/node.txt" -v gofile="$tmp/go.txt" '
BEGIN {
  n = 0
  while ((getline line < nodefile) > 0) {
    split(line, f, " "); n++
    jsparse[n] = f[1]; jsnext[n] = f[2]
    sub(/^[^ ]+ [^ ]+ /, "", line); expr[n] = line
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
    # both: a parse and a next(10), the work later.js splits differently
    # (it compiles a schedule in next, where Parse compiles it once).
    rb = (1 / jsparse[i] + 1 / jsnext[i]) / (1 / goparse[i] + 1 / gonext[i])
    sp += log(rp); sn += log(rn); sb += log(rb)
    printf "%-46s %12.0f %12.0f %6.1fx   %12.0f %12.0f %6.1fx   %6.1fx\n", expr[i], jsparse[i], goparse[i], rp, jsnext[i], gonext[i], rn, rb
  }
  printf "geometric mean ratio: parse %.1fx, next(10) %.1fx, both %.1fx\n", exp(sp / n), exp(sn / n), exp(sb / n)
}'
