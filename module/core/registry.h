/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The registry of live containers, and what user space may see of them
 * (the vfio_cxx generic netlink family, netlink.cpp).
 *
 * Every Container that Container::create() hands out is on one global
 * intrusive list, linked through Container::reg_node, from create() until
 * its close() starts.  The list and the id counter are protected by the
 * registry mutex (KAPI_LOCK_REGISTRY), the first lock of the order:
 *
 *   registry -> Container::devices_lock_ -> Container::lock_
 *
 * The registry mutex is held for list operations only, never across a wait
 * for a container (issue 11 item 3): VFIO_SET_IOMMU (add) runs under the
 * VFIO core's driver lock and every close removes, so a registry mutex held
 * while one container's owner keeps its lock for seconds (a MAP_DMA of
 * many GiB) or forever (a FUSE page that never arrives) would stall every
 * VFIO user of the host.  A lookup takes a reference (Container::get())
 * under the registry mutex, skipping closed containers, drops the mutex,
 * decides visibility (nl::may_see()), then reads the container:
 * its lock-free summary (GET_CONTAINER), or mapping_from()/prereg_from(),
 * which wait for its lock killably; then put().  A container is on the
 * list only while the VFIO core's reference is held (close() removes it
 * before that reference goes), so the get() never revives a dying one.
 *
 * Nothing that holds a container lock takes the registry lock: the event
 * hooks that run under lock_ (memlock_denied, mm_exited) only read the
 * container's immutable identity.
 */
#ifndef VFIO_CXX_REGISTRY_H
#define VFIO_CXX_REGISTRY_H

#include <vfio_cxx/base.h>
#include "../kapi/services.h"
#include "entry.h"
#include "snapshot.h"

namespace vfio_cxx {

class Container;

class Registry {
public:
	/*
	 * Give c its id and owner (the calling process: kapi_owner_get(), its
	 * tgid, euid and mm), put it on the list and announce it
	 * (KAPI_EVENT_CONTAINER_CREATED).  type is the VFIO_SET_IOMMU type.
	 */
	static void add(Container &c, unsigned long type) noexcept;
	/* Take c off the list (if it is on it) and announce its release. */
	static void remove(Container &c) noexcept;

	/* Event hooks, callable with c's locks held. */
	static void memlock_denied(Container &c, u64 pages, u64 limit) noexcept;
	/* An owner mm of c exited while c still maps `mappings` of its ranges. */
	static void mm_exited(Container &c, kapi_mm *mm, u64 mappings, u64 pages) noexcept;

	/* The registry as viewer v sees it (the walks of introspect.h describe them). */
	static int next(const kapi_viewer *v, u64 after, vfio_cxx_container_info &out) noexcept;
	static int get(const kapi_viewer *v, u64 id, vfio_cxx_container_info &out) noexcept;
	static int mapping_next(const kapi_viewer *v, u64 id, u64 from,
				vfio_cxx_mapping_info &out) noexcept;
	static int prereg_next(const kapi_viewer *v, u64 id, u64 from_vaddr,
			       vfio_cxx_prereg_info &out) noexcept;

	/* Containers on the list (tests). */
	static size_t count() noexcept;

private:
	/*
	 * A reference to the open container with the lowest id >= first, or
	 * null; the registry mutex is taken and dropped.
	 */
	static Container *grab_from(u64 first) noexcept;
	/*
	 * A reference to container id if v may see it: 0, -ENOENT (none, or
	 * closed) or -EPERM (no reference then).
	 */
	static int grab(const kapi_viewer *v, u64 id, bool quiet, Container *&out) noexcept;
	static void event(kapi_event_type type, const Container &c, kapi_event &ev) noexcept;
};

} /* namespace vfio_cxx */

#endif
