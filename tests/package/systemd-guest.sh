#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/package/systemd-guest.sh BIN [SERIES]: the package and its unit under a real systemd,
# with a kernel that allows BPF tracing (make package-guest-test).
#
# systemd-analyze verify checks the unit's syntax; only systemd running it shows that its
# capabilities and hardening still let BPF work. One guest boot (Debian kernel SERIES, default
# 6.12) of a Debian 12 system with systemd as PID 1 (debootstrap --variant=minbase
# --include=$GUEST_PACKAGES, cached in $DA_CACHE/chroot/bookworm-systemd-deb; the mirror is
# the machine's own), packed whole into the initramfs with the package of this tree (make deb,
# built when missing or older than BIN) and the test module. In the guest (guest-runner.sh)
# dpkg -i installs the package; services made from packaging/dmabuf-audit.service with
# only Type, ExecStart and the output changed (every capability and hardening line as shipped)
# run its dynamic binary:
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
# shipped: without node_exporter's directory it starts and warns (journal, STATUS=); with it,
# it becomes active (READY=1 under Type=notify), sees a critical finding made by a workload in
# a transient unit of its own (systemd-run), writes its metrics file, reloads on SIGHUP, and
# `systemctl stop` leaves it inactive, not failed; the real journald stores the finding with
# the rule's MESSAGE_ID and the workload's OBJECT_SYSTEMD_UNIT, and journalctl -x shows the
# catalog text; a malformed policy (exit 2) is not restarted. TAP output. About 3-4 minutes
# (TCG), plus the debootstrap and make deb once.
set -uo pipefail

bin=${1:?usage: tests/package/systemd-guest.sh BIN [SERIES]}
series=${2:-6.12}
VM_LOG_TAG=systemd-guest
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/vm-lib.sh
. "$repo/tests/vm/vm-lib.sh"
. "$here/../lib/tap.sh"
out=${BUILD:-$repo/build}/package-guest
unit=$repo/packaging/dmabuf-audit.service
metrics_dir=/var/lib/prometheus/node-exporter

