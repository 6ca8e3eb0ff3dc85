// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_cxx generic netlink family (uapi/linux/vfio_cxx_netlink.h):
 * containers, their mappings and preregistered regions and the module's
 * counters, read from the core's registry, and the "events" multicast
 * group fed by kapi_emit_event().
 *
 * Stalls (issue 11 item 3): the family is parallel_ops, so no request runs
 * under genl_mutex, and the core holds its registry mutex for list lookups
 * only.  GET_CONTAINER reads lock-free counters; GET_MAPPINGS/GET_PREREGS
 * wait for one container's lock killably, holding no global lock, so a
 * container whose owner keeps its lock (a MAP_DMA of many GiB, a FUSE page
 * that never arrives) stalls only the reader of that container's dump.
 * parallel_ops needs nothing else here: the family has no state of its own
 * besides the static, read-only ops and policy.
 *
 * Who may see what (issue 11 item 4, Documentation/netlink.rst): a viewer
 * is the socket opener's credentials (the file's f_cred), the sender's,
 * the sender's thread group and CAP_SYS_ADMIN as netlink_capable() sees it
 * (opener and sender).  Without CAP_SYS_ADMIN a container is visible only
 * if both credentials may read its owner process as ptrace's
 * PTRACE_MODE_READ_FSCREDS would allow (/proc/<pid>/maps); the sender also
 * when it is the owner.  A dump captures the viewer in its start callback
 * (the requester's context) and releases it in done: later dumpit calls
 * run in whatever process calls recvmsg() on the socket, so nothing there
 * may look at current's credentials.
 */
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "kapi.h"
#include "internal.h"
#include "../../uapi/linux/vfio_cxx_netlink.h"

/* ---- owners and viewers ----------------------------------------------------- */

struct kapi_owner *kapi_owner_get(void)
{
	return (struct kapi_owner *)get_task_pid(current, PIDTYPE_TGID);
}

void kapi_owner_put(struct kapi_owner *o)
{
	put_pid((struct pid *)o);
}

struct kapi_viewer {
	const struct cred *opener;	/* the socket's f_cred; NULL: no file (a kernel socket) */
	const struct cred *sender;	/* the requester's credentials */
	struct pid *sender_tgid;	/* the requester's thread group */
	bool admin;			/* CAP_SYS_ADMIN for opener and sender */
};

/* A request's viewer, borrowing the skb's socket and current (a doit's). */
static void viewer_init(struct kapi_viewer *v, struct sk_buff *skb)
{
	struct sock *sk = NETLINK_CB(skb).sk;
	struct socket *sock = sk ? sk->sk_socket : NULL;

	v->opener = sock && sock->file ? sock->file->f_cred : NULL;
	v->sender = current_cred();
	v->sender_tgid = task_tgid(current);
	/* netlink_capable() looks at the opener's file: only with one. */
	v->admin = v->opener && netlink_capable(skb, CAP_SYS_ADMIN);
}

/* A dump's viewer: its own references, it outlives the request. */
static struct kapi_viewer *viewer_hold(struct sk_buff *skb)
{
	struct kapi_viewer *v = kmalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	viewer_init(v, skb);
	if (v->opener)
		get_cred(v->opener);
	get_cred(v->sender);
	get_pid(v->sender_tgid);
	return v;
}

static void viewer_release(struct kapi_viewer *v)
{
	if (!v)
		return;
	if (v->opener)
		put_cred(v->opener);
	put_cred(v->sender);
	put_pid(v->sender_tgid);
	kfree(v);
}

/* CAP_SYS_PTRACE in ns for current's (overridden) credentials: ptrace_has_cap(). */
static bool has_ptrace_cap(struct user_namespace *ns, bool quiet)
{
	return quiet ? ns_capable_noaudit(ns, CAP_SYS_PTRACE) : ns_capable(ns, CAP_SYS_PTRACE);
}

/*
 * Whether cred may read task as PTRACE_MODE_READ_FSCREDS allows, without
 * the same-thread-group shortcut.  ptrace_may_access() is not exported (6.1,
 * 6.12), so this is __ptrace_may_access() (kernel/ptrace.c) evaluated with
 * cred: fsuid/fsgid equal to the task's uid, euid, suid and gid, egid, sgid,
 * or CAP_SYS_PTRACE in its user namespace; then the dumpable check
 * (task_still_dumpable()).  security_ptrace_access_check() is not exported
 * either: in its place both must carry the same LSM label (secid: the
 * subjective one of cred, the objective one of the task), which is
 * stricter under SELinux, AppArmor and Smack (a confined process only sees
 * processes of its own label) and the same without an LSM.
 */
static bool cred_may_read(const struct cred *cred, struct task_struct *task, bool quiet)
{
	const struct cred *old, *tcred;
	struct mm_struct *mm;
	u32 vsid = 0, tsid = 0;
	bool ok;

	old = override_creds(cred); /* for the capability checks */
	task_lock(task);
	rcu_read_lock();
	tcred = __task_cred(task);
	ok = (uid_eq(cred->fsuid, tcred->euid) && uid_eq(cred->fsuid, tcred->suid) &&
	      uid_eq(cred->fsuid, tcred->uid) && gid_eq(cred->fsgid, tcred->egid) &&
	      gid_eq(cred->fsgid, tcred->sgid) && gid_eq(cred->fsgid, tcred->gid)) ||
	     has_ptrace_cap(tcred->user_ns, quiet);
	rcu_read_unlock();
	if (ok) {
		smp_rmb(); /* dumpability after the credentials, as ptrace */
		mm = task->mm;
		if (mm)
			ok = get_dumpable(mm) == SUID_DUMP_USER || has_ptrace_cap(mm->user_ns, quiet);
		else
			ok = task->user_dumpable || has_ptrace_cap(&init_user_ns, quiet);
	}
	task_unlock(task);
	/*
	 * The subjective secid of cred (AppArmor has no cred_getsecid hook;
	 * current_getsecid_subj is implemented by SELinux, AppArmor and Smack).
	 */
	if (ok)
		security_current_getsecid_subj(&vsid);
	revert_creds(old);
	if (!ok)
		return false;
	security_task_getsecid_obj(task, &tsid);
	return vsid == tsid;
}

int kapi_viewer_may_see(const struct kapi_viewer *v, struct kapi_owner *o, int quiet)
{
	struct pid *pid = (struct pid *)o;
	struct task_struct *task;
	bool ok;

	if (v->admin)
		return 1;
	if (!pid || !v->opener)
		return 0;
	/*
	 * The owner asking through a socket it opened itself, credentials
	 * unchanged since (the same cred object): its own business, as
	 * /proc/self is, even when it is not dumpable.
	 */
	if (pid == v->sender_tgid && v->opener == v->sender)
		return 1;
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task)
		return 0; /* the owner has exited: CAP_SYS_ADMIN only */
	/*
	 * Otherwise each credential on its own; the sender also passes as
	 * the owner itself (ptrace's same-thread-group rule).  The opener is
	 * only a cred, so it never passes that way: a socket opened by
	 * someone else and handed to the owner shows only what its opener
	 * may read.
	 */
	ok = (pid == v->sender_tgid || cred_may_read(v->sender, task, quiet)) &&
	     cred_may_read(v->opener, task, quiet);
	put_task_struct(task);
	return ok;
}

