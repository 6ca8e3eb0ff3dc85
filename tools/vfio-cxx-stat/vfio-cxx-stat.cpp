// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-cxx-stat: what vfio_iommu_cxx.ko serves, live, through its generic
 * netlink family "vfio_cxx" (uapi/linux/vfio_cxx_netlink.h).
 *
 *   vfio-cxx-stat                 table of the containers you may see
 *   vfio-cxx-stat -c ID           one container, its DMA mappings and its
 *                                 preregistered regions
 *   vfio-cxx-stat --stats         module-wide counters
 *   vfio-cxx-stat --watch         events (needs CAP_SYS_ADMIN), until
 *                                 --count N events or --timeout S seconds
 *   --json                        machine-readable output for any of them
 *   --version                     the package version
 *
 * Every message from the kernel is parsed with a policy (libnl's
 * genlmsg_parse with struct nla_policy: each attribute's type and exact
 * length, as Documentation/netlink/specs/vfio_cxx.yaml gives them); a reply
 * or event that breaks it is reported and makes the command fail, it is
 * never read blindly.  Attributes newer than this tool are ignored.
 *
 * Exit status: 0 ok, 1 usage, 2 module not loaded, 3 permission denied,
 * 4 no such container, 5 other error (a malformed message too); --watch: 6
 * if --timeout expired before --count events arrived.
 */
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <getopt.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../../uapi/linux/vfio_cxx_netlink.h"

/* The package version: -DVFIO_CXX_VERSION="..." from ../../VERSION (Makefile, debian/rules). */
#ifndef VFIO_CXX_VERSION
#error "VFIO_CXX_VERSION: build with -DVFIO_CXX_VERSION=\"...\" (the Makefile does)"
#endif

namespace {

enum Exit { OK = 0, USAGE = 1, NOT_LOADED = 2, DENIED = 3, NO_CONTAINER = 4, FAILED = 5, TIMEOUT = 6 };

const char *prog = "vfio-cxx-stat";

struct Container {
	uint64_t id = 0, mm_id = 0, mappings = 0, mapped_bytes = 0, pages_pinned = 0,
		 external_pages = 0, prereg_pages = 0, locked_pages = 0, orphaned = 0;
	uint32_t tgid = 0, uid = 0, type = 0, groups = 0, domains = 0;
	std::vector<uint32_t> group_ids;
};

struct Mapping {
	uint64_t iova = 0, size = 0, vaddr = 0, mm_id = 0, pages_pinned = 0, external_pages = 0,
		 locked_pages = 0;
	uint32_t prot = 0, flags = 0;
};

struct Prereg {
	uint64_t vaddr = 0, size = 0, mm_id = 0, pages_pinned = 0, users = 0;
};

/*
 * The attributes' policy: type and exact payload length of each (the
 * spec's u32, u64, nest; pad is never read).  genlmsg_parse() rejects a
 * message with an attribute shorter or longer than this.
 */
struct Policy {
	nla_policy p[VFIO_CXX_A_MAX + 1];
	constexpr Policy() : p{}
	{
		const int u32s[] = { VFIO_CXX_A_OWNER_TGID, VFIO_CXX_A_OWNER_UID, VFIO_CXX_A_IOMMU_TYPE,
				     VFIO_CXX_A_GROUPS,	    VFIO_CXX_A_GROUP_ID,  VFIO_CXX_A_DOMAINS,
				     VFIO_CXX_A_PROT,	    VFIO_CXX_A_MAP_FLAGS };
		for (int a = VFIO_CXX_A_PAD + 1; a <= VFIO_CXX_A_MAX; a++)
			p[a] = { NLA_U64, 8, 8 };
		for (int a : u32s)
			p[a] = { NLA_U32, 4, 4 };
		p[VFIO_CXX_A_GROUP_IDS] = { NLA_NESTED, 0, 0 };
	}
};
constexpr Policy policy;

/* Inside VFIO_CXX_A_GROUP_IDS: VFIO_CXX_A_GROUP_ID only (u32), any number of them. */
int parse_group_ids(nlattr *nest, std::vector<uint32_t> *ids)
{
	nlattr *a;
	int rem;
	nla_for_each_nested(a, nest, rem)
	{
		if (nla_type(a) != VFIO_CXX_A_GROUP_ID)
			continue;
		if (nla_len(a) != 4)
			return -NLE_RANGE;
		if (ids)
			ids->push_back(nla_get_u32(a));
	}
	return rem == 0 ? 0 : -NLE_RANGE; /* trailing bytes: a truncated attribute */
}

/* A message's attributes into tb, validated; 0 or a negative libnl error. */
int parse_attrs(nlmsghdr *nlh, nlattr **tb)
{
	int err = genlmsg_parse(nlh, 0, tb, VFIO_CXX_A_MAX, const_cast<nla_policy *>(policy.p));
	if (!err && tb[VFIO_CXX_A_GROUP_IDS])
		err = parse_group_ids(tb[VFIO_CXX_A_GROUP_IDS], nullptr);
	return err;
}

uint64_t u64(nlattr **tb, int a) { return tb[a] ? nla_get_u64(tb[a]) : 0; }
uint32_t u32(nlattr **tb, int a) { return tb[a] ? nla_get_u32(tb[a]) : 0; }

const char *type_name(uint32_t t)
{
	switch (t) {
	case 1: return "type1";
	case 3: return "type1v2";
	case 7: return "spapr_v2";
	case 0x56435831: return "cxx";
	default: return "?";
	}
}

std::string prot_str(uint32_t p)
{
	std::string s;
	s += (p & 1) ? 'r' : '-';
	s += (p & 2) ? 'w' : '-';
	return s;
}

std::string human_bytes(uint64_t b)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = static_cast<double>(b);
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), i ? "%.1f%s" : "%.0f%s", v, u[i]);
	return buf;
}

