// SPDX-License-Identifier: GPL-2.0
/*
 * Differential VM selftests of the mdev side of a VFIO IOMMU backend:
 * vfio_pin_pages/vfio_unpin_pages/vfio_dma_rw from a vendor driver, the
 * dma_unmap notification, and locked_vm accounting in mdev-only and mixed
 * (mdev + passthrough) containers.
 *
 * The mediated device is vfio_cxx_mtest (selftests/mdev/, register map in
 * selftests/mdev/mtest_regs.h), a DMA engine that pins guest IOVAs and copies
 * between its buffer and the pinned pages, or uses vfio_dma_rw.  Each test
 * creates its mdev(s) through the mdev sysfs "create" file and removes them
 * at teardown.  The passthrough group is QEMU's edu device bound to
 * vfio-pci (VFIO_CXX_GROUP=<iommu group>).
 *
 * Every test runs once per backend (FIXTURE_VARIANT), as in type1_api_test.c:
 *   type1 - claim_type1=0: the in-tree vfio_iommu_type1 serves
 *           VFIO_TYPE1v2_IOMMU (the reference);
 *   cxx   - claim_type1=1: vfio_iommu_cxx serves it (skipped when the module
 *           is not loaded).
 * The containers_opened counter of our debugfs stats proves which served.
 * Behaviour numbers refer to Documentation/requirements.rst; VmLck
 * (mm->locked_vm) is checked after every step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#pragma GCC diagnostic ignored "-Wclobbered"


#define IOVA 0x100000ULL
#define TIMEOUT 180

/* ------------------------------------------------------------------ */
/* mdev commands                                                       */

#define RW (MTEST_PROT_READ | MTEST_PROT_WRITE)

static long long pin(struct mdev *m, uint64_t iova, uint64_t n, uint64_t prot)
{
	return run_cmd(m, MTEST_CMD_PIN, iova, n, prot, 0);
}

static long long unpin(struct mdev *m, uint64_t iova, uint64_t n)
{
	return run_cmd(m, MTEST_CMD_UNPIN, iova, n, 0, 0);
}

static long long copy_cmd(struct mdev *m, uint64_t cmd, uint64_t iova, uint64_t len)
{
	return run_cmd(m, cmd, iova, 0, 0, len);
}

static long long pinned(struct mdev *m)
{
	return (long long)reg_r(m, MTEST_REG_PINNED);
}

static int buf_w(struct mdev *m, const void *p, size_t len)
{
	return pwrite(m->dev, p, len, m->region + MTEST_BUF_OFF) == (ssize_t)len ? 0 : -1;
}