static const struct nla_policy vfio_cxx_nl_policy[VFIO_CXX_A_MAX + 1] = {
	[VFIO_CXX_A_CONTAINER_ID] = { .type = NLA_U64 },
};

static const struct genl_multicast_group vfio_cxx_nl_mcgrps[] = {
	/* Events name other users' processes: CAP_SYS_ADMIN to listen. */
	{ .name = VFIO_CXX_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_SYS_ADMIN },
};

static struct genl_family vfio_cxx_nl_family;
static bool vfio_cxx_nl_registered;

/* cb->args of a dump */
enum { ARG_CURSOR, ARG_VIEWER, ARG_ID, ARG_END };

static int put_u64(struct sk_buff *skb, int attr, u64 v)
{
	return nla_put_u64_64bit(skb, attr, v, VFIO_CXX_A_PAD);
}

static int fill_container(struct sk_buff *skb, const struct vfio_cxx_container_info *ci)
{
	struct nlattr *nest;
	unsigned int i;

	if (put_u64(skb, VFIO_CXX_A_CONTAINER_ID, ci->id) ||
	    nla_put_u32(skb, VFIO_CXX_A_OWNER_TGID, ci->tgid) ||
	    nla_put_u32(skb, VFIO_CXX_A_OWNER_UID, ci->uid) ||
	    put_u64(skb, VFIO_CXX_A_MM_ID, ci->mm_id) ||
	    nla_put_u32(skb, VFIO_CXX_A_IOMMU_TYPE, ci->type) ||
	    nla_put_u32(skb, VFIO_CXX_A_GROUPS, ci->groups) ||
	    nla_put_u32(skb, VFIO_CXX_A_DOMAINS, ci->domains) ||
	    put_u64(skb, VFIO_CXX_A_MAPPINGS, ci->mappings) ||
	    put_u64(skb, VFIO_CXX_A_MAPPED_BYTES, ci->mapped_bytes) ||
	    put_u64(skb, VFIO_CXX_A_PAGES_PINNED, ci->pages_pinned) ||
	    put_u64(skb, VFIO_CXX_A_EXTERNAL_PAGES, ci->external_pages) ||
	    put_u64(skb, VFIO_CXX_A_PREREG_PAGES, ci->prereg_pages) ||
	    put_u64(skb, VFIO_CXX_A_LOCKED_PAGES, ci->locked_pages) ||
	    put_u64(skb, VFIO_CXX_A_ORPHANED_MAPPINGS, ci->orphaned_mappings))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, VFIO_CXX_A_GROUP_IDS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ci->ngroup_ids && i < VFIO_CXX_INFO_GROUPS_MAX; i++)
		if (nla_put_u32(skb, VFIO_CXX_A_GROUP_ID, ci->group_ids[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int fill_mapping(struct sk_buff *skb, u64 id, const struct vfio_cxx_mapping_info *mi)
{
	if (put_u64(skb, VFIO_CXX_A_CONTAINER_ID, id) ||
	    put_u64(skb, VFIO_CXX_A_IOVA, mi->iova) ||
	    put_u64(skb, VFIO_CXX_A_SIZE, mi->size) ||
	    put_u64(skb, VFIO_CXX_A_VADDR, mi->vaddr) ||
	    put_u64(skb, VFIO_CXX_A_MM_ID, mi->mm_id) ||
	    nla_put_u32(skb, VFIO_CXX_A_PROT, mi->prot) ||
	    nla_put_u32(skb, VFIO_CXX_A_MAP_FLAGS, mi->flags) ||
	    put_u64(skb, VFIO_CXX_A_PAGES_PINNED, mi->pages_pinned) ||
	    put_u64(skb, VFIO_CXX_A_EXTERNAL_PAGES, mi->external_pages) ||
	    put_u64(skb, VFIO_CXX_A_LOCKED_PAGES, mi->locked_pages))
		return -EMSGSIZE;
	return 0;
}

static int fill_prereg(struct sk_buff *skb, u64 id, const struct vfio_cxx_prereg_info *pi)
{
	if (put_u64(skb, VFIO_CXX_A_CONTAINER_ID, id) ||
	    put_u64(skb, VFIO_CXX_A_VADDR, pi->vaddr) ||
	    put_u64(skb, VFIO_CXX_A_SIZE, pi->size) ||
	    put_u64(skb, VFIO_CXX_A_MM_ID, pi->mm_id) ||
	    put_u64(skb, VFIO_CXX_A_PAGES_PINNED, pi->size >> PAGE_SHIFT) ||
	    put_u64(skb, VFIO_CXX_A_PREREG_USERS, pi->users))
		return -EMSGSIZE;
	return 0;
}

static int fill_stats(struct sk_buff *skb)
{
	struct vfio_cxx_stats st;

	vfio_cxx_get_stats(&st);
	if (put_u64(skb, VFIO_CXX_A_STAT_CONTAINERS_LIVE, st.containers_live) ||
	    put_u64(skb, VFIO_CXX_A_STAT_CONTAINERS_OPENED, st.containers_opened) ||
	    put_u64(skb, VFIO_CXX_A_STAT_GROUPS_ATTACHED, st.groups_attached) ||
	    put_u64(skb, VFIO_CXX_A_STAT_DOMAINS_LIVE, st.domains_live) ||
	    put_u64(skb, VFIO_CXX_A_STAT_DMAS_LIVE, st.dmas_live) ||
	    put_u64(skb, VFIO_CXX_A_STAT_PAGES_PINNED, st.pages_pinned) ||
	    put_u64(skb, VFIO_CXX_A_STAT_EXTERNAL_PAGES, st.external_pages) ||
	    put_u64(skb, VFIO_CXX_A_STAT_DEVICES_REGISTERED, st.devices_registered) ||
	    put_u64(skb, VFIO_CXX_A_STAT_PREREG_PAGES, st.prereg_pages) ||
	    put_u64(skb, VFIO_CXX_A_STAT_MM_EXITS, st.mm_exits))
		return -EMSGSIZE;
	return 0;
}

/* ---- GET_CONTAINER ---------------------------------------------------- */

static int get_container_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vfio_cxx_container_info ci;
	struct kapi_viewer v;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VFIO_CXX_A_CONTAINER_ID))
		return -EINVAL;
	viewer_init(&v, skb);
	ret = vfio_cxx_view_container_get(&v, nla_get_u64(info->attrs[VFIO_CXX_A_CONTAINER_ID]),
					  &ci);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &vfio_cxx_nl_family, 0, VFIO_CXX_CMD_GET_CONTAINER);
	if (!hdr || fill_container(msg, &ci)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static struct kapi_viewer *dump_viewer(struct netlink_callback *cb)
{
	return (struct kapi_viewer *)cb->args[ARG_VIEWER];
}

static int dump_start_viewer(struct netlink_callback *cb)
{
	struct kapi_viewer *v = viewer_hold(cb->skb);

	if (!v)
		return -ENOMEM;
	cb->args[ARG_CURSOR] = 0;
	cb->args[ARG_VIEWER] = (long)v;
	cb->args[ARG_END] = 0;
	return 0;
}

/* The end of every dump, also when the socket is closed in the middle (maybe in a worker). */
static int dump_done(struct netlink_callback *cb)
{
	viewer_release(dump_viewer(cb));
	cb->args[ARG_VIEWER] = 0;
	return 0;
}

static int get_container_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vfio_cxx_container_info ci;
	void *hdr;

	while (!vfio_cxx_view_container_next(dump_viewer(cb), cb->args[ARG_CURSOR], &ci)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &vfio_cxx_nl_family, NLM_F_MULTI, VFIO_CXX_CMD_GET_CONTAINER);
		if (!hdr)
			break;
		if (fill_container(skb, &ci)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[ARG_CURSOR] = ci.id;
	}
	return skb->len;
}

