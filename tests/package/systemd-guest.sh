#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/package/systemd-guest.sh BIN [SERIES]: the unit's sandbox under a real systemd, with a
# kernel that allows BPF tracing (make package-guest-test).
#
# systemd-analyze verify checks the unit's syntax; only systemd running it shows that its
# capabilities and hardening still let BPF work. One guest boot (Debian kernel SERIES, default
# 6.12) of a Debian 12 system with systemd as PID 1 (debootstrap --variant=minbase
# --include=systemd,systemd-sysv,procps, cached in $DA_CACHE/chroot/bookworm-systemd-procps; the mirror is
# the machine's own), packed whole into the initramfs. In it, services made from
# tools/package/dmabuf-audit.service with only Type, ExecStart and the output changed (every
# capability and hardening line as shipped) run BIN:
#   hooks   dmabuf-audit hooks --format json: every core hook the kernel has is attachable
#   fentry  dmabuf-audit run -- /bin/true: loads, attaches every hook (fentry/fexit), exits 0
#   kprobe  the same with --mode kprobe (perf_event_open of the kprobe PMU)
#   nocaps  the fentry service with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN taken out of the
#           bounding set: must fail to attach (the capabilities are what makes it work, and
#           the check can fail)
#   nobpf   the fentry service with bpf(2) left out of SystemCallFilter: must fail (the filter
#           is enforced, and bpf must be named in it)
#   kallsyms, debugfs  what the tool reads besides bpf(2): /proc/kallsyms with its addresses
#           (and without them under ProtectKernelLogs=yes, which the unit leaves out for that
#           reason), /sys/kernel/debug/dma_buf/bufinfo
# and, when BIN has the service options (--log, --metrics: issue 14), the unit itself as
# shipped: it becomes active (READY=1 under Type=notify), writes its metrics file, reloads on
# SIGHUP and stops cleanly. TAP output. About 2-3 minutes (TCG), plus the debootstrap once.
set -uo pipefail

bin=${1:?usage: tests/package/systemd-guest.sh BIN [SERIES]}
series=${2:-6.12}
VM_LOG_TAG=systemd-guest
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/vm-lib.sh
. "$repo/tools/vm-lib.sh"
. "$here/../lib/tap.sh"
out=${BUILD:-$repo/build}/package-guest
unit=$repo/tools/package/dmabuf-audit.service
metrics_dir=/var/lib/prometheus/node-exporter

# the Debian 12 system with systemd, created once; procps for /bin/kill,
# which the unit's ExecReload runs (a package dependency)
systemd_rootfs() {
	local root=$DA_CACHE/chroot/bookworm-systemd-procps mirror
	if [ ! -x "$root/lib/systemd/systemd" ]; then
		command -v debootstrap >/dev/null || vm_die "debootstrap is not installed (make deps)"
		mirror=$(vm_mirror_uri) || vm_die "no Debian mirror in /etc/apt/sources.list{,.d}"
		vm_log "creating the bookworm systemd root in $root (once, about 2 minutes)"
		rm -rf "$root.tmp"
		mkdir -p "$DA_CACHE/chroot"
		debootstrap --variant=minbase --include=systemd,systemd-sysv,procps bookworm "$root.tmp" \
			"$mirror" >"$DA_CACHE/chroot/debootstrap-systemd.log" 2>&1 ||
			vm_die "debootstrap failed, see $DA_CACHE/chroot/debootstrap-systemd.log"
		rm -rf "$root"
		mv "$root.tmp" "$root"
	fi
	echo "$root"
}

# test_unit NAME EXECSTART [EXTRA]: the shipped unit with Type, ExecStart and outputs replaced
test_unit() {
	local name=$1 exec=$2 extra=${3:-}
	sed -e '/^\(Type\|NotifyAccess\|WatchdogSec\|Restart\|RestartSec\|ExecReload\|ExecStart\)=/d' \
		-e '/^\[Install\]/,$d' "$unit"
	printf '%s\n' "Type=oneshot" "ExecStart=$exec" \
		"StandardOutput=file:$metrics_dir/$name.out" "StandardError=file:$metrics_dir/$name.err"
	[ -n "$extra" ] && printf '%s\n' "$extra"
}

