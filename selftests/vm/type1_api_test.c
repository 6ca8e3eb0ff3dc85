// SPDX-License-Identifier: GPL-2.0
/*
 * Differential VM selftests of the Type1v2 DMA user API.
 *
 * Every test runs once per backend (FIXTURE_VARIANT):
 *   type1 - claim_type1=0, so the in-tree vfio_iommu_type1 serves the
 *           VFIO_TYPE1v2_IOMMU container (the reference);
 *   cxx   - claim_type1=1, so vfio_iommu_cxx serves it.
 * FIXTURE_SETUP proves which backend got the container from the
 * containers_opened counter in our debugfs stats.  Without the module
 * loaded the cxx variant is skipped and the type1 variant still runs.
 *
 * The expected values are what vfio_iommu_type1 does on Debian's 6.1 and
 * 6.12 kernels (drivers/vfio/vfio_iommu_type1.c); where the two kernels
 * differ the test says so.  Behaviour numbers refer to
 * Documentation/requirements.rst ("B4" = behaviour 4).
 *
 * Runs in a virtme-ng guest with QEMU's edu device (1234:11e8) behind an
 * emulated Intel IOMMU, bound to vfio-pci; VFIO_CXX_GROUP=<iommu group>.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"

/*
 * GCC inlines each single-use TEST_F body into the harness wrapper that
 * calls setjmp() and then warns about the harness's own locals; nothing
 * here relies on a local surviving the harness's longjmp.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* Returns -errno, or 0 and the unmapped size in *out. */
static int unmap_flags(int c, uint64_t iova, uint64_t size, uint32_t flags, uint64_t *out)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	if (out)
		*out = u.size;
	return 0;
}

/* UNMAP_ALL; returns the unmapped size, or -errno. */
static long long unmap_all(int c)
{
	uint64_t sz = 0;
	int r = unmap_flags(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &sz);

	return r ? r : (long long)sz;
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */

FIXTURE(t1) {
	int container;
	int group;
	struct edu_dev edu;	/* QEMU's edu (vm_util.h), once a test opens it */
};

FIXTURE_VARIANT(t1) {
	int cxx;	/* 1: vfio_iommu_cxx serves the container */
};

FIXTURE_VARIANT_ADD(t1, type1) {
	.cxx = 0,
};

FIXTURE_VARIANT_ADD(t1, cxx) {
	.cxx = 1,
};

/*
 * Opens a container and the edu group, attaches it and sets
 * VFIO_TYPE1v2_IOMMU with claim_type1 chosen by the variant.  Returns 0 or
 * a negative step number; *served_by_cxx says what the stats counter saw.
 */
static int open_container(int cxx, int *container, int *group, int *served_by_cxx)
{
	long opened0, opened1;
	int r = type1_container_open(cxx, container, group, &opened0, &opened1);

	if (r)
		return r;
	*served_by_cxx = cxx_served(opened0, opened1);
	if (opened1 != opened0 && opened1 != opened0 + 1)
		return -7;
	return 0;
}

FIXTURE_SETUP(t1)
{
	int cxx = -1, r;

	self->container = self->group = self->edu.dev = -1;
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (variant->cxx && !module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	r = open_container(variant->cxx, &self->container, &self->group, &cxx);
	ASSERT_EQ(0, r) TH_LOG("container set-up step %d: %s", -r, strerror(errno));
	/* The backend we asked for served the container, and only it. */
	ASSERT_EQ(variant->cxx, cxx);
}

FIXTURE_TEARDOWN(t1)
{
	edu_dev_close(&self->edu);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (module_loaded())
		write_str(PARAM_CLAIM, "1");
}

/* ------------------------------------------------------------------ */
/* 1. end-to-end DMA through the IOMMU (B2, B11, B12)                  */

/*
 * B2/B11/B12: the device reaches exactly what is mapped, at the IOVA it is
 * mapped at; after UNMAP the old pages are unreachable (IOMMU fault, the
 * edu DMA still completes); a remap of the same IOVA reaches the new pages.
 */
TEST_F(t1, b2_b11_b12_edu_dma_translation_and_unmap_fault)
{
	const uint64_t ia = 0x100000, ib = 0x200000, ic = 0x300000;
	char *a = anon(PG), *b = anon(PG), *c = anon(PG), *d = anon(PG);
	uint64_t sz = 0;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_NE(MAP_FAILED, d);
	ASSERT_EQ(0, edu_dev_open(&self->edu, self->group));
	ASSERT_EQ(0, map_rw(self->container, a, ia, PG));
	ASSERT_EQ(0, map_rw(self->container, b, ib, PG));
	ASSERT_EQ(0, map_rw(self->container, c, ic, PG));

	/* RAM -> device -> RAM through one mapping. */
	fill(a, PG, 1);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, ia));
	memset(a, 0, PG);
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ia));
	ASSERT_TRUE(check(a, EDU_XFER, 1));

	/* Into another IOVA: lands in b, and only there. */
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ib));
	ASSERT_TRUE(check(b, EDU_XFER, 1));
	ASSERT_TRUE(check(a, EDU_XFER, 1));

	/* Unmap a, load a new pattern from c, write to a's old IOVA. */
	ASSERT_EQ(0, unmap_flags(self->container, ia, PG, 0, &sz));
	ASSERT_EQ(PG, sz);
	fill(c, PG, 2);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, ic));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ia)) TH_LOG("DMA to an unmapped IOVA must complete");
	ASSERT_TRUE(check(a, EDU_XFER, 1)) TH_LOG("DMA reached unmapped memory");
	/* The device really held the new pattern (so the check above can fail). */
	memset(b, 0, PG);
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ib));
	ASSERT_TRUE(check(b, EDU_XFER, 2));

	/* B12: remapping the IOVA to new memory reaches the new memory. */
	memset(d, 0, PG);
	ASSERT_EQ(0, map_rw(self->container, d, ia, PG));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ia));
	ASSERT_TRUE(check(d, EDU_XFER, 2));
	ASSERT_TRUE(check(a, EDU_XFER, 1));

	/* READ-only mapping: device may read it but its writes fault. */
	ASSERT_EQ(0, unmap_flags(self->container, ib, PG, 0, &sz));
	ASSERT_EQ(PG, sz);
	ASSERT_EQ(0, dma_map(self->container, b, ib, PG, VFIO_DMA_MAP_FLAG_READ));
	fill(b, PG, 3);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, ib));
	memset(d, 0, PG);
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ia));
	ASSERT_TRUE(check(d, EDU_XFER, 3));
	fill(c, PG, 4);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, ic));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, ib));
	ASSERT_TRUE(check(b, EDU_XFER, 3)) TH_LOG("device wrote through a READ-only mapping");

	ASSERT_EQ((long long)(3 * PG), unmap_all(self->container));
}

