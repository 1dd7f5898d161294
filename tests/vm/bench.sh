# shellcheck shell=sh
# bench.sh: the guest half of `make bench-live` (tools/bench-live.sh),
# sourced by tests/vm/init when DAT_MODE=bench.
#
# The test module's bench entry (/sys/kernel/debug/dmabuf_audit_test/bench:
# write N, read one line "PATH N TOTAL_NS" per hot path) runs under each
# setting in turn, the settings alternated for DAT_BENCH_ROUNDS rounds so
# that a slow phase of the host is shared out between them:
#   floor    nothing attached
#   pair     an empty fentry/fexit pair on every function dmabuf-audit hooks
#            (/bin/empty-pair, tests/bench/empty-pair.c)
#   mirror   dmabuf-audit watch with DMABUF_AUDIT_BENCH_MIRROR=1: its own
#            programs on its own attach points in its own modes, each
#            returning at once (no record): the attach points' cost alone
#   watch    dmabuf-audit watch (default mode: fentry/fexit, kprobes on the
#            functions of modules: the test module's revoke scopes)
#   kprobe   dmabuf-audit watch --mode kprobe
#   modfentry dmabuf-audit watch --module-mode fentry: the test module's
#            revoke scopes on trampolines instead of the default kprobes
#            (path "revoke" calls the scope twice per iteration)
#   stacks   dmabuf-audit watch --stacks
#   base     /bin/dmabuf-audit-base watch: another build of the tool (packed
#            when BENCH_BASE names one), to measure a change in one boot
#   ring:BYTES  dmabuf-audit watch with DMABUF_AUDIT_RINGBUF_SIZE=BYTES (setting
#            "ring-BYTES"): what the ring buffer's size costs per call
#   wake:MODE   dmabuf-audit watch with DMABUF_AUDIT_RING_WAKEUP=MODE ("always":
#            the kernel's wakeup whenever the consumer has caught up; or a
#            mark in bytes), setting "wake-MODE": what the wakeups cost
#   profile  dmabuf-audit watch with kernel.bpf_stats_enabled: per BPF program
#            its runs and run time (the fdinfo of the tool's program fds, named
#            from /proc/kallsyms), lines "ROUND profile prog NAME RUN_CNT RUN_NS"
#            (not a timing setting: the statistics cost time themselves)
#   bpftrace bpftrace (packed with BENCH_BPFTRACE) running the script a
#            kernel developer would write for the job: per-attachment map/unmap
#            accounting in a hash map, and a line printed per invalidate
#   startup  not a timing of the paths: how long `dmabuf-audit run -- CMD`
#            takes to start CMD and to read CMD's first dma-buf event
#            (DMABUF_AUDIT_TIMING=1: its phases), and /bin/dmabuf-audit-base's
#            when packed; bpftrace -e 'BEGIN { exit() }' to its exit (when
#            packed); a libbpf-tools tool (/bin/libbpf-tool, when packed:
#            opensnoop) to its header line and to the line of an open that
#            follows; lines "ROUND SETTING MARK MONO_NS" in /results/startup.txt
#            (tests/bench/startup-clock.c takes the times)
#   burst:N:RING[,RING...]
#            the loss burst: N map/unmap cycles of the bench's static
#            importer (path map-unmap-unlocked) as fast as the kernel does
#            them, under watch, once per ring buffer size RING (bytes; "default"
#            = the tool's own), after a calibration burst of 1000 cycles with
#            --events (the events per cycle and of the set-up on this kernel);
#            lines "ROUND burst-RING ..." and reports bench-burst-RING-ROUND.report
# Every result line goes to /results/bench.txt as
#   ROUND SETTING PATH N TOTAL_NS
# and per dmabuf-audit run one line
#   ROUND SETTING tool EVENTS LOST CPU_TICKS TICKS_PER_S
# (CPU_TICKS: from after the warm-up pass to the end of the drain)
# (the consumer's CPU time from /proc/PID/stat, its event and loss counts
# from the report's summary).  The host (tests/bench/bench-live-report.py)
# turns them into the table.
policy=/etc/dmabuf-audit/policy
bench=/sys/kernel/debug/dmabuf_audit_test/bench
# what dmabuf-audit hooks, under every name it has (a missing one is skipped)
pair_funcs="dma_buf_export dma_buf_release dma_buf_attach dma_buf_dynamic_attach dma_buf_detach
dma_buf_pin dma_buf_unpin dma_buf_map_attachment dma_buf_map_attachment_unlocked
dma_buf_unmap_attachment dma_buf_unmap_attachment_unlocked dma_buf_vmap dma_buf_vmap_unlocked
dma_buf_vunmap dma_buf_vunmap_unlocked dma_buf_mmap dma_buf_mmap_internal dma_buf_move_notify
dma_buf_invalidate_mappings dma_resv_wait_timeout dma_buf_attach_revocable ww_mutex_unlock
dat_exporter_revoke dat_exporter_cleanup"

