// SPDX-License-Identifier: GPL-2.0
/* DMA_MAP / DMA_UNMAP / GET_INFO through vfio_cxx_ioctl against the fake IOMMU and mm. */
#include "test_common.h"

#include <cstring>
#include <vector>

#include "core/container.h"
#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

class Dma : public ContainerTest {};

/* #2: with an IOMMU group, DMA_MAP pins the whole range, maps it and charges locked_vm. */
TEST_F(Dma, N2_MapPinsMapsAndCharges)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 8u);
	EXPECT_EQ(khost::mapped_bytes(g), 8 * PG);
	EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + 3 * PG + 5), (khost::pfn_of(VA + 3 * PG) << 12) + 5);
	EXPECT_EQ(core().dma_count(), 1u);
	EXPECT_EQ(stats().dmas_live, 1u);
	EXPECT_EQ(stats().pages_pinned, 8u);
	/* #40: the Dma holds an mm_count reference on the owner mm. */
	EXPECT_EQ(khost::mm_count(mm_), 2);

	unsigned long long unmapped = 0;
	ASSERT_EQ(unmap(0x100000, 8 * PG, 0, &unmapped), 0);
	EXPECT_EQ(unmapped, 8 * PG);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	EXPECT_EQ(khost::mapped_bytes(g), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
	detach(g);
}

/* #3: with emulated groups only, DMA_MAP records the range and pins nothing. */
TEST_F(Dma, N3_EmulatedOnlyPinsNothing)
{
	auto e = group(1);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	EXPECT_EQ(core().dma_count(), 1u);
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	EXPECT_EQ(core().dma_count(), 0u);
	detach(e);
}

/*
 * Issue 12 (issue 13 item 4): a MAP_DMA, UNMAP_DMA or dirty-bitmap range
 * that wraps the 64-bit space is answered with the kernel's type1 errno,
 * -EOVERFLOW on 7.x (kapi_type1_wrap_errno), and changes nothing; the other
 * bad input stays -EINVAL.
 */
TEST_F(Dma, Issue12_WrapErrnoIsTheKernels)
{
	const long EOVERFLOW_ = -75;
	khost::set_type1_wrap_errno(EOVERFLOW_);
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(map(~0UL - PG + 1, 2 * PG, VA), EOVERFLOW_);	/* iova wraps */
	EXPECT_EQ(map(0x200000, 2 * PG, ~0UL - PG + 1), EOVERFLOW_); /* vaddr wraps */
	EXPECT_EQ(map(0x200000, 0, VA), -EINVAL_);		/* zero size: still EINVAL */
	EXPECT_EQ(map(0x200000 + 1, 4 * PG, VA), -EINVAL_);
	unsigned long long sz = 0;
	EXPECT_EQ(unmap(~0UL - PG + 1, 2 * PG, 0, &sz), EOVERFLOW_);
	EXPECT_EQ(unmap(0x100000, 0, 0, &sz), -EINVAL_);
	EXPECT_EQ(core().dma_count(), 1u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 4u);
	EXPECT_EQ(unmap(0x100000, 4 * PG), 0);
	detach(g);
}

