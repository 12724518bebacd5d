package memstore

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestIndexSets(t *testing.T) {
	tests := []struct {
		name   string
		add    []string
		remove []string
		want   []string
	}{
		{"one", []string{"a"}, nil, []string{"a"}},
		{"one twice", []string{"a", "a"}, nil, []string{"a"}},
		{"several", []string{"a", "b", "c"}, nil, []string{"a", "b", "c"}},
		{"the inline one removed", []string{"a", "b", "c"}, []string{"a"}, []string{"b", "c"}},
		{"another removed", []string{"a", "b", "c"}, []string{"b"}, []string{"a", "c"}},
		{"all removed", []string{"a", "b"}, []string{"b", "a"}, nil},
		{"unknown removed", []string{"a"}, []string{"z"}, []string{"a"}},
		{"removed then added", []string{"a", "b"}, []string{"a", "b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			index := map[string]idSet{}
			for _, id := range tt.add {
				addIndex(index, "k", id)
			}
			for _, id := range tt.remove {
				removeIndex(index, "k", id)
			}
			got := slices.Sorted(index["k"].all)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if _, ok := index["k"]; ok != (len(tt.want) > 0) {
				t.Fatalf("key kept %v, want %v", ok, len(tt.want) > 0)
			}
		})
	}
}

func TestInstant(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want instant
	}{
		{"ordinary", now, instant(now.UnixNano())},
		{"far future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{"far past", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := instantOf(tt.t); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
	if !instantOf(now).time().Equal(now) || instantOf(now).after(now) || !instantOf(now.Add(1)).after(now) {
		t.Fatal("instant does not round-trip or compare")
	}
}
