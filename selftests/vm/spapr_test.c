// SPDX-License-Identifier: GPL-2.0
/*
 * VM selftests of the sPAPR TCE v2 user API (VFIO_SPAPR_TCE_v2_IOMMU) that
 * vfio_iommu_cxx serves on x86 paging domains with its spapr parameter
 * (issue 14; Documentation/uapi.rst, "sPAPR TCE v2").  The ioctls are
 * spoken directly, as QEMU's pseries machine and DPDK do, against the edu
 * groups of the test VM, and DMA is checked with the edu's engine.
 *
 * No in-tree backend serves this API on x86, so there is no type1 variant:
 * the expected errnos are those of drivers/vfio/vfio_iommu_spapr_tce.c
 * (6.12), except where Documentation/differences.rst says why not.
 * Behaviour numbers ("b41") refer to Documentation/requirements.rst; seed
 * 003 is the sPAPR multi-group thread.
 *
 * The suite turns the spapr parameter on for its containers and off again
 * (the module stays loaded); one test also unloads vfio_iommu_type1 for a
 * moment, to show what QEMU's type probe finds then.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define PARAM_SPAPR MODDIR "/parameters/spapr"
#define GIB (1UL << 30)
/* What upstream charges for a 1 GiB window of 4K TCEs with levels 2 (and the default 2 GiB one, levels 1). */
#define TABLE_1G_L2 1026L
#define TABLE_2G_L1 2048L

static int sp_reg(int c, unsigned long cmd, void *vaddr, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)vaddr, .size = size,
	};

	return ioctl(c, cmd, &r) ? -errno : 0;
}

static int sp_info(int c, struct vfio_iommu_spapr_tce_info *i, uint32_t argsz)
{
	memset(i, 0, sizeof(*i));
	i->argsz = argsz;
	return ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, i) ? -errno : 0;
}

static int sp_create(int c, uint32_t shift, uint64_t size, uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = shift, .window_size = size, .levels = levels,
		.start_addr = ~0ULL,
	};
	int r = ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr) ? -errno : 0;

	if (start)
		*start = cr.start_addr;
	return r;
}

static int sp_remove(int c, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm), .start_addr = start };

	return ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm) ? -errno : 0;
}

static int sp_map(int c, void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	return dma_map(c, vaddr, iova, size, flags);
}

static int sp_unmap(int c, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

	return ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

/* rmmod and load this module again ($VFIO_CXX_KO, else modprobe): 0 or a negative step. */
static int module_reload(void)
{
	const char *ko = getenv("VFIO_CXX_KO");
	char cmd[600];

	if (system("rmmod vfio_iommu_cxx"))
		return -1;
	if (ko && *ko)
		snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	else
		snprintf(cmd, sizeof(cmd), "modprobe vfio_iommu_cxx");
	return system(cmd) ? -2 : 0;
}

/* A sPAPR v2 container with the edu group: 0 or -errno (with the parameter on). */
static int sp_open(int *container, int *group)
{
	return edu_container_open(VFIO_SPAPR_TCE_v2_IOMMU, container, group);
}

/* ------------------------------------------------------------------ */

FIXTURE(sp) {
	int container;
	int group;
	void *ram;	/* the "guest RAM" this test registers */
	size_t ram_sz;
	long vmlck0;	/* VmLck before (KiB) */
	long prereg0;	/* our prereg_pages before */
	struct edu_dev edu;
};

FIXTURE_SETUP(sp)
{
	int r;

	self->container = self->group = -1;
	self->edu.dev = -1;
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (access(PARAM_SPAPR, F_OK))
		SKIP(return, "this vfio_iommu_cxx has no spapr parameter");
	ASSERT_EQ(0, write_str(PARAM_SPAPR, "1"));
	self->ram_sz = 64 * PG;
	self->ram = anon(self->ram_sz);
	ASSERT_NE(NULL, self->ram);
	self->vmlck0 = vmlck_kb();
	self->prereg0 = stat_get("prereg_pages");
	r = sp_open(&self->container, &self->group);
	ASSERT_EQ(0, r) TH_LOG("sPAPR container set-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(sp)
{
	edu_dev_close(&self->edu);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->ram)
		munmap(self->ram, self->ram_sz);
	write_str(PARAM_SPAPR, "0");
}

/* QEMU's start-up sequence (doc §3.2): REGISTER all RAM, GET_INFO, REMOVE(0), CREATE at reset. */
static void qemu_start(struct __test_metadata *_metadata, FIXTURE_DATA(sp) *self)
{
	struct vfio_iommu_spapr_tce_info i;
	uint64_t start = 1;

	ASSERT_EQ(0, sp_reg(self->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, self->ram_sz));
	ASSERT_EQ(0, sp_info(self->container, &i, sizeof(i)));
	ASSERT_EQ(0, sp_remove(self->container, i.dma32_window_start));
	ASSERT_EQ(0, sp_create(self->container, 12, GIB, 2, &start));
	ASSERT_EQ(0ULL, start);
}

/* CHECK_EXTENSION: sPAPR v2 only with the parameter; never v1 or EEH; SET_IOMMU follows. */
TEST_F(sp, check_extension_and_set_iommu)
{
	int c = open("/dev/vfio/vfio", O_RDWR);

	ASSERT_LE(0, c);
	EXPECT_EQ(1, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	EXPECT_EQ(0, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH));
	/* on the container itself */
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_EEH));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, write_str(PARAM_SPAPR, "0"));
	EXPECT_EQ(0, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	close(c);
	/* with the parameter off, no backend serves type 7 */
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	EXPECT_EQ(-ENODEV, sp_open(&self->container, &self->group)) TH_LOG("the VFIO core's answer");
}

