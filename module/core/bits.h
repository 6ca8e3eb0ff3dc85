/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bit and bitmap helpers shared by the core's files (dirty bitmaps, page
 * sizes).  No state, no locking.
 */
#ifndef VFIO_CXX_BITS_H
#define VFIO_CXX_BITS_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include <vfio_cxx/errno.h>

namespace vfio_cxx {

constexpr u64 U64_MAX = ~u64(0);

inline int ctz(u64 v) { return __builtin_ctzll(v); }

inline u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }

/*
 * Set bits of v.  Not __builtin_popcountll: without -mpopcnt (the kernel's
 * x86-64 baseline) gcc makes that a call to libgcc's __popcountdi2, which
 * the kernel does not have.
 */
inline unsigned int popcount(u64 v)
{
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return static_cast<unsigned int>((v * 0x0101010101010101ULL) >> 56);
}

/* type1's verify_bitmap_size() */
inline int verify_bitmap_size(u64 npages, u64 bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > abi::DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < abi::dirty_bitmap_bytes(npages))
		return -err::INVAL;
	return 0;
}

inline void set_bits(u64 *map, u64 nbits)
{
	for (u64 w = 0; w < nbits / 64; w++)
		map[w] = ~u64(0);
	if (nbits % 64)
		map[nbits / 64] |= (u64(1) << (nbits % 64)) - 1;
}

/* map <<= shift over nbits + shift bits (map has a spare word). */
inline void shift_left(u64 *map, u64 nbits, unsigned int shift)
{
	const u64 total = nbits + shift;
	const u64 words = (total + 63) / 64;
	for (u64 k = words; k-- > 0;) {
		u64 v = map[k] << shift;
		if (k > 0)
			v |= map[k - 1] >> (64 - shift);
		map[k] = v;
	}
	if (total % 64)
		map[words - 1] &= (u64(1) << (total % 64)) - 1;
}

} /* namespace vfio_cxx */

#endif