/* ------------------------------------------------------------------ */
/* 2. RLIMIT_MEMLOCK and locked_vm (B4, B5, B7, B8, B29)               */


/*
 * B4/B7/B8/B29: without CAP_IPC_LOCK, MAP over RLIMIT_MEMLOCK fails with
 * ENOMEM; a map that fails partway leaves no vfio_dma and no charge;
 * locked_vm moves by exactly the mapped size and returns to the baseline
 * on UNMAP and on container close.  (Each TEST_F runs in its own forked
 * process, so dropping the capability here touches nothing else.)
 */
TEST_F(t1, b4_b7_b8_b29_rlimit_memlock_without_cap_ipc_lock)
{
	const unsigned long n = 16;
	char *buf = anon(32 * PG);
	long base = vmlck_kb();
	uint64_t sz = 1;
	int cxx = -1;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(0, base);
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(base * 1024 + n * PG));

	/* 12 pages fit, an 8-page map then fails partway (after 4 pages). */
	ASSERT_EQ(0, map_rw(self->container, buf, 0x100000, 12 * PG));
	EXPECT_EQ(base + 12 * 4, vmlck_kb());
	EXPECT_EQ(-ENOMEM, map_rw(self->container, buf + 12 * PG, 0x200000, 8 * PG));
	EXPECT_EQ(base + 12 * 4, vmlck_kb()) TH_LOG("partial map left a charge (B7)");
	/* Nothing left at that IOVA: unmapping it finds nothing. */
	EXPECT_EQ(0, unmap_flags(self->container, 0x200000, 8 * PG, 0, &sz));
	EXPECT_EQ(0u, sz);
	/* The remaining 4 pages fit exactly; one page more does not. */
	ASSERT_EQ(0, map_rw(self->container, buf + 12 * PG, 0x200000, 4 * PG));
	EXPECT_EQ(base + 16 * 4, vmlck_kb());
	EXPECT_EQ(-ENOMEM, map_rw(self->container, buf + 16 * PG, 0x300000, PG));
	EXPECT_EQ(-ENOMEM, map_rw(self->container, buf + 16 * PG, 0x300000, PG))
		TH_LOG("a failed map must not leave an EEXIST-ing vfio_dma (B4)");
	EXPECT_EQ(0, unmap_flags(self->container, 0x300000, PG, 0, &sz));
	EXPECT_EQ(0u, sz);
	EXPECT_EQ(base + 16 * 4, vmlck_kb());

	/* B8: UNMAP gives back exactly each range. */
	ASSERT_EQ(0, unmap_flags(self->container, 0x200000, 4 * PG, 0, &sz));
	EXPECT_EQ(4 * PG, sz);
	EXPECT_EQ(base + 12 * 4, vmlck_kb());
	ASSERT_EQ(0, unmap_flags(self->container, 0x100000, 12 * PG, 0, &sz));
	EXPECT_EQ(12 * PG, sz);
	EXPECT_EQ(base, vmlck_kb());

	/* B29: closing the container (with a live mapping) uncharges. */
	ASSERT_EQ(0, map_rw(self->container, buf, 0x100000, n * PG));
	EXPECT_EQ(base + (long)n * 4, vmlck_kb());
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	EXPECT_EQ(base, vmlck_kb());

	/* And a fresh container (same backend) charges from the baseline again. */
	ASSERT_EQ(0, open_container(variant->cxx, &self->container, &self->group, &cxx));
	ASSERT_EQ(variant->cxx, cxx);
	ASSERT_EQ(0, map_rw(self->container, buf, 0x100000, n * PG));
	EXPECT_EQ(base + (long)n * 4, vmlck_kb());
	EXPECT_EQ(-ENOMEM, map_rw(self->container, buf + n * PG, 0x200000, PG));
	EXPECT_EQ((long long)(n * PG), unmap_all(self->container));
	EXPECT_EQ(base, vmlck_kb());
	munmap(buf, 32 * PG);
}

