// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink family's logic (module/core/netlink.cpp) driven through its
 * handlers as module/kapi/netlink.c's ops call them, with the host kapi's
 * messages (kapi_host.h, "netlink messages"): what each request answers, in
 * which order and with which attributes; dumps continued over many
 * messages, judged by the viewer of their start, ended by a close or a
 * lost permission; the visibility rule against the host kapi's model;
 * events and what they carry.
 */
#include "test_common.h"
#include "core/netlink.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "../../uapi/linux/vfio_cxx_netlink.h"
#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

/* The host kapi's model of the rule (kapi_host.cpp, netlink block): the reference. */
extern "C" int kapi_viewer_may_see(const kapi_viewer *v, kapi_owner *o, int quiet) noexcept;

namespace {

constexpr unsigned long PG = 4096;
constexpr unsigned long VA = 0x7f0000000000UL;
constexpr unsigned int RW = uabi::DMA_MAP_FLAG_READ | uabi::DMA_MAP_FLAG_WRITE;
constexpr unsigned int REGISTER = (';' << 8) | 117;
constexpr int EINTR_ = 4, EMSGSIZE_ = 90, EOPNOTSUPP_ = 95;
constexpr int NLM_F_MULTI_ = 2;

/* Each message's attributes, in the order the family has always sent them. */
const std::vector<int> CONTAINER_ATTRS = {
	VFIO_CXX_A_CONTAINER_ID,     VFIO_CXX_A_OWNER_TGID,	 VFIO_CXX_A_OWNER_UID,
	VFIO_CXX_A_MM_ID,	     VFIO_CXX_A_IOMMU_TYPE,	 VFIO_CXX_A_GROUPS,
	VFIO_CXX_A_DOMAINS,	     VFIO_CXX_A_MAPPINGS,	 VFIO_CXX_A_MAPPED_BYTES,
	VFIO_CXX_A_PAGES_PINNED,     VFIO_CXX_A_EXTERNAL_PAGES, VFIO_CXX_A_PREREG_PAGES,
	VFIO_CXX_A_LOCKED_PAGES,     VFIO_CXX_A_ORPHANED_MAPPINGS, VFIO_CXX_A_GROUP_IDS,
};
const std::vector<int> MAPPING_ATTRS = {
	VFIO_CXX_A_CONTAINER_ID, VFIO_CXX_A_IOVA,	    VFIO_CXX_A_SIZE,
	VFIO_CXX_A_VADDR,	 VFIO_CXX_A_MM_ID,	    VFIO_CXX_A_PROT,
	VFIO_CXX_A_MAP_FLAGS,	 VFIO_CXX_A_PAGES_PINNED, VFIO_CXX_A_EXTERNAL_PAGES,
	VFIO_CXX_A_LOCKED_PAGES,
};
const std::vector<int> PREREG_ATTRS = {
	VFIO_CXX_A_CONTAINER_ID, VFIO_CXX_A_VADDR,	  VFIO_CXX_A_SIZE,
	VFIO_CXX_A_MM_ID,	 VFIO_CXX_A_PAGES_PINNED, VFIO_CXX_A_PREREG_USERS,
};
const std::vector<int> STATS_ATTRS = {
	VFIO_CXX_A_STAT_CONTAINERS_LIVE,    VFIO_CXX_A_STAT_CONTAINERS_OPENED,
	VFIO_CXX_A_STAT_GROUPS_ATTACHED,    VFIO_CXX_A_STAT_DOMAINS_LIVE,
	VFIO_CXX_A_STAT_DMAS_LIVE,	    VFIO_CXX_A_STAT_PAGES_PINNED,
	VFIO_CXX_A_STAT_EXTERNAL_PAGES,	    VFIO_CXX_A_STAT_DEVICES_REGISTERED,
	VFIO_CXX_A_STAT_PREREG_PAGES,	    VFIO_CXX_A_STAT_MM_EXITS,
};
const std::vector<int> EVENT_ATTRS = {
	VFIO_CXX_A_CONTAINER_ID, VFIO_CXX_A_OWNER_TGID, VFIO_CXX_A_OWNER_UID, VFIO_CXX_A_MM_ID,
};

/* Bytes of one part in the host kapi's model (kapi_host.h): headers, u32s, u64s, nests. */
constexpr size_t part_size(size_t u32s, size_t u64s, size_t nests = 0)
{
	return 20 + 8 * u32s + 12 * u64s + 4 * nests;
}
constexpr size_t CONTAINER_PART = part_size(5, 9, 1); /* no groups */
constexpr size_t MAPPING_PART = part_size(2, 8);

/* One dump: its start's result, then every message until the end (or an error). */
struct DumpRun {
	khost::FakeReq q;
	int start = 0;
	std::vector<std::vector<khost::NlPart>> messages; /* one per dumpit call that put parts */
	std::vector<int> returns;			    /* every dumpit's return */

