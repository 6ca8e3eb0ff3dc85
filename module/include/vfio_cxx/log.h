/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging through kapi_log.  Locking: none; a call site's warn-once flag is
 * set with an atomic exchange, so it fires once under any concurrency.
 */
#ifndef VFIO_CXX_LOG_H
#define VFIO_CXX_LOG_H

#include "../../kapi/services.h"

/* Warn once per call site (a constant-initialised static: no guard, no ctor). */
#define VFIO_CXX_WARN_ONCE(fmt, ...)                                           \
	do {                                                                   \
		static constinit bool warned_ = false;                         \
		if (!__atomic_exchange_n(&warned_, true, __ATOMIC_RELAXED))    \
			kapi_log(KAPI_LOG_WARN, fmt, ##__VA_ARGS__);          \
	} while (0)

/*
 * An inconsistency of the core's own bookkeeping (kapi_internal_error): the
 * caller recovers after it.  Nothing user input can reach may use it.
 */
#define VFIO_CXX_INTERNAL_ERROR(msg) kapi_internal_error(msg)

#endif
