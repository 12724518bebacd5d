package guard

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ran := false
	if !Run(context.Background(), log, "OnFine", func() { ran = true }) || !ran {
		t.Fatal("a function that returns: got not ok, want ok")
	}
	if buf.Len() != 0 {
		t.Fatalf("logged %q for a function that returned", buf.String())
	}
	if Run(context.Background(), log, "OnPanic", func() { panic("secret-token") }) {
		t.Fatal("a function that panics: got ok, want not ok")
	}
	out := buf.String()
	if !strings.Contains(out, "callback=OnPanic") || !strings.Contains(out, "panic_type=string") || strings.Contains(out, "secret-token") {
		t.Fatalf("log: got %q, want the callback's name and the panic's type, not its value", out)
	}
}
