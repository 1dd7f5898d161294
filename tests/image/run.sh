#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/image/run.sh IMAGE BIN
#
# The OCI image of `make image` (IMAGE: the layout folder; IMAGE.tar the archive) and the
# DaemonSet manifest (packaging/k8s/):
#   - the layout per the OCI image spec: every blob's sha256 and size are its descriptor's, the
#     layer's diff_id is the sha256 of its uncompressed tar, the platform is BIN's;
#   - the layer holds exactly the static BIN (byte for byte), the policy and the alert rules,
#     owned by root, with their modes; the entrypoint runs the binary; two builds are identical;
#   - the image's root file system alone runs `hooks --btf` of a cached Debian 7.3 kernel's BTF
#     (or, before one is cached, this machine's /sys/kernel/btf/vmlinux) in a chroot, and Debian's podman runs the image (podman run oci-archive:) with the same
#     output as BIN on the host; where podman cannot run here, that test says why and skips;
#   - the DaemonSet: its args are options of `watch --help`, its mounts are the paths the man
#     page names (BTF, debugfs, tracefs, the metrics directory, the journal socket), its
#     capabilities the systemd unit's.
# podman runs with its own storage in a temporary folder (removed), under timeout. TAP output.
set -uo pipefail

image=${1:?usage: tests/image/run.sh IMAGE BIN}
bin=${2:?usage: tests/image/run.sh IMAGE BIN}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
manifest=$src/packaging/k8s/dmabuf-audit-daemonset.yaml
cache=${DA_CACHE:-$HOME/.cache/dmabuf-audit}
. "$here/../lib/tap.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
why=

# ---- the layout and the layer, read per the spec by python3's standard library
check_layout() {
	python3 - "$image" "$bin" "$work/rootfs" "$src" <<'EOF'
import gzip, hashlib, io, json, os, stat, subprocess, sys, tarfile
image, binary, rootfs, src = sys.argv[1:]
errors = []
def blob(desc):
    algo, hexd = desc["digest"].split(":")
    data = open(os.path.join(image, "blobs", algo, hexd), "rb").read()
    if hashlib.sha256(data).hexdigest() != hexd or len(data) != desc["size"]:
        errors.append(f"blob {desc['digest']}: sha256 or size differ from its descriptor")
    return data
layout = json.load(open(os.path.join(image, "oci-layout")))
if layout != {"imageLayoutVersion": "1.0.0"}:
    errors.append(f"oci-layout {layout}")
index = json.load(open(os.path.join(image, "index.json")))
[mdesc] = index["manifests"]
manifest = json.loads(blob(mdesc))
config = json.loads(blob(manifest["config"]))
[ldesc] = manifest["layers"]
layer = gzip.decompress(blob(ldesc))
if config["rootfs"]["diff_ids"] != ["sha256:" + hashlib.sha256(layer).hexdigest()]:
    errors.append("diff_id is not the sha256 of the uncompressed layer")
kind = subprocess.run(["file", "-b", binary], capture_output=True, text=True).stdout
arch = "arm64" if "aarch64" in kind else "amd64"
if (config["architecture"], mdesc["platform"]["architecture"]) != (arch, arch):
    errors.append(f"architecture {config['architecture']}, the binary is {arch}")
if config["config"]["Entrypoint"] != ["/usr/sbin/dmabuf-audit"]:
    errors.append(f"entrypoint {config['config']['Entrypoint']}")
want = {"usr/sbin/dmabuf-audit": (0o755, open(binary, "rb").read()),
        "etc/dmabuf-audit/policy": (0o644, open(src + "/packaging/policy", "rb").read()),
        "usr/share/dmabuf-audit/prometheus/dmabuf-audit.rules.yml":
            (0o644, open(src + "/packaging/dmabuf-audit.rules.yml", "rb").read())}
with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
    got = {}
    for m in tar.getmembers():
        if m.uid or m.gid:
            errors.append(f"{m.name} owned by {m.uid}:{m.gid}")
        if m.isfile():
            got[m.name] = (m.mode, tar.extractfile(m).read())
        elif not m.isdir():
            errors.append(f"{m.name}: neither a file nor a folder")
    if got.keys() != want.keys():
        errors.append(f"files {sorted(got)}, expected {sorted(want)}")
    for name in want.keys() & got.keys():
        if got[name][0] != want[name][0] or got[name][1] != want[name][1]:
            errors.append(f"{name}: mode {oct(got[name][0])} or content differs from the source")
    tar.extractall(rootfs)
if "statically linked" not in kind and "static-pie" not in kind:
    errors.append(f"the binary is not static: {kind.strip()}")
for e in errors:
    print("# " + e)
print(f"{len(layer)} bytes, {len(got)} files, {arch}")
sys.exit(1 if errors else 0)
EOF
}
out=$(check_layout 2>&1)
if [ $? -eq 0 ]; then
	ok "OCI layout: blobs match their digests, diff_id, platform; the layer is the static binary, policy and rules ($(tail -n 1 <<<"$out"))"