/* B5: with CAP_IPC_LOCK the limit does not apply, but pages are still charged. */
TEST_F(t1, b5_rlimit_memlock_ignored_with_cap_ipc_lock)
{
	char *buf = anon(16 * PG);
	long base = vmlck_kb();
	uint64_t sz = 0;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, set_memlock(base * 1024 + PG));
	ASSERT_EQ(0, map_rw(self->container, buf, 0x100000, 16 * PG));
	EXPECT_EQ(base + 16 * 4, vmlck_kb());
	ASSERT_EQ(0, unmap_flags(self->container, 0x100000, 16 * PG, 0, &sz));
	EXPECT_EQ(16 * PG, sz);
	EXPECT_EQ(base, vmlck_kb());
	munmap(buf, 16 * PG);
}

/* B7: a map whose vaddr range has a hole fails with EFAULT, nothing stays. */
TEST_F(t1, b7_map_with_hole_efault_unwinds)
{
	char *buf = anon(8 * PG);
	long base = vmlck_kb();
	uint64_t sz = 1;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, munmap(buf + 4 * PG, PG));
	EXPECT_EQ(-EFAULT, map_rw(self->container, buf, 0x100000, 8 * PG));
	EXPECT_EQ(base, vmlck_kb());
	EXPECT_EQ(0, unmap_flags(self->container, 0x100000, 8 * PG, 0, &sz));
	EXPECT_EQ(0u, sz);
	/* The first half maps fine at the same IOVA. */
	ASSERT_EQ(0, map_rw(self->container, buf, 0x100000, 4 * PG));
	EXPECT_EQ(base + 16, vmlck_kb());
	EXPECT_EQ((long long)(4 * PG), unmap_all(self->container));
	EXPECT_EQ(base, vmlck_kb());
}

/* ------------------------------------------------------------------ */
/* 3. bad MAP/UNMAP input (B1)                                         */

