/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test introspection of a Container, kept out of its production interface:
 * the host tests read state through a ContainerProbe (a friend), which
 * forwards the few production calls the tests make as well.  introspect.cpp
 * is built into the host test library only.
 *
 * Locking: each reading takes the container lock; call with no lock held.
 */
#ifndef VFIO_CXX_INTROSPECT_H
#define VFIO_CXX_INTROSPECT_H

#include "container.h"

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

#endif