/* #1: bad DMA_MAP input gives -EINVAL/-EEXIST and changes nothing. */
TEST_F(Dma, N1_BadMapInputChangesNothing)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(map(0x200000 + 1, 4 * PG, VA), -EINVAL_);	/* misaligned iova */
	EXPECT_EQ(map(0x200000, 4 * PG + 1, VA), -EINVAL_);	/* misaligned size */
	EXPECT_EQ(map(0x200000, 4 * PG, VA + 1), -EINVAL_);	/* misaligned vaddr */
	EXPECT_EQ(map(0x200000, 0, VA), -EINVAL_);		/* zero size */
	EXPECT_EQ(map(~0UL - PG + 1, 2 * PG, VA), -EINVAL_);	/* iova wraps */
	EXPECT_EQ(map(0x200000, 2 * PG, ~0UL - PG + 1), -EINVAL_); /* vaddr wraps */
	EXPECT_EQ(map(0x200000, 4 * PG, VA, 0), -EINVAL_);	/* no prot */
	EXPECT_EQ(map(0x200000, 4 * PG, VA, RW | 0x80), -EINVAL_); /* unknown flag */
	EXPECT_EQ(map(0x100000, 4 * PG, VA + 0x100000), -EEXIST_); /* same range */
	EXPECT_EQ(map(0x100000 + 2 * PG, 4 * PG, VA), -EEXIST_); /* overlaps the end */
	EXPECT_EQ(map(0x100000 - PG, 2 * PG, VA), -EEXIST_);	/* overlaps the start */
	EXPECT_EQ(map(1UL << 48, PG, VA), -EINVAL_);		/* outside the aperture */
	EXPECT_EQ(core().dma_count(), 1u);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 4u);
	EXPECT_EQ(khost::mapped_bytes(g), 4 * PG);
	EXPECT_EQ(khost::mm_count(mm_), 2);
	detach(g);
}

/* #4: over RLIMIT_MEMLOCK without CAP_IPC_LOCK: -ENOMEM, no Dma left, locked_vm restored. */
TEST_F(Dma, N4_OverRlimitIsEnomem)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::set_rlimit_memlock_pages(8);
	ASSERT_EQ(map(0x100000, 6 * PG, VA), 0);
	EXPECT_EQ(map(0x200000, 4 * PG, VA + 0x100000), -ENOMEM_);
	EXPECT_EQ(core().dma_count(), 1u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 6u);
	EXPECT_EQ(khost::pinned_pages(), 6u);
	EXPECT_EQ(stats().dmas_live, 1u);
	/* #5: with CAP_IPC_LOCK no limit applies. */
	khost::set_capable_ipc_lock(true);
	EXPECT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 10u);
	detach(g);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
}

/* #6: VM_PFNMAP pages are mapped but neither pinned nor charged. */
TEST_F(Dma, N6_PfnmapMappedNotCharged)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::add_pfnmap_range(VA + 2 * PG, VA + 4 * PG - 1);
	ASSERT_EQ(map(0x100000, 6 * PG, VA), 0);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 4u);
	EXPECT_EQ(khost::mapped_bytes(g), 6 * PG);
	EXPECT_EQ(stats().pages_pinned, 4u);
	EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + 2 * PG), khost::pfn_of(VA + 2 * PG) << 12);
	ASSERT_EQ(unmap(0x100000, 6 * PG), 0);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	detach(g);
}

/*
 * Runs are mapped KAPI_MAP_SEGS_MAX at a time (one iommu_map_sg, so one
 * IOTLB sync, per call in the kernel): 40 runs, alternating RAM and MMIO,
 * take 3 calls, and every page lands where it belongs.
 */
TEST_F(Dma, RunsMappedInBatchesOfSegments)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	for (unsigned long i = 1; i < 40; i += 2)
		khost::add_pfnmap_range(VA + i * PG, VA + (i + 1) * PG - 1);
	const long calls = khost::map_segs_calls();
	ASSERT_EQ(map(0x100000, 40 * PG, VA), 0);
	EXPECT_EQ(khost::map_segs_calls() - calls, 3);
	EXPECT_EQ(khost::mapped_bytes(g), 40 * PG);
	EXPECT_EQ(khost::pinned_pages(), 20u);
	for (unsigned long i = 0; i < 40; i++)
		EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + i * PG), khost::pfn_of(VA + i * PG) << 12);
	ASSERT_EQ(unmap(0x100000, 40 * PG), 0);
	EXPECT_EQ(khost::mapped_bytes(g), 0u);
	detach(g);
}

