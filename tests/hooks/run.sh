#!/bin/bash
# tests/hooks/run.sh BIN
#
# `hooks --btf` against the BTF of real Debian kernels (6.1, 6.12, 7.3; the
# PREEMPT_RT builds 6.12-rt and 7.3-rt; the newest kernels 6.12-newest and
# sid, picked by version when fetched; arm64's 7.3-arm64), unprivileged and
# without loading anything: the hook table must pick the right function and
# the right callback field on each, report the quirks, report what is absent
# as absent, read the reservation lock's owner (mutex or rt_mutex), and
# report VFIO's revoke scopes as module hooks.  Kernels come from tests/vm/fetch-kernel.sh (cached); the BTF
# is extracted from each vmlinuz by tests/vm/extract-btf.sh and cached under
# ${DA_CACHE:-~/.cache/dmabuf-audit}/btf.  TAP output.
set -uo pipefail

bin=${1:?usage: tests/hooks/run.sh BIN}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${DA_CACHE:-$HOME/.cache/dmabuf-audit}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/btf"

. "$here/../lib/tap.sh"

# check_btf SERIES FILE KREL: hooks --btf FILE --format json, judged by python3
check_btf() {
	local series=$1 btf=$2 krel=$3 out err rc
	out="$work/$series.json"
	err="$work/$series.err"
	"$bin" hooks --btf "$btf" --format json >"$out" 2>"$err"
	rc=$?
	# unnumbered TAP lines, numbered by run_checks in the suite's shell
	if [ $rc -ne 0 ]; then
		echo "not ok hooks --btf exits 0 (got $rc)"
		sed 's/^/# /' "$err"
		return
	fi
	echo "ok hooks --btf exits 0"
	# one TAP line per assertion, from python
	# a checker that dies part-way is a failure, not fewer tests
	python3 - "$series" "$out" "$krel" <<'EOF' || echo "not ok the checks ran to the end (python exited $?)"
import json
import re
import sys

series, path, krel = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    lines = [l for l in f.read().splitlines() if l.strip()]
results = []


def check(name, cond, detail=""):
    results.append((bool(cond), name, detail))


check("one JSON object", len(lines) == 1, "%d lines" % len(lines))
doc = json.loads(lines[0])
hooks = {}
for h in doc["hooks"]:
    hooks.setdefault(h["hook"], []).append(h)
core = {k: v[0] for k, v in hooks.items() if k != "scope"}
scopes = {h["function"]: h for h in hooks.get("scope", [])}
# the kernel's version from its release (sid names none), e.g. (7, 2)
ver = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", krel).groups())
new_api = ver >= (7, 1)

check("type is hooks, not live", doc["type"] == "hooks" and doc["live"] is False)

required = ["export", "release", "attach", "detach", "pin", "unpin", "map", "unmap",
            "vmap", "vunmap", "mmap", "invalidate", "fence_wait"]
entry_ops = {"release", "detach", "unpin", "unmap", "vunmap", "invalidate"}
for hook in required:
    h = core.get(hook)
    want = "fentry" if hook in entry_ops else "fexit"
    check("core hook %s present (%s)" % (hook, want),
          h is not None and h["available"] and h["mode"] == want and not h["optional"],
          json.dumps(h))

expected_fn = {"export": "dma_buf_export", "release": "dma_buf_release",
               "attach": "dma_buf_dynamic_attach", "detach": "dma_buf_detach",
               "map": "dma_buf_map_attachment", "fence_wait": "dma_resv_wait_timeout"}
for hook, fn in expected_fn.items():
    check("%s targets %s" % (hook, fn), core[hook]["function"] == fn, core[hook]["function"])

inv = core["invalidate"]
if new_api:
    check("invalidate targets dma_buf_invalidate_mappings",
          inv["function"] == "dma_buf_invalidate_mappings", inv["function"])
    check("callback field is invalidate_mappings",
          doc["callback_field"] == "invalidate_mappings", doc["callback_field"])
    rc = core["revocable_check"]
    check("dma_buf_attach_revocable hooked (fexit)",
          rc["function"] == "dma_buf_attach_revocable" and rc["available"]
          and rc["mode"] == "fexit", json.dumps(rc))
else:
    check("invalidate targets dma_buf_move_notify",
          inv["function"] == "dma_buf_move_notify", inv["function"])
    check("callback field is move_notify", doc["callback_field"] == "move_notify",
          doc["callback_field"])
    rc = core["revocable_check"]
    check("dma_buf_attach_revocable absent with a reason",
          not rc["available"] and rc["mode"] == "absent" and rc["reason"], json.dumps(rc))

if ver < (6, 2):
    for hook in ("vmap_unlocked", "vunmap_unlocked"):
        h = core[hook]
        check("%s absent on 6.1, with a reason" % hook,
              not h["available"] and h["mode"] == "absent" and h["optional"] and h["reason"],
              json.dumps(h))
    check("6.1 quirk legacy-locking", "legacy-locking" in doc["quirks"], doc["quirks"])
else:
    for hook in ("vmap_unlocked", "vunmap_unlocked", "map_unlocked", "unmap_unlocked"):
        check("%s present" % hook, core[hook]["available"], json.dumps(core[hook]))
    check("no legacy-locking quirk", "legacy-locking" not in doc["quirks"], doc["quirks"])
# PREEMPT_RT included: its rt_mutex owner is read instead of the mutex's
check("reservation owner readable%s" % (" (rt_mutex, PREEMPT_RT)" if "-rt" in krel else ""),
      doc["resv_owner"] is True and "no-resv-owner" not in doc["quirks"])

# a kprobe link's info tells the probe's misses from 6.7 (bpf_link_info.perf_event.kprobe.missed)
check("kprobe misses counted: %s (6.7+)" % (ver >= (6, 7)),
      doc["kprobe_misses_counted"] is (ver >= (6, 7)), doc["kprobe_misses_counted"])

for fn in ("vfio_pci_dma_buf_move", "vfio_pci_dma_buf_cleanup"):
    h = scopes.get(fn)
    check("%s is a module hook (vfio_pci_core)" % fn,
          h is not None and h["kind"] == "scope" and h["mode"] == "module"
          and h["module"] == "vfio_pci_core" and not h["attached"]
          and "resolved when loaded" in h["reason"], json.dumps(h))

# seeding (src/live/seed.c): the dma-buf iterator from 6.16 on, else bufinfo
want_seed = "bpf-iter" if ver >= (6, 16) else "debugfs"
check("seed source %s" % want_seed, doc.get("seed_source") == want_seed,
      "%s: %s" % (doc.get("seed_source"), doc.get("seed_reason")))
check("seed source says why", ("iter/dmabuf" if want_seed == "bpf-iter" else
                               "/sys/kernel/debug/dma_buf/bufinfo") in doc.get("seed_reason", ""),
      doc.get("seed_reason"))
# iommufd's map path: VFIO's private helper, a module hook whatever the kernel
# (vmlinux BTF cannot say what vfio-pci-core has: 6.19+ has it, older not)
h = core.get("iommufd_map")
check("iommufd_map (vfio_pci_dma_buf_iommufd_map) is a module hook (vfio_pci_core)",
      h is not None and h["kind"] == "module" and h["function"] == "vfio_pci_dma_buf_iommufd_map"
      and h["mode"] == "module" and h["module"] == "vfio_pci_core" and not h["attached"]
      and h["optional"] and "resolved when loaded" in h["reason"], json.dumps(h))
# the iommufd selftest's mock exporter (CONFIG_IOMMUFD_TEST): its map helper
# and its revoke scope, module hooks in iommufd (Debian builds no iommufd)
h = core.get("iommufd_test_map")
check("iommufd_test_map (iommufd_test_dma_buf_iommufd_map) is a module hook (iommufd)",
      h is not None and h["kind"] == "module"
      and h["function"] == "iommufd_test_dma_buf_iommufd_map" and h["mode"] == "module"
      and h["module"] == "iommufd" and not h["attached"] and h["optional"], json.dumps(h))
h = scopes.get("iommufd_test_dmabuf_revoke")
check("iommufd_test_dmabuf_revoke is a module hook (iommufd)",
      h is not None and h["kind"] == "scope" and h["mode"] == "module"
      and h["module"] == "iommufd" and not h["attached"], json.dumps(h))

rules = {r["rule"]: r for r in doc["rules"]}
scope_rules = {"revoke-stalled", "pinned-importer-left-revoked"}
check("every rule listed", len(rules) == 16, sorted(rules))
for name, r in sorted(rules.items()):
    if name in scope_rules:
        check("rule %s not enforceable without a scope hook, with the reason" % name,
              not r["enforceable"] and "scope" in r["reason"], json.dumps(r))
    else:
        check("rule %s enforceable" % name, r["enforceable"] and not r["reason"], json.dumps(r))

for good, name, detail in results:
    if good:
        print("ok", name)
    else:
        print("not ok", name)
        print("#", detail)
EOF
}

