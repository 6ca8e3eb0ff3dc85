// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of vfio_iommu_cxx: the C++ core through the real kapi, inside
 * the kernel.  Kbuild links this file into the module itself when the target
 * kernel has CONFIG_KUNIT (the debug kernel, scripts/debug-kernel.sh), so the
 * suites run when the module is loaded; Debian's kernels have no KUnit and
 * build the module without it.
 *
 * Each test case runs in a KUnit kthread.  kunit_vm_mmap() gives that thread
 * a real mm (mm_alloc + kthread_use_mm) with real user mappings, so the
 * locked_vm accounting, mm_count/mm_users and pin_user_pages_remote() paths
 * are the ones a VFIO user process takes.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../module/kapi/services.h"
#include "../module/core/entry.h"
#include "../uapi/linux/vfio_cxx.h"

/* ---- the range map (kapi_rangemap_*, the kernel's rbtree) --------------- */

/* Entries must be non-NULL: use addresses in an array.  Each has its node. */
static u64 tokens[8] __aligned(8);
#define TOK(i) ((void *)&tokens[i])
static struct kapi_range_node nodes[8];
#define NODE(i) (&nodes[i])

static void rangemap_insert_find_erase(struct kunit *test)
{
	struct kapi_rangemap *m = kapi_rangemap_create();

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(0), 0x1000, 0x1fff, TOK(0)), 0);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x4000, 0x7fff, TOK(1)), 0);
	/* Adjacent on both sides of an existing range is not an overlap. */
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(2), 0x2000, 0x2fff, TOK(2)), 0);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(3), 0x0, 0xfff, TOK(3)), 0);

	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x1000, 0x1000), TOK(0));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x1fff, 0x1fff), TOK(0));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x5000, 0x5fff), TOK(1));
	/* The lowest range intersecting [first, last]. */
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x2800, 0x10000), TOK(2));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x3000, 0x10000), TOK(1));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x0, U64_MAX), TOK(3));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x3000, 0x3fff));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x8000, U64_MAX));

	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x4abc), TOK(1));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_erase(m, 0x4abc));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x3000, U64_MAX));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_erase(m, 0x3000));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x1000), TOK(0));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x2fff), TOK(2));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x0), TOK(3));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x0, U64_MAX));
	kapi_rangemap_destroy(m);
}

static void rangemap_overlap_eexist(struct kunit *test)
{
	struct kapi_rangemap *m = kapi_rangemap_create();

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, kapi_rangemap_insert(m, NODE(0), 0x10000, 0x1ffff, TOK(0)), 0);
	/* Same, left edge, right edge, inside, around: all -EEXIST. */
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x10000, 0x1ffff, TOK(1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x0, 0x10000, TOK(1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x1ffff, 0x2ffff, TOK(1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x11000, 0x11fff, TOK(1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x1000, U64_MAX, TOK(1)), -EEXIST);
	/* A failed insert left the map as it was. */
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x0, U64_MAX), TOK(0));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x20000, U64_MAX));
	/* The top of the 64-bit space is a valid range. */
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(2), U64_MAX - 0xfff, U64_MAX, TOK(2)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x20000, U64_MAX), TOK(2));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, U64_MAX), TOK(2));
	/* Removal by node (UNMAP_DMA's): gone, and its range free again. */
	kapi_rangemap_remove(m, NODE(0));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x0, U64_MAX));
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x10000, 0x1ffff, TOK(1)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x10800, 0x10800), TOK(1));
	kapi_rangemap_remove(m, NODE(1));
	kapi_rangemap_destroy(m);
}

/*
 * The whole 64-bit space over an existing range: -EEXIST.  (When the map
 * was the maple tree, 6.12 stored [0, ULONG_MAX] as a new root and
 * mtree_insert_range() replaced the whole tree, returning 0.)
 */
static void rangemap_full_range_over_existing(struct kunit *test)
{
	struct kapi_rangemap *m = kapi_rangemap_create();

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, kapi_rangemap_insert(m, NODE(0), 0x10000, 0x1ffff, TOK(0)), 0);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x0, U64_MAX, TOK(1)), -EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x0, U64_MAX), TOK(0));
	/* Empty the map whichever way it went. */
	kapi_rangemap_erase(m, 0x10000);
	kapi_rangemap_erase(m, 0x0);
	KUNIT_ASSERT_NULL(test, kapi_rangemap_find(m, 0x0, U64_MAX));
	kapi_rangemap_destroy(m);
}

