package ui

import "testing"

// FuzzParseRanges feeds the export form's id list, which comes from the
// page (and so from anyone who can reach the server), to parseRanges, and
// checks idList.has against the list's walk.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"", "0", "1-3,5", "3-1", "0-99999999999999999999", "-", ",", "1,,2", " 2 - 3 ", "7-7,0-7,3"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		got, err := parseRanges(s, n)
		if err != nil {
			return
		}
		prev := -1
		for _, r := range got {
			if r[0] < 0 || r[1] > n || r[0] >= r[1] || r[0] <= prev {
				t.Fatalf("parseRanges(%q, %d) = %v: ranges out of bounds, empty or unsorted", s, n, got)
			}
			prev = r[1] - 1
		}
		// has, which the HAR export asks for every event, agrees with
		// the ranges' own walk.
		in := make([]bool, n+2)
		next := got.iter()
		for id, ok := next(); ok; id, ok = next() {
			in[id] = true
		}
		for id := -1; id <= n+1 && id < 4096; id++ {
			want := id >= 0 && id < len(in) && in[id]
			if got.has(id) != want {
				t.Fatalf("parseRanges(%q, %d) = %v: has(%d) = %v, want %v", s, n, got, id, !want, want)
			}
		}
	})
}