/* ---- netlink ------------------------------------------------------------ */

class Genl {
public:
	~Genl()
	{
		if (sk_)
			nl_socket_free(sk_);
	}
	/* 0, or an exit code after printing why. */
	int open()
	{
		sk_ = nl_socket_alloc();
		if (!sk_ || genl_connect(sk_)) {
			fprintf(stderr, "%s: cannot open a generic netlink socket\n", prog);
			return FAILED;
		}
		family_ = genl_ctrl_resolve(sk_, VFIO_CXX_GENL_NAME);
		if (family_ < 0) {
			fprintf(stderr,
				"%s: the \"%s\" netlink family is not registered: "
				"vfio_iommu_cxx is not loaded (try: modprobe vfio_iommu_cxx)\n",
				prog, VFIO_CXX_GENL_NAME);
			return NOT_LOADED;
		}
		return OK;
	}
	nl_sock *sock() { return sk_; }

	/*
	 * Send cmd (a dump when dump) with an optional container id and call
	 * fn(tb) for each reply.  Returns 0 or a negative libnl error.
	 */
	template <class F>
	int request(uint8_t cmd, bool dump, const uint64_t *id, F fn)
	{
		nl_msg *msg = nlmsg_alloc();
		if (!msg)
			return -NLE_NOMEM;
		if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0, dump ? NLM_F_DUMP : 0, cmd,
				 VFIO_CXX_GENL_VERSION) ||
		    (id && nla_put_u64(msg, VFIO_CXX_A_CONTAINER_ID, *id))) {
			nlmsg_free(msg);
			return -NLE_NOMEM;
		}
		struct Ctx {
			F *fn;
			int bad;
		} ctx{ &fn, 0 };
		nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
		nl_cb_set(
			cb, NL_CB_VALID, NL_CB_CUSTOM,
			[](nl_msg *m, void *arg) -> int {
				auto *c = static_cast<Ctx *>(arg);
				nlattr *tb[VFIO_CXX_A_MAX + 1];
				int e = parse_attrs(nlmsg_hdr(m), tb);
				if (e) {
					/* Keep reading to the end of the exchange; fail after it. */
					c->bad = e;
					return NL_SKIP;
				}
				(*c->fn)(tb);
				return NL_OK;
			},
			&ctx);
		/* A doit's reply ends the exchange; a dump ends with NLMSG_DONE. */
		int done = 0;
		nl_cb_set(
			cb, NL_CB_FINISH, NL_CB_CUSTOM,
			[](nl_msg *, void *arg) -> int {
				*static_cast<int *>(arg) = 1;
				return NL_STOP;
			},
			&done);
		nl_cb_set(
			cb, NL_CB_ACK, NL_CB_CUSTOM,
			[](nl_msg *, void *arg) -> int {
				*static_cast<int *>(arg) = 1;
				return NL_STOP;
			},
			&done);
		int err = nl_send_auto(sk_, msg);
		nlmsg_free(msg);
		while (err >= 0 && !done)
			err = nl_recvmsgs(sk_, cb);
		nl_cb_put(cb);
		if (err >= 0 && ctx.bad) {
			fprintf(stderr, "%s: a malformed message from the kernel: %s\n", prog,
				nl_geterror(ctx.bad));
			return ctx.bad;
		}
		return err < 0 ? err : 0;
	}

