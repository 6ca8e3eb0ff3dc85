// SPDX-License-Identifier: GPL-2.0
/*
 * Per-container preregistered memory (seeds 000/002) and the owner-exit
 * policy (seed 004) against the fake mm and IOMMU of kapi_host.cpp.  Test
 * names carry the behaviour numbers of Documentation/requirements.rst.
 */
#include "test_common.h"

#include <thread>
#include <vector>

#include "core/container.h"
#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

constexpr unsigned int EXIT_POLICY = (';' << 8) | 0xc0;

class Prereg : public ContainerTest {
protected:
	long reg(unsigned long vaddr, unsigned long size, vfio_cxx_container *c = nullptr,
		 unsigned int cmd = REGISTER, unsigned int flags = 0, unsigned int argsz = 24)
	{
		uabi::RegisterMemory r{ argsz, flags, vaddr, size };
		return vfio_cxx_ioctl(c ? c : c_, cmd, reinterpret_cast<unsigned long>(&r));
	}
	long unreg(unsigned long vaddr, unsigned long size, vfio_cxx_container *c = nullptr)
	{
		return reg(vaddr, size, c, UNREGISTER);
	}
	long policy(unsigned int p, unsigned int flags = 0)
	{
		uabi::ExitPolicy e{ sizeof(e), flags, p, 0 };
		return vfio_cxx_ioctl(c_, EXIT_POLICY, reinterpret_cast<unsigned long>(&e));
	}
};

/* #31, #40: registration pins and charges the region at once; the mm is held by mm_count. */
TEST_F(Prereg, N31_N40_RegisterPinsAndCharges)
{
	const long count = khost::mm_count(mm_);
	ASSERT_EQ(reg(VA, 16 * PG), 0);
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(locked(), 16u);
	EXPECT_EQ(stats().prereg_pages, 16u);
	EXPECT_EQ(core().prereg_count(), 1u);
	EXPECT_EQ(khost::mm_count(mm_), count + 1);
	ASSERT_EQ(reg(VA + 16 * PG, 4 * PG), 0); /* adjacent: another region */
	EXPECT_EQ(khost::mm_count(mm_), count + 1);
	ASSERT_EQ(unreg(VA, 16 * PG), 0);
	ASSERT_EQ(unreg(VA + 16 * PG, 4 * PG), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(stats().prereg_pages, 0u);
}

/* #32: misaligned, empty, wrapping or flagged input is -EINVAL and changes nothing. */
TEST_F(Prereg, N32_BadInputIsEinval)
{
	EXPECT_EQ(reg(VA + 1, PG), -EINVAL_);
	EXPECT_EQ(reg(VA, PG + 1), -EINVAL_);
	EXPECT_EQ(reg(VA, 0), -EINVAL_);
	EXPECT_EQ(reg(~0UL & ~(PG - 1), 2 * PG), -EINVAL_);
	EXPECT_EQ(reg(VA, PG, nullptr, UNREGISTER, 0, 16), -EINVAL_); /* short argsz */
	EXPECT_EQ(unreg(VA + 1, PG), -EINVAL_);
	EXPECT_EQ(reg(VA, PG, nullptr, UNREGISTER, 1), -EINVAL_); /* flags */
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(core().prereg_count(), 0u);
}

/* #33: the same region twice in one container is -EBUSY and raises nothing; overlaps are -EINVAL. */
TEST_F(Prereg, N33_DuplicateIsEbusyOverlapIsEinval)
{
	ASSERT_EQ(reg(VA, 8 * PG), 0);
	EXPECT_EQ(reg(VA, 8 * PG), -EBUSY_);
	EXPECT_EQ(reg(VA + 4 * PG, 8 * PG), -EINVAL_);
	EXPECT_EQ(reg(VA - PG, 2 * PG), -EINVAL_);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(core().prereg_count(), 1u);
	/* One unregister is enough: the duplicate raised no use count. */
	ASSERT_EQ(unreg(VA, 8 * PG), 0);
	EXPECT_EQ(unreg(VA, 8 * PG), -ENOENT_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* #34, #35, #37: two containers of one mm pin the region each; closing one leaves the other's. */
TEST_F(Prereg, N34_N35_N37_TwoContainersOneMm)
{
	vfio_cxx_container *c2 = open_ok(CXX_IOMMU);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	ASSERT_EQ(reg(VA, 4 * PG, c2), 0);
	EXPECT_EQ(khost::pinned_pages(), 8u); /* 4 pages, pinned once per container */
	EXPECT_EQ(locked(), 8u);
	/* #35: a region of another container is not this one's. */
	ASSERT_EQ(reg(VA + 8 * PG, PG, c2), 0);
	EXPECT_EQ(unreg(VA + 8 * PG, PG), -ENOENT_);
	/* #37: closing frees every region of the container at once. */
	vfio_cxx_release(c2);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(locked(), 4u);
	EXPECT_EQ(core().prereg_count(), 1u);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
}

/* #37: release frees the regions while something else still holds an mm_count reference. */
TEST_F(Prereg, N37_ReleaseWithExtraMmReference)
{
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	auto *held = reinterpret_cast<kapi_mm *>(mm_);
	kapi_mm_grab(held); /* a kernel thread borrowing the mm, as in seed 000 */
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	kapi_mm_drop(held);
}

/* #36, #39: a mapping inside a region takes its pages; the region cannot go while mapped. */
TEST_F(Prereg, N36_N39_MapInsideRegionReusesItsPins)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(reg(VA, 16 * PG), 0);
	const long pins = static_cast<long>(khost::pinned_pages());
	const long charges = khost::mm_charge_calls(mm_);
	ASSERT_EQ(map(0x100000, 8 * PG, VA + 4 * PG), 0);
	EXPECT_EQ(static_cast<long>(khost::pinned_pages()), pins); /* no second pin */
	EXPECT_EQ(khost::mm_charge_calls(mm_), charges);	    /* no second charge */
	EXPECT_EQ(locked(), 16u);
	EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + 2 * PG), khost::pfn_of(VA + 6 * PG) << 12);
	EXPECT_EQ(khost::mapped_bytes(g), 8 * PG);
	/* #36: still used by a mapping. */
	EXPECT_EQ(unreg(VA, 16 * PG), -EBUSY_);
	EXPECT_EQ(core().prereg_count(), 1u);
	/* A mapping that is not wholly inside pins as usual. */
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 14 * PG), 0);
	EXPECT_EQ(locked(), 20u);
	EXPECT_EQ(static_cast<long>(khost::pinned_pages()), pins + 4);
	ASSERT_EQ(unmap(0x100000, 8 * PG), 0);
	EXPECT_EQ(static_cast<long>(khost::pinned_pages()), pins + 4); /* the region keeps its pins */
	EXPECT_EQ(locked(), 20u);
	ASSERT_EQ(unreg(VA, 16 * PG), 0);
	EXPECT_EQ(locked(), 4u);
	ASSERT_EQ(unmap(0x200000, 4 * PG), 0);
	detach(g);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* #39: a replay into a new domain maps the region's pages, still without pinning. */