	std::vector<khost::NlPart> parts() const
	{
		std::vector<khost::NlPart> r;
		for (auto &m : messages)
			r.insert(r.end(), m.begin(), m.end());
		return r;
	}
};

class Netlink : public ContainersTest {
protected:
	void SetUp() override
	{
		ContainersTest::SetUp();
		khost::nl_reset();
	}
	void TearDown() override
	{
		release_all();
		EXPECT_EQ(khost::nl_live_viewers(), 0) << "a dump's viewer was not released";
		EXPECT_EQ(khost::nl_live_tasks(), 0) << "an owner task reference leaked";
		EXPECT_EQ(khost::nl_live_msgs(), 0) << "a reply or event message leaked";
		EXPECT_EQ(khost::live_owners(), 0);
		khost::nl_reset();
		ContainersTest::TearDown();
	}

	/* A container opened by process tgid with euid uid; returns its id. */
	kapi_u64 open_as(unsigned int tgid, unsigned int uid, vfio_cxx_container **out = nullptr)
	{
		khost::set_current_tgid(tgid);
		khost::set_current_euid(uid);
		vfio_cxx_container *c = open();
		if (out)
			*out = c;
		/* The newest container is the one with the highest id. */
		vfio_cxx_container_info ci{};
		kapi_u64 last = 0;
		while (vfio_cxx_view_container_next(admin_.viewer(), last, &ci) == 0)
			last = ci.id;
		return last;
	}
	static long map(vfio_cxx_container *c, unsigned long iova, unsigned long size,
			unsigned long vaddr, unsigned int flags = RW)
	{
		uabi::DmaMap m{ sizeof(m), flags, vaddr, iova, size };
		return vfio_cxx_ioctl(c, MAP_DMA, reinterpret_cast<unsigned long>(&m));
	}
	static long prereg(vfio_cxx_container *c, unsigned long vaddr, unsigned long size)
	{
		uabi::RegisterMemory r{ 24, 0, vaddr, size };
		return vfio_cxx_ioctl(c, REGISTER, reinterpret_cast<unsigned long>(&r));
	}

	static khost::FakeReq dump_req(const khost::FakeViewer &v, bool has_id = false,
				       kapi_u64 id = 0)
	{
		khost::FakeReq q;
		q.viewer = v;
		q.doit = false;
		q.has_id = has_id;
		q.id = id;
		return q;
	}
	/* One dumpit call with a message of room bytes: appends what it put to d. */
	static int step(DumpRun &d, unsigned int cmd, size_t room)
	{
		khost::FakeMsg m = d.q.dump_msg(room);
		const int ret = vfio_cxx_nl_dumpit(d.q.req(), m.msg(), cmd);
		EXPECT_FALSE(m.part_open) << "a dumpit returned with a part open";
		d.returns.push_back(ret);
		if (ret > 0) {
			EXPECT_EQ(static_cast<size_t>(ret), m.len) << "a dumpit returns the message's length";
			EXPECT_FALSE(m.parts.empty());
			d.messages.push_back(m.parts);
		} else {
			EXPECT_TRUE(m.parts.empty()) << "an end or an error with parts put";
		}
		return ret;
	}
	/* A whole dump: start, dumpit until it returns <= 0 (at most 10000 calls), done. */
	static DumpRun dump(unsigned int cmd, khost::FakeReq q, size_t room = 3776)
	{
		DumpRun d;
		d.q = q;
		d.start = vfio_cxx_nl_start(d.q.req(), cmd);
		if (d.start)
			return d;
		for (int i = 0; i < 10000 && step(d, cmd, room) > 0; i++)
			;
		EXPECT_EQ(vfio_cxx_nl_done(d.q.req()), 0);
		return d;
	}
	static std::vector<kapi_u64> values(const std::vector<khost::NlPart> &parts, int attr)
	{
		std::vector<kapi_u64> r;
		for (auto &p : parts)
			r.push_back(p.get(attr));
		return r;
	}
	static int doit(khost::FakeReq &q, unsigned int cmd) { return vfio_cxx_nl_doit(q.req(), cmd); }
	static khost::FakeReq get_req(const khost::FakeViewer &v, kapi_u64 id)
	{
		khost::FakeReq q;
		q.viewer = v;
		q.has_id = true;
		q.id = id;
		return q;
	}