private:
	nl_sock *sk_ = nullptr;
	int family_ = -1;
};

int report(int err, const char *what, const uint64_t *id = nullptr)
{
	if (err == -NLE_PERM || err == -NLE_NOACCESS) {
		if (id)
			fprintf(stderr,
				"%s: %s: permission denied: container %" PRIu64
				" is not yours to see (you may not read its owner process, or it has"
				" exited; CAP_SYS_ADMIN sees all containers)\n",
				prog, what, *id);
		else
			fprintf(stderr, "%s: %s: permission denied (needs CAP_SYS_ADMIN)\n", prog, what);
		return DENIED;
	}
	if (err == -NLE_OBJ_NOTFOUND && id) {
		fprintf(stderr, "%s: no container %" PRIu64 "\n", prog, *id);
		return NO_CONTAINER;
	}
	fprintf(stderr, "%s: %s: %s\n", prog, what, nl_geterror(err));
	return FAILED;
}

Container parse_container(nlattr **tb)
{
	Container c;
	c.id = u64(tb, VFIO_CXX_A_CONTAINER_ID);
	c.tgid = u32(tb, VFIO_CXX_A_OWNER_TGID);
	c.uid = u32(tb, VFIO_CXX_A_OWNER_UID);
	c.mm_id = u64(tb, VFIO_CXX_A_MM_ID);
	c.type = u32(tb, VFIO_CXX_A_IOMMU_TYPE);
	c.groups = u32(tb, VFIO_CXX_A_GROUPS);
	c.domains = u32(tb, VFIO_CXX_A_DOMAINS);
	c.mappings = u64(tb, VFIO_CXX_A_MAPPINGS);
	c.mapped_bytes = u64(tb, VFIO_CXX_A_MAPPED_BYTES);
	c.pages_pinned = u64(tb, VFIO_CXX_A_PAGES_PINNED);
	c.external_pages = u64(tb, VFIO_CXX_A_EXTERNAL_PAGES);
	c.prereg_pages = u64(tb, VFIO_CXX_A_PREREG_PAGES);
	c.locked_pages = u64(tb, VFIO_CXX_A_LOCKED_PAGES);
	c.orphaned = u64(tb, VFIO_CXX_A_ORPHANED_MAPPINGS);
	if (tb[VFIO_CXX_A_GROUP_IDS])
		parse_group_ids(tb[VFIO_CXX_A_GROUP_IDS], &c.group_ids); /* validated by parse_attrs */
	return c;
}

Mapping parse_mapping(nlattr **tb)
{
	Mapping m;
	m.iova = u64(tb, VFIO_CXX_A_IOVA);
	m.size = u64(tb, VFIO_CXX_A_SIZE);
	m.vaddr = u64(tb, VFIO_CXX_A_VADDR);
	m.mm_id = u64(tb, VFIO_CXX_A_MM_ID);
	m.prot = u32(tb, VFIO_CXX_A_PROT);
	m.flags = u32(tb, VFIO_CXX_A_MAP_FLAGS);
	m.pages_pinned = u64(tb, VFIO_CXX_A_PAGES_PINNED);
	m.external_pages = u64(tb, VFIO_CXX_A_EXTERNAL_PAGES);
	m.locked_pages = u64(tb, VFIO_CXX_A_LOCKED_PAGES);
	return m;
}

Prereg parse_prereg(nlattr **tb)
{
	Prereg p;
	p.vaddr = u64(tb, VFIO_CXX_A_VADDR);
	p.size = u64(tb, VFIO_CXX_A_SIZE);
	p.mm_id = u64(tb, VFIO_CXX_A_MM_ID);
	p.pages_pinned = u64(tb, VFIO_CXX_A_PAGES_PINNED);
	p.users = u64(tb, VFIO_CXX_A_PREREG_USERS);
	return p;
}