bench_paths="attach-detach map-unmap map-unmap-unlocked pin-unpin vmap-vunmap vmap-vunmap-unlocked
revoke ww-mutex"

# wait_for FILE PATTERN [SECONDS]: until FILE has PATTERN (at most 180 s); 1 if not
wait_for() {
	i=0
	while [ $i -lt $((${3:-180} * 2)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# a short pass, not recorded: the first calls through a new trampoline, and
# the tool's first events (kallsyms read for symbols), cost more than the rest
bench_warm() {
	echo 200 >"$bench" 2>/dev/null
	sleep 1
}

# bench_once ROUND SETTING: one pass of every path.  Each path on its own,
# then a pause: under TCG the consumer takes tens of microseconds per event,
# so N is chosen for the default ring buffer to hold one path's events, and
# the pause lets it drain before the next (the losses are counted anyway).
bench_once() {
	bench_warm
	for path in $bench_paths; do
		if ! echo "$DAT_BENCH_N $path" >"$bench" 2>/results/bench-$2.err; then
			echo "$1 $2 $path failed: $(cat /results/bench-$2.err)" >>/results/bench.txt
			continue
		fi
		sed "s/^/$1 $2 /" "$bench" >>/results/bench.txt
		sleep "$DAT_BENCH_PAUSE"
	done
}

# bench_tool ROUND SETTING BINARY [dmabuf-audit watch options]
bench_tool() {
	round=$1
	setting=$2
	tool=$3
	shift 3
	rm -f /tmp/bench.report
	"$tool" watch --policy "$policy" --format json -o /tmp/bench.report "$@" \
		>/tmp/bench.out 2>&1 &
	tpid=$!
	if ! wait_for /tmp/bench.report '"type":"header"'; then
		echo "$round $setting tool-not-ready" >>/results/bench.txt
		kill -INT "$tpid"
		wait "$tpid"
		cp /tmp/bench.out "/results/bench-$setting.out"
		send "/results/bench-$setting.out"
		return
	fi
	# the consumer's CPU time (utime + stime) over the timed pass and its drain
	bench_warm
	set -- $(cut -d' ' -f14,15 "/proc/$tpid/stat")
	ticks=$((-$1 - $2))
	bench_once "$round" "$setting"
	sleep 2
	set -- $(cut -d' ' -f14,15 "/proc/$tpid/stat")
	ticks=$((ticks + $1 + $2))
	[ "$setting" = profile ] && prog_stats "$round" "$tpid" >>/results/bench.txt
	kill -INT "$tpid"
	wait "$tpid"
	summary=$(grep '"type":"summary"' /tmp/bench.report)
	events=$(echo "$summary" | sed -n 's/.*"summary","events":\([0-9]*\).*/\1/p')
	lost=$(echo "$summary" | sed -n 's/.*"summary","events":[0-9]*,"lost":\([0-9]*\).*/\1/p')
	echo "$round $setting tool ${events:-?} ${lost:-?} $ticks $(getconf CLK_TCK 2>/dev/null || echo 100)" \
		>>/results/bench.txt
	cp /tmp/bench.report "/results/bench-$setting-$round.report"
}

# burst_run ROUND TAG N RING [watch options]: one burst under watch with the
# ring buffer RING ("default": the tool's own size)
# shellcheck disable=SC2046 # /proc/PID/stat fields, split on purpose
burst_run() {
	round=$1
	tag=$2
	n=$3
	ring=$4
	shift 4
	wopts="$*"
	rm -f /tmp/bench.report
	if [ "$ring" = default ]; then
		unset DMABUF_AUDIT_RINGBUF_SIZE
	else
		export DMABUF_AUDIT_RINGBUF_SIZE="$ring"
	fi
	# the consumer's CPU time over the burst and its drain: its whole life
	# (this shell's reaped children's time, after - before) less its start-up
	set -- $(cut -d' ' -f16,17 "/proc/$$/stat")
	ticks=$((-$1 - $2))
	# shellcheck disable=SC2086 # options without spaces
	dmabuf-audit watch --policy "$policy" --format json -o /tmp/bench.report $wopts \
		>/tmp/bench.out 2>&1 &
	tpid=$!
	unset DMABUF_AUDIT_RINGBUF_SIZE
	if ! wait_for /tmp/bench.report '"type":"header"'; then
		echo "$round burst-$tag tool-not-ready" >>/results/bench.txt
		kill -INT "$tpid"
		wait "$tpid"
		cp /tmp/bench.out "/results/bench-burst-$tag.out"
		send "/results/bench-burst-$tag.out"
		return
	fi
	set -- $(cut -d' ' -f14,15 "/proc/$tpid/stat")
	ticks=$((ticks - $1 - $2))
	t0=$(date +%s)
	if echo "$n map-unmap-unlocked" >"$bench" 2>/results/bench-burst.err; then
		sed "s/^/$round burst-$tag /" "$bench" >>/results/bench.txt
	else
		echo "$round burst-$tag failed: $(cat /results/bench-burst.err)" >>/results/bench.txt
	fi
	# the drain at SIGINT reads what the ring still holds
	kill -INT "$tpid"
	wait "$tpid"
	set -- $(cut -d' ' -f16,17 "/proc/$$/stat")
	ticks=$((ticks + $1 + $2))
	summary=$(grep '"type":"summary"' /tmp/bench.report)
	events=$(echo "$summary" | sed -n 's/.*"summary","events":\([0-9]*\).*/\1/p')
	lost=$(echo "$summary" | sed -n 's/.*"summary","events":[0-9]*,"lost":\([0-9]*\).*/\1/p')
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	echo "$round burst-$tag tool ${events:-?} ${lost:-?} $ticks $hz $(($(date +%s) - t0))" \
		>>/results/bench.txt
	cp /tmp/bench.report "/results/bench-burst-$tag-$round.report"
}

# bench_burst ROUND N RINGS (comma-separated)
bench_burst() {
	burst_run "$1" cal 1000 default --events
	for ring in $(echo "$3" | tr , ' '); do
		burst_run "$1" "$ring" "$2" "$ring"
	done
}

# bench_profile ROUND: per-program run counts and times of a watch pass
bench_profile() {
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	bench_tool "$1" profile dmabuf-audit
	echo 0 >/proc/sys/kernel/bpf_stats_enabled
}

# prog_stats ROUND PID: one line per BPF program of PID with runs
prog_stats() {
	for fd in /proc/"$2"/fdinfo/*; do
		tag=$(sed -n 's/^prog_tag:[[:space:]]*//p' "$fd" 2>/dev/null)
		[ -n "$tag" ] || continue
		cnt=$(sed -n 's/^run_cnt:[[:space:]]*//p' "$fd")
		ns=$(sed -n 's/^run_time_ns:[[:space:]]*//p' "$fd")
		[ "${cnt:-0}" -gt 0 ] || continue
		name=$(grep -m 1 " bpf_prog_${tag}_" /proc/kallsyms |
			sed 's/.* bpf_prog_[0-9a-f]*_//; s/[[:space:]].*//')
		echo "$1 profile prog ${name:-$tag} $cnt $ns"
	done
}

# the kernel developer's script: the invalidate function is dma_buf_move_notify
# up to 6.x, dma_buf_invalidate_mappings after
bench_bpftrace_script() {
	inval=dma_buf_move_notify
	grep -q ' dma_buf_invalidate_mappings$' /proc/kallsyms && inval=dma_buf_invalidate_mappings
	cat <<EOF
kfunc:dma_buf_map_attachment, kfunc:dma_buf_map_attachment_unlocked
{
	@mapped[args->attach]++;
}
kfunc:dma_buf_unmap_attachment, kfunc:dma_buf_unmap_attachment_unlocked
{
	@mapped[args->attach]--;
}
kfunc:$inval
{
	printf("%s: invalidate of dma-buf %p\\n", comm, args->dmabuf);
}
EOF
}

bench_bpftrace() {
	bench_bpftrace_script >/tmp/dev.bt
	bpftrace /tmp/dev.bt >/tmp/bpftrace.out 2>&1 &
	bpid=$!
	# LLVM compiles the script: minutes under TCG
	if ! wait_for /tmp/bpftrace.out 'Attaching' 600; then
		echo "$1 bpftrace bpftrace-not-ready" >>/results/bench.txt
		kill -KILL "$bpid"
		wait "$bpid"
		cp /tmp/bpftrace.out /results/bpftrace.out
		send /results/bpftrace.out
		return
	fi
	# "Attaching N probes..." comes before the attachment
	sleep 5
	bench_once "$1" bpftrace
	kill -INT "$bpid"
	wait "$bpid"
	tail -n 20 /tmp/bpftrace.out >/results/bpftrace.out
}

# startup_run ROUND SETTING BINARY: one `run` of CMD, its marks and its phases
startup_run() {
	rm -f /tmp/st.clock /tmp/st.cmd /tmp/st.err
	DMABUF_AUDIT_TIMING=1 startup-clock exit "$3" run --policy "$policy" --format json \
		-o /tmp/st.report -- startup-clock cmd /tmp/st.cmd "$bench" "1 attach-detach" \
		>/tmp/st.clock 2>/tmp/st.err
	{
		cat /tmp/st.clock /tmp/st.cmd
		sed -n 's/^dmabuf-audit: timing \([^ ]*\) .* mono \([0-9]*\)$/\1 \2/p' /tmp/st.err
	} | sed "s/^/$1 $2 /" >>/results/startup.txt
	grep -v '^dmabuf-audit: timing ' /tmp/st.err >"/results/startup-$2.err"
	[ -s "/results/startup-$2.err" ] && send "/results/startup-$2.err"
	cp /tmp/st.report "/results/startup-$2-$1.report"
}

# bench_startup ROUND: dmabuf-audit's start-up against bpftrace's and a libbpf-tools tool's
bench_startup() {
	# the libbpf-tools tool's standard output is a pseudo-terminal
	[ -d /dev/pts ] || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
	startup_run "$1" run dmabuf-audit
	[ -x /bin/dmabuf-audit-base ] && startup_run "$1" run-base /bin/dmabuf-audit-base
	if command -v bpftrace >/dev/null; then
		startup-clock exit bpftrace -e 'BEGIN { exit() }' 2>&1 |
			grep -E '^(t0|exit|status) ' | sed "s/^/$1 bpftrace /" >>/results/startup.txt
	fi
	if [ -x /bin/libbpf-tool ]; then
		startup-clock lines /etc/dmabuf-audit/policy /bin/libbpf-tool -n startup-clock \
			2>/results/libbpf-tool.err | sed "s/^/$1 libbpf-tool /" >>/results/startup.txt
	fi
	send /results/startup.txt
}

bench_pair() {
	# shellcheck disable=SC2086 # a list of function names
	/bin/empty-pair $pair_funcs >/tmp/pair.out 2>/results/pair.err &
	ppid=$!
	if ! wait_for /tmp/pair.out attached; then
		echo "$1 pair pair-not-ready" >>/results/bench.txt
		kill "$ppid"
		wait "$ppid"
		return
	fi
	bench_once "$1" pair
	kill -INT "$ppid"
	wait "$ppid"
}

note phase bench
note bench_n "$DAT_BENCH_N"
note bench_rounds "$DAT_BENCH_ROUNDS"
note clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
note cpus "$(grep -c ^processor /proc/cpuinfo)"
: >/results/bench.txt
round=1
while [ "$round" -le "$DAT_BENCH_ROUNDS" ]; do
	say "bench round $round of $DAT_BENCH_ROUNDS"
	for setting in $DAT_BENCH_SETTINGS; do
		case "$setting" in
		floor) bench_once "$round" floor ;;
		pair) bench_pair "$round" ;;
		bpftrace) bench_bpftrace "$round" ;;
		startup) bench_startup "$round" ;;
		watch) bench_tool "$round" watch dmabuf-audit ;;
		mirror)
			export DMABUF_AUDIT_BENCH_MIRROR=1
			bench_tool "$round" mirror dmabuf-audit
			unset DMABUF_AUDIT_BENCH_MIRROR
			;;
		kprobe) bench_tool "$round" kprobe dmabuf-audit --mode kprobe ;;
		modfentry) bench_tool "$round" modfentry dmabuf-audit --module-mode fentry ;;
		stacks) bench_tool "$round" stacks dmabuf-audit --stacks ;;
		base) bench_tool "$round" base /bin/dmabuf-audit-base ;;
		profile) bench_profile "$round" ;;
		ring:*)
			export DMABUF_AUDIT_RINGBUF_SIZE="${setting#ring:}"
			bench_tool "$round" "ring-${setting#ring:}" dmabuf-audit
			unset DMABUF_AUDIT_RINGBUF_SIZE
			;;
		wake:*)
			export DMABUF_AUDIT_RING_WAKEUP="${setting#wake:}"
			bench_tool "$round" "wake-${setting#wake:}" dmabuf-audit
			unset DMABUF_AUDIT_RING_WAKEUP
			;;
		burst:*:*)
			# once: a burst takes minutes under TCG
			spec=${setting#burst:}
			[ "$round" != 1 ] || bench_burst "$round" "${spec%%:*}" "${spec#*:}"
			;;
		esac
		send /results/bench.txt
	done
	round=$((round + 1))
done
send /results/pair.err
[ -f /results/libbpf-tool.err ] && send /results/libbpf-tool.err
[ -f /results/bpftrace.out ] && send /results/bpftrace.out
for f in /results/bench-*.report; do
	[ -f "$f" ] && send "$f"
done
