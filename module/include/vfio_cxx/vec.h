/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small growable array of trivially copyable values, for short lists
 * (IOVA ranges).  Growth can fail: push_back() returns false and leaves the
 * array unchanged.
 *
 * Locking: none of its own; its owner's.
 */
#ifndef VFIO_CXX_VEC_H
#define VFIO_CXX_VEC_H

#include "base.h"
#include "../../kapi/services.h"

namespace vfio_cxx {

template <class T>
class Vec {
	static_assert(__is_trivially_copyable(T), "Vec holds trivially copyable values");

public:
	Vec() noexcept = default;
	VFIO_CXX_NO_COPY(Vec);
	Vec(Vec &&o) noexcept
		: data_(exchange(o.data_, static_cast<T *>(nullptr))), size_(exchange(o.size_, size_t(0))),
		  cap_(exchange(o.cap_, size_t(0)))
	{
	}
	Vec &operator=(Vec &&o) noexcept
	{
		if (this != &o) {
			kapi_free(data_);
			data_ = exchange(o.data_, static_cast<T *>(nullptr));
			size_ = exchange(o.size_, size_t(0));
			cap_ = exchange(o.cap_, size_t(0));
		}
		return *this;
	}
	~Vec() { kapi_free(data_); }

	[[nodiscard]] bool push_back(const T &v) noexcept
	{
		if (size_ == cap_ && !grow())
			return false;
		data_[size_++] = v;
		return true;
	}
	[[nodiscard]] bool insert(size_t pos, const T &v) noexcept
	{
		if (size_ == cap_ && !grow())
			return false;
		for (size_t i = size_; i > pos; i--)
			data_[i] = data_[i - 1];
		data_[pos] = v;
		size_++;
		return true;
	}
	void erase(size_t pos) noexcept
	{
		for (size_t i = pos; i + 1 < size_; i++)
			data_[i] = data_[i + 1];
		size_--;
	}
	void clear() noexcept { size_ = 0; }
	size_t size() const noexcept { return size_; }
	bool empty() const noexcept { return size_ == 0; }
	T &operator[](size_t i) noexcept { return data_[i]; }
	const T &operator[](size_t i) const noexcept { return data_[i]; }
	T *begin() noexcept { return data_; }
	T *end() noexcept { return data_ + size_; }
	const T *begin() const noexcept { return data_; }
	const T *end() const noexcept { return data_ + size_; }

private:
	bool grow() noexcept
	{
		size_t ncap = cap_ ? cap_ * 2 : 4;
		T *n = static_cast<T *>(kapi_alloc(ncap * sizeof(T)));
		if (!n)
			return false;
		for (size_t i = 0; i < size_; i++)
			n[i] = data_[i];
		kapi_free(data_);
		data_ = n;
		cap_ = ncap;
		return true;
	}

	T *data_ = nullptr;
	size_t size_ = 0;
	size_t cap_ = 0;
};

} /* namespace vfio_cxx */

#endif