/* ---- GET_MAPPINGS, GET_PREREGS ------------------------------------------ */

/* The start of a dump of one container's contents (GET_MAPPINGS, GET_PREREGS). */
static int container_dump_start(struct netlink_callback *cb)
{
	struct nlattr *tb[VFIO_CXX_A_MAX + 1];
	struct vfio_cxx_container_info ci;
	int ret;

	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, VFIO_CXX_A_MAX, vfio_cxx_nl_policy,
			  cb->extack);
	if (ret)
		return ret;
	if (!tb[VFIO_CXX_A_CONTAINER_ID]) {
		NL_SET_ERR_MSG(cb->extack, "VFIO_CXX_A_CONTAINER_ID is required");
		return -EINVAL;
	}
	ret = dump_start_viewer(cb);
	if (ret)
		return ret;
	cb->args[ARG_ID] = nla_get_u64(tb[VFIO_CXX_A_CONTAINER_ID]);
	/* Unknown or not visible: the dump fails with ENOENT or EPERM (done is not called). */
	ret = vfio_cxx_view_container_get(dump_viewer(cb), cb->args[ARG_ID], &ci);
	if (ret)
		dump_done(cb);
	return ret;
}

static int get_mappings_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vfio_cxx_mapping_info mi;
	void *hdr;
	int ret;

	while (!cb->args[ARG_END]) {
		ret = vfio_cxx_view_mapping_next(dump_viewer(cb), cb->args[ARG_ID],
						 cb->args[ARG_CURSOR], &mi);
		/*
		 * 1: the last mapping was sent; <0: the container went away or
		 * is no longer visible, or a fatal signal interrupted the wait.
		 */
		if (ret)
			return ret < 0 && !skb->len ? ret : skb->len;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &vfio_cxx_nl_family, NLM_F_MULTI, VFIO_CXX_CMD_GET_MAPPINGS);
		if (!hdr)
			break;
		if (fill_mapping(skb, cb->args[ARG_ID], &mi)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[ARG_CURSOR] = mi.iova + mi.size;
		if (!cb->args[ARG_CURSOR]) /* it ended at the top of the IOVA space */
			cb->args[ARG_END] = 1;
	}
	return skb->len;
}

