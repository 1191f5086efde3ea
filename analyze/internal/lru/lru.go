// Package lru is the recency list the analyzer's tables share: the
// connection table (evicting the least recently active connection past
// --max-conns) and the deflate histories (dropping the history inflated
// least recently past --max-deflate-history).
//
// It is intrusive, as those tables want: the Element lives inside the
// value it orders (a field of the connection), so pushing, touching and
// removing allocate nothing and need no lookup.
package lru

// List orders Elements by recency, least recent first. The zero value is
// an empty list.
type List[T any] struct {
	head, tail *Element[T]
}

// Element is one entry of a List; Value is what it orders (usually the
// value the Element is a field of). The zero value is in no list.
type Element[T any] struct {
	prev, next *Element[T]
	Value      T
}

// Oldest returns the least recently used Element, nil when l is empty.
func (l *List[T]) Oldest() *Element[T] { return l.head }

// Push adds e, which must be in no list, as the most recently used.
func (l *List[T]) Push(e *Element[T]) {
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

// Remove takes e out of l. Removing an Element that is in no list does
// nothing, so that a value can be dropped without knowing whether it was
// still listed.
func (l *List[T]) Remove(e *Element[T]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if l.head == e {
		l.head = e.next
	} else {
		return // in no list
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// Touch makes e, which must be in l, the most recently used.
func (l *List[T]) Touch(e *Element[T]) {
	if l.tail != e {
		l.Remove(e)
		l.Push(e)
	}
}