/* B1: each bad MAP fails with type1's errno and leaves nothing mapped. */
TEST_F(t1, b1_map_bad_input)
{
	const uint64_t io = 0x100000;
	char *buf = anon(4 * PG);
	char *ro;
	long base = vmlck_kb();
	struct vfio_iommu_type1_dma_map m;
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	int c = self->container;

	ASSERT_NE(MAP_FAILED, buf);
	/* Read-only memory backed by a real (not the zero) page. */
	ro = anon(PG);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, mprotect(ro, PG, PROT_READ));

	EXPECT_EQ(-EINVAL, map_rw(c, buf, io, 0));			/* size 0 */
	EXPECT_EQ(-EINVAL, map_rw(c, buf, io + 0x800, PG));		/* iova */
	EXPECT_EQ(-EINVAL, map_rw(c, buf + 0x800, io, PG));		/* vaddr */
	EXPECT_EQ(-EINVAL, map_rw(c, buf, io, PG + 0x800));		/* size */
	EXPECT_EQ(-EINVAL, map_rw(c, buf, io, 1));
	/* Wraps: the running kernel's type1 errno (-EOVERFLOW on 7.x). */
	EXPECT_EQ(type1_wrap_errno(), map_rw(c, buf, 0xfffffffffffff000ULL, 2 * PG)); /* iova */
	EXPECT_EQ(type1_wrap_errno(), map_rw(c, (void *)0xfffffffffffff000ULL, io, 2 * PG)); /* vaddr */
	/* No READ/WRITE at all (and no VADDR). */
	EXPECT_EQ(-EINVAL, dma_map(c, buf, io, PG, 0));
	/* Unknown flag bits. */
	EXPECT_EQ(-EINVAL, dma_map(c, buf, io, PG, rw | (1u << 3)));
	EXPECT_EQ(-EINVAL, dma_map(c, buf, io, PG, rw | (1u << 31)));
	/* VADDR together with READ/WRITE. */
	EXPECT_EQ(-EINVAL, dma_map(c, buf, io, PG, rw | VFIO_DMA_MAP_FLAG_VADDR));
	/* argsz below the minimum (offsetofend(size)). */
	m = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(m) - 1, .flags = rw,
		.vaddr = (uintptr_t)buf, .iova = io, .size = PG };
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
	EXPECT_EQ(EINVAL, errno);
	m.argsz = 0;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
	EXPECT_EQ(EINVAL, errno);
	/* A larger argsz is fine (extensible struct) - but map nothing yet. */
	/* Unmapped vaddr: GUP finds no vma. */
	EXPECT_EQ(-EFAULT, map_rw(c, (void *)0x10000, io, PG));
	/* Read-only memory cannot be mapped device-writable ... */
	EXPECT_EQ(-EFAULT, map_rw(c, ro, io, PG));
	EXPECT_EQ(base, vmlck_kb());
	/* x86: the MSI window is a reserved IOVA region. */
	EXPECT_EQ(-EINVAL, map_rw(c, buf, 0xfee00000ULL, PG));
	EXPECT_EQ(-EINVAL, map_rw(c, buf, 0xfedff000ULL, 2 * PG));
	EXPECT_EQ(0, unmap_all(c)) TH_LOG("a failed MAP left a mapping");

	/* ... but device-readable only is fine. */
	EXPECT_EQ(0, dma_map(c, ro, io, PG, VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(base + 4, vmlck_kb());
	/* Overlaps: EEXIST, whichever way they overlap. */
	ASSERT_EQ(0, map_rw(c, buf, io + 4 * PG, 4 * PG));
	EXPECT_EQ(-EEXIST, map_rw(c, buf, io + 4 * PG, 4 * PG));	/* same */
	EXPECT_EQ(-EEXIST, map_rw(c, buf, io + 5 * PG, PG));	/* inside */
	EXPECT_EQ(-EEXIST, map_rw(c, buf, io + 2 * PG, 4 * PG));	/* head */
	EXPECT_EQ(-EEXIST, map_rw(c, buf, io + 7 * PG, 4 * PG));	/* tail */
	EXPECT_EQ(-EEXIST, map_rw(c, buf, io + PG, 16 * PG));	/* around */
	/* Adjacent on both sides is fine. */
	EXPECT_EQ(0, map_rw(c, buf, io + 8 * PG, PG));
	EXPECT_EQ(0, map_rw(c, buf, io + 3 * PG, PG));
	EXPECT_EQ(base + 4 * 7, vmlck_kb());
	/* An argsz larger than the struct is accepted. */
	m = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(m) + 64, .flags = rw,
		.vaddr = (uintptr_t)buf, .iova = io + 16 * PG, .size = PG };
	EXPECT_EQ(0, ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
	EXPECT_EQ((long long)(8 * PG), unmap_all(c));
	EXPECT_EQ(base, vmlck_kb());
	munmap(ro, PG);
	munmap(buf, 4 * PG);
}

/* B1 (unmap side): v2 unmap rules and UNMAP_ALL. */
TEST_F(t1, b1_unmap_bad_input_and_unmap_all)
{
	char *buf = anon(8 * PG);
	struct vfio_iommu_type1_dma_unmap u;
	uint64_t sz = 0;
	int c = self->container;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, map_rw(c, buf, 0x100000, 2 * PG));
	ASSERT_EQ(0, map_rw(c, buf + 2 * PG, 0x102000, 2 * PG));
	ASSERT_EQ(0, map_rw(c, buf + 4 * PG, 0x200000, 4 * PG));

	/* Bisecting a mapping (start, end, or both) is EINVAL in v2. */
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x101000, PG, 0, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, PG, 0, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x101000, 2 * PG, 0, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x0ff000, 2 * PG, 0, &sz));
	/* Misaligned / zero / wrapping. */
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100800, PG, 0, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, 0x800, 0, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, 0, 0, &sz));
	EXPECT_EQ(type1_wrap_errno(), unmap_flags(c, 0xfffffffffffff000ULL, 2 * PG, 0, &sz));
	/* Unknown flags; GET_DIRTY_BITMAP with ALL or VADDR. */
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, 2 * PG, 1u << 3, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, 2 * PG, 1u << 31, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, &sz));
	/* UNMAP_ALL needs iova == size == 0. */
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0x100000, 0, VFIO_DMA_UNMAP_FLAG_ALL, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, 0, 2 * PG, VFIO_DMA_UNMAP_FLAG_ALL, &sz));
	/* argsz too small. */
	u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(u) - 1,
		.iova = 0x100000, .size = 2 * PG };
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
	EXPECT_EQ(EINVAL, errno);
	/* A failed unmap does not write back the size. */
	u.argsz = sizeof(u);
	u.iova = 0x101000;
	u.size = PG;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
	EXPECT_EQ(PG, u.size);

	/* Empty range: success, size 0. */
	EXPECT_EQ(0, unmap_flags(c, 0x300000, 16 * PG, 0, &sz));
	EXPECT_EQ(0u, sz);
	EXPECT_EQ(0, unmap_flags(c, 0x104000, 0xfc000, 0, &sz));
	EXPECT_EQ(0u, sz);
	/* Everything survived: re-mapping any of it is EEXIST. */
	EXPECT_EQ(-EEXIST, map_rw(c, buf, 0x100000, PG));
	EXPECT_EQ(-EEXIST, map_rw(c, buf, 0x103000, PG));
	EXPECT_EQ(-EEXIST, map_rw(c, buf, 0x203000, PG));

	/* A range covering two whole mappings removes both, with a gap inside. */
	EXPECT_EQ(0, unmap_flags(c, 0x0f0000, 0x20000, 0, &sz));
	EXPECT_EQ(4 * PG, sz);
	EXPECT_EQ(0, map_rw(c, buf, 0x100000, 4 * PG));
	ASSERT_EQ(0, map_rw(c, buf + 4 * PG, 0x400000, PG));
	/* UNMAP_ALL removes all of them and reports the total. */
	EXPECT_EQ((long long)(9 * PG), unmap_all(c));
	EXPECT_EQ(0, unmap_all(c));
	EXPECT_EQ(0, map_rw(c, buf, 0x200000, 8 * PG));
	EXPECT_EQ((long long)(8 * PG), unmap_all(c));
	munmap(buf, 8 * PG);
}

