/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading an ioctl's argument struct from user space, with the checks every
 * VFIO ioctl makes first: copy minsz bytes (-EFAULT), then argsz below minsz
 * or flags other than 0 (-EINVAL), in that order.  Locking: none.
 */
#ifndef VFIO_CXX_UARG_H
#define VFIO_CXX_UARG_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include "../kapi/services.h"

namespace vfio_cxx {

template <class T>
int copy_arg(T &out, unsigned long arg, u32 minsz) noexcept
{
	static_assert(__builtin_offsetof(T, argsz) == 0 && __builtin_offsetof(T, flags) == 4);
	if (kapi_copy_from_user(&out, arg, minsz))
		return -err::FAULT;
	if (out.argsz < minsz || out.flags)
		return -err::INVAL;
	return 0;
}

/* B32: a region to preregister is page-aligned, not empty and does not wrap. */
inline bool region_valid(u64 vaddr, u64 size) noexcept
{
	return size && !((vaddr | size) & (abi::PAGE_SIZE - 1)) && vaddr + size - 1 >= vaddr;
}

} /* namespace vfio_cxx */

#endif