/* ---- output ------------------------------------------------------------- */

std::string group_list(const Container &c, const char *sep)
{
	std::string s;
	for (size_t i = 0; i < c.group_ids.size(); i++)
		s += (i ? sep : "") + std::to_string(c.group_ids[i]);
	return s;
}

std::string json_container(const Container &c)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"id\": %" PRIu64 ", \"owner_tgid\": %u, \"owner_uid\": %u, \"mm_id\": \"%016" PRIx64
		 "\", \"type\": \"%s\", \"groups\": %u, \"group_ids\": [%s], \"domains\": %u, "
		 "\"mappings\": %" PRIu64 ", \"mapped_bytes\": %" PRIu64 ", \"pages_pinned\": %" PRIu64
		 ", \"external_pages\": %" PRIu64 ", \"prereg_pages\": %" PRIu64
		 ", \"locked_pages\": %" PRIu64 ", \"orphaned_mappings\": %" PRIu64 "}",
		 c.id, c.tgid, c.uid, c.mm_id, type_name(c.type), c.groups, group_list(c, ", ").c_str(),
		 c.domains, c.mappings, c.mapped_bytes, c.pages_pinned, c.external_pages, c.prereg_pages,
		 c.locked_pages, c.orphaned);
	return buf;
}

std::string json_mapping(const Mapping &m)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
		 "{\"iova\": %" PRIu64 ", \"size\": %" PRIu64 ", \"vaddr\": %" PRIu64
		 ", \"mm_id\": \"%016" PRIx64 "\", \"prot\": \"%s\", \"iommu_mapped\": %s, "
		 "\"vaddr_invalid\": %s, \"pages_pinned\": %" PRIu64 ", \"external_pages\": %" PRIu64
		 ", \"locked_pages\": %" PRIu64 "}",
		 m.iova, m.size, m.vaddr, m.mm_id, prot_str(m.prot).c_str(),
		 (m.flags & VFIO_CXX_MAP_F_IOMMU_MAPPED) ? "true" : "false",
		 (m.flags & VFIO_CXX_MAP_F_VADDR_INVALID) ? "true" : "false", m.pages_pinned,
		 m.external_pages, m.locked_pages);
	return buf;
}

std::string json_prereg(const Prereg &p)
{
	char buf[256];
	snprintf(buf, sizeof(buf),
		 "{\"vaddr\": %" PRIu64 ", \"size\": %" PRIu64 ", \"mm_id\": \"%016" PRIx64
		 "\", \"pages_pinned\": %" PRIu64 ", \"users\": %" PRIu64 "}",
		 p.vaddr, p.size, p.mm_id, p.pages_pinned, p.users);
	return buf;
}

void table_header()
{
	printf("%6s %8s %6s %-8s %-8s %4s %8s %10s %8s %8s %8s %8s %8s\n", "ID", "TGID", "UID",
	       "TYPE", "GROUPS", "DOMS", "MAPPINGS", "MAPPED", "PINNED", "EXTERNAL", "PREREG",
	       "LOCKED", "ORPHANED");
}

void table_row(const Container &c)
{
	std::string g = group_list(c, ",");
	if (g.empty())
		g = "-";
	printf("%6" PRIu64 " %8u %6u %-8s %-8s %4u %8" PRIu64 " %10s %8" PRIu64 " %8" PRIu64
	       " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
	       c.id, c.tgid, c.uid, type_name(c.type), g.c_str(), c.domains, c.mappings,
	       human_bytes(c.mapped_bytes).c_str(), c.pages_pinned, c.external_pages, c.prereg_pages,
	       c.locked_pages, c.orphaned);
}

/* ---- commands ------------------------------------------------------------- */

int cmd_list(Genl &nl, bool json)
{
	std::vector<Container> v;
	int err = nl.request(VFIO_CXX_CMD_GET_CONTAINER, true, nullptr,
			     [&v](nlattr **tb) { v.push_back(parse_container(tb)); });
	if (err)
		return report(err, "listing containers");
	if (json) {
		printf("{\"version\": %d, \"containers\": [", VFIO_CXX_GENL_VERSION);
		for (size_t i = 0; i < v.size(); i++)
			printf("%s\n  %s", i ? "," : "", json_container(v[i]).c_str());
		printf("%s]}\n", v.empty() ? "" : "\n");
		return OK;
	}
	if (v.empty()) {
		printf("no containers%s\n", geteuid() ? " of yours (CAP_SYS_ADMIN sees all)" : "");
		return OK;
	}
	table_header();
	for (auto &c : v)
		table_row(c);
	return OK;
}