/*
 * B1's overlap refusal (-EEXIST, the map unchanged) on the append path (a
 * range above every other goes in beside the rightmost node, with no walk)
 * and with the rightmost node kept through removals: an overlap with the
 * top range, a gap left below it, and the top removed twice over, by node
 * and by index.
 */
static void rangemap_append_and_rightmost(struct kunit *test)
{
	struct kapi_rangemap *m = kapi_rangemap_create();
	int i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	/* Ascending, every other page: 0x0, 0x2000, 0x4000, 0x6000. */
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, kapi_rangemap_insert(m, NODE(i), i * 0x2000, i * 0x2000 + 0xfff, TOK(i)), 0);
	/* Overlapping the top range, from inside it and from below it. */
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(4), 0x6fff, 0x7fff, TOK(4)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(4), 0x5000, 0x6000, TOK(4)), -EEXIST);
	/* A gap between two ranges, and touching both: not an overlap. */
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(4), 0x3000, 0x3fff, TOK(4)), 0);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(5), 0x1000, 0x2fff, TOK(5)), -EEXIST);
	/* Remove the top by node: the next one down is the top now. */
	kapi_rangemap_remove(m, NODE(3));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x4fff + 1, U64_MAX));
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(5), 0x4800, 0x4fff, TOK(5)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(5), 0x5000, 0x5fff, TOK(5)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x5000, U64_MAX), TOK(5));
	/* Remove the top by index twice: 0x5000, then 0x4000. */
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x5abc), TOK(5));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x4000), TOK(2));
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(2), 0x3800, 0x3fff, TOK(2)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(2), 0x4000, 0x4fff, TOK(2)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x3000, U64_MAX), TOK(4));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x4000, U64_MAX), TOK(2));
	/* Empty it from the top down, then use it again. */
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x4000), TOK(2));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x3000), TOK(4));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x2000), TOK(1));
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x0), TOK(0));
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x0, U64_MAX));
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(0), 0x8000, 0x8fff, TOK(0)), 0);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x8000, 0x8fff, TOK(1)), -EEXIST);
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(1), 0x0, 0xfff, TOK(1)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_erase(m, 0x8000), TOK(0));
	KUNIT_EXPECT_EQ(test, kapi_rangemap_insert(m, NODE(0), 0x1000, 0x1fff, TOK(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, kapi_rangemap_find(m, 0x1000, U64_MAX), TOK(0));
	kapi_rangemap_erase(m, 0x0);
	kapi_rangemap_erase(m, 0x1000);
	KUNIT_EXPECT_NULL(test, kapi_rangemap_find(m, 0x0, U64_MAX));
	kapi_rangemap_destroy(m);
}

static struct kunit_case rangemap_cases[] = {
	KUNIT_CASE(rangemap_insert_find_erase),
	KUNIT_CASE(rangemap_overlap_eexist),
	KUNIT_CASE(rangemap_full_range_over_existing),
	KUNIT_CASE(rangemap_append_and_rightmost),
	{}
};

static struct kunit_suite rangemap_suite = {
	.name = "vfio_cxx_rangemap",
	.test_cases = rangemap_cases,
};

/* ---- mm: references, locked_vm accounting, pinning against a real mm --- */

/*
 * Give the test thread a real mm with an anonymous mapping of npages.
 *
 * Before the mm exists, the thread is bound to its CPU: a CPU it leaves goes
 * on using its mm as a lazy TLB mm (an mm_count reference, dropped whenever
 * that CPU next switches mm), which would make mm_count readings racy.
 */
static unsigned long user_buf(struct kunit *test, unsigned long npages)
{
	unsigned long addr;

	if (!current->mm)
		KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current,
				cpumask_of(raw_smp_processor_id())), 0);
	addr = kunit_vm_mmap(test, NULL, 0, npages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "kunit_vm_mmap failed");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_ASSERT_NOT_NULL(test, current->mm);
	return addr;
}

