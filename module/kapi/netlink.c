// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_cxx generic netlink family (uapi/linux/vfio_cxx_netlink.h): the
 * part that must see kernel types.  What each request answers, the dump
 * cursors, who sees which container and what the events carry are the
 * core's (module/core/netlink.cpp, with the family's locking rules); this
 * file only
 *
 * - registers the family: its ops, attribute policy and "events" group
 *   (parallel_ops: no request runs under genl_mutex; the family has no
 *   state of its own besides these static, read-only tables);
 * - turns each op into a call of the core's handlers (core/netlink.h):
 *   the doit/start/dumpit/done trampolines, each giving its command;
 * - builds messages as the core says (netlink_services.h): genetlink
 *   headers addressed as the request's context wants, attributes, nests,
 *   replies and the multicast;
 * - holds the viewer's credentials (struct cred, struct pid) and answers
 *   the questions about them that only the kernel can: CAP_SYS_ADMIN as
 *   netlink_capable() sees it, and whether a credential may read a process
 *   as ptrace's PTRACE_MODE_READ_FSCREDS allows with the same LSM label
 *   (cred_may_read() below).  That last one is a kernel-knowledge
 *   primitive, not a policy: it restates kernel/ptrace.c for a cred other
 *   than current's, because ptrace_may_access() is not exported; moving it
 *   would mean exposing cred and task internals to the core.  How the
 *   answers combine (admin first, the owner's own socket, both
 *   credentials) is the core's may_see().
 */
#include <linux/build_bug.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/errno.h>
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

#include "vfio_cxx_kconf.h"
#if VFIO_CXX_HAVE_TASK_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif
#include "services.h"
#include "netlink_services.h"
#include "internal.h"
#include "../core/netlink.h"
#include "../../uapi/linux/vfio_cxx_netlink.h"

static_assert(KAPI_EMSGSIZE == EMSGSIZE, "netlink_services.h's EMSGSIZE");

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

int kapi_viewer_admin(const struct kapi_viewer *v)
{
	return v->admin;
}

int kapi_viewer_has_opener(const struct kapi_viewer *v)
{
	return v->opener != NULL;
}

int kapi_viewer_opener_is_sender(const struct kapi_viewer *v)
{
	return v->opener == v->sender;
}

int kapi_viewer_sender_is(const struct kapi_viewer *v, const struct kapi_owner *o)
{
	return o && (const struct pid *)o == v->sender_tgid;
}

struct kapi_owner_task *kapi_owner_task_get(const struct kapi_owner *o)
{
	return (struct kapi_owner_task *)get_pid_task((struct pid *)o, PIDTYPE_TGID);
}