/*
 * With claim_type1=0 and vfio_iommu_type1 unloaded, QEMU's probe (TYPE1v2,
 * TYPE1, SPAPR_TCE_v2, SPAPR_TCE) finds sPAPR v2 first: the only way it
 * takes this path (doc §3.1).
 */
TEST_F(sp, qemu_type_probe_finds_spapr_without_type1)
{
	static const unsigned long order[] = { VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU,
					       VFIO_SPAPR_TCE_v2_IOMMU, VFIO_SPAPR_TCE_IOMMU };
	unsigned long found = 0;
	int c;

	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	ASSERT_EQ(0, write_str(PARAM_CLAIM, "0"));
	if (system("rmmod vfio_iommu_type1 2>/dev/null") || !access("/sys/module/vfio_iommu_type1", F_OK)) {
		write_str(PARAM_CLAIM, "1");
		SKIP(return, "vfio_iommu_type1 is in use or built in");
	}
	c = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, c);
	for (unsigned int i = 0; i < 4 && !found; i++)
		if (ioctl(c, VFIO_CHECK_EXTENSION, order[i]) > 0)
			found = order[i];
	close(c);
	EXPECT_EQ((unsigned long)VFIO_SPAPR_TCE_v2_IOMMU, found);
	/*
	 * Back as it was: type1 loaded, and this module registered after it
	 * (VFIO_SET_IOMMU asks the newest backend first), with its defaults.
	 */
	EXPECT_EQ(0, system("modprobe vfio_iommu_type1"));
	EXPECT_EQ(0, module_reload()) TH_LOG("reloading %s", getenv("VFIO_CXX_KO"));
}

/* GET_INFO: DDW info with 4K TCEs and levels >= 1, 16 or 32 bytes by argsz; ENABLE/DISABLE are v1's. */
TEST_F(sp, get_info_and_v1_ioctls)
{
	struct vfio_iommu_spapr_tce_info i;

	ASSERT_EQ(0, sp_info(self->container, &i, sizeof(i)));
	EXPECT_EQ((unsigned int)VFIO_IOMMU_SPAPR_INFO_DDW, i.flags);
	EXPECT_EQ(0u, i.dma32_window_start);
	/* below the MSI range (0xfee00000): 2 GiB */
	EXPECT_EQ(2 * GIB, i.dma32_window_size);
	EXPECT_EQ(PG, i.ddw.pgsizes);
	EXPECT_EQ(1u, i.ddw.max_dynamic_windows_supported);
	EXPECT_LE(1u, i.ddw.levels);
	memset(&i, 0x55, sizeof(i));
	i.argsz = 16;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i));
	EXPECT_EQ(2 * GIB, i.dma32_window_size);
	EXPECT_EQ(0x5555555555555555ULL, i.ddw.pgsizes) TH_LOG("argsz 16 copies the head only");
	EXPECT_EQ(-EINVAL, sp_info(self->container, &i, 15));
	EXPECT_EQ(-1, ioctl(self->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->container, VFIO_IOMMU_ENABLE));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->container, VFIO_IOMMU_DISABLE));
	EXPECT_EQ(ENOTTY, errno);
}