/* #7: a pin failure partway unpins and de-accounts everything. */
TEST_F(Dma, N7_PinFailurePartwayUndoesAll)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::set_pin_fail_at(VA + 5 * PG, -14);
	EXPECT_EQ(map(0x100000, 8 * PG, VA), -14);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	EXPECT_EQ(khost::mapped_bytes(g), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
	detach(g);
}

/* #8: DMA_UNMAP gives back locked_vm in one update per unmapped range. */
TEST_F(Dma, N8_OneUnchargePerRange)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 300 * PG, VA), 0); /* more than one pin batch */
	EXPECT_EQ(khost::mm_charge_calls(mm_), 1);
	const long before = khost::mm_uncharge_calls(mm_);
	ASSERT_EQ(unmap(0x100000, 300 * PG), 0);
	EXPECT_EQ(khost::mm_uncharge_calls(mm_) - before, 1);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	detach(g);
}

/* v2 unmap may not bisect a mapping; UNMAP_ALL removes everything. */
TEST_F(Dma, UnmapBisectAndUnmapAll)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0);
	EXPECT_EQ(unmap(0x100000 + PG, PG), -EINVAL_);
	EXPECT_EQ(unmap(0x100000, 2 * PG), -EINVAL_);
	EXPECT_EQ(core().dma_count(), 2u);
	unsigned long long unmapped = 1;
	EXPECT_EQ(unmap(0x300000, 4 * PG, 0, &unmapped), 0); /* nothing there */
	EXPECT_EQ(unmapped, 0u);
	EXPECT_EQ(unmap(0x100000, PG, uabi::DMA_UNMAP_FLAG_ALL), -EINVAL_);
	EXPECT_EQ(unmap(0, 0, uabi::DMA_UNMAP_FLAG_ALL, &unmapped), 0);
	EXPECT_EQ(unmapped, 8 * PG);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	detach(g);
}

/* #24/#27: attaching an IOMMU group to a container with mappings replays every range. */
TEST_F(Dma, N24_N27_AttachReplaysMappings)
{
	auto e = group(1), g = group(2), h = group(3, 1);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, 2 * PG, VA + 0x100000), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(khost::pinned_pages(), 6u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 6u);
	EXPECT_EQ(khost::mapped_bytes(g), 6 * PG);
	/* A second, incompatible domain gets the same mappings; nothing pinned twice. */
	ASSERT_EQ(attach(h), 0);
	EXPECT_EQ(khost::mapped_bytes(h), 6 * PG);
	EXPECT_EQ(khost::pinned_pages(), 6u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 6u);
	detach(h);
	/* #26: the last IOMMU group leaves; the mappings stay for the emulated group, unpinned. */
	detach(g);
	EXPECT_EQ(core().dma_count(), 2u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	/* #27: re-attaching re-pins the retained ranges. */
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(khost::pinned_pages(), 6u);
	EXPECT_EQ(khost::mapped_bytes(g), 6 * PG);
	detach(g);
	detach(e);
}

/* Without emulated groups the mappings go with the last domain (as type1). */
TEST_F(Dma, LastDomainTakesMappingsWithIt)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	detach(g);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(stats().dmas_live, 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
}

/* A new group whose reserved region covers an existing mapping is refused; nothing leaks. */
TEST_F(Dma, R3_AttachConflictingResvRegionRefused)
{
	auto g = group(1), h = group(2, 1);
	h.resv.push_back({ 0x100000, 0x1fffff });
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(attach(h), -EINVAL_);
	EXPECT_EQ(h.attached_to, nullptr);
	EXPECT_EQ(khost::domains_live(), 1);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	detach(g);
}

/*
 * As type1: a relaxable direct mapping and an empty region leave the IOVA
 * space whole; any other reserved region is a hole.
 */