static int buf_r(struct mdev *m, void *p, size_t len)
{
	return pread(m->dev, p, len, m->region + MTEST_BUF_OFF) == (ssize_t)len ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */

FIXTURE(md) {
	int container;
	int edu;	/* edu group fd, -1 until a test opens it */
	int cxx;	/* the backend that served, from the stats counter */
	long base;	/* VmLck at the start, KiB */
	long opened0;
	struct mdev m[2];
};

FIXTURE_VARIANT(md) {
	int cxx;	/* 1: vfio_iommu_cxx serves the container */
};

FIXTURE_VARIANT_ADD(md, type1) {
	.cxx = 0,
};

FIXTURE_VARIANT_ADD(md, cxx) {
	.cxx = 1,
};

static void md_cleanup(FIXTURE_DATA(md) *self)
{
	mdev_close_dev(&self->m[0]);
	mdev_close_dev(&self->m[1]);
	if (self->edu >= 0)
		close(self->edu);
	self->edu = -1;
	mdev_destroy(&self->m[0]);
	mdev_destroy(&self->m[1]);
	if (self->container >= 0)
		close(self->container);
	self->container = -1;
}

/*
 * Sets VFIO_TYPE1v2_IOMMU on the container (its first group attached) and
 * records which backend served.  Returns 0 or -errno.
 */
static int set_iommu(FIXTURE_DATA(md) *self)
{
	if (ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	self->cxx = cxx_served(self->opened0, containers_opened());
	return 0;
}

static int open_edu_group(FIXTURE_DATA(md) *self)
{
	self->edu = edu_group_open();
	return self->edu < 0 ? -errno : 0;
}

/* Set-up step by step; returns 0 or the failing step. */
static int md_open(FIXTURE_DATA(md) *self, int cxx)
{
	int r = claim_type1(cxx, &self->opened0);

	if (r)
		return -r;	/* 1: the parameter, 2: the counter */
	self->container = open("/dev/vfio/vfio", O_RDWR);
	if (self->container < 0)
		return 3;
	if (mdev_create(&self->m[0]))
		return 4;
	return 0;
}

FIXTURE_SETUP(md)
{
	int r;

	self->container = self->edu = -1;
	self->m[0].uuid[0] = self->m[1].uuid[0] = 0;
	self->m[0].group = self->m[1].group = self->m[0].dev = self->m[1].dev = -1;
	self->cxx = -1;
	if (variant->cxx && !module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (access(MTEST_CREATE, W_OK))
		SKIP(return, "vfio_cxx_mtest is not loaded");
	self->base = vmlck_kb();
	r = md_open(self, variant->cxx);
	if (r)
		md_cleanup(self);
	ASSERT_EQ(0, r) TH_LOG("set-up step %d: %s", r, strerror(errno));
	ASSERT_LE(0, self->base);
}

FIXTURE_TEARDOWN(md)
{
	md_cleanup(self);
	if (module_loaded())
		write_str(PARAM_CLAIM, "1");
}

/*
 * The usual start: the mdev group alone in the container, TYPE1v2 set by
 * the variant's backend, the device open.
 */
#define START_MDEV_ONLY() do {							\
	ASSERT_EQ(0, set_container(self->m[0].group, self->container));		\
	ASSERT_EQ(0, set_iommu(self)) TH_LOG("VFIO_SET_IOMMU for an mdev-only container"); \
	ASSERT_EQ(variant->cxx, self->cxx) TH_LOG("the wrong backend served");	\
	ASSERT_EQ(0, mdev_open_dev(&self->m[0]));				\
	ASSERT_EQ(0, pinned(&self->m[0]));					\
	ASSERT_EQ(self->base, vmlck_kb());					\
} while (0)

#define VMLCK(pages) EXPECT_EQ(self->base + KB(pages), vmlck_kb())

/* ------------------------------------------------------------------ */
/* 1. mdev-only containers: map, pin, DMA (B3, B15-B18, B21)           */

/* B3: DMA_MAP in an mdev-only container pins and charges nothing. */
TEST_F_TIMEOUT(md, b3_mdev_only_map_pins_nothing, TIMEOUT)
{
	char *buf = anon(64 * PG);

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 64 * PG));
	VMLCK(0);
	EXPECT_EQ(0, pinned(&self->m[0]));
	EXPECT_EQ((long long)(64 * PG), dma_unmap(self->container, IOVA, 64 * PG));
	VMLCK(0);
}

/*
 * B16/B21: PIN returns npage and the pages are the user's at the right
 * offset: the device's writes through them land in the user buffer and its
 * reads see the user's bytes.  Each newly pinned page is charged once; the
 * unpin uncharges.
 */
TEST_F_TIMEOUT(md, b16_b21_pin_returns_npage_and_dma_lands, TIMEOUT)
{
	char *buf = anon(8 * PG), *pat = malloc(3 * PG), *got = malloc(3 * PG);
	const uint64_t at = IOVA + 2 * PG + 100;	/* pages 2..4, unaligned */
	const size_t len = 2 * PG + 500;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_TRUE(pat && got);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 8 * PG));
	VMLCK(0);

	ASSERT_EQ(3, pin(&self->m[0], IOVA + 2 * PG, 3, RW));
	EXPECT_EQ(3, pinned(&self->m[0]));
	VMLCK(3);

	/* Device buffer -> user memory through the pinned pages. */
	fill(pat, len, 1);
	ASSERT_EQ(0, buf_w(&self->m[0], pat, len));
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_WRITE_PINNED, at, len));
	EXPECT_TRUE(check(buf + 2 * PG + 100, len, 1)) TH_LOG("WRITE_PINNED missed the user buffer");
	EXPECT_EQ(0x5a, (unsigned char)buf[2 * PG + 99]);
	EXPECT_EQ(0x5a, (unsigned char)buf[2 * PG + 100 + len]);
	VMLCK(3);

	/* User memory -> device buffer. */
	fill(buf + 2 * PG + 100, len, 2);
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_READ_PINNED, at, len));
	ASSERT_EQ(0, buf_r(&self->m[0], got, len));
	EXPECT_TRUE(check(got, len, 2)) TH_LOG("READ_PINNED did not read the user buffer");

	/* A page this device did not pin is not reachable through pins. */
	EXPECT_EQ(-EFAULT, copy_cmd(&self->m[0], MTEST_CMD_READ_PINNED, IOVA + 4 * PG + 4000, 200));

	ASSERT_EQ(3, unpin(&self->m[0], IOVA + 2 * PG, 3));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0);
	/* The bytes stay where they landed. */
	EXPECT_TRUE(check(buf + 2 * PG + 100, len, 2));
	EXPECT_EQ((long long)(8 * PG), dma_unmap(self->container, IOVA, 8 * PG));
	VMLCK(0);
	free(pat);
	free(got);
}