static int get_preregs_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vfio_cxx_prereg_info pi;
	void *hdr;
	int ret;

	while (!cb->args[ARG_END]) {
		ret = vfio_cxx_view_prereg_next(dump_viewer(cb), cb->args[ARG_ID],
						cb->args[ARG_CURSOR], &pi);
		if (ret) /* as GET_MAPPINGS */
			return ret < 0 && !skb->len ? ret : skb->len;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &vfio_cxx_nl_family, NLM_F_MULTI, VFIO_CXX_CMD_GET_PREREGS);
		if (!hdr)
			break;
		if (fill_prereg(skb, cb->args[ARG_ID], &pi)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[ARG_CURSOR] = pi.vaddr + pi.size;
		if (!cb->args[ARG_CURSOR]) /* it ended at the top of the address space */
			cb->args[ARG_END] = 1;
	}
	return skb->len;
}

/* ---- GET_STATS ---------------------------------------------------------- */

static int get_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &vfio_cxx_nl_family, 0, VFIO_CXX_CMD_GET_STATS);
	if (!hdr || fill_stats(msg)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_ops vfio_cxx_nl_ops[] = {
	{
		.cmd	= VFIO_CXX_CMD_GET_CONTAINER,
		.doit	= get_container_doit,
		.start	= dump_start_viewer,
		.dumpit	= get_container_dumpit,
		.done	= dump_done,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_MAPPINGS,
		.start	= container_dump_start,
		.dumpit	= get_mappings_dumpit,
		.done	= dump_done,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_STATS,
		.doit	= get_stats_doit,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_PREREGS,
		.start	= container_dump_start,
		.dumpit	= get_preregs_dumpit,
		.done	= dump_done,
	},
};

static struct genl_family vfio_cxx_nl_family __ro_after_init = {
	.name		= VFIO_CXX_GENL_NAME,
	.version	= VFIO_CXX_GENL_VERSION,
	.maxattr	= VFIO_CXX_A_MAX,
	.policy		= vfio_cxx_nl_policy,
	.netnsok	= false,
	/* No genl_mutex: nothing here may stall every genetlink family (item 3). */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= vfio_cxx_nl_ops,
	.n_ops		= ARRAY_SIZE(vfio_cxx_nl_ops),
	.mcgrps		= vfio_cxx_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vfio_cxx_nl_mcgrps),
};

