// SPDX-License-Identifier: GPL-2.0
/*
 * ynl_test's container holder: a container served by vfio_iommu_cxx with
 * one DMA mapping, for the kernel's ynl CLI to find.
 *
 *   ynl_holder <iommu group number> hold    set up, print "ready <pid>
 *                                           <iova> <size>", keep it until
 *                                           stdin closes, then exit
 *   ynl_holder <iommu group number> brief   set up and exit at once (one
 *                                           container-created and one
 *                                           container-released event)
 * Exit status: 0, or 1 with the failing step on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../../uapi/linux/vfio_cxx.h"

#define IOVA 0x100000ULL
#define SIZE 0x2000ULL

static int fail(const char *what)
{
	fprintf(stderr, "ynl_holder: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	char path[64], c;
	int container, group;
	void *buf;

	if (argc != 3 || (strcmp(argv[2], "hold") && strcmp(argv[2], "brief"))) {
		fprintf(stderr, "usage: ynl_holder <group> hold|brief\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	group = open(path, O_RDWR);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return fail("group not viable");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU))
		return fail("VFIO_SET_IOMMU VFIO_CXX_IOMMU");
	buf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	memset(buf, 0x5a, SIZE);
	map.vaddr = (unsigned long)buf;
	map.iova = IOVA;
	map.size = SIZE;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
		return fail("VFIO_IOMMU_MAP_DMA");
	if (!strcmp(argv[2], "brief"))
		return 0;
	printf("ready %d %llu %llu\n", getpid(), IOVA, SIZE);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
