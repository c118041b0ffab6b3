#!/usr/bin/env bash
# bench/run.sh — load every contender of bench/cmd/benchserver in turn with
# wrk on 127.0.0.1 and write a table of req/s, p50 and p99 for /read and
# /write, each also as a ratio to the no-session baseline measured in the
# same run.
#
#   bench/run.sh                      # all contenders, 10 s per route
#   DURATION=5s bench/run.sh          # shorter
#   CONTENDERS="baseline seshat-cookie scs-memstore" bench/run.sh
#
# Settings (environment): DURATION (wrk -d, default 10s), THREADS (-t, 2),
# CONNECTIONS (-c, 32), CONTENDERS (space-separated; baseline is always run
# first), REDIS_ADDR (127.0.0.1:6379), PG_URL
# (postgres://postgres@127.0.0.1:5432/test?sslmode=disable), OUT
# (bench/results/latest.md), BASELINE_AGAIN (1: measure the baseline again
# at the end, to show how much the machine drifted during the run).
#
# Engines are used only if reachable: a contender whose engine does not
# answer is listed as skipped with the reason. Every step is bounded in time
# (server start 20 s, each wrk run DURATION + 30 s, server stop 10 s), all
# traffic stays on the loopback interface, and the script ends only the
# processes it started, by PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
OUT=${OUT:-bench/results/latest.md}
BASELINE_AGAIN=${BASELINE_AGAIN:-1}
ALL="seshat-cookie seshat-memstore seshat-redis seshat-postgres seshat-sqlite scs-memstore scs-redis gorilla-cookie gorilla-cookie-aes gorilla-filesystem"
CONTENDERS=${CONTENDERS:-$ALL}
ROUTES="/read /write"
LUA=bench/wrk/session.lua

command -v wrk >/dev/null || { echo "run.sh: wrk not found (Debian: apt-get install -y wrk)" >&2; exit 1; }
command -v go >/dev/null || { echo "run.sh: go not found" >&2; exit 1; }

