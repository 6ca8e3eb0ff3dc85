// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of live containers and what viewers see of it (issue 7):
 * ids, owner, the per-container numbers, the mapping and region dumps, the
 * events; issue 11 item 4: visibility by the opener's and the sender's
 * credentials (the fake ptrace-read rule of kapi_host.cpp); issue 11 item 3:
 * references instead of a registry lock held across a container's lock.
 */
#include "test_common.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

const khost::FakeViewer ADMIN = khost::admin_viewer();

class Registry : public ContainersTest {
protected:
	void TearDown() override
	{
		khost::set_pin_hook(nullptr);
		release_all();
		EXPECT_EQ(khost::live_owners(), 0) << "an owner reference outlived its container";
		CoreTest::TearDown();
	}
	static long map(vfio_cxx_container *c, unsigned long iova, unsigned long size,
			unsigned long vaddr, unsigned int flags = RW)
	{
		uabi::DmaMap m{ sizeof(m), flags, vaddr, iova, size };
		return vfio_cxx_ioctl(c, MAP_DMA, reinterpret_cast<unsigned long>(&m));
	}
	/* Every container visible to v, by dumping. */
	static std::vector<vfio_cxx_container_info> dump(const khost::FakeViewer &v)
	{
		std::vector<vfio_cxx_container_info> r;
		vfio_cxx_container_info ci{};
		kapi_u64 after = 0;
		while (vfio_cxx_view_container_next(v.viewer(), after, &ci) == 0) {
			r.push_back(ci);
			after = ci.id;
		}
		return r;
	}
	static std::vector<vfio_cxx_container_info> dump_all() { return dump(khost::admin_viewer()); }
	/* The ids visible to v. */
	static std::vector<kapi_u64> ids(const khost::FakeViewer &v)
	{
		std::vector<kapi_u64> r;
		for (auto &ci : dump(v))
			r.push_back(ci.id);
		return r;
	}
	static int get(const khost::FakeViewer &v, kapi_u64 id)
	{
		vfio_cxx_container_info ci{};
		return vfio_cxx_view_container_get(v.viewer(), id, &ci);
	}
	/* A container opened by process tgid with euid uid (and the current label). */
	kapi_u64 open_as(unsigned int tgid, unsigned int uid, unsigned long type = CXX_IOMMU)
	{
		khost::set_current_tgid(tgid);
		khost::set_current_euid(uid);
		open(type);
		return dump_all().back().id;
	}
	static long prereg(vfio_cxx_container *c, unsigned long vaddr, unsigned long size,
			   bool reg = true)
	{
		uabi::RegisterMemory r{ 24, 0, vaddr, size };
		return vfio_cxx_ioctl(c, reg ? REGISTER : UNREGISTER, reinterpret_cast<unsigned long>(&r));
	}
	/* The regions of container id as viewer v sees them; *err: the last answer. */
	static std::vector<vfio_cxx_prereg_info> preregs(kapi_u64 id, int *err = nullptr,
							 const khost::FakeViewer &viewer =
								 khost::admin_viewer())
	{
		return walk<vfio_cxx_prereg_info>(
			[&](kapi_u64 from, vfio_cxx_prereg_info *pi) {
				return vfio_cxx_view_prereg_next(viewer.viewer(), id, from, pi);
			},
			[](const vfio_cxx_prereg_info &pi) { return pi.vaddr + pi.size; }, err);
	}
	static std::vector<vfio_cxx_mapping_info> mappings(kapi_u64 id, int *err = nullptr)
	{
		return walk<vfio_cxx_mapping_info>(
			[&](kapi_u64 from, vfio_cxx_mapping_info *mi) {
				return vfio_cxx_view_mapping_next(ADMIN.viewer(), id, from, mi);
			},
			[](const vfio_cxx_mapping_info &mi) { return mi.iova + mi.size; }, err);
	}
	/*
	 * A view_*_next walk: next(from, &info) until it answers non-zero (or
	 * the end wraps to 0); *err: the last answer.
	 */
	template <typename Info, typename Next, typename End>
	static std::vector<Info> walk(Next next, End end, int *err)
	{
		std::vector<Info> v;
		Info info{};
		kapi_u64 from = 0;
		int r;
		while ((r = next(from, &info)) == 0) {
			v.push_back(info);
			from = end(info);
			if (!from)
				break;
		}
		if (err)
			*err = r;
		return v;
	}
};

