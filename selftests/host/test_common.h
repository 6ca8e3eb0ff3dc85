/* SPDX-License-Identifier: GPL-2.0 */
/* Shared fixture and helpers of the host unit tests. */
#ifndef VFIO_CXX_HOST_TEST_COMMON_H
#define VFIO_CXX_HOST_TEST_COMMON_H

#include <gtest/gtest.h>

#include <vector>

#include "kapi_host.h"
#include "core/container.h"
#include "core/introspect.h"
#include <vfio_cxx/abi.h>

namespace vt {

constexpr unsigned long CXX_IOMMU = 0x56435831UL;
constexpr unsigned long TYPE1 = 1;
constexpr unsigned long TYPE1v2 = 3;
constexpr unsigned long DMA_CC = 4;
constexpr unsigned long UNMAP_ALL = 9;
constexpr unsigned long UPDATE_VADDR = 10;
constexpr unsigned int CHECK_EXTENSION = (';' << 8) | 101;
constexpr unsigned int GET_INFO = (';' << 8) | 112;
constexpr unsigned int MAP_DMA = (';' << 8) | 113;
constexpr unsigned int UNMAP_DMA = (';' << 8) | 114;
/* VFIO_IOMMU_SPAPR_(UN)REGISTER_MEMORY */
constexpr unsigned int REGISTER = (';' << 8) | 117, UNREGISTER = (';' << 8) | 118;

/* The fake mm's pages, and the fake user addresses of the tests (pins only, never dereferenced). */
constexpr unsigned long PG = 4096;
constexpr unsigned long VA = 0x7f0000000000UL;
constexpr unsigned int RW = vfio_cxx::abi::DMA_MAP_FLAG_READ | vfio_cxx::abi::DMA_MAP_FLAG_WRITE;

constexpr int EPERM_ = 1, ENOENT_ = 2, ESRCH_ = 3, ENOMEM_ = 12, EACCES_ = 13, EFAULT_ = 14, EBUSY_ = 16,
	      EEXIST_ = 17, ENODEV_ = 19, EINVAL_ = 22, ENOTTY_ = 25;

/* What a test may read of a container (core/introspect.h). */
inline vfio_cxx::ContainerProbe probe(vfio_cxx_container *c)
{
	return vfio_cxx::ContainerProbe(*reinterpret_cast<vfio_cxx::Container *>(c));
}
inline vfio_cxx::ContainerProbe probe(vfio_cxx::Container *c)
{
	return vfio_cxx::ContainerProbe(*c);
}

/* The events since the last khost::clear_events(): exactly one MEMLOCK_DENIED, of pages against limit. */
inline void expect_memlock_denied(unsigned long pages, unsigned long limit)
{
	const auto ev = khost::events();
	ASSERT_EQ(ev.size(), 1u);
	EXPECT_EQ(ev[0].type, KAPI_EVENT_MEMLOCK_DENIED);
	EXPECT_EQ(ev[0].ev.pages, pages);
	EXPECT_EQ(ev[0].ev.limit_pages, limit);
}

inline vfio_cxx_stats stats()
{
	vfio_cxx_stats s{};
	vfio_cxx_get_stats(&s);
	return s;
}

/*
 * Every test starts from the default host kapi and must end with nothing
 * allocated, no fake domain alive, no group attached, no page pinned, no mm
 * reference or locked_vm left, and the core not busy.
 */
class CoreTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		khost::reset();
		ASSERT_EQ(khost::leak_report(), "") << "leak from an earlier test";
		ASSERT_EQ(vfio_cxx_busy(), 0);
		base_ = stats();
	}
	void TearDown() override
	{
		khost::fail_nth_alloc(0);
		EXPECT_EQ(khost::leak_report(), "") << "leaked at the end of the test";
		EXPECT_EQ(vfio_cxx_busy(), 0);
		vfio_cxx_stats s = stats();
		EXPECT_EQ(s.containers_live, 0u);
		EXPECT_EQ(s.groups_attached, 0u);
		EXPECT_EQ(s.domains_live, 0u);
		EXPECT_EQ(s.dmas_live, 0u);
		EXPECT_EQ(s.pages_pinned, 0u);
	}

	vfio_cxx_container *open_ok(unsigned long type = CXX_IOMMU)
	{
		vfio_cxx_container *c = nullptr;
		EXPECT_EQ(vfio_cxx_open(type, &c), 0);
		EXPECT_NE(c, nullptr);
		return c;
	}

	/*
	 * op() with the n-th allocation from now on failing (fail_nth_alloc);
	 * *hit: whether op reached it.  Returns what op returns.
	 */
	template <typename Op> static auto nth_alloc_failing(long n, Op op, bool *hit)
	{
		khost::fail_nth_alloc(n);
		auto r = op();
		*hit = khost::injected_failure_hit();
		khost::fail_nth_alloc(0);
		return r;
	}

	static khost::FakeGroup group(int id, int family = 0)
	{
		khost::FakeGroup g;
		g.id = id;
		g.family = family;
		return g;
	}

	vfio_cxx_stats base_{};
};

