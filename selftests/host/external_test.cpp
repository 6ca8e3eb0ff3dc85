// SPDX-License-Identifier: GPL-2.0
/*
 * mdev ("external") pinning: pin_pages / unpin_pages / dma_rw, unmap
 * notification and locked_vm accounting in every hot-plug order, against
 * the fake IOMMU, mm and devices of kapi_host.cpp.  Test names carry the
 * behaviour numbers of Documentation/requirements.rst.
 */
#include "test_common.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/container.h"
#include <vfio_cxx/abi.h>

using namespace vt;
namespace uabi = vfio_cxx::abi;

namespace {

constexpr int R = KAPI_IOMMU_READ, W = KAPI_IOMMU_WRITE;

/*
 * A vendor driver: remembers what it pinned (iova -> count) and, told about
 * an unmap, unpins everything it holds in the range, re-entering the core
 * as a real mdev driver does.
 */
struct Vendor {
	khost::FakeDevice dev;
	vfio_cxx_container *c = nullptr;
	std::map<unsigned long long, int> held;
	bool ignore_unmap = false;

	explicit Vendor(bool can_unmap = true)
	{
		if (can_unmap)
			dev.on_unmap = [this](kapi_u64 iova, kapi_u64 len) {
				if (ignore_unmap)
					return;
				for (auto it = held.begin(); it != held.end();) {
					if (it->first >= iova && it->first < iova + len) {
						for (int i = 0; i < it->second; i++)
							vfio_cxx_unpin_pages(c, it->first, 1);
						it = held.erase(it);
					} else {
						++it;
					}
				}
			};
	}
	int pin(unsigned long long iova, int n, int prot, std::vector<kapi_u64> *out = nullptr)
	{
		std::vector<kapi_u64> pfns(n, 0xdead);
		int r = vfio_cxx_pin_pages(c, nullptr, iova, n, prot, pfns.data());
		if (r > 0)
			for (int i = 0; i < n; i++)
				held[iova + i * PG]++;
		if (out)
			*out = pfns;
		return r;
	}
	void unpin(unsigned long long iova, int n)
	{
		vfio_cxx_unpin_pages(c, iova, n);
		for (int i = 0; i < n; i++) {
			auto it = held.find(iova + i * PG);
			if (it != held.end() && --it->second == 0)
				held.erase(it);
		}
	}
	/* What a closing device does: drop every pin. */
	void unpin_all()
	{
		for (auto &[iova, n] : held)
			for (int i = 0; i < n; i++)
				vfio_cxx_unpin_pages(c, iova, 1);
		held.clear();
	}
};

class External : public ContainerTest {
protected:
	External() : ContainerTest(TYPE1v2) {} /* mdev pinning is Type1v2's API */

	/* An emulated group with one open device registered, as the VFIO core does. */
	void open_mdev(khost::FakeGroup &g, Vendor &v)
	{
		v.c = c_;
		ASSERT_EQ(attach(g, VFIO_CXX_GROUP_EMULATED), 0);
		vfio_cxx_register_device(c_, v.dev.dev());
	}
	/* No mapping, no pinned page, no charge left. */
	void expect_nothing_left()
	{
		EXPECT_EQ(core().dma_count(), 0u);
		EXPECT_EQ(khost::pinned_pages(), 0u);
		EXPECT_EQ(locked(), 0u);
	}
	/* Device close (the driver unpins), then group detach. */
	void close_mdev(khost::FakeGroup &g, Vendor &v)
	{
		v.unpin_all();
		vfio_cxx_unregister_device(c_, v.dev.dev());
		detach(g);
	}
};

/* #13: pin_pages needs an external group; #14: and a device with dma_unmap. */
TEST_F(External, N13_N14_PinNeedsExternalGroupAndNotifier)
{
	auto g = group(1);
	Vendor v;
	v.c = c_;
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	kapi_u64 pfn = 0;
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 1, R, &pfn), -EINVAL_);

	auto e = group(2);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	/* No device registered yet. */
	EXPECT_EQ(v.pin(0x100000, 1, R), -EINVAL_);
	/* A driver without dma_unmap is never registered (#14). */
	Vendor mute(false);
	mute.c = c_;
	vfio_cxx_register_device(c_, mute.dev.dev());
	EXPECT_EQ(stats().devices_registered, 0u);
	EXPECT_EQ(mute.pin(0x100000, 1, R), -EINVAL_);
	vfio_cxx_unregister_device(c_, mute.dev.dev());

	vfio_cxx_register_device(c_, v.dev.dev());
	EXPECT_EQ(stats().devices_registered, 1u);
	EXPECT_EQ(v.pin(0x100000, 1, R), 1);
	close_mdev(e, v);
	detach(g);
	EXPECT_EQ(locked(), 0u);
}