# the guest's runner: each test service in turn, then the shipped unit, results to ttyS1
runner_script() {
	cat <<EOF
#!/bin/sh
exec >/dev/ttyS1 2>&1
for t in \$(cat /etc/da-tests); do
	systemctl start da-\$t.service
	echo "DA-RESULT \$t \$(systemctl show -p ExecMainStatus --value da-\$t.service)"
	sed "s/^/DA-OUT \$t /" $metrics_dir/\$t.out
	sed "s/^/DA-ERR \$t /" $metrics_dir/\$t.err
done
if [ -n "$1" ]; then
	timeout 300 systemctl start dmabuf-audit.service
	echo "DA-UNIT start \$? \$(systemctl is-active dmabuf-audit.service)"
	echo "DA-UNIT status \$(systemctl show -p StatusText --value dmabuf-audit.service)"
	sleep 20
	systemctl reload dmabuf-audit.service
	echo "DA-UNIT reload \$? \$(systemctl is-active dmabuf-audit.service)"
	echo "DA-UNIT metrics \$(grep -c '^dmabuf_audit_' $metrics_dir/dmabuf-audit.prom) \$(tail -n 1 $metrics_dir/dmabuf-audit.prom)"
	systemctl stop dmabuf-audit.service
	echo "DA-UNIT stop \$(systemctl show -p Result --value dmabuf-audit.service) \$(systemctl show -p ExecMainStatus --value dmabuf-audit.service)"
	journalctl -b -u dmabuf-audit.service --no-pager | tail -n 20 | sed 's/^/DA-JOURNAL /'
fi
echo DA-DONE
systemctl poweroff --force --force
EOF
}

# PACKAGE_GUEST_CAPS=1: what each capability of the unit is needed for, measured: the
# attach in both modes, kallsyms and debugfs, each without one capability (diagnostics only)
capability_units() {
	local stage=$1 cap t
	for cap in CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_ADMIN CAP_SYSLOG; do
		test_unit "no-$cap-fentry" "/usr/sbin/dmabuf-audit run --format json -- /bin/true" \
			"CapabilityBoundingSet=~$cap" >"$stage/etc/systemd/system/da-no-$cap-fentry.service"
		test_unit "no-$cap-kprobe" \
			"/usr/sbin/dmabuf-audit run --mode kprobe --format json -- /bin/true" \
			"CapabilityBoundingSet=~$cap" >"$stage/etc/systemd/system/da-no-$cap-kprobe.service"
		test_unit "no-$cap-kallsyms" "/bin/sh -c 'grep -m1 \" dma_buf_export\$\" /proc/kallsyms'" \
			"CapabilityBoundingSet=~$cap" >"$stage/etc/systemd/system/da-no-$cap-kallsyms.service"
		test_unit "no-$cap-debugfs" "/bin/sh -c 'head -n 1 /sys/kernel/debug/dma_buf/bufinfo'" \
			"CapabilityBoundingSet=~$cap" >"$stage/etc/systemd/system/da-no-$cap-debugfs.service"
		for t in fentry kprobe kallsyms debugfs; do
			printf ' no-%s-%s' "$cap" "$t" >>"$stage/etc/da-tests"
		done
	done
}

