// SPDX-License-Identifier: GPL-2.0
/* Container creation (VFIO_SET_IOMMU), VFIO_CHECK_EXTENSION, unknown ioctls, stats. */
#include "test_common.h"

#include "core/container.h"

using namespace vt;

namespace {

class Open : public CoreTest {};

TEST_F(Open, CxxTypeAlwaysServed)
{
	for (bool claim : { false, true }) {
		khost::set_claim_type1(claim);
		vfio_cxx_container *c = open_ok(CXX_IOMMU);
		ASSERT_NE(c, nullptr);
		EXPECT_TRUE(probe(c).v2());
		vfio_cxx_release(c);
	}
}

TEST_F(Open, Type1AndV2OnlyWithClaimType1)
{
	for (unsigned long type : { TYPE1, TYPE1v2 }) {
		khost::set_claim_type1(false);
		vfio_cxx_container *c = nullptr;
		EXPECT_EQ(vfio_cxx_open(type, &c), -EINVAL_) << "type " << type;
		EXPECT_EQ(c, nullptr);

		khost::set_claim_type1(true);
		c = open_ok(type);
		ASSERT_NE(c, nullptr);
		/* VFIO_TYPE1_IOMMU is v1 (unmap semantics), TYPE1v2 is v2. */
		EXPECT_EQ(probe(c).v2(), type == TYPE1v2);
		vfio_cxx_release(c);
	}
}

TEST_F(Open, UnknownTypesAreEinval)
{
	for (bool claim : { false, true }) {
		khost::set_claim_type1(claim);
		for (unsigned long type : { 0UL, 2UL, 4UL, 5UL, 8UL, 9UL, 10UL, CXX_IOMMU + 1, ~0UL }) {
			vfio_cxx_container *c = nullptr;
			EXPECT_EQ(vfio_cxx_open(type, &c), -EINVAL_) << "type " << type;
			EXPECT_EQ(c, nullptr);
		}
	}
	EXPECT_EQ(stats().containers_opened, base_.containers_opened);
}

TEST_F(Open, StatsCountContainers)
{
	vfio_cxx_container *a = open_ok();
	EXPECT_EQ(stats().containers_live, base_.containers_live + 1);
	EXPECT_EQ(stats().containers_opened, base_.containers_opened + 1);
	EXPECT_NE(vfio_cxx_busy(), 0);
	vfio_cxx_container *b = open_ok();
	EXPECT_EQ(stats().containers_live, base_.containers_live + 2);
	EXPECT_EQ(stats().containers_opened, base_.containers_opened + 2);
	vfio_cxx_release(a);
	EXPECT_EQ(stats().containers_live, base_.containers_live + 1);
	EXPECT_NE(vfio_cxx_busy(), 0);
	vfio_cxx_release(b);
	EXPECT_EQ(stats().containers_live, 0u);
	EXPECT_EQ(stats().containers_opened, base_.containers_opened + 2);
	EXPECT_EQ(vfio_cxx_busy(), 0);
}

TEST_F(Open, DirectCreateThroughContainer)
{
	auto r = vfio_cxx::Container::create(CXX_IOMMU);
	ASSERT_TRUE(r.ok());
	vfio_cxx::Container *c = r.take();
	EXPECT_EQ(probe(c).group_count(), 0u);
	EXPECT_EQ(probe(c).domain_count(), 0u);
	EXPECT_EQ(probe(c).dma_count(), 0u);
	EXPECT_EQ(stats().containers_live, 1u);
	c->close();
	c->put();
	EXPECT_EQ(stats().containers_live, 0u);

	auto bad = vfio_cxx::Container::create(2);
	EXPECT_FALSE(bad.ok());
	EXPECT_EQ(bad.err(), -EINVAL_);
}

class CheckExtension : public CoreTest {};

struct ExtCase {
	unsigned long ext;
	long no_container_claim_off, no_container_claim_on, container;
};

/*
 * Before VFIO_SET_IOMMU (c == NULL): our type and UNMAP_ALL always, type1
 * ids only with claim_type1; UPDATE_VADDR and DMA_CC need a container (as
 * type1).  With a container (no groups): every type1 extension we serve.
 */
const ExtCase ext_cases[] = {
	{ CXX_IOMMU, 1, 1, 1 },
	{ TYPE1, 0, 1, 1 },
	{ TYPE1v2, 0, 1, 1 },
	{ UNMAP_ALL, 1, 1, 1 },
	{ UPDATE_VADDR, 0, 0, 1 },
	{ DMA_CC, 0, 0, 1 },
	{ 0, 0, 0, 0 },
	{ 2, 0, 0, 0 },  /* SPAPR_TCE_IOMMU */
	{ 5, 0, 0, 0 },  /* EEH */
	{ 7, 0, 0, 0 },  /* SPAPR_TCE_v2 */
	{ 8, 0, 0, 0 },  /* NOIOMMU */
	{ 11, 0, 0, 0 },
	{ ~0UL, 0, 0, 0 },
};

TEST_F(CheckExtension, WithoutContainer)
{
	for (const ExtCase &e : ext_cases) {
		khost::set_claim_type1(false);
		EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, e.ext), e.no_container_claim_off)
			<< "ext " << e.ext;
		khost::set_claim_type1(true);
		EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, e.ext), e.no_container_claim_on)
			<< "ext " << e.ext;
	}
	/* UNMAP_ALL (9) answers 1, UPDATE_VADDR (10) 0 without a container. */
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, 9), 1);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, 10), 0);
}