/* B31-B33, B35, B36: REGISTER/UNREGISTER with upstream's errnos, and what they pin and charge. */
TEST_F(sp, b31_b32_b33_b35_b36_register_errnos_and_charge)
{
	int c = self->container;
	char *ram = self->ram;

	EXPECT_EQ(-EPERM, sp_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, ram, PG)) TH_LOG("no mm bound yet");
	EXPECT_EQ(-EINVAL, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ram + 1, PG));
	EXPECT_EQ(-EINVAL, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ram, PG + 1));
	EXPECT_EQ(-EINVAL, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, (void *)(~0UL & ~(PG - 1)), 2 * PG));
	ASSERT_EQ(0, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ram, 16 * PG));
	EXPECT_EQ(self->vmlck0 + KB(16), vmlck_kb());
	EXPECT_EQ(self->prereg0 + 16, stat_get("prereg_pages"));
	EXPECT_EQ(-EBUSY, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ram, 16 * PG));
	EXPECT_EQ(-EINVAL, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ram + 8 * PG, 16 * PG));
	EXPECT_EQ(self->vmlck0 + KB(16), vmlck_kb());
	EXPECT_EQ(-ENOENT, sp_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, ram, 8 * PG));
	/* B36: a region a TCE points into stays */
	ASSERT_EQ(0, sp_map(c, ram + 3 * PG, 0x100000, PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(self->vmlck0 + KB(16 + TABLE_2G_L1), vmlck_kb()) TH_LOG("the default window came with the MAP");
	EXPECT_EQ(-EBUSY, sp_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, ram, 16 * PG));
	ASSERT_EQ(0, sp_unmap(c, 0x100000, PG));
	EXPECT_EQ(0, sp_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, ram, 16 * PG));
	EXPECT_EQ(self->vmlck0 + KB(TABLE_2G_L1), vmlck_kb());
	EXPECT_EQ(self->prereg0, stat_get("prereg_pages"));
}

