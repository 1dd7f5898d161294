// SPDX-License-Identifier: GPL-2.0
/*
 * dat-vfio [--status FILE] FLOW BDF
 *
 * The real VFIO exporter under dmabuf-audit (tests/vfio, docs/testing.md):
 * open the PCI device BDF, bound to vfio-pci, through the group/container
 * path (type1v2), export 64 KiB of its BAR 2 as a dma-buf with
 * VFIO_DEVICE_FEATURE_DMA_BUF, import it with the test module's importer
 * (tests/kmod/dat_importer.c: iommufd-like, plus a map), and drive one of
 * VFIO's revoke paths:
 *
 *   memory-bit      clear PCI_COMMAND_MEMORY through the config region
 *                   (revoke), set it again (un-revoke), map again
 *   reset           VFIO_DEVICE_RESET (revoke then un-revoke), map again
 *   close-dmabuf    the importer lets go, the dma-buf is closed, then the
 *                   device: no revoke reaches the buffer
 *   close-device    the device is closed while imported: the cleanup revokes
 *   pending-fence   the importer's BOOKKEEP fence (600 ms) is pending when
 *                   the memory bit is cleared: VFIO's revoke waits for it
 *   refuse          a non-revocable importer (peer-to-peer, no callback) and
 *                   a static one are refused (-EOPNOTSUPP)
 *   accept-nonrevocable  (for the patched VFIO of tests/vfio/patches) a
 *                   non-revocable importer attaches and pins; the memory
 *                   bit is cleared: the revoke reaches it
 *   iommufd         the real iommufd (built out of tree, tests/vm/build-iommufd.sh)
 *                   through the device cdev: bind to /dev/iommu, map the
 *                   dma-buf into an IOAS (IOMMU_IOAS_MAP_FILE: iommufd
 *                   attaches, pins, takes the ranges through
 *                   vfio_pci_dma_buf_iommufd_map), revoke and un-revoke with
 *                   the memory bit, unmap the IOAS (unpin, detach)
 *
 * Writes "ok ino N revoke_ms M" (N = the dma-buf's inode, M = how long the
 * revoking call took) to FILE, or "FAIL why".  Exit 0 on success, 1 on
 * failure.  Built static for the initramfs; the VFIO uAPI of the dma-buf
 * feature (7.1+) is declared here, the build host's headers are older.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dat-vfio-uapi.h"

struct dat_vfio {
	int container, group, dev;
	uint64_t config; /* offset of the config region in the device fd */
	int dmabuf;
	ino_t ino;
	const char *bdf;
};

static const char *status_path;
static long revoke_ms = -1;

static void finish(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s\n", msg);
	if (status_path) {
		f = fopen(status_path, "w");
		if (f) {
			fprintf(f, "%s\n", msg);
			fclose(f);
		}
	}
	exit(strncmp(msg, "ok", 2) ? 1 : 0);
}

#define fail(...) finish("FAIL " __VA_ARGS__)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void config_region(struct dat_vfio *v)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(v->dev, VFIO_DEVICE_GET_REGION_INFO, &reg))
		fail("config region info: %s", strerror(errno));
	v->config = reg.offset;
}

static void vfio_open(struct dat_vfio *v, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	v->bdf = bdf;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		fail("%s: no IOMMU group: %s", bdf, strerror(errno));
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->container < 0 || v->group < 0)
		fail("open /dev/vfio/vfio or %s: %s", path, strerror(errno));
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		fail("unexpected VFIO API version");
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		fail("group %s is not viable", path);
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		fail("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		fail("VFIO_SET_IOMMU type1v2: %s", strerror(errno));
	v->dev = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->dev < 0)
		fail("VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
	config_region(v);
}

/* the device cdev (/dev/vfio/devices/vfioN) bound to a new iommufd: returns the iommufd */
static int vfio_open_cdev(struct dat_vfio *v, const char *bdf)
{
	struct dat_bind_iommufd bind = { .argsz = sizeof(bind) };
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;

	v->bdf = bdf;
	v->container = v->group = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		fail("%s has no VFIO device cdev (%s): %s", bdf, path, strerror(errno));
	while ((d = readdir(dir)) && strncmp(d->d_name, "vfio", 4))
		;
	if (!d)
		fail("no vfioN in %s", path);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->d_name);
	closedir(dir);
	v->dev = open(path, O_RDWR | O_CLOEXEC);
	bind.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (v->dev < 0 || bind.iommufd < 0)
		fail("open %s or /dev/iommu: %s", path, strerror(errno));
	if (ioctl(v->dev, DAT_VFIO_DEVICE_BIND_IOMMUFD, &bind))
		fail("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
	config_region(v);
	return bind.iommufd;
}

static uint16_t command_get(struct dat_vfio *v)
{
	uint16_t cmd;

	if (pread(v->dev, &cmd, sizeof(cmd), (off_t)(v->config + PCI_COMMAND)) != sizeof(cmd))
		fail("read PCI_COMMAND: %s", strerror(errno));
	return cmd;
}

