// SPDX-License-Identifier: GPL-2.0
/*
 * The sPAPR TCE v2 user API (VFIO_SPAPR_TCE_v2_IOMMU, core/spapr.cpp)
 * against the fake mm and IOMMU of kapi_host.cpp: every errno of
 * drivers/vfio/vfio_iommu_spapr_tce.c in its order, the windows, the shadow
 * table, the regions and the locked_vm figures.  Test names carry the
 * behaviour numbers of Documentation/requirements.rst (B31-B41 and seed 003's
 * rules) where they apply.
 */
#include "test_common.h"

#include <deque>
#include <thread>

#include "core/spapr.h"
#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

constexpr unsigned long SPAPR_V1 = 2, SPAPR_V2 = 7, EEH = 5;
constexpr unsigned int ENABLE = (';' << 8) | 115, DISABLE = (';' << 8) | 116;
constexpr unsigned int CREATE = (';' << 8) | 119, REMOVE = (';' << 8) | 120;
constexpr unsigned int EEH_PE_OP = (';' << 8) | 121;
constexpr int ENXIO_ = 6, ENOSPC_ = 28;
constexpr unsigned long GIB = 1UL << 30;
constexpr unsigned int RO = uabi::DMA_MAP_FLAG_READ, WO = uabi::DMA_MAP_FLAG_WRITE;

/* Pages upstream charges for a 1 GiB window of 4K TCEs: levels 1 and 2 (doc §2.4). */
constexpr unsigned long TABLE_1G_L1 = 1024, TABLE_1G_L2 = 1026;

class SpaprTest : public ContainerTest {
protected:
	SpaprTest() : ContainerTest(SPAPR_V2) {}
	void SetUp() override
	{
		CoreTest::SetUp(); /* resets the host kapi, so spapr is set after it */
		khost::set_spapr(true);
		mm_ = khost::mm_new();
		khost::set_current_mm(mm_);
		c_ = open_ok(SPAPR_V2);
		g1_ = group(1);
	}
	/* Detach every group (the VFIO core does so before it releases), then release. */
	void close_container()
	{
		for (auto *g : attached_)
			detach(*g);
		attached_.clear();
		vfio_cxx_release(c_);
		c_ = nullptr;
	}
	void TearDown() override
	{
		for (auto *g : attached_)
			detach(*g);
		attached_.clear();
		ContainerTest::TearDown();
	}
	int attach_g(khost::FakeGroup &g)
	{
		int r = attach(g);
		if (!r)
			attached_.push_back(&g);
		return r;
	}
	void detach_g(khost::FakeGroup &g)
	{
		detach(g);
		std::erase(attached_, &g);
	}
	long ioctl(unsigned int cmd, void *arg) { return vfio_cxx_ioctl(c_, cmd, reinterpret_cast<unsigned long>(arg)); }
	long reg(unsigned long vaddr, unsigned long size, unsigned int cmd = REGISTER, unsigned int flags = 0,
		 unsigned int argsz = 24)
	{
		uabi::RegisterMemory r{ argsz, flags, vaddr, size };
		return ioctl(cmd, &r);
	}
	long unreg(unsigned long vaddr, unsigned long size) { return reg(vaddr, size, UNREGISTER); }
	long info(uabi::SpaprTceInfo &i, unsigned int argsz = sizeof(uabi::SpaprTceInfo))
	{
		i.argsz = argsz;
		return ioctl(GET_INFO, &i);
	}
	long create(unsigned int shift, unsigned long size, unsigned int levels, unsigned long *start = nullptr,
		    unsigned int flags = 0, unsigned int argsz = 40)
	{
		uabi::SpaprTceCreate c{};
		c.argsz = argsz;
		c.flags = flags;
		c.page_shift = shift;
		c.window_size = size;
		c.levels = levels;
		c.start_addr = ~0ULL;
		long r = ioctl(CREATE, &c);
		if (start)
			*start = c.start_addr;
		return r;
	}
	long remove(unsigned long start, unsigned int flags = 0, unsigned int argsz = 16)
	{
		uabi::SpaprTceRemove r{ argsz, flags, start };
		return ioctl(REMOVE, &r);
	}
	/* What QEMU does at realize and at its first machine reset (doc §3.2). */
	void qemu_start(unsigned long ram_pages = 64)
	{
		ASSERT_EQ(attach_g(g1_), 0);
		ASSERT_EQ(reg(VA, ram_pages * PG), 0);
		uabi::SpaprTceInfo i{};
		ASSERT_EQ(info(i), 0);
		ASSERT_EQ(remove(i.dma32_window_start), 0); /* the pending default window */
		unsigned long start = 1;
		ASSERT_EQ(create(12, GIB, 2, &start), 0);
		ASSERT_EQ(start, 0u);
	}
	kapi_u64 phys(khost::FakeGroup &g, unsigned long iova) { return khost::iova_to_phys(g, iova); }
	kapi_u64 page_phys(unsigned long vaddr) { return khost::pfn_of(vaddr) << 12; }

	/* A group that lives as long as the fixture (TearDown detaches it). */
	khost::FakeGroup &more(int id, int family)
	{
		more_.push_back(group(id, family));
		return more_.back();
	}

