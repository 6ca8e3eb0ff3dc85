// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_cxx generic netlink family (uapi/linux/vfio_cxx_netlink.h): what
 * each request answers and in which order, the dump cursors, who sees which
 * container, and the events.  module/kapi/netlink.c registers the family
 * (its ops, attribute policy and multicast group), turns each op into a
 * call of the handlers here and puts what they say into sk_buffs
 * (../kapi/netlink_services.h); it also answers the credential questions
 * that need struct cred: is this viewer CAP_SYS_ADMIN, may this credential
 * read that process (ptrace's READ_FSCREDS rule and the LSM label).  The
 * flow that combines those answers is the policy, and it is here.
 *
 * Locking.  The family is parallel_ops: no genl_mutex around any handler,
 * and no lock of this file's own (its only state is a dump's ctx, owned by
 * that dump's calls, which netlink serialises per socket).  The registry
 * mutex is held for list lookups only (registry.cpp), never here;
 * GET_CONTAINER reads a container's lock-free summary; GET_MAPPINGS and
 * GET_PREREGS wait killably for one container's lock_ with nothing else
 * held, so a container whose owner keeps its lock (a MAP_DMA of many GiB,
 * a FUSE page that never arrives) stalls only the reader of that
 * container's dump (issue 11 item 3).  may_see() takes no core lock and is
 * called with none held (the host kapi checks).  emit_event() runs in the
 * caller's context, which may hold a container's lock_ (memlock_denied,
 * mm_exited): it takes no core lock and only allocates and sends.
 *
 * Who may see what (issue 11 item 4, Documentation/netlink.rst): a viewer
 * is the socket opener's credentials (the file's f_cred), the sender's,
 * the sender's thread group and CAP_SYS_ADMIN as netlink_capable() sees it
 * (opener and sender).  Without CAP_SYS_ADMIN a container is visible only
 * if both credentials may read its owner process as ptrace's
 * PTRACE_MODE_READ_FSCREDS would allow (/proc/<pid>/maps); the sender also
 * when it is the owner.  A dump captures the viewer in its start (the
 * requester's context) and releases it in done: the later dumpit calls run
 * in whatever process calls recvmsg() on the socket, so nothing there may
 * look at current's credentials.
 */
#include "netlink.h"
#include "registry.h"
#include "entry.h"

#include "../kapi/netlink_services.h"
#include "../../uapi/linux/vfio_cxx_netlink.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>

namespace vfio_cxx::nl {

/* ---- visibility ------------------------------------------------------------ */

namespace {

class [[nodiscard]] OwnerTask {
public:
	explicit OwnerTask(const kapi_owner *o) noexcept : t_(kapi_owner_task_get(o)) {}
	VFIO_CXX_NO_COPY(OwnerTask);
	~OwnerTask()
	{
		if (t_)
			kapi_owner_task_put(t_);
	}
	explicit operator bool() const noexcept { return t_ != nullptr; }
	bool readable_by(const kapi_viewer *v, int who, bool quiet) const noexcept
	{
		return kapi_viewer_may_read(v, who, t_, quiet) != 0;
	}

private:
	kapi_owner_task *t_;
};

} /* namespace */

bool may_see(const kapi_viewer *v, const kapi_owner *o, bool quiet) noexcept
{
	if (kapi_viewer_admin(v))
		return true;
	if (!o || !kapi_viewer_has_opener(v))
		return false;
	/*
	 * The owner asking through a socket it opened itself, credentials
	 * unchanged since (the same cred object): its own business, as
	 * /proc/self is, even when it is not dumpable.
	 */
	const bool sender_owns = kapi_viewer_sender_is(v, o);
	if (sender_owns && kapi_viewer_opener_is_sender(v))
		return true;
	OwnerTask task(o);
	if (!task)
		return false; /* the owner has exited: CAP_SYS_ADMIN only */
	/*
	 * Otherwise each credential on its own; the sender also passes as the
	 * owner itself (ptrace's same-thread-group rule).  The opener is only
	 * a cred, so it never passes that way: a socket opened by someone else
	 * and handed to the owner shows only what its opener may read.  The
	 * sender first, and the opener only if the sender passed: a denial is
	 * audited once.
	 */
	return (sender_owns || task.readable_by(v, KAPI_VIEWER_SENDER, quiet)) &&
	       task.readable_by(v, KAPI_VIEWER_OPENER, quiet);
}

/* ---- messages ------------------------------------------------------------------ */

namespace {

/* Puts attributes into m's current part until one fails; err() is the first failure. */
class Writer {
public:
	explicit Writer(kapi_msg *m) noexcept : m_(m) {}
	Writer &u32(int attr, u32 v) noexcept
	{
		if (!err_)
			err_ = kapi_msg_put_u32(m_, attr, v);
		return *this;
	}
	Writer &u64(int attr, u64 v) noexcept
	{
		if (!err_)
			err_ = kapi_msg_put_u64(m_, attr, v);
		return *this;
	}
	Writer &nest(int attr) noexcept
	{
		if (!err_)
			err_ = kapi_msg_nest_start(m_, attr);
		return *this;
	}
	Writer &end_nest() noexcept
	{
		if (!err_)
			kapi_msg_nest_end(m_);
		return *this;
	}
	int err() const noexcept { return err_; }

private:
	kapi_msg *m_;
	int err_ = 0;
};

/* One part for cmd, filled by fill(Writer &): kept whole, or not at all (0 or -EMSGSIZE). */
template <class F>
int put_part(kapi_msg *m, unsigned int cmd, F fill) noexcept
{
	if (int ret = kapi_msg_begin(m, cmd))
		return ret;
	Writer w(m);
	fill(w);
	if (w.err()) {
		kapi_msg_cancel(m);
		return w.err();
	}
	kapi_msg_end(m);
	return 0;
}

/* A reply or an event: freed unless sent. */
using OwnedMsg = Owned<kapi_msg, CallFree<kapi_msg, kapi_msg_free>>;

/* ---- what each message carries, in this order ---- */

void container_attrs(Writer &w, const vfio_cxx_container_info &ci) noexcept
{
	w.u64(VFIO_CXX_A_CONTAINER_ID, ci.id)
		.u32(VFIO_CXX_A_OWNER_TGID, ci.tgid)
		.u32(VFIO_CXX_A_OWNER_UID, ci.uid)
		.u64(VFIO_CXX_A_MM_ID, ci.mm_id)
		.u32(VFIO_CXX_A_IOMMU_TYPE, ci.type)
		.u32(VFIO_CXX_A_GROUPS, ci.groups)
		.u32(VFIO_CXX_A_DOMAINS, ci.domains)
		.u64(VFIO_CXX_A_MAPPINGS, ci.mappings)
		.u64(VFIO_CXX_A_MAPPED_BYTES, ci.mapped_bytes)
		.u64(VFIO_CXX_A_PAGES_PINNED, ci.pages_pinned)
		.u64(VFIO_CXX_A_EXTERNAL_PAGES, ci.external_pages)
		.u64(VFIO_CXX_A_PREREG_PAGES, ci.prereg_pages)
		.u64(VFIO_CXX_A_LOCKED_PAGES, ci.locked_pages)
		.u64(VFIO_CXX_A_ORPHANED_MAPPINGS, ci.orphaned_mappings)
		.nest(VFIO_CXX_A_GROUP_IDS);
	for (u32 i = 0; i < ci.ngroup_ids && i < VFIO_CXX_INFO_GROUPS_MAX; i++)
		w.u32(VFIO_CXX_A_GROUP_ID, static_cast<u32>(ci.group_ids[i]));
	w.end_nest();
}

static_assert(VFIO_CXX_MAPPING_IOMMU_MAPPED == VFIO_CXX_MAP_F_IOMMU_MAPPED &&
		      VFIO_CXX_MAPPING_VADDR_INVALID == VFIO_CXX_MAP_F_VADDR_INVALID,
	      "the snapshot's mapping flags are the uAPI's");

void mapping_attrs(Writer &w, u64 id, const vfio_cxx_mapping_info &mi) noexcept
{
	w.u64(VFIO_CXX_A_CONTAINER_ID, id)
		.u64(VFIO_CXX_A_IOVA, mi.iova)
		.u64(VFIO_CXX_A_SIZE, mi.size)
		.u64(VFIO_CXX_A_VADDR, mi.vaddr)
		.u64(VFIO_CXX_A_MM_ID, mi.mm_id)
		.u32(VFIO_CXX_A_PROT, mi.prot)
		.u32(VFIO_CXX_A_MAP_FLAGS, mi.flags)
		.u64(VFIO_CXX_A_PAGES_PINNED, mi.pages_pinned)
		.u64(VFIO_CXX_A_EXTERNAL_PAGES, mi.external_pages)
		.u64(VFIO_CXX_A_LOCKED_PAGES, mi.locked_pages);
}

void prereg_attrs(Writer &w, u64 id, const vfio_cxx_prereg_info &pi) noexcept
{
	/* A region is pinned whole: its pages are its size in pages (uAPI: size / 4096). */
	w.u64(VFIO_CXX_A_CONTAINER_ID, id)
		.u64(VFIO_CXX_A_VADDR, pi.vaddr)
		.u64(VFIO_CXX_A_SIZE, pi.size)
		.u64(VFIO_CXX_A_MM_ID, pi.mm_id)
		.u64(VFIO_CXX_A_PAGES_PINNED, pi.size >> abi::PAGE_SHIFT)
		.u64(VFIO_CXX_A_PREREG_USERS, pi.users);
}

void stats_attrs(Writer &w, const vfio_cxx_stats &st) noexcept
{
	w.u64(VFIO_CXX_A_STAT_CONTAINERS_LIVE, st.containers_live)
		.u64(VFIO_CXX_A_STAT_CONTAINERS_OPENED, st.containers_opened)
		.u64(VFIO_CXX_A_STAT_GROUPS_ATTACHED, st.groups_attached)
		.u64(VFIO_CXX_A_STAT_DOMAINS_LIVE, st.domains_live)
		.u64(VFIO_CXX_A_STAT_DMAS_LIVE, st.dmas_live)
		.u64(VFIO_CXX_A_STAT_PAGES_PINNED, st.pages_pinned)
		.u64(VFIO_CXX_A_STAT_EXTERNAL_PAGES, st.external_pages)
		.u64(VFIO_CXX_A_STAT_DEVICES_REGISTERED, st.devices_registered)
		.u64(VFIO_CXX_A_STAT_PREREG_PAGES, st.prereg_pages)
		.u64(VFIO_CXX_A_STAT_MM_EXITS, st.mm_exits);
}

/* ---- doit ---- */

/* A reply of one part for cmd, filled by fill(Writer &): 0 (sent) or a negative errno. */
template <class F>
int reply(kapi_nl_req *r, unsigned int cmd, F fill) noexcept
{
	OwnedMsg msg(kapi_msg_reply_new(r));
	if (!msg.get())
		return -err::NOMEM;
	if (put_part(msg.get(), cmd, fill))
		return -KAPI_EMSGSIZE;
	return kapi_msg_reply(r, msg.release());
}

int get_container_doit(kapi_nl_req *r) noexcept
{
	u64 id = 0;
	if (int ret = kapi_nl_req_container_id(r, &id))
		return ret;
	vfio_cxx_container_info ci{};
	if (int ret = Registry::get(kapi_nl_req_viewer(r), id, ci))
		return ret; /* -ENOENT, -EPERM */
	return reply(r, VFIO_CXX_CMD_GET_CONTAINER, [&](Writer &w) { container_attrs(w, ci); });
}

int get_stats_doit(kapi_nl_req *r) noexcept
{
	vfio_cxx_stats st{};
	vfio_cxx_get_stats(&st);
	return reply(r, VFIO_CXX_CMD_GET_STATS, [&](Writer &w) { stats_attrs(w, st); });
}

/* ---- dumps ---- */

/*
 * A dump's state between its calls (the request's dump ctx).  cursor:
 * GET_CONTAINER, the last id sent (the next is the lowest visible id
 * above it); GET_MAPPINGS, the iova after the last mapping sent;
 * GET_PREREGS, the vaddr after the last region sent.  end: the last one
 * sent ended at the top of the space (the cursor wrapped to 0).
 */
struct DumpState {
	kapi_viewer *viewer; /* held from start to done */
	u64 id;		     /* GET_MAPPINGS, GET_PREREGS: the container */
	u64 cursor;
	bool end;
};
static_assert(sizeof(DumpState) <= KAPI_NL_DUMP_CTX_SIZE && alignof(DumpState) <= 8,
	      "a dump's state fits the netlink_callback's ctx");

DumpState &state(kapi_nl_req *r) noexcept
{
	return *static_cast<DumpState *>(kapi_nl_dump_ctx(r));
}

bool dumps_a_container(unsigned int cmd) noexcept
{
	return cmd == VFIO_CXX_CMD_GET_MAPPINGS || cmd == VFIO_CXX_CMD_GET_PREREGS;
}

int start(kapi_nl_req *r, unsigned int cmd) noexcept
{
	u64 id = 0;
	if (dumps_a_container(cmd)) {
		if (int ret = kapi_nl_req_container_id(r, &id))
			return ret;
	} else if (cmd != VFIO_CXX_CMD_GET_CONTAINER) {
		return -err::OPNOTSUPP;
	}
	kapi_viewer *v = kapi_nl_viewer_hold(r);
	if (!v)
		return -err::NOMEM;
	DumpState *s = new (kapi_nl_dump_ctx(r)) DumpState{ v, id, 0, false };
	if (dumps_a_container(cmd)) {
		/*
		 * Unknown or not visible: the dump fails with ENOENT or EPERM
		 * (done is not called, so the viewer goes now).  This check is
		 * audited; every later step checks again quietly.
		 */
		vfio_cxx_container_info ci{};
		if (int ret = Registry::get(v, id, ci)) {
			kapi_viewer_release(v);
			s->viewer = nullptr;
			return ret;
		}
	}
	return 0;
}

int dump_containers(kapi_nl_req *r, kapi_msg *m) noexcept
{
	DumpState &s = state(r);
	vfio_cxx_container_info ci{};
	while (!Registry::next(s.viewer, s.cursor, ci)) {
		if (put_part(m, VFIO_CXX_CMD_GET_CONTAINER, [&](Writer &w) { container_attrs(w, ci); }))
			break; /* no room: the next call goes on from the cursor */
		s.cursor = ci.id;
	}
	return kapi_msg_len(m);
}

/*
 * A dump of one container's contents: next(from, info) is 0 (info, the
 * first at or after from), 1 (no more) or a negative errno (the container
 * went away or is no longer visible, or a fatal signal interrupted the
 * wait); the error ends the dump if nothing is in this message yet, else
 * the next call reports it.  after(info) is the cursor past info.
 */
template <class Info, class Next, class Fill, class After>
int dump_contents(kapi_nl_req *r, kapi_msg *m, unsigned int cmd, Next next, Fill fill,
		  After after) noexcept
{
	DumpState &s = state(r);
	while (!s.end) {
		Info info{};
		if (int ret = next(s, info))
			return ret < 0 && !kapi_msg_len(m) ? ret : kapi_msg_len(m);
		if (put_part(m, cmd, [&](Writer &w) { fill(w, s.id, info); }))
			break;
		s.cursor = after(info);
		if (!s.cursor)
			s.end = true;
	}
	return kapi_msg_len(m);
}

int dump_mappings(kapi_nl_req *r, kapi_msg *m) noexcept
{
	return dump_contents<vfio_cxx_mapping_info>(
		r, m, VFIO_CXX_CMD_GET_MAPPINGS,
		[](DumpState &s, vfio_cxx_mapping_info &mi) {
			return Registry::mapping_next(s.viewer, s.id, s.cursor, mi);
		},
		mapping_attrs, [](const vfio_cxx_mapping_info &mi) { return mi.iova + mi.size; });
}

int dump_preregs(kapi_nl_req *r, kapi_msg *m) noexcept
{
	return dump_contents<vfio_cxx_prereg_info>(
		r, m, VFIO_CXX_CMD_GET_PREREGS,
		[](DumpState &s, vfio_cxx_prereg_info &pi) {
			return Registry::prereg_next(s.viewer, s.id, s.cursor, pi);
		},
		prereg_attrs, [](const vfio_cxx_prereg_info &pi) { return pi.vaddr + pi.size; });
}

} /* namespace */

/* ---- events ---------------------------------------------------------------- */

namespace {

unsigned int event_cmd(kapi_event_type type) noexcept
{
	switch (type) {
	case KAPI_EVENT_CONTAINER_CREATED:
		return VFIO_CXX_CMD_CONTAINER_CREATED;
	case KAPI_EVENT_CONTAINER_RELEASED:
		return VFIO_CXX_CMD_CONTAINER_RELEASED;
	case KAPI_EVENT_MEMLOCK_DENIED:
		return VFIO_CXX_CMD_MEMLOCK_DENIED;
	case KAPI_EVENT_MM_EXITED:
		return VFIO_CXX_CMD_MM_EXITED;
	}
	return 0;
}

} /* namespace */

void emit_event(kapi_event_type type, const kapi_event &ev) noexcept
{
	const unsigned int cmd = event_cmd(type);
	if (!cmd || !kapi_nl_has_listeners())
		return; /* nothing built for no one */
	OwnedMsg msg(kapi_msg_event_new());
	if (!msg.get())
		return; /* events are best effort */
	const int bad = put_part(msg.get(), cmd, [&](Writer &w) {
		w.u64(VFIO_CXX_A_CONTAINER_ID, ev.container_id)
			.u32(VFIO_CXX_A_OWNER_TGID, ev.tgid)
			.u32(VFIO_CXX_A_OWNER_UID, ev.uid)
			.u64(VFIO_CXX_A_MM_ID, ev.mm_id);
		if (type == KAPI_EVENT_MEMLOCK_DENIED)
			w.u64(VFIO_CXX_A_EVENT_PAGES, ev.pages).u64(VFIO_CXX_A_LIMIT_PAGES, ev.limit_pages);
		if (type == KAPI_EVENT_MM_EXITED)
			w.u64(VFIO_CXX_A_EVENT_PAGES, ev.pages).u64(VFIO_CXX_A_MAPPINGS, ev.mappings);
	});
	if (!bad)
		kapi_msg_multicast(msg.release());
}

} /* namespace vfio_cxx::nl */

/* ---- the handlers netlink.c's ops call --------------------------------------- */

using namespace vfio_cxx;

extern "C" int vfio_cxx_nl_doit(kapi_nl_req *r, unsigned int cmd) noexcept
{
	switch (cmd) {
	case VFIO_CXX_CMD_GET_CONTAINER:
		return nl::get_container_doit(r);
	case VFIO_CXX_CMD_GET_STATS:
		return nl::get_stats_doit(r);
	}
	return -err::OPNOTSUPP;
}

extern "C" int vfio_cxx_nl_start(kapi_nl_req *r, unsigned int cmd) noexcept
{
	return nl::start(r, cmd);
}

extern "C" int vfio_cxx_nl_dumpit(kapi_nl_req *r, kapi_msg *m, unsigned int cmd) noexcept
{
	if (!nl::state(r).viewer)
		return -err::INVAL; /* no start: cannot happen with netlink.c's ops */
	switch (cmd) {
	case VFIO_CXX_CMD_GET_CONTAINER:
		return nl::dump_containers(r, m);
	case VFIO_CXX_CMD_GET_MAPPINGS:
		return nl::dump_mappings(r, m);
	case VFIO_CXX_CMD_GET_PREREGS:
		return nl::dump_preregs(r, m);
	}
	return -err::OPNOTSUPP;
}

/* The end of every started dump, also when the socket is closed in the middle (maybe in a worker). */
extern "C" int vfio_cxx_nl_done(kapi_nl_req *r) noexcept
{
	nl::DumpState &s = nl::state(r);
	kapi_viewer_release(exchange(s.viewer, static_cast<kapi_viewer *>(nullptr)));
	return 0;
}