/* B16: vfio_dma_rw reads and writes the user's memory at IOVA, pins nothing. */
TEST_F_TIMEOUT(md, b16_dma_rw_reads_and_writes_user_memory, TIMEOUT)
{
	char *buf = anon(8 * PG), *pat = malloc(3 * PG), *got = malloc(3 * PG);
	const uint64_t at = IOVA + 5 * PG + 300;
	const size_t len = 2 * PG + 77;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_TRUE(pat && got);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 8 * PG));

	fill(pat, len, 3);
	ASSERT_EQ(0, buf_w(&self->m[0], pat, len));
	EXPECT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_RW_WRITE, at, len));
	EXPECT_TRUE(check(buf + 5 * PG + 300, len, 3)) TH_LOG("RW_WRITE missed the user buffer");
	EXPECT_EQ(0x5a, (unsigned char)buf[5 * PG + 299]);
	EXPECT_EQ(0x5a, (unsigned char)buf[5 * PG + 300 + len]);
	VMLCK(0);

	fill(buf + PG, len, 4);
	EXPECT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_RW_READ, IOVA + PG, len));
	ASSERT_EQ(0, buf_r(&self->m[0], got, len));
	EXPECT_TRUE(check(got, len, 4)) TH_LOG("RW_READ did not read the user buffer");
	VMLCK(0);
	EXPECT_EQ(0, pinned(&self->m[0]));

	/*
	 * Outside every mapping, or running past its end: an error.  (type1
	 * copies the part inside the mapping before it fails, so no check
	 * that nothing was written.)
	 */
	EXPECT_GT(0, copy_cmd(&self->m[0], MTEST_CMD_RW_READ, IOVA + 8 * PG, 16));
	EXPECT_GT(0, copy_cmd(&self->m[0], MTEST_CMD_RW_WRITE, IOVA + 8 * PG - 8, 16));
	VMLCK(0);
	free(pat);
	free(got);
}

/*
 * B17/B21: a page pinned twice is charged once and stays pinned (and
 * usable) until unpinned twice.
 */
TEST_F_TIMEOUT(md, b17_b21_pin_twice_unpin_twice, TIMEOUT)
{
	char *buf = anon(4 * PG), pat[64];

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 4 * PG));
	VMLCK(0);
	ASSERT_EQ(2, pin(&self->m[0], IOVA, 2, RW));
	VMLCK(2);
	ASSERT_EQ(1, pin(&self->m[0], IOVA + PG, 1, RW));
	EXPECT_EQ(3, pinned(&self->m[0]));
	VMLCK(2) TH_LOG("a page pinned twice was charged twice (B21)");

	ASSERT_EQ(1, unpin(&self->m[0], IOVA + PG, 1));
	EXPECT_EQ(2, pinned(&self->m[0]));
	VMLCK(2) TH_LOG("the first unpin of a twice-pinned page released it (B17)");
	/* Still the user's page. */
	fill(pat, sizeof(pat), 5);
	ASSERT_EQ(0, buf_w(&self->m[0], pat, sizeof(pat)));
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_WRITE_PINNED, IOVA + PG + 8, sizeof(pat)));
	EXPECT_TRUE(check(buf + PG + 8, sizeof(pat), 5));

	ASSERT_EQ(1, unpin(&self->m[0], IOVA + PG, 1));
	VMLCK(1);
	ASSERT_EQ(1, unpin(&self->m[0], IOVA, 1));
	VMLCK(0);
	EXPECT_EQ(0, pinned(&self->m[0]));
	EXPECT_EQ((long long)(4 * PG), dma_unmap(self->container, IOVA, 4 * PG));
	VMLCK(0);
}