/* MAP/UNMAP before any REGISTER: -EPERM (nothing enabled). */
TEST_F(sp, map_needs_a_registration)
{
	EXPECT_EQ(-EPERM, sp_map(self->container, self->ram, 0, PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EPERM, sp_unmap(self->container, 0, PG));
}

/* The start-up sequence and its charges: RAM plus the table, and nothing after close (B29, B37). */
TEST_F(sp, b29_b37_qemu_startup_charges_and_close)
{
	qemu_start(_metadata, self);
	EXPECT_EQ(self->vmlck0 + KB(64 + TABLE_1G_L2), vmlck_kb());
	EXPECT_EQ(-ENOSPC, sp_create(self->container, 12, GIB, 1, NULL));
	EXPECT_EQ(-EINVAL, sp_remove(self->container, PG)) TH_LOG("only the window's start removes it");
	ASSERT_EQ(0, sp_map(self->container, self->ram, 0x100000, 64 * PG,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	EXPECT_EQ(self->vmlck0 + KB(64 + TABLE_1G_L2), vmlck_kb()) TH_LOG("MAP charges nothing");
	/* machine reset: region_del (UNMAP of the window, REMOVE), then CREATE again */
	ASSERT_EQ(0, sp_unmap(self->container, 0, GIB));
	ASSERT_EQ(0, sp_remove(self->container, 0));
	EXPECT_EQ(self->vmlck0 + KB(64), vmlck_kb());
	EXPECT_EQ(-EINVAL, sp_remove(self->container, 0));
	ASSERT_EQ(0, sp_create(self->container, 12, GIB, 2, NULL));
	ASSERT_EQ(0, sp_map(self->container, self->ram, 0x100000, 4 * PG, VFIO_DMA_MAP_FLAG_READ));
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	EXPECT_EQ(self->vmlck0, vmlck_kb());
	EXPECT_EQ(self->prereg0, stat_get("prereg_pages"));
}

/* CREATE's errnos in upstream's order, and the RLIMIT_MEMLOCK on the table charge. */
TEST_F(sp, create_errnos_and_memlock)
{
	int c = self->container;

	ASSERT_EQ(0, sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, PG));
	ASSERT_EQ(0, sp_remove(c, 0));
	EXPECT_EQ(-EINVAL, sp_create(c, 16, GIB, 1, NULL)) TH_LOG("64K is not in pgsizes");
	EXPECT_EQ(-EINVAL, sp_create(c, 12, GIB, 0, NULL));
	EXPECT_EQ(-EINVAL, sp_create(c, 12, GIB, 6, NULL));
	EXPECT_EQ(-EINVAL, sp_create(c, 12, GIB + PG, 1, NULL));
	EXPECT_EQ(-EINVAL, sp_create(c, 12, 4 * GIB, 1, NULL)) TH_LOG("over the MSI range");
	EXPECT_EQ(self->vmlck0 + KB(1), vmlck_kb()) TH_LOG("every refused window's charge is given back");
	/* The table charge meets RLIMIT_MEMLOCK without CAP_IPC_LOCK (this test's process only). */
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(100 * PG));
	EXPECT_EQ(-ENOMEM, sp_create(c, 12, GIB, 1, NULL));
	EXPECT_EQ(self->vmlck0 + KB(1), vmlck_kb());
	EXPECT_EQ(0, sp_create(c, 12, 256 * PG, 1, NULL)) TH_LOG("a 1 MiB window's 2 pages fit");
	EXPECT_EQ(self->vmlck0 + KB(3), vmlck_kb());
}

/* MAP_DMA's errnos in upstream's order. */
TEST_F(sp, map_errnos)
{
	int c = self->container;
	char *ram = self->ram;
	struct vfio_iommu_type1_dma_map m = { .argsz = 31 };

	qemu_start(_metadata, self);
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sp_map(c, ram, 0, PG, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-ENXIO, sp_map(c, ram, GIB, PG, VFIO_DMA_MAP_FLAG_READ)) TH_LOG("outside the window");
	EXPECT_EQ(-EINVAL, sp_map(c, ram, 0, PG + 1, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, sp_map(c, ram + 1, 0, PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, sp_map(c, ram, 0, PG, 0));
	EXPECT_EQ(-EINVAL, sp_map(c, ram, 1, PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, sp_map(c, ram, GIB - PG, 2 * PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, sp_map(c, ram + 63 * PG, 0, 2 * PG, VFIO_DMA_MAP_FLAG_READ))
		TH_LOG("the second page is in no region");
	EXPECT_EQ(0, sp_map(c, ram, 0, 0, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, sp_unmap(c, GIB - PG, 2 * PG)) TH_LOG("upstream returns 1 (differences.rst)");
	EXPECT_EQ(-ENXIO, sp_unmap(c, GIB, PG));
	EXPECT_EQ(-EINVAL, sp_unmap(c, 0, PG + 1));
	EXPECT_EQ(0, sp_unmap(c, 0x5000, PG)) TH_LOG("a clear TCE");
}

/*
 * H_PUT_TCE -> MAP_DMA: the edu reads guest RAM through one TCE and writes
 * it back through another; a TCE replaced over a valid one redirects the
 * device; a cleared TCE (H_PUT_TCE with permissions 0 -> UNMAP_DMA) stops
 * it: the DMA faults in the IOMMU and the page keeps its bytes.
 */
TEST_F(sp, dma_through_tces_replace_and_clear)
{
	char *ram = self->ram, *a = ram, *b = ram + PG, *b2 = ram + 2 * PG;
	int r;

	qemu_start(_metadata, self);
	r = edu_dev_open(&self->edu, self->group);
	ASSERT_EQ(0, r) TH_LOG("edu device: step %d", r);
	fill(a, EDU_XFER, 7);
	memset(b, 0, PG);
	memset(b2, 0, PG);
	ASSERT_EQ(0, sp_map(self->container, a, 0x100000, PG, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, sp_map(self->container, b, 0x200000, PG,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, edu_dev_copy(&self->edu, 0x100000, 0x200000));
	EXPECT_TRUE(check(b, EDU_XFER, 7)) TH_LOG("the device's DMA landed in the second page");
	/* a TCE over a valid one: the device now writes b2 */
	ASSERT_EQ(0, sp_map(self->container, b2, 0x200000, PG,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&self->edu, 0x100000, 0x200000));
	EXPECT_TRUE(check(b2, EDU_XFER, 7));
	EXPECT_FALSE(check(b, EDU_XFER, 7)) TH_LOG("the replaced page was written");
	/* cleared: the write faults and b2 keeps its zeroes */
	ASSERT_EQ(0, sp_unmap(self->container, 0x200000, PG));
	memset(b2, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&self->edu, 0x100000, 0x200000));
	EXPECT_FALSE(check(b2, EDU_XFER, 7));
	for (unsigned int i = 0; i < EDU_XFER; i++)
		if (b2[i]) {
			EXPECT_EQ(0, b2[i]) TH_LOG("byte %u written through a cleared TCE", i);
			break;
		}
	/* a read-only TCE cannot be written through */
	ASSERT_EQ(0, sp_map(self->container, b, 0x200000, PG, VFIO_DMA_MAP_FLAG_READ));
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&self->edu, 0x100000, 0x200000));
	EXPECT_FALSE(check(b, EDU_XFER, 7));
}

/* B41: once bound, any ioctl but CHECK_EXTENSION from another mm (a forked child) is -EPERM. */
TEST_F(sp, b41_other_mm_is_eperm)
{
	struct vfio_iommu_spapr_tce_info i;
	int c = self->container;
	pid_t pid;
	int st;

	ASSERT_EQ(0, sp_info(c, &i, sizeof(i))) TH_LOG("GET_INFO does not bind");
	qemu_start(_metadata, self);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;

		bad |= sp_info(c, &i, sizeof(i)) != -EPERM;
		bad |= (sp_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, PG) != -EPERM) << 1;
		bad |= (sp_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, self->ram, self->ram_sz) != -EPERM) << 2;
		bad |= (sp_map(c, self->ram, 0, PG, VFIO_DMA_MAP_FLAG_READ) != -EPERM) << 3;
		bad |= (sp_unmap(c, 0, GIB) != -EPERM) << 4;
		bad |= (sp_create(c, 12, GIB, 1, NULL) != -EPERM) << 5;
		bad |= (sp_remove(c, 0) != -EPERM) << 6;
		bad |= (ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU) != 1) << 7;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("failed checks: mask 0x%x", WEXITSTATUS(st));
	/* the owner still can */
	EXPECT_EQ(0, sp_map(c, self->ram, 0, PG, VFIO_DMA_MAP_FLAG_READ));
}

/* EEH: no PE behind an x86 group. */
TEST_F(sp, eeh_pe_op_has_no_pe)
{
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op), .op = VFIO_EEH_PE_ENABLE };

	EXPECT_EQ(-1, ioctl(self->container, VFIO_EEH_PE_OP, &op));
	EXPECT_EQ(ENODEV, errno);
}