TEST_F(Registry, IdsAreUniqueIncreasingAndOwnerIsRecorded)
{
	khost::set_current_tgid(100);
	khost::set_current_euid(1000);
	open();
	khost::set_current_tgid(200);
	khost::set_current_euid(2000);
	khost::set_claim_type1(true);
	auto *b = open(TYPE1v2);
	auto all = dump_all();
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
	EXPECT_EQ(dump_all().size(), 1u);
	open();
	all = dump_all();
	ASSERT_EQ(all.size(), 2u);
	EXPECT_GT(all[1].id, top);
}

/* Issue 11 item 4: an unprivileged viewer sees its own containers, not root's. */
TEST_F(Registry, UnprivilegedViewerSeesItsOwnNotRoots)
{
	const kapi_u64 root = open_as(1, 0);
	const kapi_u64 mine = open_as(100, 1000);
	const auto me = khost::viewer_of(100, 1000);
	EXPECT_EQ(ids(me), std::vector<kapi_u64>{ mine });
	EXPECT_EQ(get(me, mine), 0);
	EXPECT_EQ(get(me, root), -EPERM_);
	EXPECT_EQ(get(me, mine + 1000), -ENOENT_);
	vfio_cxx_mapping_info mi{};
	EXPECT_EQ(vfio_cxx_view_mapping_next(me.viewer(), root, 0, &mi), -EPERM_);
	EXPECT_EQ(vfio_cxx_view_mapping_next(me.viewer(), mine, 0, &mi), 1) << "no mappings: end";
	EXPECT_EQ(vfio_cxx_view_mapping_next(ADMIN.viewer(), mine + 1000, 0, &mi), -ENOENT_);
	/* Root without CAP_SYS_ADMIN is just another uid; with it, everything. */
	EXPECT_EQ(ids(khost::viewer_of(1, 0)), std::vector<kapi_u64>{ root });
	EXPECT_EQ(ids(ADMIN), (std::vector<kapi_u64>{ root, mine }));
	EXPECT_EQ(get(ADMIN, root), 0);
}

/* Issue 11 item 4: a second uid sees neither the first uid's containers nor root's. */
TEST_F(Registry, SecondUidSeesNeither)
{
	open_as(1, 0);
	const kapi_u64 first = open_as(100, 1000);
	const auto second = khost::viewer_of(200, 2000);
	EXPECT_TRUE(ids(second).empty());
	EXPECT_EQ(get(second, first), -EPERM_);
	/* Its own container, once it has one, and only that. */
	const kapi_u64 own = open_as(200, 2000);
	EXPECT_EQ(ids(second), std::vector<kapi_u64>{ own });
}

/*
 * Issue 11 item 4: the same uid is not enough.  Processes of one uid that an
 * LSM keeps apart (every libvirt QEMU) do not see each other's containers,
 * and neither does anyone see a non-dumpable process's (one that changed
 * its credentials), as /proc/<pid>/maps.
 */
TEST_F(Registry, SameUidSandboxesAreSeparated)
{
	khost::set_current_label(7);
	const kapi_u64 vm1 = open_as(100, 107);
	khost::set_current_label(8);
	const kapi_u64 vm2 = open_as(200, 107);
	EXPECT_EQ(ids(khost::viewer_of(100, 107, 7)), std::vector<kapi_u64>{ vm1 });
	EXPECT_EQ(ids(khost::viewer_of(200, 107, 8)), std::vector<kapi_u64>{ vm2 });
	EXPECT_EQ(get(khost::viewer_of(100, 107, 7), vm2), -EPERM_);
	/* An unconfined tool of that uid sees neither (different label); admin sees both. */
	EXPECT_TRUE(ids(khost::viewer_of(300, 107)).empty());
	EXPECT_EQ(ids(ADMIN).size(), 2u);

	khost::set_current_label(0);
	const kapi_u64 plain = open_as(400, 1000);
	const auto tool = khost::viewer_of(500, 1000);
	EXPECT_EQ(ids(tool), std::vector<kapi_u64>{ plain });
	khost::process_set_dumpable(400, false);
	EXPECT_TRUE(ids(tool).empty()) << "a non-dumpable owner is not readable by its uid";
	auto ptracer = tool;
	ptracer.opener.cap_ptrace = ptracer.sender.cap_ptrace = true;
	EXPECT_EQ(ids(ptracer), std::vector<kapi_u64>{ plain }) << "CAP_SYS_PTRACE reads it";
}