/* B18: unpinning mapped pages that were never pinned changes nothing. */
TEST_F_TIMEOUT(md, b18_unpin_never_pinned_ignored, TIMEOUT)
{
	char *buf = anon(4 * PG);

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 4 * PG));
	/*
	 * Pin first: a backend without pin_pages has no unpin_pages either,
	 * and vfio_unpin_pages() does not check for it (6.1, 6.12).
	 */
	ASSERT_EQ(1, pin(&self->m[0], IOVA, 1, RW));
	ASSERT_EQ(1, unpin(&self->m[0], IOVA, 1));
	VMLCK(0);
	/* Nothing pinned at all. */
	EXPECT_EQ(0, unpin(&self->m[0], IOVA, 4));
	VMLCK(0);
	/* Page 0 pinned; unpinning pages 1..3 leaves it pinned and charged. */
	ASSERT_EQ(1, pin(&self->m[0], IOVA, 1, RW));
	VMLCK(1);
	EXPECT_EQ(0, unpin(&self->m[0], IOVA + PG, 3));
	VMLCK(1) TH_LOG("unpin of never-pinned pages changed the charge");
	EXPECT_EQ(1, pinned(&self->m[0]));
	/* Pin again, unpin once: a never-pinned unpin did not eat a reference. */
	ASSERT_EQ(1, pin(&self->m[0], IOVA, 1, RW));
	ASSERT_EQ(1, unpin(&self->m[0], IOVA, 1));
	VMLCK(1);
	ASSERT_EQ(1, unpin(&self->m[0], IOVA, 1));
	VMLCK(0);
	/* And once more on the now unpinned page: ignored, no underflow. */
	EXPECT_EQ(0, unpin(&self->m[0], IOVA, 1));
	VMLCK(0);
	EXPECT_EQ((long long)(4 * PG), dma_unmap(self->container, IOVA, 4 * PG));
	VMLCK(0);
}

/*
 * B15: a pin reaching outside every mapping fails with -EINVAL and the
 * pins that call made first are undone (nothing held, nothing charged).
 */
TEST_F_TIMEOUT(md, b15_pin_outside_mappings_einval_and_undone, TIMEOUT)
{
	char *buf = anon(4 * PG);

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 4 * PG));
	/* Nowhere near a mapping. */
	EXPECT_EQ(-EINVAL, pin(&self->m[0], IOVA + 64 * PG, 1, RW));
	VMLCK(0);
	/* Pages 2,3 mapped, 4,5 not: the two first pins are undone. */
	EXPECT_EQ(-EINVAL, pin(&self->m[0], IOVA + 2 * PG, 4, RW));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0) TH_LOG("the pins before the failing page were not undone");
	/* Starting in a hole before the mapping. */
	EXPECT_EQ(-EINVAL, pin(&self->m[0], IOVA - PG, 2, RW));
	VMLCK(0);
	/* The same pages pin normally afterwards, with no leftover reference. */
	ASSERT_EQ(2, pin(&self->m[0], IOVA + 2 * PG, 2, RW));
	VMLCK(2);
	ASSERT_EQ(2, unpin(&self->m[0], IOVA + 2 * PG, 2));
	VMLCK(0);
	EXPECT_EQ((long long)(4 * PG), dma_unmap(self->container, IOVA, 4 * PG));
	VMLCK(0);
}

/*
 * B15: a write pin of a read-only mapping fails with -EPERM, undoing the
 * pins that call made first; a read pin works.
 */
TEST_F_TIMEOUT(md, b15_write_pin_of_read_only_mapping_eperm, TIMEOUT)
{
	char *buf = anon(4 * PG), got[32];

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	/* Pages 0,1 read-write, pages 2,3 read-only. */
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 2 * PG));
	ASSERT_EQ(0, dma_map(self->container, buf + 2 * PG, IOVA + 2 * PG, 2 * PG,
			     VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EPERM, pin(&self->m[0], IOVA + 2 * PG, 1, RW));
	EXPECT_EQ(-EPERM, pin(&self->m[0], IOVA + 2 * PG, 1, MTEST_PROT_WRITE));
	VMLCK(0);
	/* Page 1 pins, page 2 fails: page 1 is given back. */
	EXPECT_EQ(-EPERM, pin(&self->m[0], IOVA + PG, 2, RW));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0) TH_LOG("the pin before the failing page was not undone");

	ASSERT_EQ(1, pin(&self->m[0], IOVA + 2 * PG, 1, MTEST_PROT_READ));
	VMLCK(1);
	fill(buf + 2 * PG + 40, sizeof(got), 6);
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_READ_PINNED, IOVA + 2 * PG + 40, sizeof(got)));
	ASSERT_EQ(0, buf_r(&self->m[0], got, sizeof(got)));
	EXPECT_TRUE(check(got, sizeof(got), 6));
	ASSERT_EQ(1, unpin(&self->m[0], IOVA + 2 * PG, 1));
	VMLCK(0);
}

/* ------------------------------------------------------------------ */
/* 2. unmap notification (B9-B12)                                      */

/*
 * B9/B10/B11: DMA_UNMAP over vendor-pinned pages succeeds; the device got
 * dma_unmap before the ioctl returned and holds no pin in the range
 * afterwards; the charge is back.  Pins in another mapping stay.
 */