	khost::FakeGroup g1_;
	std::deque<khost::FakeGroup> more_;
	std::vector<khost::FakeGroup *> attached_;
};

/* The table charge is upstream's (pnv_pci_ioda2_get_table_size), and 0 where it refuses. */
TEST(SpaprTable, ChargeIsUpstreams)
{
	using vfio_cxx::spapr::table_bytes;
	EXPECT_EQ(table_bytes(12, GIB, 1) >> 12, TABLE_1G_L1);
	EXPECT_EQ(table_bytes(12, GIB, 2) >> 12, TABLE_1G_L2);
	EXPECT_EQ(table_bytes(12, 2 * GIB, 1) >> 12, 2048u);
	EXPECT_EQ(table_bytes(12, 1UL << 20, 1), 2 * 4096u); /* 256 TCEs: one page each copy */
	EXPECT_EQ(table_bytes(12, GIB, 0), 0u);
	EXPECT_EQ(table_bytes(12, GIB, 6), 0u);
	EXPECT_EQ(table_bytes(12, GIB + PG, 1), 0u);
	EXPECT_EQ(table_bytes(12, 0, 1), 0u);
	EXPECT_EQ(table_bytes(12, 2048, 1), 0u);
	EXPECT_EQ(table_bytes(64, GIB, 1), 0u);
}

/* The shadow table: leaves made on first use and freed when empty; runs skip empty leaves. */
TEST(SpaprTable, ShadowLeaves)
{
	khost::reset();
	{
		vfio_cxx::TceWindow w(0, GIB, 12, 1, 0);
		ASSERT_EQ(w.init(), 0);
		const unsigned long dir = w.bytes();
		ASSERT_EQ(w.set(5, VA | 3), 0);
		ASSERT_EQ(w.set(6, VA | 1), 0);
		ASSERT_EQ(w.set(200000, VA | 1), 0);
		EXPECT_EQ(w.valid(), 3u);
		EXPECT_EQ(w.bytes(), dir + 2 * 4096);
		EXPECT_TRUE(w.any_valid(0, 6));
		EXPECT_FALSE(w.any_valid(7, 199993));
		std::vector<std::pair<unsigned long, unsigned long>> runs;
		w.for_each_run(0, w.entries(), [&](unsigned long i, unsigned long n) { runs.push_back({ i, n }); });
		EXPECT_EQ(runs, (std::vector<std::pair<unsigned long, unsigned long>>{ { 5, 2 }, { 200000, 1 } }));
		ASSERT_EQ(w.set(200000, 0), 0);
		EXPECT_EQ(w.bytes(), dir + 4096);
		ASSERT_EQ(w.set(5, 0), 0);
		ASSERT_EQ(w.set(6, 0), 0);
		EXPECT_EQ(w.bytes(), dir);
		EXPECT_EQ(w.valid(), 0u);
		khost::fail_nth_alloc(1);
		EXPECT_EQ(w.set(9, VA), -ENOMEM_);
		khost::fail_nth_alloc(0);
		EXPECT_EQ(w.valid(), 0u);
	}
	EXPECT_EQ(khost::leak_report(), "");
}

/* The mode: offered only with the spapr parameter; v1 and EEH never. */
TEST_F(SpaprTest, CheckExtensionAndOpen)
{
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, SPAPR_V2), 1);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, SPAPR_V1), 0);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, EEH), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, SPAPR_V2), 1);
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, SPAPR_V1), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, EEH), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, TYPE1v2), 0);
	vfio_cxx_container *c = nullptr;
	EXPECT_EQ(vfio_cxx_open(SPAPR_V1, &c), -EINVAL_);
	khost::set_spapr(false);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, SPAPR_V2), 0);
	EXPECT_EQ(vfio_cxx_open(SPAPR_V2, &c), -EINVAL_);
}

/* Seed 003: emulated groups are -EINVAL, the same group twice -EBUSY (B28). */
TEST_F(SpaprTest, Seed003_AttachRules)
{
	khost::FakeGroup em = group(9);
	EXPECT_EQ(attach(em, VFIO_CXX_GROUP_EMULATED), -EINVAL_);
	ASSERT_EQ(attach_g(g1_), 0);
	EXPECT_EQ(attach(g1_), -EBUSY_);
	khost::FakeGroup &g2 = more(2, 0);
	EXPECT_EQ(attach_g(g2), 0); /* many groups per container */
	EXPECT_EQ(core().group_count(), 2u);
}

/* GET_INFO: -ENXIO with no group; DDW info with 4K and levels >= 1; 16 or 32 bytes by argsz. */
TEST_F(SpaprTest, GetInfo)
{
	uabi::SpaprTceInfo i{};
	EXPECT_EQ(info(i), -ENXIO_);
	ASSERT_EQ(attach_g(g1_), 0);
	EXPECT_EQ(info(i, 15), -EINVAL_);
	ASSERT_EQ(info(i), 0);
	EXPECT_EQ(i.flags, uabi::SPAPR_INFO_DDW);
	EXPECT_EQ(i.dma32_window_start, 0u);
	EXPECT_EQ(i.dma32_window_size, 2 * GIB);
	EXPECT_EQ(i.pgsizes, PG);
	EXPECT_EQ(i.max_dynamic_windows_supported, 1u);
	EXPECT_GE(i.levels, 1u);
	uabi::SpaprTceInfo s{};
	s.pgsizes = 0x55;
	ASSERT_EQ(info(s, 16), 0);
	EXPECT_EQ(s.dma32_window_size, 2 * GIB);
	EXPECT_EQ(s.pgsizes, 0x55u) << "argsz 16 copies the head only";
	EXPECT_EQ(ioctl(GET_INFO, nullptr), -EFAULT_);
}

