/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VFIO container served by vfio-cxx.
 *
 * Ownership: the VFIO core owns the Container through the opaque pointer it
 * got from vfio_cxx_open() and gives it back exactly once to
 * vfio_cxx_release().  The Container owns its Groups and Domains; a Group
 * points at (does not own) the Domain it is attached to, and a Domain counts
 * its Groups and is freed by the Container when the count drops to zero.
 *
 * Locking: lock_ (KAPI_LOCK_CONTAINER) protects groups_ and domains_.  The
 * VFIO core serialises open/release against everything else; attach, detach
 * and ioctl may run concurrently and take lock_.
 */
#ifndef VFIO_CXX_CONTAINER_H
#define VFIO_CXX_CONTAINER_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include <vfio_cxx/sync.h>

namespace vfio_cxx {

struct Stats {
	Counter containers_live;
	Counter containers_opened;
	Counter groups_attached;
	Counter domains_live;
};
extern constinit Stats g_stats;

/* A paging IOMMU domain shared by the compatible groups of one container. */
class Domain {
public:
	explicit Domain(kapi_domain *d) noexcept : d_(d) { g_stats.domains_live.inc(); }
	VFIO_CXX_NO_COPY(Domain);
	~Domain()
	{
		kapi_domain_free(d_);
		g_stats.domains_live.dec();
	}
	kapi_domain *raw() const noexcept { return d_; }

	ListNode node;
	unsigned int groups = 0;

private:
	kapi_domain *d_;
};

class Group {
public:
	Group(kapi_group *g, bool emulated) noexcept : g_(g), emulated_(emulated) {}
	VFIO_CXX_NO_COPY(Group);
	kapi_group *raw() const noexcept { return g_; }
	bool emulated() const noexcept { return emulated_; }

	ListNode node;
	Domain *domain = nullptr; /* null for emulated (external) groups */

private:
	kapi_group *g_;
	bool emulated_;
};

class Container {
public:
	/* The container for VFIO_SET_IOMMU(type), or -EINVAL/-ENOMEM. */
	static Result<Owned<Container>> create(unsigned long type) noexcept;
	VFIO_CXX_NO_COPY(Container);
	~Container();

	int attach_group(kapi_group *g, int type) noexcept;
	void detach_group(kapi_group *g) noexcept;
	long ioctl(unsigned int cmd, unsigned long arg) noexcept;

	/* VFIO_CHECK_EXTENSION, with or without a container (c may be null). */
	static long check_extension(const Container *c, unsigned long ext) noexcept;
	/* Whether VFIO_SET_IOMMU(type) selects this backend. */
	static bool serves_type(unsigned long type) noexcept;

	size_t group_count() noexcept;
	size_t domain_count() noexcept;
	bool v2() const noexcept { return v2_; }

private:
	template <class T, class... Args>
	friend T *make(Args &&...args) noexcept;
	explicit Container(bool v2) noexcept;
	Group *find_locked(kapi_group *g) noexcept;
	int attach_iommu_locked(Group &grp) noexcept;
	void detach_locked(Group &grp) noexcept;

	Mutex lock_;
	List<Group, &Group::node> groups_;
	List<Domain, &Domain::node> domains_;
	bool v2_;
};

} /* namespace vfio_cxx */

#endif