	const khost::FakeViewer admin_ = khost::admin_viewer();
};

/* ---- GET_CONTAINER ---------------------------------------------------------- */

TEST_F(Netlink, ContainerDumpContinuesAcrossMessages)
{
	std::vector<kapi_u64> ids;
	for (unsigned int i = 0; i < 40; i++)
		ids.push_back(open_as(1000 + i, i));
	/* Room for three containers a message. */
	const size_t room = 3 * CONTAINER_PART + CONTAINER_PART / 2;
	DumpRun d = dump(VFIO_CXX_CMD_GET_CONTAINER, dump_req(admin_), room);
	ASSERT_EQ(d.start, 0);
	EXPECT_EQ(d.messages.size(), 14u) << "40 containers, three a message";
	for (size_t i = 0; i + 1 < d.messages.size(); i++)
		EXPECT_EQ(d.messages[i].size(), 3u) << "message " << i << " not filled";
	EXPECT_EQ(d.returns.back(), 0) << "the dump ends with 0";
	EXPECT_EQ(d.returns.size(), d.messages.size() + 1);
	const auto parts = d.parts();
	EXPECT_EQ(values(parts, VFIO_CXX_A_CONTAINER_ID), ids) << "each once, by id";
	for (size_t i = 0; i < parts.size(); i++) {
		const auto &p = parts[i];
		EXPECT_EQ(p.cmd, unsigned(VFIO_CXX_CMD_GET_CONTAINER));
		EXPECT_EQ(p.flags, NLM_F_MULTI_);
		EXPECT_EQ(p.portid, d.q.portid);
		EXPECT_EQ(p.seq, d.q.seq);
		EXPECT_EQ(p.types(), CONTAINER_ATTRS);
		EXPECT_EQ(p.get(VFIO_CXX_A_OWNER_TGID), 1000 + i);
		EXPECT_EQ(p.get(VFIO_CXX_A_OWNER_UID), i);
		EXPECT_EQ(p.get(VFIO_CXX_A_IOMMU_TYPE), CXX_IOMMU);
		EXPECT_EQ(p.get(VFIO_CXX_A_MM_ID), kapi_mm_id(reinterpret_cast<kapi_mm *>(mm_)));
		EXPECT_TRUE(p.nested(VFIO_CXX_A_GROUP_IDS).empty());
	}
}

TEST_F(Netlink, ContainerDumpGoesOnFromItsCursorAfterCloseAndOpen)
{
	std::vector<vfio_cxx_container *> c(10);
	std::vector<kapi_u64> ids;
	for (unsigned int i = 0; i < 10; i++)
		ids.push_back(open_as(100, 1000, &c[i]));
	DumpRun d;
	d.q = dump_req(admin_);
	ASSERT_EQ(vfio_cxx_nl_start(d.q.req(), VFIO_CXX_CMD_GET_CONTAINER), 0);
	const size_t room = 3 * CONTAINER_PART;
	ASSERT_GT(step(d, VFIO_CXX_CMD_GET_CONTAINER, room), 0);
	EXPECT_EQ(values(d.parts(), VFIO_CXX_A_CONTAINER_ID),
		  (std::vector<kapi_u64>{ ids[0], ids[1], ids[2] }));
	/* One sent already and one not yet sent close; a new one opens. */
	close(c[1]);
	close(c[4]);
	const kapi_u64 late = open_as(100, 1000);
	while (step(d, VFIO_CXX_CMD_GET_CONTAINER, room) > 0)
		;
	EXPECT_EQ(vfio_cxx_nl_done(d.q.req()), 0);
	EXPECT_EQ(values(d.parts(), VFIO_CXX_A_CONTAINER_ID),
		  (std::vector<kapi_u64>{ ids[0], ids[1], ids[2], ids[3], ids[5], ids[6], ids[7],
					  ids[8], ids[9], late }));
}

/*
 * The later calls of a dump run in whatever process reads the socket: they
 * are judged by the viewer held at start, never by the request's current one.
 */
TEST_F(Netlink, DumpIsJudgedByTheViewerOfItsStart)
{
	const kapi_u64 root = open_as(1, 0);
	const kapi_u64 user = open_as(100, 1000);
	const size_t room = CONTAINER_PART; /* one a message: every step is a new call */

	DumpRun d;
	d.q = dump_req(khost::viewer_of(100, 1000));
	ASSERT_EQ(vfio_cxx_nl_start(d.q.req(), VFIO_CXX_CMD_GET_CONTAINER), 0);
	d.q.viewer = admin_; /* root reads the socket now */
	while (step(d, VFIO_CXX_CMD_GET_CONTAINER, room) > 0)
		;
	EXPECT_EQ(vfio_cxx_nl_done(d.q.req()), 0);
	EXPECT_EQ(values(d.parts(), VFIO_CXX_A_CONTAINER_ID), std::vector<kapi_u64>{ user });

	DumpRun e;
	e.q = dump_req(admin_);
	ASSERT_EQ(vfio_cxx_nl_start(e.q.req(), VFIO_CXX_CMD_GET_CONTAINER), 0);
	e.q.viewer = khost::viewer_of(200, 65534); /* nobody reads the socket now */
	while (step(e, VFIO_CXX_CMD_GET_CONTAINER, room) > 0)
		;
	EXPECT_EQ(vfio_cxx_nl_done(e.q.req()), 0);
	EXPECT_EQ(values(e.parts(), VFIO_CXX_A_CONTAINER_ID), (std::vector<kapi_u64>{ root, user }));
}

TEST_F(Netlink, GetContainerReplies)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(321, 1000, &c);
	auto g1 = group(7), g2 = group(9, 1);
	ASSERT_EQ(vfio_cxx_attach_group(c, g1.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c, g2.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(map(c, 0x100000, 8 * PG, VA), 0);

	khost::FakeReq q = get_req(khost::viewer_of(321, 1000), id);
	ASSERT_EQ(doit(q, VFIO_CXX_CMD_GET_CONTAINER), 0);
	ASSERT_EQ(q.replies.size(), 1u);
	const auto &p = q.replies[0];
	EXPECT_EQ(p.cmd, unsigned(VFIO_CXX_CMD_GET_CONTAINER));
	EXPECT_EQ(p.flags, 0);
	EXPECT_EQ(p.portid, q.portid);
	EXPECT_EQ(p.seq, q.seq);
	EXPECT_EQ(p.types(), CONTAINER_ATTRS);
	EXPECT_EQ(p.get(VFIO_CXX_A_CONTAINER_ID), id);
	EXPECT_EQ(p.get(VFIO_CXX_A_OWNER_TGID), 321u);
	EXPECT_EQ(p.get(VFIO_CXX_A_GROUPS), 2u);
	EXPECT_EQ(p.get(VFIO_CXX_A_DOMAINS), 2u);
	EXPECT_EQ(p.get(VFIO_CXX_A_MAPPINGS), 1u);
	EXPECT_EQ(p.get(VFIO_CXX_A_MAPPED_BYTES), 8 * PG);
	EXPECT_EQ(p.get(VFIO_CXX_A_PAGES_PINNED), 8u);
	EXPECT_EQ(p.get(VFIO_CXX_A_LOCKED_PAGES), 8u);
	EXPECT_EQ(p.nested(VFIO_CXX_A_GROUP_IDS), (std::vector<unsigned long long>{ 7, 9 }));

	/* Not visible, unknown, no id: no reply is even allocated. */
	khost::FakeReq other = get_req(khost::viewer_of(200, 2000), id);
	EXPECT_EQ(doit(other, VFIO_CXX_CMD_GET_CONTAINER), -EPERM_);
	khost::FakeReq unknown = get_req(admin_, id + 100);
	EXPECT_EQ(doit(unknown, VFIO_CXX_CMD_GET_CONTAINER), -ENOENT_);
	khost::FakeReq noid = get_req(admin_, 0);
	noid.has_id = false;
	EXPECT_EQ(doit(noid, VFIO_CXX_CMD_GET_CONTAINER), -EINVAL_);
	EXPECT_EQ(noid.missing_attr, VFIO_CXX_A_CONTAINER_ID) << "the extack names the attribute";
	EXPECT_TRUE(other.replies.empty() && unknown.replies.empty() && noid.replies.empty());

	/* No memory for the reply; no room in it: an errno, and the message is freed. */
	khost::nl_fail_allocs(1);
	khost::FakeReq nomem = get_req(admin_, id);
	EXPECT_EQ(doit(nomem, VFIO_CXX_CMD_GET_CONTAINER), -ENOMEM_);
	khost::nl_set_room(CONTAINER_PART, 3760); /* no room for the two group ids */
	khost::FakeReq full = get_req(admin_, id);
	EXPECT_EQ(doit(full, VFIO_CXX_CMD_GET_CONTAINER), -EMSGSIZE_);
	EXPECT_TRUE(nomem.replies.empty() && full.replies.empty());
	EXPECT_EQ(khost::nl_live_msgs(), 0);
	khost::nl_set_room(CONTAINER_PART + 2 * 8, 3760); /* exactly enough */
	khost::FakeReq fits = get_req(admin_, id);
	EXPECT_EQ(doit(fits, VFIO_CXX_CMD_GET_CONTAINER), 0);
	EXPECT_EQ(fits.replies.size(), 1u);

	vfio_cxx_detach_group(c, g1.group());
	vfio_cxx_detach_group(c, g2.group());
}

/* ---- GET_MAPPINGS, GET_PREREGS ------------------------------------------------ */

TEST_F(Netlink, MappingDumpInIovaOrderAcrossMessages)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(100, 1000, &c);
	/* 200 mappings made in a random order, read-only every third. */
	std::vector<unsigned long> iovas;
	for (unsigned long i = 0; i < 200; i++)
		iovas.push_back(0x100000 + i * 2 * PG);
	std::vector<unsigned long> order = iovas;
	std::shuffle(order.begin(), order.end(), std::mt19937(17));
	for (unsigned long iova : order) {
		const unsigned long i = (iova - 0x100000) / (2 * PG);
		ASSERT_EQ(map(c, iova, PG, VA + i * PG, i % 3 ? RW : uabi::DMA_MAP_FLAG_READ), 0);
	}
	DumpRun d = dump(VFIO_CXX_CMD_GET_MAPPINGS, dump_req(khost::viewer_of(100, 1000), true, id),
			 7 * MAPPING_PART);
	ASSERT_EQ(d.start, 0);
	EXPECT_EQ(d.messages.size(), 29u) << "200 mappings, seven a message";
	EXPECT_EQ(d.returns.back(), 0);
	const auto parts = d.parts();
	ASSERT_EQ(parts.size(), 200u);
	for (size_t i = 0; i < parts.size(); i++) {
		const auto &p = parts[i];
		EXPECT_EQ(p.cmd, unsigned(VFIO_CXX_CMD_GET_MAPPINGS));
		EXPECT_EQ(p.flags, NLM_F_MULTI_);
		EXPECT_EQ(p.types(), MAPPING_ATTRS);
		EXPECT_EQ(p.get(VFIO_CXX_A_CONTAINER_ID), id);
		EXPECT_EQ(p.get(VFIO_CXX_A_IOVA), iovas[i]);
		EXPECT_EQ(p.get(VFIO_CXX_A_SIZE), PG);
		EXPECT_EQ(p.get(VFIO_CXX_A_VADDR), VA + i * PG);
		EXPECT_EQ(p.get(VFIO_CXX_A_PROT),
			  i % 3 ? unsigned(KAPI_IOMMU_READ | KAPI_IOMMU_WRITE) : unsigned(KAPI_IOMMU_READ));
		EXPECT_EQ(p.get(VFIO_CXX_A_MAP_FLAGS), 0u) << "no domain: not IOMMU-mapped";
		EXPECT_EQ(p.get(VFIO_CXX_A_PAGES_PINNED), 0u);
	}
}

/* A mapping that ends at the top of the IOVA space: the cursor wraps to 0, the dump ends. */
TEST_F(Netlink, MappingAtTheTopOfTheIovaSpaceEndsTheDump)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(100, 1000, &c);
	const unsigned long top = ~0UL - 2 * PG + 1;
	ASSERT_EQ(map(c, 0x100000, PG, VA), 0);
	ASSERT_EQ(map(c, top, 2 * PG, VA + PG), 0);
	/* One a message, so the cursor past the top is used by the next call. */
	DumpRun d = dump(VFIO_CXX_CMD_GET_MAPPINGS, dump_req(admin_, true, id), MAPPING_PART);
	ASSERT_EQ(d.start, 0);
	EXPECT_EQ(values(d.parts(), VFIO_CXX_A_IOVA), (std::vector<kapi_u64>{ 0x100000, top }));
	EXPECT_EQ(d.returns, (std::vector<int>{ int(MAPPING_PART), int(MAPPING_PART), 0 }));
}