/* The default window avoids reserved regions: below the MSI range here, 1 GiB. */
TEST_F(SpaprTest, DefaultWindowAvoidsReservedRegions)
{
	g1_.resv.push_back({ 0x40000000, 0x400fffff });
	ASSERT_EQ(attach_g(g1_), 0);
	uabi::SpaprTceInfo i{};
	ASSERT_EQ(info(i), 0);
	EXPECT_EQ(i.dma32_window_size, GIB);
	ASSERT_EQ(reg(VA, PG), 0);
	/* The pending default window is made first (1 GiB), so a second one finds no slot. */
	EXPECT_EQ(create(12, 2 * GIB, 1), -ENOSPC_);
	EXPECT_EQ(locked(), 1u + TABLE_1G_L1);
	ASSERT_EQ(map(GIB - PG, PG, VA), 0);
	EXPECT_EQ(map(GIB, PG, VA), -ENXIO_);
	ASSERT_EQ(remove(0), 0);
	EXPECT_EQ(locked(), 1u);
	/* A window over the reserved region is refused, and its charge given back. */
	EXPECT_EQ(create(12, 2 * GIB, 1), -EINVAL_);
	EXPECT_EQ(locked(), 1u);
	EXPECT_EQ(create(12, GIB, 1), 0);
}

/* B41: once bound, every ioctl but CHECK_EXTENSION from another mm is -EPERM. */
TEST_F(SpaprTest, B41_OtherMmIsEperm)
{
	ASSERT_EQ(attach_g(g1_), 0);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	uabi::SpaprTceInfo i{};
	EXPECT_EQ(info(i), 0) << "GET_INFO does not bind";
	khost::set_current_mm(mm_);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	khost::set_current_mm(other);
	EXPECT_EQ(info(i), -EPERM_);
	EXPECT_EQ(reg(VA + 8 * PG, PG), -EPERM_);
	EXPECT_EQ(unreg(VA, 4 * PG), -EPERM_);
	EXPECT_EQ(map(0, PG, VA), -EPERM_);
	EXPECT_EQ(unmap(0, PG), -EPERM_);
	EXPECT_EQ(create(12, GIB, 1), -EPERM_);
	EXPECT_EQ(remove(0), -EPERM_);
	EXPECT_EQ(ioctl(EEH_PE_OP, &i), -EPERM_);
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, SPAPR_V2), 1);
	EXPECT_EQ(khost::mm_locked_vm(other), 0u);
	khost::set_current_mm(mm_);
	khost::mm_put(other);
}

/* CREATE/REMOVE bind the mm too, and need a group: -ENXIO. */
TEST_F(SpaprTest, CreateRemoveNeedAGroupAndBind)
{
	EXPECT_EQ(create(12, GIB, 1), -ENXIO_);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	EXPECT_EQ(remove(0), -EPERM_) << "the failed CREATE bound the first mm";
	khost::set_current_mm(mm_);
	khost::mm_put(other);
	EXPECT_EQ(remove(0), -ENXIO_);
}