static void mm_grab_counts_mm_count_not_users(struct kunit *test)
{
	struct mm_struct *mm;
	struct kapi_mm *km;
	int count, users;

	user_buf(test, 1);
	mm = current->mm;
	count = atomic_read(&mm->mm_count);
	users = atomic_read(&mm->mm_users);

	km = kapi_mm_grab_current();
	KUNIT_ASSERT_PTR_EQ(test, (void *)km, (void *)mm);
	KUNIT_EXPECT_TRUE(test, kapi_mm_is_current(km));
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);
	kapi_mm_grab(km);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 2);
	kapi_mm_drop(km);
	kapi_mm_drop(km);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);
}

static void mm_charge_uncharge(struct kunit *test)
{
	struct kapi_mm *km;
	unsigned long base;

	user_buf(test, 1);
	km = kapi_mm_grab_current();
	KUNIT_ASSERT_NOT_NULL(test, km);
	base = current->mm->locked_vm;

	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 0, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 16, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base + 16);
	/* Given back at once... */
	KUNIT_EXPECT_EQ(test, kapi_mm_uncharge_now(km, 6), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base + 10);
	/* ...or by the work item, exactly as much. */
	kapi_mm_uncharge_later(km, 10);
	kapi_mm_flush_deferred();
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base);
	kapi_mm_drop(km);
}

static void mm_charge_rlimit(struct kunit *test)
{
	struct kapi_mm *km;
	unsigned long base;

	user_buf(test, 1);
	km = kapi_mm_grab_current();
	KUNIT_ASSERT_NOT_NULL(test, km);
	base = current->mm->locked_vm;

	/* Not capable: refused past the limit, and nothing changed. */
	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 9, 0, base + 8), -ENOMEM);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base);
	/* Up to the limit exactly is allowed; one more page is not. */
	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 8, 0, base + 8), 0);
	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 1, 0, base + 8), -ENOMEM);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base + 8);
	/* CAP_IPC_LOCK ignores the limit. */
	KUNIT_EXPECT_EQ(test, kapi_mm_charge(km, 1, 1, base + 8), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base + 9);
	KUNIT_EXPECT_EQ(test, kapi_mm_uncharge_now(km, 9), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, base);
	kapi_mm_drop(km);
}

static void mm_pin_user_pages(struct kunit *test)
{
	const unsigned long n = 8;
	unsigned long addr = user_buf(test, n), i, got = 0;
	struct kapi_mm *km;
	kapi_u64 *pfns;
	u32 magic;

	pfns = kunit_kcalloc(test, n, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	for (i = 0; i < n; i++) {
		magic = 0xc0de0000 | i;
		KUNIT_ASSERT_EQ(test, kapi_copy_to_user(addr + i * PAGE_SIZE, &magic, sizeof(magic)), 0);
	}
	km = kapi_mm_grab_current();
	KUNIT_ASSERT_NOT_NULL(test, km);

	/* GUP-fast (current's mm), and the remote walk for the rest: the same pages. */
	got = kapi_pin_fast(addr, n / 2, 1, pfns);
	KUNIT_ASSERT_EQ(test, got, n / 2);
	while (got < n) {
		long r = kapi_pin_remote(km, addr + got * PAGE_SIZE, n - got, 1, pfns + got);

		KUNIT_ASSERT_GT(test, r, 0L);
		got += r;
	}
	for (i = 0; i < n; i++) {
		struct page *page;
		u32 *p;

		KUNIT_ASSERT_FALSE(test, pfns[i] & KAPI_PFN_RESERVED);
		KUNIT_ASSERT_TRUE(test, pfn_valid(pfns[i]));
		page = pfn_to_page(pfns[i]);
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(page)));
		/* The pinned page is the one the user mapping shows. */
		p = kmap_local_page(page);
		KUNIT_EXPECT_EQ(test, *p, 0xc0de0000 | (u32)i);
		kunmap_local(p);
	}
	for (i = 0; i < n; i++)
		kapi_unpin_pages(pfns[i], 1, 1);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(pfn_to_page(pfns[i]))));

	/* Nothing mapped above the buffer: GUP-fast takes nothing, the remote walk fails. */
	KUNIT_EXPECT_EQ(test, kapi_pin_fast(TASK_SIZE - PAGE_SIZE, 1, 0, pfns), 0L);
	KUNIT_EXPECT_LT(test, kapi_pin_remote(km, TASK_SIZE - PAGE_SIZE, 1, 0, pfns), 0L);
	/* Not a VM_PFNMAP mapping: no frame to look up. */
	KUNIT_EXPECT_EQ(test, kapi_pfnmap_pfn(km, addr, 0, pfns), -ENOENT);
	kapi_mm_drop(km);
}