TEST_F_TIMEOUT(md, b9_b10_b11_unmap_while_pinned, TIMEOUT)
{
	char *a = anon(8 * PG), *b = anon(4 * PG);
	const uint64_t ib = IOVA + 0x100000;
	uint64_t calls, li, ll;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, a, IOVA, 8 * PG));
	ASSERT_EQ(0, map_rw(self->container, b, ib, 4 * PG));
	ASSERT_EQ(3, pin(&self->m[0], IOVA + PG, 3, RW));
	ASSERT_EQ(1, pin(&self->m[0], IOVA + PG, 1, RW));	/* twice */
	ASSERT_EQ(2, pin(&self->m[0], ib, 2, RW));
	VMLCK(5);
	EXPECT_EQ(6, pinned(&self->m[0]));
	EXPECT_EQ(0ULL, reg_r(&self->m[0], MTEST_REG_UNMAP_CALLS));

	EXPECT_EQ((long long)(8 * PG), dma_unmap(self->container, IOVA, 8 * PG))
		TH_LOG("unmap over vendor pins must succeed (B9)");
	calls = reg_r(&self->m[0], MTEST_REG_UNMAP_CALLS);
	li = reg_r(&self->m[0], MTEST_REG_UNMAP_IOVA);
	ll = reg_r(&self->m[0], MTEST_REG_UNMAP_LEN);
	EXPECT_LE(1ULL, calls) TH_LOG("no dma_unmap before DMA_UNMAP returned (B10)");
	/* The notified range covers the pinned pages of a. */
	EXPECT_LE(li, IOVA + PG);
	EXPECT_GE(li + ll, IOVA + 4 * PG);
	EXPECT_EQ(4ULL, reg_r(&self->m[0], MTEST_REG_UNMAP_DROPPED));
	EXPECT_EQ(2, pinned(&self->m[0])) TH_LOG("pins of the other mapping must stay");
	VMLCK(2) TH_LOG("unmap left vendor pins charged (B11)");
	/* Nothing of a is reachable: pinning its IOVA fails. */
	EXPECT_EQ(-EINVAL, pin(&self->m[0], IOVA + PG, 1, RW));
	VMLCK(2);

	EXPECT_EQ((long long)(4 * PG), dma_unmap(self->container, ib, 4 * PG));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0);
	/* The IOVA is free again. */
	ASSERT_EQ(0, map_rw(self->container, a, IOVA, 8 * PG));
	EXPECT_EQ((long long)(8 * PG), dma_unmap(self->container, IOVA, 8 * PG));
	VMLCK(0);
}

/* B12: after unmap and remap of the IOVA to new memory a pin gets the new page. */
TEST_F_TIMEOUT(md, b12_remap_same_iova_pins_new_memory, TIMEOUT)
{
	char *a = anon(2 * PG), *b = anon(2 * PG), got[256], pat[256];

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	fill(a, 2 * PG, 7);
	fill(b, 2 * PG, 8);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, a, IOVA, 2 * PG));
	ASSERT_EQ(2, pin(&self->m[0], IOVA, 2, RW));
	VMLCK(2);
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_READ_PINNED, IOVA, sizeof(got)));
	ASSERT_EQ(0, buf_r(&self->m[0], got, sizeof(got)));
	EXPECT_TRUE(check(got, sizeof(got), 7));

	EXPECT_EQ((long long)(2 * PG), dma_unmap(self->container, IOVA, 2 * PG));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0);
	ASSERT_EQ(0, map_rw(self->container, b, IOVA, 2 * PG));
	ASSERT_EQ(2, pin(&self->m[0], IOVA, 2, RW));
	VMLCK(2);
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_READ_PINNED, IOVA + PG, sizeof(got)));
	ASSERT_EQ(0, buf_r(&self->m[0], got, sizeof(got)));
	EXPECT_TRUE(memcmp(got, b + PG, sizeof(got)) == 0) TH_LOG("the pin returned the old page");
	/* Writes go to the new memory, never to the old. */
	memset(pat, 0xc3, sizeof(pat));
	ASSERT_EQ(0, buf_w(&self->m[0], pat, sizeof(pat)));
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_WRITE_PINNED, IOVA, sizeof(pat)));
	EXPECT_EQ(0, memcmp(b, pat, sizeof(pat)));
	EXPECT_TRUE(check(a, 2 * PG, 7));
	/* vfio_dma_rw sees the new memory as well. */
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_RW_READ, IOVA + PG, sizeof(got)));
	ASSERT_EQ(0, buf_r(&self->m[0], got, sizeof(got)));
	EXPECT_TRUE(memcmp(got, b + PG, sizeof(got)) == 0);
	ASSERT_EQ(2, unpin(&self->m[0], IOVA, 2));
	VMLCK(0);
}