/* REGISTER/UNREGISTER: B31-B33, B35, B36 with upstream's errnos; v2 has no ENABLE. */
TEST_F(SpaprTest, B31_B32_B33_B35_B36_RegisterErrnos)
{
	EXPECT_EQ(unreg(VA, PG), -EPERM_) << "nothing bound yet";
	EXPECT_EQ(ioctl(ENABLE, nullptr), -ENOTTY_);
	EXPECT_EQ(ioctl(DISABLE, nullptr), -ENOTTY_);
	EXPECT_EQ(ioctl(REGISTER, nullptr), -EFAULT_);
	EXPECT_EQ(reg(VA, PG, REGISTER, 0, 23), -EINVAL_);
	EXPECT_EQ(reg(VA, PG, REGISTER, 1), -EINVAL_);
	EXPECT_EQ(reg(VA + 1, PG), -EINVAL_);
	EXPECT_EQ(reg(VA, PG + 1), -EINVAL_);
	EXPECT_EQ(reg(~0UL & ~(PG - 1), 2 * PG), -EINVAL_);
	EXPECT_EQ(locked(), 0u);
	ASSERT_EQ(reg(VA, 16 * PG), 0);
	EXPECT_EQ(locked(), 16u);
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(reg(VA, 16 * PG), -EBUSY_);
	EXPECT_EQ(reg(VA + 4 * PG, 16 * PG), -EINVAL_);
	EXPECT_EQ(locked(), 16u);
	EXPECT_EQ(unreg(VA, 8 * PG), -ENOENT_) << "exact ranges only";
	EXPECT_EQ(unreg(VA + 64 * PG, PG), -ENOENT_);
	/* B36: mapped regions stay */
	ASSERT_EQ(attach_g(g1_), 0);
	ASSERT_EQ(map(0x100000, PG, VA + 3 * PG), 0);
	EXPECT_EQ(unreg(VA, 16 * PG), -EBUSY_);
	ASSERT_EQ(unmap(0x100000, PG), 0);
	EXPECT_EQ(unreg(VA, 16 * PG), 0);
	EXPECT_EQ(locked(), 2048u) << "the default window's table stays charged";
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* MMIO (a VM_PFNMAP range, e.g. a BAR mmap) cannot be registered: -EFAULT, nothing pinned or charged. */
TEST_F(SpaprTest, B32_MmioCannotBeRegistered)
{
	ASSERT_EQ(attach_g(g1_), 0);
	khost::add_pfnmap_range(VA + 2 * PG, VA + 4 * PG - 1);
	EXPECT_EQ(reg(VA, 8 * PG), -EFAULT_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(stats().prereg_pages, 0u);
	EXPECT_EQ(reg(VA + 8 * PG, 4 * PG), 0) << "ordinary memory beside it";
	EXPECT_EQ(map(0, PG, VA + 2 * PG), -EINVAL_) << "no region holds the MMIO page";
}

/* MAP/UNMAP need a successful REGISTER first (enabled), which stays even with no region left. */
TEST_F(SpaprTest, MapNeedsEnabled)
{
	ASSERT_EQ(attach_g(g1_), 0);
	EXPECT_EQ(map(0, PG, VA), -EPERM_);
	EXPECT_EQ(unmap(0, PG), -EPERM_);
	ASSERT_EQ(reg(VA, PG), 0);
	ASSERT_EQ(unreg(VA, PG), 0);
	EXPECT_EQ(unmap(0, PG), 0);
	EXPECT_EQ(map(0, PG, VA), -EINVAL_) << "no region holds the page";
}

/* QEMU's start-up: REGISTER, GET_INFO, REMOVE(0) of the pending window, CREATE at reset; the charges. */
TEST_F(SpaprTest, QemuStartupSequenceAndCharges)
{
	qemu_start(64);
	EXPECT_EQ(locked(), 64u + TABLE_1G_L2);
	EXPECT_EQ(khost::pinned_pages(), 64u);
	EXPECT_EQ(create(12, GIB, 1), -ENOSPC_);
	EXPECT_EQ(remove(PG), -EINVAL_) << "only the window's start removes it";
	EXPECT_EQ(remove(0, 1), -EINVAL_);
	EXPECT_EQ(remove(0, 0, 15), -EINVAL_);
	ASSERT_EQ(remove(0), 0);
	EXPECT_EQ(locked(), 64u);
	EXPECT_EQ(remove(0), -EINVAL_) << "no window, none pending";
	EXPECT_EQ(map(0, PG, VA), -ENXIO_);
	ASSERT_EQ(create(12, GIB, 1), 0);
	EXPECT_EQ(locked(), 64u + TABLE_1G_L1);
	close_container();
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* CREATE's errnos in upstream's order. */
TEST_F(SpaprTest, CreateErrnos)
{
	ASSERT_EQ(attach_g(g1_), 0);
	ASSERT_EQ(reg(VA, PG), 0);
	ASSERT_EQ(remove(0), 0);
	EXPECT_EQ(ioctl(CREATE, nullptr), -EFAULT_);
	EXPECT_EQ(create(12, GIB, 1, nullptr, 0, 39), -EINVAL_);
	EXPECT_EQ(create(12, GIB, 1, nullptr, 1), -EINVAL_);
	EXPECT_EQ(create(16, GIB, 1), -EINVAL_) << "64K is not in pgsizes";
	EXPECT_EQ(create(21, GIB, 1), -EINVAL_);
	EXPECT_EQ(create(12, GIB, 0), -EINVAL_);
	EXPECT_EQ(create(12, GIB, 6), -EINVAL_);
	EXPECT_EQ(create(12, GIB + PG, 1), -EINVAL_);
	EXPECT_EQ(create(12, 1UL << 48, 1), -ENOMEM_) << "the charge comes first, as upstream";
	khost::set_rlimit_memlock_pages(1 + 100);
	khost::clear_events();
	EXPECT_EQ(create(12, GIB, 1), -ENOMEM_);
	EXPECT_EQ(locked(), 1u);
	/* The refusal is the container's MEMLOCK_DENIED event: the table's pages, the limit. */
	expect_memlock_denied(TABLE_1G_L1, 101);
	khost::clear_events();
	khost::set_capable_ipc_lock(true);
	EXPECT_EQ(create(12, 1UL << 49, 1), -EINVAL_) << "beyond the aperture";
	EXPECT_EQ(locked(), 1u);
	EXPECT_EQ(create(12, GIB, 1), 0) << "CAP_IPC_LOCK passes the limit, and is still counted";
	EXPECT_EQ(locked(), 1u + TABLE_1G_L1);
}

/* The pending default window, made by the first MAP, is charged there: a refusal is -ENOMEM and the event. */
TEST_F(SpaprTest, DefaultWindowChargeRefusedAtFirstMap)
{
	ASSERT_EQ(attach_g(g1_), 0);
	ASSERT_EQ(reg(VA, 4 * PG), 0);
	uabi::SpaprTceInfo i{};
	ASSERT_EQ(info(i), 0);
	const unsigned long table = vfio_cxx::spapr::table_bytes(12, i.dma32_window_size, 1) / PG;
	ASSERT_GT(table, 10u);
	khost::set_rlimit_memlock_pages(4 + 10);
	khost::clear_events();
	uabi::DmaMap m{ sizeof(m), RW, VA, 0, PG };
	EXPECT_EQ(ioctl(MAP_DMA, &m), -ENOMEM_);
	EXPECT_EQ(locked(), 4u);
	expect_memlock_denied(table, 14);
	khost::set_capable_ipc_lock(true);
	EXPECT_EQ(ioctl(MAP_DMA, &m), 0) << "still pending: made by this MAP";
	EXPECT_EQ(locked(), 4u + table);
}

/* MAP_DMA's errnos in upstream's order, and its effect in the domain. */
TEST_F(SpaprTest, MapErrnosAndEffect)
{
	qemu_start(16);
	EXPECT_EQ(ioctl(MAP_DMA, nullptr), -EFAULT_);
	uabi::DmaMap m{ 31, RW, VA, 0, PG };
	EXPECT_EQ(ioctl(MAP_DMA, &m), -EINVAL_);
	EXPECT_EQ(map(0, PG, VA, RW | 4), -EINVAL_) << "VADDR is not a sPAPR flag";
	EXPECT_EQ(map(GIB, PG, VA), -ENXIO_) << "outside every window";
	EXPECT_EQ(map(0, PG + 1, VA), -EINVAL_);
	EXPECT_EQ(map(0, PG, VA + 1), -EINVAL_);
	EXPECT_EQ(map(0, PG, VA, 0), -EINVAL_);
	EXPECT_EQ(map(1, PG, VA), -EINVAL_);
	EXPECT_EQ(map(GIB - PG, 2 * PG, VA), -EINVAL_) << "the whole range must be in the window";
	EXPECT_EQ(map(0, 2 * PG, VA + 15 * PG), -EINVAL_) << "the second page is in no region";
	EXPECT_EQ(map(0, PG, VA + 16 * PG), -EINVAL_);
	EXPECT_EQ(map(0, 0, VA), 0) << "size 0 does nothing";
	EXPECT_EQ(khost::mapped_bytes(g1_), 0u);
	ASSERT_EQ(map(0x100000, 4 * PG, VA + 2 * PG), 0);
	EXPECT_EQ(khost::mapped_bytes(g1_), 4 * PG);
	for (unsigned long i = 0; i < 4; i++)
		EXPECT_EQ(phys(g1_, 0x100000 + i * PG), page_phys(VA + (2 + i) * PG));
	EXPECT_EQ(khost::pinned_pages(), 16u) << "MAP takes the region's pages, pins nothing";
	EXPECT_EQ(locked(), 16u + TABLE_1G_L2);
	/* read-only and write-only: WRITE implies READ, as on POWER */
	ASSERT_EQ(map(0x200000, PG, VA, RO), 0);
	ASSERT_EQ(map(0x201000, PG, VA, WO), 0);
	EXPECT_EQ(khost::mapped_bytes(g1_), 6 * PG);
}

/* A TCE over a valid one replaces it; the old region is free to go. */
TEST_F(SpaprTest, MapReplacesValidTce)
{
	qemu_start(4);
	ASSERT_EQ(reg(VA + 64 * PG, 4 * PG), 0);
	ASSERT_EQ(map(0x100000, PG, VA), 0);
	ASSERT_EQ(map(0x100000, PG, VA + 65 * PG), 0);
	EXPECT_EQ(phys(g1_, 0x100000), page_phys(VA + 65 * PG));
	EXPECT_EQ(khost::mapped_bytes(g1_), PG);
	EXPECT_EQ(unreg(VA, 4 * PG), 0) << "nothing points into the first region now";
	EXPECT_EQ(unreg(VA + 64 * PG, 4 * PG), -EBUSY_);
}

/* UNMAP_DMA's errnos; clearing unmapped TCEs is fine; a 1 GiB window at once. */
TEST_F(SpaprTest, UnmapErrnosAndClear)
{
	qemu_start(16);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(map(0x300000, PG, VA), 0);
	EXPECT_EQ(ioctl(UNMAP_DMA, nullptr), -EFAULT_);
	uabi::DmaUnmap u{ 23, 0, 0, PG };
	EXPECT_EQ(ioctl(UNMAP_DMA, &u), -EINVAL_);
	EXPECT_EQ(unmap(0, PG, 1), -EINVAL_) << "no flags (no unmap-all, no dirty bitmap)";
	EXPECT_EQ(unmap(GIB, PG), -ENXIO_);
	EXPECT_EQ(unmap(0, PG + 1), -EINVAL_);
	EXPECT_EQ(unmap(1, PG), -EINVAL_);
	EXPECT_EQ(unmap(GIB - PG, 2 * PG), -EINVAL_) << "upstream returns 1 here (differences.rst)";
	EXPECT_EQ(khost::mapped_bytes(g1_), 5 * PG);
	ASSERT_EQ(unmap(0x101000, PG), 0);
	EXPECT_EQ(phys(g1_, 0x101000), 0u);
	EXPECT_EQ(phys(g1_, 0x102000), page_phys(VA + 2 * PG));
	EXPECT_EQ(unmap(0x101000, PG), 0) << "a clear TCE";
	ASSERT_EQ(unmap(0, GIB), 0);
	EXPECT_EQ(khost::mapped_bytes(g1_), 0u);
	EXPECT_EQ(unreg(VA, 16 * PG), 0);
}

/* EEH: no group here has a PE. */
TEST_F(SpaprTest, EehHasNoPe)
{
	unsigned int op[3] = { 12, 0, 1 };
	EXPECT_EQ(ioctl(EEH_PE_OP, op), 0) << "no group: nothing to fail, as upstream";
	ASSERT_EQ(attach_g(g1_), 0);
	EXPECT_EQ(ioctl(EEH_PE_OP, op), -ENODEV_);
}

/* Seed 003: a group with its own domain gets every TCE replayed; one that cannot reach the window is -EPERM. */
TEST_F(SpaprTest, Seed003_ReplayIntoNewDomain)
{
	qemu_start(8);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, PG, VA + 5 * PG, RO), 0);
	khost::FakeGroup &g2 = more(2, 1); /* another IOMMU driver: its own domain */
	ASSERT_EQ(attach_g(g2), 0);
	EXPECT_EQ(khost::domains_live(), 2);
	EXPECT_EQ(phys(g2, 0x100000), page_phys(VA));
	EXPECT_EQ(phys(g2, 0x101000), page_phys(VA + PG));
	EXPECT_EQ(phys(g2, 0x200000), page_phys(VA + 5 * PG));
	EXPECT_EQ(khost::mapped_bytes(g2), 3 * PG);
	/* new TCEs go into both */
	ASSERT_EQ(map(0x300000, PG, VA + 7 * PG), 0);
	EXPECT_EQ(phys(g1_, 0x300000), page_phys(VA + 7 * PG));
	EXPECT_EQ(phys(g2, 0x300000), page_phys(VA + 7 * PG));
	khost::FakeGroup small = group(3, 2);
	small.aperture_end = (1UL << 29) - 1; /* 512 MiB: cannot hold the 1 GiB window */
	EXPECT_EQ(attach(small), -EPERM_);
	khost::FakeGroup msi = group(4, 3);
	msi.resv.push_back({ 0x100000, 0x1fffff });
	EXPECT_EQ(attach(msi), -EPERM_);
	EXPECT_EQ(khost::domains_live(), 2);
}

/* Seed 003 (quirk 7): detaching one group keeps the TCEs of the groups that remain. */
TEST_F(SpaprTest, Seed003_DetachKeepsOtherGroupsTces)
{
	qemu_start(8);
	khost::FakeGroup &g2 = more(2, 1);
	ASSERT_EQ(attach_g(g2), 0);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	detach_g(g1_);
	EXPECT_EQ(phys(g2, 0x100000), page_phys(VA));
	EXPECT_EQ(khost::mapped_bytes(g2), 2 * PG);
	EXPECT_EQ(unreg(VA, 8 * PG), -EBUSY_) << "the TCEs still point into the region";
	/* a group attached again to the same family shares g2's domain */
	khost::FakeGroup &g3 = more(3, 1);
	ASSERT_EQ(attach_g(g3), 0);
	EXPECT_EQ(phys(g3, 0x101000), page_phys(VA + PG));
}

/* All or nothing: an allocation failing anywhere in a MAP leaves the TCEs as they were. */
TEST_F(SpaprTest, MapRollbackAtEveryAllocation)
{
	qemu_start(1024);
	khost::FakeGroup &g2 = more(2, 1);
	ASSERT_EQ(attach_g(g2), 0);
	/* some TCEs valid before: the MAP below replaces two of them */
	ASSERT_EQ(map(0x1ff000, 2 * PG, VA + 600 * PG), 0);
	const unsigned long before1 = khost::mapped_bytes(g1_), before2 = khost::mapped_bytes(g2);
	bool hit = true;
	long n = 1;
	for (; hit && n < 200; n++) {
		long r = nth_alloc_failing(n, [&] { return map(0x1f0000, 600 * PG, VA); }, &hit);
		if (!hit) {
			ASSERT_EQ(r, 0);
			break;
		}
		ASSERT_EQ(r, -ENOMEM_) << "allocation " << n;
		EXPECT_EQ(khost::mapped_bytes(g1_), before1) << n;
		EXPECT_EQ(khost::mapped_bytes(g2), before2) << n;
		EXPECT_EQ(phys(g1_, 0x1ff000), page_phys(VA + 600 * PG)) << n;
		EXPECT_EQ(phys(g2, 0x200000), page_phys(VA + 601 * PG)) << n;
		EXPECT_EQ(phys(g1_, 0x1f0000), 0u) << n;
		EXPECT_EQ(unreg(VA + 0, 1024 * PG), -EBUSY_);
	}
	/* the replace buffer, leaf 1 again (the replace emptied it for a moment), leaf 2 */
	EXPECT_EQ(n, 4);
	EXPECT_EQ(khost::mapped_bytes(g1_), 600 * PG);
	EXPECT_EQ(phys(g2, 0x1ff000), page_phys(VA + 15 * PG));
	ASSERT_EQ(unmap(0x1f0000, 600 * PG), 0);
	ASSERT_EQ(map(0x1ff000, 2 * PG, VA + 600 * PG), 0);

	/* An IOMMU map failing at any point, in either domain, also undoes the whole call. */
	for (n = 1; n < 2 * 300 + 10; n += 37) {
		khost::fail_nth_map(n);
		long r = map(0x1f0000, 300 * PG, VA);
		const bool failed = khost::map_failure_hit();
		khost::fail_nth_map(0);
		ASSERT_TRUE(failed) << n;
		ASSERT_EQ(r, -ENOMEM_) << n;
		EXPECT_EQ(khost::mapped_bytes(g1_), before1) << n;
		EXPECT_EQ(khost::mapped_bytes(g2), before2) << n;
		EXPECT_EQ(phys(g1_, 0x1ff000), page_phys(VA + 600 * PG)) << n;
		EXPECT_EQ(phys(g2, 0x200000), page_phys(VA + 601 * PG)) << n;
	}
	ASSERT_EQ(unmap(0, GIB), 0);
	EXPECT_EQ(unreg(VA, 1024 * PG), 0);
}

/* B29, B37: closing with windows, TCEs and regions gives every page and charge back. */
TEST_F(SpaprTest, B29_B37_CloseReleasesEverything)
{
	const long count = khost::mm_count(mm_);
	qemu_start(32);
	ASSERT_EQ(map(0x100000, 32 * PG, VA), 0);
	EXPECT_GT(khost::mm_count(mm_), count);
	close_container();
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_count(mm_), count);
}