int cmd_container(Genl &nl, uint64_t id, bool json)
{
	std::vector<Container> cs;
	int err = nl.request(VFIO_CXX_CMD_GET_CONTAINER, false, &id,
			     [&cs](nlattr **tb) { cs.push_back(parse_container(tb)); });
	if (err)
		return report(err, "reading the container", &id);
	if (cs.empty())
		return report(-NLE_OBJ_NOTFOUND, "reading the container", &id);
	std::vector<Mapping> ms;
	err = nl.request(VFIO_CXX_CMD_GET_MAPPINGS, true, &id,
			 [&ms](nlattr **tb) { ms.push_back(parse_mapping(tb)); });
	if (err)
		return report(err, "reading the mappings", &id);
	std::vector<Prereg> ps;
	err = nl.request(VFIO_CXX_CMD_GET_PREREGS, true, &id,
			 [&ps](nlattr **tb) { ps.push_back(parse_prereg(tb)); });
	/* A module older than GET_PREREGS: no regions to show. */
	if (err && err != -NLE_OPNOTSUPP)
		return report(err, "reading the preregistered regions", &id);
	const Container &c = cs[0];
	if (json) {
		printf("{\"version\": %d, \"container\": %s, \"mappings\": [", VFIO_CXX_GENL_VERSION,
		       json_container(c).c_str());
		for (size_t i = 0; i < ms.size(); i++)
			printf("%s\n  %s", i ? "," : "", json_mapping(ms[i]).c_str());
		printf("%s], \"preregs\": [", ms.empty() ? "" : "\n");
		for (size_t i = 0; i < ps.size(); i++)
			printf("%s\n  %s", i ? "," : "", json_prereg(ps[i]).c_str());
		printf("%s]}\n", ps.empty() ? "" : "\n");
		return OK;
	}
	table_header();
	table_row(c);
	printf("\nmm %016" PRIx64 ", %zu mapping%s\n", c.mm_id, ms.size(), ms.size() == 1 ? "" : "s");
	if (!ms.empty()) {
		printf("%18s %10s %18s %4s %8s %8s %8s %s\n", "IOVA", "SIZE", "VADDR", "PROT", "PINNED",
		       "EXTERNAL", "LOCKED", "FLAGS");
		for (auto &m : ms) {
			std::string f;
			if (m.flags & VFIO_CXX_MAP_F_IOMMU_MAPPED)
				f += "mapped ";
			if (m.flags & VFIO_CXX_MAP_F_VADDR_INVALID)
				f += "vaddr-invalid ";
			printf("0x%016" PRIx64 " %10s 0x%016" PRIx64 " %4s %8" PRIu64 " %8" PRIu64
			       " %8" PRIu64 " %s\n",
			       m.iova, human_bytes(m.size).c_str(), m.vaddr, prot_str(m.prot).c_str(),
			       m.pages_pinned, m.external_pages, m.locked_pages,
			       f.empty() ? "-" : f.c_str());
		}
	}
	if (ps.empty())
		return OK;
	printf("\n%zu preregistered region%s\n", ps.size(), ps.size() == 1 ? "" : "s");
	printf("%18s %10s %8s %6s %s\n", "VADDR", "SIZE", "PINNED", "USERS", "MM");
	for (auto &p : ps)
		printf("0x%016" PRIx64 " %10s %8" PRIu64 " %6" PRIu64 " %016" PRIx64 "\n", p.vaddr,
		       human_bytes(p.size).c_str(), p.pages_pinned, p.users, p.mm_id);
	return OK;
}

