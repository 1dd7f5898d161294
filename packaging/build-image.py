#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""packaging/build-image.py BIN VERSION ARCH OUT (make image)

An OCI image of dmabuf-audit, from scratch: one layer holding the static binary BIN, the
default policy and the alert rules, nothing else (no base image, no shell, no libc: the static
binary needs none). Written by hand per the OCI image spec (image-layout, manifest, config,
index) with tar, gzip, sha256 and JSON from Python's standard library, so that it builds with
no daemon, no user namespaces, no registry and no download; reproducible (every timestamp 0,
files in a fixed order). Podman, Docker (docker load of the archive), containerd (ctr import)
and skopeo read it.

OUT/        the image layout (oci-layout, index.json, blobs/sha256/...)
OUT.tar     the same as one archive: podman run oci-archive:OUT.tar, podman load -i OUT.tar

What the image holds and how to run it: docs/operations.md, "The container image".
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (path in the image, source, mode); the folders come before their files
FILES = [
    ("usr/sbin/dmabuf-audit", None, 0o755),  # None: BIN
    ("etc/dmabuf-audit/policy", os.path.join(HERE, "policy"), 0o644),
    ("usr/share/dmabuf-audit/prometheus/dmabuf-audit.rules.yml",
     os.path.join(HERE, "dmabuf-audit.rules.yml"), 0o644),
]
# where the DaemonSet mounts the node's textfile directory (packaging/k8s/)
METRICS_DIR = "/var/lib/prometheus/node-exporter"
OCI_ARCH = {"x86_64": "amd64", "amd64": "amd64", "x86": "amd64", "arm64": "arm64",
            "aarch64": "arm64"}


def tar_info(name, mode, size=0, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.size, ti.type = mode, size, kind
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = 0
    return ti


def layer_tar(bin_path):
    """the layer, uncompressed: folders, then files, in FILES order"""
    buf = io.BytesIO()
    dirs = []
    for path, _, _ in FILES:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    dirs.append(METRICS_DIR.lstrip("/"))
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(set(dirs), key=dirs.index):
            tar.addfile(tar_info(d + "/", 0o755, kind=tarfile.DIRTYPE))
        # /tmp: libbpf and the tool write nothing there, but a runtime may mount over it
        tar.addfile(tar_info("tmp/", 0o1777, kind=tarfile.DIRTYPE))
        for path, src, mode in FILES:
            with open(src or bin_path, "rb") as f:
                data = f.read()
            tar.addfile(tar_info(path, mode, len(data)), io.BytesIO(data))
    return buf.getvalue()


def write_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build(bin_path, version, arch, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    layer = layer_tar(bin_path)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=9) as z:
        z.write(layer)
    layer_digest, layer_size = write_blob(out, gz.getvalue())
    labels = {
        "org.opencontainers.image.title": "dmabuf-audit",
        "org.opencontainers.image.description":
            "audit the dma-buf revoke contract of the running Linux kernel (eBPF)",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": "GPL-2.0-only",
    }
    config = {
        "created": "1970-01-01T00:00:00Z",
        "architecture": arch,
        "os": "linux",
        "config": {
            "Entrypoint": ["/usr/sbin/dmabuf-audit"],
            "Cmd": ["watch", "--policy", "/etc/dmabuf-audit/policy",
                    "--metrics", METRICS_DIR + "/dmabuf-audit.prom"],
            "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "WorkingDir": "/",
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z",
                     "created_by": "packaging/build-image.py (from scratch)"}],
    }
    config_digest, config_size = write_blob(out, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": layer_size}],
        "annotations": labels,
    }
    manifest_digest, manifest_size = write_blob(out, canonical(manifest))
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": version},
        }],
    }
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(out, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    # the archive: the layout's files, sorted, timestamps 0
    with tarfile.open(out + ".tar", "w", format=tarfile.PAX_FORMAT) as tar:
        names = ["oci-layout", "index.json", "blobs/", "blobs/sha256/"] + sorted(
            "blobs/sha256/" + b for b in os.listdir(os.path.join(out, "blobs", "sha256")))
        for name in names:
            path = os.path.join(out, name)
            if name.endswith("/"):
                tar.addfile(tar_info(name, 0o755, kind=tarfile.DIRTYPE))
            else:
                with open(path, "rb") as f:
                    data = f.read()
                tar.addfile(tar_info(name, 0o644, len(data)), io.BytesIO(data))
    return manifest_digest


def interpreter(path):
    """the ELF's PT_INTERP (its dynamic loader), None for a static binary; ValueError when
    path is not a 64-bit ELF file"""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise ValueError("not a 64-bit ELF binary")
    order = "little" if elf[5] == 1 else "big"
    phoff = int.from_bytes(elf[0x20:0x28], order)
    phentsize = int.from_bytes(elf[0x36:0x38], order)
    for i in range(int.from_bytes(elf[0x38:0x3a], order)):
        ph = elf[phoff + i * phentsize:phoff + (i + 1) * phentsize]
        if int.from_bytes(ph[0:4], order) == 3:  # PT_INTERP
            off, size = int.from_bytes(ph[8:16], order), int.from_bytes(ph[32:40], order)
            return elf[off:off + size].rstrip(b"\0").decode(errors="replace")
    return None


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: packaging/build-image.py BIN VERSION ARCH OUT")
    bin_path, version, arch, out = sys.argv[1:]
    if arch not in OCI_ARCH:
        print(f"build-image: ARCH={arch}: only amd64 and arm64 images are built",
              file=sys.stderr)
        sys.exit(2)
    try:
        interp = interpreter(bin_path)
    except (OSError, ValueError) as e:
        print(f"build-image: {bin_path}: {e}", file=sys.stderr)
        sys.exit(2)
    if interp:
        # an image from scratch has no loader nor libraries: only the static build runs in it
        print(f"build-image: {bin_path} needs {interp}: the image takes the static build"
              " (make, build/dmabuf-audit)", file=sys.stderr)
        sys.exit(2)
    digest = build(bin_path, version, OCI_ARCH[arch], out)
    print(f"build-image: {out}.tar (OCI image {digest}, {OCI_ARCH[arch]})")


if __name__ == "__main__":
    main()
