/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test controls of the userspace kapi (kapi_host.cpp).
 *
 * The host kapi models the kernel side of module/kapi/kapi.h closely enough
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

struct ResvRegion {
	kapi_u64 start, last;
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
void set_dma_entry_limit(unsigned int n);
void set_exit_policy(unsigned int policy);
void set_disable_hugepages(bool on);

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

#endif
