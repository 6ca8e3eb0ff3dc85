/* SPDX-License-Identifier: GPL-2.0 */
/* Shared fixture and helpers of the host unit tests. */
#ifndef VFIO_CXX_HOST_TEST_COMMON_H
#define VFIO_CXX_HOST_TEST_COMMON_H

#include <gtest/gtest.h>

#include "kapi_host.h"

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

constexpr int EPERM_ = 1, ENOENT_ = 2, ENOMEM_ = 12, EBUSY_ = 16, EEXIST_ = 17, EINVAL_ = 22,
	      ENOTTY_ = 25;

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

	static khost::FakeGroup group(int id, int family = 0)
	{
		khost::FakeGroup g;
		g.id = id;
		g.family = family;
		return g;
	}

	vfio_cxx_stats base_{};
};

} /* namespace vt */

#endif
