// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-cxx demo: an ordinary Type1 client doing real device DMA through
 * vfio_iommu_cxx.
 *
 * Opens a container, adds the group of QEMU's edu device, selects
 * VFIO_TYPE1v2_IOMMU (served by our backend, which the demo proves from the
 * kernel's side), maps a user buffer at an IOVA, and has the edu DMA engine
 * copy RAM -> device -> RAM through the emulated Intel IOMMU.  Then it
 * unmaps the buffer and shows that a DMA to the old IOVA no longer reaches
 * it.
 *   vfio_cxx_demo <iommu group number> <pci address>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../../uapi/linux/vfio_cxx.h"
#include "../../selftests/vm/vm_util.h"

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000ULL
/* edu's range check wants the transfer to end strictly inside its 4 KiB buffer. */
#define XFER		2048

static int dev_fd;
static uint64_t bar0, cfg;

static void show(const char *title, const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	printf("  %s (%s):\n", title, path);
	if (!f) {
		printf("    (unreadable: %s)\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("    %s", line);
	fclose(f);
}

static void wr64(uint64_t off, uint64_t v)
{
	if (pwrite(dev_fd, &v, 8, bar0 + off) != 8)
		perror("pwrite bar0");
}

static uint64_t rd64(uint64_t off)
{
	uint64_t v = 0;

	if (pread(dev_fd, &v, 8, bar0 + off) != 8)
		perror("pread bar0");
	return v;
}

/* One edu DMA of n bytes; returns 0 once the engine is idle again. */
static int edu_dma(uint64_t src, uint64_t dst, uint64_t n, int to_ram)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_CNT, n);
	wr64(EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	for (i = 0; i < 5000; i++) {
		if (!(rd64(EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}


int main(int argc, char **argv)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	const uint64_t iova = 0x100000, iova2 = 0x200000, sz = 4096;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	unsigned char *a, *b;
	uint16_t cmd;
	char path[64];
	int container, group, i, ok;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <iommu group> <pci address>\n", argv[0]);
		return 2;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0) {
		perror("open");
		return 1;
	}
	printf("CHECK_EXTENSION: TYPE1v2=%d VFIO_CXX_IOMMU=%d\n",
	       ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU),
	       ioctl(container, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("VFIO_GROUP_SET_CONTAINER / VFIO_SET_IOMMU");
		return 1;
	}
	printf("VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU) ok\n");
	show("served by vfio_iommu_cxx", "/sys/kernel/debug/vfio_iommu_cxx/stats");

	dev_fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (dev_fd < 0 || ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		perror("device fd / BAR0");
		return 1;
	}
	bar0 = reg.offset;
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &reg);
	cfg = reg.offset;
	pread(dev_fd, &cmd, 2, cfg + PCI_COMMAND);
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	pwrite(dev_fd, &cmd, 2, cfg + PCI_COMMAND);

	a = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < (int)sz; i++)
		a[i] = (unsigned char)(i * 7 + 3);
	memset(b, 0, sz);

	printf("\nVmLck before mapping: %ld kB\n", vmlck_kb());
	map.vaddr = (uintptr_t)a;
	map.iova = iova;
	map.size = sz;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
		perror("MAP_DMA a");
	map.vaddr = (uintptr_t)b;
	map.iova = iova2;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
		perror("MAP_DMA b");
	printf("mapped buffer A at IOVA %#llx and buffer B at IOVA %#llx; VmLck %ld kB\n",
	       (unsigned long long)iova, (unsigned long long)iova2, vmlck_kb());

	ok = !edu_dma(iova, EDU_BUF, XFER, 0) && !edu_dma(EDU_BUF, iova2, XFER, 1);
	printf("edu DMA: A (IOVA %#llx) -> device -> B (IOVA %#llx): %s\n",
	       (unsigned long long)iova, (unsigned long long)iova2,
	       ok && !memcmp(a, b, XFER) ? "bytes match" : "MISMATCH");
	ok = ok && !memcmp(a, b, XFER);

	unmap.iova = iova2;
	unmap.size = sz;
	ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	memset(b, 0x5a, sz);
	edu_dma(EDU_BUF, iova2, XFER, 1);
	printf("after UNMAP of B: a DMA to IOVA %#llx %s buffer B (IOMMU fault expected in dmesg)\n",
	       (unsigned long long)iova2, b[0] == 0x5a && b[XFER - 1] == 0x5a ? "no longer reaches" : "STILL REACHES");
	ok = ok && b[0] == 0x5a && b[XFER - 1] == 0x5a;
	show("while mapped", "/sys/kernel/debug/vfio_iommu_cxx/stats");

	close(dev_fd);
	close(group);
	close(container);
	printf("VmLck after close: %ld kB\n", vmlck_kb());
	show("after close", "/sys/kernel/debug/vfio_iommu_cxx/stats");
	return ok ? 0 : 1;
}
