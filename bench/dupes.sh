#!/usr/bin/env bash
# Benchmark `fabrik dupes` against jscpd 5 (native) on the CPython standard library of the
# machine's python3 and on ~/.cargo/registry/src: wall time, peak memory, clones found and
# how far the two result sets overlap; then a warm `--changed` run against jscpd's
# `--baseline-from-ref`.
#
# Usage: bench/dupes.sh            (builds fabrik in release)
#        FABRIK=/path/to/fabrik bench/dupes.sh
#        RUNS=5 bench/dupes.sh     (timed runs per tool and corpus; default 3)
# Any binary that takes `dupes --min-tokens N --min-lines N --mode M --languages L
# --format json [--no-cache] [--changed --base REV] PATH` works as FABRIK, e.g. the
# library's example: cargo build --release -p fabrik-clones --example dupes.
set -euo pipefail

runs=${RUNS:-3}
min_tokens=50
min_lines=5
mode=mild
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fabrik-dupes-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log() { printf '%s\n' "$*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (peak memory)"
  apt-get install -y -qq time >/dev/null
fi

log "installing jscpd into $tmp/npm"
npm install --silent --prefix "$tmp/npm" jscpd jscpd-linux-x64-gnu >/dev/null 2>&1
jscpd="$tmp/npm/node_modules/.bin/jscpd"
log "jscpd $("$jscpd" --version)"

if [[ -z "${FABRIK:-}" ]]; then
  log "building fabrik (release)"
  (cd "$root" && cargo build --release -q -p fabrik-cli)
  FABRIK="$root/target/release/fabrik"
  if ! "$FABRIK" dupes --help >/dev/null 2>&1; then
    log "this fabrik has no dupes subcommand yet: using the fabrik-clones example instead"
    (cd "$root" && cargo build --release -q -p fabrik-clones --example dupes)
    FABRIK="$root/target/release/examples/dupes"
  fi
fi
log "fabrik: $FABRIK"

# The overlap of two jscpd-shaped JSON reports: a clone of one tool counts as found by the
# other when some clone of the other overlaps its line ranges on both sides.
cat >"$tmp/overlap.py" <<'PY'
import json, sys
from collections import defaultdict

def load(path):
    out = []
    for c in json.load(open(path))["duplicates"]:
        a, b = c["firstFile"], c["secondFile"]
        side = lambda f: (f["name"].removeprefix("./"), f["start"], f["end"])
        out.append((side(a), side(b)))
    return out

def index(pairs):
    idx = defaultdict(list)
    for a, b in pairs:
        idx[a[0]].append((a, b))
        idx[b[0]].append((b, a))
    return idx

def hit(x, y):
    return x[0] == y[0] and x[1] <= y[2] and y[1] <= x[2]

def found(clone, idx):
    a, b = clone
    return any(hit(a, x) and hit(b, y) for x, y in idx.get(a[0], ()))

jscpd, fabrik = load(sys.argv[1]), load(sys.argv[2])
ji, fi = index(jscpd), index(fabrik)
recall = sum(found(c, fi) for c in jscpd) / max(len(jscpd), 1)
back = sum(found(c, ji) for c in fabrik) / max(len(fabrik), 1)
print(f"{len(jscpd)} {len(fabrik)} {recall:.3f} {back:.3f}")
PY

# Prints "wall_s peak_mb" of one run of "$@" (stdout to $out). Wall time in milliseconds
# from the clock (GNU time's own has 10 ms steps), peak memory from GNU time.
measure() {
  local out=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -o "$tmp/time" -f "%M" "$@" >"$out" 2>"$tmp/stderr" || {
    local rc=$?
    # jscpd exits 1 when it finds clones above its threshold; fabrik exits 1 on findings.
    [[ $rc -eq 1 ]] || { cat "$tmp/stderr" >&2; return "$rc"; }
  }
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) '{ printf "%.3f %.0f\n", ns / 1e9, $1 / 1024 }' "$tmp/time"
}

# Runs "$@" $runs times; prints "min_wall median_wall max_peak_mb".
timed() {
  local out=$1; shift
  for _ in $(seq "$runs"); do measure "$out" "$@"; done | sort -n | awk '
    { wall[NR] = $1; if ($2 > peak) peak = $2 }
    END { printf "%.3f %.3f %d\n", wall[1], wall[int((NR + 1) / 2)], peak }'
}

results=()