/*
 * Issue 11 item 4, the confused deputy: a socket opened by an unprivileged
 * process and used by a privileged one (or the other way round) sees only
 * what both may see.  CAP_SYS_ADMIN counts only if both have it.
 */
TEST_F(Registry, OpenerAndSenderMustBothSee)
{
	const kapi_u64 root = open_as(1, 0);
	const kapi_u64 user = open_as(100, 1000);
	khost::FakeViewer deputy; /* opened by uid 1000, used by root with every cap but admin */
	deputy.opener.uid = 1000;
	deputy.sender.uid = 0;
	deputy.sender.cap_ptrace = true;
	deputy.sender_tgid = 1;
	EXPECT_EQ(ids(deputy), std::vector<kapi_u64>{ user });
	EXPECT_EQ(get(deputy, root), -EPERM_);
	khost::FakeViewer reverse; /* opened by root, used by uid 1000 */
	reverse.opener.uid = 0;
	reverse.opener.cap_ptrace = true;
	reverse.sender.uid = 1000;
	reverse.sender_tgid = 100;
	EXPECT_EQ(ids(reverse), std::vector<kapi_u64>{ user });
	EXPECT_EQ(get(reverse, root), -EPERM_);
	khost::FakeViewer kernel_socket = khost::viewer_of(100, 1000);
	kernel_socket.no_opener = true;
	EXPECT_TRUE(ids(kernel_socket).empty());
}

/*
 * The owner's own view: through a socket it opened itself it sees its
 * container even when it is not dumpable (as /proc/self); through a socket
 * someone else of its uid opened, the opener's cred is judged on its own.
 */
TEST_F(Registry, OwnProcessAndChangedCredentials)
{
	const kapi_u64 id = open_as(100, 1000);
	const auto self = khost::viewer_of(100, 1000);
	auto handed = self; /* a socket of another process of uid 1000, used by the owner */
	handed.own_socket = false;
	khost::process_set_dumpable(100, false);
	EXPECT_EQ(ids(self), std::vector<kapi_u64>{ id });
	EXPECT_TRUE(ids(handed).empty());
	EXPECT_TRUE(ids(khost::viewer_of(300, 1000)).empty()) << "another process of the uid";
	auto handed_ptrace = handed;
	handed_ptrace.opener.cap_ptrace = true;
	EXPECT_EQ(ids(handed_ptrace), std::vector<kapi_u64>{ id });
	khost::process_set_dumpable(100, true);
	EXPECT_EQ(ids(handed), std::vector<kapi_u64>{ id });
	/* Visibility follows the owner's current credentials, not those at creation. */
	khost::process_set_uid(100, 2000);
	EXPECT_TRUE(ids(khost::viewer_of(300, 1000)).empty());
	EXPECT_EQ(ids(khost::viewer_of(300, 2000)), std::vector<kapi_u64>{ id });
	EXPECT_EQ(dump_all().at(0).uid, 1000u) << "OWNER_UID stays the creator's euid";
	/* An owner that has exited: CAP_SYS_ADMIN only. */
	khost::process_exit(100);
	EXPECT_TRUE(ids(khost::viewer_of(300, 2000)).empty());
	EXPECT_EQ(ids(ADMIN), std::vector<kapi_u64>{ id });
}

/* Listings check quietly (no audit of a denial); a lookup by id is audited. */
TEST_F(Registry, ListingIsQuietLookupIsAudited)
{
	const kapi_u64 a = open_as(1, 0);
	open_as(2, 0);
	const auto nobody = khost::viewer_of(100, 65534);
	khost::clear_viewer_checks();
	EXPECT_TRUE(ids(nobody).empty());
	EXPECT_EQ(khost::viewer_checks(), 2);
	EXPECT_EQ(khost::viewer_quiet_checks(), 2);
	khost::clear_viewer_checks();
	EXPECT_EQ(get(nobody, a), -EPERM_);
	EXPECT_EQ(khost::viewer_checks(), 1);
	EXPECT_EQ(khost::viewer_quiet_checks(), 0);
}