case $DURATION in
*s) dur_s=${DURATION%s} ;;
*m) dur_s=$((${DURATION%m} * 60)) ;;
*[0-9]) dur_s=$DURATION ;;
*) echo "run.sh: DURATION=$DURATION: want Ns or Nm" >&2; exit 1 ;;
esac
per_conn=$((CONNECTIONS / THREADS))
((per_conn >= 1)) || { echo "run.sh: CONNECTIONS must be at least THREADS" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seshat-bench.XXXXXX")
server_pid=""
stop_server() {
	[[ -n $server_pid ]] || return 0
	if kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null || true
	fi
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}
cleanup() {
	stop_server
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: building benchserver" >&2
(cd bench && go build -o "$tmp/benchserver" ./cmd/benchserver)

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')

declare -A rps p50 p99 errs
skipped=()
failed=()
measured=()

# measure NAME CONTENDER: start the server, run wrk on each route, stop it.
measure() {
	local name=$1 c=$2 addr="" rc route out line
	"$tmp/benchserver" -contender "$c" -addr 127.0.0.1:0 -redis "$REDIS_ADDR" -pg "$PG_URL" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	server_pid=$!
	for _ in $(seq 200); do
		addr=$(awk '/^listening /{print $2; exit}' "$tmp/$name.out")
		[[ -n $addr ]] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [[ -z $addr ]]; then
		rc=0
		if kill -0 "$server_pid" 2>/dev/null; then
			stop_server
			failed+=("$name: did not start listening within 20 s")
		else
			wait "$server_pid" 2>/dev/null || rc=$?
			server_pid=""
			if ((rc == 3)); then
				skipped+=("$name: $(sed -n 's/^skip: //p' "$tmp/$name.err" | head -1)")
			else
				failed+=("$name: exited with status $rc: $(tail -1 "$tmp/$name.err")")
			fi
		fi
		echo "run.sh: $name: not measured" >&2
		return 0
	fi
	for route in $ROUTES; do
		echo "run.sh: $name $route ($DURATION)" >&2
		out=$(timeout $((dur_s + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
			-s "$LUA" "http://$addr" -- "$route" "$per_conn" 2>&1) || true
		printf '%s\n' "$out" >"$tmp/$name${route//\//_}.wrk"
		line=$(grep '^BENCH ' <<<"$out" | tail -1 || true)
		if [[ -z $line ]]; then
			failed+=("$name $route: wrk gave no result: $(tail -1 <<<"$out")")
			continue
		fi
		local k=$name$route
		rps[$k]=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
		p50[$k]=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
		p99[$k]=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
		errs[$k]=$(awk '{n=0; for (i=2;i<=NF;i++) { split($i,a,"="); if (a[1]=="non2xx"||a[1]=="connect"||a[1]=="read"||a[1]=="write"||a[1]=="timeout") n+=a[2] } print n}' <<<"$line")
	done
	stop_server
	measured+=("$name")
}

measure baseline baseline
for c in $CONTENDERS; do
	[[ $c == baseline ]] && continue
	measure "$c" "$c"
done
if [[ $BASELINE_AGAIN == 1 ]]; then
	measure "baseline (again, at end)" baseline
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ratio A B: A/B to two decimals, or — when either is missing.
ratio() {
	if [[ -z ${1:-} || -z ${2:-} || ${2:-0} == 0 ]]; then
		echo "—"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	fi
}
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }

cmd="DURATION=$DURATION THREADS=$THREADS CONNECTIONS=$CONNECTIONS"
[[ $CONTENDERS != "$ALL" ]] && cmd+=" CONTENDERS=\"$CONTENDERS\""
cmd+=" bench/run.sh"

mkdir -p "$(dirname "$OUT")"
{
	echo "# HTTP benchmark: session libraries against a no-session baseline"
	echo
	echo "- Date: $started"
	echo "- Machine: $(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(go version | cut -d' ' -f3); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
	echo "- Shared machine: other jobs may have been running. Load average (1, 5, 15 min) at start $load_start, at end $load_end."
	echo "- Server and wrk on the same host over 127.0.0.1, so they compete for the same $(nproc) vCPUs."
	echo "- Command (from the repository root): \`$cmd\`"
	echo "- Each route: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s $LUA http://ADDR -- ROUTE $per_conn\`;"
	echo "  every connection logs in once (\`/login\`) and then sends its session cookie on every request."
	echo "- Ratios are to \`baseline\` (same routes, no session) measured first in this run:"
	echo "  req/s ratio below 1 and latency ratio above 1 mean slower than the baseline."
	if [[ $BASELINE_AGAIN == 1 ]]; then
		echo "- \`baseline (again, at end)\` is the baseline measured once more after all contenders: its distance from 1.00 shows how much the machine drifted during the run."
	fi
	for route in $ROUTES; do
		echo
		echo "## \`$route\`"
		echo
		echo "| contender | req/s | × baseline | p50 | × baseline | p99 | × baseline | errors |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		for name in "${measured[@]}"; do
			k=$name$route
			[[ -n ${rps[$k]:-} ]] || continue
			b=baseline$route
			printf '| %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$name" "${rps[$k]}" \
				"$(ratio "${rps[$k]}" "${rps[$b]:-}")" \
				"$(ms "${p50[$k]}")" "$(ratio "${p50[$k]}" "${p50[$b]:-}")" \
				"$(ms "${p99[$k]}")" "$(ratio "${p99[$k]}" "${p99[$b]:-}")" \
				"${errs[$k]}"
		done
	done
	echo
	echo "errors: non-2xx responses plus socket errors (connect, read, write, timeout) that wrk counted."
	if ((${#skipped[@]} > 0)); then
		echo
		echo "## Skipped"
		echo
		for s in "${skipped[@]}"; do echo "- $s"; done
	fi
	if ((${#failed[@]} > 0)); then
		echo
		echo "## Failed"
		echo
		for s in "${failed[@]}"; do echo "- $s"; done
	fi
} >"$OUT"
echo "run.sh: wrote $OUT" >&2