TEST_F(Prereg, N39_ReplayMapsRegionPages)
{
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0); /* no domain yet */
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(locked(), 4u);
	EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + 3 * PG), khost::pfn_of(VA + 3 * PG) << 12);
	detach(g);
	EXPECT_EQ(khost::pinned_pages(), 4u); /* the mappings went with the last group; the region stays */
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(unreg(VA, 4 * PG), 0);
}

/* #41: another mm may neither register nor unregister in the container. */
TEST_F(Prereg, N41_OtherMmIsEperm)
{
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	EXPECT_EQ(reg(VA + 8 * PG, PG), -EPERM_);
	EXPECT_EQ(unreg(VA, 4 * PG), -EPERM_);
	/* Its mappings never use this container's regions. */
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	khost::set_current_mm(mm_);
	khost::mm_put(other);
	EXPECT_EQ(unreg(VA, 4 * PG), 0);
	EXPECT_EQ(unmap(0x100000, 4 * PG), 0);
}

/* A region past RLIMIT_MEMLOCK is -ENOMEM; a kernel thread has no mm to register. */
TEST_F(Prereg, RlimitAndNoMm)
{
	khost::set_capable_ipc_lock(false);
	khost::set_rlimit_memlock_pages(8);
	EXPECT_EQ(reg(VA, 16 * PG), -ENOMEM_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	khost::set_capable_ipc_lock(true);
	EXPECT_EQ(reg(VA, 16 * PG), 0);
	EXPECT_EQ(unreg(VA, 16 * PG), 0);
	vfio_cxx_release(c_);
	c_ = open_ok(CXX_IOMMU);
	khost::set_current_mm(nullptr);
	EXPECT_EQ(reg(VA, PG), -ESRCH_);
	khost::set_current_mm(mm_);
}

/* An allocation failure anywhere in a registration leaks nothing. */
TEST_F(Prereg, AllocationFailureSweep)
{
	int failures = 0;
	for (long n = 1; n < 32; n++) {
		bool hit;
		long r = nth_alloc_failing(n, [&] { return reg(VA, 8 * PG); }, &hit);
		if (!hit) {
			ASSERT_EQ(r, 0);
			break;
		}
		failures++;
		ASSERT_EQ(r, -ENOMEM_) << "n=" << n;
		EXPECT_EQ(khost::pinned_pages(), 0u);
		EXPECT_EQ(locked(), 0u);
		EXPECT_EQ(core().prereg_count(), 0u);
	}
	EXPECT_GT(failures, 0);
	EXPECT_EQ(unreg(VA, 8 * PG), 0);
}

/* Prereg is the VFIO_CXX_IOMMU container's: a Type1v2 container behaves exactly as type1. */
TEST_F(Prereg, Type1v2ContainersHaveNoPrereg)
{
	vfio_cxx_container *t = open_ok(TYPE1v2);
	EXPECT_EQ(reg(VA, PG, t), -EINVAL_);	/* DIRTY_PAGES with no flag */
	EXPECT_EQ(unreg(VA, PG, t), -ENOTTY_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	vfio_cxx_release(t);
}

/* GET_INFO of a VFIO_CXX_IOMMU container carries our capability with the regions. */
TEST_F(Prereg, GetInfoCapability)
{
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	ASSERT_EQ(reg(VA + 8 * PG, 2 * PG), 0);
	std::vector<unsigned char> buf(4096);
	auto *info = reinterpret_cast<uabi::IommuInfo *>(buf.data());
	info->argsz = static_cast<unsigned int>(buf.size());
	ASSERT_EQ(vfio_cxx_ioctl(c_, GET_INFO, reinterpret_cast<unsigned long>(info)), 0);
	ASSERT_TRUE(info->flags & uabi::INFO_CAPS);
	const uabi::CapPrereg *found = nullptr;
	for (unsigned int off = info->cap_offset; off;) {
		auto *h = reinterpret_cast<uabi::CapHeader *>(buf.data() + off);
		if (h->id == uabi::CAP_CXX_PREREG)
			found = reinterpret_cast<uabi::CapPrereg *>(h);
		off = h->next;
	}
	ASSERT_NE(found, nullptr);
	EXPECT_EQ(found->nr_regions, 2u);
	EXPECT_EQ(found->pinned_bytes, 6 * PG);
	EXPECT_EQ(unreg(VA, 4 * PG), 0);
	EXPECT_EQ(unreg(VA + 8 * PG, 2 * PG), 0);
}

/* ---- the owner-exit policy ------------------------------------------------------ */

/* The emulated device of an mdev driver, for the exit tests. */
struct Dev {
	khost::FakeDevice fake;
	vfio_cxx_container *c;
	std::vector<unsigned long long> pinned;
	explicit Dev(vfio_cxx_container *c) : c(c)
	{
		fake.on_unmap = [this](kapi_u64 iova, kapi_u64 len) {
			for (auto p : pinned)
				if (p >= iova && p < iova + len)
					vfio_cxx_unpin_pages(this->c, p, 1);
			pinned.clear();
		};
	}
};

/*
 * #42, #44: with the RELEASE policy the owner's exit unmaps, notifies the
 * mdev driver, unpins and frees its regions at once, although the
 * container stays open; the handler runs once and close does not run it
 * again.
 */
TEST_F(Prereg, N42_N44_ReleasePolicyFreesAtOwnerExit)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1), e = group(2);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c_, e.group(), VFIO_CXX_GROUP_EMULATED), 0);
	Dev dev(c_);
	vfio_cxx_register_device(c_, dev.fake.dev());
	ASSERT_EQ(reg(VA, 8 * PG), 0);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);	  /* over the region */
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0); /* plain */
	kapi_u64 pfn;
	ASSERT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x200000, 1, KAPI_IOMMU_READ, &pfn), 1);
	dev.pinned.push_back(0x200000);
	EXPECT_EQ(khost::mm_watches(mm_), 1);
	EXPECT_EQ(khost::pinned_pages(), 12u);

	khost::mm_exit(mm_);
	EXPECT_EQ(dev.fake.unmap_calls, 1);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(core().prereg_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(stats().external_pages, 0u);
	EXPECT_EQ(stats().mm_exits, base_.mm_exits + 1);
	EXPECT_EQ(khost::mapped_bytes(g), 0u);

	vfio_cxx_unregister_device(c_, dev.fake.dev());
	vfio_cxx_detach_group(c_, e.group());
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(stats().mm_exits, base_.mm_exits + 1);
}

