// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_cxx generic netlink family (uapi/linux/vfio_cxx_netlink.h):
 * containers, their mappings and preregistered regions and the module's
 * counters, read from the core's registry snapshots, and the "events"
 * multicast group fed by kapi_emit_event().
 *
 * Who may see what: the core filters by viewer (effective uid, and
 * CAP_SYS_ADMIN as netlink_capable() sees it: the socket's opener and the
 * caller both need it).  A dump is authorised once, in its start callback,
 * which runs in the requester's context; the viewer is kept in cb->args.
 */
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/uidgid.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/net_namespace.h>

#include "kapi.h"
#include "internal.h"
#include "../../uapi/linux/vfio_cxx_netlink.h"

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
enum { ARG_CURSOR, ARG_UID, ARG_ADMIN, ARG_ID, ARG_END };

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

static unsigned int viewer_uid(void)
{
	return from_kuid_munged(&init_user_ns, current_euid());
}

/* ---- GET_CONTAINER ---------------------------------------------------- */

static int get_container_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vfio_cxx_container_info ci;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VFIO_CXX_A_CONTAINER_ID))
		return -EINVAL;
	ret = vfio_cxx_container_get(nla_get_u64(info->attrs[VFIO_CXX_A_CONTAINER_ID]),
				     viewer_uid(), netlink_capable(skb, CAP_SYS_ADMIN), &ci);
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

static int dump_start_viewer(struct netlink_callback *cb)
{
	cb->args[ARG_CURSOR] = 0;
	cb->args[ARG_UID] = viewer_uid();
	cb->args[ARG_ADMIN] = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	cb->args[ARG_END] = 0;
	return 0;
}

static int get_container_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vfio_cxx_container_info ci;
	void *hdr;

	while (!vfio_cxx_container_next(cb->args[ARG_CURSOR], cb->args[ARG_UID],
					cb->args[ARG_ADMIN], &ci)) {
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

	dump_start_viewer(cb);
	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, VFIO_CXX_A_MAX, vfio_cxx_nl_policy,
			  cb->extack);
	if (ret)
		return ret;
	if (!tb[VFIO_CXX_A_CONTAINER_ID]) {
		NL_SET_ERR_MSG(cb->extack, "VFIO_CXX_A_CONTAINER_ID is required");
		return -EINVAL;
	}
	cb->args[ARG_ID] = nla_get_u64(tb[VFIO_CXX_A_CONTAINER_ID]);
	/* Unknown or not visible: the dump fails with ENOENT or EPERM. */
	return vfio_cxx_container_get(cb->args[ARG_ID], cb->args[ARG_UID], cb->args[ARG_ADMIN],
				      &ci);
}

static int get_mappings_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vfio_cxx_mapping_info mi;
	void *hdr;
	int ret;

	while (!cb->args[ARG_END]) {
		ret = vfio_cxx_mapping_next(cb->args[ARG_ID], cb->args[ARG_CURSOR],
					    cb->args[ARG_UID], cb->args[ARG_ADMIN], &mi);
		if (ret) /* 1: the last mapping was sent; <0: the container went away */
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
		ret = vfio_cxx_prereg_next(cb->args[ARG_ID], cb->args[ARG_CURSOR],
					   cb->args[ARG_UID], cb->args[ARG_ADMIN], &pi);
		if (ret) /* 1: the last region was sent; <0: the container went away */
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
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_MAPPINGS,
		.start	= container_dump_start,
		.dumpit	= get_mappings_dumpit,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_STATS,
		.doit	= get_stats_doit,
	},
	{
		.cmd	= VFIO_CXX_CMD_GET_PREREGS,
		.start	= container_dump_start,
		.dumpit	= get_preregs_dumpit,
	},
};

static struct genl_family vfio_cxx_nl_family __ro_after_init = {
	.name		= VFIO_CXX_GENL_NAME,
	.version	= VFIO_CXX_GENL_VERSION,
	.maxattr	= VFIO_CXX_A_MAX,
	.policy		= vfio_cxx_nl_policy,
	.netnsok	= false,
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
