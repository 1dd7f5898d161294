/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO and iommufd uAPI the real-driver programs use (tests/vfio/dat-vfio.c,
 * tests/storm/dat-storm.c): the dma-buf feature of VFIO (7.1+), the device cdev
 * bind and iommufd's IOAS calls (7.x), declared here because the build host's
 * headers are older.  Static programs for the initramfs; the includer includes
 * <linux/vfio.h> and <stdint.h> first.
 */
#ifndef DAT_VFIO_UAPI_H
#define DAT_VFIO_UAPI_H

#define DAT_FEATURE_DMA_BUF 11
#define DAT_BAR 2
#define DAT_DMABUF_LEN (64 * 1024)
#define DAT_FENCE_MS 600
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define CTL "/sys/kernel/debug/dat_importer/ctl"
#define DAT_IOVA (1ull << 20)

/* the iommufd and VFIO cdev uAPI (7.x), declared here like the dma-buf feature */
#define DAT_IOMMUFD_TYPE ';'
#define DAT_IOMMU_IOAS_ALLOC _IO(DAT_IOMMUFD_TYPE, 0x81)
#define DAT_IOMMU_IOAS_UNMAP _IO(DAT_IOMMUFD_TYPE, 0x86)
#define DAT_IOMMU_IOAS_MAP_FILE _IO(DAT_IOMMUFD_TYPE, 0x8f)
#define DAT_IOAS_MAP_FIXED_IOVA (1 << 0)
#define DAT_IOAS_MAP_WRITEABLE (1 << 1)
#define DAT_IOAS_MAP_READABLE (1 << 2)
#define DAT_VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct dat_ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};

struct dat_ioas_map_file {
	uint32_t size, flags, ioas_id;
	int32_t fd;
	uint64_t start, length, iova;
};

struct dat_ioas_unmap {
	uint32_t size, ioas_id;
	uint64_t iova, length;
};

struct dat_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
	uint64_t token_uuid_ptr;
};

struct dat_dma_range {
	uint64_t offset;
	uint64_t length;
};

struct dat_feature_dma_buf {
	struct vfio_device_feature hdr;
	uint32_t region_index;
	uint32_t open_flags;
	uint32_t flags;
	uint32_t nr_ranges;
	struct dat_dma_range ranges[1];
};

#endif /* DAT_VFIO_UAPI_H */