/* set or clear the memory bit; returns how long the write took (the revoke) */
static long memory_bit(struct dat_vfio *v, int on)
{
	uint16_t cmd = command_get(v);
	long t0 = now_ms();

	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	if (pwrite(v->dev, &cmd, sizeof(cmd), (off_t)(v->config + PCI_COMMAND)) != sizeof(cmd))
		fail("write PCI_COMMAND: %s", strerror(errno));
	return now_ms() - t0;
}

static void export_dmabuf(struct dat_vfio *v)
{
	struct dat_feature_dma_buf f = {
		.hdr = { .argsz = sizeof(f), .flags = VFIO_DEVICE_FEATURE_GET | DAT_FEATURE_DMA_BUF },
		.region_index = DAT_BAR,
		.open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1,
		.ranges = { { 0, DAT_DMABUF_LEN } },
	};
	struct stat st;

	if (!(command_get(v) & PCI_COMMAND_MEMORY))
		memory_bit(v, 1);
	v->dmabuf = ioctl(v->dev, VFIO_DEVICE_FEATURE, &f);
	if (v->dmabuf < 0)
		fail("VFIO_DEVICE_FEATURE_DMA_BUF: %s", strerror(errno));
	if (fstat(v->dmabuf, &st))
		fail("fstat dma-buf: %s", strerror(errno));
	v->ino = st.st_ino;
}

/* one importer command; expect_err 0 = must succeed, else that errno */
static void imp_cmd(int ctl, int expect_err, const char *fmt, ...)
{
	char line[96];
	va_list ap;
	ssize_t n;
	int err;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = write(ctl, line, strlen(line));
	err = n < 0 ? errno : 0;
	if (err != expect_err)
		fail("importer '%s': %s, expected %s", line, err ? strerror(err) : "success",
		     expect_err ? strerror(expect_err) : "success");
}

/* "invalidations N revoked R" of the importer */
static void imp_state(int ctl, unsigned int *invalidations, int *revoked)
{
	char text[64] = "";

	if (pread(ctl, text, sizeof(text) - 1, 0) < 0 ||
	    sscanf(text, "invalidations %u revoked %d", invalidations, revoked) != 2)
		fail("importer state unreadable: '%s'", text);
}

