#!/bin/sh
# The real-VFIO suite, sourced by tests/vm/init (DAT_MODE=vfio) in a guest
# booted with VM_VFIO=1 (tests/vm/vm-boot.sh: intel-iommu, ivshmem-plain behind
# a PCIe root port).  Loads Debian's VFIO modules and the test importer
# (dat_importer.ko), binds the ivshmem device to vfio-pci, asks `hooks`
# what is attached now that vfio_pci_core is loaded, then runs each flow of
# /bin/dat-vfio under `dmabuf-audit run --events --record` (run_case, note
# and send come from the init).  tests/vm/compare.py judges the results.
. /etc/storm.sh
note phase vfio-modules
for m in $(cat /lib/dat/vfio-modules.order 2>/dev/null) dat_importer.ko; do
	f=/lib/dat/modules/$m
	[ -e "$f" ] || f=/lib/dat/$m
	insmod "$f" >>/results/vfio-insmod.txt 2>&1 || echo "insmod $m failed" >>/results/vfio-insmod.txt
done
send /results/vfio-insmod.txt

# the ivshmem-plain device (1af4:1110)
bdf=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
		bdf=$(basename "$d")
	fi
done
note vfio_bdf "${bdf:-none}"
if [ -n "$bdf" ]; then
	echo vfio-pci >"/sys/bus/pci/devices/$bdf/driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	note vfio_driver "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
	note vfio_group "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/iommu_group")")"
fi

# with vfio_pci_core loaded: its scopes and iommufd's map path are attached
dmabuf-audit hooks --policy /etc/dmabuf-audit/policy --format json >/results/vfio-hooks.json \
	2>/results/vfio-hooks.err
send /results/vfio-hooks.json
send /results/vfio-hooks.err

note phase vfio-flows
for flow in memory-bit reset close-dmabuf close-device pending-fence refuse; do
	[ -n "$bdf" ] || break
	note phase "vfio $flow"
	DAT_RUN_OPTS="--events --record /results/vfio-$flow.rec" run_case "vfio-$flow" json \
		/bin/dat-vfio --status "/results/vfio-$flow.status" "$flow" "$bdf"
done

# The tool never holds a module (docs/hooks.md, "Revoke scope hooks and
# modules"): under `watch`, Debian's vfio_pci and vfio_pci_core (kprobed
# scopes and map hook) and the test importer unload; loaded again, with the
# device bound again, a revoke (flow memory-bit) is judged with the scopes
# attached again.  First the control: with --module-mode fentry the
# trampolines hold vfio_pci_core, and its rmmod must fail.
# vfio_watch_start NAME [OPTIONS]: watch in the background, ready at its header
vfio_watch_start() {
	name=$1
	shift
	dmabuf-audit watch --policy /etc/dmabuf-audit/policy --format json --events "$@" \
		-o "/results/$name.report" >"/results/$name.out" 2>&1 &
	watch_pid=$!
	vfio_wait_for '"type":"header"' "/results/$name.report" 1
}
# vfio_wait_for ERE FILE COUNT: until FILE has COUNT lines matching ERE (300 s);
# the report does not exist until the tool has attached and written its header
vfio_wait_for() {
	i=0
	while [ $i -lt 300 ]; do
		n=$(grep -Ec "$1" "$2" 2>/dev/null)
		[ "${n:-0}" -lt "$3" ] || return 0
		sleep 1
		i=$((i + 1))
	done
	echo "timed out waiting for $1 in $2" >>/results/vfio-wait.txt
	return 1
}
# vfio_rmmod TAG MODULE: rmmod, its exit status and message noted as TAG_MODULE
vfio_rmmod() {
	rmmod "$2" >"/results/$1-rmmod-$2.txt" 2>&1
	note "$1_rmmod_$2" "$?"
	send "/results/$1-rmmod-$2.txt"
}
# Debian's VFIO modules and the test importer loaded again (those still
# loaded refuse), the ivshmem device probed again (driver_override stays)
vfio_reload_debian() {
	for m in $(cat /lib/dat/vfio-modules.order) dat_importer.ko; do
		f=/lib/dat/modules/$m
		[ -e "$f" ] || f=/lib/dat/$m
		insmod "$f" >>/results/vfio-reload-insmod.txt 2>&1
	done
	echo "$bdf" >/sys/bus/pci/drivers_probe
}
if [ -n "$bdf" ]; then
	note phase "vfio hold control"
	vfio_watch_start vfio-hold --module-mode fentry
	# attached at start, or after the wait for the module's BTF
	vfio_wait_for '"vfio_pci_dma_buf_move","mode":"fentry","attached":true|hook vfio_pci_dma_buf_move attached \(fentry' \
		/results/vfio-hold.report 1
	note vfio_hold_refcnt "$(cat /sys/module/vfio_pci_core/refcnt 2>/dev/null)"
	vfio_rmmod hold vfio_pci
	vfio_rmmod hold vfio_pci_core
	kill -TERM "$watch_pid"
	wait "$watch_pid"
	note vfio_hold_rc "$?"
	for f in report out; do
		send "/results/vfio-hold.$f"
	done
	vfio_reload_debian

	note phase "vfio reload under watch"
	dmesg -c >/dev/null
	t0=$(uptime_ms)
	vfio_watch_start vfio-reload
	note vfio_reload_refcnt "$(cat /sys/module/vfio_pci_core/refcnt 2>/dev/null)"
	vfio_rmmod reload vfio_pci
	vfio_rmmod reload vfio_pci_core
	vfio_rmmod reload dat_importer
	vfio_wait_for "hook vfio_pci_dma_buf_move detached" /results/vfio-reload.report 1
	vfio_reload_debian
	note vfio_reload_driver "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
	# the scopes and the map hook: attached again once the loader saw the load
	vfio_wait_for "hook vfio_pci_dma_buf_[a-z_]* attached \(" /results/vfio-reload.report 3
	/bin/dat-vfio --status /results/vfio-reload.status memory-bit "$bdf" \
		>/results/vfio-reload.flow 2>&1
	sleep 2 # the ring buffer is read every 100 ms
	kill -TERM "$watch_pid"
	wait "$watch_pid"
	rc=$?
	dmesg >/results/vfio-reload.dmesg
	printf 'rc %s\ntraced 1\nms %s\n' "$rc" "$(($(uptime_ms) - t0))" >/results/vfio-reload.meta
	for f in report out status flow dmesg meta; do
		send "/results/vfio-reload.$f"
	done
	send /results/vfio-reload-insmod.txt
	send /results/vfio-wait.txt
