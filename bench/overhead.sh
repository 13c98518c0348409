#!/usr/bin/env bash
# fabrik's own overhead per run: a full high-risk run (discovery x2, planning + review,
# execution, verification, ship) with an instant fake agent and no gates, N times, in a temp
# git repo; plus `fabrik --help`. Prints median and p90 in milliseconds, and the same for a
# bare `git status` and the fake agent alone, as the floor that spawning processes costs here.
#
#   bash bench/overhead.sh [N]        (default N=30)
#   BASELINE=/path/to/older/fabrik bash bench/overhead.sh [N]
#       also runs that binary, interleaved run by run with this one (same repo, same
#       moment), so a machine whose fsync latency drifts still gives a fair comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
cargo build --release -q -p fabrik-cli -p fabrik-testkit
FABRIK=$PWD/target/release/fabrik
FAKE=$PWD/target/release/fabrik-fake-agent
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/script.json" <<JSON
{"steps": [
  {"stage": "execution", "actions": [{"append": {"path": "out.txt", "content": "x\n"}}, {"print": "done"}]},
  {"stage": "verification", "actions": [{"verdict": {"approved": true, "summary": "ok"}}]},
  {"stage": "review", "actions": [{"verdict": {"approved": true, "summary": "ok"}}]},
  {"stage": "*", "actions": [{"print": "text"}]}
]}
JSON
repo=$tmp/repo
mkdir -p "$repo" && cd "$repo"
git init -q -b main && git config user.email b@b && git config user.name bench
cat > fabrik.toml <<TOML
[agents.fake]
kind = "command"
argv = ["$FAKE", "--script", "$tmp/script.json"]
[stages.discovery]
agents = ["fake", "fake"]
[stages.planning]
agent = "fake"
reviewers = ["fake"]
lint = false
[stages.execution]
agent = "fake"
[stages.verification]
agent = "fake"
[stages.ship]
agent = "fake"
[gates]
builtin = []
TOML
git add -A && git commit -qm init
python3 - "$N" "$FABRIK" "$FAKE" "$tmp/script.json" "${BASELINE:-}" <<'PY'
import statistics, subprocess, sys, time
n, fabrik, fake, script, baseline = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def bench(argv, stdin=None):
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, input=stdin)
        xs.append((time.perf_counter() - t) * 1000)
    xs.sort()
    return statistics.median(xs), xs[int(len(xs) * 0.9) - 1]
def interleaved(a, b):
    xs, ys = [], []
    for _ in range(n):
        for argv, out in ((a, xs), (b, ys)):
            t = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out.append((time.perf_counter() - t) * 1000)
    stat = lambda v: (statistics.median(sorted(v)), sorted(v)[int(len(v) * 0.9) - 1])
    return stat(xs), stat(ys)
rows = [
    ("fabrik run (high risk, 7 agent calls, 2 commits)", bench([fabrik, "--risk", "high", "bench task"])),
    ("fabrik --help", bench([fabrik, "--help"])),
    ("fabrik --dry-run", bench([fabrik, "--dry-run", "bench task"])),
    ("floor: fake agent alone (x1)", bench([fake, "--script", script], stdin=b"p")),
    ("floor: git status (x1)", bench(["git", "status", "--short"])),
]
# Last: every run leaves a worktree and a branch behind, which the rows above must not pay.
if baseline:
    new, old = interleaved([fabrik, "--risk", "high", "bench task"], [baseline, "--risk", "high", "bench task"])
    rows += [("this fabrik run (interleaved with BASELINE)", new), ("BASELINE fabrik run (interleaved)", old)]
print(f"{'command':<52} {'median ms':>10} {'p90 ms':>8}   (N={n})")
for name, (med, p90) in rows:
    print(f"{name:<52} {med:>10.1f} {p90:>8.1f}")
PY