/* R1/seed 001: pinning is for v2 containers only, as type1 (-EACCES). */
TEST_F(External, V1ContainerRefusesPins)
{
	vfio_cxx_release(c_);
	c_ = open_ok(TYPE1);
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, PG, VA), 0);
	EXPECT_EQ(v.pin(0x100000, 1, R), -EACCES_);
	close_mdev(e, v);
}

/* #3, #16, #21: mdev-only: MAP pins nothing; a pin charges each new page once, in the owner mm. */
TEST_F(External, N3_N16_N21_PinInOwnerMmChargedOnce)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);

	/* The caller is another process: pages and charge still come from the owner (#16). */
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	std::vector<kapi_u64> pfns;
	ASSERT_EQ(v.pin(0x100000 + 2 * PG, 3, R | W, &pfns), 3);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(pfns[i], khost::pfn_of(VA + (2 + i) * PG));
	EXPECT_EQ(locked(), 3u);
	EXPECT_EQ(khost::mm_locked_vm(other), 0u);
	EXPECT_EQ(khost::pinned_pages(), 3u);
	EXPECT_EQ(stats().external_pages, 3u);

	/* Overlapping pin: only the two new pages are charged. */
	ASSERT_EQ(v.pin(0x100000 + 3 * PG, 4, R), 4);
	EXPECT_EQ(locked(), 5u);
	EXPECT_EQ(khost::pinned_pages(), 5u);
	EXPECT_EQ(core().external_pages(), 5u);
	EXPECT_EQ(core().external_refs(), 7u);

	khost::set_current_mm(mm_);
	khost::mm_put(other);
	close_mdev(e, v);
	/* #29: back to baseline. */
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(stats().external_pages, 0u);
}

/* #17: pinned twice, a page stays pinned until unpinned twice; #18: unpinning nothing is ignored. */
TEST_F(External, N17_N18_PinTwiceUnpinTwice)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);
	EXPECT_EQ(khost::pinned_pages(), 1u);
	EXPECT_EQ(locked(), 1u);
	v.unpin(0x100000, 1);
	EXPECT_EQ(khost::pinned_pages(), 1u);
	EXPECT_EQ(locked(), 1u);
	v.unpin(0x100000, 1);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	/* #18: never pinned, outside every mapping, misaligned: all ignored. */
	vfio_cxx_unpin_pages(c_, 0x100000 + PG, 2);
	vfio_cxx_unpin_pages(c_, 0x900000, 1);
	vfio_cxx_unpin_pages(c_, 0x100001, 1);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	close_mdev(e, v);
}

/* #15: an IOVA outside every mapping fails the call, and the call's earlier pins are undone. */
TEST_F(External, N15_PinOutsideMappingsUndoesTheCall)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	ASSERT_EQ(map(0x102000, 2 * PG, VA + 0x10000), 0); /* adjacent, another Dma */
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);		      /* held before the failing call */
	std::vector<kapi_u64> pfns;
	/* 4 mapped pages across two Dmas, then a hole. */
	EXPECT_EQ(v.pin(0x100000, 5, R, &pfns), -EINVAL_);
	for (kapi_u64 p : pfns)
		EXPECT_EQ(p, 0u);
	EXPECT_EQ(khost::pinned_pages(), 1u);
	EXPECT_EQ(locked(), 1u);
	EXPECT_EQ(core().external_refs(), 1u);
	/* Misaligned and wrapping requests, and a bad prot. */
	EXPECT_EQ(v.pin(0x100001, 1, R), -EINVAL_);
	EXPECT_EQ(v.pin(~0ULL & ~(PG - 1), 2, R), -EINVAL_);
	EXPECT_EQ(v.pin(0x100000, 1, 4), -EINVAL_);
	close_mdev(e, v);
	EXPECT_EQ(locked(), 0u);
}