/* ------------------------------------------------------------------ */
/* 4. VFIO_IOMMU_GET_INFO                                              */

static struct vfio_info_cap_header *find_cap(struct vfio_iommu_type1_info *info,
					     uint16_t id, int *count)
{
	struct vfio_info_cap_header *found = NULL;
	uint32_t off = info->cap_offset;
	int n = 0;

	while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz && n < 64) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == id && !found)
			found = h;
		n++;
		off = h->next;
	}
	if (count)
		*count = n;
	return found;
}

static uint32_t dma_avail(int c)
{
	char buf[4096] = { 0 };
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_iommu_type1_info_dma_avail *a;

	info->argsz = sizeof(buf);
	if (ioctl(c, VFIO_IOMMU_GET_INFO, info))
		return 0;
	a = (void *)find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, NULL);
	return a ? a->avail : 0;
}

TEST_F(t1, get_info_argsz_and_caps)
{
	struct vfio_iommu_type1_info small;
	char buf[4096];
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *av;
	char *mem = anon(PG);
	uint32_t need, avail0;
	int ncaps;

	ASSERT_NE(MAP_FAILED, mem);
	/* Below offsetofend(iova_pgsizes) = 16. */
	small = (struct vfio_iommu_type1_info){ .argsz = 15 };
	EXPECT_EQ(-1, ioctl(self->container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_EQ(EINVAL, errno);

	/* The minimum (no cap_offset): works, says caps exist, asks for more. */
	small = (struct vfio_iommu_type1_info){ .argsz = 16, .cap_offset = 0xdead };
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_EQ((__u32)(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS), small.flags);
	EXPECT_LT(sizeof(small), small.argsz);
	EXPECT_EQ(0xdeadu, small.cap_offset) TH_LOG("only 16 bytes may be written");
	need = small.argsz;

	small = (struct vfio_iommu_type1_info){ .argsz = sizeof(small), .cap_offset = 0xdead };
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_EQ((__u32)(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS), small.flags);
	EXPECT_EQ(need, small.argsz);
	EXPECT_EQ(0u, small.cap_offset);
	EXPECT_NE(0u, small.iova_pgsizes & PG);
	EXPECT_EQ(0u, small.iova_pgsizes & (PG - 1)) TH_LOG("4K is the smallest page");
	ASSERT_LT(need, sizeof(buf));

	/* One byte short still only reports the size. */
	memset(buf, 0, sizeof(buf));
	info->argsz = need - 1;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	EXPECT_EQ(need, info->argsz);
	EXPECT_EQ(0u, info->cap_offset);

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	EXPECT_EQ(sizeof(buf), info->argsz) TH_LOG("argsz is left as given when big enough");
	EXPECT_EQ(sizeof(*info), info->cap_offset);
	EXPECT_EQ(small.iova_pgsizes, info->iova_pgsizes);

	r = (void *)find_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, &ncaps);
	EXPECT_EQ(3, ncaps);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(1, r->header.version);
	ASSERT_LE(1u, r->nr_iovas);
	for (uint32_t i = 0; i < r->nr_iovas; i++) {
		EXPECT_LE(r->iova_ranges[i].start, r->iova_ranges[i].end);
		if (i) {
			EXPECT_LT(r->iova_ranges[i - 1].end, r->iova_ranges[i].start);
		}
#if defined(__x86_64__) || defined(__i386__)
		EXPECT_FALSE(r->iova_ranges[i].start <= 0xfee00000ULL &&
			     0xfee00000ULL <= r->iova_ranges[i].end)
			TH_LOG("range %u [%llx, %llx] contains the MSI window", i,
			       (unsigned long long)r->iova_ranges[i].start,
			       (unsigned long long)r->iova_ranges[i].end);
#endif
	}
	/* Our test IOVAs are usable. */
	EXPECT_EQ(0u, r->iova_ranges[0].start);
	EXPECT_LT(0x10000000ULL, r->iova_ranges[0].end);

	mig = (void *)find_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, NULL);
	ASSERT_NE(NULL, mig);
	EXPECT_EQ(1, mig->header.version);
	EXPECT_EQ(0u, mig->flags);
	/* Only the smallest IOMMU page size: the dirty bitmap granule. */
	EXPECT_EQ(PG, mig->pgsize_bitmap);
	EXPECT_EQ(info->iova_pgsizes & -info->iova_pgsizes, mig->pgsize_bitmap);
	/* DIRTY_BITMAP_BYTES(INT_MAX pages) */
	EXPECT_EQ(((uint64_t)INT32_MAX + 63) / 64 * 8, mig->max_dirty_bitmap_size);

	av = (void *)find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, NULL);
	ASSERT_NE(NULL, av);
	EXPECT_EQ(1, av->header.version);
	avail0 = av->avail;
	/* dma_entry_limit defaults to U16_MAX */
	EXPECT_EQ(65535u, avail0);
	ASSERT_EQ(0, map_rw(self->container, mem, 0x100000, PG));
	EXPECT_EQ(avail0 - 1, dma_avail(self->container));
	/* A failed MAP does not consume an entry. */
	EXPECT_EQ(-EEXIST, map_rw(self->container, mem, 0x100000, PG));
	EXPECT_EQ(avail0 - 1, dma_avail(self->container));
	EXPECT_EQ((long long)PG, unmap_all(self->container));
	EXPECT_EQ(avail0, dma_avail(self->container));
	munmap(mem, PG);
}

