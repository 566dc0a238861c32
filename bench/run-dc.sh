#!/usr/bin/env bash
# Whole-stack data channel throughput, each implementation at send buffers of 32 KiB, 256 KiB
# and 1 MiB, RUNS runs per configuration; prints every JSON line (to results-dc.jsonl too) and a
# table of medians. Goodput swings 2-4x between runs on a shared machine; CPU per GB is the
# steadier figure. Release build only; never part of CI.
#
#   bench/run-dc.sh                      # str0m and webrtc, 256 MiB, 64 KiB messages, 3 runs
#   IMPLS="str0m" MIB=64 RUNS=5 bench/run-dc.sh
set -euo pipefail
cd "$(dirname "$0")"

IMPLS=${IMPLS:-"zvon str0m webrtc"}
BUFFERS=${BUFFERS:-"32768 262144 1048576"}
MIB=${MIB:-256}
MSG=${MSG:-65536}
RUNS=${RUNS:-3}
OUT=${OUT:-results-dc.jsonl}

cargo build --release --bin dc
DC=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/dc

: >"$OUT"
echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
for impl in $IMPLS; do
  for buf in $BUFFERS; do
    for run in $(seq "$RUNS"); do
      if line=$("$DC" --impl "$impl" --mib "$MIB" --buffer "$buf" --msg "$MSG"); then
        echo "$line" | tee -a "$OUT"
      else
        echo "{\"impl\":\"$impl\",\"buffer\":$buf,\"run\":$run,\"failed\":true}" | tee -a "$OUT"
      fi
    done
  done
done
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["impl"], r["buffer"]), []).append(r)
cols = ["mbit_per_s", "cpu_s_per_gb", "setup_ms", "udp_rcvbuf_errors", "load1"]
print()
print(f"median of runs, {rows[0].get('mib', '?')} MiB in {rows[0].get('msg', '?')}-byte messages")
print(f"{'impl':8} {'buffer':>8} {'ok/runs':>7} " + " ".join(f"{c:>17}" for c in cols)
      + "   (mbit_per_s min..max)")
for (impl, buf), rs in groups.items():
    ok = [r for r in rs if not r.get("failed")]
    cells = " ".join(f"{statistics.median(r[c] for r in ok):17.1f}" if ok else f"{'-':>17}"
                     for c in cols)
    spread = (f"{min(r['mbit_per_s'] for r in ok):.0f}..{max(r['mbit_per_s'] for r in ok):.0f}"
              if ok else "")
    print(f"{impl:8} {buf // 1024:>7}K {len(ok):>3}/{len(rs):<3} {cells}   {spread}")
EOF