const std::pair<int, const char *> stat_names[] = {
	{ VFIO_CXX_A_STAT_CONTAINERS_LIVE, "containers_live" },
	{ VFIO_CXX_A_STAT_CONTAINERS_OPENED, "containers_opened" },
	{ VFIO_CXX_A_STAT_GROUPS_ATTACHED, "groups_attached" },
	{ VFIO_CXX_A_STAT_DOMAINS_LIVE, "domains_live" },
	{ VFIO_CXX_A_STAT_DMAS_LIVE, "dmas_live" },
	{ VFIO_CXX_A_STAT_PAGES_PINNED, "pages_pinned" },
	{ VFIO_CXX_A_STAT_EXTERNAL_PAGES, "external_pages" },
	{ VFIO_CXX_A_STAT_DEVICES_REGISTERED, "devices_registered" },
	{ VFIO_CXX_A_STAT_PREREG_PAGES, "prereg_pages" },
	{ VFIO_CXX_A_STAT_MM_EXITS, "mm_exits" },
};

int cmd_stats(Genl &nl, bool json)
{
	std::vector<std::pair<const char *, uint64_t>> v;
	int err = nl.request(VFIO_CXX_CMD_GET_STATS, false, nullptr, [&v](nlattr **tb) {
		for (auto &s : stat_names)
			if (tb[s.first])
				v.emplace_back(s.second, nla_get_u64(tb[s.first]));
	});
	if (err)
		return report(err, "reading the counters");
	if (json) {
		printf("{\"version\": %d, \"stats\": {", VFIO_CXX_GENL_VERSION);
		for (size_t i = 0; i < v.size(); i++)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "", v[i].first, v[i].second);
		printf("}}\n");
		return OK;
	}
	for (auto &s : v)
		printf("%-20s %" PRIu64 "\n", s.first, s.second);
	return OK;
}

const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case VFIO_CXX_CMD_CONTAINER_CREATED: return "container_created";
	case VFIO_CXX_CMD_CONTAINER_RELEASED: return "container_released";
	case VFIO_CXX_CMD_MEMLOCK_DENIED: return "memlock_denied";
	case VFIO_CXX_CMD_MM_EXITED: return "mm_exited";
	default: return "unknown";
	}
}

struct WatchCtx {
	bool json;
	long seen = 0;
	int bad = 0;
};

int on_event(nl_msg *m, void *arg)
{
	auto *w = static_cast<WatchCtx *>(arg);
	nlmsghdr *nlh = nlmsg_hdr(m);
	genlmsghdr *gh = static_cast<genlmsghdr *>(nlmsg_data(nlh));
	nlattr *tb[VFIO_CXX_A_MAX + 1];
	if (int e = parse_attrs(nlh, tb)) {
		w->bad = e;
		return NL_STOP;
	}
	const char *name = event_name(gh->cmd);
	const uint64_t id = u64(tb, VFIO_CXX_A_CONTAINER_ID);
	if (w->json) {
		printf("{\"event\": \"%s\", \"container\": %" PRIu64 ", \"owner_tgid\": %u, "
		       "\"owner_uid\": %u, \"mm_id\": \"%016" PRIx64 "\"",
		       name, id, u32(tb, VFIO_CXX_A_OWNER_TGID), u32(tb, VFIO_CXX_A_OWNER_UID),
		       u64(tb, VFIO_CXX_A_MM_ID));
		if (tb[VFIO_CXX_A_EVENT_PAGES])
			printf(", \"pages\": %" PRIu64, u64(tb, VFIO_CXX_A_EVENT_PAGES));
		if (tb[VFIO_CXX_A_LIMIT_PAGES])
			printf(", \"limit_pages\": %" PRIu64, u64(tb, VFIO_CXX_A_LIMIT_PAGES));
		if (tb[VFIO_CXX_A_MAPPINGS])
			printf(", \"mappings\": %" PRIu64, u64(tb, VFIO_CXX_A_MAPPINGS));
		printf("}\n");
	} else {
		printf("%-18s container %" PRIu64 " tgid %u uid %u", name, id,
		       u32(tb, VFIO_CXX_A_OWNER_TGID), u32(tb, VFIO_CXX_A_OWNER_UID));
		if (gh->cmd == VFIO_CXX_CMD_MEMLOCK_DENIED)
			printf(": %" PRIu64 " pages asked, limit %" PRIu64, u64(tb, VFIO_CXX_A_EVENT_PAGES),
			       u64(tb, VFIO_CXX_A_LIMIT_PAGES));
		if (gh->cmd == VFIO_CXX_CMD_MM_EXITED)
			printf(": %" PRIu64 " mappings, %" PRIu64 " pages left", u64(tb, VFIO_CXX_A_MAPPINGS),
			       u64(tb, VFIO_CXX_A_EVENT_PAGES));
		printf("\n");
	}
	fflush(stdout);
	w->seen++;
	return NL_OK;
}