/* Type1 semantics by default: an exited owner's mappings stay pinned (orphaned) until close. */
TEST_F(Prereg, KeepPolicyOrphansUntilClose)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(core().exit_policy(), uabi::EXIT_KEEP);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA + 0x100000), 0);
	EXPECT_EQ(khost::mm_watches(mm_), 0);
	EXPECT_EQ(core().orphaned_dmas(), 0u);
	khost::mm_exit(mm_);
	EXPECT_EQ(core().dma_count(), 1u);
	EXPECT_EQ(core().orphaned_dmas(), 1u);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* The module parameter sets the default; closing with a live owner stands the handler down. */
TEST_F(Prereg, ParameterDefaultAndCloseWithLiveOwner)
{
	vfio_cxx_release(c_);
	khost::set_exit_policy(1);
	c_ = open_ok(CXX_IOMMU);
	EXPECT_EQ(core().exit_policy(), uabi::EXIT_RELEASE);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	EXPECT_EQ(khost::mm_watches(mm_), 1);
	const auto exits = stats().mm_exits;
	vfio_cxx_release(c_); /* the unregister runs release: it must do nothing */
	c_ = nullptr;
	EXPECT_EQ(stats().mm_exits, exits);
	EXPECT_EQ(khost::mm_watches(mm_), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
}

/* Switching to RELEASE watches the owners of what exists; bad requests are -EINVAL. */
TEST_F(Prereg, PolicySwitchWatchesExistingOwners)
{
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(policy(2), -EINVAL_);
	EXPECT_EQ(policy(uabi::EXIT_RELEASE, 1), -EINVAL_);
	EXPECT_EQ(khost::mm_watches(mm_), 0);
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	EXPECT_EQ(khost::mm_watches(mm_), 1);
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0);
	EXPECT_EQ(khost::mm_watches(mm_), 1); /* one watch per mm */
	khost::mm_exit(mm_);
	EXPECT_EQ(core().dma_count(), 0u);
}

