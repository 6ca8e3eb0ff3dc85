// SPDX-License-Identifier: GPL-2.0
/*
 * The packaged module's smoke test (selftests/vm/pkg-guest.sh): an ordinary
 * Type1v2 client.  Opens /dev/vfio/vfio, adds IOMMU group <group> (QEMU's
 * edu bound to vfio-pci), selects VFIO_TYPE1v2_IOMMU, maps <kib> KiB of
 * anonymous memory at IOVA 1 MiB, prints "ready <pid>" and waits until
 * stdin is closed (or a line is read); then unmaps, checks that the unmap
 * covered the whole mapping, and closes everything.
 *   pkg-smoke <group> [<kib>]
 * Exit status 0 when every step worked; otherwise the failing step is
 * printed on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

static int fail(const char *what)
{
	fprintf(stderr, "pkg-smoke: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char path[64], line[16];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int container, group;
	size_t size;
	void *buf;

	if (argc < 2) {
		fprintf(stderr, "usage: pkg-smoke <group> [<kib>]\n");
		return 2;
	}
	size = (argc > 2 ? strtoul(argv[2], NULL, 0) : 64) * 1024;
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail("VFIO_GET_API_VERSION");
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		return fail("VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU)");
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return fail("VFIO_GROUP_GET_STATUS (viable)");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)");

	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	memset(buf, 0x5a, size);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = 1 << 20,
		.size = size,
	};
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
		return fail("VFIO_IOMMU_MAP_DMA");

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) && ferror(stdin))
		return fail("reading stdin");

	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = 1 << 20,
		.size = size,
	};
	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return fail("VFIO_IOMMU_UNMAP_DMA");
	if (unmap.size != size) {
		fprintf(stderr, "pkg-smoke: unmapped %llu bytes, mapped %zu\n",
			(unsigned long long)unmap.size, size);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_UNSET_CONTAINER))
		return fail("VFIO_GROUP_UNSET_CONTAINER");
	close(group);
	close(container);
	munmap(buf, size);
	printf("done\n");
	return 0;
}