/* ------------------------------------------------------------------ */
/* 3. RLIMIT_MEMLOCK (B23, B15)                                        */

/*
 * B23: without CAP_IPC_LOCK, a vendor pin over RLIMIT_MEMLOCK fails with
 * -ENOMEM; a pin that fails partway undoes its first pins (B15).
 */
TEST_F_TIMEOUT(md, b23_vendor_pin_over_rlimit_enomem, TIMEOUT)
{
	char *buf = anon(8 * PG);

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, drop_cap_ipc_lock());	/* before MAP: type1 records it there */
	ASSERT_EQ(0, set_memlock(self->base * 1024 + 2 * PG));
	START_MDEV_ONLY();
	/* Mapping is free in an mdev-only container, even over the limit. */
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 8 * PG));
	VMLCK(0);
	ASSERT_EQ(2, pin(&self->m[0], IOVA, 2, RW));
	VMLCK(2);
	/* Re-pinning a charged page costs nothing, a new page is over. */
	EXPECT_EQ(1, pin(&self->m[0], IOVA, 1, RW));
	VMLCK(2);
	EXPECT_EQ(-ENOMEM, pin(&self->m[0], IOVA + 2 * PG, 1, RW));
	VMLCK(2);
	EXPECT_EQ(3, pinned(&self->m[0]));
	/* One page of room: a 2-page pin fails and gives back its first page. */
	ASSERT_EQ(1, unpin(&self->m[0], IOVA + PG, 1));
	VMLCK(1);
	EXPECT_EQ(-ENOMEM, pin(&self->m[0], IOVA + 2 * PG, 2, RW));
	VMLCK(1) TH_LOG("the failed pin kept its first page charged");
	EXPECT_EQ(1, pin(&self->m[0], IOVA + 2 * PG, 1, RW));
	VMLCK(2);
	EXPECT_EQ((long long)(8 * PG), dma_unmap(self->container, IOVA, 8 * PG));
	EXPECT_EQ(0, pinned(&self->m[0]));
	VMLCK(0);
}

/* ------------------------------------------------------------------ */
/* 4. mixed containers: edu (vfio-pci) + mdev (B22, B24-B27, B29)      */

#define MIXED_PAGES 16

/*
 * B22/B25, passthrough first: with RLIMIT_MEMLOCK = the mapped size, MAP
 * charges everything, vendor pins and unpins do not change VmLck, and the
 * vendor driver's DMA works.
 */
TEST_F_TIMEOUT(md, b22_b25_passthrough_first_vendor_pins_not_charged, TIMEOUT)
{
	char *buf = anon(MIXED_PAGES * PG), pat[128];

	ASSERT_NE(MAP_FAILED, buf);
	if (edu_group_number() < 0)
		SKIP(return, "VFIO_CXX_GROUP is not set");
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(self->base * 1024 + MIXED_PAGES * PG));
	ASSERT_EQ(0, open_edu_group(self));
	ASSERT_EQ(0, set_container(self->edu, self->container));
	ASSERT_EQ(0, set_iommu(self));
	ASSERT_EQ(variant->cxx, self->cxx);
	ASSERT_EQ(0, set_container(self->m[0].group, self->container));
	ASSERT_EQ(0, mdev_open_dev(&self->m[0]));
	VMLCK(0);

	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, MIXED_PAGES * PG));
	VMLCK(MIXED_PAGES);
	ASSERT_EQ(4, pin(&self->m[0], IOVA + 4 * PG, 4, RW));
	VMLCK(MIXED_PAGES) TH_LOG("vendor pin charged a page the IOMMU mapping already pinned (B22)");
	ASSERT_EQ(2, pin(&self->m[0], IOVA + 4 * PG, 2, RW));
	VMLCK(MIXED_PAGES);
	fill(pat, sizeof(pat), 9);
	ASSERT_EQ(0, buf_w(&self->m[0], pat, sizeof(pat)));
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_WRITE_PINNED, IOVA + 5 * PG + 16, sizeof(pat)));
	EXPECT_TRUE(check(buf + 5 * PG + 16, sizeof(pat), 9));
	ASSERT_EQ(4, unpin(&self->m[0], IOVA + 4 * PG, 4));
	VMLCK(MIXED_PAGES);

	/* Unmap with vendor pins left: succeeds, everything uncharged. */
	EXPECT_EQ(2, pinned(&self->m[0]));
	EXPECT_EQ((long long)(MIXED_PAGES * PG), dma_unmap(self->container, IOVA, MIXED_PAGES * PG));
	EXPECT_EQ(0, pinned(&self->m[0]));
	EXPECT_LE(1ULL, reg_r(&self->m[0], MTEST_REG_UNMAP_CALLS));
	VMLCK(0);
}