# the Debian 12 system with systemd, created once; procps for /bin/kill, which the unit's
# ExecReload runs, and the package's other dependencies (the shared libraries of its dynamic
# binary), so that the .deb installs with dpkg -i in the guest; kmod for insmod (the test
# module whose workload makes a finding)
GUEST_PACKAGES=systemd,systemd-sysv,procps,kmod,libbpf1,libelf1,libjansson4,zlib1g
systemd_rootfs() {
	local root=$DA_CACHE/chroot/bookworm-systemd-deb mirror
	if [ ! -x "$root/lib/systemd/systemd" ] || [ ! -e "$root/.packages-$GUEST_PACKAGES" ]; then
		command -v debootstrap >/dev/null || vm_die "debootstrap is not installed (make deps)"
		mirror=$(vm_mirror_uri) || vm_die "no Debian mirror in /etc/apt/sources.list{,.d}"
		vm_log "creating the bookworm systemd root in $root (once, about 2 minutes)"
		rm -rf "$root.tmp"
		mkdir -p "$DA_CACHE/chroot"
		debootstrap --variant=minbase --include="$GUEST_PACKAGES" bookworm "$root.tmp" \
			"$mirror" >"$DA_CACHE/chroot/debootstrap-systemd-deb.log" 2>&1 ||
			vm_die "debootstrap failed, see $DA_CACHE/chroot/debootstrap-systemd-deb.log"
		touch "$root.tmp/.packages-$GUEST_PACKAGES"
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
	# the package (its dynamic binary, unit, policy, catalog) is installed in the guest by
	# dpkg -i (guest-runner.sh); the test module and its policy lines for the workload
	install -D -m 0644 "$deb" "$stage/root/dmabuf-audit.deb"
	install -m 0644 "$kmod_dir/dmabuf_audit_test.ko" "$stage/root/dmabuf_audit_test.ko"
	install -m 0644 "$repo/tests/vm/policy" "$stage/root/test-policy"
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
	install -D -m 0755 "$here/guest-runner.sh" "$stage/usr/local/sbin/da-runner"
	[ -n "$with_unit" ] && touch "$stage/etc/da-with-unit"
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
# the package of this tree (make deb), built if missing or older than the binary; the
# -dbgsym package stays next to it
version=$(sed -n 's/^VERSION := *//p' "$repo/Makefile")
deb=${BUILD:-$repo/build}/dmabuf-audit_${version}_$(dpkg --print-architecture).deb
if [ ! -f "$deb" ] || [ "$bin" -nt "$deb" ]; then
	"$repo/packaging/build-deb.sh" "${BUILD:-$repo/build}" >&2 ||
		vm_die "make deb failed (packaging/build-deb.sh)"
fi
kmod_dir=$out/kmod
"$repo/tests/vm/build-kmod.sh" "$series" "$kmod_dir" >&2 || vm_die "building the test module failed"
build_initramfs "$rootfs" "$with_unit" || vm_die "packing the initramfs failed"
rm -rf "$out/root"
vm_log "booting $KREL with systemd as PID 1 (console: $out/console.log)"
VM_MEM=2G "$repo/tests/vm/vm-boot.sh" "$VMLINUZ" "$out/initrd.gz" "$out" 900
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

mfw_catalog="947a239f980f4e5a845248a770028578 dmabuf-audit: missing-fence-wait: a dma-buf revoke had no fence wait"
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

pkg=$(sed -n 's/^DA-PKG dpkg //p' <<<"$results")
if [ "$pkg" = "0 1" ]; then
	ok "$series: dpkg -i installs $(basename "$deb") in the guest; its binary uses the shared libbpf"
else
	not_ok "$series: dpkg -i installs $(basename "$deb") in the guest" \
		"dpkg exit and libbpf lines: '$pkg'
$(sed -n 's/^DA-PKG log //p' <<<"$results" | tail -n 10)"
fi

if [ -z "$with_unit" ]; then
	ok "$series: the shipped unit runs, reloads and stops # SKIP $(basename "$bin") has no --log/--metrics yet (issue 14's service options)"
	tap_done
	exit
fi

unit_lines=$(sed -n 's/^DA-UNIT //p' <<<"$results")
journal=$(sed -n 's/^DA-JOURNAL //p' <<<"$results")
unit_field() {
	sed -n "s/^$1 //p" <<<"$unit_lines"
}

# 1. no metrics directory: a warning, not a failure
if [ "$(unit_field nometrics-start)" = "0 active" ] &&
	grep -q '; warning: cannot write /var/lib/prometheus/node-exporter/dmabuf-audit.prom: no new file in its directory: No such file or directory' \
		<<<"$(unit_field nometrics-status)" &&
	[ "$(unit_field nometrics-notices)" -ge 1 ] 2>/dev/null &&
	[ "$(unit_field nometrics-stop)" = "inactive success 0 0" ]; then
	ok "$series: without node_exporter's directory the unit starts, warns in the journal and STATUS=, stops cleanly"
else
	not_ok "$series: without node_exporter's directory the unit starts and warns" "$unit_lines
$journal"
fi
sed -n 's/^DA-UNIT nometrics-status /# status without the metrics directory: /p' <<<"$results"

# 2. a critical finding, reload, stop: inactive, not failed (the findings status 1 is a success)
if [ "$(unit_field insmod)" = 0 ] && [ "$(unit_field start)" = "0 active" ] &&
	[ "$(unit_field workload)" = 0 ] && [ "$(unit_field reload)" = "0 active" ] &&
	grep -q '^[1-9][0-9]* dmabuf_audit_journal_entries_dropped_total [0-9]*$' <<<"$(unit_field metrics)" &&
	grep -q ' 1$' <<<"$(unit_field findings-metric)" &&
	[ "$(unit_field stop)" = "inactive success 1 0" ]; then
	ok "$series: the shipped unit becomes active, sees the workload's critical finding, writes metrics, reloads; systemctl stop leaves it inactive (exit 1 is a success), not failed"
else
	not_ok "$series: the shipped unit sees a critical finding and systemctl stop leaves it inactive" \
		"$unit_lines
$journal"
fi
sed -n 's/^DA-UNIT status /# status: /p' <<<"$results"
sed -n 's/^DA-MEM /# memory: /p' <<<"$results"

# the real journald: the entry by its MESSAGE_ID, tied to the workload's unit by OBJECT_PID
mfw=$(sed -n 's/^DA-MFW //p' <<<"$results")
check=$(python3 -c '
import json, sys
entries = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
bad = []
if len(entries) != 1:
    bad.append("%d entries with the MESSAGE_ID of missing-fence-wait, expected 1" % len(entries))
for e in entries:
    want = {"DMABUF_RULE": "missing-fence-wait", "DMABUF_SEVERITY": "critical",
            "PRIORITY": "2", "OBJECT_SYSTEMD_UNIT": "dat-workload.service",
            "_SYSTEMD_UNIT": "dmabuf-audit.service", "DMABUF_EXPORTER": "dat_revoker"}
    got = {k: e.get(k) for k in want}
    if got != want:
        bad.append("fields %s, expected %s" % (got, want))
    if e.get("OBJECT_PID") != e.get("DMABUF_PID") or not e.get("OBJECT_PID"):
        bad.append("OBJECT_PID %s, DMABUF_PID %s" % (e.get("OBJECT_PID"), e.get("DMABUF_PID")))
    if "dat-workload.service" not in (e.get("OBJECT_SYSTEMD_CGROUP") or ""):
        bad.append("OBJECT_SYSTEMD_CGROUP %s" % e.get("OBJECT_SYSTEMD_CGROUP"))
    # the workload identity dmabuf-audit resolved itself (from the BPF cgroup id)
    if not (e.get("DMABUF_CGROUP") or "").endswith("/dat-workload.service"):
        bad.append("DMABUF_CGROUP %s" % e.get("DMABUF_CGROUP"))
    if e.get("DMABUF_UNIT") != "dat-workload.service":
        bad.append("DMABUF_UNIT %s" % e.get("DMABUF_UNIT"))
print("\n".join(bad))' <<<"$mfw" 2>&1)
if [ -z "$check" ]; then
	ok "$series: journalctl -o json MESSAGE_ID=947a239f980f4e5a845248a770028578 returns the finding with OBJECT_SYSTEMD_UNIT=dat-workload.service (the systemd-run workload) and its own DMABUF_CGROUP, DMABUF_UNIT"
else
	not_ok "$series: journalctl MESSAGE_ID=<missing-fence-wait> returns the finding with the workload's unit" \
		"$check
$(head -c 3000 <<<"$mfw")"
fi

if [ "$(unit_field kaddr)" = 0 ]; then
	ok "$series: no kernel address (0xff...) in any journal entry of the service (--addresses hashed by default)"
else
	not_ok "$series: no kernel address in the service's journal entries" \
		"$(unit_field kaddr) addresses; $(grep -oiE '0xff[0-9a-f]{14}' <<<"$journal" | head -n 3)"
fi

xtext=$(sed -n 's/^DA-X //p' <<<"$results")
if grep -q 'Subject: missing-fence-wait: a dma-buf revoke had no fence wait' <<<"$xtext" &&
	grep -q 'What to do: call dma_resv_wait_timeout' <<<"$xtext" &&
	[ "$(unit_field catalog)" = "$mfw_catalog" ]; then
	ok "$series: journalctl -x shows the catalog text under the finding (the package's catalog, in journalctl's database after dpkg -i)"
else
	not_ok "$series: journalctl -x shows the catalog text under the finding" \
		"catalog: $(unit_field catalog)
$(head -n 30 <<<"$xtext")"
fi

# 3. a setup error: exit 2, not restarted
if [ "$(unit_field badpolicy)" = "failed exit-code 2 0" ] &&
	grep -q "policy:[0-9]*: unknown directive 'this'" <<<"$journal"; then
	ok "$series: a malformed policy: exit 2, the unit failed and not restarted (RestartPreventExitStatus=2), the journal says why"
else
	not_ok "$series: a malformed policy: exit 2 and not restarted" "$unit_lines
$journal"
fi
tap_done