double now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_watch(Genl &nl, bool json, long count, double timeout)
{
	nl_sock *sk = nl.sock();
	int grp = genl_ctrl_resolve_grp(sk, VFIO_CXX_GENL_NAME, VFIO_CXX_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return report(grp, "resolving the events group");
	int err = nl_socket_add_membership(sk, grp);
	if (err)
		return report(err, "subscribing to events");
	nl_socket_disable_seq_check(sk);
	WatchCtx w{ json };
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, &w);
	/* Tell a test that it may now cause events. */
	fprintf(stderr, "%s: watching\n", prog);
	const double end = timeout > 0 ? now() + timeout : 0;
	while (count <= 0 || w.seen < count) {
		int ms = -1;
		if (end) {
			double left = end - now();
			if (left <= 0)
				return count > 0 ? TIMEOUT : OK;
			ms = static_cast<int>(left * 1000) + 1;
		}
		pollfd p{ nl_socket_get_fd(sk), POLLIN, 0 };
		int r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return report(-nl_syserr2nlerr(errno), "waiting for events");
		if (r > 0) {
			err = nl_recvmsgs_default(sk);
			if (w.bad)
				return report(w.bad, "a malformed event from the kernel");
			if (err < 0)
				return report(err, "receiving events");
		}
	}
	return OK;
}

void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--json] [-c|--container ID | --stats | --watch [--count N] [--timeout S]]\n"
		"  (no option)        the containers you may see (all with CAP_SYS_ADMIN)\n"
		"  -c, --container ID one container, its DMA mappings and preregistered regions\n"
		"  -s, --stats        module-wide counters\n"
		"  -w, --watch        print events (container created/released, RLIMIT_MEMLOCK\n"
		"                     denials, owner exits with mappings left); CAP_SYS_ADMIN\n"
		"  -n, --count N      with --watch: stop after N events\n"
		"  -t, --timeout S    with --watch: stop after S seconds (exit 6 if --count\n"
		"                     events had not arrived)\n"
		"  -j, --json         JSON output (--watch: one object per line)\n"
		"  -V, --version      print the version and exit\n",
		prog);
}

} /* namespace */

int main(int argc, char **argv)
{
	static const option opts[] = {
		{ "json", no_argument, nullptr, 'j' },	   { "container", required_argument, nullptr, 'c' },
		{ "stats", no_argument, nullptr, 's' },	   { "watch", no_argument, nullptr, 'w' },
		{ "count", required_argument, nullptr, 'n' }, { "timeout", required_argument, nullptr, 't' },
		{ "help", no_argument, nullptr, 'h' },	   { "version", no_argument, nullptr, 'V' },
		{ nullptr, 0, nullptr, 0 },
	};
	bool json = false, stats = false, watch = false, have_id = false;
	uint64_t id = 0;
	long count = 0;
	double timeout = 0;
	int o;
	while ((o = getopt_long(argc, argv, "jc:swn:t:hV", opts, nullptr)) != -1) {
		char *end = nullptr;
		switch (o) {
		case 'j': json = true; break;
		case 's': stats = true; break;
		case 'w': watch = true; break;
		case 'c':
			id = strtoull(optarg, &end, 0);
			if (!*optarg || *end) {
				fprintf(stderr, "%s: bad container id '%s'\n", prog, optarg);
				return USAGE;
			}
			have_id = true;
			break;
		case 'n': count = strtol(optarg, nullptr, 0); break;
		case 't': timeout = strtod(optarg, nullptr); break;
		case 'h': usage(stdout); return OK;
		case 'V': printf("%s %s\n", prog, VFIO_CXX_VERSION); return OK;
		default: usage(stderr); return USAGE;
		}
	}
	if (optind < argc || (stats + watch + have_id) > 1) {
		usage(stderr);
		return USAGE;
	}
	Genl nl;
	if (int r = nl.open())
		return r;
	if (stats)
		return cmd_stats(nl, json);
	if (watch)
		return cmd_watch(nl, json, count, timeout);
	if (have_id)
		return cmd_container(nl, id, json);
	return cmd_list(nl, json);
}
