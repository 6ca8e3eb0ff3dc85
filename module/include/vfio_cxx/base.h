/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Freestanding C++ basics for the vfio-cxx core.
 *
 * The core never includes a kernel header and, in the kernel build, no
 * system header either (-nostdinc -nostdinc++).  The same sources build as a
 * userspace library for the host unit tests, where libstdc++ is present, so
 * anything that libstdc++ also defines (placement new) is taken from it there.
 *
 * Locking: none of its own; the counters below say what each read and write
 * may race with.
 */
#ifndef VFIO_CXX_BASE_H
#define VFIO_CXX_BASE_H

#ifndef __cplusplus
#error "vfio_cxx/base.h is C++ only"
#endif

#ifdef VFIO_CXX_KERNEL
using size_t = __SIZE_TYPE__;
/* Placement new: the kernel build has no <new>. */
inline void *operator new(size_t, void *p) noexcept { return p; }
inline void *operator new[](size_t, void *p) noexcept { return p; }
inline void operator delete(void *, void *) noexcept {}
inline void operator delete[](void *, void *) noexcept {}
namespace std {
struct nothrow_t { explicit nothrow_t() = default; };
extern const nothrow_t nothrow;
}
void *operator new(size_t, const std::nothrow_t &) noexcept;
void *operator new[](size_t, const std::nothrow_t &) noexcept;
void operator delete(void *, const std::nothrow_t &) noexcept;
void operator delete[](void *, const std::nothrow_t &) noexcept;
#else
#include <cstddef>
#include <new>
using std::size_t;
#endif

/*
 * For the few one-instruction helpers on the MAP/UNMAP path that gcc -O2
 * was seen to leave out of line (make bench-profile: SerialCounter::add
 * as a called function in map.o).
 */
#define VFIO_CXX_ALWAYS_INLINE inline __attribute__((always_inline))

namespace vfio_cxx {

using u8 = unsigned char;
using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;
using s32 = int;
using s64 = long long;
using uptr = __UINTPTR_TYPE__;

static_assert(sizeof(u64) == 8 && sizeof(u32) == 4 && sizeof(u16) == 2, "integer sizes");
static_assert(sizeof(unsigned long) == sizeof(void *), "LP64 only");

/* Minimal <utility>. */
template <class T> struct remove_reference { using type = T; };
template <class T> struct remove_reference<T &> { using type = T; };
template <class T> struct remove_reference<T &&> { using type = T; };

template <class T> struct remove_cv { using type = T; };
template <class T> struct remove_cv<const T> { using type = T; };
template <class T> struct remove_cv<volatile T> { using type = T; };
template <class T> struct remove_cv<const volatile T> { using type = T; };
template <class T> using remove_cvref_t = typename remove_cv<typename remove_reference<T>::type>::type;
template <class A, class B> inline constexpr bool is_same_v = false;
template <class A> inline constexpr bool is_same_v<A, A> = true;

template <class T>
constexpr typename remove_reference<T>::type &&move(T &&t) noexcept
{
	return static_cast<typename remove_reference<T>::type &&>(t);
}

template <class T>
constexpr T &&forward(typename remove_reference<T>::type &t) noexcept
{
	return static_cast<T &&>(t);
}

template <class T>
constexpr T exchange(T &obj, T val) noexcept
{
	T old = obj;
	obj = val;
	return old;
}

/*
 * A non-owning reference to a callable, for a call that lends another
 * object a step of its own (the callable must outlive the call).  One
 * indirect call; no allocation.  Passed by value; never stored.
 */
template <class Sig> class FnRef;
template <class R, class... Args>
class FnRef<R(Args...)> {
public:
	/*
	 * Not for an FnRef itself: passing one on copies it (the copy
	 * constructor), rather than wrapping it in another indirection.
	 * The wrapper would also be an instance with vague linkage, which g++
	 * emits in a COMDAT group, and a group in a kernel module splits its
	 * __patchable_function_entries so that the module fails to load (seen
	 * with g++-14 on 6.12+deb13: "cannot create duplicate filename").
	 */
	template <class F>
		requires(!is_same_v<remove_cvref_t<F>, FnRef>)
	FnRef(F &&f) noexcept /* NOLINT: implicit, as a lambda argument */
		: obj_(const_cast<void *>(static_cast<const void *>(&f))),
		  call_([](void *o, Args... a) noexcept -> R {
			  return (*static_cast<typename remove_reference<F>::type *>(o))(
				  static_cast<Args>(a)...);
		  })
	{
	}
	R operator()(Args... a) const noexcept { return call_(obj_, static_cast<Args>(a)...); }

private:
	void *obj_;
	R (*call_)(void *, Args...) noexcept;
};

/*
 * A hot path's function with a single caller, defined in another file of
 * the core: in the module's one-unit build (core/unity.cpp defines
 * VFIO_CXX_UNITY) it is inlined into that caller, which gcc's size limits
 * otherwise refuse for a function this large; in the host lane, where every
 * file is its own unit, it is an ordinary function.
 */
#ifdef VFIO_CXX_UNITY
#define VFIO_CXX_INLINE_ONE_CALLER [[gnu::always_inline]] inline
#else
#define VFIO_CXX_INLINE_ONE_CALLER
#endif

#define VFIO_CXX_NO_COPY(T)                                                    \
	T(const T &) = delete;                                                 \
	T &operator=(const T &) = delete

/*
 * Allocation.  Every allocation in the core goes through here: it uses the
 * nothrow operator new (declared noexcept, so the compiler keeps the null
 * check) and the caller must handle nullptr.  There are no exceptions.
 */
template <class T, class... Args>
T *make(Args &&...args) noexcept
{
	return new (std::nothrow) T(forward<Args>(args)...);
}

/* How Owned frees what it owns: delete (objects made with make<T>()). */
template <class T>
struct DeleteFree {
	static void free(T *p) noexcept { delete p; }
};

/* ... or a kernel handle's release function (kapi_mm_drop, kapi_msg_free). */
template <class T, void (*Release)(T *) noexcept>
struct CallFree {
	static void free(T *p) noexcept { Release(p); }
};

/*
 * Sole owner of a heap object made with make<T>(), or with Free = CallFree,
 * of a kernel handle: freed at the end of its scope unless released.
 */
template <class T, class Free = DeleteFree<T>>
class Owned {
public:
	constexpr Owned() noexcept = default;
	explicit Owned(T *p) noexcept : p_(p) {}
	Owned(Owned &&o) noexcept : p_(exchange(o.p_, static_cast<T *>(nullptr))) {}
	Owned &operator=(Owned &&o) noexcept
	{
		reset(exchange(o.p_, static_cast<T *>(nullptr)));
		return *this;
	}
	VFIO_CXX_NO_COPY(Owned);
	~Owned() { reset(); }