TEST_F(Dma, RelaxableAndEmptyResvRegionsAreNoHoles)
{
	auto g = group(1);
	g.resv.push_back({ 0x100000, 0x1fffff, true });	/* relaxable */
	g.resv.push_back({ 0x300000, 0x2fffff });	/* length 0 */
	g.resv.push_back({ 0x400000, 0x4fffff });
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(map(0x2ff000, 2 * PG, VA + 4 * PG), 0);
	EXPECT_EQ(map(0x400000, PG, VA + 6 * PG), -EINVAL_);
	EXPECT_EQ(map(0x4ff000, PG, VA + 6 * PG), -EINVAL_);
	EXPECT_EQ(map(0x500000, PG, VA + 6 * PG), 0);
	EXPECT_EQ(khost::pinned_pages(), 7u);
	detach(g);
}

/* #29: closing the container returns every pin, locked_vm and mm reference. */
TEST_F(Dma, N29_ReleaseReturnsEverything)
{
	auto g = group(1), e = group(2);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	for (unsigned long i = 0; i < 5; i++)
		ASSERT_EQ(map(0x100000 * (i + 1), 2 * PG, VA + 0x100000 * i), 0);
	EXPECT_EQ(khost::pinned_pages(), 10u);
	EXPECT_EQ(khost::mm_count(mm_), 6);
	detach(e);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
}

TEST_F(Dma, N29_ReleaseWithGroupsAndMappingsReturnsEverything)
{
	auto g = group(1), e = group(2);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(map(0x100000, 3 * PG, VA), 0);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_locked_vm(mm_), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
	EXPECT_EQ(g.attached_to, nullptr);
}

/* GET_INFO: page sizes and the IOVA range capability after the aperture and reserved regions. */
TEST_F(Dma, GetInfoReportsIovaRanges)
{
	auto g = group(1);
	g.resv.push_back({ 0xfee00000, 0xfeefffff }); /* MSI window */
	ASSERT_EQ(attach(g), 0);
	alignas(8) unsigned char buf[256] = {};
	auto *info = reinterpret_cast<uabi::IommuInfo *>(buf);
	info->argsz = sizeof(uabi::IommuInfo);
	ASSERT_EQ(vfio_cxx_ioctl(c_, GET_INFO, reinterpret_cast<unsigned long>(buf)), 0);
	EXPECT_GT(info->argsz, sizeof(uabi::IommuInfo)) << "argsz grows to fit the capabilities";
	EXPECT_EQ(info->iova_pgsizes, g.pgsize_bitmap);
	info->argsz = sizeof(buf);
	ASSERT_EQ(vfio_cxx_ioctl(c_, GET_INFO, reinterpret_cast<unsigned long>(buf)), 0);
	ASSERT_TRUE(info->flags & uabi::INFO_CAPS);
	bool found = false;
	for (unsigned int off = info->cap_offset; off; ) {
		ASSERT_LT(off, sizeof(buf));
		auto *h = reinterpret_cast<uabi::CapHeader *>(buf + off);
		if (h->id == uabi::CAP_IOVA_RANGE) {
			auto *cap = reinterpret_cast<uabi::CapIovaRange *>(h);
			auto *r = reinterpret_cast<uabi::IovaRange *>(cap + 1);
			ASSERT_EQ(cap->nr_iovas, 2u);
			EXPECT_EQ(r[0].start, 0u);
			EXPECT_EQ(r[0].end, 0xfedfffffu);
			EXPECT_EQ(r[1].start, 0xfef00000u);
			EXPECT_EQ(r[1].end, (1ULL << 48) - 1);
			found = true;
		}
		off = h->next;
	}
	EXPECT_TRUE(found);
	EXPECT_EQ(map(0xfee00000, PG, VA), -EINVAL_) << "reserved IOVA";
	detach(g);
}

