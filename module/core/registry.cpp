// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of live containers and their snapshots (see registry.h).
 */
#include "registry.h"
#include "container.h"

#include <vfio_cxx/errno.h>
#include <vfio_cxx/list.h>

namespace vfio_cxx {

namespace {

/* Both protected by kapi_registry_mutex() (KAPI_LOCK_REGISTRY). */
constinit List<Container, &Container::reg_node> g_containers;
constinit u64 g_next_id = 1;

class [[nodiscard]] RegistryGuard {
public:
	RegistryGuard() noexcept { kapi_mutex_lock(kapi_registry_mutex()); }
	VFIO_CXX_NO_COPY(RegistryGuard);
	~RegistryGuard() { kapi_mutex_unlock(kapi_registry_mutex()); }
};

} /* namespace */

void Registry::add(Container &c, unsigned long type) noexcept
{
	kapi_mm *mm = kapi_mm_grab_current();
	c.owner_mm_id = kapi_mm_id(mm);
	if (mm)
		kapi_mm_drop(mm);
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
	kapi_emit_event(type, &ev);
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

bool Registry::visible(const Container &c, u32 uid, bool admin) noexcept
{
	return admin || c.owner_uid == uid;
}

u64 Registry::prereg_pages_locked(Container &c) noexcept
{
	return c.prereg_pages_locked();
}

u64 Registry::orphaned_mappings_locked(Container &c) noexcept
{
	return c.orphaned_dmas_locked();
}

void Registry::snapshot(Container &c, vfio_cxx_container_info &out) noexcept
{
	out = vfio_cxx_container_info{};
	out.id = c.id;
	out.mm_id = c.owner_mm_id;
	out.tgid = c.owner_tgid;
	out.uid = c.owner_uid;
	out.type = c.iommu_type;
	Guard g(c.lock_);
	for (Group &grp : c.groups_) {
		if (out.ngroup_ids < VFIO_CXX_INFO_GROUPS_MAX)
			out.group_ids[out.ngroup_ids++] = kapi_group_id(grp.raw());
		out.groups++;
	}
	out.domains = static_cast<unsigned int>(c.domains_.size());
	c.for_each_dma(0, ~u64(0), [&out](Dma &d) {
		out.mappings++;
		out.mapped_bytes += d.size;
		out.pages_pinned += d.runs.pinned_pages();
		out.external_pages += d.ext_pages;
		out.locked_pages += d.locked;
		return true;
	});
	out.prereg_pages = prereg_pages_locked(c);
	out.orphaned_mappings = orphaned_mappings_locked(c);
}

Container *Registry::find(u64 id) noexcept
{
	for (Container &c : g_containers)
		if (c.id == id)
			return &c;
	return nullptr;
}

int Registry::next(u64 after, u32 uid, bool admin, vfio_cxx_container_info &out) noexcept
{
	RegistryGuard g;
	/* Ids increase along the list: the first visible one past `after`. */
	for (Container &c : g_containers) {
		if (c.id <= after || !visible(c, uid, admin))
			continue;
		snapshot(c, out);
		return 0;
	}
	return -err::NOENT;
}

int Registry::lookup(u64 id, u32 uid, bool admin, Container *&out) noexcept
{
	out = find(id);
	if (!out)
		return -err::NOENT;
	return visible(*out, uid, admin) ? 0 : -err::PERM;
}

int Registry::get(u64 id, u32 uid, bool admin, vfio_cxx_container_info &out) noexcept
{
	RegistryGuard g;
	Container *c = nullptr;
	if (int ret = lookup(id, uid, admin, c))
		return ret;
	snapshot(*c, out);
	return 0;
}

void Registry::fill_mapping(Dma &d, vfio_cxx_mapping_info &out) noexcept
{
	out = vfio_cxx_mapping_info{};
	out.iova = d.iova;
	out.size = d.size;
	out.vaddr = d.vaddr;
	out.mm_id = kapi_mm_id(d.mm());
	out.pages_pinned = d.runs.pinned_pages();
	out.external_pages = d.ext_pages;
	out.locked_pages = d.locked;
	out.prot = static_cast<unsigned int>(d.prot);
	out.flags = (d.iommu_mapped ? VFIO_CXX_MAPPING_IOMMU_MAPPED : 0) |
		    (d.vaddr_invalid ? VFIO_CXX_MAPPING_VADDR_INVALID : 0);
}

int Registry::mapping_next(u64 id, u64 from, u32 uid, bool admin,
			   vfio_cxx_mapping_info &out) noexcept
{
	RegistryGuard g;
	Container *c = nullptr;
	if (int ret = lookup(id, uid, admin, c))
		return ret;
	Guard cg(c->lock_);
	/* The lowest mapping intersecting [from, max] whose iova is >= from. */
	Dma *d = c->find_dma(from, ~u64(0));
	if (d && d->iova < from) {
		const u64 next = d->last() + 1;
		d = next ? c->find_dma(next, ~u64(0)) : nullptr;
	}
	if (!d)
		return 1;
	fill_mapping(*d, out);
	return 0;
}

int Registry::prereg_next(u64 id, u64 from_vaddr, u32 uid, bool admin,
			  vfio_cxx_prereg_info &out) noexcept
{
	RegistryGuard g;
	Container *c = nullptr;
	if (int ret = lookup(id, uid, admin, c))
		return ret;
	Guard cg(c->lock_);
	/* The list keeps registration order: the lowest vaddr >= from_vaddr. */
	Prereg *best = nullptr;
	for (Prereg &p : c->preregs_)
		if (p.vaddr >= from_vaddr && (!best || p.vaddr < best->vaddr))
			best = &p;
	if (!best)
		return 1;
	out = vfio_cxx_prereg_info{};
	out.vaddr = best->vaddr;
	out.size = best->size;
	out.mm_id = kapi_mm_id(c->prereg_mm_);
	out.users = best->used;
	return 0;
}

} /* namespace vfio_cxx */

using namespace vfio_cxx;

extern "C" int vfio_cxx_container_next(kapi_u64 after, unsigned int uid, int admin,
				       vfio_cxx_container_info *out) noexcept
{
	return Registry::next(after, uid, admin != 0, *out);
}

extern "C" int vfio_cxx_container_get(kapi_u64 id, unsigned int uid, int admin,
				      vfio_cxx_container_info *out) noexcept
{
	return Registry::get(id, uid, admin != 0, *out);
}

extern "C" int vfio_cxx_mapping_next(kapi_u64 id, kapi_u64 from, unsigned int uid, int admin,
				     vfio_cxx_mapping_info *out) noexcept
{
	return Registry::mapping_next(id, from, uid, admin != 0, *out);
}

extern "C" int vfio_cxx_prereg_next(kapi_u64 id, kapi_u64 from_vaddr, unsigned int uid, int admin,
				    vfio_cxx_prereg_info *out) noexcept
{
	return Registry::prereg_next(id, from_vaddr, uid, admin != 0, *out);
}