static struct kunit_case mm_cases[] = {
	KUNIT_CASE(mm_grab_counts_mm_count_not_users),
	KUNIT_CASE(mm_charge_uncharge),
	KUNIT_CASE(mm_charge_rlimit),
	KUNIT_CASE(mm_pin_user_pages),
	{}
};

static struct kunit_suite mm_suite = {
	.name = "vfio_cxx_mm",
	.test_cases = mm_cases,
};

/* ---- the container, through the entry points the VFIO core calls ------- */

static void stats(struct vfio_cxx_stats *s)
{
	vfio_cxx_get_stats(s);
}

static void container_check_extension(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vfio_cxx_ioctl(NULL, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU), 1L);
	KUNIT_EXPECT_EQ(test, vfio_cxx_ioctl(NULL, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU),
			kapi_param_claim_type1() ? 1L : 0L);
	KUNIT_EXPECT_EQ(test, vfio_cxx_ioctl(NULL, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0L);
	/* Nothing else reaches a backend before VFIO_SET_IOMMU. */
	KUNIT_EXPECT_EQ(test, vfio_cxx_ioctl(NULL, VFIO_IOMMU_GET_INFO, 0), (long)-ENOTTY);
}

static void container_open_release(struct kunit *test)
{
	struct vfio_cxx_container *c = NULL;
	struct vfio_cxx_stats s0, s1;

	stats(&s0);
	/* An unknown type: -EINVAL, so the VFIO core tries the next backend. */
	KUNIT_EXPECT_EQ(test, vfio_cxx_open(VFIO_SPAPR_TCE_IOMMU, &c), -EINVAL);
	KUNIT_ASSERT_EQ(test, vfio_cxx_open(VFIO_CXX_IOMMU, &c), 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.containers_live, s0.containers_live + 1);
	KUNIT_EXPECT_EQ(test, s1.containers_opened, s0.containers_opened + 1);
	KUNIT_EXPECT_EQ(test, vfio_cxx_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU), 1L);
	vfio_cxx_release(c);
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.containers_live, s0.containers_live);
}

/* An ioctl argument in user memory, as the VFIO core passes it. */
static long uioctl(struct kunit *test, struct vfio_cxx_container *c, unsigned int cmd,
		   unsigned long uarg, void *arg, size_t size)
{
	long ret;

	KUNIT_ASSERT_EQ(test, kapi_copy_to_user(uarg, arg, size), 0);
	ret = vfio_cxx_ioctl(c, cmd, uarg);
	KUNIT_ASSERT_EQ(test, kapi_copy_from_user(arg, uarg, size), 0);
	return ret;
}

/*
 * An emulated (mdev) group: no IOMMU domain, so MAP_DMA records the mapping
 * without pinning or charging it, and holds mm_count (never mm_users) on the
 * owner's mm until the mapping goes.
 */