TEST_F(Netlink, ContentsDumpStartFailsWithoutAViewerLeft)
{
	const kapi_u64 root = open_as(1, 0);
	const kapi_u64 mine = open_as(100, 1000);
	const auto me = khost::viewer_of(100, 1000);
	for (unsigned int cmd : { VFIO_CXX_CMD_GET_MAPPINGS, VFIO_CXX_CMD_GET_PREREGS }) {
		DumpRun noid = dump(cmd, dump_req(me));
		EXPECT_EQ(noid.start, -EINVAL_);
		EXPECT_TRUE(noid.q.missing_msg) << "the extack says the id is required";
		EXPECT_EQ(dump(cmd, dump_req(me, true, root)).start, -EPERM_);
		EXPECT_EQ(dump(cmd, dump_req(me, true, mine + 100)).start, -ENOENT_);
		khost::nl_fail_allocs(1);
		EXPECT_EQ(dump(cmd, dump_req(me, true, mine)).start, -ENOMEM_);
		EXPECT_EQ(khost::nl_live_viewers(), 0) << "a failed start keeps no viewer (no done follows)";
		DumpRun ok = dump(cmd, dump_req(me, true, mine));
		EXPECT_EQ(ok.start, 0);
		EXPECT_EQ(ok.returns, std::vector<int>{ 0 }) << "nothing in it: the end at once";
	}
	/* A listing never needs an id; requests the family has no dump or doit for are refused. */
	EXPECT_EQ(dump(VFIO_CXX_CMD_GET_CONTAINER, dump_req(me)).start, 0);
	EXPECT_EQ(dump(VFIO_CXX_CMD_GET_STATS, dump_req(admin_)).start, -EOPNOTSUPP_);
	khost::FakeReq q = get_req(admin_, mine);
	EXPECT_EQ(doit(q, VFIO_CXX_CMD_GET_MAPPINGS), -EOPNOTSUPP_);
	EXPECT_EQ(khost::nl_live_viewers(), 0);
}

