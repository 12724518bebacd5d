package claimbox

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
)

func verified() map[string]any {
	return map[string]any{
		"sub": "u", "n": 1.0, "ok": true, "num": json.Number("7"), "none": nil,
		"obj":  map[string]any{"a": []any{"x", map[string]any{"b": 1.0}}},
		"list": []any{1.0, []any{"y"}},
		"strs": []string{"s1", "s2"},
	}
}

func TestCloneIsDeep(t *testing.T) {
	orig := verified()
	c := Clone(orig)
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("Clone changed the claims: %v", c)
	}
	c["sub"] = "changed"
	c["obj"].(map[string]any)["a"].([]any)[1].(map[string]any)["b"] = 2.0
	c["list"].([]any)[1].([]any)[0] = "z"
	c["strs"].([]string)[0] = "t"
	if !reflect.DeepEqual(orig, verified()) {
		t.Fatalf("changing the clone changed the original: %v", orig)
	}
	if Clone(nil) != nil {
		t.Fatal("Clone(nil) is not nil")
	}
}

func TestBox(t *testing.T) {
	tests := []struct {
		name string
		box  func() *Box
		// shares: Peek returns the verified map itself until Get.
		shares bool
	}{
		{"shared", func() *Box { b := &Box{}; b.Share(verified()); return b }, true},
		{"owned", func() *Box { return Owned(verified()) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.box()
			peek := b.Peek()
			var clone Box
			b.CloneInto(&clone)
			got := b.Get()
			if !reflect.DeepEqual(got, verified()) {
				t.Fatalf("Get: %v", got)
			}
			if sameMap(got, peek) == tt.shares {
				t.Fatalf("Get and the earlier Peek are the same map: %v, want %v", !tt.shares, tt.shares)
			}
			if !sameMap(b.Get(), got) || !sameMap(b.Peek(), got) {
				t.Fatal("a second Get or Peek made another copy")
			}
			got["sub"] = "changed"
			if c := clone.Get(); c["sub"] != "u" {
				t.Fatalf("the clone sees the original's change: %v", c["sub"])
			}
		})
	}
}

func TestBoxNil(t *testing.T) {
	if Owned(nil) != nil {
		t.Fatal("Owned(nil) is not nil")
	}
	var b *Box
	if b.Peek() != nil {
		t.Fatal("Peek on a nil box is not nil")
	}
}

func TestBoxGetConcurrent(t *testing.T) {
	b := &Box{}
	b.Share(verified())
	var wg sync.WaitGroup
	got := make([]map[string]any, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = b.Get()
		}()
	}
	wg.Wait()
	for _, m := range got[1:] {
		if !sameMap(m, got[0]) {
			t.Fatal("concurrent Gets made more than one copy")
		}
	}
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
