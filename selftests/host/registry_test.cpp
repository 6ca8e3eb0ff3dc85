// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of live containers and its snapshots (issue 7): ids, owner,
 * visibility, the per-container numbers, the mapping dump, and the events.
 */
#include "test_common.h"

#include <vector>

#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

constexpr unsigned long PG = 4096;
constexpr unsigned long VA = 0x7f0000000000UL;
constexpr unsigned int RW = uabi::DMA_MAP_FLAG_READ | uabi::DMA_MAP_FLAG_WRITE;
/* VFIO_IOMMU_SPAPR_(UN)REGISTER_MEMORY */
constexpr unsigned int REGISTER = (';' << 8) | 117, UNREGISTER = (';' << 8) | 118;

class Registry : public CoreTest {
protected:
	void SetUp() override
	{
		CoreTest::SetUp();
		mm_ = khost::mm_new();
		khost::set_current_mm(mm_);
	}
	void TearDown() override
	{
		for (auto *c : open_)
			vfio_cxx_release(c);
		khost::set_current_mm(nullptr);
		khost::mm_put(mm_);
		CoreTest::TearDown();
	}
	vfio_cxx_container *open(unsigned long type = CXX_IOMMU)
	{
		vfio_cxx_container *c = open_ok(type);
		open_.push_back(c);
		return c;
	}
	void close(vfio_cxx_container *c)
	{
		std::erase(open_, c);
		vfio_cxx_release(c);
	}
	static long map(vfio_cxx_container *c, unsigned long iova, unsigned long size,
			unsigned long vaddr, unsigned int flags = RW)
	{
		uabi::DmaMap m{ sizeof(m), flags, vaddr, iova, size };
		return vfio_cxx_ioctl(c, MAP_DMA, reinterpret_cast<unsigned long>(&m));
	}
	/* Every container visible to (uid, admin), by dumping. */
	static std::vector<vfio_cxx_container_info> dump(unsigned int uid, bool admin)
	{
		std::vector<vfio_cxx_container_info> v;
		vfio_cxx_container_info ci{};
		kapi_u64 after = 0;
		while (vfio_cxx_container_next(after, uid, admin, &ci) == 0) {
			v.push_back(ci);
			after = ci.id;
		}
		return v;
	}
	static long prereg(vfio_cxx_container *c, unsigned long vaddr, unsigned long size,
			   bool reg = true)
	{
		uabi::RegisterMemory r{ 24, 0, vaddr, size };
		return vfio_cxx_ioctl(c, reg ? REGISTER : UNREGISTER, reinterpret_cast<unsigned long>(&r));
	}
	/* The regions of container id as (uid, admin) sees them; *err: the last answer. */
	static std::vector<vfio_cxx_prereg_info> preregs(kapi_u64 id, int *err = nullptr,
							 unsigned int uid = 0, bool admin = true)
	{
		std::vector<vfio_cxx_prereg_info> v;
		vfio_cxx_prereg_info pi{};
		kapi_u64 from = 0;
		int r;
		while ((r = vfio_cxx_prereg_next(id, from, uid, admin, &pi)) == 0) {
			v.push_back(pi);
			from = pi.vaddr + pi.size;
			if (!from)
				break;
		}
		if (err)
			*err = r;
		return v;
	}
	static std::vector<vfio_cxx_mapping_info> mappings(kapi_u64 id, int *err = nullptr)
	{
		std::vector<vfio_cxx_mapping_info> v;
		vfio_cxx_mapping_info mi{};
		kapi_u64 from = 0;
		int r;
		while ((r = vfio_cxx_mapping_next(id, from, 0, 1, &mi)) == 0) {
			v.push_back(mi);
			from = mi.iova + mi.size;
			if (!from)
				break;
		}
		if (err)
			*err = r;
		return v;
	}

	khost::FakeMm *mm_ = nullptr;
	std::vector<vfio_cxx_container *> open_;
};

