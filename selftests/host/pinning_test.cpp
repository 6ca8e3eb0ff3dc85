// SPDX-License-Identifier: GPL-2.0
/*
 * The pinning policy (module/core/pinning.cpp) and the owners of pins and
 * charges (PinBatch, PinnedRuns, LockedVmCharge, uncharge()), against the
 * host kapi's three pinning primitives and its mmap-lock model.
 */
#include "test_common.h"

#include <cstring>

#include "core/accounting.h"
#include "core/pinning.h"

using namespace vt;
using namespace vfio_cxx;

namespace {

constexpr unsigned long PG = 4096;
constexpr unsigned long VA = 0x7f0000000000UL;
constexpr int EFAULT_ = 14, ESRCH_ = 3;

class Pinning : public ContainerTest {};

/* The owner's own MAP_DMA pins with GUP-fast and never takes the remote walk. */
TEST_F(Pinning, OwnersMapUsesGupFastOnly)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 600 * PG, VA), 0);
	const auto calls = khost::pin_calls();
	EXPECT_EQ(calls.fast, 2); /* 512 + 88: batches of KAPI_PIN_BATCH */
	EXPECT_EQ(calls.remote, 0);
	EXPECT_EQ(calls.pfnmap, 0);
	EXPECT_EQ(khost::pinned_pages(), 600u);
	ASSERT_EQ(unmap(0x100000, 600 * PG), 0);
	detach(g);
}

/*
 * Pages GUP-fast cannot take (not faulted in yet) go the remote way, from
 * the first such page on; the mapping is complete and in one run.
 */
TEST_F(Pinning, FastStopsShortAndTheRestGoesRemote)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	khost::set_unfaulted(VA + 4 * PG, 2);
	ASSERT_EQ(map(0x100000, 10 * PG, VA), 0);
	const auto calls = khost::pin_calls();
	EXPECT_EQ(calls.fast, 2);   /* pages 0-3, then none at page 4 */
	EXPECT_EQ(calls.remote, 1); /* pages 4-9, faulting 4 and 5 in */
	EXPECT_EQ(khost::pinned_pages(), 10u);
	EXPECT_EQ(locked(), 10u);
	for (unsigned long i = 0; i < 10; i++)
		EXPECT_EQ(khost::iova_to_phys(g, 0x100000 + i * PG), khost::pfn_of(VA + i * PG) << 12) << i;
	ASSERT_EQ(unmap(0x100000, 10 * PG), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	detach(g);
}

/* Another mm's pages (a vendor driver's worker, an adopted mapping) never go through GUP-fast. */
TEST_F(Pinning, AnotherMmGoesRemote)
{
	khost::FakeMm *other = khost::mm_new();
	u64 pfns[8];
	const long got = pin_batch(reinterpret_cast<kapi_mm *>(other), VA, 8, true, pfns);
	ASSERT_EQ(got, 8);
	EXPECT_EQ(khost::pin_calls().fast, 0);
	EXPECT_EQ(khost::pin_calls().remote, 1);
	{
		PinBatch batch(pfns, 8); /* nothing consumed: all unpinned */
	}
	EXPECT_EQ(khost::pinned_pages(), 0u);
	khost::mm_put(other);
}

