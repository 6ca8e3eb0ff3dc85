/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test controls of the userspace kapi (kapi_host.cpp).
 *
 * The host kapi models the kernel side of module/kapi/services.h closely enough
 * for the core's logic to be exercised: counted allocations with
 * fail-the-Nth injection, mutexes that really check ownership, a fake IOMMU
 * (groups, domains with page tables), fake mms with locked_vm accounting,
 * fake user memory (a user address is a host pointer) and fake pinning.
 * Any misuse that the kernel would punish (double free, detaching a group
 * that is not attached, unpinning what is not pinned, a mutex not held)
 * aborts the test binary.
 */
#ifndef VFIO_CXX_KAPI_HOST_H
#define VFIO_CXX_KAPI_HOST_H

#include <functional>
#include <string>
#include <vector>

#include "kapi/services.h"
#include "core/entry.h"

namespace khost {

/* ---- fake IOMMU --------------------------------------------------------- */

/* last = start - 1: an empty region (the kernel's length 0). */
struct ResvRegion {
	kapi_u64 start, last;
	bool relaxable = false;		/* IOMMU_RESV_DIRECT_RELAXABLE */
};

/*
 * A fake iommu_group.  Pass it to the core as kapi_group *via group().
 * Fields may be changed by the test before the group is attached.
 */
struct FakeGroup {
	int id = 0;
	bool msi_isolated = true;
	int family = 0;			/* IOMMU driver: same family = compatible domains */
	bool attach_fails = false;	/* kapi_domain_attach_group returns attach_error */
	int attach_error = -19;		/* -ENODEV */
	bool coherent = true;		/* domains enforce cache coherency */
	kapi_u64 pgsize_bitmap = 0x40201000ULL; /* 4K | 2M | 1G */
	kapi_u64 aperture_start = 0;
	kapi_u64 aperture_end = (1ULL << 48) - 1;
	std::vector<ResvRegion> resv;
	int resv_error = 0;		/* kapi_group_for_each_resv_region fails */
	bool nesting = false;		/* its domains accept kapi_domain_enable_nesting */

	/* state kept by the fake */
	void *attached_to = nullptr;	/* the FakeDomain it is attached to */

	kapi_group *group() { return reinterpret_cast<kapi_group *>(this); }
};

/* ---- fake emulated (mdev) device --------------------------------------------- */

/*
 * A fake vfio_device.  Pass it to the core as kapi_device * via dev().  With
 * on_unmap set it is a driver with a dma_unmap callback, which the core
 * calls (with no core lock held) to make it drop its pins.
 */
struct FakeDevice {
	std::function<void(kapi_u64 iova, kapi_u64 length)> on_unmap;
	int unmap_calls = 0;