TEST_F(Registry, IdsAreUniqueIncreasingAndOwnerIsRecorded)
{
	khost::set_current_tgid(100);
	khost::set_current_euid(1000);
	auto *a = open();
	khost::set_current_tgid(200);
	khost::set_current_euid(2000);
	khost::set_claim_type1(true);
	auto *b = open(TYPE1v2);
	(void)a;
	(void)b;
	auto all = dump(0, true);
	ASSERT_EQ(all.size(), 2u);
	EXPECT_LT(all[0].id, all[1].id);
	EXPECT_NE(all[0].id, 0u);
	EXPECT_EQ(all[0].tgid, 100u);
	EXPECT_EQ(all[0].uid, 1000u);
	EXPECT_EQ(all[0].type, CXX_IOMMU);
	EXPECT_EQ(all[1].tgid, 200u);
	EXPECT_EQ(all[1].uid, 2000u);
	EXPECT_EQ(all[1].type, TYPE1v2);
	EXPECT_EQ(all[0].mm_id, kapi_mm_id(reinterpret_cast<kapi_mm *>(mm_)));
	EXPECT_NE(all[0].mm_id, reinterpret_cast<uintptr_t>(mm_)) << "a kernel pointer leaked";

	/* A closed container leaves the registry; a new one gets a higher id. */
	const kapi_u64 top = all[1].id;
	close(b);
	EXPECT_EQ(dump(0, true).size(), 1u);
	open();
	all = dump(0, true);
	ASSERT_EQ(all.size(), 2u);
	EXPECT_GT(all[1].id, top);
}

TEST_F(Registry, NonAdminSeesOnlyItsOwnUid)
{
	khost::set_current_euid(0);
	open();
	khost::set_current_euid(65534);
	open();
	auto mine = dump(65534, false);
	ASSERT_EQ(mine.size(), 1u);
	EXPECT_EQ(mine[0].uid, 65534u);
	EXPECT_EQ(dump(1234, false).size(), 0u);
	EXPECT_EQ(dump(1234, true).size(), 2u);

	auto all = dump(0, true);
	vfio_cxx_container_info ci{};
	EXPECT_EQ(vfio_cxx_container_get(all[0].id, 65534, 0, &ci), -EPERM_);
	EXPECT_EQ(vfio_cxx_container_get(all[0].id, 65534, 1, &ci), 0);
	EXPECT_EQ(vfio_cxx_container_get(all[1].id, 65534, 0, &ci), 0);
	EXPECT_EQ(ci.uid, 65534u);
	EXPECT_EQ(vfio_cxx_container_get(all[1].id + 1000, 0, 1, &ci), -ENOENT_);
	vfio_cxx_mapping_info mi{};
	EXPECT_EQ(vfio_cxx_mapping_next(all[0].id, 0, 65534, 0, &mi), -EPERM_);
	EXPECT_EQ(vfio_cxx_mapping_next(all[1].id + 1000, 0, 0, 1, &mi), -ENOENT_);
	EXPECT_EQ(vfio_cxx_mapping_next(all[1].id, 0, 65534, 0, &mi), 1) << "no mappings: end";
}

