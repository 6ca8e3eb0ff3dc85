/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core's netlink family (../core/netlink.cpp) may call of
 * netlink.c: the generic netlink mechanism, without policy.  One direction
 * only; the other (the core's handlers that netlink.c's trampolines call)
 * is ../core/netlink.h.  Builtin types and opaque pointers only.
 *
 * netlink.c keeps what must see kernel types: the family, its ops and
 * attribute policy, the sk_buff and genetlink header calls, the request's
 * addressing, and the credentials (struct cred, struct pid) with the
 * kernel-knowledge primitive "may this credential read that process" (the
 * ptrace READ_FSCREDS rule and the LSM label).  The core decides what each
 * request returns and in which order, the dump cursors, who sees which
 * container, and which events carry which attributes.
 *
 * Conventions as services.h: 0 or a negative errno; may sleep.  The host
 * tests implement all of it (selftests/host/kapi_host.cpp, the
 * "netlink messages" section), recording every message they are given.
 *
 * Locking: none here; a request and its messages belong to the one thread
 * that runs the op, and the family is registered once at module init.
 */
#ifndef VFIO_CXX_KAPI_NETLINK_SERVICES_H
#define VFIO_CXX_KAPI_NETLINK_SERVICES_H

#include "types.h"

KAPI_BEGIN_DECLS

struct kapi_viewer;
struct kapi_owner;

/* EMSGSIZE (asserted against the kernel's in netlink.c). */
#define KAPI_EMSGSIZE 90

/* ---- a request --------------------------------------------------------- */

/*
 * One call of the family: a doit's (skb, genl_info) or a dump's callback.
 * It lives for that call only; a dump's state between calls is its ctx.
 */
struct kapi_nl_req;

/*
 * The request's VFIO_CXX_A_CONTAINER_ID: 0, or -EINVAL if it has none (the
 * extack then says so: the missing attribute for a doit, a message for a
 * dump's start).  Only in a doit and in a dump's start.
 */
int kapi_nl_req_container_id(const struct kapi_nl_req *r, kapi_u64 *id) KAPI_NOEXCEPT;

/*
 * A dump's state, from its start to its done: KAPI_NL_DUMP_CTX_SIZE bytes,
 * 8-byte aligned, zeroed before the start (the netlink_callback's ctx).
 */
#define KAPI_NL_DUMP_CTX_SIZE 48
void *kapi_nl_dump_ctx(struct kapi_nl_req *r) KAPI_NOEXCEPT;

/*
 * The viewer of a doit: the socket's opener and current, borrowed for the
 * call (no reference).  Only in a doit.
 */
const struct kapi_viewer *kapi_nl_req_viewer(struct kapi_nl_req *r) KAPI_NOEXCEPT;
/*
 * The viewer of a dump, captured in its start (the requester's context)
 * with references of its own, for the later calls that run in whatever
 * process reads the socket; NULL if out of memory.  Released by
 * kapi_viewer_release() (NULL: nothing), from done or a failed start.
 */
struct kapi_viewer *kapi_nl_viewer_hold(struct kapi_nl_req *r) KAPI_NOEXCEPT;
void kapi_viewer_release(struct kapi_viewer *v) KAPI_NOEXCEPT;

/* ---- viewer facts: the credentials, as the kernel knows them ------------- */

/* CAP_SYS_ADMIN for opener and sender (netlink_capable(), with an opener). */
int kapi_viewer_admin(const struct kapi_viewer *v) KAPI_NOEXCEPT;
/* The socket has an opener (a file); a kernel socket has none. */
int kapi_viewer_has_opener(const struct kapi_viewer *v) KAPI_NOEXCEPT;
/* The opener's credentials are the sender's, the same cred object (unchanged since). */
int kapi_viewer_opener_is_sender(const struct kapi_viewer *v) KAPI_NOEXCEPT;
/* The sender's thread group is o's (the same struct pid). */
int kapi_viewer_sender_is(const struct kapi_viewer *v, const struct kapi_owner *o) KAPI_NOEXCEPT;