build_initramfs() {
	local rootfs=$1 with_unit=$2 stage=$out/root wants
	rm -rf "$stage"
	mkdir -p "$stage"
	# the apt cache, documentation and translations are not needed to boot
	tar -C "$rootfs" --exclude=./var/cache/apt --exclude=./var/lib/apt/lists \
		--exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/locale \
		--exclude=./usr/share/info -cf - . | tar -C "$stage" -xf - || return 1
	install -m 0755 "$bin" "$stage/usr/sbin/dmabuf-audit"
	install -D -m 0644 "$repo/tools/package/policy" "$stage/etc/dmabuf-audit/policy"
	install -m 0644 "$unit" "$stage/lib/systemd/system/dmabuf-audit.service"
	mkdir -p "$stage$metrics_dir"
	test_unit hooks "/usr/sbin/dmabuf-audit hooks --format json" \
		>"$stage/etc/systemd/system/da-hooks.service"
	test_unit fentry "/usr/sbin/dmabuf-audit run --format json -- /bin/true" \
		>"$stage/etc/systemd/system/da-fentry.service"
	test_unit kprobe "/usr/sbin/dmabuf-audit run --mode kprobe --format json -- /bin/true" \
		>"$stage/etc/systemd/system/da-kprobe.service"
	test_unit nocaps "/usr/sbin/dmabuf-audit run --format json -- /bin/true" \
		"CapabilityBoundingSet=~CAP_BPF CAP_PERFMON CAP_SYS_ADMIN" \
		>"$stage/etc/systemd/system/da-nocaps.service"
	test_unit nobpf "/usr/sbin/dmabuf-audit run --format json -- /bin/true" \
		"$(printf '%s\n' SystemCallFilter= 'SystemCallFilter=@system-service perf_event_open')" \
		>"$stage/etc/systemd/system/da-nobpf.service"
	# what the tool reads besides bpf(2): kallsyms addresses (importer ops names; CAP_SYSLOG,
	# which ProtectKernelLogs= would take away) and debugfs (the seed's bufinfo)
	test_unit kallsyms "/bin/sh -c 'grep -m1 \" dma_buf_export\$\" /proc/kallsyms'" \
		>"$stage/etc/systemd/system/da-kallsyms.service"
	test_unit kallsyms-nolog "/bin/sh -c 'grep -m1 \" dma_buf_export\$\" /proc/kallsyms'" \
		"ProtectKernelLogs=yes" >"$stage/etc/systemd/system/da-kallsyms-nolog.service"
	test_unit debugfs "/bin/sh -c 'head -n 2 /sys/kernel/debug/dma_buf/bufinfo'" \
		>"$stage/etc/systemd/system/da-debugfs.service"
	echo hooks fentry kprobe nocaps nobpf kallsyms kallsyms-nolog debugfs >"$stage/etc/da-tests"
	[ -n "${PACKAGE_GUEST_CAPS:-}" ] && capability_units "$stage"
	runner_script "$with_unit" >"$stage/usr/local/sbin/da-runner"
	chmod 0755 "$stage/usr/local/sbin/da-runner"
	printf '%s\n' "[Unit]" "After=multi-user.target" "[Service]" "Type=oneshot" \
		"ExecStart=/usr/local/sbin/da-runner" >"$stage/etc/systemd/system/da-runner.service"
	wants=$stage/etc/systemd/system/default.target.wants
	mkdir -p "$wants"
	ln -sf /etc/systemd/system/da-runner.service "$wants/da-runner.service"
	# no login prompt on the console, a machine id, and systemd as the initramfs's /init
	ln -sf /dev/null "$stage/etc/systemd/system/serial-getty@.service"
	ln -sf /dev/null "$stage/etc/systemd/system/getty@.service"
	: >"$stage/etc/machine-id"
	ln -sf /lib/systemd/systemd "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.gz"
}

command -v cpio >/dev/null || vm_die "cpio is not installed (make deps)"
mkdir -p "$out"
vm_kernel "$series"
rootfs=$(systemd_rootfs)
with_unit=
"$bin" --help | grep -q -- '--metrics' && "$bin" --help | grep -q -- '--log' && with_unit=1
build_initramfs "$rootfs" "$with_unit" || vm_die "packing the initramfs failed"
rm -rf "$out/root"
vm_log "booting $KREL with systemd as PID 1 (console: $out/console.log)"
VM_MEM=2G "$repo/tools/vm-boot.sh" "$VMLINUZ" "$out/initrd.gz" "$out" 900
rc=$?
results=$(tr -d '\r' <"$out/results.stream")

if [ "$rc" -eq 0 ] && grep -qx DA-DONE <<<"$results"; then
	ok "$series: a Debian 12 system with systemd as PID 1 booted, ran the services, powered off"
else
	not_ok "$series: a Debian 12 system with systemd as PID 1 booted, ran the services" \
		"qemu exit $rc; console: $(tail -n 15 "$out/console.log")"
fi

# result NAME: its exit status, standard output and error in the guest
result() {
	status=$(sed -n "s/^DA-RESULT $1 //p" <<<"$results")
	stdout=$(sed -n "s/^DA-OUT $1 //p" <<<"$results")
	stderr=$(sed -n "s/^DA-ERR $1 //p" <<<"$results")
}