else
	not_ok "OCI layout: blobs match their digests, diff_id, platform; the layer is the static binary, policy and rules" "$out"
fi

# ---- reproducible: the same inputs, the same manifest digest and archive
arch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["platform"]["architecture"])' "$image/index.json")
version=$(sed -n 's/^VERSION := *//p' "$src/Makefile")
python3 "$src/packaging/build-image.py" "$bin" "$version" "$arch" "$work/again.oci" >/dev/null
if cmp -s "$image.tar" "$work/again.oci.tar" && cmp -s "$image/index.json" "$work/again.oci/index.json"; then
	ok "make image is reproducible: a second build is byte-identical ($(wc -c <"$image.tar") bytes)"
else
	not_ok "make image is reproducible: a second build is byte-identical"
fi
bad=
for f in "$src/packaging/policy" /bin/true; do
	python3 "$src/packaging/build-image.py" "$f" "$version" "$arch" "$work/bad.oci" \
		>"$work/bad.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && [ ! -e "$work/bad.oci.tar" ] || bad+="$f: exit $rc $(cat "$work/bad.out")"$'\n'
	why+=$(sed 's/^build-image: //' "$work/bad.out")$'\n'
done
if [ -z "$bad" ]; then
	ok "build-image refuses a file that is not ELF and a dynamic binary (exit 2, says why)"
else
	not_ok "build-image refuses a file that is not ELF and a dynamic binary" "$bad"
fi
echo "$why" | sed '/^$/d; s/^/# /'

# ---- the image runs: hooks --btf of a cached Debian kernel's BTF
btf=$(ls "$cache"/btf/7.3.*-amd64.btf 2>/dev/null | grep -v -- -rt- | head -n 1)
[ "$arch" = arm64 ] && btf=$(ls "$cache"/btf/7.3.*-arm64.btf 2>/dev/null | head -n 1)
# before make test-hooks-btf has fetched one: this machine's own kernel BTF
[ -z "$btf" ] && [ "$arch" = amd64 ] && [ -r /sys/kernel/btf/vmlinux ] && btf=/sys/kernel/btf/vmlinux
if [ -z "$btf" ]; then
	ok "# SKIP the image runs hooks --btf: no cached 7.3 BTF in $cache/btf (make test-hooks-btf fetches it)"
	ok "# SKIP podman run: no cached 7.3 BTF"
	tap_done
	exit
fi
"$bin" hooks --btf "$btf" >"$work/host.txt" 2>&1
host_rc=$?
sed -i "s#$btf#/btf#" "$work/host.txt"
cp "$btf" "$work/rootfs/btf"
if [ "$(uname -m)" = "$( [ "$arch" = arm64 ] && echo aarch64 || echo x86_64)" ]; then
	timeout 60 chroot "$work/rootfs" /usr/sbin/dmabuf-audit hooks --btf /btf >"$work/chroot.txt" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ $host_rc -eq 0 ] && cmp -s "$work/host.txt" "$work/chroot.txt" &&
		grep -q '^RULE  *ENFORCEABLE$' "$work/chroot.txt"; then
		ok "the image's root file system alone runs hooks --btf $(basename "$btf") (chroot), as on the host"
	else
		not_ok "the image's root file system alone runs hooks --btf (chroot), as on the host" \
			"exit $rc (host $host_rc)
$(diff "$work/host.txt" "$work/chroot.txt" | head -n 10)"
	fi
else
	ok "# SKIP chroot: a $arch image on $(uname -m)"
fi

