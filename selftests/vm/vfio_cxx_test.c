// SPDX-License-Identifier: GPL-2.0
/*
 * VM selftests of vfio_iommu_cxx as a VFIO IOMMU backend (issue 2).
 *
 * Runs in a virtme-ng guest with QEMU's edu device behind an emulated Intel
 * IOMMU, bound to vfio-pci (selftests/vm/guest-run.sh sets that up and
 * passes VFIO_CXX_GROUP=<iommu group number>).  Uses only the VFIO user API
 * plus our debugfs stats file and module parameter, so each assertion is
 * about what the kernel really did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#define MODNAME "vfio_iommu_cxx"
#define REFCNT "/sys/module/vfio_iommu_cxx/refcnt"


static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return strtol(buf, NULL, 10);
}


FIXTURE(vfio) {
	int container;
	int group;
	long opened0;
	long live0;
};

FIXTURE_SETUP(vfio)
{
	int n = edu_group_number();

	self->container = -1;
	self->group = -1;
	ASSERT_LE(0, n) TH_LOG("VFIO_CXX_GROUP is not set");
	ASSERT_EQ(0, write_str(PARAM_CLAIM, "1"));
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = group_open(n);
	ASSERT_LE(0, self->group) TH_LOG("open /dev/vfio/%d: %s", n, strerror(errno));
	self->opened0 = stat_get("containers_opened");
	self->live0 = stat_get("containers_live");
	ASSERT_LE(0, self->opened0) TH_LOG("cannot read " STATS);
}

FIXTURE_TEARDOWN(vfio)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	write_str(PARAM_CLAIM, "1");
}

TEST_F(vfio, api_version)
{
	ASSERT_EQ(VFIO_API_VERSION, ioctl(self->container, VFIO_GET_API_VERSION));
}

/* Before VFIO_SET_IOMMU the core asks every registered backend. */
TEST_F(vfio, check_extension_unset_container)
{
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	ASSERT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, 0x7fff0000UL));
}

/* Once set to our backend, only our answers count. */
TEST_F(vfio, check_extension_our_container)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	/* No emulated (mdev) group: vaddr updates are safe. */
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
}

TEST_F(vfio, set_iommu_private_id_served_by_us)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long refcnt0 = read_long(REFCNT);

	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	EXPECT_EQ(self->opened0 + 1, stat_get("containers_opened"));
	EXPECT_EQ(self->live0 + 1, stat_get("containers_live"));
	EXPECT_EQ(1, stat_get("groups_attached"));
	/* The edu group got a real paging domain. */
	EXPECT_EQ(1, stat_get("domains_live"));
	EXPECT_LT(refcnt0, read_long(REFCNT));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &st));
	EXPECT_EQ((__u32)(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET), st.flags);
	/* A second SET_IOMMU on a set container is refused by the VFIO core. */
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(self->opened0 + 1, stat_get("containers_opened"));
}

TEST_F(vfio, set_iommu_type1v2_served_by_us)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(self->opened0 + 1, stat_get("containers_opened"));
	EXPECT_EQ(self->live0 + 1, stat_get("containers_live"));
	EXPECT_EQ(1, stat_get("domains_live"));
}

/* claim_type1=0: our CHECK_EXTENSION says no, so VFIO falls through to type1. */
TEST_F(vfio, claim_type1_off_falls_through_to_type1)
{
	ASSERT_EQ(0, write_str(PARAM_CLAIM, "0"));
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		TH_LOG("vfio_iommu_type1 must be loaded: %s", strerror(errno));
	EXPECT_EQ(self->opened0, stat_get("containers_opened"));
	EXPECT_EQ(0, stat_get("domains_live"));
}

TEST_F(vfio, set_iommu_unknown_type_refused)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU, 0x7fff0000UL));
	EXPECT_EQ(self->opened0, stat_get("containers_opened"));
	EXPECT_EQ(0, stat_get("domains_live"));
}

TEST_F(vfio, unknown_ioctl_enotty)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	EXPECT_EQ(-1, ioctl(self->container, _IO(VFIO_TYPE, VFIO_BASE + 63)));
	EXPECT_EQ(ENOTTY, errno);
}

/* The module cannot go away while a container uses it; closing frees all. */
TEST_F(vfio, module_pinned_while_container_lives)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	EXPECT_EQ(-1, syscall(SYS_delete_module, MODNAME, O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);

	close(self->group);
	self->group = -1;
	close(self->container);
	self->container = -1;
	EXPECT_EQ(self->live0, stat_get("containers_live"));
	EXPECT_EQ(0, stat_get("groups_attached"));
	EXPECT_EQ(0, stat_get("domains_live"));
}

/* Unsetting the group detaches it and frees its domain, container stays. */
TEST_F(vfio, unset_container_detaches_group)
{
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	ASSERT_EQ(1, stat_get("domains_live"));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(0, stat_get("groups_attached"));
	EXPECT_EQ(0, stat_get("domains_live"));
	/* The last group leaving also releases the container (VFIO core). */
	EXPECT_EQ(self->live0, stat_get("containers_live"));
}

/* Behaviour 2 and 40: MAP pins the whole range at once, close gives it back. */
TEST_F(vfio, map_pins_in_our_backend_close_releases)
{
	const size_t sz = 2 << 20;
	char *buf = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)buf, .iova = 0x400000, .size = sz,
	};

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(1, stat_get("dmas_live"));
	EXPECT_EQ((long)(sz >> 12), stat_get("pages_pinned"));

	close(self->group);
	self->group = -1;
	close(self->container);
	self->container = -1;
	EXPECT_EQ(0, stat_get("dmas_live"));
	EXPECT_EQ(0, stat_get("pages_pinned"));
	EXPECT_EQ(0, stat_get("domains_live"));
	munmap(buf, sz);
}

/*
 * Behaviour 6: a VM_PFNMAP mapping (here the edu BAR, mmapped through
 * vfio-pci) is mapped into the IOMMU (peer-to-peer) without a pin or a
 * locked_vm charge.
 */
TEST_F(vfio, pfnmap_bar_mapped_not_pinned_not_charged)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x800000,
	};
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap), .iova = 0x800000 };
	long lck0 = vmlck_kb();
	void *bar;
	int dev;

	ASSERT_EQ(0, set_container(self->group, self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	dev = edu_device_fd(self->group);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg));
	ASSERT_NE(0u, reg.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, reg.offset);
	ASSERT_NE(MAP_FAILED, bar);
	/* Touch it so the PFN exists (type1 would fault it in too). */
	(void)*(volatile unsigned int *)bar;

	map.vaddr = (unsigned long)bar;
	map.size = reg.size;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(lck0, vmlck_kb());
	EXPECT_EQ(0, stat_get("pages_pinned"));
	EXPECT_EQ(1, stat_get("dmas_live"));
	unmap.size = reg.size;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(reg.size, unmap.size);
	EXPECT_EQ(lck0, vmlck_kb());
	EXPECT_EQ(0, stat_get("dmas_live"));
	munmap(bar, reg.size);
	close(dev);
}

TEST_HARNESS_MAIN