void kapi_owner_task_put(struct kapi_owner_task *t)
{
	put_task_struct((struct task_struct *)t);
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
 *
 * Two interfaces changed after 6.12, found by probes (kconf.sh): where the
 * kernel keeps dumpability in task->exec_state (TASK_DUMPABLE_OWNER, with
 * its user namespace) instead of the mm, and where the LSMs report a struct
 * lsm_prop (every LSM's label, compared whole) instead of a u32 secid.
 */
#if VFIO_CXX_HAVE_SECURITY_LSMPROP
#define subj_label security_current_getlsmprop_subj
#define obj_label security_task_getlsmprop_obj
#else
#define subj_label security_current_getsecid_subj
#define obj_label security_task_getsecid_obj
#endif

static bool cred_may_read(const struct cred *cred, struct task_struct *task, bool quiet)
{
	const struct cred *old, *tcred;
#if VFIO_CXX_HAVE_TASK_EXEC_STATE
	struct task_exec_state *es;
#else
	struct mm_struct *mm;
#endif
#if VFIO_CXX_HAVE_SECURITY_LSMPROP
	struct lsm_prop vsid, tsid;
#else
	u32 vsid = 0, tsid = 0;
#endif
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
#if VFIO_CXX_HAVE_TASK_EXEC_STATE
		/* Newer kernels keep dumpability and its namespace in task->exec_state. */
		rcu_read_lock();
		es = rcu_dereference(task->exec_state);
		ok = es && (es->dumpable == TASK_DUMPABLE_OWNER || has_ptrace_cap(es->user_ns, quiet));
		rcu_read_unlock();
#else
		mm = task->mm;
		if (mm)
			ok = get_dumpable(mm) == SUID_DUMP_USER || has_ptrace_cap(mm->user_ns, quiet);
		else
			ok = task->user_dumpable || has_ptrace_cap(&init_user_ns, quiet);
#endif
	}
	task_unlock(task);
	/*
	 * The subjective secid of cred (AppArmor has no cred_getsecid hook;
	 * current_getsecid_subj is implemented by SELinux, AppArmor and Smack).
	 */
#if VFIO_CXX_HAVE_SECURITY_LSMPROP
	/* Newer kernels: every LSM's label at once, compared whole. */
	memset(&vsid, 0, sizeof(vsid));
	memset(&tsid, 0, sizeof(tsid));
#endif
	if (ok)
		subj_label(&vsid);
	revert_creds(old);
	if (!ok)
		return false;
	obj_label(task, &tsid);
#if VFIO_CXX_HAVE_SECURITY_LSMPROP
	return !memcmp(&vsid, &tsid, sizeof(vsid));
#else
	return vsid == tsid;
#endif
}

int kapi_viewer_may_read(const struct kapi_viewer *v, int who, struct kapi_owner_task *t,
			 int quiet)
{
	const struct cred *cred = who == KAPI_VIEWER_OPENER ? v->opener : v->sender;

	return cred && cred_may_read(cred, (struct task_struct *)t, quiet);
}

/* ---- requests and messages ---------------------------------------------------- */

static struct genl_family vfio_cxx_nl_family;
static bool vfio_cxx_nl_registered;

struct kapi_msg {
	struct sk_buff *skb;
	u32 portid, seq;
	int flags;		/* of each part's nlmsghdr */
	void *hdr;		/* the part being filled */
	struct nlattr *nest;	/* the nest being filled */
	bool event;		/* allocated by kapi_msg_event_new() (a reply's is the request's) */
};

struct kapi_nl_req {
	struct sk_buff *skb;		/* the request (a doit's) or cb->skb */
	struct genl_info *info;		/* a doit's */
	struct netlink_callback *cb;	/* a dump's */
	struct nlattr **tb;		/* a dump's start: its attributes, parsed */
	struct kapi_viewer viewer;	/* a doit's, set by kapi_nl_req_viewer() */
	bool has_viewer;
	struct kapi_msg reply;
};

int kapi_nl_req_container_id(const struct kapi_nl_req *r, kapi_u64 *id)
{
	const struct nlattr *a;

	if (r->info) {
		if (GENL_REQ_ATTR_CHECK(r->info, VFIO_CXX_A_CONTAINER_ID))
			return -EINVAL;
		a = r->info->attrs[VFIO_CXX_A_CONTAINER_ID];
	} else {
		a = r->tb ? r->tb[VFIO_CXX_A_CONTAINER_ID] : NULL;
		if (!a) {
			NL_SET_ERR_MSG(r->cb->extack, "VFIO_CXX_A_CONTAINER_ID is required");
			return -EINVAL;
		}
	}
	*id = nla_get_u64(a);
	return 0;
}

void *kapi_nl_dump_ctx(struct kapi_nl_req *r)
{
	BUILD_BUG_ON(sizeof(r->cb->ctx) < KAPI_NL_DUMP_CTX_SIZE);
	return r->cb->ctx;
}

const struct kapi_viewer *kapi_nl_req_viewer(struct kapi_nl_req *r)
{
	if (!r->has_viewer) {
		viewer_init(&r->viewer, r->skb);
		r->has_viewer = true;
	}
	return &r->viewer;
}

struct kapi_viewer *kapi_nl_viewer_hold(struct kapi_nl_req *r)
{
	struct kapi_viewer *v = kmalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	viewer_init(v, r->skb);
	if (v->opener)
		get_cred(v->opener);
	get_cred(v->sender);
	get_pid(v->sender_tgid);
	return v;
}

void kapi_viewer_release(struct kapi_viewer *v)
{
	if (!v)
		return;
	if (v->opener)
		put_cred(v->opener);
	put_cred(v->sender);
	put_pid(v->sender_tgid);
	kfree(v);
}

int kapi_msg_begin(struct kapi_msg *m, unsigned int cmd)
{
	m->hdr = genlmsg_put(m->skb, m->portid, m->seq, &vfio_cxx_nl_family, m->flags, cmd);
	return m->hdr ? 0 : -EMSGSIZE;
}

void kapi_msg_end(struct kapi_msg *m)
{
	genlmsg_end(m->skb, m->hdr);
	m->hdr = NULL;
}

void kapi_msg_cancel(struct kapi_msg *m)
{
	genlmsg_cancel(m->skb, m->hdr);
	m->hdr = NULL;
	m->nest = NULL;
}

int kapi_msg_put_u32(struct kapi_msg *m, int attr, unsigned int v)
{
	return nla_put_u32(m->skb, attr, v);
}

int kapi_msg_put_u64(struct kapi_msg *m, int attr, kapi_u64 v)
{
	return nla_put_u64_64bit(m->skb, attr, v, VFIO_CXX_A_PAD);
}

int kapi_msg_nest_start(struct kapi_msg *m, int attr)
{
	m->nest = nla_nest_start(m->skb, attr);
	return m->nest ? 0 : -EMSGSIZE;
}

void kapi_msg_nest_end(struct kapi_msg *m)
{
	nla_nest_end(m->skb, m->nest);
	m->nest = NULL;
}

int kapi_msg_len(const struct kapi_msg *m)
{
	return m->skb->len;
}

struct kapi_msg *kapi_msg_reply_new(struct kapi_nl_req *r)
{
	struct kapi_msg *m = &r->reply;

	m->skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!m->skb)
		return NULL;
	/* genlmsg_put_reply()'s addressing */
	m->portid = r->info->snd_portid;
	m->seq = r->info->snd_seq;
	m->flags = 0;
	return m;
}

