#!/bin/sh
# The real-VFIO suite, sourced by tests/vm/init (DAT_MODE=vfio) in a guest
# booted with VM_VFIO=1 (tools/vm-boot.sh: intel-iommu, ivshmem-plain behind
# a PCIe root port).  Loads Debian's VFIO modules and the test importer
# (dat_importer.ko), binds the ivshmem device to vfio-pci, asks `hooks`
# what is attached now that vfio_pci_core is loaded, then runs each flow of
# /bin/dat-vfio under `dmabuf-audit run --events --record` (run_case, note
# and send come from the init).  tests/vm/compare.py judges the results.
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

# The real iommufd (--iommufd: built from Debian's source, tools/build-iommufd.sh):
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
done
send /results/iommufd-insmod.txt