/*
 * A dump of a container that closes, or whose owner another viewer can no
 * longer read, ends with that errno in the next message that would be empty.
 */
TEST_F(Netlink, ContentsDumpEndsWhenTheContainerGoesOrTurnsInvisible)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(100, 1000, &c);
	for (unsigned long i = 0; i < 10; i++)
		ASSERT_EQ(map(c, 0x100000 + i * PG, PG, VA + i * PG), 0);
	const size_t room = 3 * MAPPING_PART;

	DumpRun d;
	d.q = dump_req(khost::viewer_of(300, 1000), true, id); /* another process of the uid */
	ASSERT_EQ(vfio_cxx_nl_start(d.q.req(), VFIO_CXX_CMD_GET_MAPPINGS), 0);
	ASSERT_GT(step(d, VFIO_CXX_CMD_GET_MAPPINGS, room), 0);
	khost::process_set_uid(100, 2000);
	EXPECT_EQ(step(d, VFIO_CXX_CMD_GET_MAPPINGS, room), -EPERM_);
	EXPECT_EQ(vfio_cxx_nl_done(d.q.req()), 0);
	EXPECT_EQ(d.parts().size(), 3u);

	DumpRun e;
	e.q = dump_req(admin_, true, id);
	ASSERT_EQ(vfio_cxx_nl_start(e.q.req(), VFIO_CXX_CMD_GET_MAPPINGS), 0);
	ASSERT_GT(step(e, VFIO_CXX_CMD_GET_MAPPINGS, room), 0);
	close(c);
	EXPECT_EQ(step(e, VFIO_CXX_CMD_GET_MAPPINGS, room), -ENOENT_);
	EXPECT_EQ(vfio_cxx_nl_done(e.q.req()), 0);
}