static void container_emulated_map_unmap(struct kunit *test)
{
	const unsigned long npages = 16;
	unsigned long buf = user_buf(test, npages), uarg = user_buf(test, 1);
	struct mm_struct *mm = current->mm;
	struct vfio_cxx_container *c = NULL;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_iommu_type1_dma_map map;
	struct vfio_cxx_stats s0, s1;
	struct iommu_group *grp;
	unsigned long locked;
	int count, users;

	grp = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(grp));
	stats(&s0);
	count = atomic_read(&mm->mm_count);
	users = atomic_read(&mm->mm_users);
	locked = mm->locked_vm;

	KUNIT_ASSERT_EQ(test, vfio_cxx_open(VFIO_TYPE1v2_IOMMU, &c), 0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_attach_group(c, (struct kapi_group *)grp,
						    VFIO_CXX_GROUP_EMULATED), 0);
	KUNIT_EXPECT_EQ(test, vfio_cxx_attach_group(c, (struct kapi_group *)grp,
						    VFIO_CXX_GROUP_EMULATED), -EBUSY);

	map = (struct vfio_iommu_type1_dma_map){
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = buf, .iova = 0x100000, .size = npages * PAGE_SIZE,
	};
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_MAP_DMA, uarg, &map, sizeof(map)), 0L);
	/* The same IOVA again overlaps: -EEXIST. */
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_MAP_DMA, uarg, &map, sizeof(map)),
			(long)-EEXIST);
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.dmas_live, s0.dmas_live + 1);
	KUNIT_EXPECT_EQ(test, s1.pages_pinned, s0.pages_pinned);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);

	unmap = (struct vfio_iommu_type1_dma_unmap){
		.argsz = sizeof(unmap), .iova = 0x100000, .size = npages * PAGE_SIZE,
	};
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_UNMAP_DMA, uarg, &unmap, sizeof(unmap)), 0L);
	KUNIT_EXPECT_EQ(test, unmap.size, (u64)(npages * PAGE_SIZE));
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.dmas_live, s0.dmas_live);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count);

	/* Release with a mapping still in place drops its mm_count too. */
	map.iova = 0x200000;
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_MAP_DMA, uarg, &map, sizeof(map)), 0L);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);
	vfio_cxx_detach_group(c, (struct kapi_group *)grp);
	vfio_cxx_release(c);
	kapi_mm_flush_deferred();
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.containers_live, s0.containers_live);
	KUNIT_EXPECT_EQ(test, s1.groups_attached, s0.groups_attached);
	KUNIT_EXPECT_EQ(test, s1.dmas_live, s0.dmas_live);
	KUNIT_EXPECT_EQ(test, s1.pages_pinned, s0.pages_pinned);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked);
	iommu_group_put(grp);
}

/*
 * The owner's address space dies while a mapping still holds its mm (the
 * extra mmgrab): release afterwards must neither touch the freed address
 * space nor leak the mm_struct (kmemleak and KASAN watch this).
 */
static void container_release_after_mm_gone(struct kunit *test)
{
	unsigned long buf = user_buf(test, 4), uarg = user_buf(test, 1);
	struct mm_struct *mm = current->mm;
	struct vfio_cxx_container *c = NULL;
	struct vfio_iommu_type1_dma_map map;
	struct vfio_cxx_stats s0, s1;
	struct iommu_group *grp;

	grp = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(grp));
	stats(&s0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_open(VFIO_TYPE1v2_IOMMU, &c), 0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_attach_group(c, (struct kapi_group *)grp,
						    VFIO_CXX_GROUP_EMULATED), 0);
	map = (struct vfio_iommu_type1_dma_map){
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = buf, .iova = 0x100000, .size = 4 * PAGE_SIZE,
	};
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_MAP_DMA, uarg, &map, sizeof(map)), 0L);

	/*
	 * Hold the mm ourselves so we can look at it, then end its users as
	 * an exiting owner would (exit_mm: the thread lets go, mmput).
	 */
	mmgrab(mm);
	kthread_unuse_mm(mm);
	mmput(mm);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), 0);
	KUNIT_EXPECT_EQ(test, vfio_cxx_busy(), 1);

	vfio_cxx_detach_group(c, (struct kapi_group *)grp);
	vfio_cxx_release(c);
	kapi_mm_flush_deferred();
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.containers_live, s0.containers_live);
	KUNIT_EXPECT_EQ(test, s1.dmas_live, s0.dmas_live);
	mmdrop(mm);
	iommu_group_put(grp);
}

/* Is the page that backs a user address pinned for DMA (FOLL_PIN)? */
static bool user_page_dma_pinned(struct kunit *test, unsigned long addr)
{
	struct page *page;
	bool pinned;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, 1, 0, &page), 1);
	pinned = folio_maybe_dma_pinned(page_folio(page));
	put_page(page);
	return pinned;
}