/* Allocation-failure sweep over attach + map + second-domain attach + unmap (R3, #7, #19). */
TEST_F(Dma, R3_N19_AllocSweepMapAndReplay)
{
	vfio_cxx_release(c_);
	c_ = nullptr;
	long n = 1;
	for (; n < 2000; n++) {
		auto g = group(1), h = group(2, 1);
		vfio_cxx_container *c = nullptr;
		khost::fail_nth_alloc(n);
		int ret = vfio_cxx_open(CXX_IOMMU, &c);
		bool g_in = false, h_in = false;
		if (ret == 0) {
			ret = vfio_cxx_attach_group(c, g.group(), VFIO_CXX_GROUP_IOMMU);
			g_in = ret == 0;
			EXPECT_TRUE(ret == 0 || ret == -ENOMEM_) << "N=" << n << " ret " << ret;
			uabi::DmaMap m{ sizeof(m), RW, VA, 0x100000, 600 * PG };
			ret = static_cast<int>(vfio_cxx_ioctl(c, MAP_DMA, reinterpret_cast<unsigned long>(&m)));
			EXPECT_TRUE(ret == 0 || ret == -ENOMEM_) << "N=" << n << " ret " << ret;
			if (ret) {
				EXPECT_EQ(khost::pinned_pages(), 0u) << "N=" << n;
			}
			ret = vfio_cxx_attach_group(c, h.group(), VFIO_CXX_GROUP_IOMMU);
			h_in = ret == 0;
			EXPECT_TRUE(ret == 0 || ret == -ENOMEM_) << "N=" << n << " ret " << ret;
			if (h_in && g_in) {
				EXPECT_EQ(khost::mapped_bytes(h), khost::mapped_bytes(g)) << "N=" << n;
			}
			uabi::DmaUnmap u{ sizeof(u), uabi::DMA_UNMAP_FLAG_ALL, 0, 0 };
			ret = static_cast<int>(vfio_cxx_ioctl(c, UNMAP_DMA, reinterpret_cast<unsigned long>(&u)));
			EXPECT_EQ(ret, 0) << "N=" << n << ": unmap never fails (#9)";
		} else {
			EXPECT_EQ(ret, -ENOMEM_) << "N=" << n;
		}
		const bool hit = khost::injected_failure_hit();
		khost::fail_nth_alloc(0);
		if (c) {
			if (h_in)
				vfio_cxx_detach_group(c, h.group());
			if (g_in)
				vfio_cxx_detach_group(c, g.group());
			vfio_cxx_release(c);
		}
		EXPECT_EQ(khost::pinned_pages(), 0u) << "N=" << n;
		EXPECT_EQ(khost::mm_locked_vm(mm_), 0u) << "N=" << n;
		EXPECT_EQ(khost::mm_count(mm_), 1) << "N=" << n;
		EXPECT_EQ(khost::live_allocations(), 0) << "N=" << n;
		EXPECT_EQ(khost::domains_live(), 0) << "N=" << n;
		EXPECT_EQ(vfio_cxx_busy(), 0) << "N=" << n;
		if (!hit || HasFailure())
			break;
	}
	EXPECT_LT(n, 2000);
	RecordProperty("runs", static_cast<int>(n));
}

} /* namespace */

/*
 * RunList storage: one run per discontiguity, merged when contiguous; a
 * small first chunk (most mappings are one or a few runs), page-sized
 * chunks after it.
 */
TEST(RunListStorage, SmallFirstChunkThenPages)
{
	vfio_cxx::RunList r;
	EXPECT_EQ(r.bytes(), 0u);
	ASSERT_TRUE(r.append(100, 1));
	ASSERT_TRUE(r.append(101, 7)); /* contiguous: merged */
	EXPECT_EQ(r.runs(), 1u);
	EXPECT_EQ(r.bytes(), 80u);
	for (unsigned long i = 0; i < 3; i++)
		ASSERT_TRUE(r.append(1000 + 10 * i, 1));
	EXPECT_EQ(r.runs(), 4u);
	EXPECT_EQ(r.bytes(), 80u);
	ASSERT_TRUE(r.append(5000, 1)); /* the fifth run opens a page */
	EXPECT_EQ(r.bytes(), 80u + 4096u);
	for (unsigned long i = 0; i < 255; i++)
		ASSERT_TRUE(r.append(10000 + 10 * i, 2));
	EXPECT_EQ(r.runs(), 260u);
	EXPECT_EQ(r.bytes(), 80u + 2 * 4096u);
	/* Runs come back in order, with their IOVA offsets. */
	unsigned long long expect_off = 0, n = 0;
	r.for_each([&](unsigned long long off, const vfio_cxx::PinRun &run) {
		EXPECT_EQ(off, expect_off);
		expect_off += run.npages;
		n++;
	});
	EXPECT_EQ(n, 260u);
	EXPECT_EQ(expect_off, 8u + 3 + 1 + 255 * 2);
	r.free();
	EXPECT_EQ(r.bytes(), 0u);
}