	kapi_device *dev() { return reinterpret_cast<kapi_device *>(this); }
};
/* Whether the calling thread holds a container lock (KAPI_LOCK_CONTAINER). */
bool core_lock_held();

/* ---- fake mm ------------------------------------------------------------ */

struct FakeMm;
/* A fresh mm (mm_count 1, held by the test); drop it with mm_put(). */
FakeMm *mm_new();
void mm_put(FakeMm *mm);
/* The mm that kapi_mm_grab_current() returns (nullptr: a kernel thread). */
void set_current_mm(FakeMm *mm);
unsigned long mm_locked_vm(FakeMm *mm);
long mm_count(FakeMm *mm);
/*
 * The owner exited: pinning fails with -ESRCH, charges with -ESRCH, and
 * every kapi_mm_watch of the mm gets its release callback (once).
 */
void mm_exit(FakeMm *mm);
/*
 * mm_exit() runs each watch's handler at once if the container's locks are
 * free, else from a thread (the kernel's work item); wait for those here.
 */
void mm_flush_exit_work(FakeMm *mm);
/* Live kapi_mm_watch objects on mm. */
long mm_watches(FakeMm *mm);
/* How many kapi_mm_charge / kapi_mm_uncharge calls reached this mm. */
long mm_charge_calls(FakeMm *mm);
long mm_uncharge_calls(FakeMm *mm);
void set_capable_ipc_lock(bool cap);
void set_rlimit_memlock_pages(unsigned long pages);

/* ---- fake pinning -------------------------------------------------------- */

/* User addresses in [start, last] are VM_PFNMAP: reserved PFNs, no pin. */
void add_pfnmap_range(unsigned long start, unsigned long last);
/*
 * Pages not faulted in yet: kapi_pin_fast() stops at the first of them,
 * kapi_pin_remote() faults them in (and pins them).  reset() clears them.
 */
void set_unfaulted(unsigned long vaddr, unsigned long npages);
/* Calls of the pinning primitives (and of kapi_mm_rw_remote) since the last reset. */
struct PinCalls {
	long fast, remote, pfnmap, rw_remote;
};
PinCalls pin_calls();
/* The next n kapi_mm_uncharge_now() calls return -EINTR (killed while waiting). */
void set_uncharge_interrupted(int n);
/* kapi_mm_uncharge_later() updates queued and not yet flushed. */
size_t deferred_uncharge_count();
/* Pinning a page at or after this user address fails with err (0: never). */
void set_pin_fail_at(unsigned long vaddr, int err);
/* Pages currently pinned (each pin counted). */
unsigned long pinned_pages();
/* kapi_domain_map_segs calls so far (each is one IOTLB sync in the kernel). */
long map_segs_calls();
/* The PFN the fake returns for a user address (vaddr >> 12, distinct per page). */
kapi_u64 pfn_of(unsigned long vaddr);

/* ---- fake user memory ---------------------------------------------------- */

/* A user address is a host pointer; addresses in [start, last] fault. */
void add_fault_range(unsigned long start, unsigned long last);

/* Fake domain introspection. */
int domains_live();
int groups_attached();
/* What the domain the group is attached to maps iova to; 0 if unmapped. */
kapi_u64 iova_to_phys(FakeGroup &g, kapi_u64 iova);
/* Bytes mapped in the domain g is attached to (0 when not attached). */
kapi_u64 mapped_bytes(FakeGroup &g);

/* ---- allocations --------------------------------------------------------- */

/*
 * Fail the nth allocation from now (1-based); 0 disables.  Allocations are
 * kapi_alloc (and with it the core's nothrow operator new),
 * kapi_mutex_create, kapi_domain_alloc and kapi_rangemap_create (a range map
 * insert allocates nothing: the node is in the entry).
 */
void fail_nth_alloc(long n);
/* Whether the injected failure has happened since fail_nth_alloc(). */
bool injected_failure_hit();
/* Allocations attempted since the last reset(). */
long alloc_attempts();
/* Live kapi_alloc blocks, mutexes and range maps. */
long live_allocations();
long live_mutexes();
long live_rangemaps();

/* ---- parameters ----------------------------------------------------------- */

void set_claim_type1(bool on);
/* the spapr module parameter (VFIO_SPAPR_TCE_v2_IOMMU containers) */
void set_spapr(bool on);
/* The n-th IOMMU map (one segment of kapi_domain_map_segs) from now on fails with -ENOMEM; 0: none. */
void fail_nth_map(long n);
bool map_failure_hit();
/* kapi_iommu_has_nesting(): the kernel has iommu_enable_nesting (default true, as 6.1 and 6.12). */
void set_kernel_nesting(bool on);
/* kapi_type1_wrap_errno(): -EINVAL (default, 6.1 and 6.12) or -EOVERFLOW (7.x). */
void set_type1_wrap_errno(int e);
void set_dma_entry_limit(unsigned int n);
void set_exit_policy(unsigned int policy);
void set_disable_hugepages(bool on);
void set_allow_unsafe_interrupts(bool on);

/* ---- log ------------------------------------------------------------------- */

struct LogLine {
	kapi_log_level level;
	std::string text;
};
const std::vector<LogLine> &log_lines();
/* How many captured lines contain needle. */
int log_count(const std::string &needle);
void clear_log();

/* ---- the calling task, events ------------------------------------------- */

/* What kapi_current_tgid/euid/capable_sys_admin answer (4242, 0, true). */
void set_current_tgid(unsigned int tgid);
void set_current_euid(unsigned int uid);
void set_capable_sys_admin(bool cap);

struct Event {
	kapi_event_type type;
	kapi_event ev;
};
/* The events kapi_emit_event() was given since the last reset(), in order. */
std::vector<Event> events();
void clear_events();

/*
 * Restore every default (claim_type1 off, no injection, no fault ranges,
 * log cleared, current mm = a default mm owned by the host kapi).  Does not
 * forget live objects: leaks stay visible to the next check.
 */
void reset();

/* Empty string if nothing is leaked, else a description. */
std::string leak_report();

/* ---- netlink viewers and container owners ("netlink" block) ---------------- */

/*
 * kapi_owner_get() records the calling fake process: the current tgid,
 * euid and LSM label.  kapi_viewer_may_see() models netlink.c: a viewer
 * with admin sees everything; otherwise the owner's process must be alive
 * and both creds must "ptrace-read" it (the sender also passes when its
 * tgid is the owner's): same uid and label and a dumpable owner, or
 * cap_ptrace (which still needs the same label, as the kernel's LSM check).
 * The owner asking through its own socket (own_socket) always sees.
 */
struct FakeCred {
	unsigned int uid = 0;
	unsigned int label = 0;		/* LSM label (secid); 0: none */
	bool cap_ptrace = false;	/* CAP_SYS_PTRACE over the owner */
};
struct FakeViewer {
	FakeCred opener, sender;
	unsigned int sender_tgid = 0;
	bool admin = false;		/* CAP_SYS_ADMIN for opener and sender */
	bool no_opener = false;		/* a socket without a file (kernel socket) */
	bool own_socket = false;	/* the opener's cred is the sender's, unchanged */