/*
 * B31, B33, B37, B40 (seed 000's situation): a preregistered region pins
 * and charges its pages in the caller's mm, holding mm_count only; with an
 * extra mmgrab held by someone else (here, the test), closing the container
 * still unpins and uncharges everything at once.
 */
static void container_prereg_release_with_extra_mmgrab(struct kunit *test)
{
	const unsigned long npages = 8;
	unsigned long buf = user_buf(test, npages), uarg = user_buf(test, 1), i;
	struct vfio_iommu_spapr_register_memory reg;
	struct mm_struct *mm = current->mm;
	struct vfio_cxx_container *c = NULL;
	struct vfio_cxx_stats s0, s1;
	struct iommu_group *grp;
	unsigned long locked;
	int count, users;

	for (i = 0; i < npages; i++)	/* real pages, not the zero page */
		KUNIT_ASSERT_EQ(test, kapi_copy_to_user(buf + i * PAGE_SIZE, &i, sizeof(i)), 0);
	grp = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(grp));
	stats(&s0);
	count = atomic_read(&mm->mm_count);
	users = atomic_read(&mm->mm_users);
	locked = mm->locked_vm;

	KUNIT_ASSERT_EQ(test, vfio_cxx_open(VFIO_CXX_IOMMU, &c), 0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_attach_group(c, (struct kapi_group *)grp,
						    VFIO_CXX_GROUP_EMULATED), 0);
	reg = (struct vfio_iommu_spapr_register_memory){
		.argsz = sizeof(reg), .vaddr = buf, .size = npages * PAGE_SIZE,
	};
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, uarg, &reg,
				     sizeof(reg)), 0L);
	/* B33: the same region again: -EBUSY, and nothing more is held. */
	KUNIT_EXPECT_EQ(test, uioctl(test, c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, uarg, &reg,
				     sizeof(reg)), (long)-EBUSY);
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.prereg_pages, s0.prereg_pages + npages);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked + npages);
	for (i = 0; i < npages; i++)
		KUNIT_EXPECT_TRUE(test, user_page_dma_pinned(test, buf + i * PAGE_SIZE));
	/* B40: mm_count rises, mm_users does not. */
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);

	/* B37: someone else keeps the mm_struct alive; close frees at once. */
	mmgrab(mm);
	vfio_cxx_detach_group(c, (struct kapi_group *)grp);
	vfio_cxx_release(c);
	kapi_mm_flush_deferred();
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.prereg_pages, s0.prereg_pages);
	KUNIT_EXPECT_EQ(test, s1.containers_live, s0.containers_live);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked);
	for (i = 0; i < npages; i++)
		KUNIT_EXPECT_FALSE(test, user_page_dma_pinned(test, buf + i * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), count + 1);	/* ours only */
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), users);
	mmdrop(mm);
	iommu_group_put(grp);
}

/*
 * B14-B18, B20, B21, B29: external (mdev) pins of an emulated-only
 * container, through the pin_pages/unpin_pages entry points: each page is
 * pinned once in the owner's mm however often a vendor pins it, charged
 * once, released when the last pin goes, and everything still pinned is
 * released by close.
 */
/* A vendor driver as the VFIO core registers it: needs a dma_unmap op. */
static void kunit_vendor_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
}

static const struct vfio_device_ops kunit_vendor_ops = {
	.name = "vfio_cxx_kunit_vendor",
	.dma_unmap = kunit_vendor_dma_unmap,
};

