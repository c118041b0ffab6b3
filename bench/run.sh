#!/usr/bin/env bash
# bench/run.sh — load every contender in turn with wrk on 127.0.0.1 and
# record req/s, p50 and p99 on /login, /read and /write, each as a ratio to
# the no-session baseline measured in the same round; store round trips per
# request; heap per idle session. Several rounds, contenders in a rotated
# order each round, so each ratio is a median of ratios taken minutes apart.
#
#   bench/run.sh                 # defaults: 3 rounds of 5 s per route, paired, ~20 min
#   PAIRED=0 bench/run.sh        # baseline once per round: 10-14 min
#   QUICK=1 bench/run.sh         # smoke test: 1 round of 1 s per route, ~2 min
#   CONTENDERS="seshat-cookie scs-memstore" ROUNDS=5 bench/run.sh
#
# It writes the raw figures to bench/results/latest.tsv, then
# bench/cmd/benchreport turns them into bench/results/latest.md and the chart
# docs/benchmarks.png (OUT_TSV, OUT_MD, OUT_PNG change those paths).
#
# Settings (environment): ROUNDS (3), DURATION (wrk -d per route, 5s),
# PAIRED (1: the baseline is measured on each route just before each
# contender, from a baseline server that stays up for the round, so that
# each ratio compares two runs seconds apart and a shared machine's drift
# over minutes cancels out; 0: once, first in each round),
# UNTOUCHED_DURATION (2s: the /untouched run that counts round trips of a
# request that never touches its session, round 1 only, store contenders
# only), THREADS (-t, 2), CONNECTIONS (-c, 32), CONTENDERS (space-separated,
# default all; the baseline is always measured, see PAIRED), BUDGET
# (seconds for the whole script, 1500: a contender that would not fit is
# recorded as skipped), REDIS_ADDR (empty: start a private redis-server on a
# free loopback port, so INFO commandstats counts only this benchmark's
# commands; set it to use an existing server), PG_URL
# (postgres://postgres@127.0.0.1:5432/test?sslmode=disable), PYTHON (python3:
# the interpreter whose Flask serves flask-gunicorn), PROFILE_DIR (empty: when
# set, each Go server writes a CPU profile of its three routes there as
# CONTENDER.rROUND.pprof; the profiler's own cost then enters the figures).
#
# A contender whose engine does not answer is recorded as skipped with the
# reason. Every step is bounded in time, all traffic stays on the loopback
# interface, and the script ends only the processes it started, by PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

if [[ ${QUICK:-0} == 1 ]]; then
	ROUNDS=${ROUNDS:-1}
	DURATION=${DURATION:-1s}
	UNTOUCHED_DURATION=${UNTOUCHED_DURATION:-1s}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
UNTOUCHED_DURATION=${UNTOUCHED_DURATION:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
BUDGET=${BUDGET:-1500}
PAIRED=${PAIRED:-1}
REDIS_ADDR=${REDIS_ADDR:-}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
PYTHON=${PYTHON:-python3}
PROFILE_DIR=${PROFILE_DIR:-}
OUT_TSV=${OUT_TSV:-bench/results/latest.tsv}
OUT_MD=${OUT_MD:-bench/results/latest.md}
OUT_PNG=${OUT_PNG:-docs/benchmarks.png}
ALL="seshat-cookie wire-floor seshat-memstore seshat-redis seshat-postgres seshat-sqlite scs-memstore scs-redis gorilla-cookie gorilla-cookie-aes gorilla-filesystem flask-gunicorn"
CONTENDERS=${CONTENDERS:-$ALL}
ROUTES="/login /read /write"
LUA=bench/wrk/session.lua
start_s=$SECONDS

command -v wrk >/dev/null || { echo "run.sh: wrk not found (Debian: apt-get install -y wrk)" >&2; exit 1; }
command -v go >/dev/null || { echo "run.sh: go not found" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl not found" >&2; exit 1; }

seconds() {
	case $1 in
	*s) echo "${1%s}" ;;
	*m) echo $((${1%m} * 60)) ;;
	*[0-9]) echo "$1" ;;
	*) echo "run.sh: duration $1: want Ns or Nm" >&2; exit 1 ;;
	esac
}
dur_s=$(seconds "$DURATION")
untouched_s=$(seconds "$UNTOUCHED_DURATION")
per_conn=$((CONNECTIONS / THREADS))
((per_conn >= 1)) || { echo "run.sh: CONNECTIONS must be at least THREADS" >&2; exit 1; }