/* A pin for writing on a read-only mapping is refused (as type1: -EPERM). */
TEST_F(External, WritePinOnReadOnlyMappingIsEperm)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 2 * PG, VA, uabi::DMA_MAP_FLAG_READ), 0);
	EXPECT_EQ(v.pin(0x100000, 1, R | W), -EPERM_);
	EXPECT_EQ(v.pin(0x100000, 1, R), 1);
	close_mdev(e, v);
}

/* #23: a vendor pin past RLIMIT_MEMLOCK is -ENOMEM and pins nothing; #5: CAP_IPC_LOCK lifts it. */
TEST_F(External, N23_VendorPinOverRlimit)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	khost::set_capable_ipc_lock(false);
	khost::set_rlimit_memlock_pages(2);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0); /* the limit is taken from the mapper */
	khost::set_rlimit_memlock_pages(1000);	 /* not the caller's */
	ASSERT_EQ(v.pin(0x100000, 2, R), 2);
	khost::clear_events();
	EXPECT_EQ(v.pin(0x100000 + 2 * PG, 1, R), -ENOMEM_);
	EXPECT_EQ(khost::pinned_pages(), 2u);
	EXPECT_EQ(locked(), 2u);
	/* The refusal is the container's MEMLOCK_DENIED event, with the mapper's limit. */
	expect_memlock_denied(1, 2);
	/* Re-pinning a charged page needs no charge (R13: no limit check). */
	EXPECT_EQ(v.pin(0x100000, 1, R), 1);
	close_mdev(e, v);
	EXPECT_EQ(locked(), 0u);
}

/* #19: an allocation failure anywhere in a pin fails it with -ENOMEM and leaks nothing. */
TEST_F(External, N19_AllocationFailureSweep)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 16 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2); /* the record map exists; failures hit records */
	int failures = 0;
	for (long n = 1; n < 64; n++) {
		bool hit;
		int r = nth_alloc_failing(n, [&] { return v.pin(0x100000, 16, R); }, &hit);
		if (!hit) {
			ASSERT_EQ(r, 16);
			break;
		}
		failures++;
		ASSERT_EQ(r, -ENOMEM_);
		EXPECT_EQ(khost::pinned_pages(), 2u) << "n=" << n;
		EXPECT_EQ(locked(), 2u) << "n=" << n;
		EXPECT_EQ(core().external_refs(), 2u) << "n=" << n;
	}
	EXPECT_GT(failures, 0);
	EXPECT_EQ(khost::pinned_pages(), 16u);
	EXPECT_EQ(locked(), 16u);
	close_mdev(e, v);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* #2, #22: with an IOMMU domain a vendor pin borrows the mapping's pin: pinned and charged once. */
TEST_F(External, N2_N22_WithDomainPinnedAndChargedOnce)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	ASSERT_EQ(attach(g), 0);
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(locked(), 8u);
	const long charges = khost::mm_charge_calls(mm_), uncharges = khost::mm_uncharge_calls(mm_);
	std::vector<kapi_u64> pfns;
	ASSERT_EQ(v.pin(0x100000 + PG, 3, R | W, &pfns), 3);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(pfns[i], khost::pfn_of(VA + (1 + i) * PG));
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(locked(), 8u);
	v.unpin(0x100000 + PG, 3);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(khost::mm_charge_calls(mm_), charges);
	EXPECT_EQ(khost::mm_uncharge_calls(mm_), uncharges);
	close_mdev(e, v);
	detach(g);
}

/*
 * #2, #22, #17: borrowed pins taken in batches: one vendor call of 100
 * pages across two PinTable chunks (63 indices each), over pages some of
 * which are already recorded (they only gain a count), gets each page's
 * own PFN from the domain, records it, and pins nothing more; unpinning
 * leaves the mapping's pins as they were.
 */