fi

# The VFIO modules in use: unload them all (nothing holds them between two
# runs of the tool) / load the set in DIR (DIR/modules.order) and bind the
# ivshmem device to its vfio-pci again.
vfio_unload() {
	for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio iommufd iommufd_driver; do
		[ -d "/sys/module/$m" ] || continue
		rmmod "$m" >>/results/iommufd-insmod.txt 2>&1 ||
			echo "rmmod $m failed" >>/results/iommufd-insmod.txt
	done
}
vfio_load() {
	for m in $(cat "$1/modules.order"); do
		insmod "$1/$m" >>/results/iommufd-insmod.txt 2>&1 ||
			echo "insmod $1/$m failed" >>/results/iommufd-insmod.txt
	done
	echo "$bdf" >/sys/bus/pci/drivers_probe
}

# The real iommufd (--iommufd: built from Debian's source, tests/vm/build-iommufd.sh):
# Debian's VFIO modules make way for the ones built with iommufd and the
# device cdev; the ivshmem device is bound to that vfio-pci.
if [ -n "$bdf" ] && [ -s /lib/dat/iommufd/modules.order ]; then
	note phase iommufd-modules
	vfio_unload
	vfio_load /lib/dat/iommufd
	note iommufd_driver "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
	note iommufd_cdev "$(ls "/sys/bus/pci/devices/$bdf/vfio-dev" 2>/dev/null)"
	ls -l /dev/iommu /dev/vfio/devices >>/results/iommufd-insmod.txt 2>&1
	send /results/iommufd-insmod.txt
	note phase "vfio iommufd"
	DAT_RUN_OPTS="--events --record /results/vfio-iommufd.rec" run_case vfio-iommufd json \
		/bin/dat-vfio --status /results/vfio-iommufd.status iommufd "$bdf"
	# the same with the kprobe fallback forced (scopes and iommufd's map path)
	note phase "vfio iommufd kprobe"
	DAT_RUN_OPTS="--mode kprobe --events --record /results/vfio-iommufd-kprobe.rec" \
		run_case vfio-iommufd-kprobe json /bin/dat-vfio \
		--status /results/vfio-iommufd-kprobe.status iommufd "$bdf"
	# the revoke storm on the fixed drivers (tests/storm)
	[ "${DAT_STORM_SECONDS:-0}" -gt 0 ] && storm_run storm-fixed "$DAT_STORM_SECONDS"
fi

# The historical bugs put back (tests/vfio/patches/*.patch, one module set
# each): load the variant, run the flow its patch names.
for dir in /lib/dat/variants/*; do
	if [ -z "$bdf" ] || [ ! -s "$dir/modules.order" ]; then
		continue
	fi
	v=$(basename "$dir")
	note phase "variant $v"
	vfio_unload
	vfio_load "$dir"
	note "variant_$v" "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
	DAT_RUN_OPTS="--events --record /results/variant-$v.rec" run_case "variant-$v" json \
		/bin/dat-vfio --status "/results/variant-$v.status" "$(cat "$dir/flow")" "$bdf"
	[ "${DAT_STORM_VARIANT_SECONDS:-0}" -gt 0 ] &&
		storm_run "storm-variant-$v" "$DAT_STORM_VARIANT_SECONDS"
done
send /results/iommufd-insmod.txt