/* Under the RELEASE exit policy the owner's exit clears the window before the regions: no warning. */
TEST_F(SpaprTest, B42_OwnerExitReleasesWindowAndRegions)
{
	khost::set_exit_policy(uabi::EXIT_RELEASE);
	close_container();
	c_ = open_ok(SPAPR_V2);
	qemu_start(16);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	khost::mm_exit(mm_);
	khost::mm_flush_exit_work(mm_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mapped_bytes(g1_), 0u);
	EXPECT_EQ(khost::log_count("still used"), 0);
	EXPECT_EQ(khost::log_count("without its region"), 0);
}

} /* namespace */

namespace {

/* Item 3: regions shared per mm, as upstream's mm_iommu keeps them (seeds 000/002, B34, B37). */
class SpaprShare : public SpaprTest {
protected:
	void SetUp() override
	{
		SpaprTest::SetUp();
		g2_ = group(2, 0);
		ASSERT_EQ(vfio_cxx_open(SPAPR_V2, &c2_), 0);
		ASSERT_EQ(vfio_cxx_attach_group(c2_, g2_.group(), VFIO_CXX_GROUP_IOMMU), 0);
		ASSERT_EQ(attach_g(g1_), 0);
	}
	void TearDown() override
	{
		close2();
		SpaprTest::TearDown();
	}
	void close2()
	{
		if (!c2_)
			return;
		vfio_cxx_detach_group(c2_, g2_.group());
		vfio_cxx_release(c2_);
		c2_ = nullptr;
	}
	long reg2(unsigned long vaddr, unsigned long size, unsigned int cmd = REGISTER)
	{
		uabi::RegisterMemory r{ 24, 0, vaddr, size };
		return vfio_cxx_ioctl(c2_, cmd, reinterpret_cast<unsigned long>(&r));
	}
	long map2(unsigned long iova, unsigned long size, unsigned long vaddr)
	{
		uabi::DmaMap m{ sizeof(m), RW, vaddr, iova, size };
		return vfio_cxx_ioctl(c2_, MAP_DMA, reinterpret_cast<unsigned long>(&m));
	}