TEST_F(CheckExtension, WithContainer)
{
	for (bool claim : { false, true }) {
		khost::set_claim_type1(claim);
		vfio_cxx_container *c = open_ok();
		ASSERT_NE(c, nullptr);
		for (const ExtCase &e : ext_cases)
			EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, e.ext), e.container)
				<< "ext " << e.ext << " claim " << claim;
		vfio_cxx_release(c);
	}
}

TEST_F(CheckExtension, UpdateVaddrNotWithEmulatedGroup)
{
	vfio_cxx_container *c = open_ok();
	auto g = group(7);
	ASSERT_EQ(vfio_cxx_attach_group(c, g.group(), VFIO_CXX_GROUP_EMULATED), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, UPDATE_VADDR), 0);
	vfio_cxx_detach_group(c, g.group());
	EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, UPDATE_VADDR), 1);
	vfio_cxx_release(c);
}

TEST_F(CheckExtension, DmaCcFollowsDomainCoherency)
{
	vfio_cxx_container *c = open_ok();
	auto a = group(1, 0);
	auto b = group(2, 0);
	b.coherent = false;
	ASSERT_EQ(vfio_cxx_attach_group(c, a.group(), VFIO_CXX_GROUP_IOMMU), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, DMA_CC), 1);
	ASSERT_EQ(vfio_cxx_attach_group(c, b.group(), VFIO_CXX_GROUP_IOMMU), 0);
	EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, DMA_CC), 0);
	vfio_cxx_detach_group(c, b.group());
	EXPECT_EQ(vfio_cxx_ioctl(c, CHECK_EXTENSION, DMA_CC), 1);
	vfio_cxx_detach_group(c, a.group());
	vfio_cxx_release(c);
}

TEST_F(CheckExtension, UnknownIoctlIsEnotty)
{
	const unsigned int cmds[] = { 0, (';' << 8) | 100, (';' << 8) | 102, (';' << 8) | 115,
				      (';' << 8) | 116, (';' << 8) | 200, ('V' << 8) | 101,
				      0xc0003b65 /* CHECK_EXTENSION with a direction */ };
	for (unsigned int cmd : cmds)
		EXPECT_EQ(vfio_cxx_ioctl(nullptr, cmd, 0), -ENOTTY_) << std::hex << cmd;
	vfio_cxx_container *c = open_ok();
	for (unsigned int cmd : cmds)
		EXPECT_EQ(vfio_cxx_ioctl(c, cmd, 0), -ENOTTY_) << std::hex << cmd;
	/* Only CHECK_EXTENSION reaches a backend before VFIO_SET_IOMMU. */
	for (unsigned int cmd : { GET_INFO, MAP_DMA, UNMAP_DMA })
		EXPECT_EQ(vfio_cxx_ioctl(nullptr, cmd, 0), -ENOTTY_) << std::hex << cmd;
	vfio_cxx_release(c);
}

} /* namespace */