/* MMIO (VM_PFNMAP): GUP refuses it, the PFNMAP lookup maps the frame unpinned. */
TEST_F(Pinning, PfnmapFallbackAfterGupRefuses)
{
	khost::add_pfnmap_range(VA + 2 * PG, VA + 3 * PG - 1);
	u64 pfns[4];
	kapi_mm *mm = reinterpret_cast<kapi_mm *>(mm_);
	EXPECT_EQ(pin_batch(mm, VA, 4, true, pfns), 2); /* stops at the BAR */
	{
		PinBatch b(pfns, 2);
	}
	ASSERT_EQ(pin_batch(mm, VA + 2 * PG, 2, true, pfns), 1);
	EXPECT_EQ(pfns[0], khost::pfn_of(VA + 2 * PG) | KAPI_PFN_RESERVED);
	EXPECT_EQ(khost::pin_calls().pfnmap, 1);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* Neither pinnable nor MMIO: GUP's own errno, not the PFNMAP lookup's. */
TEST_F(Pinning, GupErrnoWhenNotMmio)
{
	khost::set_pin_fail_at(VA, -EFAULT_);
	u64 pfns[2];
	EXPECT_EQ(pin_batch(reinterpret_cast<kapi_mm *>(mm_), VA, 2, false, pfns), -EFAULT_);
	EXPECT_EQ(khost::pin_calls().pfnmap, 1);
	khost::set_pin_fail_at(VA, -ENOMEM_);
	EXPECT_EQ(pin_batch(reinterpret_cast<kapi_mm *>(mm_), VA, 2, false, pfns), -ENOMEM_);
}

/* An exited mm: -ESRCH at once, no PFNMAP lookup. */
TEST_F(Pinning, ExitedMmIsEsrch)
{
	khost::FakeMm *other = khost::mm_new();
	khost::mm_exit(other);
	u64 pfns[2];
	EXPECT_EQ(pin_batch(reinterpret_cast<kapi_mm *>(other), VA, 2, false, pfns), -ESRCH_);
	EXPECT_EQ(khost::pin_calls().pfnmap, 0);
	khost::mm_put(other);
}

/* PinBatch unpins exactly what was not consumed. */
TEST_F(Pinning, PinBatchUnpinsTheRest)
{
	u64 pfns[8];
	ASSERT_EQ(pin_batch(reinterpret_cast<kapi_mm *>(mm_), VA, 8, true, pfns), 8);
	{
		PinBatch b(pfns, 8);
		b.consume(3);
	}
	EXPECT_EQ(khost::pinned_pages(), 3u);
	for (int i = 0; i < 3; i++)
		kapi_unpin_pages(pfns[i], 1, 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* PinnedRuns: unpinned at the end of the scope unless kept; its charge likewise. */
TEST_F(Pinning, PinnedRunsAndChargeGiveThemselvesBack)
{
	kapi_mm *mm = reinterpret_cast<kapi_mm *>(mm_);
	RunList runs;
	{
		LockedVmCharge charge(mm, false, 1000);
		PinnedRuns pinned(runs);
		ASSERT_EQ(pinned.pin(mm, VA, 20, true, &charge), 0);
		EXPECT_EQ(khost::pinned_pages(), 20u);
		EXPECT_EQ(locked(), 20u);
	}
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_TRUE(runs.empty());
	{
		LockedVmCharge charge(mm, false, 1000);
		PinnedRuns pinned(runs);
		ASSERT_EQ(pinned.pin(mm, VA, 20, true, &charge), 0);
		pinned.keep();
		EXPECT_EQ(charge.commit(15), 15u); /* five pages given back */
	}
	EXPECT_EQ(khost::pinned_pages(), 20u);
	EXPECT_EQ(locked(), 15u);
	unpin_runs(runs, false);
	uncharge(mm, 15);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
}

/* Over the limit in the second batch: what the first pinned and charged is given back. */
TEST_F(Pinning, RefusedChargeStopsWithinABatch)
{
	kapi_mm *mm = reinterpret_cast<kapi_mm *>(mm_);
	RunList runs;
	{
		LockedVmCharge charge(mm, false, 600);
		PinnedRuns pinned(runs);
		EXPECT_EQ(pinned.pin(mm, VA, 1024, true, &charge), -ENOMEM_);
		EXPECT_EQ(charge.denied(), 512u);
		EXPECT_EQ(locked(), 512u);
	}
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
}

/*
 * Issue 11 item 7: an UNMAP gives locked_vm back at once; only a caller
 * killed while waiting for the mmap lock leaves it to the work item, which
 * gives back exactly as much.
 */
TEST_F(Pinning, InterruptedUnchargeIsDeferredNotLost)
{
	auto g = group(1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, 8 * PG, VA + 8 * PG), 0);
	ASSERT_EQ(locked(), 16u);
	ASSERT_EQ(unmap(0x100000, 8 * PG), 0);
	EXPECT_EQ(locked(), 8u); /* at once */
	EXPECT_EQ(khost::deferred_uncharge_count(), 0u);
	khost::set_uncharge_interrupted(1);
	ASSERT_EQ(unmap(0x200000, 8 * PG), 0);
	EXPECT_EQ(khost::deferred_uncharge_count(), 1u);
	EXPECT_EQ(locked(), 8u); /* not yet */
	kapi_mm_flush_deferred();
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	detach(g);
}

} /* namespace */

/*
 * mm_rw (a vendor driver's dma_rw): a plain user copy from the owner's own
 * context, the remote walk from any other; the same bytes and errors.
 */
TEST_F(Pinning, MmRwCopiesFromOwnerWalksFromElsewhere)
{
	unsigned char user[64] = {}, in[16], out[16] = {};
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = static_cast<unsigned char>(0xa0 + i);
	const unsigned long va = reinterpret_cast<unsigned long>(user);
	kapi_mm *owner = reinterpret_cast<kapi_mm *>(mm_);

	ASSERT_EQ(mm_rw(owner, va + 8, in, sizeof(in), true), 0);
	ASSERT_EQ(mm_rw(owner, va + 8, out, sizeof(out), false), 0);
	EXPECT_EQ(memcmp(user + 8, in, sizeof(in)), 0);
	EXPECT_EQ(memcmp(out, in, sizeof(in)), 0);
	EXPECT_EQ(khost::pin_calls().rw_remote, 0);

	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(mm_rw(owner, va + 8, out, sizeof(out), false), 0);
	EXPECT_EQ(memcmp(out, in, sizeof(in)), 0);
	EXPECT_EQ(khost::pin_calls().rw_remote, 1);
	khost::add_fault_range(va + 32, va + 63);
	EXPECT_EQ(mm_rw(owner, va + 30, out, 4, true), -vt::EFAULT_);
	EXPECT_EQ(khost::pin_calls().rw_remote, 2);
	khost::set_current_mm(mm_);
	EXPECT_EQ(mm_rw(owner, va + 30, out, 4, true), -vt::EFAULT_);
	EXPECT_EQ(khost::pin_calls().rw_remote, 2);
	khost::mm_put(other);
}
