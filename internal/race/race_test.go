package race

import "testing"

// TestKeep checks that Keep keeps every case without the race detector,
// and under it about a quarter of the cases, with every value of each of
// two keys keeping some.
func TestKeep(t *testing.T) {
	kept := 0
	var byA [24]int
	var byB [40]int
	for a := range 24 {
		for b := range 40 {
			if Keep(a, b) {
				kept++
				byA[a]++
				byB[b]++
			}
		}
	}
	if !Enabled {
		if kept != 24*40 {
			t.Fatalf("without the race detector Keep kept %d of %d cases, want all", kept, 24*40)
		}
		return
	}
	if kept < 24*40/4*8/10 || kept > 24*40/4*12/10 {
		t.Errorf("Keep kept %d of %d cases, want about a quarter", kept, 24*40)
	}
	for a, n := range byA {
		if n == 0 {
			t.Errorf("no case kept with first key %d", a)
		}
	}
	for b, n := range byB {
		if n == 0 {
			t.Errorf("no case kept with second key %d", b)
		}
	}
}
