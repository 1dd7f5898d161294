# shellcheck shell=sh
# guest.sh: the guest half of the soak test (make soak, tests/vm/soak.sh),
# packed as /etc/soak.sh and sourced by tests/vm/init when DAT_MODE=soak
# (the test module is loaded by then; send/note/say come from the init).
#
# 1. vgem and its dependencies loaded (udmabuf and dma-heaps are built in)
# 2. bpftool prog/link show: before
# 3. dmabuf-audit watch --format json -o out.jsonl --metrics metrics.prom
#    --metrics-interval 5 --stats-interval 30 --policy policy (the policy
#    written by dat-soak --init-policy: tests/vm/policy + variant 0)
# 4. once the header is out: bpftool again (ours must show), then
#    /bin/dat-soak for DAT_SOAK_SECONDS: churn, injections, SIGHUP with
#    policy changes and -o rotation, metrics read back (tests/soak/dat-soak.c)
# 5. SIGTERM, wait (at most 120 s, then SIGKILL: the judge sees it), the
#    final metrics file, bpftool after
# Everything goes to the host (tests/soak/judge.py judges).  Service options
# the binary does not offer are left out and noted (soak_missing): the judge
# then fails the checks that need them, so a missing feature is never
# silently passed.
S=/tmp/soak
mkdir -p "$S"
note phase soak

for m in $(cat /lib/dat/modules.order 2>/dev/null); do
	insmod "/lib/dat/modules/$m" >>/results/real-insmod.txt 2>&1 ||
		echo "insmod $m failed" >>/results/real-insmod.txt
done
send /results/real-insmod.txt
ls -l /dev/dri /dev/udmabuf /dev/dma_heap >/results/real-devices.txt 2>&1
send /results/real-devices.txt

# bpf_state NAME: our programs and links as bpftool lists them
bpf_state() {
	bpftool prog show >"/results/bpf-prog-$1.txt" 2>&1
	echo "rc $?" >>"/results/bpf-prog-$1.txt"
	bpftool link show >"/results/bpf-link-$1.txt" 2>&1
	echo "rc $?" >>"/results/bpf-link-$1.txt"
	send "/results/bpf-prog-$1.txt"
	send "/results/bpf-link-$1.txt"
}
bpf_state before

soak_files="--policy $S/policy --policy-base /etc/dmabuf-audit/policy --output $S/out.jsonl
	--metrics $S/metrics.prom --log /results/soak-log.jsonl --metrics-log /results/soak-metrics.txt"
# the service options, where this binary has them
help=$(dmabuf-audit --help 2>&1)
opts="--format json -o $S/out.jsonl --policy $S/policy"
missing=
for o in "--metrics $S/metrics.prom" "--metrics-interval 5" "--stats-interval 30"; do
	case "$help" in
	*"${o%% *}"*) opts="$opts $o" ;;
	*) missing="$missing ${o%% *}" ;;
	esac
done
service=
if [ -n "$missing" ]; then
	# no service build: a SIGHUP would end the tool (default action), the
	# policy cannot say suppress-window
	service=--no-service
	missing="$missing SIGHUP suppress-window"
fi
note soak_missing "${missing:-none}"
note soak_opts "$opts"
# shellcheck disable=SC2086 # a list of options
dat-soak --init-policy $service $soak_files

# shellcheck disable=SC2086 # a list of options
dmabuf-audit watch $opts >/results/watch.out 2>/results/watch.err &
wpid=$!
note soak_watch_pid "$wpid"
i=0
while [ $i -lt 360 ] && ! grep -q '"type":"header"' "$S/out.jsonl" 2>/dev/null; do
	sleep 0.5
	i=$((i + 1))
done
note soak_ready_ms "$(uptime_ms)"
bpf_state during

say "soak: ${DAT_SOAK_SECONDS}s, seed $DAT_SOAK_SEED"
# shellcheck disable=SC2086 # lists of options
dat-soak --seed "$DAT_SOAK_SEED" --seconds "$DAT_SOAK_SECONDS" --pid "$wpid" $service $soak_files \
	>/results/dat-soak.out 2>&1
note soak_workload_rc $?
# let the last events drain before the stop
sleep 3
t0=$(uptime_ms)
kill -TERM "$wpid"
(sleep 120 && kill -KILL "$wpid" 2>/dev/null && echo killed >/results/watch-killed.txt) &
dog=$!
wait "$wpid"
note soak_watch_rc $?
note soak_stop_ms $(($(uptime_ms) - t0))
kill "$dog" 2>/dev/null
# shellcheck disable=SC2086 # a list of options
dat-soak --final-metrics --pid "$wpid" $soak_files
bpf_state after

for f in "$S"/out.jsonl*; do
	[ -f "$f" ] && cp "$f" "/results/soak-$(basename "$f")" && send "/results/soak-$(basename "$f")"
done
cp "$S/policy" /results/soak-policy-last.txt
for f in soak-log.jsonl soak-metrics.txt soak-policy-last.txt dat-soak.out watch.out watch.err \
	watch-killed.txt; do
	send "/results/$f"
done