/* #45: a failure to start watching the owner unwinds the map or registration cleanly. */
TEST_F(Prereg, N45_WatchFailureUnwinds)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	int failures = 0;
	for (long n = 1; n < 32; n++) {
		bool hit;
		long r = nth_alloc_failing(n, [&] { return map(0x100000, 4 * PG, VA); }, &hit);
		if (!hit) {
			ASSERT_EQ(r, 0);
			break;
		}
		failures++;
		ASSERT_EQ(r, -ENOMEM_) << "n=" << n;
		EXPECT_EQ(core().dma_count(), 0u);
		EXPECT_EQ(khost::pinned_pages(), 0u);
		EXPECT_EQ(locked(), 0u);
		/* A watch made before a later step failed stays until close (one per mm). */
		EXPECT_LE(khost::mm_watches(mm_), 1);
	}
	EXPECT_GT(failures, 1);
	EXPECT_EQ(khost::mm_watches(mm_), 1);
	/* An exited owner cannot be watched: the map fails and leaves nothing. */
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	detach(g);
	vfio_cxx_release(c_);
	c_ = open_ok(CXX_IOMMU);
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	khost::FakeMm *dead = khost::mm_new();
	khost::set_current_mm(dead);
	khost::mm_exit(dead);
	EXPECT_EQ(map(0x100000, 4 * PG, VA), -ESRCH_);
	EXPECT_EQ(core().dma_count(), 0u);
	khost::set_current_mm(mm_);
	khost::mm_put(dead);
}

/*
 * Issue 11 item 1: a region-backed mapping whose vaddr was invalidated, and
 * another process (fork or SCM_RIGHTS: another mm) tries MAP|VADDR.  It is
 * refused (-EPERM, S1) and nothing moves; the region's owner exits under
 * RELEASE: mapping and region go, no BUG() (the old code trapped here), and
 * the container stays usable.
 */