TEST_F(Registry, SnapshotCountsGroupsDomainsMappingsAndPins)
{
	auto *c = open();
	auto g1 = group(7), g2 = group(9, /*family=*/1);
	ASSERT_EQ(vfio_cxx_attach_group(c, g1.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c, g2.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(map(c, 0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(map(c, 0x400000, 2 * PG, VA + 0x100000, uabi::DMA_MAP_FLAG_READ), 0);

	auto all = dump(0, true);
	ASSERT_EQ(all.size(), 1u);
	const auto &ci = all[0];
	EXPECT_EQ(ci.groups, 2u);
	EXPECT_EQ(ci.domains, 2u) << "different families get separate domains";
	ASSERT_EQ(ci.ngroup_ids, 2u);
	EXPECT_EQ(ci.group_ids[0], 7);
	EXPECT_EQ(ci.group_ids[1], 9);
	EXPECT_EQ(ci.mappings, 2u);
	EXPECT_EQ(ci.mapped_bytes, 10 * PG);
	EXPECT_EQ(ci.pages_pinned, 10u);
	EXPECT_EQ(ci.locked_pages, 10u);
	EXPECT_EQ(ci.locked_pages, khost::mm_locked_vm(mm_));
	EXPECT_EQ(ci.external_pages, 0u);
	EXPECT_EQ(ci.prereg_pages, 0u);
	EXPECT_EQ(ci.orphaned_mappings, 0u);

	int err = 0;
	auto maps = mappings(ci.id, &err);
	EXPECT_EQ(err, 1);
	ASSERT_EQ(maps.size(), 2u);
	EXPECT_EQ(maps[0].iova, 0x100000u);
	EXPECT_EQ(maps[0].size, 8 * PG);
	EXPECT_EQ(maps[0].vaddr, VA);
	EXPECT_EQ(maps[0].prot, unsigned(KAPI_IOMMU_READ | KAPI_IOMMU_WRITE));
	EXPECT_EQ(maps[0].pages_pinned, 8u);
	EXPECT_EQ(maps[0].locked_pages, 8u);
	EXPECT_EQ(maps[0].flags, VFIO_CXX_MAPPING_IOMMU_MAPPED);
	EXPECT_EQ(maps[0].mm_id, ci.mm_id);
	EXPECT_EQ(maps[1].iova, 0x400000u);
	EXPECT_EQ(maps[1].prot, unsigned(KAPI_IOMMU_READ));
	EXPECT_EQ(maps[1].pages_pinned, 2u);

	/* A cursor inside a mapping moves on to the next one. */
	vfio_cxx_mapping_info mi{};
	ASSERT_EQ(vfio_cxx_mapping_next(ci.id, 0x100000 + PG, 0, 1, &mi), 0);
	EXPECT_EQ(mi.iova, 0x400000u);

	vfio_cxx_detach_group(c, g1.group());
	vfio_cxx_detach_group(c, g2.group());
}

TEST_F(Registry, MappingsWithoutDomainAreRecordedUnpinned)
{
	auto *c = open();
	ASSERT_EQ(map(c, 0x100000, 4 * PG, VA), 0);
	auto all = dump(0, true);
	ASSERT_EQ(all.size(), 1u);
	EXPECT_EQ(all[0].mappings, 1u);
	EXPECT_EQ(all[0].pages_pinned, 0u);
	auto maps = mappings(all[0].id);
	ASSERT_EQ(maps.size(), 1u);
	EXPECT_EQ(maps[0].flags, 0u);
}

TEST_F(Registry, CreatedAndReleasedEvents)
{
	khost::set_current_tgid(321);
	khost::set_current_euid(1000);
	auto *c = open();
	auto ev = khost::events();
	ASSERT_EQ(ev.size(), 1u);
	EXPECT_EQ(ev[0].type, KAPI_EVENT_CONTAINER_CREATED);
	EXPECT_EQ(ev[0].ev.tgid, 321u);
	EXPECT_EQ(ev[0].ev.uid, 1000u);
	const kapi_u64 id = ev[0].ev.container_id;
	EXPECT_EQ(id, dump(0, true).at(0).id);
	close(c);
	ev = khost::events();
	ASSERT_EQ(ev.size(), 2u);
	EXPECT_EQ(ev[1].type, KAPI_EVENT_CONTAINER_RELEASED);
	EXPECT_EQ(ev[1].ev.container_id, id);
	EXPECT_EQ(ev[1].ev.tgid, 321u);
}

TEST_F(Registry, FailedOpenIsNeverRegistered)
{
	/* An unserved type, and an allocation failure inside create(). */
	vfio_cxx_container *c = nullptr;
	EXPECT_NE(vfio_cxx_open(0x7777, &c), 0);
	khost::fail_nth_alloc(1);
	EXPECT_EQ(vfio_cxx_open(CXX_IOMMU, &c), -ENOMEM_);
	khost::fail_nth_alloc(0);
	EXPECT_EQ(dump(0, true).size(), 0u);
	EXPECT_TRUE(khost::events().empty());
}

TEST_F(Registry, MemlockDenialEvent)
{
	auto *c = open();
	auto g = group(3);
	ASSERT_EQ(vfio_cxx_attach_group(c, g.group(), VFIO_CXX_GROUP_IOMMU), 0);
	khost::set_rlimit_memlock_pages(4);
	khost::clear_events();
	EXPECT_EQ(map(c, 0x100000, 8 * PG, VA), -ENOMEM_);
	auto ev = khost::events();
	ASSERT_EQ(ev.size(), 1u);
	EXPECT_EQ(ev[0].type, KAPI_EVENT_MEMLOCK_DENIED);
	EXPECT_EQ(ev[0].ev.pages, 8u);
	EXPECT_EQ(ev[0].ev.limit_pages, 4u);
	EXPECT_EQ(ev[0].ev.container_id, dump(0, true).at(0).id);
	vfio_cxx_detach_group(c, g.group());
}

/* The preregistered regions of one container, in vaddr order, with their users. */
TEST_F(Registry, PreregDumpListsRegionsInVaddrOrder)
{
	khost::set_current_euid(1000);
	auto *c = open();
	/* Registered out of vaddr order: the dump sorts them. */
	ASSERT_EQ(prereg(c, VA + 0x100000, 4 * PG), 0);
	ASSERT_EQ(prereg(c, VA, 8 * PG), 0);
	ASSERT_EQ(map(c, 0x100000, 4 * PG, VA + 2 * PG), 0); /* inside the first region */
	ASSERT_EQ(map(c, 0x200000, 2 * PG, VA + 0x200000), 0); /* in none */

	auto all = dump(0, true);
	ASSERT_EQ(all.size(), 1u);
	const kapi_u64 id = all[0].id;
	EXPECT_EQ(all[0].prereg_pages, 12u);

	int err = 0;
	auto regs = preregs(id, &err);
	EXPECT_EQ(err, 1) << "the end of the dump";
	ASSERT_EQ(regs.size(), 2u);
	EXPECT_EQ(regs[0].vaddr, VA);
	EXPECT_EQ(regs[0].size, 8 * PG);
	EXPECT_EQ(regs[0].users, 1u);
	EXPECT_EQ(regs[0].mm_id, all[0].mm_id);
	EXPECT_EQ(regs[0].mm_id, kapi_mm_id(reinterpret_cast<kapi_mm *>(mm_)));
	EXPECT_EQ(regs[1].vaddr, VA + 0x100000);
	EXPECT_EQ(regs[1].size, 4 * PG);
	EXPECT_EQ(regs[1].users, 0u);
	EXPECT_EQ(regs[1].mm_id, all[0].mm_id);

	/* A cursor inside a region moves on to the next one. */
	vfio_cxx_prereg_info pi{};
	ASSERT_EQ(vfio_cxx_prereg_next(id, VA + PG, 0, 1, &pi), 0);
	EXPECT_EQ(pi.vaddr, VA + 0x100000);
	EXPECT_EQ(vfio_cxx_prereg_next(id, VA + 0x100000 + PG, 0, 1, &pi), 1);

	/* A second mapping in the region counts as a second user. */
	ASSERT_EQ(map(c, 0x300000, PG, VA), 0);
	regs = preregs(id);
	ASSERT_EQ(regs.size(), 2u);
	EXPECT_EQ(regs[0].users, 2u);

	/* Visibility as GET_MAPPINGS: the owner's uid or CAP_SYS_ADMIN. */
	EXPECT_EQ(preregs(id, &err, 1000, false).size(), 2u);
	EXPECT_EQ(err, 1);
	EXPECT_EQ(vfio_cxx_prereg_next(id, 0, 65534, 0, &pi), -EPERM_);
	EXPECT_EQ(vfio_cxx_prereg_next(id, 0, 65534, 1, &pi), 0);
	EXPECT_EQ(vfio_cxx_prereg_next(id + 1000, 0, 0, 1, &pi), -ENOENT_);

	/* Unmapped, then unregistered: the listing follows. */
	uabi::DmaUnmap u{ sizeof(u), 0, 0x100000, 4 * PG };
	ASSERT_EQ(vfio_cxx_ioctl(c, UNMAP_DMA, reinterpret_cast<unsigned long>(&u)), 0);
	u = uabi::DmaUnmap{ sizeof(u), 0, 0x300000, PG };
	ASSERT_EQ(vfio_cxx_ioctl(c, UNMAP_DMA, reinterpret_cast<unsigned long>(&u)), 0);
	regs = preregs(id);
	ASSERT_EQ(regs.size(), 2u);
	EXPECT_EQ(regs[0].users, 0u);
	ASSERT_EQ(prereg(c, VA, 8 * PG, false), 0);
	regs = preregs(id);
	ASSERT_EQ(regs.size(), 1u);
	EXPECT_EQ(regs[0].vaddr, VA + 0x100000);
	ASSERT_EQ(prereg(c, VA + 0x100000, 4 * PG, false), 0);
	EXPECT_TRUE(preregs(id, &err).empty());
	EXPECT_EQ(err, 1);
}

/* A container without regions (or of another type) answers with the end at once. */
TEST_F(Registry, PreregDumpOfContainerWithoutRegions)
{
	khost::set_claim_type1(true);
	auto *a = open(TYPE1v2);
	(void)a;
	auto all = dump(0, true);
	ASSERT_EQ(all.size(), 1u);
	int err = 0;
	EXPECT_TRUE(preregs(all[0].id, &err).empty());
	EXPECT_EQ(err, 1);
	vfio_cxx_prereg_info pi{};
	EXPECT_EQ(vfio_cxx_prereg_next(all[0].id, 0, 12345, 0, &pi), -EPERM_);
}

} /* namespace */