/*
 * Seed 003 on the real API: a second group joins the container and sees
 * the TCEs made before it; attaching it again is -EBUSY; detaching the
 * first keeps the second's TCEs (6.12's driver would clear them).
 */
TEST_F(sp, seed003_two_groups_and_detach)
{
	char bdf2[256];
	struct edu_dev e2 = { .dev = -1 };
	char *a = self->ram, *b = (char *)self->ram + PG;
	int group2 = -1, g2 = -1, r;

	r = edu2_bind(bdf2, sizeof(bdf2), &group2);
	if (r == -1)
		SKIP(return, "the VM has one edu");
	ASSERT_EQ(0, r) TH_LOG("binding the second edu: step %d", r);
	qemu_start(_metadata, self);
	fill(a, EDU_XFER, 3);
	ASSERT_EQ(0, sp_map(self->container, a, 0x100000, PG, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, sp_map(self->container, b, 0x200000, PG,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	g2 = group_open(group2);
	ASSERT_LE(0, g2);
	ASSERT_EQ(0, set_container(g2, self->container));
	/* again: the VFIO core refuses it before the backend (whose -EBUSY the host tests show) */
	EXPECT_EQ(-EINVAL, set_container(g2, self->container));
	r = edu_dev_open_bdf(&e2, g2, bdf2);
	ASSERT_EQ(0, r) TH_LOG("second edu device: step %d", r);
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&e2, 0x100000, 0x200000));
	EXPECT_TRUE(check(b, EDU_XFER, 3)) TH_LOG("the second group sees the earlier TCEs");
	/* the first group leaves: the second keeps its TCEs */
	ASSERT_EQ(0, unset_container(self->group));
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&e2, 0x100000, 0x200000));
	EXPECT_TRUE(check(b, EDU_XFER, 3)) TH_LOG("a detach cleared another group's TCEs");
	EXPECT_EQ(-EBUSY, sp_reg(self->container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, self->ram,
				 self->ram_sz));
	edu_dev_close(&e2);
	close(g2);
	edu2_unbind(bdf2);
}