TEST_F(Registry, SnapshotCountsGroupsDomainsMappingsAndPins)
{
	auto *c = open();
	auto g1 = group(7), g2 = group(9, /*family=*/1);
	ASSERT_EQ(vfio_cxx_attach_group(c, g1.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c, g2.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(map(c, 0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(map(c, 0x400000, 2 * PG, VA + 0x100000, uabi::DMA_MAP_FLAG_READ), 0);

	auto all = dump_all();
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
	ASSERT_EQ(vfio_cxx_view_mapping_next(ADMIN.viewer(), ci.id, 0x100000 + PG, &mi), 0);
	EXPECT_EQ(mi.iova, 0x400000u);

	vfio_cxx_detach_group(c, g1.group());
	vfio_cxx_detach_group(c, g2.group());
}

TEST_F(Registry, MappingsWithoutDomainAreRecordedUnpinned)
{
	auto *c = open();
	ASSERT_EQ(map(c, 0x100000, 4 * PG, VA), 0);
	auto all = dump_all();
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
	EXPECT_EQ(id, dump_all().at(0).id);
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
	EXPECT_EQ(dump_all().size(), 0u);
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
	EXPECT_EQ(ev[0].ev.container_id, dump_all().at(0).id);
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

	auto all = dump_all();
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
	ASSERT_EQ(vfio_cxx_view_prereg_next(ADMIN.viewer(), id, VA + PG, &pi), 0);
	EXPECT_EQ(pi.vaddr, VA + 0x100000);
	EXPECT_EQ(vfio_cxx_view_prereg_next(ADMIN.viewer(), id, VA + 0x100000 + PG, &pi), 1);

	/* A second mapping in the region counts as a second user. */
	ASSERT_EQ(map(c, 0x300000, PG, VA), 0);
	regs = preregs(id);
	ASSERT_EQ(regs.size(), 2u);
	EXPECT_EQ(regs[0].users, 2u);

	/* Visibility as GET_MAPPINGS: a viewer that may read the owner, or CAP_SYS_ADMIN. */
	EXPECT_EQ(preregs(id, &err, khost::viewer_of(4343, 1000)).size(), 2u);
	EXPECT_EQ(err, 1);
	const auto nobody = khost::viewer_of(4343, 65534);
	EXPECT_EQ(vfio_cxx_view_prereg_next(nobody.viewer(), id, 0, &pi), -EPERM_);
	EXPECT_EQ(vfio_cxx_view_prereg_next(ADMIN.viewer(), id, 0, &pi), 0);
	EXPECT_EQ(vfio_cxx_view_prereg_next(ADMIN.viewer(), id + 1000, 0, &pi), -ENOENT_);

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
	auto all = dump_all();
	ASSERT_EQ(all.size(), 1u);
	int err = 0;
	EXPECT_TRUE(preregs(all[0].id, &err).empty());
	EXPECT_EQ(err, 1);
	vfio_cxx_prereg_info pi{};
	const auto other = khost::viewer_of(4343, 12345);
	EXPECT_EQ(vfio_cxx_view_prereg_next(other.viewer(), all[0].id, 0, &pi), -EPERM_);
}

/* A door the pin hook waits at: a test keeps one container's lock busy. */
class Gate {
public:
	void wait_here()
	{
		std::unique_lock<std::mutex> l(m_);
		entered_ = true;
		cv_.notify_all();
		cv_.wait(l, [this] { return open_; });
	}
	bool wait_entered(std::chrono::seconds t)
	{
		std::unique_lock<std::mutex> l(m_);
		return cv_.wait_for(l, t, [this] { return entered_; });
	}
	void open()
	{
		std::lock_guard<std::mutex> l(m_);
		open_ = true;
		cv_.notify_all();
	}

private:
	std::mutex m_;
	std::condition_variable cv_;
	bool entered_ = false, open_ = false;
};

using namespace std::chrono_literals;

/*
 * Issue 11 item 3: while a REGISTER_MEMORY of one container holds its lock
 * (the pin hook waits, as a pin of many GiB or of a FUSE page that never
 * arrives would), the GET_CONTAINER numbers of that container come without
 * waiting, a GET_MAPPINGS step waits for that container only, holding no
 * registry lock, and another container opens (VFIO_SET_IOMMU: registry add)
 * and closes (registry remove) meanwhile.
 */
TEST_F(Registry, NothingGlobalWaitsBehindABusyContainer)
{
	auto *busy = open();
	ASSERT_EQ(map(busy, 0x100000, 2 * PG, VA), 0); /* no group: recorded, not pinned */
	const kapi_u64 id = dump_all().at(0).id;
	Gate gate;
	khost::set_pin_hook([&gate](unsigned long, unsigned long) { gate.wait_here(); });
	auto owner = std::async(std::launch::async, [&] { return prereg(busy, VA + 0x100000, 4 * PG); });
	ASSERT_TRUE(gate.wait_entered(10s)) << "the registration never pinned";
	auto reader = std::async(std::launch::async, [&] {
		int err = 0;
		size_t n = mappings(id, &err).size();
		return std::make_pair(n, err);
	});
	const bool reader_waited = reader.wait_for(300ms) == std::future_status::timeout;
	auto others = std::async(std::launch::async, [&] {
		auto all = dump_all();
		vfio_cxx_container *other = nullptr;
		if (vfio_cxx_open(CXX_IOMMU, &other) == 0)
			vfio_cxx_release(other);
		return std::make_pair(all, other != nullptr);
	});
	const bool others_done = others.wait_for(10s) == std::future_status::ready;
	gate.open(); /* whatever happened, let everything finish */
	EXPECT_TRUE(reader_waited) << "GET_MAPPINGS did not wait for the container lock";
	ASSERT_TRUE(others_done) << "a dump or another container's open/close waited for a busy one";
	auto [all, opened] = others.get();
	EXPECT_TRUE(opened);
	ASSERT_EQ(all.size(), 1u);
	EXPECT_EQ(all[0].id, id);
	EXPECT_EQ(all[0].mappings, 1u);
	EXPECT_EQ(all[0].mapped_bytes, 2 * PG);
	EXPECT_EQ(owner.get(), 0);
	auto [n, err] = reader.get();
	EXPECT_EQ(n, 1u);
	EXPECT_EQ(err, 1);
	ASSERT_EQ(prereg(busy, VA + 0x100000, 4 * PG, false), 0);
}

/*
 * Issue 11 item 3, references: a container released while a dump step holds
 * a reference (waiting for its lock) leaves the registry at once; the step
 * then finds it closed (or still sees it, if it got the lock first), and the
 * last reference frees it, whichever thread drops it.
 */
TEST_F(Registry, ReleaseWhileADumpHoldsAReference)
{
	auto *c = open();
	const kapi_u64 id = dump_all().at(0).id;
	Gate gate;
	khost::set_pin_hook([&gate](unsigned long, unsigned long) { gate.wait_here(); });
	auto owner = std::async(std::launch::async, [&] { return prereg(c, VA, 4 * PG); });
	ASSERT_TRUE(gate.wait_entered(10s));
	auto reader = std::async(std::launch::async, [&] {
		int err = 0;
		preregs(id, &err);
		return err;
	});
	(void)reader.wait_for(200ms); /* let it take its reference and wait */
	std::erase(open_, c);
	auto closer = std::async(std::launch::async, [c] { vfio_cxx_release(c); });
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; i++) {
		gone = dump_all().empty();
		if (!gone)
			std::this_thread::sleep_for(10ms);
	}
	const int lookup = get(ADMIN, id);
	gate.open();
	EXPECT_TRUE(gone) << "a closing container stayed listed while its lock was busy";
	EXPECT_EQ(lookup, -ENOENT_);
	closer.get();
	const int err = reader.get();
	EXPECT_TRUE(err == 1 || err == -ENOENT_) << err;
	(void)owner.get(); /* 0, or refused because the container closed */
	EXPECT_EQ(stats().containers_live, 0u) << "the last reference did not free it";
}

} /* namespace */
