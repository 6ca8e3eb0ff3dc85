/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vfio_cxx generic netlink family's logic (netlink.cpp), in two parts:
 *
 * - the handlers that module/kapi/netlink.c's genl ops trampolines call
 *   (extern "C", C-compatible: the other direction is
 *   ../kapi/netlink_services.h);
 * - below, for the C++ core only: the visibility decision the registry
 *   asks (may_see) and the events (emit_event).
 *
 * Locking: netlink.cpp's rules; the handlers are called with no lock held.
 */
#ifndef VFIO_CXX_CORE_NETLINK_H
#define VFIO_CXX_CORE_NETLINK_H

#include "../kapi/types.h"

KAPI_BEGIN_DECLS

struct kapi_nl_req;
struct kapi_msg;

/*
 * cmd is the op's VFIO_CXX_CMD_*.  doit: 0 (the reply was sent) or a
 * negative errno.  start: 0 or a negative errno (then done is not called).
 * dumpit: the bytes put in m, 0 at the end, or a negative errno when
 * nothing was put.  done: the end of every started dump, also when the
 * socket closes in the middle; 0.
 */
KAPI_ENTRY int vfio_cxx_nl_doit(struct kapi_nl_req *r, unsigned int cmd) KAPI_NOEXCEPT;
KAPI_ENTRY int vfio_cxx_nl_start(struct kapi_nl_req *r, unsigned int cmd) KAPI_NOEXCEPT;
KAPI_ENTRY int vfio_cxx_nl_dumpit(struct kapi_nl_req *r, struct kapi_msg *m, unsigned int cmd) KAPI_NOEXCEPT;
KAPI_ENTRY int vfio_cxx_nl_done(struct kapi_nl_req *r) KAPI_NOEXCEPT;

KAPI_END_DECLS

#ifdef __cplusplus

#include "../kapi/services.h"

namespace vfio_cxx::nl {

/*
 * Whether viewer v may see the containers of owner o (netlink.cpp has the
 * rule).  quiet: a denial is not audited (a listing).  Takes no lock of
 * the core: call it with none held.
 */
bool may_see(const kapi_viewer *v, const kapi_owner *o, bool quiet) noexcept;

/*
 * Announce ev (type KAPI_EVENT_*) to the "events" group's listeners, if
 * any; never fails, may sleep, takes no lock of the core.
 */
void emit_event(kapi_event_type type, const kapi_event &ev) noexcept;

} /* namespace vfio_cxx::nl */

#endif /* __cplusplus */

#endif /* VFIO_CXX_CORE_NETLINK_H */
