/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test introspection, kept out of the production interfaces: of a Container,
 * the host tests read state through a ContainerProbe (a friend), which
 * forwards the few production calls the tests make as well; and of the
 * registry, the vfio_cxx_view_* walks (Registry's, as a viewer sees it).
 * introspect.cpp is built into the host test library only.
 *
 * Locking: each reading takes the container lock; call with no lock held.
 */
#ifndef VFIO_CXX_INTROSPECT_H
#define VFIO_CXX_INTROSPECT_H

#include "container.h"
#include "registry.h"

namespace vfio_cxx {

class ContainerProbe {
public:
	explicit ContainerProbe(Container &c) noexcept : c_(c) {}

	size_t group_count() noexcept;
	size_t domain_count() noexcept;
	size_t dma_count() noexcept;
	u64 pages_pinned() noexcept;
	/* Distinct externally pinned pages, and the pins they hold in all. */
	u64 external_pages() noexcept;
	u64 external_refs() noexcept;
	u64 prereg_pages() noexcept;
	size_t prereg_count() noexcept;
	/* Mappings whose owner mm has exited (kept under the KEEP policy). */
	size_t orphaned_dmas() noexcept;
	u32 exit_policy() noexcept;
	bool v2() const noexcept { return c_.v2_; }

	/* The production interface, for tests that drive the object directly. */
	void get() noexcept { c_.get(); }
	void put() noexcept { c_.put(); }
	bool closed() const noexcept { return c_.closed(); }
	long ioctl(unsigned int cmd, unsigned long arg) noexcept { return c_.ioctl(cmd, arg); }

private:
	Container &c_;
};

} /* namespace vfio_cxx */

struct kapi_viewer;

/*
 * The registry as viewer v sees it (Registry::next, get, mapping_next,
 * prereg_next, which core/netlink.cpp calls).  The registry lock is
 * held for the list lookup only; GET_CONTAINER numbers come from the
 * container's lock-free summary, mappings and regions from a killable wait
 * for the container's lock with no global lock held.
 *   container_next: the visible container with the lowest id > after: 0,
 *     or -ENOENT if none.
 *   container_get: container id: 0, -ENOENT (none, or closed) or -EPERM
 *     (not visible; this check is audited).
 *   mapping_next: the mapping of container id with the lowest iova >= from;
 *   prereg_next: the region with the lowest vaddr >= from_vaddr:
 *     0; 1 if there is none (the end of the dump); -ENOENT or -EPERM as
 *     above; -EINTR (a fatal signal while waiting for the container).
 */
extern "C" int vfio_cxx_view_container_next(const kapi_viewer *v, kapi_u64 after,
					    vfio_cxx_container_info *out) noexcept;
extern "C" int vfio_cxx_view_container_get(const kapi_viewer *v, kapi_u64 id,
					   vfio_cxx_container_info *out) noexcept;
extern "C" int vfio_cxx_view_mapping_next(const kapi_viewer *v, kapi_u64 id, kapi_u64 from,
					  vfio_cxx_mapping_info *out) noexcept;
extern "C" int vfio_cxx_view_prereg_next(const kapi_viewer *v, kapi_u64 id, kapi_u64 from_vaddr,
					 vfio_cxx_prereg_info *out) noexcept;

#endif