	T *get() const noexcept { return p_; }
	T *operator->() const noexcept { return p_; }
	T &operator*() const noexcept { return *p_; }
	explicit operator bool() const noexcept { return p_ != nullptr; }
	[[nodiscard]] T *release() noexcept { return exchange(p_, static_cast<T *>(nullptr)); }
	void reset(T *p = nullptr) noexcept
	{
		T *old = exchange(p_, p);
		if (old)
			Free::free(old);
	}

private:
	T *p_ = nullptr;
};

/*
 * A value or a negative errno.  Errors are kernel errnos (see errno.h); the
 * kapi layer checks at compile time that they match the kernel's numbers.
 */
template <class T>
class Result {
public:
	Result(T v) noexcept : v_(move(v)), err_(0) {}
	static Result error(int err) noexcept { return Result(err, 0); }
	bool ok() const noexcept { return err_ == 0; }
	int err() const noexcept { return err_; }
	T &value() noexcept { return v_; }
	T take() noexcept { return move(v_); }

private:
	Result(int err, int) noexcept : v_(), err_(err) {}
	T v_;
	int err_;
};

/* Relaxed statistics counter; the kernel build compiles it to lock-prefixed ops. */
class Counter {
public:
	constexpr Counter() noexcept = default;
	void inc() noexcept { add(1); }
	void dec() noexcept { sub(1); }
	void add(u64 n) noexcept { __atomic_fetch_add(&v_, n, __ATOMIC_RELAXED); }
	void sub(u64 n) noexcept { __atomic_fetch_sub(&v_, n, __ATOMIC_RELAXED); }
	u64 read() const noexcept { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }

private:
	u64 v_ = 0;
};

/*
 * A counter with one writer at a time (the lock of the object it counts
 * held) and lock-free readers: a relaxed load and store, no lock-prefixed
 * read-modify-write.  The readers see each value whole, never torn.
 */
class SerialCounter {
public:
	constexpr SerialCounter() noexcept = default;
	VFIO_CXX_ALWAYS_INLINE void inc() noexcept { add(1); }
	VFIO_CXX_ALWAYS_INLINE void dec() noexcept { sub(1); }
	VFIO_CXX_ALWAYS_INLINE void add(u64 n) noexcept { set(read() + n); }
	VFIO_CXX_ALWAYS_INLINE void sub(u64 n) noexcept { set(read() - n); }
	VFIO_CXX_ALWAYS_INLINE void set(u64 n) noexcept { __atomic_store_n(&v_, n, __ATOMIC_RELAXED); }
	VFIO_CXX_ALWAYS_INLINE u64 read() const noexcept { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }

private:
	u64 v_ = 0;
};

/*
 * A SerialCounter of one object that also feeds a module-wide Counter
 * (shared by every object: an atomic update, skipped when there is nothing
 * to add).
 */
class Tally {
public:
	explicit constexpr Tally(Counter &global) noexcept : global_(global) {}
	VFIO_CXX_NO_COPY(Tally);
	void inc() noexcept { add(1); }
	void dec() noexcept { sub(1); }
	void add(u64 n) noexcept
	{
		if (!n)
			return;
		local_.add(n);
		global_.add(n);
	}
	void sub(u64 n) noexcept
	{
		if (!n)
			return;
		local_.sub(n);
		global_.sub(n);
	}
	u64 read() const noexcept { return local_.read(); }

private:
	Counter &global_;
	SerialCounter local_;
};

} /* namespace vfio_cxx */

#endif /* VFIO_CXX_BASE_H */