TEST_F(External, N2_N22_N17_BorrowedPinsInBatches)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	ASSERT_EQ(attach(g), 0);
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 128 * PG, VA), 0);
	ASSERT_EQ(khost::pinned_pages(), 128u);
	std::vector<kapi_u64> pfns;
	ASSERT_EQ(v.pin(0x100000 + 40 * PG, 5, R), 5);	/* recorded first: 40..44 */
	ASSERT_EQ(v.pin(0x100000 + 10 * PG, 100, R | W, &pfns), 100);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(pfns[i], khost::pfn_of(VA + (10 + i) * PG)) << "page " << 10 + i;
	EXPECT_EQ(khost::pinned_pages(), 128u);
	EXPECT_EQ(core().external_pages(), 100u);
	/* Pinned again, the records give back each page's own PFN (#17). */
	ASSERT_EQ(v.pin(0x100000 + 10 * PG, 100, R, &pfns), 100);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(pfns[i], khost::pfn_of(VA + (10 + i) * PG)) << "record of page " << 10 + i;
	v.unpin(0x100000 + 10 * PG, 100);
	v.unpin(0x100000 + 10 * PG, 100);
	EXPECT_EQ(core().external_pages(), 5u); /* 40..44 had two pins */
	v.unpin(0x100000 + 40 * PG, 5);
	EXPECT_EQ(core().external_pages(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 128u);
	EXPECT_EQ(locked(), 128u);
	close_mdev(e, v);
	detach(g);
}

/*
 * #9, #10, #11, #8/R7: DMA_UNMAP over vendor pins tells the driver first,
 * which unpins (re-entering the core with no core lock held), always
 * succeeds, leaves no pin and gives the charge back in one update.
 */
TEST_F(External, N9_N10_N11_UnmapNotifiesAndReleases)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(map(0x200000, 2 * PG, VA + 0x100000), 0);
	ASSERT_EQ(v.pin(0x100000, 4, R), 4);
	ASSERT_EQ(v.pin(0x100000 + 6 * PG, 2, R), 2);
	ASSERT_EQ(v.pin(0x200000, 1, R), 1);
	EXPECT_EQ(locked(), 7u);
	const long uncharges = khost::mm_uncharge_calls(mm_);
	ASSERT_EQ(unmap(0x100000, 8 * PG), 0);
	EXPECT_EQ(v.dev.unmap_calls, 1);
	EXPECT_EQ(khost::mm_uncharge_calls(mm_), uncharges + 1); /* R7: one update */
	EXPECT_EQ(locked(), 1u);
	EXPECT_EQ(khost::pinned_pages(), 1u);
	EXPECT_EQ(core().dma_count(), 1u);
	/* A mapping without pins is unmapped without a notification. */
	ASSERT_EQ(v.pin(0x200000, 1, R), 1);
	v.unpin(0x200000, 1);
	v.unpin(0x200000, 1);
	ASSERT_EQ(unmap(0x200000, 2 * PG), 0);
	EXPECT_EQ(v.dev.unmap_calls, 1);
	EXPECT_EQ(locked(), 0u);
	close_mdev(e, v);
}

/* #11: a driver that ignores dma_unmap loses its pins: the unmap still succeeds, once warned. */
TEST_F(External, N11_IgnoredNotificationStillReleases)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	v.ignore_unmap = true;
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2);
	khost::clear_log();
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	EXPECT_EQ(v.dev.unmap_calls, 1);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::log_count("still pinned after dma_unmap"), 1);
	v.held.clear(); /* the driver's stale view; its unpins would be ignored anyway */
	close_mdev(e, v);
}

