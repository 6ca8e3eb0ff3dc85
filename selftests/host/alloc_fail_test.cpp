// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure sweeps: fail the Nth allocation (kapi_alloc, nothrow
 * new, mutex, domain, range map, range-map insert) for N = 1, 2, ... until a
 * run completes without hitting the injected failure.  Every step must
 * either succeed or fail with -ENOMEM cleanly (R3: no use-after-free or leak
 * on an error path; #19: allocation failure gives -ENOMEM), and release
 * must leave nothing behind.
 */
#include "test_common.h"

#include <vector>

#include "core/container.h"

using namespace vt;

namespace {

class AllocSweep : public CoreTest {};

/* Returns whether the run hit the injected failure. */
bool one_run(long n, std::vector<std::string> &errors)
{
	auto fail = [&errors, n](const char *step, long ret) {
		errors.push_back("N=" + std::to_string(n) + " " + step + " returned " + std::to_string(ret));
	};
	khost::FakeGroup a, b, e;
	a.id = 1;
	b.id = 2; /* same family: shares a's domain */
	e.id = 3;
	khost::fail_nth_alloc(n);

	vfio_cxx_container *c = nullptr;
	int ret = vfio_cxx_open(CXX_IOMMU, &c);
	if (ret) {
		if (ret != -ENOMEM_)
			fail("open", ret);
		if (c)
			fail("open set *out on failure", 0);
		if (stats().containers_live)
			fail("open failure left a live container", 0);
		return khost::injected_failure_hit();
	}
	auto core = probe(c);

	size_t groups = 0, domains = 0;
	bool a_in = false, b_in = false, e_in = false;
	ret = vfio_cxx_attach_group(c, a.group(), VFIO_CXX_GROUP_IOMMU);
	if (ret == 0) {
		a_in = true;
		groups++;
		domains++;
	} else if (ret != -ENOMEM_) {
		fail("attach iommu group a", ret);
	}
	if (ret && a.attached_to)
		fail("failed attach left group a attached", 0);

	ret = vfio_cxx_attach_group(c, b.group(), VFIO_CXX_GROUP_IOMMU);
	if (ret == 0) {
		b_in = true;
		groups++;
		if (!a.attached_to)
			domains++;
		else if (a.attached_to != b.attached_to)
			fail("compatible group b did not share a's domain", 0);
	} else if (ret != -ENOMEM_) {
		fail("attach iommu group b", ret);
	}
	if (ret && b.attached_to)
		fail("failed attach left group b attached", 0);

	ret = vfio_cxx_attach_group(c, e.group(), VFIO_CXX_GROUP_EMULATED);
	if (ret == 0) {
		e_in = true;
		groups++;
	} else if (ret != -ENOMEM_) {
		fail("attach emulated group", ret);
	}

	if (core.group_count() != groups)
		fail("group count", static_cast<long>(core.group_count()));
	if (core.domain_count() != domains)
		fail("domain count", static_cast<long>(core.domain_count()));
	if (khost::domains_live() != static_cast<int>(domains))
		fail("fake domains live", khost::domains_live());
	if (stats().groups_attached != groups)
		fail("stats.groups_attached", static_cast<long>(stats().groups_attached));

	const bool hit = khost::injected_failure_hit();
	khost::fail_nth_alloc(0);
	/* The VFIO core detaches exactly the groups whose attach succeeded. */
	if (e_in)
		vfio_cxx_detach_group(c, e.group());
	if (b_in)
		vfio_cxx_detach_group(c, b.group());
	if (a_in)
		vfio_cxx_detach_group(c, a.group());
	vfio_cxx_release(c);
	return hit;
}

TEST_F(AllocSweep, R3_N19_OpenAttachAttachAttachEmulated)
{
	std::vector<std::string> errors;
	long n = 1;
	for (; n < 1000; n++) {
		const bool hit = one_run(n, errors);
		const std::string leak = khost::leak_report();
		if (!leak.empty())
			errors.push_back("N=" + std::to_string(n) + " leaked: " + leak);
		if (vfio_cxx_busy())
			errors.push_back("N=" + std::to_string(n) + " core busy after release");
		if (!hit)
			break;
	}
	EXPECT_EQ(khost::log_count("vfio_iommu_cxx"), 0) << "no warning on any error path";
	RecordProperty("runs", static_cast<int>(n));
	EXPECT_LT(n, 1000) << "the sweep never completed without an injected failure";
	EXPECT_GT(n, 3) << "open + 3 attaches allocate more than 3 times";
	for (const std::string &e : errors)
		ADD_FAILURE() << e;
}

/* The same sweep failing the Nth allocation of the attach of a second, incompatible group. */
TEST_F(AllocSweep, R3_IncompatibleSecondDomain)
{
	long n = 1;
	for (; n < 1000; n++) {
		khost::FakeGroup a, b;
		a.id = 1;
		b.id = 2;
		b.family = 1;
		vfio_cxx_container *c = open_ok();
		ASSERT_NE(c, nullptr);
		ASSERT_EQ(vfio_cxx_attach_group(c, a.group(), VFIO_CXX_GROUP_IOMMU), 0);
		bool hit;
		int ret = nth_alloc_failing(
			n, [&] { return vfio_cxx_attach_group(c, b.group(), VFIO_CXX_GROUP_IOMMU); }, &hit);
		auto core = probe(c);
		if (ret == 0) {
			EXPECT_EQ(core.domain_count(), 2u) << "N=" << n;
			vfio_cxx_detach_group(c, b.group());
		} else {
			EXPECT_EQ(ret, -ENOMEM_) << "N=" << n;
			EXPECT_EQ(b.attached_to, nullptr) << "N=" << n;
			EXPECT_EQ(core.domain_count(), 1u) << "N=" << n;
			EXPECT_EQ(khost::domains_live(), 1) << "N=" << n;
		}
		vfio_cxx_detach_group(c, a.group());
		vfio_cxx_release(c);
		EXPECT_EQ(khost::leak_report(), "") << "N=" << n;
		if (!hit)
			break;
	}
	EXPECT_LT(n, 1000);
}

} /* namespace */