	khost::FakeGroup g2_;
	vfio_cxx_container *c2_ = nullptr;
};

/* B34: the same region in two containers of one mm is pinned and charged once; each closes alone. */
TEST_F(SpaprShare, B34_B37_SameRegionPinnedAndChargedOnce)
{
	ASSERT_EQ(reg(VA, 32 * PG), 0);
	ASSERT_EQ(reg2(VA, 32 * PG), 0);
	EXPECT_EQ(khost::pinned_pages(), 32u);
	EXPECT_EQ(locked(), 32u);
	EXPECT_EQ(stats().prereg_pages, 32u) << "the module counts the region once";
	EXPECT_EQ(probe(c_).prereg_pages(), 32u);
	EXPECT_EQ(probe(c2_).prereg_pages(), 32u) << "and each container lists it";
	EXPECT_EQ(reg2(VA, 32 * PG), -EBUSY_) << "the same container twice";
	/* both map from it */
	ASSERT_EQ(map(0x100000, PG, VA + 3 * PG), 0);
	ASSERT_EQ(map2(0x100000, PG, VA + 3 * PG), 0);
	EXPECT_EQ(phys(g2_, 0x100000), page_phys(VA + 3 * PG));
	EXPECT_EQ(khost::pinned_pages(), 32u);
	/* the first container goes: the region stays for the second, still pinned and charged */
	close_container();
	EXPECT_EQ(khost::pinned_pages(), 32u);
	EXPECT_EQ(locked(), 32u + 2048u) << "the region, and the second container's default window";
	EXPECT_EQ(phys(g2_, 0x100000), page_phys(VA + 3 * PG));
	close2();
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(stats().prereg_pages, 0u);
}

/* Quirk 5: a region overlapping one of the mm's regions in another container is -EINVAL. */
TEST_F(SpaprShare, OverlapAcrossContainersIsEinval)
{
	ASSERT_EQ(reg(VA, 16 * PG), 0);
	EXPECT_EQ(reg2(VA + 8 * PG, 16 * PG), -EINVAL_);
	EXPECT_EQ(reg2(VA, 8 * PG), -EINVAL_) << "a part is an overlap, not the same region";
	EXPECT_EQ(reg2(VA + 16 * PG, 16 * PG), 0) << "adjacent";
	EXPECT_EQ(khost::pinned_pages(), 32u);
	EXPECT_EQ(locked(), 32u);
}

/* Unregistering in one container drops its reference only; the other's TCEs keep their pages. */
TEST_F(SpaprShare, B36_UnregisterDropsOneReference)
{
	ASSERT_EQ(reg(VA, 16 * PG), 0);
	ASSERT_EQ(reg2(VA, 16 * PG), 0);
	ASSERT_EQ(map2(0x100000, 2 * PG, VA), 0);
	EXPECT_EQ(unreg(VA, 16 * PG), 0) << "none of this container's TCEs use it";
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(reg2(VA, 16 * PG, UNREGISTER), -EBUSY_) << "the other's TCEs do";
	EXPECT_EQ(map(0x100000, PG, VA), -EINVAL_) << "MAP looks in the container's own regions";
	EXPECT_EQ(reg(VA, 16 * PG), 0) << "registered again: the same pins";
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(locked(), 16u + 2 * 2048u) << "each container made its default window";
}

/* Another mm's region of the same addresses is its own. */
TEST_F(SpaprShare, OtherMmsDoNotShare)
{
	ASSERT_EQ(reg(VA, 8 * PG), 0);
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	vfio_cxx_container *c3 = nullptr;
	khost::FakeGroup g3 = group(3, 0);
	ASSERT_EQ(vfio_cxx_open(SPAPR_V2, &c3), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c3, g3.group(), VFIO_CXX_GROUP_IOMMU), 0);
	uabi::RegisterMemory r{ 24, 0, VA, 8 * PG };
	EXPECT_EQ(vfio_cxx_ioctl(c3, REGISTER, reinterpret_cast<unsigned long>(&r)), 0);
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(khost::mm_locked_vm(other), 8u);
	EXPECT_EQ(locked(), 8u);
	vfio_cxx_detach_group(c3, g3.group());
	vfio_cxx_release(c3);
	EXPECT_EQ(khost::mm_locked_vm(other), 0u);
	khost::set_current_mm(mm_);
	khost::mm_put(other);
	EXPECT_EQ(khost::pinned_pages(), 8u);
}