/* A dump whose socket closes in the middle: done releases the viewer. */
TEST_F(Netlink, DoneInTheMiddleReleasesTheViewer)
{
	for (int i = 0; i < 5; i++)
		open_as(100, 1000);
	DumpRun d;
	d.q = dump_req(admin_);
	ASSERT_EQ(vfio_cxx_nl_start(d.q.req(), VFIO_CXX_CMD_GET_CONTAINER), 0);
	EXPECT_EQ(khost::nl_live_viewers(), 1);
	ASSERT_GT(step(d, VFIO_CXX_CMD_GET_CONTAINER, CONTAINER_PART), 0);
	EXPECT_EQ(vfio_cxx_nl_done(d.q.req()), 0);
	EXPECT_EQ(khost::nl_live_viewers(), 0);
	EXPECT_EQ(d.parts().size(), 1u);
}

TEST_F(Netlink, PreregDumpInVaddrOrderWithPagesAndUsers)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(100, 1000, &c);
	ASSERT_EQ(prereg(c, VA + 0x200000, 2 * PG), 0);
	ASSERT_EQ(prereg(c, VA, 8 * PG), 0);
	ASSERT_EQ(prereg(c, VA + 0x100000, 4 * PG), 0);
	ASSERT_EQ(map(c, 0x100000, 2 * PG, VA + 2 * PG), 0);
	ASSERT_EQ(map(c, 0x200000, 2 * PG, VA + 4 * PG), 0);
	DumpRun d = dump(VFIO_CXX_CMD_GET_PREREGS, dump_req(admin_, true, id), part_size(0, 6));
	ASSERT_EQ(d.start, 0);
	EXPECT_EQ(d.messages.size(), 3u);
	const auto parts = d.parts();
	for (auto &p : parts) {
		EXPECT_EQ(p.cmd, unsigned(VFIO_CXX_CMD_GET_PREREGS));
		EXPECT_EQ(p.types(), PREREG_ATTRS);
		EXPECT_EQ(p.get(VFIO_CXX_A_CONTAINER_ID), id);
		EXPECT_EQ(p.get(VFIO_CXX_A_PAGES_PINNED), p.get(VFIO_CXX_A_SIZE) / PG);
	}
	EXPECT_EQ(values(parts, VFIO_CXX_A_VADDR),
		  (std::vector<kapi_u64>{ VA, VA + 0x100000, VA + 0x200000 }));
	EXPECT_EQ(values(parts, VFIO_CXX_A_PREREG_USERS), (std::vector<kapi_u64>{ 2, 0, 0 }));
}

/* ---- GET_STATS ---------------------------------------------------------------- */

TEST_F(Netlink, GetStatsRepliesTheCounters)
{
	vfio_cxx_container *c = nullptr;
	open_as(100, 1000, &c);
	open_as(100, 1000);
	ASSERT_EQ(map(c, 0x100000, 4 * PG, VA), 0);
	khost::FakeReq q = get_req(khost::viewer_of(500, 65534), 0); /* open to all */
	q.has_id = false;
	ASSERT_EQ(doit(q, VFIO_CXX_CMD_GET_STATS), 0);
	ASSERT_EQ(q.replies.size(), 1u);
	const auto &p = q.replies[0];
	EXPECT_EQ(p.cmd, unsigned(VFIO_CXX_CMD_GET_STATS));
	EXPECT_EQ(p.types(), STATS_ATTRS);
	const vfio_cxx_stats s = stats();
	EXPECT_EQ(p.get(VFIO_CXX_A_STAT_CONTAINERS_LIVE), s.containers_live);
	EXPECT_EQ(p.get(VFIO_CXX_A_STAT_CONTAINERS_LIVE), 2u);
	EXPECT_EQ(p.get(VFIO_CXX_A_STAT_CONTAINERS_OPENED), s.containers_opened);
	EXPECT_EQ(p.get(VFIO_CXX_A_STAT_DMAS_LIVE), 1u);
	EXPECT_EQ(p.get(VFIO_CXX_A_STAT_MM_EXITS), s.mm_exits);
	EXPECT_EQ(q.missing_attr, 0) << "GET_STATS needs no id";
}