static int imp_open(void)
{
	int ctl = open(CTL, O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		fail("open %s: %s (dat_importer.ko loaded?)", CTL, strerror(errno));
	return ctl;
}

/* attach, pin and map, as iommufd imports (plus the map) */
static int imp_import(struct dat_vfio *v)
{
	int ctl = imp_open();

	imp_cmd(ctl, 0, "attach %d %s", v->dmabuf, v->bdf);
	imp_cmd(ctl, 0, "pin");
	imp_cmd(ctl, 0, "map");
	return ctl;
}

static void imp_expect(int ctl, unsigned int want_inval, int want_revoked, const char *when)
{
	unsigned int inval;
	int revoked;

	imp_state(ctl, &inval, &revoked);
	if (inval != want_inval || revoked != want_revoked)
		fail("%s: importer saw %u invalidations (revoked %d), expected %u (revoked %d)",
		     when, inval, revoked, want_inval, want_revoked);
}

/* the importer's teardown: unmap, unpin, detach; then the dma-buf and the device */
static void teardown(struct dat_vfio *v, int ctl, int mapped)
{
	if (mapped)
		imp_cmd(ctl, 0, "unmap");
	imp_cmd(ctl, 0, "unpin");
	imp_cmd(ctl, 0, "detach");
	close(ctl);
	close(v->dmabuf);
	close(v->dev);
}

static void flow_revoke(struct dat_vfio *v, int reset, int fence)
{
	int ctl = imp_import(v);

	if (fence)
		imp_cmd(ctl, 0, "fence %d", DAT_FENCE_MS);
	if (reset) {
		long t0 = now_ms();

		if (ioctl(v->dev, VFIO_DEVICE_RESET))
			fail("VFIO_DEVICE_RESET: %s", strerror(errno));
		revoke_ms = now_ms() - t0;
		/* move(true) then move(false): two invalidates */
		imp_expect(ctl, 2, 1, "after VFIO_DEVICE_RESET");
	} else {
		revoke_ms = memory_bit(v, 0);
		imp_expect(ctl, 1, 1, "after clearing the memory bit");
		memory_bit(v, 1);
		imp_expect(ctl, 2, 1, "after setting the memory bit");
	}
	if (fence && revoke_ms < DAT_FENCE_MS * 8 / 10)
		fail("the revoke took %ld ms with a %d ms fence pending: VFIO did not wait",
		     revoke_ms, DAT_FENCE_MS);
	imp_cmd(ctl, 0, "map"); /* un-revoked: the importer maps again */
	teardown(v, ctl, 1);
}

static void flow_close_dmabuf(struct dat_vfio *v)
{
	int ctl = imp_import(v);

	teardown(v, ctl, 1);
	close(v->group);
	close(v->container);
}

static void flow_close_device(struct dat_vfio *v)
{
	int ctl = imp_import(v);
	long t0 = now_ms();

	close(v->dev); /* vfio_pci_core_close_device -> vfio_pci_dma_buf_cleanup */
	revoke_ms = now_ms() - t0;
	imp_expect(ctl, 1, 1, "after closing the device");
	imp_cmd(ctl, 0, "unpin");
	imp_cmd(ctl, 0, "detach");
	close(ctl);
	close(v->dmabuf);
}

static void flow_refuse(struct dat_vfio *v)
{
	int ctl = imp_open();

	imp_cmd(ctl, EOPNOTSUPP, "attach-nocb %d %s", v->dmabuf, v->bdf);
	imp_cmd(ctl, EOPNOTSUPP, "attach-static %d %s", v->dmabuf, v->bdf);
	close(ctl);
	close(v->dmabuf);
	close(v->dev);
}

/* the real iommufd imports the dma-buf into an IOAS, VFIO revokes and un-revokes */
static void flow_iommufd(struct dat_vfio *v, int iommufd)
{
	struct dat_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct dat_ioas_map_file map = {
		.size = sizeof(map),
		.flags = DAT_IOAS_MAP_FIXED_IOVA | DAT_IOAS_MAP_READABLE | DAT_IOAS_MAP_WRITEABLE,
		.fd = v->dmabuf,
		.length = DAT_DMABUF_LEN,
		.iova = DAT_IOVA,
	};
	struct dat_ioas_unmap unmap = { .size = sizeof(unmap), .iova = DAT_IOVA,
					.length = DAT_DMABUF_LEN };

	if (ioctl(iommufd, DAT_IOMMU_IOAS_ALLOC, &ioas))
		fail("IOMMU_IOAS_ALLOC: %s", strerror(errno));
	map.ioas_id = unmap.ioas_id = ioas.out_ioas_id;
	if (ioctl(iommufd, DAT_IOMMU_IOAS_MAP_FILE, &map))
		fail("IOMMU_IOAS_MAP_FILE of the dma-buf: %s", strerror(errno));
	revoke_ms = memory_bit(v, 0);
	memory_bit(v, 1);
	/* iommufd does not map again by itself: the IOAS mapping stays revoked */
	if (ioctl(iommufd, DAT_IOMMU_IOAS_UNMAP, &unmap))
		fail("IOMMU_IOAS_UNMAP: %s", strerror(errno));
	close(v->dmabuf);
	close(v->dev);
	close(iommufd);
}

/* VFIO without its revocable check accepts an importer it cannot revoke */
static void flow_accept_nonrevocable(struct dat_vfio *v)
{
	int ctl = imp_open();

	imp_cmd(ctl, 0, "attach-nocb %d %s", v->dmabuf, v->bdf);
	imp_cmd(ctl, 0, "pin");
	revoke_ms = memory_bit(v, 0);
	imp_cmd(ctl, 0, "unpin");
	imp_cmd(ctl, 0, "detach");
	close(ctl);
	close(v->dmabuf);
	close(v->dev);
}

int main(int argc, char **argv)
{
	struct dat_vfio v = { 0 };
	const char *flow, *bdf;

	if (argc > 2 && !strcmp(argv[1], "--status")) {
		status_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: dat-vfio [--status FILE] FLOW BDF\n");
		return 2;
	}
	flow = argv[1];
	bdf = argv[2];
	if (!strcmp(flow, "iommufd")) {
		int iommufd = vfio_open_cdev(&v, bdf);

		export_dmabuf(&v);
		flow_iommufd(&v, iommufd);
		finish("ok ino %lu revoke_ms %ld", (unsigned long)v.ino, revoke_ms);
	}
	vfio_open(&v, bdf);
	export_dmabuf(&v);
	if (!strcmp(flow, "memory-bit"))
		flow_revoke(&v, 0, 0);
	else if (!strcmp(flow, "reset"))
		flow_revoke(&v, 1, 0);
	else if (!strcmp(flow, "pending-fence"))
		flow_revoke(&v, 0, 1);
	else if (!strcmp(flow, "close-dmabuf"))
		flow_close_dmabuf(&v);
	else if (!strcmp(flow, "close-device"))
		flow_close_device(&v);
	else if (!strcmp(flow, "refuse"))
		flow_refuse(&v);
	else if (!strcmp(flow, "accept-nonrevocable"))
		flow_accept_nonrevocable(&v);
	else
		fail("unknown flow %s", flow);
	finish("ok ino %lu revoke_ms %ld", (unsigned long)v.ino, revoke_ms);
	return 0;
}
