// Package guard runs code supplied by the library's user (callbacks, hooks)
// so that a panic in it takes down neither the request nor the server.
package guard

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Run runs f and reports whether it returned normally. A panic is
// recovered and logged to log as an error naming name, with the panic's
// type and the stack but not its value, which could hold secrets.
func Run(ctx context.Context, log *slog.Logger, name string, f func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			log.ErrorContext(ctx, "sessionkit: callback panicked",
				"callback", name, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
		}
	}()
	f()
	return true
}
