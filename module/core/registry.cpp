// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of live containers and what viewers see of them (see registry.h).
 */
#include "registry.h"
#include "container.h"
#include "netlink.h"

#include <vfio_cxx/errno.h>
#include <vfio_cxx/list.h>

namespace vfio_cxx {

namespace {

/* Both protected by kapi_registry_mutex() (KAPI_LOCK_REGISTRY). */
constinit List<Container, &Container::reg_node> g_containers;
constinit u64 g_next_id = 1;

class [[nodiscard]] RegistryGuard : public StaticGuard {
public:
	RegistryGuard() noexcept : StaticGuard(kapi_registry_mutex()) {}
};

} /* namespace */

void Registry::add(Container &c, unsigned long type) noexcept
{
	kapi_mm *mm = kapi_mm_grab_current();
	c.owner_mm_id = kapi_mm_id(mm);
	if (mm)
		kapi_mm_drop(mm);
	c.owner = kapi_owner_get();
	c.owner_tgid = kapi_current_tgid();
	c.owner_uid = kapi_current_euid();
	c.iommu_type = static_cast<u32>(type);
	{
		RegistryGuard g;
		c.id = g_next_id++;
		g_containers.push_back(c);
	}
	kapi_event ev{};
	event(KAPI_EVENT_CONTAINER_CREATED, c, ev);
}

void Registry::remove(Container &c) noexcept
{
	if (!c.id)
		return; /* create() failed before registering it */
	{
		RegistryGuard g;
		List<Container, &Container::reg_node>::remove(c);
	}
	kapi_event ev{};
	event(KAPI_EVENT_CONTAINER_RELEASED, c, ev);
}

void Registry::event(kapi_event_type type, const Container &c, kapi_event &ev) noexcept
{
	ev.container_id = c.id;
	if (!ev.mm_id)
		ev.mm_id = c.owner_mm_id;
	ev.tgid = c.owner_tgid;
	ev.uid = c.owner_uid;
	nl::emit_event(type, ev);
}

void Registry::memlock_denied(Container &c, u64 pages, u64 limit) noexcept
{
	kapi_event ev{};
	ev.pages = pages;
	ev.limit_pages = limit;
	event(KAPI_EVENT_MEMLOCK_DENIED, c, ev);
}

void Registry::mm_exited(Container &c, kapi_mm *mm, u64 mappings, u64 pages) noexcept
{
	kapi_event ev{};
	ev.mappings = mappings;
	ev.pages = pages;
	ev.mm_id = kapi_mm_id(mm); /* the mm that exited, not the creator's */
	event(KAPI_EVENT_MM_EXITED, c, ev);
}

size_t Registry::count() noexcept
{
	RegistryGuard g;
	return g_containers.size();
}

namespace {

/* A reference from a lookup, dropped with no registry lock held (put() may free). */
class [[nodiscard]] Ref {
public:
	explicit Ref(Container *c) noexcept : c_(c) {}
	VFIO_CXX_NO_COPY(Ref);
	~Ref()
	{
		if (c_)
			c_->put();
	}
	Container *operator->() const noexcept { return c_; }
	explicit operator bool() const noexcept { return c_ != nullptr; }

private:
	Container *c_;
};

} /* namespace */

Container *Registry::grab_from(u64 first) noexcept
{
	RegistryGuard g;
	/* Ids increase along the list. */
	for (Container &c : g_containers) {
		if (c.id < first || c.closed())
			continue;
		c.get();
		return &c;
	}
	return nullptr;
}

int Registry::grab(const kapi_viewer *v, u64 id, bool quiet, Container *&out) noexcept
{
	out = nullptr;
	Container *c = grab_from(id);
	if (!c || c->id != id) {
		if (c)
			c->put();
		return -err::NOENT;
	}
	/* The owner is immutable: no container lock for the decision. */
	if (!nl::may_see(v, c->owner, quiet)) {
		c->put();
		return -err::PERM;
	}
	out = c;
	return 0;
}

int Registry::next(const kapi_viewer *v, u64 after, vfio_cxx_container_info &out) noexcept
{
	/* The first visible one past `after`: a listing, denials are not audited. */
	for (u64 first = after + 1; first;) {
		Ref c(grab_from(first));
		if (!c)
			break;
		first = c->id + 1;
		if (nl::may_see(v, c->owner, true)) {
			c->summary(out);
			return 0;
		}
	}
	return -err::NOENT;
}

int Registry::get(const kapi_viewer *v, u64 id, vfio_cxx_container_info &out) noexcept
{
	Container *c = nullptr;
	if (int ret = grab(v, id, false, c))
		return ret;
	Ref r(c);
	r->summary(out);
	return 0;
}

/*
 * The dumps of one container's contents were authorised (and audited) by
 * get() in their start; each later step checks again quietly, so a
 * container whose owner changed credentials meanwhile drops out.
 */
int Registry::mapping_next(const kapi_viewer *v, u64 id, u64 from,
			   vfio_cxx_mapping_info &out) noexcept
{
	Container *c = nullptr;
	if (int ret = grab(v, id, true, c))
		return ret;
	Ref r(c);
	return r->mapping_from(from, out);
}

int Registry::prereg_next(const kapi_viewer *v, u64 id, u64 from_vaddr,
			  vfio_cxx_prereg_info &out) noexcept
{
	Container *c = nullptr;
	if (int ret = grab(v, id, true, c))
		return ret;
	Ref r(c);
	return r->prereg_from(from_vaddr, out);
}

} /* namespace vfio_cxx */