TEST_F(Prereg, Issue11_Item1_RegionMappingStaysWithRegionMm)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(reg(VA, 8 * PG), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(unmap(0x100000, 4 * PG, uabi::DMA_UNMAP_FLAG_VADDR), 0);

	khost::FakeMm *child = khost::mm_new();
	khost::set_current_mm(child);
	EXPECT_EQ(map(0x100000, 4 * PG, VA, uabi::DMA_MAP_FLAG_VADDR), -EPERM_);
	EXPECT_EQ(khost::mm_locked_vm(child), 0u);
	EXPECT_EQ(khost::mm_watches(child), 0);
	khost::set_current_mm(mm_);
	EXPECT_EQ(unreg(VA, 8 * PG), -EBUSY_); /* still used */
	EXPECT_EQ(locked(), 8u);

	khost::mm_exit(mm_);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(core().prereg_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mapped_bytes(g), 0u);
	EXPECT_EQ(stats().prereg_pages, 0u);

	/* Usable by the survivor, which may now register its own memory. */
	khost::set_current_mm(child);
	EXPECT_EQ(reg(VA, 2 * PG), 0);
	EXPECT_EQ(map(0x100000, 2 * PG, VA), 0);
	EXPECT_EQ(khost::mm_locked_vm(child), 2u);
	EXPECT_EQ(khost::pinned_pages(), 2u);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::mm_locked_vm(child), 0u);
	khost::set_current_mm(mm_);
	khost::mm_put(child);
}

/* S1: the region's own mm may move the mapping to another region, not out of them. */
TEST_F(Prereg, Issue11_Item1_VaddrMovesBetweenRegionsOnly)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	ASSERT_EQ(reg(VA + 0x100000, 4 * PG), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(unmap(0x100000, 4 * PG, uabi::DMA_UNMAP_FLAG_VADDR), 0);
	/* Outside every region: refused, still invalid. */
	EXPECT_EQ(map(0x100000, 4 * PG, VA + 0x200000, uabi::DMA_MAP_FLAG_VADDR), -EINVAL_);
	EXPECT_EQ(map(0x100000, 4 * PG, VA + 2 * PG, uabi::DMA_MAP_FLAG_VADDR), -EINVAL_);
	EXPECT_EQ(unreg(VA, 4 * PG), -EBUSY_);
	ASSERT_EQ(map(0x100000, 4 * PG, VA + 0x100000, uabi::DMA_MAP_FLAG_VADDR), 0);
	/* The use count moved with it. */
	EXPECT_EQ(unreg(VA, 4 * PG), 0);
	EXPECT_EQ(unreg(VA + 0x100000, 4 * PG), -EBUSY_);
	EXPECT_EQ(locked(), 4u);
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	EXPECT_EQ(unreg(VA + 0x100000, 4 * PG), 0);
	EXPECT_EQ(locked(), 0u);
	detach(g);
}

/*
 * Issue 11 item 1 (S2, S3): under RELEASE, a vaddr-invalid mapping without a
 * region survives its owner's exit (exec-based live update); MAP|VADDR from
 * another mm adopts it, moving the charge, and that mm's exit is watched.
 */
TEST_F(Prereg, Issue11_Item1_LiveUpdateSurvivesExitAndNewOwnerIsWatched)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, 2 * PG, VA + 0x100000), 0);
	ASSERT_EQ(unmap(0x100000, 4 * PG, uabi::DMA_UNMAP_FLAG_VADDR), 0);
	EXPECT_EQ(locked(), 6u);
	khost::mm_exit(mm_); /* the exec'ing image goes */
	EXPECT_EQ(core().dma_count(), 1u); /* the valid one went */
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(khost::mapped_bytes(g), 4 * PG);

	khost::FakeMm *next = khost::mm_new();
	khost::set_current_mm(next);
	ASSERT_EQ(map(0x100000, 4 * PG, VA, uabi::DMA_MAP_FLAG_VADDR), 0);
	EXPECT_EQ(khost::mm_locked_vm(next), 4u);
	EXPECT_EQ(khost::mm_watches(mm_), 0); /* reaped at the next ioctl */
	EXPECT_EQ(khost::mm_watches(next), 1);
	khost::mm_exit(next);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	khost::set_current_mm(mm_);
	khost::mm_put(next);
}

/*
 * Issue 11 item 9: the watches of exited mms are freed at the next ioctl, so
 * a container used by many short-lived processes holds none of their mms.
 */
