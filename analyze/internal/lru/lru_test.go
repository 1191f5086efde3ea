package lru

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// values returns the values of l from the oldest, walking forward, and
// checks that walking backward gives the same.
func values(t *testing.T, l *List[int]) []int {
	t.Helper()
	var fwd, back []int
	for e := l.head; e != nil; e = e.next {
		fwd = append(fwd, e.Value)
		if len(fwd) > 1000 {
			t.Fatal("the list has a cycle")
		}
	}
	for e := l.tail; e != nil; e = e.prev {
		back = append(back, e.Value)
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, back) {
		t.Fatalf("forward %v, backward %v", fwd, back)
	}
	return fwd
}

// TestList runs random pushes, touches and removes (some of Elements in no
// list) against a slice that does the same.
func TestList(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var l List[int]
	elems := make([]Element[int], 20)
	for i := range elems {
		elems[i].Value = i
	}
	var want []int
	for range 20000 {
		i := rng.IntN(len(elems))
		e := &elems[i]
		in := slices.Contains(want, i)
		switch op := rng.IntN(3); {
		case op == 0 && !in:
			l.Push(e)
			want = append(want, i)
		case op == 1 && in:
			l.Touch(e)
			want = append(slices.DeleteFunc(want, func(v int) bool { return v == i }), i)
		default:
			l.Remove(e) // in no list, or in it
			want = slices.DeleteFunc(want, func(v int) bool { return v == i })
		}
		if got := values(t, &l); !slices.Equal(got, want) {
			t.Fatalf("list = %v, want %v", got, want)
		}
		if o := l.Oldest(); (o == nil) != (len(want) == 0) || o != nil && o.Value != want[0] {
			t.Fatalf("Oldest = %v, want the first of %v", o, want)
		}
	}
}

func TestRemoveNotListed(t *testing.T) {
	var l List[int]
	a, b := &Element[int]{Value: 1}, &Element[int]{Value: 2}
	l.Push(a)
	l.Remove(b) // in no list: nothing happens
	l.Remove(b)
	if got := values(t, &l); !slices.Equal(got, []int{1}) {
		t.Errorf("after removing an Element in no list: %v, want [1]", got)
	}
	l.Remove(a)
	l.Remove(a)
	if got := values(t, &l); len(got) != 0 || l.Oldest() != nil {
		t.Errorf("after removing the only Element twice: %v, want []", got)
	}
}