/* ---- events ----------------------------------------------------------------------- */

TEST_F(Netlink, EventsCarryTheirAttributes)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(321, 1000, &c);
	auto g = group(3);
	ASSERT_EQ(vfio_cxx_attach_group(c, g.group(), VFIO_CXX_GROUP_IOMMU), 0);
	khost::set_rlimit_memlock_pages(4);
	EXPECT_EQ(map(c, 0x100000, 8 * PG, VA), -ENOMEM_);
	vfio_cxx_detach_group(c, g.group());
	close(c);

	const auto mc = khost::multicasts();
	ASSERT_EQ(mc.size(), 3u);
	const kapi_u64 mm = kapi_mm_id(reinterpret_cast<kapi_mm *>(mm_));
	const unsigned int cmds[] = { VFIO_CXX_CMD_CONTAINER_CREATED, VFIO_CXX_CMD_MEMLOCK_DENIED,
				      VFIO_CXX_CMD_CONTAINER_RELEASED };
	for (size_t i = 0; i < 3; i++) {
		EXPECT_EQ(mc[i].cmd, cmds[i]);
		EXPECT_EQ(mc[i].portid, 0u);
		EXPECT_EQ(mc[i].seq, 0u);
		EXPECT_EQ(mc[i].flags, 0);
		EXPECT_EQ(mc[i].get(VFIO_CXX_A_CONTAINER_ID), id);
		EXPECT_EQ(mc[i].get(VFIO_CXX_A_OWNER_TGID), 321u);
		EXPECT_EQ(mc[i].get(VFIO_CXX_A_OWNER_UID), 1000u);
		EXPECT_EQ(mc[i].get(VFIO_CXX_A_MM_ID), mm);
	}
	EXPECT_EQ(mc[0].types(), EVENT_ATTRS);
	EXPECT_EQ(mc[2].types(), EVENT_ATTRS);
	std::vector<int> memlock = EVENT_ATTRS;
	memlock.push_back(VFIO_CXX_A_EVENT_PAGES);
	memlock.push_back(VFIO_CXX_A_LIMIT_PAGES);
	EXPECT_EQ(mc[1].types(), memlock);
	EXPECT_EQ(mc[1].get(VFIO_CXX_A_EVENT_PAGES), 8u);
	EXPECT_EQ(mc[1].get(VFIO_CXX_A_LIMIT_PAGES), 4u);
}

TEST_F(Netlink, MmExitedEventNamesTheMmThatExited)
{
	vfio_cxx_container *c = nullptr;
	const kapi_u64 id = open_as(100, 1000, &c);
	kapi_event ev{};
	ev.container_id = id;
	ev.mm_id = 77;
	ev.tgid = 100;
	ev.uid = 1000;
	ev.pages = 5;
	ev.mappings = 2;
	ev.limit_pages = 9; /* not an MM_EXITED attribute */
	vfio_cxx::nl::emit_event(KAPI_EVENT_MM_EXITED, ev);
	const auto mc = khost::multicasts();
	ASSERT_EQ(mc.size(), 2u);
	std::vector<int> want = EVENT_ATTRS;
	want.push_back(VFIO_CXX_A_EVENT_PAGES);
	want.push_back(VFIO_CXX_A_MAPPINGS);
	EXPECT_EQ(mc[1].cmd, unsigned(VFIO_CXX_CMD_MM_EXITED));
	EXPECT_EQ(mc[1].types(), want);
	EXPECT_EQ(mc[1].get(VFIO_CXX_A_MM_ID), 77u);
	EXPECT_EQ(mc[1].get(VFIO_CXX_A_EVENT_PAGES), 5u);
	EXPECT_EQ(mc[1].get(VFIO_CXX_A_MAPPINGS), 2u);
	/* A value of the type that names no event sends nothing. */
	vfio_cxx::nl::emit_event(static_cast<kapi_event_type>(0), ev);
	vfio_cxx::nl::emit_event(static_cast<kapi_event_type>(5), ev);
	EXPECT_EQ(khost::multicasts().size(), 2u);
}

