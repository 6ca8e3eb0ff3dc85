// SPDX-License-Identifier: GPL-2.0
/* Attaching and detaching groups: domains, errors, leaks, release. */
#include "test_common.h"

#include "core/container.h"

using namespace vt;

namespace {

class Groups : public CoreTest {
protected:
	void SetUp() override
	{
		CoreTest::SetUp();
		c_ = open_ok();
		allocs0_ = khost::live_allocations();
	}
	void TearDown() override
	{
		if (c_)
			vfio_cxx_release(c_);
		CoreTest::TearDown();
	}
	vfio_cxx::ContainerProbe core() { return probe(c_); }
	int attach(khost::FakeGroup &g, int type = VFIO_CXX_GROUP_IOMMU)
	{
		return vfio_cxx_attach_group(c_, g.group(), type);
	}
	void detach(khost::FakeGroup &g) { vfio_cxx_detach_group(c_, g.group()); }

	vfio_cxx_container *c_ = nullptr;
	long allocs0_ = 0; /* live allocations of the empty container */
};

TEST_F(Groups, IommuGroupGetsADomain)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	EXPECT_NE(g.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_EQ(stats().groups_attached, 1u);
	EXPECT_EQ(stats().domains_live, 1u);
	detach(g);
	EXPECT_EQ(g.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 0u);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(stats().groups_attached, 0u);
	EXPECT_EQ(stats().domains_live, 0u);
}

TEST_F(Groups, CompatibleGroupsShareOneDomain)
{
	auto a = group(1, 0), b = group(2, 0);
	ASSERT_EQ(attach(a), 0);
	ASSERT_EQ(attach(b), 0);
	EXPECT_EQ(a.attached_to, b.attached_to);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1) << "the spare domain must be freed";
	EXPECT_EQ(khost::groups_attached(), 2);
	EXPECT_EQ(stats().groups_attached, 2u);
	EXPECT_EQ(stats().domains_live, 1u);

	/* The shared domain lives until its last group leaves. */
	detach(a);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_NE(b.attached_to, nullptr);
	detach(b);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
}

TEST_F(Groups, IncompatibleGroupsGetTwoDomains)
{
	auto a = group(1, 0), b = group(2, 1), c = group(3, 0);
	c.coherent = false;
	ASSERT_EQ(attach(a), 0);
	ASSERT_EQ(attach(b), 0);
	ASSERT_EQ(attach(c), 0);
	EXPECT_NE(a.attached_to, b.attached_to);
	EXPECT_NE(a.attached_to, c.attached_to);
	EXPECT_EQ(core().domain_count(), 3u);
	EXPECT_EQ(khost::domains_live(), 3);
	EXPECT_EQ(stats().domains_live, 3u);
	detach(b);
	EXPECT_EQ(core().domain_count(), 2u);
	EXPECT_EQ(khost::domains_live(), 2);
	detach(a);
	detach(c);
	EXPECT_EQ(khost::domains_live(), 0);
}

/* #28: the same group attached twice is an error (-EBUSY, as seed 003), and nothing changes. */
TEST_F(Groups, N28_SameGroupTwiceIsEbusy)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	void *dom = g.attached_to;
	const long allocs = khost::live_allocations();
	EXPECT_EQ(attach(g), -EBUSY_);
	EXPECT_EQ(attach(g, VFIO_CXX_GROUP_EMULATED), -EBUSY_);
	EXPECT_EQ(g.attached_to, dom);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_EQ(khost::live_allocations(), allocs);
	EXPECT_EQ(stats().groups_attached, 1u);
	detach(g);
}

TEST_F(Groups, N28_SameEmulatedGroupTwiceIsEbusy)
{
	auto g = group(4);
	ASSERT_EQ(attach(g, VFIO_CXX_GROUP_EMULATED), 0);
	EXPECT_EQ(attach(g, VFIO_CXX_GROUP_EMULATED), -EBUSY_);
	EXPECT_EQ(attach(g, VFIO_CXX_GROUP_IOMMU), -EBUSY_);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 0);
	detach(g);
}

/* A group already owned by another container's domain: the iommu core says -EBUSY. */
TEST_F(Groups, GroupBusyInAnotherContainer)
{
	vfio_cxx_container *other = open_ok();
	auto g = group(1);
	ASSERT_EQ(vfio_cxx_attach_group(other, g.group(), VFIO_CXX_GROUP_IOMMU), 0);
	EXPECT_EQ(attach(g), -EBUSY_);
	EXPECT_EQ(core().group_count(), 0u);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 1);
	vfio_cxx_detach_group(other, g.group());
	vfio_cxx_release(other);
}