/* An owner's live process (its thread group leader), referenced; NULL: it has exited. */
struct kapi_owner_task;
struct kapi_owner_task *kapi_owner_task_get(const struct kapi_owner *o) KAPI_NOEXCEPT;
void kapi_owner_task_put(struct kapi_owner_task *t) KAPI_NOEXCEPT;

/*
 * Whether the viewer's opener's or sender's credentials may read t as
 * ptrace's PTRACE_MODE_READ_FSCREDS allows, without the same-thread-group
 * shortcut, and with the same LSM label (netlink.c says why).  quiet: a
 * denial is not audited (listings).  The opener only if it exists.
 */
enum { KAPI_VIEWER_OPENER = 0, KAPI_VIEWER_SENDER = 1 };
int kapi_viewer_may_read(const struct kapi_viewer *v, int who, struct kapi_owner_task *t,
			 int quiet) KAPI_NOEXCEPT;

/* ---- messages ------------------------------------------------------------ */

/*
 * A message being filled: a dump's sk_buff, a reply or an event.  Parts
 * (genetlink messages) one at a time: begin, puts, end (kept) or cancel
 * (trimmed away).  Every put and begin is 0 or -KAPI_EMSGSIZE (no room:
 * nothing was added).  Attribute numbers are the uAPI's (VFIO_CXX_A_*); a
 * u64 is 64-bit aligned with VFIO_CXX_A_PAD.  Nests one at a time.
 */
struct kapi_msg;
/*
 * A part for cmd: in a dump, NLM_F_MULTI to the requester's port and
 * sequence number; in a reply, to the request's; in an event, port 0.
 */
int kapi_msg_begin(struct kapi_msg *m, unsigned int cmd) KAPI_NOEXCEPT;
void kapi_msg_end(struct kapi_msg *m) KAPI_NOEXCEPT;
void kapi_msg_cancel(struct kapi_msg *m) KAPI_NOEXCEPT;
int kapi_msg_put_u32(struct kapi_msg *m, int attr, unsigned int v) KAPI_NOEXCEPT;
int kapi_msg_put_u64(struct kapi_msg *m, int attr, kapi_u64 v) KAPI_NOEXCEPT;
int kapi_msg_nest_start(struct kapi_msg *m, int attr) KAPI_NOEXCEPT;
void kapi_msg_nest_end(struct kapi_msg *m) KAPI_NOEXCEPT;
/* The bytes in m: what a dumpit returns when it put something. */
int kapi_msg_len(const struct kapi_msg *m) KAPI_NOEXCEPT;

/*
 * A doit's reply (NLMSG_GOODSIZE), NULL if out of memory; sent with
 * kapi_msg_reply() (its result) or dropped with kapi_msg_free().  One per
 * request.
 */
struct kapi_msg *kapi_msg_reply_new(struct kapi_nl_req *r) KAPI_NOEXCEPT;
int kapi_msg_reply(struct kapi_nl_req *r, struct kapi_msg *m) KAPI_NOEXCEPT;

/*
 * Events: whether the family is registered and its "events" group has a
 * listener; a new event message (NLMSG_DEFAULT_SIZE), NULL if out of
 * memory; its multicast to "events" (never fails for the caller), or
 * kapi_msg_free().
 */
int kapi_nl_has_listeners(void) KAPI_NOEXCEPT;
struct kapi_msg *kapi_msg_event_new(void) KAPI_NOEXCEPT;
void kapi_msg_multicast(struct kapi_msg *m) KAPI_NOEXCEPT;

void kapi_msg_free(struct kapi_msg *m) KAPI_NOEXCEPT;

KAPI_END_DECLS

#endif /* VFIO_CXX_KAPI_NETLINK_SERVICES_H */