/*
 * Two registrations of one region race: the second container registers it
 * while the first is still pinning (with no regions lock held).  One set
 * of pins and one charge stay; the loser gives its own back.
 */
TEST_F(SpaprShare, RacingRegistrationsKeepOnePin)
{
	bool once = false;
	long inner = 1;
	khost::set_pin_hook([&](unsigned long, unsigned long) {
		if (once)
			return;
		once = true;
		/* another process's thread of the same mm, while this one pins */
		std::thread t([&] { inner = reg2(VA, 16 * PG); });
		t.join();
	});
	EXPECT_EQ(reg(VA, 16 * PG), 0);
	khost::set_pin_hook(nullptr);
	EXPECT_EQ(inner, 0);
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(locked(), 16u);
	EXPECT_EQ(stats().prereg_pages, 16u);
	close2();
	EXPECT_EQ(khost::pinned_pages(), 16u);
	close_container();
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
}

/* An allocation failing anywhere in a shared registration leaves nothing pinned or charged. */
TEST_F(SpaprShare, RegisterAtEveryAllocationFailure)
{
	ASSERT_EQ(reg2(VA + 64 * PG, 4 * PG), 0);
	bool hit = true;
	for (long n = 1; hit && n < 50; n++) {
		long r = nth_alloc_failing(n, [&] { return reg(VA, 16 * PG); }, &hit);
		if (!hit) {
			ASSERT_EQ(r, 0);
			break;
		}
		ASSERT_EQ(r, -ENOMEM_) << n;
		EXPECT_EQ(khost::pinned_pages(), 4u) << n;
		EXPECT_EQ(locked(), 4u) << n;
	}
	EXPECT_EQ(khost::pinned_pages(), 20u);
}

} /* namespace */
