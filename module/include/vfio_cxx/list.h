/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An intrusive doubly-linked list in the style of the kernel's list_head.
 *
 * Used only for the short per-container lists of groups and domains (a
 * handful of entries, walked under the container lock), where the kernel
 * itself uses list_head.  Large indexed sets go through the kernel's own
 * structures behind kapi instead.
 */
#ifndef VFIO_CXX_LIST_H
#define VFIO_CXX_LIST_H

#include "base.h"

namespace vfio_cxx {

struct ListNode {
	ListNode *prev = this;
	ListNode *next = this;
	void *obj = nullptr; /* the element this node is embedded in */

	ListNode() noexcept = default;
	VFIO_CXX_NO_COPY(ListNode);
	bool linked() const noexcept { return next != this; }
	void unlink() noexcept
	{
		prev->next = next;
		next->prev = prev;
		prev = next = this;
	}
};

/*
 * List<T, &T::node>.  The list does not own its elements: the owner that
 * removes an element also frees it (see Container).
 */
template <class T, ListNode T::*Node>
class List {
public:
	List() noexcept = default;
	VFIO_CXX_NO_COPY(List);
	~List() = default;

	bool empty() const noexcept { return !head_.linked(); }
	void push_back(T &e) noexcept
	{
		ListNode &n = e.*Node;
		n.obj = &e;
		n.prev = head_.prev;
		n.next = &head_;
		head_.prev->next = &n;
		head_.prev = &n;
	}
	static void remove(T &e) noexcept { (e.*Node).unlink(); }
	T *front() noexcept { return empty() ? nullptr : owner(head_.next); }
	size_t size() const noexcept
	{
		size_t n = 0;
		for (const ListNode *p = head_.next; p != &head_; p = p->next)
			n++;
		return n;
	}

	/* Iteration that tolerates removal of the current element. */
	class Iter {
	public:
		Iter(ListNode *p, const ListNode *head) noexcept : p_(p), next_(p->next), head_(head) {}
		T &operator*() const noexcept { return *owner(p_); }
		Iter &operator++() noexcept
		{
			p_ = next_;
			next_ = p_->next;
			return *this;
		}
		bool operator!=(const Iter &o) const noexcept { return p_ != o.p_; }

	private:
		ListNode *p_;
		ListNode *next_;
		const ListNode *head_;
	};
	Iter begin() noexcept { return Iter(head_.next, &head_); }
	Iter end() noexcept { return Iter(&head_, &head_); }

private:
	static T *owner(ListNode *n) noexcept { return static_cast<T *>(n->obj); }
	ListNode head_;
};

} /* namespace vfio_cxx */

#endif