# check_lock_kind SERIES FILE: the kernel really is (or is not) PREEMPT_RT,
# so the resv_owner check above covers both kinds of reservation lock
check_lock_kind() {
	local series=$1 btf=$2 want=mutex base
	case "$series" in *-rt*) want=rt_mutex ;; esac
	base=$(bpftool btf dump file "$btf" format c 2>/dev/null |
		awk '/^struct ww_mutex \{/ { getline; print $2; exit }')
	if [ "$base" = "$want" ]; then
		ok "$series: ww_mutex.base is a struct $want"
	else
		not_ok "$series: ww_mutex.base is a struct $want" "found: '$base'"
	fi
}

# run check_btf's python lines through the TAP numbering
run_checks() {
	local series=$1 btf=$2 krel=$3 line
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok "$series: ${line#ok }" ;;
		"not ok "*) not_ok "$series: ${line#not ok }" ;;
		*) echo "$line" ;;
		esac
	done < <(check_btf "$series" "$btf" "$krel")
}

for series in 6.1 6.12 7.3 6.12-rt 7.3-rt 6.12-newest sid 7.3-arm64; do
	if ! vars=$("$top/tests/vm/fetch-kernel.sh" "$series" 2>"$work/fetch.err"); then
		not_ok "$series: fetch the Debian kernel" "$(cat "$work/fetch.err")"
		continue
	fi
	eval "$vars"
	btf="$cache/btf/$KREL.btf"
	if [ ! -s "$btf" ] && ! "$top/tests/vm/extract-btf.sh" "$VMLINUZ" "$btf" 2>"$work/x.err"; then
		not_ok "$series: extract BTF from $VMLINUZ" "$(cat "$work/x.err")"
		continue
	fi
	ok "$series: BTF of $KREL"
	[ "$series" = 7.3 ] && seed_btf=$btf
	check_lock_kind "$series" "$btf"
	run_checks "$series" "$btf" "$KREL"
	# the text table says what the JSON says
	inv=$(python3 -c 'import json,sys; print([h["function"] for h in json.load(open(sys.argv[1]))["hooks"] if h["hook"] == "invalidate"][0])' "$work/$series.json" 2>/dev/null)
	if "$bin" hooks --btf "$btf" >"$work/$series.txt" 2>&1 &&
		grep -qE "^invalidate +$inv +fentry +available$" "$work/$series.txt" &&
		grep -qE "^scope +vfio_pci_dma_buf_move +module +module vfio_pci_core: resolved when loaded$" "$work/$series.txt" &&
		grep -qE "^iommufd_map +vfio_pci_dma_buf_iommufd_map +module +module vfio_pci_core: resolved when loaded$" "$work/$series.txt"; then
		ok "$series: text table: invalidate on $inv, VFIO scope and iommufd map in vfio_pci_core"
	else
		not_ok "$series: text table: invalidate on $inv, VFIO scope and iommufd map in vfio_pci_core" \
			"$(head -40 "$work/$series.txt")"
	fi