/*
 * B24/B25/B26/B27, mdev first: map (free), vendor-pin some pages, then
 * attach the passthrough group with RLIMIT_MEMLOCK = the mapped size: the
 * replay charges only the pages not vendor-pinned (VmLck = mapped size, not
 * more).  Detaching it keeps the mappings and leaves exactly the vendor
 * pins charged; re-attaching charges the mapped size again.
 */
TEST_F_TIMEOUT(md, b24_b25_b26_b27_mdev_first_then_passthrough, TIMEOUT)
{
	char *buf = anon(MIXED_PAGES * PG), pat[128];

	ASSERT_NE(MAP_FAILED, buf);
	if (edu_group_number() < 0)
		SKIP(return, "VFIO_CXX_GROUP is not set");
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(self->base * 1024 + MIXED_PAGES * PG));
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, MIXED_PAGES * PG));
	VMLCK(0);
	ASSERT_EQ(4, pin(&self->m[0], IOVA, 4, RW));
	ASSERT_EQ(1, pin(&self->m[0], IOVA, 1, RW));
	VMLCK(4);

	/* B24/B25: attach the passthrough group; the replay fits the limit. */
	ASSERT_EQ(0, open_edu_group(self));
	ASSERT_EQ(0, set_container(self->edu, self->container))
		TH_LOG("attach with RLIMIT_MEMLOCK = mapped size failed (B25)");
	VMLCK(MIXED_PAGES) TH_LOG("replay charged vendor-pinned pages twice (B24)");
	/* B22: new vendor pins are free now. */
	ASSERT_EQ(2, pin(&self->m[0], IOVA + 8 * PG, 2, RW));
	VMLCK(MIXED_PAGES);
	EXPECT_EQ(7, pinned(&self->m[0]));

	/* B26: detach the passthrough group; the mdev group stays. */
	ASSERT_EQ(0, unset_container(self->edu));
	VMLCK(6) TH_LOG("after the last IOMMU group left, VmLck must be the vendor-pinned pages (B26)");
	EXPECT_EQ(7, pinned(&self->m[0]));
	/* The mappings were kept: pins and DMA still work. */
	fill(pat, sizeof(pat), 10);
	ASSERT_EQ(0, buf_w(&self->m[0], pat, sizeof(pat)));
	ASSERT_EQ(0, copy_cmd(&self->m[0], MTEST_CMD_WRITE_PINNED, IOVA + 8 * PG + 64, sizeof(pat)));
	EXPECT_TRUE(check(buf + 8 * PG + 64, sizeof(pat), 10));
	ASSERT_EQ(1, pin(&self->m[0], IOVA + 12 * PG, 1, RW));
	VMLCK(7);
	ASSERT_EQ(1, unpin(&self->m[0], IOVA + 12 * PG, 1));
	VMLCK(6);

	/* B27: re-attach; everything is pinned and charged once again. */
	ASSERT_EQ(0, set_container(self->edu, self->container));
	VMLCK(MIXED_PAGES) TH_LOG("re-attach did not charge exactly the mapped size (B27)");
	/* One entry per page: page 0, pinned twice, keeps one pin. */
	ASSERT_EQ(6, unpin(&self->m[0], IOVA, MIXED_PAGES));
	VMLCK(MIXED_PAGES);
	EXPECT_EQ(1, pinned(&self->m[0]));
	ASSERT_EQ(1, unpin(&self->m[0], IOVA, 1));
	VMLCK(MIXED_PAGES);
	EXPECT_EQ(0, pinned(&self->m[0]));
	EXPECT_EQ((long long)(MIXED_PAGES * PG), dma_unmap(self->container, IOVA, MIXED_PAGES * PG));
	VMLCK(0);
}

/* ------------------------------------------------------------------ */
/* 5. two mdevs, one container (B28)                                   */

/*
 * B28: a group attached twice is refused; two mdev groups in one
 * container share it: both pin (a page pinned by both is charged once),
 * both are notified on unmap.
 */
