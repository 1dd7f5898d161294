#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tests/package/guest-runner.sh: the guest half of tests/package/systemd-guest.sh, run by
# systemd (PID 1) as da-runner.service once the system is up. Lines on ttyS1, prefixed for
# the host to judge (it asserts; this only reports what it saw):
#   DA-PKG     dpkg -i of the package built by make deb (its dynamic binary is what runs)
#   DA-RESULT, DA-OUT, DA-ERR   each sandbox test service of /etc/da-tests
#   DA-UNIT    the shipped unit as an operator meets it (when /etc/da-with-unit exists):
#              without the metrics directory; with a finding from a workload in its own
#              transient unit, reloaded, stopped; with a malformed policy (exit 2)
#   DA-MFW     journalctl -o json MESSAGE_ID=<missing-fence-wait>
#   DA-X       journalctl -x of that entry (the catalog text under it)
#   DA-UNIT kaddr  how many kernel addresses the service's journal entries hold (0: hashed)
#   DA-JOURNAL the unit's last journal lines, for diagnostics
exec >/dev/ttyS1 2>&1
metrics_dir=/var/lib/prometheus/node-exporter
unit=dmabuf-audit.service
mfw_id=947a239f980f4e5a845248a770028578

show() {
	systemctl show -p "$1" --value "$unit"
}

# the unit's state after a stop: ActiveState Result ExecMainStatus NRestarts
state() {
	echo "$(show ActiveState) $(show Result) $(show ExecMainStatus) $(show NRestarts)"
}

dpkg -i /root/dmabuf-audit.deb >/root/dpkg.log 2>&1
echo "DA-PKG dpkg $? $(ldd /usr/sbin/dmabuf-audit | grep -c 'libbpf.so.1 => /')"
sed 's/^/DA-PKG log /' /root/dpkg.log

for t in $(cat /etc/da-tests); do
	systemctl start "da-$t.service"
	echo "DA-RESULT $t $(systemctl show -p ExecMainStatus --value "da-$t.service")"
	sed "s/^/DA-OUT $t /" "$metrics_dir/$t.out"
	sed "s/^/DA-ERR $t /" "$metrics_dir/$t.err"
done

if [ -e /etc/da-with-unit ]; then
	# the test module's scopes and exporter, as the vmtests declare them (tests/vm/policy)
	cat /root/test-policy >>/etc/dmabuf-audit/policy
	# enabled, as an operator runs it: a unit nothing refers to is unloaded once inactive,
	# and systemctl show would then read a fresh one (ExecMainStatus 0 whatever the exit)
	systemctl enable "$unit" 2>&1 | sed 's/^/DA-PKG log /'

	# 1. node_exporter not installed: no metrics directory. The service starts and says so.
	mv "$metrics_dir" "$metrics_dir.away"
	timeout 300 systemctl start "$unit"
	echo "DA-UNIT nometrics-start $? $(systemctl is-active "$unit")"
	echo "DA-UNIT nometrics-status $(show StatusText)"
	echo "DA-UNIT nometrics-notices $(journalctl -b -o cat --no-pager \
		_SYSTEMD_UNIT="$unit" DMABUF_NOTICE=input | grep -c 'metrics: cannot write')"
	systemctl stop "$unit"
	echo "DA-UNIT nometrics-stop $(state)"
	mv "$metrics_dir.away" "$metrics_dir"

	# 2. a workload in its own transient unit makes a critical finding; reload; stop
	insmod /root/dmabuf_audit_test.ko
	echo "DA-UNIT insmod $?"
	timeout 300 systemctl start "$unit"
	echo "DA-UNIT start $? $(systemctl is-active "$unit")"
	echo "DA-UNIT status $(show StatusText)"
	# the write is the shell's own (echo is a builtin), and the shell outlives it: journald
	# finds the task of OBJECT_PID still there and adds its unit. No --wait: it needs D-Bus,
	# which this system has not (systemd-run then uses systemd's private socket);
	# --remain-after-exit keeps the unit, and its exit status, once the shell is done.
	systemd-run --unit=dat-workload --remain-after-exit --quiet sh -c \
		'echo missing-fence-wait >/sys/kernel/debug/dmabuf_audit_test/run; sleep 8'
	i=0
	while ! systemctl show -p SubState --value dat-workload.service | grep -qx 'exited\|failed' &&
		[ $i -lt 120 ]; do
		sleep 1
		i=$((i + 1))
	done
	echo "DA-UNIT workload $(systemctl show -p ExecMainStatus --value dat-workload.service)"
	sleep 5
	systemctl reload "$unit"
	echo "DA-UNIT reload $? $(systemctl is-active "$unit")"
	sleep 20
	echo "DA-UNIT metrics $(grep -c '^dmabuf_audit_' "$metrics_dir/dmabuf-audit.prom")" \
		"$(tail -n 1 "$metrics_dir/dmabuf-audit.prom")"
	# what the resident memory is made of (docs/performance.md): VmRSS and its parts, the
	# cgroup's charge (what systemctl status shows as Memory:), the mappings over 1 MiB
	pid=$(show MainPID)
	echo "DA-MEM status $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' "/proc/$pid/status" |
		tr -s ' \t\n' ' ')"
	echo "DA-MEM cgroup $(show MemoryCurrent)"
	awk '/^[0-9a-f]+-[0-9a-f]+ / { range = $1; name = $6 }
		/^Rss:/ { if ($2 > 1024) print range, (name == "" ? "[anon]" : name), $2, "kB" }' \
		"/proc/$pid/smaps" | sed 's/^/DA-MEM map /'
	systemctl status --no-pager "$unit" | grep -E 'Memory:|Tasks:|CPU:' | sed 's/^/DA-MEM systemctl /'
	echo "DA-UNIT findings-metric $(grep '^dmabuf_audit_findings_total{rule="missing-fence-wait",severity="critical"}' \
		"$metrics_dir/dmabuf-audit.prom")"
	systemctl stop "$unit"
	echo "DA-UNIT stop $(state)"
	journalctl -b -o json --no-pager "MESSAGE_ID=$mfw_id" | sed 's/^/DA-MFW /'
	journalctl -b -x --no-pager "MESSAGE_ID=$mfw_id" | sed 's/^/DA-X /'
	# kernel addresses (0xff + 14 hex digits) in anything the service sent to the journal
	echo "DA-UNIT kaddr $(journalctl -b -o json --no-pager _SYSTEMD_UNIT="$unit" |
		grep -oiE '0xff[0-9a-f]{14}' | wc -l)"
	echo "DA-UNIT catalog $(journalctl --list-catalog "$mfw_id")"

	# 3. a setup error (a malformed policy): exit 2, not restarted
	cp /etc/dmabuf-audit/policy /root/policy.good
	echo 'this is not a directive' >>/etc/dmabuf-audit/policy
	timeout 300 systemctl start "$unit"
	echo "DA-UNIT badpolicy-start $?"
	# RestartSec=10s: a restart would have come twice by now
	sleep 25
	echo "DA-UNIT badpolicy $(state)"
	cp /root/policy.good /etc/dmabuf-audit/policy
	journalctl -b -u "$unit" --no-pager | tail -n 40 | sed 's/^/DA-JOURNAL /'
fi
echo DA-DONE
systemctl poweroff --force --force
