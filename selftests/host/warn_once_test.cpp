// SPDX-License-Identifier: GPL-2.0
/*
 * Warn-once call sites (VFIO_CXX_WARN_ONCE: once per module load, a static
 * flag).  These tests must be the first to reach each call site, so this
 * file is linked first (see TEST_SRCS in the Makefile; GoogleTest runs
 * suites in registration order, which is link order across files).  Later
 * tests reaching the same sites can only check "at most once".
 */
#include "test_common.h"

using namespace vt;

namespace {

/* Detach of an unknown group: exactly one warning across two calls. */
class DetachUnknownFirst : public CoreTest {};
TEST_F(DetachUnknownFirst, WarnsExactlyOnce)
{
	vfio_cxx_container *c = open_ok();
	auto unknown = group(42);
	khost::clear_log();
	vfio_cxx_detach_group(c, unknown.group());
	vfio_cxx_detach_group(c, unknown.group());
	EXPECT_EQ(khost::log_count("detach of unknown group 42"), 1);
	EXPECT_EQ(khost::log_count("detach of unknown group"), 1);
	for (const auto &l : khost::log_lines()) {
		if (l.text.find("detach of unknown group") != std::string::npos) {
			EXPECT_EQ(l.level, KAPI_LOG_WARN);
		}
	}
	vfio_cxx_release(c);
}

/* The same for the warning at release with groups still attached. */
class ReleaseWarnFirst : public CoreTest {};
TEST_F(ReleaseWarnFirst, WarnsExactlyOnce)
{
	vfio_cxx_container *c = open_ok();
	auto a = group(11), b = group(12, 1);
	ASSERT_EQ(vfio_cxx_attach_group(c, a.group(), VFIO_CXX_GROUP_IOMMU), 0);
	ASSERT_EQ(vfio_cxx_attach_group(c, b.group(), VFIO_CXX_GROUP_IOMMU), 0);
	khost::clear_log();
	vfio_cxx_release(c);
	EXPECT_EQ(khost::log_count("still attached at release"), 1);
}

} /* namespace */