/* #12: after unmap and remap of the same IOVA to new memory, a pin returns the new page. */
TEST_F(External, N12_RemapPinsNewMemory)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	std::vector<kapi_u64> pfns;
	ASSERT_EQ(map(0x100000, PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 1, R, &pfns), 1);
	EXPECT_EQ(pfns[0], khost::pfn_of(VA));
	ASSERT_EQ(unmap(0x100000, PG), 0);
	ASSERT_EQ(map(0x100000, PG, VA + 0x40000), 0);
	ASSERT_EQ(v.pin(0x100000, 1, R, &pfns), 1);
	EXPECT_EQ(pfns[0], khost::pfn_of(VA + 0x40000));
	close_mdev(e, v);
}

/* No new pins in a mapping while its unmap notification runs. */
TEST_F(External, NoPinWhileUnmapping)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);
	int repin = 1;
	auto inner = v.dev.on_unmap;
	v.dev.on_unmap = [&](kapi_u64 iova, kapi_u64 len) {
		inner(iova, len);
		kapi_u64 pfn;
		repin = vfio_cxx_pin_pages(c_, nullptr, 0x100000 + PG, 1, R, &pfn);
	};
	ASSERT_EQ(unmap(0x100000, 2 * PG), 0);
	EXPECT_EQ(repin, -EINVAL_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	close_mdev(e, v);
}

/*
 * #9, #10: one request over three mappings, the middle one pinned by the
 * vendor driver.  A plain unmap starts under the container lock alone,
 * stops at the pinned mapping (its driver must be told, which needs the
 * devices lock), and goes on from there with both: every mapping goes, the
 * driver is told once, about the pinned one only, and the size written back
 * counts all three.
 */
TEST_F(External, N9_N10_UnmapResumesAtAPinnedMapping)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	ASSERT_EQ(map(0x100000 + 2 * PG, 2 * PG, VA + 0x10000), 0);
	ASSERT_EQ(map(0x100000 + 4 * PG, 2 * PG, VA + 0x20000), 0);
	ASSERT_EQ(v.pin(0x100000 + 3 * PG, 1, R), 1);
	std::vector<std::pair<kapi_u64, kapi_u64>> told;
	auto inner = v.dev.on_unmap;
	v.dev.on_unmap = [&](kapi_u64 iova, kapi_u64 len) {
		told.emplace_back(iova, len);
		inner(iova, len);
	};
	unsigned long long unmapped = 0;
	ASSERT_EQ(unmap(0x100000, 6 * PG, 0, &unmapped), 0);
	EXPECT_EQ(unmapped, 6 * PG);
	ASSERT_EQ(told.size(), 1u);
	EXPECT_EQ(told[0].first, 0x100000 + 2 * PG);
	EXPECT_EQ(told[0].second, 2 * PG);
	expect_nothing_left();
	close_mdev(e, v);
}

/*
 * While one UNMAP_DMA tells a vendor driver (the devices lock held, for as
 * long as the driver takes), another thread's plain unmap of a mapping
 * nobody pinned completes without waiting for it; an unmap of the mapping
 * being told about waits, then finds it gone (0 bytes, no double free).
 */
TEST_F(External, N9_PlainUnmapDoesNotWaitForANotification)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, PG, VA), 0);		/* pinned: its unmap tells the driver */
	ASSERT_EQ(map(0x200000, PG, VA + 0x10000), 0); /* never pinned */
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);
	std::mutex m;
	std::condition_variable cv;
	bool in_notify = false, other_done = false, waited_out = false;
	auto inner = v.dev.on_unmap;
	v.dev.on_unmap = [&](kapi_u64 iova, kapi_u64 len) {
		std::unique_lock<std::mutex> l(m);
		in_notify = true;
		cv.notify_all();
		waited_out = !cv.wait_for(l, std::chrono::seconds(10), [&] { return other_done; });
		l.unlock();
		inner(iova, len);
	};
	unsigned long long first = 0;
	long first_ret = -1;
	std::thread t([&] { first_ret = unmap(0x100000, PG, 0, &first); });
	{
		std::unique_lock<std::mutex> l(m);
		ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return in_notify; }));
	}
	unsigned long long other = 0;
	EXPECT_EQ(unmap(0x200000, PG, 0, &other), 0);
	EXPECT_EQ(other, PG);
	{
		std::lock_guard<std::mutex> l(m);
		other_done = true;
		cv.notify_all();
	}
	/* The same mapping again: waits for the notification, then nothing is left. */
	unsigned long long again = 1;
	EXPECT_EQ(unmap(0x100000, PG, 0, &again), 0);
	EXPECT_EQ(again, 0u);
	t.join();
	EXPECT_FALSE(waited_out) << "the plain unmap waited for the other unmap's notification";
	EXPECT_EQ(first_ret, 0);
	EXPECT_EQ(first, PG);
	expect_nothing_left();
	close_mdev(e, v);
}