	const kapi_viewer *viewer() const { return reinterpret_cast<const kapi_viewer *>(this); }
};
/* A viewer whose opener and sender are one unprivileged process (own_socket). */
FakeViewer viewer_of(unsigned int tgid, unsigned int uid, unsigned int label = 0);
FakeViewer admin_viewer();
/* The LSM label kapi_owner_get() records (default 0). */
void set_current_label(unsigned int label);
/* Every owner record of process tgid: credentials changed, dumpable, exited. */
void process_set_uid(unsigned int tgid, unsigned int uid);
void process_set_dumpable(unsigned int tgid, bool dumpable);
void process_exit(unsigned int tgid);
/* Live kapi_owner references. */
long live_owners();
/* kapi_viewer_may_see() calls since the last clear, and how many were quiet. */
long viewer_checks();
long viewer_quiet_checks();
void clear_viewer_checks();
/*
 * Called at the start of every kapi_pin_user_pages() (container lock held),
 * with no host kapi lock held; nullptr: none.  Lets a test keep a
 * container's lock busy (a long MAP_DMA).
 */
void set_pin_hook(std::function<void(unsigned long vaddr, unsigned long n)> hook);

} /* namespace khost */

/*
 * ---- netlink messages and requests (helper "netlink": append-only section) ----
 *
 * The host side of kapi/netlink_services.h.  A FakeReq is one request (a
 * doit's, or the calls of one dump, which share its ctx); a FakeMsg records
 * the parts (genetlink messages) and attributes the core puts, with the
 * kernel's sizes (a part's headers 20 bytes, a u32 8, a u64 12 on x86_64,
 * a nest header 4), so a message of `room` bytes fills up as an sk_buff
 * does.  Replies sent go to the request's replies; events multicast go to
 * multicasts() and, decoded, to kapi_emit_event() above, so events() sees
 * them as before.  Viewers: a request's viewer is a FakeViewer (the netlink
 * block above); kapi_viewer_may_read() applies its "ptrace-read" rule and
 * counts in viewer_checks() (one call per credential judged).
 */
#include "kapi/netlink_services.h"

namespace khost {

enum NlKind { NL_U32, NL_U64, NL_NEST, NL_NEST_END };
struct NlAttr {
	int type;
	NlKind kind;
	unsigned long long value;
};
struct NlPart {
	unsigned int cmd = 0;
	unsigned int portid = 0, seq = 0;
	int flags = 0;
	std::vector<NlAttr> attrs;	/* in the order put */

	/* The top-level attribute types, in order (a nest counts once, its content not). */
	std::vector<int> types() const;
	/* The value of the first top-level attribute of that type; dies if there is none. */
	unsigned long long get(int type) const;
	bool has(int type) const;
	/* The values inside the nest of that type. */
	std::vector<unsigned long long> nested(int type) const;
};

struct FakeMsg {
	size_t room = 3776;		/* NLMSG_GOODSIZE with 4 KiB pages */
	size_t len = 0;
	unsigned int portid = 0, seq = 0;
	int flags = 0;
	std::vector<NlPart> parts;	/* ended parts, and the open one last */
	bool part_open = false, nest_open = false;
	size_t part_start = 0;
	bool allocated = false;		/* by kapi_msg_reply_new/event_new */

	kapi_msg *msg() { return reinterpret_cast<kapi_msg *>(this); }
};

struct FakeReq {
	FakeViewer viewer;		/* the requester's */
	bool doit = true;		/* false: a dump's calls */
	bool has_id = false;		/* VFIO_CXX_A_CONTAINER_ID given */
	unsigned long long id = 0;
	unsigned int portid = 77, seq = 5;
	alignas(8) unsigned char ctx[48] = {};
	std::vector<NlPart> replies;	/* what kapi_msg_reply() sent */
	int missing_attr = 0;		/* a doit's extack: the attribute reported missing */
	bool missing_msg = false;	/* a dump start's extack: "... is required" */

	kapi_nl_req *req() { return reinterpret_cast<kapi_nl_req *>(this); }
	/* The message of one dumpit call: the requester's addressing, NLM_F_MULTI. */
	FakeMsg dump_msg(size_t room = 3776) const;
};

/* Listeners on "events" (default true); reply/event room (default 3776, 3760). */
void nl_set_listeners(bool on);
void nl_set_room(size_t reply_room, size_t event_room);
/* The next n reply/event/viewer-hold allocations fail (0: none). */
void nl_fail_allocs(int n);
/* Every part multicast since the last nl_reset(), in order. */
std::vector<NlPart> multicasts();
/* Live held viewers, owner tasks and allocated messages (all 0 after a test). */
long nl_live_viewers();
long nl_live_tasks();
long nl_live_msgs();
/* Messages kapi_msg_event_new() built since the last nl_reset(). */
long nl_events_built();
/* Back to the defaults above; forgets the multicasts. */
void nl_reset();

} /* namespace khost */

#endif