done

# the seed line of the text table, and --no-seed
if [ -n "${seed_btf:-}" ]; then
	if "$bin" hooks --btf "$seed_btf" | grep -qE "^seed source: bpf-iter \(iter/dmabuf: " &&
		"$bin" hooks --no-seed --btf "$seed_btf" | grep -qx "seed source: none (--no-seed)"; then
		ok "text table: seed source line; --no-seed makes it none"
	else
		not_ok "text table: seed source line; --no-seed makes it none" \
			"$("$bin" hooks --btf "$seed_btf" 2>&1 | grep seed)"
	fi
fi

# bad input: a clear error and exit status 2, not a crash
echo "not BTF" >"$work/garbage"
"$bin" hooks --btf "$work/garbage" >/dev/null 2>"$work/bad.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "cannot read BTF from" "$work/bad.err" &&
	! grep -q "^libbpf:" "$work/bad.err"; then
	ok "garbage --btf file: exit 2 with a message (and no libbpf log)"
else
	not_ok "garbage --btf file: exit 2 with a message (got $rc)" "$(cat "$work/bad.err")"
fi

# The live path on this machine.  The build host refuses BPF tracing
# programs (docs/testing.md, "Why guests"): watch must then exit 2 with a message
# that says what was refused, what to check and the man page's section (an
# installed host has no repository: no make targets), without libbpf's log.  On a kernel that accepts them, watch attaches and exits 0.
"$bin" watch --duration 1 >"$work/watch.out" 2>"$work/watch.err"
rc=$?
if [ $rc -eq 2 ]; then
	if grep -qE "refused to load BPF tracing programs|no dma-buf hook could be attached" \
		"$work/watch.err" && grep -q "See man dmabuf-audit, REQUIREMENTS" "$work/watch.err" &&
		! grep -q "make demo\|make vmtest" "$work/watch.err" &&
		! grep -q "^libbpf:" "$work/watch.err"; then
		ok "watch on this kernel: exit 2, says what was refused, what to check and the man page"
	else
		not_ok "watch on this kernel: exit 2 with a clear message" "$(cat "$work/watch.err")"
	fi
elif [ $rc -eq 0 ]; then
	ok "watch on this kernel: attached and ran for 1 s"
else
	not_ok "watch on this kernel: exit 0 or 2 (got $rc)" "$(cat "$work/watch.err")"
fi

tap_done