/*
 * #24, #25, #27 (mdev first): vendor pins, then a passthrough group: the
 * replay charges only the pages not pinned yet, in one update, so
 * RLIMIT_MEMLOCK = mapped size is enough, and every page is pinned once.
 */
TEST_F(External, N24_N25_MdevThenPassthroughChargesTheRest)
{
	auto e = group(1);
	auto g = group(2);
	Vendor v;
	khost::set_capable_ipc_lock(false);
	khost::set_rlimit_memlock_pages(8);
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 3, R), 3);
	ASSERT_EQ(v.pin(0x100000, 1, R), 1);
	EXPECT_EQ(locked(), 3u);
	const long charges = khost::mm_charge_calls(mm_);
	ASSERT_EQ(attach(g), 0);
	EXPECT_EQ(khost::mm_charge_calls(mm_), charges + 1);
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(khost::pinned_pages(), 8u); /* pinned once, not 11 */
	EXPECT_EQ(khost::mapped_bytes(g), 8 * PG);
	/* The vendor's pins stay valid and counted. */
	EXPECT_EQ(core().external_refs(), 4u);
	v.unpin(0x100000, 3);
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	close_mdev(e, v);
	detach(g);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* #25 (passthrough first): the same limit is enough the other way round. */
TEST_F(External, N25_PassthroughThenMdev)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	khost::set_capable_ipc_lock(false);
	khost::set_rlimit_memlock_pages(8);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	open_mdev(e, v);
	ASSERT_EQ(v.pin(0x100000, 8, R | W), 8);
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	close_mdev(e, v);
	detach(g);
	EXPECT_EQ(locked(), 0u);
}

/*
 * #26, #27: the last passthrough group leaves while vendor pins remain:
 * every Dma stays, the vendor pages keep their pin (handed over from the
 * IOMMU mapping), and locked_vm goes to the vendor count in one update
 * that never dips below it.  A passthrough group coming back re-pins.
 */
TEST_F(External, N26_N27_DetachPassthroughKeepsVendorPins)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	ASSERT_EQ(attach(g), 0);
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000 + 2 * PG, 3, R), 3);
	ASSERT_EQ(v.pin(0x100000 + 7 * PG, 1, R), 1);
	const long charges = khost::mm_charge_calls(mm_), uncharges = khost::mm_uncharge_calls(mm_);
	detach(g);
	EXPECT_EQ(khost::mm_uncharge_calls(mm_), uncharges + 1);
	EXPECT_EQ(khost::mm_charge_calls(mm_), charges);
	EXPECT_EQ(locked(), 4u);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(core().dma_count(), 1u);
	/* The vendor's pins are its own now: unpinning gives the charge back. */
	v.unpin(0x100000 + 7 * PG, 1);
	EXPECT_EQ(locked(), 3u);
	EXPECT_EQ(khost::pinned_pages(), 3u);

	ASSERT_EQ(attach(g), 0); /* #27 */
	EXPECT_EQ(locked(), 8u);
	EXPECT_EQ(khost::pinned_pages(), 8u);
	EXPECT_EQ(khost::mapped_bytes(g), 8 * PG);
	close_mdev(e, v);
	detach(g);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* #28: the same group twice is -EBUSY; two mdev groups share the external side. */