result hooks
unattached=$(python3 -c '
import json, sys
h = json.loads(sys.stdin.read())
print(" ".join(x["function"] for x in h["hooks"]
               if x["kind"] == "core" and x["available"] and not x["attached"]))' <<<"$stdout" 2>&1)
if [ "$status" = 0 ] && [ -z "$unattached" ]; then
	ok "$series: under the unit's sandbox, hooks: every core hook of this kernel attachable"
else
	not_ok "$series: under the unit's sandbox, hooks: every core hook of this kernel attachable" \
		"exit ${status:-none}; not attached: $unattached
$stderr"
fi

for mode in fentry kprobe; do
	result "$mode"
	if [ "$status" = 0 ] && grep -q '"type":"summary"' <<<"$stdout"; then
		ok "$series: under the unit's sandbox, run -- /bin/true attaches ($mode) and exits 0"
	else
		not_ok "$series: under the unit's sandbox, run -- /bin/true attaches ($mode) and exits 0" \
			"exit ${status:-none}
$stderr"
	fi
done

result nocaps
if [ "$status" = 2 ] && [ -n "$stderr" ]; then
	ok "$series: without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN the same service cannot attach (exit 2)"
	echo "# nocaps: $(head -n 1 <<<"$stderr")"
else
	not_ok "$series: without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN the same service cannot attach" \
		"exit ${status:-none}
$stderr"
fi

result nobpf
if [ "$status" = 2 ] && grep -q 'Operation not permitted' <<<"$stderr"; then
	ok "$series: with bpf(2) left out of its SystemCallFilter the same service cannot load (exit 2)"
else
	not_ok "$series: with bpf(2) left out of its SystemCallFilter the same service cannot load" \
		"exit ${status:-none}
$stderr"
fi

result kallsyms
addr=${stdout%% *}
result kallsyms-nolog
nolog_addr=${stdout%% *}
if [[ $addr =~ ^[0-9a-f]{16}$ && $addr != 0000000000000000 && $nolog_addr = 0000000000000000 ]]; then
	ok "$series: under the unit's sandbox /proc/kallsyms has addresses (CAP_SYSLOG); with ProtectKernelLogs=yes it would not"
else
	not_ok "$series: under the unit's sandbox /proc/kallsyms has addresses (CAP_SYSLOG)" \
		"dma_buf_export: '$addr' (sandbox), '$nolog_addr' (with ProtectKernelLogs=yes)"
fi

result debugfs
if [ "$status" = 0 ] && grep -q '^Dma-buf Objects:' <<<"$stdout"; then
	ok "$series: under the unit's sandbox /sys/kernel/debug/dma_buf/bufinfo is readable (the seed)"
else
	not_ok "$series: under the unit's sandbox /sys/kernel/debug/dma_buf/bufinfo is readable" \
		"exit ${status:-none}: $stdout $stderr"
fi

if [ -n "${PACKAGE_GUEST_CAPS:-}" ]; then
	for cap in CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_ADMIN CAP_SYSLOG; do
		line="# without $cap:"
		for t in fentry kprobe kallsyms debugfs; do
			result "no-$cap-$t"
			line+=" $t exit ${status:-none}"
			[ "$t" = kallsyms ] && line+=" (${stdout%% *})"
			[ -n "$stderr" ] && line+=" ($(head -n 1 <<<"$stderr" | cut -c1-90))"
			line+=";"
		done
		echo "$line"
	done
fi

if [ -z "$with_unit" ]; then
	ok "$series: the shipped unit runs, reloads and stops # SKIP $(basename "$bin") has no --log/--metrics yet (issue 14's service options)"
else
	unit_lines=$(sed -n 's/^DA-UNIT //p' <<<"$results")
	if grep -qx 'start 0 active' <<<"$unit_lines" && grep -qx 'reload 0 active' <<<"$unit_lines" &&
		grep -q '^metrics [1-9][0-9]* dmabuf_audit_journal_entries_dropped_total [0-9]*$' <<<"$unit_lines" &&
		grep -qx 'stop success 0' <<<"$unit_lines"; then
		ok "$series: the shipped unit becomes active (READY=1), writes metrics, reloads, stops cleanly"
	else
		not_ok "$series: the shipped unit becomes active (READY=1), writes metrics, reloads, stops cleanly" \
			"$unit_lines
$(sed -n 's/^DA-JOURNAL //p' <<<"$results")"
	fi
	sed -n 's/^DA-UNIT status /# status: /p' <<<"$results"
fi
tap_done