namespace {

/*
 * Issue 11 item 5: PFNMAP (MMIO) pages are never charged, not even for a
 * moment, so a BAR mapping larger than RLIMIT_MEMLOCK maps without
 * CAP_IPC_LOCK (as type1, which never counts reserved PFNs); RAM beside it
 * is still held to the limit.
 */
TEST_F(Dma, Issue11_Item5_MmioLargerThanMemlockMaps)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::set_capable_ipc_lock(false);
	khost::set_rlimit_memlock_pages(2);
	khost::add_pfnmap_range(VA, VA + 64 * PG - 1);
	ASSERT_EQ(map(0x100000, 64 * PG, VA), 0);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mapped_bytes(g), 64 * PG);
	/* RAM and MMIO in one request: only the RAM counts against the limit. */
	ASSERT_EQ(map(0x200000, 66 * PG, VA + 0x100000 - 2 * PG), -ENOMEM_);
	khost::add_pfnmap_range(VA + 0x100000, VA + 0x100000 + 64 * PG - 1);
	ASSERT_EQ(map(0x200000, 66 * PG, VA + 0x100000 - 2 * PG), 0);
	EXPECT_EQ(locked(), 2u);
	EXPECT_EQ(map(0x400000, PG, VA + 0x200000), -ENOMEM_); /* the limit still holds */
	EXPECT_EQ(locked(), 2u);
	ASSERT_EQ(unmap(0x200000, 66 * PG), 0);
	EXPECT_EQ(locked(), 0u);
	detach(g);
}

/* Issue 11 item 6: apertures that do not intersect leave no IOVA: -EINVAL (as type1). */
TEST_F(Dma, Issue11_Item6_DisjointAperturesAreEinval)
{
	auto g = group(1), h = group(2, 1);
	g.aperture_end = (1ULL << 30) - 1;
	h.aperture_start = 1ULL << 31;
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(attach(h), -EINVAL_);
	EXPECT_EQ(h.attached_to, nullptr);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(khost::domains_live(), 1);
	/* Reserved regions that cover the whole aperture: the same. */
	auto k = group(3, 1);
	k.aperture_end = (1ULL << 30) - 1;
	k.resv.push_back({ 0, (1ULL << 30) - 1 });
	EXPECT_EQ(attach(k), -EINVAL_);
	detach(g);
}

/* Issue 11 item 8: disable_hugepages maps page by page, as type1's parameter does. */
TEST_F(Dma, Issue11_Item8_DisableHugepagesMapsPageByPage)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	const long before = khost::map_segs_calls();
	ASSERT_EQ(map(0x100000, 32 * PG, VA), 0);
	const long coalesced = khost::map_segs_calls() - before;
	ASSERT_EQ(unmap(0x100000, 32 * PG), 0);
	khost::set_disable_hugepages(true);
	const long before2 = khost::map_segs_calls();
	ASSERT_EQ(map(0x100000, 32 * PG, VA), 0);
	const long split = khost::map_segs_calls() - before2;
	EXPECT_EQ(khost::mapped_bytes(g), 32 * PG);
	for (unsigned long i = 0; i < 32; i++)
		EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + i * PG) >> 12, khost::pfn_of(VA + i * PG));
	/* 32 one-page segments: at least two batches of KAPI_MAP_SEGS_MAX. */
	EXPECT_GT(split, coalesced);
	ASSERT_EQ(unmap(0x100000, 32 * PG), 0);
	detach(g);
}