TEST_F(External, N28_TwoMdevGroups)
{
	auto e1 = group(1);
	auto e2 = group(2);
	Vendor v1, v2;
	open_mdev(e1, v1);
	EXPECT_EQ(attach(e1, VFIO_CXX_GROUP_EMULATED), -EBUSY_);
	open_mdev(e2, v2);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(v1.pin(0x100000, 2, R), 2);
	ASSERT_EQ(v2.pin(0x100000 + PG, 2, R), 2);
	EXPECT_EQ(locked(), 3u);
	EXPECT_EQ(khost::pinned_pages(), 3u);
	ASSERT_EQ(unmap(0x100000, 4 * PG), 0);
	EXPECT_EQ(v1.dev.unmap_calls, 1);
	EXPECT_EQ(v2.dev.unmap_calls, 1);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	close_mdev(e1, v1);
	close_mdev(e2, v2);
}

/*
 * #20, R9: when the last external group goes, every vendor pin goes with
 * it, whatever its count, even if the driver forgot some.
 */
TEST_F(External, N20_LastExternalDetachReleasesEveryPin)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2); /* count 2 */
	vfio_cxx_unregister_device(c_, v.dev.dev());
	detach(e); /* the driver never unpinned */
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(core().dma_count(), 0u); /* no group left: the mappings go too (as type1) */

	/* With a passthrough group, the mappings and their IOMMU pins stay. */
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	open_mdev(e, v);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2);
	vfio_cxx_unregister_device(c_, v.dev.dev());
	detach(e);
	EXPECT_EQ(core().external_pages(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 4u);
	EXPECT_EQ(locked(), 4u);
	detach(g);
	v.held.clear();
}

/* #29: closing the container with vendor pins and mappings returns to the baseline. */
TEST_F(External, N29_ReleaseReturnsToBaseline)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 4 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 3, R), 3);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x200000, 4 * PG, VA + 0x100000), 0);
	ASSERT_EQ(v.pin(0x200000, 1, R), 1);
	EXPECT_EQ(locked(), 8u);
	/* What the VFIO core does at close: devices, then groups, then release. */
	close_mdev(e, v);
	detach(g);
	vfio_cxx_release(c_);
	c_ = nullptr;
	EXPECT_EQ(locked(), 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(khost::mm_count(mm_), 1);
}

/* dma_rw: reads and writes through the owner's memory, across mappings, with type1's checks. */
TEST_F(External, DmaRwRoundTrip)
{
	auto e = group(1);
	Vendor v;
	open_mdev(e, v);
	auto *buf = static_cast<unsigned char *>(aligned_alloc(PG, 4 * PG));
	ASSERT_NE(buf, nullptr);
	memset(buf, 0, 4 * PG);
	const unsigned long va = reinterpret_cast<unsigned long>(buf);
	ASSERT_EQ(map(0x100000, 2 * PG, va), 0);
	ASSERT_EQ(map(0x102000, 2 * PG, va + 2 * PG), 0);
	ASSERT_EQ(map(0x200000, PG, va, uabi::DMA_MAP_FLAG_READ), 0);

	std::vector<unsigned char> in(3 * PG), out(3 * PG);
	for (size_t i = 0; i < in.size(); i++)
		in[i] = static_cast<unsigned char>(i * 7 + 3);
	/* From another process's context (type1 would fail: see differences.rst). */
	khost::FakeMm *other = khost::mm_new();
	khost::set_current_mm(other);
	ASSERT_EQ(vfio_cxx_dma_rw(c_, 0x100000 + 100, in.data(), in.size(), 1), 0);
	EXPECT_EQ(memcmp(buf + 100, in.data(), in.size()), 0);
	ASSERT_EQ(vfio_cxx_dma_rw(c_, 0x100000 + 100, out.data(), out.size(), 0), 0);
	EXPECT_EQ(out, in);
	khost::set_current_mm(mm_);
	khost::mm_put(other);

	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x200000, in.data(), 16, 1), -EPERM_);
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x200000, out.data(), 16, 0), 0);
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x300000, out.data(), 16, 0), -EINVAL_);
	/* Running off the end of the mappings. */
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x103000, out.data(), 2 * PG, 0), -EINVAL_);
	khost::add_fault_range(va + 3 * PG, va + 4 * PG - 1);
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x103000, out.data(), 16, 0), -EFAULT_);
	EXPECT_EQ(khost::pinned_pages(), 0u);
	EXPECT_EQ(locked(), 0u);
	close_mdev(e, v);
	vfio_cxx_release(c_);
	c_ = nullptr;
	free(buf);
}

