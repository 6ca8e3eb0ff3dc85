/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sPAPR TCE v2 user API on x86 paging domains (issue 14): what a
 * VFIO_SPAPR_TCE_v2_IOMMU container adds to a Container.  Documentation/
 * uapi.rst ("sPAPR TCE v2") gives the rules and differences.rst what
 * differs from the POWER kernel driver.
 *
 * SpaprTce: the container's bound mm (mmgrab on the first REGISTER, CREATE
 * or REMOVE, as upstream's tce_iommu_mm_set; never mm_users), `enabled`
 * (the first successful REGISTER), the pending default window, and its
 * window (slot 0 only: max_dynamic_windows_supported is 1; tce_window.h).
 * It answers the window ioctls and the container's attach and detach; the
 * Container dispatches to it, and keeps REGISTER/UNREGISTER (its PreregSet,
 * prereg.cpp) and the lifetime.
 *
 * SpaprEnv: what the container lends it for one call: the TCEs' context
 * (domains, regions, counters), the allowed IOVAs, the IOMMU page sizes,
 * whether a group is attached, and the locked_vm counter.  SpaprTce sees
 * nothing else of the container.
 *
 * Ownership: the Container owns its SpaprTce (spapr_), which owns its
 * window and its mm reference.  Locking: none of their own; every call
 * runs under the container's lock_, which the SpaprEnv's maker asserts.
 */
#ifndef VFIO_CXX_SPAPR_H
#define VFIO_CXX_SPAPR_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>

#include "accounting.h"
#include "iova_list.h"
#include "tce_window.h"

namespace vfio_cxx {

struct SpaprEnv {
	TceContext tce;
	const IovaList &iovas;
	u64 pgsize_bitmap;	/* the domains' IOMMU page sizes */
	bool has_groups;
	SerialCounter &locked_pages;
	DeniedCharge denied; /* out: a window's table charge RLIMIT_MEMLOCK refused */
};

class SpaprTce {
public:
	SpaprTce() noexcept = default;
	VFIO_CXX_NO_COPY(SpaprTce);
	/* release() first: the window is cleared and uncharged through an env. */
	~SpaprTce() = default;

	/* Another process's call on a bound container (-EPERM for every ioctl). */
	bool foreign() const noexcept { return mm_ && !kapi_mm_is_current(mm_.get()); }
	bool bound() const noexcept { return static_cast<bool>(mm_); }
	/* tce_iommu_mm_set: bind the calling process's mm, or check it is the bound one. */
	int bind_mm() noexcept;
	/* A REGISTER succeeded: MAP and UNMAP are allowed from now on. */
	void enable() noexcept { enabled_ = true; }

	/* The window ioctls (the REGISTER pair is the container's). */
	long get_info(SpaprEnv &env, unsigned long arg) noexcept;
	long map(SpaprEnv &env, unsigned long arg) noexcept;
	long unmap(SpaprEnv &env, unsigned long arg) noexcept;
	long create(SpaprEnv &env, unsigned long arg) noexcept;
	long remove(SpaprEnv &env, unsigned long arg) noexcept;

	/* The container's group changes. */
	/* The first group, with no window yet, makes the default window pending. */
	void first_group() noexcept
	{
		if (!window_)
			def_window_pending_ = true;
	}
	/* Whether a group with these allowed IOVAs can reach the window (else -EPERM). */
	bool fits(const IovaList &next) const noexcept
	{
		return !window_ || next.allows(window_->start, window_->last());
	}
	/* Map every valid TCE into a new domain; on failure none stays. */
	int replay(SpaprEnv &env, Domain &fresh) noexcept;
	/* Clear, free and uncharge the window (REMOVE, release, the owner's exit). */
	void free_window(SpaprEnv &env) noexcept;
	/* The container's release: the window, then the mm reference. */
	void release(SpaprEnv &env) noexcept
	{
		free_window(env);
		mm_.reset();
	}

private:
	u64 pgsizes(const SpaprEnv &env) const noexcept;
	u64 dma32_size(const SpaprEnv &env) const noexcept;
	int window_head(SpaprEnv &env) noexcept;
	int window_of(SpaprEnv &env, u64 iova, TceWindow **out) noexcept;
	int create_window(SpaprEnv &env, u32 page_shift, u64 window_size, u32 levels,
			  u64 *start) noexcept;
	int default_window(SpaprEnv &env) noexcept;

	MmRef mm_;		  /* bound by the first REGISTER, CREATE or REMOVE */
	bool enabled_ = false;	  /* MAP/UNMAP allowed: a REGISTER succeeded once */
	bool def_window_pending_ = false;
	Owned<TceWindow> window_; /* slot 0 */
};

} /* namespace vfio_cxx */

#endif