int kapi_msg_reply(struct kapi_nl_req *r, struct kapi_msg *m)
{
	return genlmsg_reply(m->skb, r->info);
}

int kapi_nl_has_listeners(void)
{
	return READ_ONCE(vfio_cxx_nl_registered) &&
	       genl_has_listeners(&vfio_cxx_nl_family, &init_net, 0);
}

struct kapi_msg *kapi_msg_event_new(void)
{
	struct kapi_msg *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return NULL;
	m->skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!m->skb) {
		kfree(m);
		return NULL;
	}
	m->event = true; /* port 0, sequence 0, no flags */
	return m;
}

void kapi_msg_multicast(struct kapi_msg *m)
{
	genlmsg_multicast(&vfio_cxx_nl_family, m->skb, 0, 0, GFP_KERNEL);
	kfree(m);
}

void kapi_msg_free(struct kapi_msg *m)
{
	nlmsg_free(m->skb);
	if (m->event)
		kfree(m);
}

/* ---- the family ------------------------------------------------------------- */

static const struct nla_policy vfio_cxx_nl_policy[VFIO_CXX_A_MAX + 1] = {
	[VFIO_CXX_A_CONTAINER_ID] = { .type = NLA_U64 },
};

static const struct genl_multicast_group vfio_cxx_nl_mcgrps[] = {
	/* Events name other users' processes: CAP_SYS_ADMIN to listen. */
	{ .name = VFIO_CXX_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_SYS_ADMIN },
};

/*
 * The trampolines: the request and the op's command (the genetlink header's:
 * a doit's info, a dump's request message) to the core's handlers.
 */
static unsigned int dump_cmd(struct netlink_callback *cb)
{
	return ((struct genlmsghdr *)nlmsg_data(cb->nlh))->cmd;
}

static int doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kapi_nl_req r = { .skb = skb, .info = info };

	return vfio_cxx_nl_doit(&r, info->genlhdr->cmd);
}

/* GET_CONTAINER's dump: no attributes. */
static int dump_start(struct netlink_callback *cb)
{
	struct kapi_nl_req r = { .skb = cb->skb, .cb = cb };

	return vfio_cxx_nl_start(&r, dump_cmd(cb));
}

/* A dump of one container's contents (GET_MAPPINGS, GET_PREREGS): the request's attributes. */
static int container_dump_start(struct netlink_callback *cb)
{
	struct nlattr *tb[VFIO_CXX_A_MAX + 1];
	struct kapi_nl_req r = { .skb = cb->skb, .cb = cb, .tb = tb };
	int ret;

	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, VFIO_CXX_A_MAX, vfio_cxx_nl_policy,
			  cb->extack);
	return ret ? ret : vfio_cxx_nl_start(&r, dump_cmd(cb));
}

static int dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kapi_nl_req r = { .skb = cb->skb, .cb = cb };
	struct kapi_msg m = {
		.skb = skb,
		.portid = NETLINK_CB(cb->skb).portid,
		.seq = cb->nlh->nlmsg_seq,
		.flags = NLM_F_MULTI,
	};

	return vfio_cxx_nl_dumpit(&r, &m, dump_cmd(cb));
}

/* The end of every started dump, also when the socket is closed in the middle. */
static int dump_done(struct netlink_callback *cb)
{
	struct kapi_nl_req r = { .skb = cb->skb, .cb = cb };

	return vfio_cxx_nl_done(&r);
}

static const struct genl_ops vfio_cxx_nl_ops[] = {
	{
		.cmd	= VFIO_CXX_CMD_GET_CONTAINER,
		.doit	= doit,
		.start	= dump_start,
		.dumpit	= dumpit,
		.done	= dump_done,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_MAPPINGS,
		.start	= container_dump_start,
		.dumpit	= dumpit,
		.done	= dump_done,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_STATS,
		.doit	= doit,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_PREREGS,
		.start	= container_dump_start,
		.dumpit	= dumpit,
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
