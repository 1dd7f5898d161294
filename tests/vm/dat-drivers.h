/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real drivers' buffers, for the guest programs that exercise them
 * (tests/vm/dat-prime.c, tests/soak/dat-soak.c): a udmabuf over a sealed
 * memfd, a buffer of the system dma-heap, and vgem's DRM device to import
 * them.  Static programs for the initramfs, so no libdrm: the few DRM uAPI
 * structures used are written out here (stable ABI).  The includer
 * defines _GNU_SOURCE (memfd_create) before its first include.
 */
#ifndef DAT_DRIVERS_H
#define DAT_DRIVERS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define BUF_SIZE (4 * 4096)

struct dat_drm_version {
	int version_major, version_minor, version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct dat_drm_prime_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

struct dat_drm_gem_close {
	uint32_t handle;
	uint32_t pad;
};

#define DAT_DRM_IOCTL_VERSION _IOWR('d', 0x00, struct dat_drm_version)
#define DAT_DRM_IOCTL_GEM_CLOSE _IOW('d', 0x09, struct dat_drm_gem_close)
#define DAT_DRM_IOCTL_PRIME_FD_TO_HANDLE _IOWR('d', 0x2e, struct dat_drm_prime_handle)

/* the first DRM card whose driver is vgem; -1 with errno ENODEV if none */
static int open_vgem(void)
{
	char path[64], name[32];
	struct dat_drm_version v;
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DAT_DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	errno = ENODEV;
	return -1;
}

/* a BUF_SIZE udmabuf over a memfd called memfd_name; its fd or -1 */
static int udmabuf_create(const char *memfd_name)
{
	struct udmabuf_create create = { 0 };
	int memfd, dev, fd;

	memfd = memfd_create(memfd_name, MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -1;
	if (ftruncate(memfd, BUF_SIZE) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(memfd);
		return -1;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		close(memfd);
		return -1;
	}
	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.size = BUF_SIZE;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	close(dev);
	close(memfd);
	return fd;
}

/* a BUF_SIZE buffer of the system dma-heap; its fd or -1 */
static int heap_create(void)
{
	struct dma_heap_allocation_data alloc = { 0 };
	int heap;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -1;
	alloc.len = BUF_SIZE;
	alloc.fd_flags = O_RDWR | O_CLOEXEC;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc)) {
		close(heap);
		return -1;
	}
	close(heap);
	return (int)alloc.fd;
}

#endif /* DAT_DRIVERS_H */