/* Pins wait for VFIO_UPDATE_VADDR to finish (as type1: -EBUSY). */
/*
 * Issue 11 item 6 (type1 parity): while a vaddr is invalid no group of
 * either kind attaches (attach may need to pin), so an emulated device can
 * never pin through an invalid vaddr.  Once the vaddr is back, both attach.
 */
TEST_F(External, AttachWhileVaddrInvalidIsEbusy)
{
	auto g = group(1), h = group(3, 1);
	ASSERT_EQ(attach(g), 0);
	ASSERT_EQ(map(0x100000, 2 * PG, VA), 0);
	uabi::DmaUnmap u{ sizeof(u), uabi::DMA_UNMAP_FLAG_VADDR, 0x100000, 2 * PG };
	ASSERT_EQ(vfio_cxx_ioctl(c_, UNMAP_DMA, reinterpret_cast<unsigned long>(&u)), 0);
	auto e = group(2);
	EXPECT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), -EBUSY_);
	EXPECT_EQ(attach(h), -EBUSY_);
	EXPECT_EQ(core().group_count(), 1u);
	EXPECT_EQ(khost::pinned_pages(), 2u);
	ASSERT_EQ(map(0x100000, 2 * PG, VA, uabi::DMA_MAP_FLAG_VADDR), 0);
	ASSERT_EQ(attach(e, VFIO_CXX_GROUP_EMULATED), 0);
	ASSERT_EQ(attach(h), 0);
	detach(h);
	detach(e);
	detach(g);
}

} /* namespace */

/*
 * The unmap notification runs without the container lock (R4), so another
 * thread can stop dirty tracking meanwhile, which frees every bitmap.  The
 * UNMAP with GET_DIRTY_BITMAP, asked while tracking was on, still unmaps and
 * reports every page dirty (found by the debug lane's fuzzer as a NULL
 * dereference in what is now DirtyTracking::report).
 */
TEST_F(External, DirtyStopDuringUnmapNotificationReportsAllDirty)
{
	auto g = group(1);
	auto e = group(2);
	Vendor v;
	ASSERT_EQ(attach(g), 0);
	open_mdev(e, v);
	ASSERT_EQ(map(0x100000, 8 * PG, VA), 0);
	ASSERT_EQ(v.pin(0x100000, 2, R), 2);

	uabi::DirtyBitmap d{ sizeof(d), uabi::DIRTY_PAGES_FLAG_START };
	ASSERT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES, reinterpret_cast<unsigned long>(&d)), 0);
	auto vendor_unmap = v.dev.on_unmap;
	int stops = 0;
	v.dev.on_unmap = [&](kapi_u64 iova, kapi_u64 len) {
		uabi::DirtyBitmap s{ sizeof(s), uabi::DIRTY_PAGES_FLAG_STOP };
		stops++;
		EXPECT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_DIRTY_PAGES, reinterpret_cast<unsigned long>(&s)), 0);
		vendor_unmap(iova, len);
	};

	unsigned long long bits[2] = { 0, 0 };
	struct {
		uabi::DmaUnmap u;
		uabi::Bitmap b;
	} req{ { sizeof(req), uabi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 0x100000, 8 * PG },
	       { PG, sizeof(bits), reinterpret_cast<unsigned long>(bits) } };
	EXPECT_EQ(vfio_cxx_ioctl(c_, uabi::IOMMU_UNMAP_DMA, reinterpret_cast<unsigned long>(&req)), 0);
	EXPECT_EQ(stops, 1);
	EXPECT_EQ(req.u.size, 8 * PG);
	EXPECT_EQ(bits[0], 0xffull);
	EXPECT_EQ(bits[1], 0ull);
	EXPECT_EQ(core().dma_count(), 0u);
	EXPECT_TRUE(v.held.empty());
	EXPECT_EQ(locked(), 0u);
	v.dev.on_unmap = vendor_unmap;
	close_mdev(e, v);
	detach(g);
}