# Under the user's cache directory rather than /tmp: on a shared machine a
# cleanup of /tmp by another job removed it mid-run (twice).
mkdir -p "${XDG_CACHE_HOME:-$HOME/.cache}/seshat-bench"
tmp=$(mktemp -d "${XDG_CACHE_HOME:-$HOME/.cache}/seshat-bench/run.XXXXXX")
server_pid=""
base_pid=""
base_addr=""
redis_pid=""
# stop PID: TERM, wait up to 10 s, then KILL; only ever a process we started.
stop_pid() {
	local pid=$1
	[[ -n $pid ]] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
stop_server() { stop_pid "$server_pid"; server_pid=""; }
cleanup() {
	stop_server
	stop_pid "$base_pid"
	stop_pid "$redis_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tsv="$tmp/raw.tsv"
: >"$tsv"
# row FIELDS...: one tab-separated line of the raw results.
row() { (IFS=$'\t'; printf '%s\n' "$*") >>"$tsv"; }
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "run.sh: building benchserver and benchreport" >&2
(cd bench && go build -o "$tmp/benchserver" ./cmd/benchserver && go build -o "$tmp/benchreport" ./cmd/benchreport)

# A private Redis, so that INFO commandstats deltas hold only our commands.
redis_port=""
if [[ -z $REDIS_ADDR ]] && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	redis_port=$(free_port)
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
		>"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 50); do
		[[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break
		sleep 0.1
	done
	REDIS_ADDR=127.0.0.1:$redis_port
	row meta redis "private redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $REDIS_ADDR"
else
	REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
	if command -v redis-cli >/dev/null; then
		redis_port=${REDIS_ADDR##*:}
	fi
	row meta redis "existing Redis at $REDIS_ADDR (commandstats may include other clients' commands)"
fi
redis_host=${REDIS_ADDR%:*}
# redis_calls: "cmd=calls,..." from INFO commandstats, or "" without redis-cli.
redis_calls() {
	[[ -n $redis_port ]] || return 0
	timeout 5 redis-cli -h "$redis_host" -p "$redis_port" INFO commandstats 2>/dev/null | tr -d '\r' |
		sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\).*/\1=\2/p' | paste -sd, - || true
}

# Heap per idle session (bench/idle_test.go), before the servers run.
echo "run.sh: heap per idle session" >&2
if out=$(cd bench && timeout 300 go test -run '^$' -bench IdleHeap -benchtime 1x . 2>&1); then
	while read -r name _ _ _ bytes unit; do
		[[ $unit == B/session ]] && row heap "${name%-*}" "$bytes"
	done < <(grep '^BenchmarkIdleHeap' <<<"$out")
else
	row fail idle-heap "go test: $(tail -1 <<<"$out")"
fi

row meta started "$(date -u '+%Y-%m-%d %H:%M UTC')"
row meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
row meta machine "$(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
row meta go "$(go version | cut -d' ' -f3)"
row meta wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
cmd="ROUNDS=$ROUNDS DURATION=$DURATION PAIRED=$PAIRED THREADS=$THREADS CONNECTIONS=$CONNECTIONS"
[[ $CONTENDERS != "$ALL" ]] && cmd+=" CONTENDERS=\"$CONTENDERS\""
row meta command "$cmd bench/run.sh"
row meta wrk_command "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s $LUA http://ADDR -- ROUTE $per_conn"
row meta rounds "$ROUNDS"
row meta paired "$PAIRED"
[[ -n $PROFILE_DIR ]] && row meta profiles "CPU profiles in $PROFILE_DIR (profiler running during the measurement)"
row meta clk_tck "$(getconf CLK_TCK)"

# start NAME ROUND: start the contender's server; sets addr, or records why not.
start() {
	local c=$1 round=$2 rc port prof=()
	addr=""
	if [[ $c == flask-gunicorn ]]; then
		port=$(free_port)
		"$PYTHON" bench/flask/serve.py --workers 2 --bind "127.0.0.1:$port" app:app \
			>"$tmp/$c.out" 2>"$tmp/$c.err" &
		server_pid=$!
		for _ in $(seq 200); do
			if curl -fso /dev/null "http://127.0.0.1:$port/untouched" 2>/dev/null; then
				addr=127.0.0.1:$port
				break
			fi
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if [[ -n $addr ]]; then
			row meta flask "$(sed -n 's/^versions //p' "$tmp/$c.out" | head -1), gunicorn --workers 2 (sync workers)"
		else
			stop_server
			row skip "$c" "gunicorn did not serve within 20 s: $(tail -1 "$tmp/$c.err")"
		fi
		return 0
	fi
	if [[ -n $PROFILE_DIR ]]; then
		mkdir -p "$PROFILE_DIR"
		prof=(-cpuprofile "$PROFILE_DIR/$c.r$round.pprof")
	fi
	"$tmp/benchserver" -contender "$c" -addr 127.0.0.1:0 -redis "$REDIS_ADDR" -pg "$PG_URL" "${prof[@]}" \
		>"$tmp/$c.out" 2>"$tmp/$c.err" &
	server_pid=$!
	for _ in $(seq 200); do
		addr=$(awk '/^listening /{print $2; exit}' "$tmp/$c.out")
		[[ -n $addr ]] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $addr ]] && return 0
	rc=0
	if kill -0 "$server_pid" 2>/dev/null; then
		stop_server
		row fail "$c" "did not start listening within 20 s"
	else
		wait "$server_pid" 2>/dev/null || rc=$?
		server_pid=""
		if ((rc == 3)); then
			row skip "$c" "$(sed -n 's/^skip: //p' "$tmp/$c.err" | head -1)"
		else
			row fail "$c" "exited with status $rc: $(tail -1 "$tmp/$c.err")"
		fi
	fi
}

# cpu_ticks PID: user + system CPU time of PID and its children (gunicorn's
# workers), in clock ticks; 0 when unreadable.
cpu_ticks() {
	local p total=0 t
	for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that
		# ends the command name (which may hold spaces).
		t=$(sed -n 's/^.*) //p' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# server_stats ADDR: "requests round_trips" from the benchserver, or "- -".
server_stats() {
	curl -fs --max-time 5 "http://$1/_bench/stats" 2>/dev/null |
		sed -n 's/^requests=\([0-9]*\) round_trips=\([0-9]*\)$/\1 \2/p' | grep . || echo "- -"
}

# load ROUND NAME ROUTE DURATION [ADDR PID]: one wrk run on the started
# server (or on the one at ADDR, process PID).
load() {
	local round=$1 c=$2 route=$3 d=$4 a=${5:-$addr} pid=${6:-$server_pid}
	local d_s out line st0 st1 r0 r1 req rt cpu0 cpu1
	d_s=$(seconds "$d")
	echo "run.sh: round $round: $c $route ($d)" >&2
	st0=$(server_stats "$a")
	r0=$(redis_calls)
	cpu0=$(cpu_ticks "$pid")
	out=$(timeout $((d_s + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$d" --latency \
		-s "$LUA" "http://$a" -- "$route" "$per_conn" 2>&1) || true
	cpu1=$(cpu_ticks "$pid")
	r1=$(redis_calls)
	st1=$(server_stats "$a")
	line=$(grep '^BENCH ' <<<"$out" | tail -1 || true)
	if [[ -z $line ]]; then
		row fail "$c" "$route round $round: wrk gave no result: $(tail -1 <<<"$out")"
		return 0
	fi
	field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
	req=- rt=-
	if [[ $st0 != "- -" && $st1 != "- -" ]]; then
		req=$(($(cut -d' ' -f1 <<<"$st1") - $(cut -d' ' -f1 <<<"$st0")))
		rt=$(($(cut -d' ' -f2 <<<"$st1") - $(cut -d' ' -f2 <<<"$st0")))
	fi
	row run "$round" "$c" "$route" "$(field rps)" "$(field p50_us)" "$(field p99_us)" \
		"$(($(field non2xx) + $(field connect) + $(field read) + $(field write) + $(field timeout)))" \
		"$(field requests)" "$req" "$rt" "${r0:--}" "${r1:--}" "$((cpu1 - cpu0))"
}

# The contenders of round R, rotated by R-1 places so that none is always
# measured at the same point of a round.
read -ra list <<<"$CONTENDERS"
n=${#list[@]}
for ((round = 1; round <= ROUNDS; round++)); do
	order=()
	if [[ $PAIRED == 1 ]]; then
		# The round's baseline server: idle while a contender is loaded.
		start baseline "$round"
		base_pid=$server_pid base_addr=$addr server_pid=""
		[[ -n $base_addr ]] || { echo "run.sh: the baseline did not start" >&2; exit 1; }
	else
		order=(baseline)
	fi
	for ((i = 0; i < n; i++)); do
		c=${list[$(((i + round - 1) % n))]}
		[[ $c == baseline ]] || order+=("$c")
	done
	for c in "${order[@]}"; do
		need=$((3 * dur_s + 5))
		[[ $PAIRED == 1 ]] && need=$((2 * need))
		[[ $round == 1 && $c =~ redis|postgres ]] && need=$((need + untouched_s))
		if ((SECONDS - start_s + need > BUDGET)); then
			row skip "$c" "round $round: would overrun BUDGET=${BUDGET}s"
			continue
		fi
		start "$c" "$round"
		[[ -n $addr ]] || continue
		for route in $ROUTES; do
			if [[ $PAIRED == 1 ]]; then
				load "$round" baseline "$route" "$DURATION" "$base_addr" "$base_pid"
			fi
			load "$round" "$c" "$route" "$DURATION"
		done
		if [[ $round == 1 && $c =~ redis|postgres ]]; then
			load "$round" "$c" /untouched "$UNTOUCHED_DURATION"
		fi
		stop_server
	done
	stop_pid "$base_pid"
	base_pid="" base_addr=""
done

row meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
row meta elapsed "$((SECONDS - start_s)) s"

mkdir -p "$(dirname "$OUT_TSV")" "$(dirname "$OUT_MD")" "$(dirname "$OUT_PNG")"
cp "$tsv" "$OUT_TSV"
"$tmp/benchreport" -in "$OUT_TSV" -md "$OUT_MD" -png "$OUT_PNG"
echo "run.sh: wrote $OUT_TSV, $OUT_MD, $OUT_PNG in $((SECONDS - start_s)) s" >&2