/* #28: emulated (mdev) groups get no IOMMU domain; two of them share the software one. */
TEST_F(Groups, N28_EmulatedGroupsGetNoDomain)
{
	auto a = group(1), b = group(2);
	ASSERT_EQ(attach(a, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(attach(b, VFIO_CXX_GROUP_EMULATED), 0);
	EXPECT_EQ(a.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 2u);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(stats().groups_attached, 2u);
	EXPECT_EQ(stats().domains_live, 0u);
	detach(a);
	detach(b);
	EXPECT_EQ(stats().groups_attached, 0u);
}

TEST_F(Groups, NoiommuAndUnknownTypesAreEinval)
{
	auto g = group(1);
	for (int type : { (int)VFIO_CXX_GROUP_NOIOMMU, 3, -1, 100 }) {
		EXPECT_EQ(attach(g, type), -EINVAL_) << "type " << type;
		EXPECT_EQ(core().group_count(), 0u);
		EXPECT_EQ(khost::domains_live(), 0);
	}
	EXPECT_EQ(khost::live_allocations(), allocs0_);
	/* Still attachable afterwards. */
	ASSERT_EQ(attach(g), 0);
	detach(g);
}

TEST_F(Groups, MsiNotIsolatedIsEpermAndLeaksNothing)
{
	auto g = group(5);
	g.msi_isolated = false;
	EXPECT_EQ(attach(g), -EPERM_);
	EXPECT_EQ(g.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 0u);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(khost::live_allocations(), allocs0_);
	EXPECT_EQ(stats().groups_attached, 0u);
	/* The kernel module's warning, word for word (admins grep for it). */
	ASSERT_EQ(khost::log_count("interrupt remapping"), 1);
	const khost::LogLine &l = khost::log_lines().back();
	EXPECT_EQ(l.level, KAPI_LOG_WARN);
	EXPECT_EQ(l.text, "vfio_iommu_cxx: group 5: no interrupt remapping support; use the "
			  "allow_unsafe_interrupts parameter to allow it\n");
	/* An emulated group needs no interrupt remapping. */
	ASSERT_EQ(attach(g, VFIO_CXX_GROUP_EMULATED), 0);
	detach(g);
}

/* allow_unsafe_interrupts (type1's parameter) lets such a group in, silently. */
TEST_F(Groups, MsiNotIsolatedAllowedByParameter)
{
	auto g = group(6);
	g.msi_isolated = false;
	khost::set_allow_unsafe_interrupts(true);
	ASSERT_EQ(attach(g), 0);
	EXPECT_NE(g.attached_to, nullptr);
	EXPECT_EQ(khost::log_count("interrupt remapping"), 0);
	detach(g);
	/* Read at each attach: cleared again, the group is refused. */
	khost::set_allow_unsafe_interrupts(false);
	EXPECT_EQ(attach(g), -EPERM_);
	EXPECT_EQ(khost::log_count("interrupt remapping"), 1);
}

/* An isolated group needs no parameter and logs nothing. */
TEST_F(Groups, MsiIsolatedAttachesWithoutWarning)
{
	auto g = group(7);
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(khost::log_count("interrupt remapping"), 0);
	detach(g);
}

/* R3: no use-after-free (ASan) and no leak on the attach error path. */
TEST_F(Groups, R3_DomainAttachFailureLeaksNothing)
{
	auto good = group(1), bad = group(2);
	bad.attach_fails = true;
	bad.attach_error = -19;
	EXPECT_EQ(attach(bad), -19);
	EXPECT_EQ(core().group_count(), 0u);
	EXPECT_EQ(core().domain_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(khost::live_allocations(), allocs0_);

	/* Failing as second group of a container that already has a domain. */
	ASSERT_EQ(attach(good), 0);
	EXPECT_EQ(attach(bad), -19);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_EQ(stats().groups_attached, 1u);
	EXPECT_EQ(stats().domains_live, 1u);

	/* Once it works, it joins the compatible domain. */
	bad.attach_fails = false;
	ASSERT_EQ(attach(bad), 0);
	EXPECT_EQ(bad.attached_to, good.attached_to);
	detach(bad);
	detach(good);
}

/* R3: a failing reserved-region walk unwinds the attach completely. */
TEST_F(Groups, R3_ResvRegionFailureLeaksNothing)
{
	auto g = group(1);
	g.resv_error = -12;
	EXPECT_EQ(attach(g), -ENOMEM_);
	EXPECT_EQ(g.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 0u);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(khost::live_allocations(), allocs0_);
}

TEST_F(Groups, DetachLastGroupFreesDomain)
{
	auto a = group(1, 0), b = group(2, 1);
	ASSERT_EQ(attach(a), 0);
	ASSERT_EQ(attach(b), 0);
	ASSERT_EQ(khost::domains_live(), 2);
	detach(a);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_EQ(stats().domains_live, 1u);
	EXPECT_EQ(a.attached_to, nullptr);
	/* Re-attach after detach works and gets a domain again. */
	ASSERT_EQ(attach(a), 0);
	EXPECT_EQ(khost::domains_live(), 2);
	detach(a);
	detach(b);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(stats().domains_live, 0u);
}

/* Detach of an unknown group: ignored, warned once per call site (not per call). */
TEST_F(Groups, DetachUnknownGroupWarnsOnceAndChangesNothing)
{
	auto known = group(1), unknown = group(99);
	ASSERT_EQ(attach(known), 0);
	const long allocs = khost::live_allocations();
	khost::clear_log();
	detach(unknown);
	detach(unknown);
	/*
	 * The warning is once per boot (a static flag): an earlier test in this
	 * binary may have used it up, so count at most one, and exactly one
	 * when this is the first run of the call site (warn_once_test.cpp).
	 */
	EXPECT_LE(khost::log_count("detach of unknown group"), 1);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(core().domain_count(), 1u);
	EXPECT_EQ(khost::live_allocations(), allocs);
	EXPECT_EQ(stats().groups_attached, 1u);
	EXPECT_NE(known.attached_to, nullptr);
	detach(known);
}

/* Release with groups still attached: everything is freed, with a warning. */
TEST_F(Groups, ReleaseWithGroupsAttachedFreesEverything)
{
	auto a = group(1, 0), b = group(2, 0), d = group(3, 1), e = group(4);
	ASSERT_EQ(attach(a), 0);
	ASSERT_EQ(attach(b), 0);
	ASSERT_EQ(attach(d), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	EXPECT_EQ(stats().groups_attached, 4u);
	EXPECT_EQ(stats().domains_live, 2u);
	khost::clear_log();
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(a.attached_to, nullptr);
	EXPECT_EQ(b.attached_to, nullptr);
	EXPECT_EQ(d.attached_to, nullptr);
	EXPECT_EQ(khost::domains_live(), 0);
	EXPECT_EQ(khost::groups_attached(), 0);
	EXPECT_EQ(stats().groups_attached, 0u);
	EXPECT_EQ(stats().domains_live, 0u);
	EXPECT_EQ(stats().containers_live, 0u);
	EXPECT_EQ(vfio_cxx_busy(), 0);
	/* Warn once: at most one line however many groups were left. */
	EXPECT_LE(khost::log_count("still attached at release"), 1);
}

TEST_F(Groups, StatsFollowAttachAndDetach)
{
	auto a = group(1, 0), b = group(2, 0), c = group(3, 1), e = group(4);
	ASSERT_EQ(attach(a), 0);
	EXPECT_EQ(stats().groups_attached, 1u);
	EXPECT_EQ(stats().domains_live, 1u);
	ASSERT_EQ(attach(b), 0);
	EXPECT_EQ(stats().groups_attached, 2u);
	EXPECT_EQ(stats().domains_live, 1u);
	ASSERT_EQ(attach(c), 0);
	EXPECT_EQ(stats().groups_attached, 3u);
	EXPECT_EQ(stats().domains_live, 2u);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	EXPECT_EQ(stats().groups_attached, 4u);
	EXPECT_EQ(stats().domains_live, 2u);
	EXPECT_EQ(stats().containers_live, 1u);
	detach(e);
	detach(c);
	detach(b);
	detach(a);
	EXPECT_EQ(stats().groups_attached, 0u);
	EXPECT_EQ(stats().domains_live, 0u);
	EXPECT_NE(vfio_cxx_busy(), 0) << "the container is still open";
}

/* Groups in two containers are independent. */
TEST_F(Groups, TwoContainersIndependent)
{
	vfio_cxx_container *other = open_ok();
	auto a = group(1), b = group(2);
	ASSERT_EQ(attach(a), 0);
	ASSERT_EQ(vfio_cxx_attach_group(other, b.group(), VFIO_CXX_GROUP_IOMMU), 0);
	EXPECT_NE(a.attached_to, b.attached_to) << "containers never share domains";
	EXPECT_EQ(khost::domains_live(), 2);
	/* Detaching b from the wrong container is an unknown-group detach. */
	detach(b);
	EXPECT_NE(b.attached_to, nullptr);
	vfio_cxx_detach_group(other, b.group());
	detach(a);
	vfio_cxx_release(other);
}

} /* namespace */