TEST_F(Prereg, Issue11_Item9_ExitedWatchesAreReaped)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	std::vector<khost::FakeMm *> gone;
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(unmap(0x100000, 4 * PG, uabi::DMA_UNMAP_FLAG_VADDR), 0);
		khost::FakeMm *m = khost::mm_new();
		khost::set_current_mm(m);
		ASSERT_EQ(map(0x100000, 4 * PG, VA, uabi::DMA_MAP_FLAG_VADDR), 0) << i;
		EXPECT_EQ(khost::mm_locked_vm(m), 4u);
		gone.push_back(m);
	}
	const long before = khost::live_allocations();
	/* Every earlier owner is still alive: one watch each. */
	for (auto *m : gone)
		EXPECT_EQ(khost::mm_watches(m), 1);
	for (size_t i = 0; i + 1 < gone.size(); i++)
		khost::mm_exit(gone[i]); /* owns nothing now: nothing released */
	EXPECT_EQ(core().dma_count(), 1u);
	unsigned long long unmapped = 0;
	EXPECT_EQ(unmap(0, 0, uabi::DMA_UNMAP_FLAG_ALL, &unmapped), 0);
	EXPECT_EQ(unmapped, 4 * PG);
	for (size_t i = 0; i + 1 < gone.size(); i++)
		EXPECT_EQ(khost::mm_watches(gone[i]), 0) << i;
	EXPECT_LT(khost::live_allocations(), before);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	khost::set_current_mm(mm_);
	for (auto *m : gone)
		khost::mm_put(m);
}

/* Issue 11 item 9: the prereg owner mm goes with its last region. */
TEST_F(Prereg, Issue11_Item9_PreregOwnerDroppedWithLastRegion)
{
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	const long count = khost::mm_count(mm_);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	EXPECT_EQ(reg(VA, 4 * PG), -EPERM_);
	khost::set_current_mm(mm_);
	ASSERT_EQ(unreg(VA, 4 * PG), 0);
	EXPECT_EQ(khost::mm_count(mm_), count - 1);
	khost::set_current_mm(other);
	EXPECT_EQ(reg(VA, 4 * PG), 0);
	EXPECT_EQ(khost::mm_locked_vm(other), 4u);
	vfio_cxx_release(c_);
	c_ = nullptr;
	khost::set_current_mm(mm_);
	khost::mm_put(other);
}

/* Issue 11 item 9: a failed range-map insert (overlap) raises no region use count. */
TEST_F(Prereg, Issue11_Item9_FailedInsertRaisesNoUseCount)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(reg(VA, 8 * PG), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(map(0x100000, 4 * PG, VA + 4 * PG), -EEXIST_);
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	EXPECT_EQ(unreg(VA, 8 * PG), 0); /* not left "used" */
	detach(g);
}

} /* namespace */

namespace {

/*
 * The exit of an mm sharing a container, while another process holds the
 * container lock for as long as it likes (here: a MAP_DMA whose pinning is
 * stalled, as a FUSE-backed page would stall it).  The MMU notifier's
 * release must not wait for that lock (it runs inside the notifiers' SRCU
 * section, which would hold up the whole host): it finds the lock busy and
 * leaves the work to a work item, which releases the exited mm's mapping
 * once the MAP is done.
 */
TEST_F(Prereg, ExitWhileAnotherProcessHoldsTheLockDoesNotWait)
{
	ASSERT_EQ(policy(uabi::EXIT_RELEASE), 0);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	khost::set_current_mm(mm_);
	ASSERT_EQ(khost::mm_watches(other), 1);

	bool exit_returned = false;
	khost::set_pin_hook([&](unsigned long vaddr, unsigned long) {
		if (vaddr != VA + 0x100000 || exit_returned)
			return;
		/* Another CPU: the other process exits now, mid-MAP. */
		std::thread t([&] { khost::mm_exit(other); });
		t.join(); /* would deadlock if the exit waited for the container lock */
		exit_returned = true;
	});
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0);
	khost::set_pin_hook(nullptr);
	EXPECT_TRUE(exit_returned);
	khost::mm_flush_exit_work(other);
	EXPECT_EQ(core().dma_count(), 1u); /* the exited mm's mapping went */
	EXPECT_EQ(khost::pinned_pages(), 4u);
	ASSERT_EQ(unmap(0x200000, 4 * PG), 0);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	khost::mm_put(other);
}

} /* namespace */