static void container_external_pins_refcount(struct kunit *test)
{
	struct vfio_device *vdev = kunit_kzalloc(test, sizeof(*vdev), GFP_KERNEL);
	const unsigned long npages = 4;
	unsigned long buf = user_buf(test, npages), uarg = user_buf(test, 1), i;
	struct vfio_iommu_type1_dma_map map;
	struct mm_struct *mm = current->mm;
	struct vfio_cxx_container *c = NULL;
	kapi_u64 pfns[4], again[4];
	struct vfio_cxx_stats s0, s1;
	struct iommu_group *grp;
	unsigned long locked;

	for (i = 0; i < npages; i++)
		KUNIT_ASSERT_EQ(test, kapi_copy_to_user(buf + i * PAGE_SIZE, &i, sizeof(i)), 0);
	grp = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(grp));
	stats(&s0);
	locked = mm->locked_vm;
	KUNIT_ASSERT_EQ(test, vfio_cxx_open(VFIO_TYPE1v2_IOMMU, &c), 0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_attach_group(c, (struct kapi_group *)grp,
						    VFIO_CXX_GROUP_EMULATED), 0);
	map = (struct vfio_iommu_type1_dma_map){
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = buf, .iova = 0x100000, .size = npages * PAGE_SIZE,
	};
	KUNIT_ASSERT_EQ(test, uioctl(test, c, VFIO_IOMMU_MAP_DMA, uarg, &map, sizeof(map)), 0L);
	/* B14: no pins before a device that can be told about unmaps. */
	KUNIT_EXPECT_EQ(test, vfio_cxx_pin_pages(c, (struct kapi_group *)grp, 0x100000, 1,
						 KAPI_IOMMU_READ, pfns), -EINVAL);
	KUNIT_ASSERT_NOT_NULL(test, vdev);
	vdev->ops = &kunit_vendor_ops;
	vfio_cxx_register_device(c, (struct kapi_device *)vdev);

	/* B15: outside every mapping: refused, nothing pinned. */
	KUNIT_EXPECT_LT(test, vfio_cxx_pin_pages(c, (struct kapi_group *)grp, 0x200000, 1,
						 KAPI_IOMMU_READ, pfns), 0);
	KUNIT_ASSERT_EQ(test, vfio_cxx_pin_pages(c, (struct kapi_group *)grp, 0x100000, npages,
						 KAPI_IOMMU_READ | KAPI_IOMMU_WRITE, pfns), (int)npages);
	KUNIT_ASSERT_EQ(test, vfio_cxx_pin_pages(c, (struct kapi_group *)grp, 0x100000, npages,
						 KAPI_IOMMU_READ, again), (int)npages);
	for (i = 0; i < npages; i++) {
		KUNIT_EXPECT_EQ(test, pfns[i], again[i]);
		KUNIT_EXPECT_TRUE(test, user_page_dma_pinned(test, buf + i * PAGE_SIZE));
	}
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.external_pages, s0.external_pages + npages);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked + npages);	/* charged once */

	/* One unpin each: still pinned (a second reference remains). */
	vfio_cxx_unpin_pages(c, 0x100000, npages);
	KUNIT_EXPECT_TRUE(test, user_page_dma_pinned(test, buf));
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked + npages);
	/* The last reference of page 0 goes: unpinned and uncharged. */
	vfio_cxx_unpin_pages(c, 0x100000, 1);
	kapi_mm_flush_deferred();
	KUNIT_EXPECT_FALSE(test, user_page_dma_pinned(test, buf));
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked + npages - 1);
	/* B18: unpinning a page that is not pinned changes nothing. */
	vfio_cxx_unpin_pages(c, 0x100000, 1);
	kapi_mm_flush_deferred();
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked + npages - 1);

	/* B20, B29: the device goes, then its group: every pin left is released. */
	vfio_cxx_unregister_device(c, (struct kapi_device *)vdev);
	vfio_cxx_detach_group(c, (struct kapi_group *)grp);
	vfio_cxx_release(c);
	kapi_mm_flush_deferred();
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.external_pages, s0.external_pages);
	KUNIT_EXPECT_EQ(test, s1.dmas_live, s0.dmas_live);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, locked);
	for (i = 0; i < npages; i++)
		KUNIT_EXPECT_FALSE(test, user_page_dma_pinned(test, buf + i * PAGE_SIZE));
	iommu_group_put(grp);
}

static struct kunit_case container_cases[] = {
	KUNIT_CASE(container_check_extension),
	KUNIT_CASE(container_open_release),
	KUNIT_CASE(container_emulated_map_unmap),
	KUNIT_CASE(container_release_after_mm_gone),
	KUNIT_CASE(container_prereg_release_with_extra_mmgrab),
	KUNIT_CASE(container_external_pins_refcount),
	{}
};

static struct kunit_suite container_suite = {
	.name = "vfio_cxx_container",
	.test_cases = container_cases,
};

kunit_test_suites(&rangemap_suite, &mm_suite, &container_suite);