# bench NAME DIR JSCPD_FORMAT FABRIK_LANGUAGES
bench() {
  local name=$1 dir=$2 jformat=$3 flangs=$4
  log "== $name: $dir"
  local j f
  j=$(timed "$tmp/jscpd.log" "$jscpd" --min-tokens "$min_tokens" --min-lines "$min_lines" \
      --mode "$mode" --format "$jformat" --reporters json --output "$tmp/jscpd-$name" \
      --silent --no-gitignore "$dir")
  f=$(cd "$dir" && timed "$tmp/fabrik-$name.json" "$FABRIK" dupes --min-tokens "$min_tokens" \
      --min-lines "$min_lines" --mode "$mode" --languages "$flangs" --format json --no-cache .)
  local stats overlap
  stats=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["statistics"]["total"]
print(t["sources"], t["lines"], t["clones"])' "$tmp/fabrik-$name.json")
  local jstats
  jstats=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["statistics"]["total"]
print(t["sources"], t["lines"], t["clones"])' "$tmp/jscpd-$name/jscpd-report.json")
  overlap=$(python3 "$tmp/overlap.py" "$tmp/jscpd-$name/jscpd-report.json" "$tmp/fabrik-$name.json")
  read -r jw jmed jmem <<<"$j"
  read -r fw fmed fmem <<<"$f"
  read -r fsrc flines fclones <<<"$stats"
  read -r jsrc jlines jclones <<<"$jstats"
  read -r _ _ recall back <<<"$overlap"
  results+=("| $name | jscpd | $jsrc | $jlines | $jw ($jmed) | $jmem | $jclones | |")
  results+=("| $name | fabrik | $fsrc | $flines | $fw ($fmed) | $fmem | $fclones | recall of jscpd $recall; fabrik clones confirmed by jscpd $back |")
  results+=("| $name | ratio | | | $(python3 -c "print(f'{$jw/$fw:.1f}x faster')") | $(python3 -c "print(f'{$fmem/$jmem:.2f} of memory')") | | |")
}

stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
cpython="$tmp/cpython"
mkdir -p "$cpython"
(cd "$stdlib" && tar cf - --exclude=site-packages --exclude=__pycache__ .) | tar xf - -C "$cpython"
bench cpython "$cpython" python python

registry="$HOME/.cargo/registry/src"
if [[ -d "$registry" ]] && [[ -n "$(ls -A "$registry")" ]]; then
  cp -a "$registry" "$tmp/registry"
  bench cargo-registry "$tmp/registry" rust rust
else
  log "skipping ~/.cargo/registry/src: absent or empty"
fi

# Changed mode: the corpus as a git repository, 40 lines of one file pasted into another
# (uncommitted), a warm cache; fabrik --changed against jscpd --baseline-from-ref HEAD.
# changed NAME DIR EXT JSCPD_FORMAT FABRIK_LANGUAGES
changed() {
  local name=$1 dir=$2 ext=$3 jformat=$4 flangs=$5
  log "== changed mode on $name"
  local target
  target=$(
    cd "$dir"
    git init -q -b main && git add -A
    git -c user.name=bench -c user.email=bench@example.com commit -q -m base
    python3 - "$ext" <<'PY'
import subprocess, sys
files = sorted(f for f in subprocess.run(["git", "ls-files", "*" + sys.argv[1]],
        capture_output=True, text=True, check=True).stdout.split("\n") if f)
def lines(f):
    with open(f, encoding="utf-8", errors="replace") as h:
        return h.read().split("\n")
def code(block):
    return sum(1 for l in block if l.strip() and not l.strip().startswith(("#", "//", "/*", "*", '"""')))
# The first file whose lines 201-240 are mostly code (comments are not tokens).
source = next(f for f in files if len(lines(f)) > 300 and code(lines(f)[200:240]) >= 32)
target = files[len(files) // 2]
with open(target, "a", encoding="utf-8") as h:
    h.write("\n" + "\n".join(lines(source)[200:240]) + "\n")
print(target)
PY
  )
  # Older than the cache's 2 s "racily clean" window, as a real edit would be.
  sleep 2
  local flags=(--min-tokens "$min_tokens" --min-lines "$min_lines" --mode "$mode" --languages "$flangs")
  (cd "$dir" && "$FABRIK" dupes "${flags[@]}" --format json --changed --base HEAD >/dev/null || true)  # warm the cache
  local c jc
  c=$(cd "$dir" && timed "$tmp/changed-$name.json" "$FABRIK" dupes "${flags[@]}" --format json --changed --base HEAD)
  jc=$(cd "$dir" && timed "$tmp/jscpd-changed.log" "$jscpd" --min-tokens "$min_tokens" \
       --min-lines "$min_lines" --mode "$mode" --format "$jformat" --reporters json \
       --output "$tmp/jscpd-changed-$name" --silent --baseline-from-ref HEAD .)
  read -r cw cmed cmem <<<"$c"
  read -r jcw jcmed jcmem <<<"$jc"
  local found jnew
  found=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["duplicates"]
print(sum(1 for c in d if sys.argv[2] in (c["firstFile"]["name"], c["secondFile"]["name"])))' "$tmp/changed-$name.json" "$target")
  jnew=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["statistics"]["total"].get("newClones", "?"))' "$tmp/jscpd-changed-$name/jscpd-report.json")
  results+=("| $name --changed (warm) | fabrik | | | $cw ($cmed) | $cmem | $found touching $target | |")
  results+=("| $name --baseline-from-ref HEAD | jscpd | | | $jcw ($jcmed) | $jcmem | $jnew new | |")
  results+=("| $name changed | ratio | | | $(python3 -c "print(f'{$jcw/$cw:.0f}x faster')") | | | |")
}

changed cpython "$cpython" .py python python
if [[ -d "$tmp/registry" ]]; then
  changed cargo-registry "$tmp/registry" .rs rust rust
fi

echo
echo "min-tokens $min_tokens, min-lines $min_lines, mode $mode; $runs runs each; wall: min (median) s; peak RSS MB"
echo
echo "| corpus | tool | files | lines | wall s | peak MB | clones | overlap |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