TEST_F_TIMEOUT(md, b28_two_mdev_groups_share_one_container, TIMEOUT)
{
	char *buf = anon(8 * PG), pat[64];
	struct mdev *m0 = &self->m[0], *m1 = &self->m[1];

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	EXPECT_NE(0, set_container(m0->group, self->container)) TH_LOG("same group attached twice");
	ASSERT_EQ(0, mdev_create(m1));
	ASSERT_NE(m0->groupnr, m1->groupnr);
	ASSERT_EQ(0, set_container(m1->group, self->container));
	ASSERT_EQ(0, mdev_open_dev(m1));
	VMLCK(0);

	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 8 * PG));
	ASSERT_EQ(2, pin(m0, IOVA, 2, RW));
	VMLCK(2);
	ASSERT_EQ(2, pin(m1, IOVA + PG, 2, RW));	/* page 1 shared */
	VMLCK(3) TH_LOG("a page pinned by two devices was charged twice");

	fill(pat, sizeof(pat), 11);
	ASSERT_EQ(0, buf_w(m1, pat, sizeof(pat)));
	ASSERT_EQ(0, copy_cmd(m1, MTEST_CMD_WRITE_PINNED, IOVA + PG + 4000, sizeof(pat)));
	EXPECT_TRUE(check(buf + PG + 4000, sizeof(pat), 11));
	/* m0 reads what m1 wrote, through its own pin of the shared page. */
	memset(pat, 0, sizeof(pat));
	ASSERT_EQ(0, copy_cmd(m0, MTEST_CMD_READ_PINNED, IOVA + PG + 4000, sizeof(pat)));
	ASSERT_EQ(0, buf_r(m0, pat, sizeof(pat)));
	EXPECT_TRUE(check(pat, sizeof(pat), 11));

	/* m0 drops its pins; m1's shared page stays charged. */
	ASSERT_EQ(2, unpin(m0, IOVA, 2));
	VMLCK(2);
	ASSERT_EQ(1, pin(m0, IOVA + 3 * PG, 1, RW));
	VMLCK(3);
	EXPECT_EQ((long long)(8 * PG), dma_unmap(self->container, IOVA, 8 * PG));
	EXPECT_LE(1ULL, reg_r(m0, MTEST_REG_UNMAP_CALLS));
	EXPECT_LE(1ULL, reg_r(m1, MTEST_REG_UNMAP_CALLS));
	EXPECT_EQ(0, pinned(m0));
	EXPECT_EQ(0, pinned(m1));
	VMLCK(0);
}

/* ------------------------------------------------------------------ */
/* 6. close (B29)                                                      */

/* B29: closing the device fd drops its pins; closing everything leaves the baseline. */
TEST_F_TIMEOUT(md, b29_close_mdev_only_returns_to_baseline, TIMEOUT)
{
	char *buf = anon(8 * PG);

	ASSERT_NE(MAP_FAILED, buf);
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, 8 * PG));
	ASSERT_EQ(5, pin(&self->m[0], IOVA, 5, RW));
	ASSERT_EQ(2, pin(&self->m[0], IOVA, 2, RW));
	VMLCK(5);
	mdev_close_dev(&self->m[0]);	/* close_device unpins everything */
	VMLCK(0);
	/* Re-open: pins again from a clean state. */
	ASSERT_EQ(0, mdev_open_dev(&self->m[0]));
	ASSERT_EQ(3, pin(&self->m[0], IOVA + 4 * PG, 3, RW));
	VMLCK(3);
	/* Container and group closed with the device still open and pinned. */
	close(self->container);
	self->container = -1;
	VMLCK(3);	/* the device keeps the container alive */
	close(self->m[0].group);
	self->m[0].group = -1;
	VMLCK(3);
	mdev_close_dev(&self->m[0]);
	VMLCK(0);
}

/* B29: a mixed container closed with mappings and vendor pins leaves the baseline. */
TEST_F_TIMEOUT(md, b29_close_mixed_returns_to_baseline, TIMEOUT)
{
	char *buf = anon(MIXED_PAGES * PG);

	ASSERT_NE(MAP_FAILED, buf);
	if (edu_group_number() < 0)
		SKIP(return, "VFIO_CXX_GROUP is not set");
	START_MDEV_ONLY();
	ASSERT_EQ(0, map_rw(self->container, buf, IOVA, MIXED_PAGES * PG));
	ASSERT_EQ(3, pin(&self->m[0], IOVA, 3, RW));
	VMLCK(3);
	ASSERT_EQ(0, open_edu_group(self));
	ASSERT_EQ(0, set_container(self->edu, self->container));
	VMLCK(MIXED_PAGES);
	ASSERT_EQ(2, pin(&self->m[0], IOVA + 2 * PG, 2, RW));
	VMLCK(MIXED_PAGES);

	close(self->container);
	self->container = -1;
	VMLCK(MIXED_PAGES);
	mdev_close_dev(&self->m[0]);
	VMLCK(MIXED_PAGES);	/* the IOMMU mapping still pins every page */
	close(self->m[0].group);
	self->m[0].group = -1;
	VMLCK(MIXED_PAGES);
	close(self->edu);
	self->edu = -1;
	VMLCK(0);
}

TEST_HARNESS_MAIN