/* ------------------------------------------------------------------ */
/* 5. dirty page tracking                                              */

static int dirty_get(int c, uint64_t iova, uint64_t size, uint64_t pgsize,
		     uint64_t *bm, uint64_t bmsize)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get g;
	} a = {
		.d = { .argsz = sizeof(a), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP },
		.g = { .iova = iova, .size = size,
		       .bitmap = { .pgsize = pgsize, .size = bmsize, .data = (void *)bm } },
	};

	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &a) ? -errno : 0;
}

TEST_F(t1, dirty_pages_tracking)
{
	char *buf = anon(64 * PG);
	uint64_t bm[4];
	const uint32_t S = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	const uint32_t T = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	const uint32_t G = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	struct vfio_iommu_type1_dirty_bitmap d;
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a;
	int c = self->container;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, map_rw(c, buf, 0x100000, 16 * PG));
	ASSERT_EQ(0, map_rw(c, buf + 16 * PG, 0x120000, 8 * PG));

	/* Bad flags: none, several, unknown; short argsz. */
	EXPECT_EQ(-EINVAL, dirty_flags(c, 0));
	EXPECT_EQ(-EINVAL, dirty_flags(c, S | T));
	EXPECT_EQ(-EINVAL, dirty_flags(c, S | G));
	EXPECT_EQ(-EINVAL, dirty_flags(c, T | G));
	EXPECT_EQ(-EINVAL, dirty_flags(c, 1u << 3));
	EXPECT_EQ(-EINVAL, dirty_flags(c, S | (1u << 3)));
	d = (struct vfio_iommu_type1_dirty_bitmap){ .argsz = sizeof(d) - 1, .flags = S };
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d));
	EXPECT_EQ(EINVAL, errno);

	/* Not tracking: GET_BITMAP is EINVAL; STOP is a no-op success. */
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 16 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(0, dirty_flags(c, T));
	/* GET_BITMAP with no room for the range struct. */
	d = (struct vfio_iommu_type1_dirty_bitmap){ .argsz = sizeof(d), .flags = G };
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, dirty_flags(c, S));
	EXPECT_EQ(0, dirty_flags(c, S)) TH_LOG("START twice is fine");

	/* A vfio-pci group cannot report dirty pages: all mapped pages are dirty. */
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, dirty_get(c, 0x100000, 16 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(0xffffULL, bm[0]);
	EXPECT_EQ(0u, bm[1]);
	/* Both mappings (with the gap between them) in one call; again all dirty. */
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, dirty_get(c, 0x100000, 0x28000, PG, bm, sizeof(bm)));
	EXPECT_EQ(0xffffULL | (0xffULL << 32), bm[0]);
	/* Mapped while tracking: dirty too. */
	ASSERT_EQ(0, map_rw(c, buf + 32 * PG, 0x140000, 4 * PG));
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, dirty_get(c, 0x140000, 4 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(0xfULL, bm[0]);

	/* Bad GET_BITMAP requests. */
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 16 * PG, 2 * PG, bm, sizeof(bm)));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 16 * PG, 1ULL << 21, bm, sizeof(bm)));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x101000, 15 * PG, PG, bm, sizeof(bm))); /* bisects */
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 15 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100800, 16 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 0, PG, bm, sizeof(bm)));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 16 * PG, PG, bm, 0));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 128 * PG, PG, bm, 8)); /* too small */

	/* UNMAP with GET_DIRTY_BITMAP returns the bitmap of what it unmaps. */
	a.u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(a),
		.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, .iova = 0x120000, .size = 8 * PG };
	a.b = (struct vfio_bitmap){ .pgsize = PG, .size = sizeof(bm), .data = (void *)bm };
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(8 * PG, a.u.size);
	/*
	 * Only the bits of the unmapped range are defined.  type1 (6.1 and
	 * 6.12) leaks stale bits past it here: the GET_BITMAP above, which
	 * reached this vfio_dma at a bit offset of 32, shifted its kernel
	 * bitmap in place and clears only the first size/pgsize bits again,
	 * so this UNMAP copied out 0xff000000ff.
	 */
	EXPECT_EQ(0xffULL, bm[0] & 0xff);
	/* Gone. */
	EXPECT_EQ(0, map_rw(c, buf + 16 * PG, 0x120000, 8 * PG));
	/* Wrong bitmap page size. */
	a.u.size = 8 * PG;
	a.b.pgsize = 2 * PG;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(EINVAL, errno);
	/* argsz without room for the bitmap. */
	a.b.pgsize = PG;
	a.u.argsz = sizeof(a.u);
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(EINVAL, errno);
	/* With VADDR. */
	a.u.argsz = sizeof(a);
	a.u.flags |= VFIO_DMA_UNMAP_FLAG_VADDR;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(EINVAL, errno);

	/* STOP; then GET_BITMAP and UNMAP+bitmap are EINVAL. */
	ASSERT_EQ(0, dirty_flags(c, T));
	EXPECT_EQ(-EINVAL, dirty_get(c, 0x100000, 16 * PG, PG, bm, sizeof(bm)));
	a.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	a.u.size = 8 * PG;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was unmapped by the failures. */
	EXPECT_EQ((long long)(28 * PG), unmap_all(c));

	/*
	 * A mapping only ever read at bit offset 0 has a clean bitmap: the
	 * UNMAP bitmap is exactly its pages.
	 */
	ASSERT_EQ(0, map_rw(c, buf, 0x140000, 4 * PG));
	ASSERT_EQ(0, dirty_flags(c, S));
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, dirty_get(c, 0x140000, 4 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(0xfULL, bm[0]);
	memset(bm, 0, sizeof(bm));
	a.u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(a),
		.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, .iova = 0x140000, .size = 4 * PG };
	a.b = (struct vfio_bitmap){ .pgsize = PG, .size = sizeof(bm), .data = (void *)bm };
	ASSERT_EQ(0, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a));
	EXPECT_EQ(4 * PG, a.u.size);
	EXPECT_EQ(0xfULL, bm[0]);
	EXPECT_EQ(0u, bm[1]);
	EXPECT_EQ(0, dirty_flags(c, T));
	EXPECT_EQ(0, unmap_all(c));

	/* A tracking session with no mappings: GET over nothing is empty. */
	ASSERT_EQ(0, dirty_flags(c, S));
	memset(bm, 0xff, sizeof(bm));
	EXPECT_EQ(0, dirty_get(c, 0x100000, 16 * PG, PG, bm, sizeof(bm)));
	EXPECT_EQ(~0ULL, bm[0]) TH_LOG("no mapping in range: bitmap left untouched");
	EXPECT_EQ(0, dirty_flags(c, T));
	munmap(buf, 64 * PG);
}