/*
 * A test with its own owner mm (the current mm) and one open container of
 * the given type, and the Type1 ioctls as helpers.
 */
class ContainerTest : public CoreTest {
protected:
	explicit ContainerTest(unsigned long type = CXX_IOMMU) : type_(type) {}
	void SetUp() override
	{
		CoreTest::SetUp();
		khost::set_claim_type1(true); /* harmless for CXX_IOMMU containers */
		mm_ = khost::mm_new();
		khost::set_current_mm(mm_);
		c_ = open_ok(type_);
	}
	void TearDown() override
	{
		if (c_)
			vfio_cxx_release(c_);
		khost::set_current_mm(nullptr);
		khost::mm_put(mm_);
		CoreTest::TearDown();
	}
	vfio_cxx::ContainerProbe core(vfio_cxx_container *c = nullptr)
	{
		return probe(c ? c : c_);
	}
	long map(unsigned long iova, unsigned long size, unsigned long vaddr,
		 unsigned int flags = RW, vfio_cxx_container *c = nullptr)
	{
		vfio_cxx::abi::DmaMap m{ sizeof(m), flags, vaddr, iova, size };
		return vfio_cxx_ioctl(c ? c : c_, MAP_DMA, reinterpret_cast<unsigned long>(&m));
	}
	/* Returns the ioctl's result; *unmapped gets the size written back. */
	long unmap(unsigned long iova, unsigned long size, unsigned int flags = 0,
		   unsigned long long *unmapped = nullptr)
	{
		vfio_cxx::abi::DmaUnmap u{ sizeof(u), flags, iova, size };
		long r = vfio_cxx_ioctl(c_, UNMAP_DMA, reinterpret_cast<unsigned long>(&u));
		if (unmapped)
			*unmapped = u.size;
		return r;
	}
	int attach(khost::FakeGroup &g, int type = VFIO_CXX_GROUP_IOMMU)
	{
		return vfio_cxx_attach_group(c_, g.group(), type);
	}
	void detach(khost::FakeGroup &g) { vfio_cxx_detach_group(c_, g.group()); }
	unsigned long locked() { return khost::mm_locked_vm(mm_); }

	khost::FakeMm *mm_ = nullptr;
	vfio_cxx_container *c_ = nullptr;

private:
	unsigned long type_;
};

/*
 * A test with its own current mm and any number of containers, opened with
 * open() and released by close() or at the end (release_all()).
 */
class ContainersTest : public CoreTest {
protected:
	void SetUp() override
	{
		CoreTest::SetUp();
		mm_ = khost::mm_new();
		khost::set_current_mm(mm_);
	}
	void TearDown() override
	{
		release_all();
		CoreTest::TearDown();
	}
	/* Releases every container still open, then the mm; resets the LSM label. */
	void release_all()
	{
		for (auto *c : open_)
			vfio_cxx_release(c);
		open_.clear();
		khost::set_current_mm(nullptr);
		if (mm_)
			khost::mm_put(mm_);
		mm_ = nullptr;
		khost::set_current_label(0);
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

	khost::FakeMm *mm_ = nullptr;
	std::vector<vfio_cxx_container *> open_;
};

} /* namespace vt */

#endif
