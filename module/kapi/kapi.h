/* SPDX-License-Identifier: GPL-2.0 */
/* Transitional umbrella: services.h and ../core/entry.h.  Include those. */
#ifndef VFIO_CXX_KAPI_H
#define VFIO_CXX_KAPI_H
#include "services.h"
#include "../core/entry.h"
#endif
