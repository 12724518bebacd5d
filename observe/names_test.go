package observe

import "testing"

// Every value of every enumeration has a name of its own: a table's
// length is its enumeration's count, and none of its entries is empty.
func TestEveryValueIsNamed(t *testing.T) {
	tables := map[string][]string{
		"Outcome": outcomeNames[:], "Source": sourceNames[:], "RefreshOutcome": refreshNames[:],
		"Event": eventNames[:], "StoreOp": storeOpNames[:], "Call": callNames[:],
	}
	for enum, names := range tables {
		seen := map[string]bool{}
		for i, n := range names {
			if n == "" || seen[n] {
				t.Errorf("%s %d: name %q, empty or given twice", enum, i, n)
			}
			seen[n] = true
		}
	}
}
