package sessionkit

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzTicket: openTicket never panics, and only the genuine ticket opens.
func FuzzTicket(f *testing.F) {
	clk := newClock()
	m := mustNew(f, testConfig(clk, ""))
	raw, _ := json.Marshal(ticketPayload{V: 1, JTI: "j", User: User{ID: "u"}, IAT: clk.Now().Unix(), EXP: clk.Now().Unix() + 60})
	genuine := m.cookies.tickets.SealString(raw)
	f.Add(genuine)
	f.Add("")
	f.Add(genuine[:len(genuine)/2])
	f.Add(genuine + "=")
	f.Fuzz(func(t *testing.T, ticket string) {
		pl, err := openTicket(m.cookies, ticket, clk.Now())
		switch {
		case err == nil && ticket != genuine:
			t.Fatalf("a ticket other than the genuine one opened: %q -> %+v", ticket, pl)
		case err != nil && !errors.Is(err, ErrInvalidTicket) && !errors.Is(err, errTicketExpired):
			t.Fatalf("unexpected error %v", err)
		}
	})
}
