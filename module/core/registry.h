/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The registry of live containers, and what user space may see of them
 * (the vfio_cxx generic netlink family, module/kapi/netlink.c).
 *
 * Every Container that Container::create() hands out is on one global
 * intrusive list, linked through Container::reg_node, from create() until
 * its destructor starts.  The list and the id counter are protected by the
 * registry mutex (KAPI_LOCK_REGISTRY), the first lock of the order:
 *
 *   registry -> Container::devices_lock_ -> Container::lock_
 *
 * A snapshot takes the registry lock, then one container's lock_; a
 * container's destructor unlinks it under the registry lock before it tears
 * anything down, so a snapshot never sees a half-destroyed container.
 * Nothing that holds a container lock takes the registry lock: the event
 * hooks that run under lock_ (memlock_denied, mm_exited) only read the
 * container's immutable identity.
 */
#ifndef VFIO_CXX_REGISTRY_H
#define VFIO_CXX_REGISTRY_H

#include <vfio_cxx/base.h>
#include "../kapi/kapi.h"

namespace vfio_cxx {

class Container;
class Dma;

class Registry {
public:
	/*
	 * Give c its id and owner (the calling task), put it on the list and
	 * announce it (KAPI_EVENT_CONTAINER_CREATED).  type is the
	 * VFIO_SET_IOMMU type.
	 */
	static void add(Container &c, unsigned long type) noexcept;
	/* Take c off the list (if it is on it) and announce its release. */
	static void remove(Container &c) noexcept;

	/* Event hooks, callable with c's locks held. */
	static void memlock_denied(Container &c, u64 pages, u64 limit) noexcept;
	/* An owner mm of c exited while c still maps `mappings` of its ranges. */
	static void mm_exited(Container &c, kapi_mm *mm, u64 mappings, u64 pages) noexcept;

	/*
	 * The extern "C" vfio_cxx_container_next/get, vfio_cxx_mapping_next,
	 * vfio_cxx_prereg_next.
	 */
	static int next(u64 after, u32 uid, bool admin, vfio_cxx_container_info &out) noexcept;
	static int get(u64 id, u32 uid, bool admin, vfio_cxx_container_info &out) noexcept;
	static int mapping_next(u64 id, u64 from, u32 uid, bool admin,
				vfio_cxx_mapping_info &out) noexcept;
	static int prereg_next(u64 id, u64 from_vaddr, u32 uid, bool admin,
			       vfio_cxx_prereg_info &out) noexcept;

	/* Containers on the list (tests). */
	static size_t count() noexcept;

private:
	static bool visible(const Container &c, u32 uid, bool admin) noexcept;
	static void snapshot(Container &c, vfio_cxx_container_info &out) noexcept;
	static void fill_mapping(Dma &d, vfio_cxx_mapping_info &out) noexcept;
	static Container *find(u64 id) noexcept;
	/* Container id for this viewer: 0, -ENOENT or -EPERM.  Registry lock held. */
	static int lookup(u64 id, u32 uid, bool admin, Container *&out) noexcept;
	static void event(kapi_event_type type, const Container &c, kapi_event &ev) noexcept;

	/*
	 * Hooks for state this file does not own.  Both run with c.lock_
	 * held.  prereg_pages: pages pinned for preregistered regions.
	 * orphaned_mappings: mappings whose owner mm has exited (the mm-exit
	 * policy's tracking); 0 until that tracking exists.
	 */
	static u64 prereg_pages_locked(Container &c) noexcept;
	static u64 orphaned_mappings_locked(Container &c) noexcept;
};

} /* namespace vfio_cxx */

#endif