/*
 * Issue 11 item 9: dirty bitmaps record the page size they were made for.
 * Tracking starts with an 8 KiB minimum page; that group leaves (the
 * mappings stay for an emulated group) and the minimum drops to 4 KiB.  The
 * bitmap has half the bits a 4 KiB report needs: it is remade, all dirty,
 * instead of being overrun (ASan catches the old overrun).
 */
TEST_F(Dma, Issue11_Item9_DirtyBitmapKeepsItsPageSize)
{
	auto g = group(1), e = group(2);
	g.pgsize_bitmap = 0x2000; /* 8 KiB only */
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(map(0x100000, 256 * PG, VA), 0);
	uabi::DirtyBitmap start{ sizeof(start), uabi::DIRTY_PAGES_FLAG_START };
	ASSERT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES, reinterpret_cast<unsigned long>(&start)),
		  0);
	detach(g);
	struct {
		uabi::DirtyBitmap head;
		uabi::DirtyBitmapGet get;
	} req{};
	unsigned long long bits[5] = {};
	req.head = { sizeof(req), uabi::DIRTY_PAGES_FLAG_GET_BITMAP };
	req.get.iova = 0x100000;
	req.get.size = 256 * PG;
	req.get.bitmap = { PG, 4 * sizeof(bits[0]), reinterpret_cast<unsigned long long>(bits) };
	ASSERT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES, reinterpret_cast<unsigned long>(&req)),
		  0);
	for (int w = 0; w < 4; w++)
		EXPECT_EQ(bits[w], ~0ULL) << w;
	EXPECT_EQ(bits[4], 0ULL);
	detach(e);
}

} /* namespace */

namespace {

/*
 * Issue 11 item 6: VFIO_TYPE1_NESTING_IOMMU as type1 has it: the extension
 * is answered, the container is a v2 one, and an IOMMU group attaches only
 * if its IOMMU driver enables nesting (x86's do not: -EINVAL).
 */
class Nesting : public ContainerTest {
protected:
	Nesting() : ContainerTest(6) {}
};

TEST_F(Nesting, Issue11_Item6_NestingAsType1)
{
	EXPECT_EQ(vfio_cxx_ioctl(c_, CHECK_EXTENSION, 6), 1);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, 6), 1); /* claim_type1 on */
	auto g = group(1), n = group(2, 1), e = group(3);
	EXPECT_EQ(attach(g), -EINVAL_);
	EXPECT_EQ(khost::domains_live(), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	n.nesting = true;
	ASSERT_EQ(attach(n), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	EXPECT_EQ(khost::mapped_bytes(n), 4 * PG);
	detach(n);
	detach(e);
}

/*
 * Issue 12 item 1 (and issue 11 item 6 on newer kernels): where the kernel
 * has no iommu_enable_nesting (upstream removed it and type1's nesting in
 * 6.13), type 6 is not advertised and opens a plain v2 container, whose IOMMU
 * groups attach as on type 6's v2 twin.
 */
TEST_F(Nesting, Issue12_Item1_NestingGoneWithTheKernels)
{
	khost::set_kernel_nesting(false);
	EXPECT_EQ(vfio_cxx_ioctl(nullptr, CHECK_EXTENSION, 6), 0);
	vfio_cxx_container *plain = open_ok(6);
	ASSERT_NE(plain, nullptr);
	EXPECT_EQ(vfio_cxx_ioctl(plain, CHECK_EXTENSION, 6), 0);
	EXPECT_EQ(vfio_cxx_ioctl(plain, CHECK_EXTENSION, TYPE1v2), 1);
	auto g = group(1);
	EXPECT_EQ(vfio_cxx_attach_group(plain, g.group(), VFIO_CXX_GROUP_IOMMU), 0);
	EXPECT_EQ(khost::domains_live(), 1);
	vfio_cxx_detach_group(plain, g.group());
	vfio_cxx_release(plain);
}

/*
 * Issue 11 item 6 (type1's pinned_page_dirty_scope): while an IOMMU group
 * that never pinned is attached, every mapped page is reported dirty; once
 * the only such group leaves, the report covers what it may have written
 * (in full, once), and then only pinned pages.
 */
class DirtyScope : public ContainerTest {
protected:
	DirtyScope() : ContainerTest(TYPE1v2) {}
	unsigned long long bitmap(unsigned long iova, unsigned long pages)
	{
		struct {
			uabi::DirtyBitmap head;
			uabi::DirtyBitmapGet get;
		} req{};
		unsigned long long bits = 0;
		req.head = { sizeof(req), uabi::DIRTY_PAGES_FLAG_GET_BITMAP };
		req.get.iova = iova;
		req.get.size = pages * PG;
		req.get.bitmap = { PG, sizeof(bits), reinterpret_cast<unsigned long long>(&bits) };
		EXPECT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES,
					 reinterpret_cast<unsigned long>(&req)),
			  0);
		return bits;
	}
};

