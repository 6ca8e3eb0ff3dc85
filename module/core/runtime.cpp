// SPDX-License-Identifier: GPL-2.0
/*
 * The freestanding C++ runtime of the module (kernel build only; the host
 * build uses libstdc++'s).
 *
 * - operator new/delete in every form the compiler may emit, over
 *   kapi_alloc()/kapi_free().  Allocation failure returns nullptr: there are
 *   no exceptions, the core allocates only through make<T>() (nothrow) and
 *   the module is built with -fcheck-new, so a failed plain new is also
 *   null-checked before construction.
 * - __cxa_pure_virtual / __cxa_deleted_virtual.
 * - Static constructors are forbidden: the kernel does not run them
 *   (no CONFIG_CONSTRUCTORS on Debian).  scripts/check-module-objects.sh fails
 *   the build if any object has .init_array/.ctors or calls __cxa_atexit or
 *   __cxa_guard_*; globals must be constant-initialised (constinit).
 *
 * Locking: none (kapi_alloc may sleep, as every core allocation may).
 */
#include <vfio_cxx/base.h>
#include <vfio_cxx/log.h>

namespace std {
const nothrow_t nothrow{};
}

void *operator new(size_t size) { return kapi_alloc(size); }
void *operator new[](size_t size) { return kapi_alloc(size); }
void *operator new(size_t size, const std::nothrow_t &) noexcept { return kapi_alloc(size); }
void *operator new[](size_t size, const std::nothrow_t &) noexcept { return kapi_alloc(size); }

void operator delete(void *p) noexcept { kapi_free(p); }
void operator delete[](void *p) noexcept { kapi_free(p); }
void operator delete(void *p, size_t) noexcept { kapi_free(p); }
void operator delete[](void *p, size_t) noexcept { kapi_free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { kapi_free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { kapi_free(p); }

extern "C" void __cxa_pure_virtual(void);
extern "C" void __cxa_deleted_virtual(void);

/*
 * The core has no virtual functions, so these are unreachable; the linker
 * wants them only if a vtable ever appears (check-module-objects.py fails
 * the build lane on any).  No trap: report and return.
 */
extern "C" void __cxa_pure_virtual(void)
{
	VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: pure virtual function called");
}

extern "C" void __cxa_deleted_virtual(void)
{
	VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: deleted virtual function called");
}
