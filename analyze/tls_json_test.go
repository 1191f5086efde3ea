package analyze

import (
	"fmt"
	"math"
	"testing"
)

// TestAppendAppDataRecord: the one-piece writer of an application_data
// record's JSON object writes what the general one of appendCarried does,
// for every number of digits and past the eight it writes as one word.
func TestAppendAppDataRecord(t *testing.T) {
	var values []int64
	for v := int64(0); v < 20000; v++ {
		values = append(values, v)
	}
	for p := int64(10); p <= 1e18; p *= 10 {
		values = append(values, p-1, p, p+1, p*7/3)
	}
	values = append(values, 12345678, 87654321, 99999999, 1e8, math.MaxInt64, -1, -12345, math.MinInt64)
	prefix := []byte(`{"x":1,`) // bytes before, and spare capacity, must not matter
	for i, length := range values {
		packet := values[(i*7919+13)%len(values)]
		want := fmt.Sprintf(`{"len":%d,"packet":%d}`, length, packet)
		if got := string(appendAppDataRecord(nil, int(length), packet)); got != want {
			t.Fatalf("appendAppDataRecord(nil, %d, %d) = %s, want %s", length, packet, got, want)
		}
		b := append(make([]byte, 0, len(prefix)+i%40), prefix...)
		if got := string(appendAppDataRecord(b, int(length), packet)); got != string(prefix)+want {
			t.Fatalf("appendAppDataRecord(%q, %d, %d) = %s, want %s", prefix, length, packet, got, string(prefix)+want)
		}
	}
}