TEST_F(DirtyScope, Issue11_Item6_PinnedPageDirtyScope)
{
	auto g = group(1), h = group(2, 1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(attach(h), 0);
	khost::FakeDevice dev;
	dev.on_unmap = [](kapi_u64, kapi_u64) {};
	vfio_cxx_register_device(c_, dev.dev());
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	uabi::DirtyBitmap start{ sizeof(start), uabi::DIRTY_PAGES_FLAG_START };
	ASSERT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES, reinterpret_cast<unsigned long>(&start)),
		  0);
	EXPECT_EQ(bitmap(0x100000, 8), 0xffULL); /* g and h may write anywhere */
	/* A device of g pins page 2 (a registered device may pin, as type1): g is promoted. */
	kapi_u64 pfn = 0;
	ASSERT_EQ(vfio_cxx_pin_pages(c_, g.group(), 0x100000 + 2 * PG, 1, KAPI_IOMMU_READ, &pfn), 1);
	EXPECT_EQ(bitmap(0x100000, 8), 0xffULL); /* h still may */
	detach(h); /* the last non-pinned group: reported in full once */
	EXPECT_EQ(bitmap(0x100000, 8), 0xffULL);
	EXPECT_EQ(bitmap(0x100000, 8), 1ULL << 2); /* then the pinned page only */
	vfio_cxx_unpin_pages(c_, 0x100000 + 2 * PG, 1);
	vfio_cxx_unregister_device(c_, dev.dev());
	detach(g);
}

} /* namespace */

namespace {

/*
 * Issue 11 item 9: the VFIO core does not serialise release against an
 * ioctl.  A call in flight holds a reference: release (close + put) tears
 * everything down at once (B29), the in-flight call then finds the
 * container closed and adds nothing (ENODEV), and the memory goes with the
 * last reference.
 */
TEST_F(Dma, Issue11_Item9_ReleaseRacingAnIoctl)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	detach(g);
	core().get(); /* the ioctl in flight */
	vfio_cxx_release(c_);
	EXPECT_TRUE(core().closed());
	EXPECT_EQ(stats().containers_live, 1u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	vfio_cxx::abi::DmaMap m{ sizeof(m), RW, VA, 0x200000, 4 * PG };
	EXPECT_EQ(core().ioctl(MAP_DMA, reinterpret_cast<unsigned long>(&m)), -ENODEV_);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	core().put();
	c_ = nullptr;
	EXPECT_EQ(stats().containers_live, 0u);
}

} /* namespace */
