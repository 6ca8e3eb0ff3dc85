// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-cxx-stat's attribute parsing against malformed messages: the tool's
 * own parse_attrs() (this file includes vfio-cxx-stat.cpp) on messages built
 * with libnl, one TAP line each.  Run by `make lane-ynl` (tool-parse.tap).
 */
#define main vfio_cxx_stat_main
#include "vfio-cxx-stat.cpp"
#undef main

namespace {

int n;
int failed;

void result(bool ok, const char *what)
{
	printf("%sok %d - vfio-cxx-stat: %s\n", ok ? "" : "not ", ++n, what);
	failed += !ok;
}

/* A GET_CONTAINER reply; fn adds the attributes. */
template <class F>
int parse(F fn, nlattr **tb)
{
	nl_msg *m = nlmsg_alloc();
	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, 0x20, 0, 0, VFIO_CXX_CMD_GET_CONTAINER, 1);
	fn(m);
	int err = parse_attrs(nlmsg_hdr(m), tb);
	/* tb points into m: the caller reads it before the next parse; m leaks for that. */
	return err;
}

} /* namespace */

int main()
{
	nlattr *tb[VFIO_CXX_A_MAX + 1];
	const uint32_t v32 = 7;
	const uint64_t v64 = 0x1122334455667788ULL;

	printf("TAP version 13\n");
	int err = parse(
		[&](nl_msg *m) {
			nla_put_u64(m, VFIO_CXX_A_CONTAINER_ID, v64);
			nla_put_u32(m, VFIO_CXX_A_OWNER_TGID, v32);
			nlattr *nest = nla_nest_start(m, VFIO_CXX_A_GROUP_IDS);
			nla_put_u32(m, VFIO_CXX_A_GROUP_ID, 3);
			nla_put_u32(m, VFIO_CXX_A_GROUP_ID, 9);
			nla_nest_end(m, nest);
		},
		tb);
	Container c = err ? Container{} : parse_container(tb);
	result(!err && c.id == v64 && c.tgid == v32 && c.group_ids == std::vector<uint32_t>{ 3, 9 },
	       "a well-formed container message is read");
	result(parse([&](nl_msg *m) { nla_put(m, VFIO_CXX_A_CONTAINER_ID, 4, &v32); }, tb) == -NLE_RANGE,
	       "a u64 attribute of 4 bytes is rejected");
	result(parse([&](nl_msg *m) { nla_put(m, VFIO_CXX_A_CONTAINER_ID, 12, "123456789012"); }, tb) ==
		       -NLE_RANGE,
	       "a u64 attribute of 12 bytes is rejected");
	result(parse([&](nl_msg *m) { nla_put_u64(m, VFIO_CXX_A_OWNER_UID, v64); }, tb) == -NLE_RANGE,
	       "a u32 attribute of 8 bytes is rejected");
	result(parse(
		       [&](nl_msg *m) {
			       nlattr *nest = nla_nest_start(m, VFIO_CXX_A_GROUP_IDS);
			       nla_put(m, VFIO_CXX_A_GROUP_ID, 2, "ab");
			       nla_nest_end(m, nest);
		       },
		       tb) == -NLE_RANGE,
	       "a group id of 2 bytes inside group-ids is rejected");
	result(parse([&](nl_msg *m) { nla_put_u32(m, VFIO_CXX_A_STAT_MM_EXITS, v32); }, tb) == -NLE_RANGE,
	       "a counter (u64) of 4 bytes is rejected");
	err = parse(
		[&](nl_msg *m) {
			nla_put_u64(m, VFIO_CXX_A_CONTAINER_ID, v64);
			nla_put(m, VFIO_CXX_A_MAX + 3, 3, "xyz");
		},
		tb);
	result(!err && u64(tb, VFIO_CXX_A_CONTAINER_ID) == v64,
	       "an attribute newer than the tool is ignored (uapi: readers ignore unknown ones)");
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
