# shellcheck shell=sh
# guest.sh: the revoke storm's guest side (docs/testing.md, "Revoke storm"),
# packed as /etc/storm.sh and sourced by tests/vfio/run.sh (bdf, note, send,
# uptime_ms and vfio_wait_for come from there and tests/vm/init).
#
# storm_run NAME SECONDS: (on the fixed drivers first kprobe_misses_run
# below) `dmabuf-audit watch` (JSON, a stats record every
# 5 s, --stacks) until its header is out, then /bin/dat-storm for SECONDS
# with seed DAT_STORM_SEED, then SIGTERM.  Sent to the host: NAME.report,
# .out, .meta (watch's exit status, the storm's, the time), .summary (the
# storm's counters), .rounds (every round's seed), .err, .dmesg and the
# step log .log.gz; tests/lib/storm_judge.py judges them.  The plan (the
# seconds on the fixed drivers and per variant) is noted first: the host then
# knows which storms must be there.
note storm_plan "${DAT_STORM_SECONDS:-0} ${DAT_STORM_VARIANT_SECONDS:-0} ${DAT_STORM_SEED:-}"
# vgem, the PRIME importer of the storm's udmabuf and heap buffers
for m in $(cat /lib/dat/storm-modules.order 2>/dev/null); do
	insmod "/lib/dat/modules/$m" >>/results/storm-insmod.txt 2>&1 ||
		echo "insmod $m failed" >>/results/storm-insmod.txt
done
send /results/storm-insmod.txt
# kprobe_misses_run MODE: 20 waiters in a hooked function at once
# (dat-storm --fence-waiters) under `watch -v --mode MODE`: with kprobe the
# returns past the kretprobe's instances are missed and must be counted as
# lost; with fentry no kprobe miss is counted (recursion misses may be:
# tests/lib/storm_judge.py says why).  Sent: kprobe-misses-MODE.report, .out
# (its verbose counts), .waiters (the program's), .meta.
kprobe_misses_run() {
	km=kprobe-misses-$1
	note phase "kretprobe misses under --mode $1"
	km_t0=$(uptime_ms)
	dmabuf-audit watch -v --mode "$1" --policy /etc/dmabuf-audit/policy --format json \
		-o "/results/$km.report" >"/results/$km.out" 2>&1 &
	km_watch=$!
	vfio_wait_for '"type":"header"' "/results/$km.report" 1
	timeout -s KILL 60 dat-storm --fence-waiters 20 >"/results/$km.waiters" 2>&1
	km_rc=$?
	sleep 2 # the ring buffer is read every 100 ms
	kill -TERM "$km_watch"
	wait "$km_watch"
	printf 'rc %s\nwaiters_rc %s\n' "$?" "$km_rc" >"/results/$km.meta"
	for f in report out waiters meta; do
		send "/results/$km.$f"
	done
	note "kprobe_misses_$1_guest_ms" $(($(uptime_ms) - km_t0))
}
storm_run() {
	name=$1
	if [ "$name" = storm-fixed ]; then
		kprobe_misses_run kprobe
		kprobe_misses_run fentry
	fi
	note phase "storm $name (seed $DAT_STORM_SEED, $2 s)"
	storm_t0=$(uptime_ms)
	dmesg -c >/dev/null
	# -v: its last line splits the lost events (gaps, recursion misses, kprobe misses)
	dmabuf-audit watch -v --policy /etc/dmabuf-audit/policy --format json --stats-interval 5 \
		--stacks -o "/results/$name.report" >"/results/$name.out" 2>&1 &
	storm_watch=$!
	vfio_wait_for '"type":"header"' "/results/$name.report" 1
	t0=$(uptime_ms)
	# a round stuck in the kernel must not hold the guest: the storm is
	# stopped 120 s past its time (the judge sees exit status 137)
	timeout -s KILL $(($2 + 120)) dat-storm --seed "$DAT_STORM_SEED" --seconds "$2" --bdf "$bdf" \
		--summary "/results/$name.summary" --log "/tmp/$name.log" \
		>"/results/$name.rounds" 2>"/results/$name.err"
	storm_rc=$?
	sleep 2 # the ring buffer is read every 100 ms
	kill -TERM "$storm_watch"
	wait "$storm_watch"
	printf 'rc %s\nstorm_rc %s\nms %s\n' "$?" "$storm_rc" "$(($(uptime_ms) - t0))" \
		>"/results/$name.meta"
	dmesg >"/results/$name.dmesg"
	gzip -c "/tmp/$name.log" >"/results/$name.log.gz"
	rm -f "/tmp/$name.log"
	for f in report out meta summary rounds err dmesg log.gz; do
		send "/results/$name.$f"
	done
	# what the storm costs the guest: the tool's start, the storm, the sends
	note "${name}_guest_ms" $(($(uptime_ms) - storm_t0))
}