/* ---- events --------------------------------------------------------------- */

static const u8 event_cmd[] = {
	[KAPI_EVENT_CONTAINER_CREATED] = VFIO_CXX_CMD_CONTAINER_CREATED,
	[KAPI_EVENT_CONTAINER_RELEASED] = VFIO_CXX_CMD_CONTAINER_RELEASED,
	[KAPI_EVENT_MEMLOCK_DENIED] = VFIO_CXX_CMD_MEMLOCK_DENIED,
	[KAPI_EVENT_MM_EXITED] = VFIO_CXX_CMD_MM_EXITED,
};

void kapi_emit_event(enum kapi_event_type type, const struct kapi_event *ev)
{
	struct sk_buff *msg;
	void *hdr;
	int bad;

	if (!READ_ONCE(vfio_cxx_nl_registered) || type >= ARRAY_SIZE(event_cmd) ||
	    !event_cmd[type] || !genl_has_listeners(&vfio_cxx_nl_family, &init_net, 0))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &vfio_cxx_nl_family, 0, event_cmd[type]);
	if (!hdr) {
		nlmsg_free(msg);
		return;
	}
	bad = put_u64(msg, VFIO_CXX_A_CONTAINER_ID, ev->container_id) ||
	      nla_put_u32(msg, VFIO_CXX_A_OWNER_TGID, ev->tgid) ||
	      nla_put_u32(msg, VFIO_CXX_A_OWNER_UID, ev->uid) ||
	      put_u64(msg, VFIO_CXX_A_MM_ID, ev->mm_id);
	if (!bad && type == KAPI_EVENT_MEMLOCK_DENIED)
		bad = put_u64(msg, VFIO_CXX_A_EVENT_PAGES, ev->pages) ||
		      put_u64(msg, VFIO_CXX_A_LIMIT_PAGES, ev->limit_pages);
	if (!bad && type == KAPI_EVENT_MM_EXITED)
		bad = put_u64(msg, VFIO_CXX_A_EVENT_PAGES, ev->pages) ||
		      put_u64(msg, VFIO_CXX_A_MAPPINGS, ev->mappings);
	if (bad) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&vfio_cxx_nl_family, msg, 0, 0, GFP_KERNEL);
}

int kapi_netlink_init(void)
{
	int ret = genl_register_family(&vfio_cxx_nl_family);

	if (!ret)
		WRITE_ONCE(vfio_cxx_nl_registered, true);
	return ret;
}

void kapi_netlink_exit(void)
{
	WRITE_ONCE(vfio_cxx_nl_registered, false);
	genl_unregister_family(&vfio_cxx_nl_family);
}
