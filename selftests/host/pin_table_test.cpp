// SPDX-License-Identifier: GPL-2.0
/*
 * PinTable (module/core/pin_table.h), the per-mapping store of external pin
 * records (R5: small per-page tracking, per mapping, keyed by IOVA): every
 * operation against a std::map model, the leaf layout at each count, the
 * memory per page dense and sparse, and allocation failures.
 */
#include "test_common.h"

#include <map>
#include <random>

#include "core/pin_table.h"

using namespace vt;
using vfio_cxx::PinTable;

namespace {

constexpr unsigned long long C = PinTable::CHUNK;

class PinTableTest : public CoreTest {
protected:
	/* The table holds exactly the model: load, find from 0 and from each key, leaf bytes. */
	void expect_same(const PinTable &t, const std::map<unsigned long long, unsigned long long> &m)
	{
		for (auto &[k, v] : m)
			ASSERT_EQ(t.load(k), v) << "load " << k;
		unsigned long long idx = 0;
		auto it = m.begin();
		for (;;) {
			unsigned long long v = t.find(&idx, ~0ULL);
			if (it == m.end()) {
				ASSERT_EQ(v, 0u) << "find past the last key, at " << idx;
				break;
			}
			ASSERT_EQ(v, it->second);
			ASSERT_EQ(idx, it->first);
			++it;
			if (idx == ~0ULL)
				break;
			idx++;
		}
		std::map<unsigned long long, unsigned int> per_chunk;
		for (auto &[k, v] : m)
			per_chunk[k / C]++;
		unsigned long long bytes = 0;
		for (auto &[c, n] : per_chunk)
			bytes += PinTable::leaf_size(n);
		EXPECT_EQ(t.leaf_bytes(), bytes);
		EXPECT_EQ(t.empty(), m.empty());
	}
	/* n random non-zero records at idx.. by store_many, into the table and the model. */
	void store_random(PinTable &t, std::map<unsigned long long, unsigned long long> &m,
			  std::mt19937_64 &rng, unsigned long long idx, unsigned long long n)
	{
		std::vector<unsigned long long> recs(n);
		for (auto &r : recs)
			r = (rng() >> 3) | 1;
		unsigned long long stored = 0;
		ASSERT_EQ(t.store_many(idx, recs.data(), n, &stored), long(n));
		for (unsigned long long j = 0; j < n; j++)
			m[idx + j] = recs[j];
	}
};

/* The size classes: kmalloc's, 31 records at most compact, 32..63 in one 512-byte leaf. */
TEST_F(PinTableTest, R5_LeafSizeClasses)
{
	const unsigned long long want[] = { 16,  32,  32,  64,  64,  64,  64,  96,	96,  96,  96,
					    128, 128, 128, 128, 192, 192, 192, 192, 192, 192, 192,
					    192, 256, 256, 256, 256, 256, 256, 256, 256 };
	for (unsigned int n = 1; n <= 31; n++)
		EXPECT_EQ(PinTable::leaf_size(n), want[n - 1]) << n;
	for (unsigned int n = 32; n <= C; n++)
		EXPECT_EQ(PinTable::leaf_size(n), 512u) << n;
}

/* Every count of one chunk up and down, filled in three orders: layouts and moves. */
TEST_F(PinTableTest, R5_OneChunkEveryCountEveryOrder)
{
	for (int order = 0; order < 3; order++) {
		PinTable t;
		std::map<unsigned long long, unsigned long long> m;
		std::vector<unsigned int> offs;
		for (unsigned int b = 0; b < C; b++)
			offs.push_back(order == 0 ? b : order == 1 ? C - 1 - b : (b * 17) % C);
		const unsigned long long base = 5 * C;
		for (unsigned int b : offs) {
			ASSERT_EQ(t.store(base + b, 1000 + b), 0);
			m[base + b] = 1000 + b;
			expect_same(t, m);
		}
		EXPECT_EQ(t.leaf_bytes(), 512u);
		/* Replace every record in place: no allocation. */
		const long before = khost::alloc_attempts();
		for (unsigned int b = 0; b < C; b++) {
			ASSERT_EQ(t.store(base + b, 2000 + b), 0);
			m[base + b] = 2000 + b;
		}
		EXPECT_EQ(khost::alloc_attempts(), before);
		expect_same(t, m);
		for (unsigned int b : offs) {
			t.erase(base + b);
			m.erase(base + b);
			expect_same(t, m);
		}
		EXPECT_TRUE(t.empty());
	}
	EXPECT_EQ(khost::live_allocations(), 0);
}

/* find's range: chunk edges, an empty range, a start inside a chunk, the top of the index space. */
TEST_F(PinTableTest, R5_FindRanges)
{
	PinTable t;
	const unsigned long long keys[] = { 0, C - 1, C, 2 * C + 7, 100 * C, ~0ULL - 1, ~0ULL };
	for (unsigned long long k : keys)
		ASSERT_EQ(t.store(k, k / 2 + 1), 0);
	unsigned long long idx = 1;
	EXPECT_EQ(t.find(&idx, C - 2), 0u); /* nothing in [1, C-2] */
	idx = 1;
	EXPECT_EQ(t.find(&idx, C - 1), (C - 1) / 2 + 1);
	EXPECT_EQ(idx, C - 1);
	idx = C + 1;
	EXPECT_EQ(t.find(&idx, 2 * C + 6), 0u);
	idx = C + 1;
	EXPECT_EQ(t.find(&idx, 2 * C + 7), (2 * C + 7) / 2 + 1);
	EXPECT_EQ(idx, 2 * C + 7);
	idx = 2 * C + 8;
	EXPECT_EQ(t.find(&idx, ~0ULL), 100 * C / 2 + 1);
	EXPECT_EQ(idx, 100 * C);
	idx = 100 * C + 1;
	EXPECT_EQ(t.find(&idx, ~0ULL), (~0ULL - 1) / 2 + 1);
	EXPECT_EQ(idx, ~0ULL - 1);
	idx = ~0ULL;
	EXPECT_EQ(t.find(&idx, ~0ULL), ~0ULL / 2 + 1);
	EXPECT_EQ(idx, ~0ULL);
	idx = 9;
	EXPECT_EQ(t.find(&idx, 8), 0u); /* first > last */
	std::map<unsigned long long, unsigned long long> m;
	for (unsigned long long k : keys)
		m[k] = k / 2 + 1;
	expect_same(t, m);
}

/*
 * Issue 15: the bench's two tracking patterns.  Sparse (one page in 64)
 * costs one 16-byte leaf a page here (type1: 64 bytes of struct vfio_pfn;
 * one xarray of records: a 576-byte node a page); dense 512 / 63 bytes.
 */
TEST_F(PinTableTest, R5_BytesPerPageSparseAndDense)
{
	{
		PinTable t;
		const unsigned long long pages = 4096;
		for (unsigned long long i = 0; i < pages; i++)
			ASSERT_EQ(t.store(i * 64, i + 1), 0);
		EXPECT_EQ(t.leaf_bytes(), pages * 16);
	}
	{
		PinTable t;
		const unsigned long long pages = 16384;
		std::vector<unsigned long long> recs(512);
		for (unsigned long long i = 0; i < pages; i += 512) {
			for (unsigned int j = 0; j < 512; j++)
				recs[j] = i + j + 1;
			unsigned long long stored = 0;
			ASSERT_EQ(t.store_many(i, recs.data(), 512, &stored), 512);
			ASSERT_EQ(stored, 512u);
		}
		/* 260 full leaves and one of 4 records (16384 = 260 * 63 + 4). */
		EXPECT_EQ(t.leaf_bytes(), 260 * 512u + 64);
		EXPECT_LT(double(t.leaf_bytes()) / pages, 8.2);
	}
	EXPECT_EQ(khost::live_allocations(), 0);
}

/*
 * A vendor driver pinning and unpinning one page at a time (the bench's
 * 1-page row): after the first pin, the chunk's last record leaves its leaf
 * as the spare and the next first record takes it, in any chunk.
 */
TEST_F(PinTableTest, R5_OnePageAtATimeAllocatesOnce)
{
	PinTable t;
	ASSERT_EQ(t.store(5, 1), 0);
	t.erase(5);
	EXPECT_EQ(t.spare_bytes(), 16u);
	EXPECT_TRUE(t.empty());
	const long before = khost::alloc_attempts();
	for (unsigned long long i = 0; i < 200; i++) {
		const unsigned long long idx = (i % 2) ? 5 : 7 * C + 3; /* two chunks, taking turns */
		ASSERT_EQ(t.store(idx, i + 1), 0);
		ASSERT_EQ(t.load(idx), i + 1);
		t.erase(idx);
	}
	/*
	 * One allocation a cycle: the xarray slot of a chunk that has none (the
	 * host kapi counts each new index; the kernel's xarray needs a node
	 * for any chunk but 0), never a leaf (that would make 400).
	 */
	EXPECT_EQ(khost::alloc_attempts() - before, 200);
	EXPECT_TRUE(t.empty());
	/* Two chunks emptied: one spare kept, the other leaf freed. */
	ASSERT_EQ(t.store(1, 1), 0);
	ASSERT_EQ(t.store(C + 1, 2), 0);
	t.erase(1);
	t.erase(C + 1);
	EXPECT_EQ(t.spare_bytes(), 16u);
	t.clear();
	EXPECT_EQ(t.spare_bytes(), 0u);
	EXPECT_EQ(khost::live_allocations(), 0);
}

/* Random stores, batches and erases over a few chunks, against the model. */
TEST_F(PinTableTest, R5_RandomAgainstModel)
{
	std::mt19937_64 rng(15);
	PinTable t;
	std::map<unsigned long long, unsigned long long> m;
	for (int step = 0; step < 6000; step++) {
		const unsigned long long idx = rng() % (4 * C);
		const int op = rng() % 10;
		if (op < 4) {
			const unsigned long long v = (rng() >> 3) | 1;
			ASSERT_EQ(t.store(idx, v), 0);
			m[idx] = v;
		} else if (op < 6) {
			ASSERT_NO_FATAL_FAILURE(store_random(t, m, rng, idx, 1 + rng() % 100));
		} else {
			t.erase(idx);
			m.erase(idx);
		}
		if (step % 50 == 0)
			expect_same(t, m);
	}
	expect_same(t, m);
	t.clear();
	EXPECT_TRUE(t.empty());
	EXPECT_EQ(khost::live_allocations(), 0);
}

/*
 * update_range (ExtPins::unpin's one pass): against the model, it visits
 * exactly the records in the range, in index order, keeps what fn returns
 * and removes what fn zeroes, across chunk boundaries, down to empty chunks
 * (whose leaf becomes the spare), with the stores and erases in between.
 */
TEST_F(PinTableTest, R5_UpdateRangeAgainstModel)
{
	std::mt19937_64 rng(16);
	PinTable t;
	std::map<unsigned long long, unsigned long long> m;
	for (int step = 0; step < 4000; step++) {
		const unsigned long long idx = rng() % (5 * C);
		const int op = rng() % 8;
		if (op < 3) {
			ASSERT_NO_FATAL_FAILURE(store_random(t, m, rng, idx, 1 + rng() % 130));
		} else if (op < 4) {
			t.erase(idx);
			m.erase(idx);
		} else {
			const unsigned long long n = 1 + rng() % 200;
			const int keep_one_in = 1 + op % 4; /* 1: change all, up to 4: remove most */
			std::vector<unsigned long long> seen, want;
			for (auto it = m.lower_bound(idx); it != m.end() && it->first < idx + n; ++it)
				want.push_back(it->first);
			t.update_range(idx, n, [&](unsigned long long i, unsigned long long rec) -> unsigned long long {
				seen.push_back(i);
				EXPECT_EQ(rec, m[i]) << "record at " << i;
				if ((rec >> 1) % keep_one_in)
					return 0;
				return rec ^ 0x10;
			});
			ASSERT_EQ(seen, want);
			for (unsigned long long i : want) {
				if ((m[i] >> 1) % keep_one_in)
					m.erase(i);
				else
					m[i] ^= 0x10;
			}
		}
		if (step % 40 == 0)
			expect_same(t, m);
	}
	expect_same(t, m);
	/* Everything, in one call: empty. */
	t.update_range(0, ~0ULL / 2, [](unsigned long long, unsigned long long) -> unsigned long long { return 0; });
	EXPECT_TRUE(t.empty());
	t.clear();
	EXPECT_EQ(khost::live_allocations(), 0);
}

/*
 * Allocation failures: a store that needs a leaf fails with -ENOMEM and
 * changes nothing; a batch stores whole chunks up to the failure and says
 * how many; an erase whose smaller leaf cannot be had compacts in place,
 * and the table goes on working.
 */
TEST_F(PinTableTest, R5_AllocationFailures)
{
	PinTable t;
	std::map<unsigned long long, unsigned long long> m;
	bool hit = false;
	/* The first store: its leaf, the xarray, the xarray's slot. */
	for (long n = 1; n <= 3; n++) {
		EXPECT_EQ(nth_alloc_failing(n, [&] { return t.store(3, 7); }, &hit), -ENOMEM_) << n;
		EXPECT_TRUE(hit);
		expect_same(t, m);
	}
	ASSERT_EQ(t.store(3, 7), 0);
	m[3] = 7;
	/* Growing from 1 to 2 records needs the 32-byte leaf. */
	EXPECT_EQ(nth_alloc_failing(1, [&] { return t.store(4, 8); }, &hit), -ENOMEM_);
	EXPECT_TRUE(hit);
	expect_same(t, m);

	/* A batch over three chunks, the second chunk's leaf failing (after the first's leaf and slot). */
	std::vector<unsigned long long> recs(3 * C);
	for (unsigned long long j = 0; j < recs.size(); j++)
		recs[j] = j + 100;
	unsigned long long stored = 99;
	EXPECT_EQ(nth_alloc_failing(3, [&] { return t.store_many(10 * C, recs.data(), recs.size(), &stored); },
				    &hit),
		  -ENOMEM_);
	EXPECT_TRUE(hit);
	EXPECT_EQ(stored, C);
	for (unsigned long long j = 0; j < C; j++)
		m[10 * C + j] = recs[j];
	expect_same(t, m);

	/* 32 records in one chunk (a direct leaf), then an erase to 31 with no memory. */
	for (unsigned int b = 0; b < 32; b++) {
		ASSERT_EQ(t.store(20 * C + b, b + 1), 0);
		m[20 * C + b] = b + 1;
	}
	khost::fail_nth_alloc(1);
	t.erase(20 * C + 5);
	EXPECT_TRUE(khost::injected_failure_hit());
	khost::fail_nth_alloc(0);
	m.erase(20 * C + 5);
	for (auto &[k, v] : m)
		ASSERT_EQ(t.load(k), v);
	/* ... and it keeps working: back to 32 and down to none. */
	ASSERT_EQ(t.store(20 * C + 5, 99), 0);
	m[20 * C + 5] = 99;
	expect_same(t, m);
	for (unsigned int b = 0; b < 32; b++) {
		t.erase(20 * C + b);
		m.erase(20 * C + b);
	}
	expect_same(t, m);
	t.clear();
	EXPECT_EQ(khost::live_allocations(), 0);
}

} /* namespace */
