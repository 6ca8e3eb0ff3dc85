/* SPDX-License-Identifier: GPL-2.0 */
/* RAII ownership of kapi mutexes. */
#ifndef VFIO_CXX_SYNC_H
#define VFIO_CXX_SYNC_H

#include "base.h"
#include "../../kapi/services.h"

namespace vfio_cxx {

/* Owns a kapi mutex; a null Mutex means its allocation failed. */
class Mutex {
public:
	explicit Mutex(kapi_lock_class cls) noexcept : m_(kapi_mutex_create(cls)) {}
	VFIO_CXX_NO_COPY(Mutex);
	~Mutex()
	{
		if (m_)
			kapi_mutex_destroy(m_);
	}
	bool valid() const noexcept { return m_ != nullptr; }
	void lock() noexcept { kapi_mutex_lock(m_); }
	/* 0, or -EINTR (killed while waiting; not held). */
	[[nodiscard]] int lock_killable() noexcept { return kapi_mutex_lock_killable(m_); }
	[[nodiscard]] bool try_lock() noexcept { return kapi_mutex_trylock(m_) != 0; }
	void unlock() noexcept { kapi_mutex_unlock(m_); }
	/*
	 * Only where someone checks: the host kapi always, the kernel with
	 * lockdep (the debug lane's kernel).  Without lockdep the kernel's
	 * lockdep_assert_held() is empty, and the call to say so was, by
	 * make bench-profile, several of the out-of-line calls of each
	 * MAP_DMA and UNMAP_DMA.  VFIO_CXX_LOCK_ASSERTS: scripts/kbuild-cxx.mk
	 * (CONFIG_LOCKDEP), selftests/host/Makefile.
	 */
	void assert_held() noexcept
	{
#ifdef VFIO_CXX_LOCK_ASSERTS
		kapi_mutex_assert_held(m_);
#endif
	}

private:
	kapi_mutex *m_;
};

class [[nodiscard]] Guard {
public:
	explicit Guard(Mutex &m) noexcept : m_(m) { m_.lock(); }
	VFIO_CXX_NO_COPY(Guard);
	~Guard() { m_.unlock(); }

private:
	Mutex &m_;
};

/*
 * A mutex taken killably or by trylock: held() says whether it was got, and
 * the destructor releases it only then.
 */
/* A module-static kapi mutex (kapi_registry_mutex(), kapi_regions_mutex()) for a scope. */
class [[nodiscard]] StaticGuard {
public:
	explicit StaticGuard(kapi_mutex *m) noexcept : m_(m) { kapi_mutex_lock(m_); }
	VFIO_CXX_NO_COPY(StaticGuard);
	~StaticGuard() { kapi_mutex_unlock(m_); }

private:
	kapi_mutex *m_;
};

class [[nodiscard]] MaybeGuard {
public:
	enum Mode { WAIT, KILLABLE, TRY };
	MaybeGuard(Mutex &m, Mode mode) noexcept : m_(m), held_(take(m, mode)) {}
	VFIO_CXX_NO_COPY(MaybeGuard);
	~MaybeGuard()
	{
		if (held_)
			m_.unlock();
	}
	bool held() const noexcept { return held_; }

private:
	static bool take(Mutex &m, Mode mode) noexcept
	{
		switch (mode) {
		case TRY:
			return m.try_lock();
		case KILLABLE:
			return m.lock_killable() == 0;
		default:
			m.lock();
			return true;
		}
	}
	Mutex &m_;
	bool held_;
};

/* Drops a held mutex for its scope and takes it back at the end. */
class [[nodiscard]] Unlock {
public:
	explicit Unlock(Mutex &m) noexcept : m_(m)
	{
		m_.assert_held();
		m_.unlock();
	}
	VFIO_CXX_NO_COPY(Unlock);
	~Unlock() { m_.lock(); }

private:
	Mutex &m_;
};

} /* namespace vfio_cxx */

#endif