/* ------------------------------------------------------------------ */
/* 6. VFIO_UPDATE_VADDR                                                */

TEST_F(t1, update_vaddr)
{
	int c = self->container;
	int mfd = memfd_create("t1vaddr", 0);
	char *a, *b, *x = anon(4 * PG);
	uint64_t sz = 0;
	const uint64_t io = 0x100000, io2 = 0x200000, io3 = 0x300000;
	long base = vmlck_kb();

	ASSERT_LE(0, mfd);
	ASSERT_NE(MAP_FAILED, x);
	ASSERT_EQ(0, ftruncate(mfd, PG));
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, a);
	memset(a, 0, PG);

	EXPECT_EQ(1, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(1, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	EXPECT_EQ(1, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));

	ASSERT_EQ(0, edu_dev_open(&self->edu, self->group));
	ASSERT_EQ(0, map_rw(c, a, io, PG));
	ASSERT_EQ(0, map_rw(c, x, io2, 2 * PG));
	ASSERT_EQ(0, map_rw(c, x + 2 * PG, io3, PG));
	EXPECT_EQ(base + 16, vmlck_kb());

	/* VADDR map of a valid (not invalidated) mapping: EINVAL. */
	EXPECT_EQ(-EINVAL, dma_map(c, a, io, PG, VFIO_DMA_MAP_FLAG_VADDR));
	/* Unknown iova: ENOENT. */
	EXPECT_EQ(-ENOENT, dma_map(c, a, 0x700000, PG, VFIO_DMA_MAP_FLAG_VADDR));

	/* Invalidate: reports the size, DMA to the pages goes on. */
	ASSERT_EQ(0, unmap_flags(c, io, PG, VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	EXPECT_EQ(PG, sz);
	EXPECT_EQ(base + 16, vmlck_kb()) TH_LOG("invalidation keeps the pins");
	fill(x + 2 * PG, PG, 5);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, io3));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, io));
	EXPECT_TRUE(check(a, EDU_XFER, 5));
	/* Still there: a plain MAP over it is EEXIST. */
	EXPECT_EQ(-EEXIST, map_rw(c, x, io, PG));
	/* Invalidating twice: EINVAL, size not reported. */
	EXPECT_EQ(-EINVAL, unmap_flags(c, io, PG, VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	/*
	 * A range that meets an already-invalid mapping after a valid one:
	 * EINVAL, and the valid one it had invalidated is made valid again.
	 */
	ASSERT_EQ(0, unmap_flags(c, io3, PG, VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	EXPECT_EQ(-EINVAL, unmap_flags(c, io2, io3 + PG - io2, VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	EXPECT_EQ(-EINVAL, dma_map(c, x, io2, 2 * PG, VFIO_DMA_MAP_FLAG_VADDR))
		TH_LOG("io2 must have been rolled back to valid");
	EXPECT_EQ(0, dma_map(c, x + 2 * PG, io3, PG, VFIO_DMA_MAP_FLAG_VADDR));

	/* VADDR map with a mismatched size / iova inside / with READ|WRITE. */
	EXPECT_EQ(-EINVAL, dma_map(c, a, io, 2 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, dma_map(c, x, io2 + PG, PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, dma_map(c, a, io, PG, VFIO_DMA_MAP_FLAG_VADDR |
				   VFIO_DMA_MAP_FLAG_READ));

	/* The new vaddr: another mapping of the same memory object. */
	b = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, munmap(a, PG));
	EXPECT_TRUE(check(b, EDU_XFER, 5));
	ASSERT_EQ(0, dma_map(c, b, io, PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, dma_map(c, b, io, PG, VFIO_DMA_MAP_FLAG_VADDR))
		TH_LOG("already valid again");
	EXPECT_EQ(base + 16, vmlck_kb()) TH_LOG("same mm: no re-charge");
	/* DMA through the updated mapping lands in the memory b shows. */
	fill(x + 2 * PG, PG, 6);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, io3));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, io));
	EXPECT_TRUE(check(b, EDU_XFER, 6));
	/* And the device reads it: b -> device -> x. */
	fill(b, PG, 7);
	ASSERT_EQ(0, edu_dev_to_dev(&self->edu, io));
	ASSERT_EQ(0, edu_dev_to_ram(&self->edu, io3));
	EXPECT_TRUE(check(x + 2 * PG, EDU_XFER, 7));

	/* UNMAP_ALL with VADDR invalidates all and reports the total. */
	ASSERT_EQ(0, unmap_flags(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	EXPECT_EQ(4 * PG, sz);
	EXPECT_EQ(0, dma_map(c, b, io, PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(0, dma_map(c, x, io2, 2 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(0, dma_map(c, x + 2 * PG, io3, PG, VFIO_DMA_MAP_FLAG_VADDR));
	/* A plain unmap of everything works and uncharges. */
	EXPECT_EQ((long long)(4 * PG), unmap_all(c));
	EXPECT_EQ(base, vmlck_kb());
	munmap(b, PG);
	close(mfd);
}

/* An invalidated mapping is still removed (and uncharged) by a plain UNMAP. */
TEST_F(t1, update_vaddr_invalid_mapping_unmaps)
{
	char *x = anon(2 * PG);
	long base = vmlck_kb();
	uint64_t sz = 0;

	ASSERT_NE(MAP_FAILED, x);
	ASSERT_EQ(0, map_rw(self->container, x, 0x100000, 2 * PG));
	ASSERT_EQ(0, unmap_flags(self->container, 0x100000, 2 * PG, VFIO_DMA_UNMAP_FLAG_VADDR, &sz));
	EXPECT_EQ(2 * PG, sz);
	ASSERT_EQ(0, unmap_flags(self->container, 0x100000, 2 * PG, 0, &sz));
	EXPECT_EQ(2 * PG, sz);
	EXPECT_EQ(base, vmlck_kb());
	EXPECT_EQ(-ENOENT, dma_map(self->container, x, 0x100000, 2 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	munmap(x, 2 * PG);
}

TEST_HARNESS_MAIN