# podman with its own storage (vfs: no overlay mount needed), cgroupfs, no network. Where the
# sandbox forbids raising limits, the container's nofile/nproc are set at or under ours.
podman_run() {
	timeout 120 podman --root "$work/podman/root" --runroot "$work/podman/run" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
		${PODMAN_RUNTIME:+--runtime "$PODMAN_RUNTIME"} run --rm --network none \
		--ulimit "nofile=$(ulimit -Sn):$(ulimit -Sn)" --ulimit "nproc=1024:1024" \
		-v "$btf:/btf:ro" "oci-archive:$image.tar" hooks --btf /btf
}
if ! command -v podman >/dev/null; then
	ok "# SKIP podman run: podman is not installed (make image-tests installs it)"
else
	# crun refuses hybrid cgroup v1/v2 hosts; runc (Debian's, the alternative podman takes)
	# runs there
	PODMAN_RUNTIME=
	[ -f /sys/fs/cgroup/cgroup.controllers ] || ! command -v runc >/dev/null || PODMAN_RUNTIME=runc
	podman_run >"$work/podman.txt" 2>"$work/podman.err"
	rc=$?
	if [ $rc -eq 0 ] && cmp -s "$work/host.txt" "$work/podman.txt"; then
		ok "podman run oci-archive:$(basename "$image").tar hooks --btf /btf prints what BIN prints on the host${PODMAN_RUNTIME:+ (runtime $PODMAN_RUNTIME)}"
	elif [ $rc -eq 126 ] || [ $rc -eq 125 ]; then
		ok "# SKIP podman run: podman cannot run containers here: $(grep -m1 Error "$work/podman.err")"
	else
		not_ok "podman run oci-archive: hooks --btf /btf prints what BIN prints on the host" \
			"exit $rc: $(tail -n 5 "$work/podman.err")
$(diff "$work/host.txt" "$work/podman.txt" | head -n 10)"
	fi
fi

# ---- the DaemonSet
out=$(python3 - "$manifest" "$bin" "$src" <<'EOF'
import re, subprocess, sys, yaml
manifest, binary, src = sys.argv[1:]
docs = list(yaml.safe_load_all(open(manifest)))
ds = next(d for d in docs if d["kind"] == "DaemonSet")
pod = ds["spec"]["template"]["spec"]
[c] = pod["containers"]
errors = []
args = c["args"]
help_text = subprocess.run([binary, "watch", "--help"], capture_output=True, text=True).stdout
for a in args:
    if a.startswith("-") and not re.search(r"(^|[ ,])" + re.escape(a) + r"\b", help_text):
        errors.append(f"{a} is not an option of watch --help")
if args[0] != "watch":
    errors.append(f"runs {args[0]}, not watch")
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
host = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
for path in ["/sys/kernel/btf", "/sys/kernel/debug", "/sys/kernel/tracing",
             "/var/lib/prometheus/node-exporter", "/run/systemd/journal/socket"]:
    if host.get(mounts.get(path)) != path:
        errors.append(f"{path} is not the node's {path}")
metrics = args[args.index("--metrics") + 1]
if not metrics.startswith("/var/lib/prometheus/node-exporter/") or not metrics.endswith(".prom"):
    errors.append(f"--metrics {metrics} is not a .prom file of the textfile directory")
unit = open(src + "/packaging/dmabuf-audit.service").read()
caps = set(re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split())
sc = c["securityContext"]
if {"CAP_" + x for x in sc["capabilities"]["add"]} != caps or sc["capabilities"]["drop"] != ["ALL"]:
    errors.append(f"capabilities {sc['capabilities']}, the unit has {sorted(caps)}")
if not pod.get("hostPID") or sc.get("privileged") or not sc.get("readOnlyRootFilesystem"):
    errors.append("hostPID, not privileged, read-only root: not as documented")
for e in errors:
    print("# " + e)
print(f"{len(args)} args, {len(mounts)} mounts, {len(caps)} capabilities")
sys.exit(1 if errors else 0)
EOF
)
if [ $? -eq 0 ]; then
	ok "DaemonSet: watch's own options, the node's BTF/debugfs/tracefs/metrics/journal mounts, the unit's capabilities ($(tail -n 1 <<<"$out"))"
else
	not_ok "DaemonSet: watch's own options, the node's mounts, the unit's capabilities" "$out"
fi
tap_done