TEST_F(Netlink, EventsAreBuiltOnlyForListenersAndDroppedWhenTheyCannotBe)
{
	khost::nl_set_listeners(false);
	vfio_cxx_container *c = nullptr;
	open_as(100, 1000, &c);
	close(c);
	EXPECT_EQ(khost::nl_events_built(), 0) << "no listener: no message built";
	EXPECT_TRUE(khost::multicasts().empty());
	EXPECT_TRUE(khost::events().empty());

	khost::nl_set_listeners(true);
	khost::nl_fail_allocs(1);
	open_as(100, 1000, &c); /* its CREATED finds no memory */
	EXPECT_TRUE(khost::multicasts().empty());
	khost::nl_set_room(3776, part_size(2, 1)); /* no room for the MM_ID */
	close(c);
	EXPECT_EQ(khost::nl_events_built(), 1);
	EXPECT_TRUE(khost::multicasts().empty()) << "an event that does not fit is dropped whole";
	EXPECT_EQ(khost::nl_live_msgs(), 0);
}

/* ---- visibility ------------------------------------------------------------------ */

/*
 * may_see() against the host kapi's model of netlink.c's rule, over every
 * combination of viewer and owner state the model knows, quiet and not.
 */
TEST_F(Netlink, VisibilityMatchesTheModelEverywhere)
{
	khost::set_current_tgid(100);
	khost::set_current_euid(1000);
	khost::set_current_label(7);
	kapi_owner *o = kapi_owner_get();
	const khost::FakeCred creds[] = {
		{ 1000, 7, false }, { 1000, 8, false }, { 2000, 7, false },
		{ 2000, 7, true },  { 1000, 0, true },
	};
	long cases = 0, seen = 0;
	for (int owner_state = 0; owner_state < 3; owner_state++) {
		if (owner_state == 1)
			khost::process_set_dumpable(100, false);
		if (owner_state == 2)
			khost::process_exit(100);
		for (int flags = 0; flags < 16; flags++)
			for (unsigned int tgid : { 100u, 300u })
				for (const auto &oc : creds)
					for (const auto &sc : creds)
						for (int quiet = 0; quiet < 2; quiet++) {
							khost::FakeViewer v;
							v.admin = flags & 1;
							v.no_opener = flags & 2;
							v.own_socket = flags & 4;
							v.opener = oc;
							v.sender = (flags & 8) ? oc : sc;
							v.sender_tgid = tgid;
							const bool want =
								kapi_viewer_may_see(v.viewer(), o, quiet);
							const bool got = vfio_cxx::nl::may_see(
								v.viewer(), o, quiet);
							EXPECT_EQ(got, want)
								<< "admin " << v.admin << " no_opener "
								<< v.no_opener << " own " << v.own_socket
								<< " tgid " << tgid << " opener uid " << oc.uid
								<< " sender uid " << v.sender.uid
								<< " owner state " << owner_state;
							cases++;
							seen += got;
						}
	}
	EXPECT_EQ(cases, 3 * 16 * 2 * 5 * 5 * 2);
	EXPECT_GT(seen, 0);
	EXPECT_LT(seen, cases);
	EXPECT_EQ(khost::nl_live_tasks(), 0);
	kapi_owner_put(o);
}

/* Only what the decision needs is asked: no credential check for admin or the owner's own socket. */
TEST_F(Netlink, VisibilityAsksOnlyWhatItNeeds)
{
	khost::set_current_tgid(100);
	khost::set_current_euid(1000);
	kapi_owner *o = kapi_owner_get();
	khost::clear_viewer_checks();
	EXPECT_TRUE(vfio_cxx::nl::may_see(admin_.viewer(), o, false));
	EXPECT_TRUE(vfio_cxx::nl::may_see(khost::viewer_of(100, 1000).viewer(), o, false));
	EXPECT_EQ(khost::viewer_checks(), 0);
	/* A denied sender is the only check (one audit); a passing one, then the opener. */
	EXPECT_FALSE(vfio_cxx::nl::may_see(khost::viewer_of(300, 2000).viewer(), o, true));
	EXPECT_EQ(khost::viewer_checks(), 1);
	EXPECT_EQ(khost::viewer_quiet_checks(), 1);
	EXPECT_TRUE(vfio_cxx::nl::may_see(khost::viewer_of(300, 1000).viewer(), o, false));
	EXPECT_EQ(khost::viewer_checks(), 3);
	EXPECT_EQ(khost::viewer_quiet_checks(), 1);
	/* The owner through a socket opened by another process: only the opener is judged. */
	auto handed = khost::viewer_of(100, 1000);
	handed.own_socket = false;
	EXPECT_TRUE(vfio_cxx::nl::may_see(handed.viewer(), o, false));
	EXPECT_EQ(khost::viewer_checks(), 4);
	/* No owner, or a kernel socket: nothing to check. */
	EXPECT_FALSE(vfio_cxx::nl::may_see(khost::viewer_of(300, 1000).viewer(), nullptr, false));
	auto kernel_socket = khost::viewer_of(300, 1000);
	kernel_socket.no_opener = true;
	EXPECT_FALSE(vfio_cxx::nl::may_see(kernel_socket.viewer(), o, false));
	EXPECT_EQ(khost::viewer_checks(), 4);
	EXPECT_EQ(khost::nl_live_tasks(), 0);
	kapi_owner_put(o);
}

} /* namespace */