/*
 * Item 3 (B34, B37): the same region registered by two containers of one
 * process (one per edu group, as QEMU with two PHBs) is pinned and charged
 * once, and each container releases its own reference when it closes.
 */
TEST_F(sp, b34_b37_region_shared_by_two_containers)
{
	char bdf2[256];
	int group2 = -1, g2 = -1, c2 = -1, r;

	r = edu2_bind(bdf2, sizeof(bdf2), &group2);
	if (r == -1)
		SKIP(return, "the VM has one edu");
	ASSERT_EQ(0, r) TH_LOG("binding the second edu: step %d", r);
	c2 = open("/dev/vfio/vfio", O_RDWR);
	g2 = group_open(group2);
	ASSERT_LE(0, c2);
	ASSERT_LE(0, g2);
	ASSERT_EQ(0, set_container(g2, c2));
	ASSERT_EQ(0, ioctl(c2, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	ASSERT_EQ(0, sp_reg(self->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, self->ram_sz));
	ASSERT_EQ(0, sp_reg(c2, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, self->ram_sz));
	EXPECT_EQ(self->vmlck0 + KB(64), vmlck_kb()) TH_LOG("charged once");
	EXPECT_EQ(self->prereg0 + 64, stat_get("prereg_pages")) TH_LOG("pinned once");
	EXPECT_EQ(-EINVAL, sp_reg(c2, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, self->ram, PG))
		TH_LOG("an overlap with the mm's region, registered in the other container");
	/* the first container closes: the second keeps the region */
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	EXPECT_EQ(self->vmlck0 + KB(64), vmlck_kb());
	EXPECT_EQ(self->prereg0 + 64, stat_get("prereg_pages"));
	close(g2);
	close(c2);
	EXPECT_EQ(self->vmlck0, vmlck_kb());
	EXPECT_EQ(self->prereg0, stat_get("prereg_pages"));
	edu2_unbind(bdf2);
}

/* The owner's SIGKILL: its fds close, and every pin and charge comes back (B42, at close). */
TEST_F(sp, b42_owner_killed_gives_everything_back)
{
	int pipefd[2];
	pid_t pid;
	char byte;
	int st;

	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int c, g;

		if (sp_open(&c, &g))
			_exit(1);
		self->container = c;
		self->group = g;
		qemu_start(_metadata, self);
		if (sp_map(c, self->ram, 0x100000, self->ram_sz, VFIO_DMA_MAP_FLAG_READ))
			_exit(2);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &byte, 1));
	EXPECT_EQ(self->prereg0 + 64, stat_get("prereg_pages"));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	close(pipefd[0]);
	EXPECT_TRUE(WIFSIGNALED(st));
	for (int i = 0; i < 50 && stat_get("prereg_pages") != self->prereg0; i++)
		usleep(100000);
	EXPECT_EQ(self->prereg0, stat_get("prereg_pages"));
	EXPECT_EQ(0, stat_get("containers_live"));
}

TEST_HARNESS_MAIN
