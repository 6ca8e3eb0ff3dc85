// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-cxx demo: an ordinary Type1 client's first steps, served by
 * vfio_iommu_cxx.  Opens a container, adds the edu device's group, selects
 * VFIO_TYPE1v2_IOMMU and shows, from the kernel's side, that our backend
 * (not vfio_iommu_type1) took the container and attached a real IOMMU domain.
 *   vfio_cxx_demo <iommu group number>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../../uapi/linux/vfio_cxx.h"

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

int main(int argc, char **argv)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];
	int container, group;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <iommu group>\n", argv[0]);
		return 2;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0) {
		perror("open");
		return 1;
	}
	printf("VFIO API version %d\n", ioctl(container, VFIO_GET_API_VERSION));
	printf("CHECK_EXTENSION: TYPE1v2=%d VFIO_CXX_IOMMU=%d\n",
	       ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU),
	       ioctl(container, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
	show("before VFIO_SET_IOMMU", "/sys/kernel/debug/vfio_iommu_cxx/stats");

	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("VFIO_GROUP_SET_CONTAINER / VFIO_SET_IOMMU");
		return 1;
	}
	ioctl(group, VFIO_GROUP_GET_STATUS, &st);
	printf("\nVFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU) ok; group %s flags:%s%s\n", argv[1],
	       st.flags & VFIO_GROUP_FLAGS_VIABLE ? " viable" : "",
	       st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET ? " container-set" : "");
	show("served by vfio_iommu_cxx", "/sys/kernel/debug/vfio_iommu_cxx/stats");
	show("module references", "/sys/module/vfio_iommu_cxx/refcnt");

	close(group);
	close(container);
	show("\nafter close", "/sys/kernel/debug/vfio_iommu_cxx/stats");
	return 0;
}
