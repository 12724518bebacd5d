package refresh

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFlights(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	errTransient := errors.New("transient")
	f := NewFlights[string](time.Second, nil, clock, func(err error) bool { return errors.Is(err, errRefused) })
	defer f.Close()
	calls := 0
	exchange := func(v string, next Key, err error) Exchange[string] {
		return func() (string, Key, time.Time, error) {
			calls++
			return v, next, now.Add(time.Hour), err
		}
	}
	a, b, c := KeyOf("p", "rt-a"), KeyOf("p", "rt-b"), KeyOf("p", "rt-c")
	steps := []struct {
		name      string
		key       Key
		exchange  Exchange[string]
		advance   time.Duration
		wantV     string
		wantFresh bool
		wantErr   error
		wantCalls int
	}{
		{"first exchange", a, exchange("tokens-b", b, nil), 0, "tokens-b", true, nil, 1},
		{"the rotated-out token gets the new tokens", a, exchange("unused", c, nil), time.Minute, "tokens-b", false, nil, 1},
		{"a transient failure", b, exchange("", Key{}, errTransient), 0, "", true, errTransient, 2},
		{"not tried again during the backoff", b, exchange("tokens-c", c, nil), time.Second, "", false, errTransient, 2},
		{"tried again after the backoff", b, exchange("tokens-c", c, nil), BackoffMin, "tokens-c", true, nil, 3},
		{"a refused token", c, exchange("", Key{}, errRefused), 0, "", true, errRefused, 4},
		{"not tried again", c, exchange("tokens-d", Key{}, nil), Grace - time.Second, "", false, errRefused, 4},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		v, fresh, err := f.Do(context.Background(), st.key, st.exchange)
		if v != st.wantV || fresh != st.wantFresh || !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) || calls != st.wantCalls {
			t.Fatalf("%s: got %q fresh %v err %v after %d exchanges, want %q fresh %v err %v after %d",
				st.name, v, fresh, err, calls, st.wantV, st.wantFresh, st.wantErr, st.wantCalls)
		}
	}
	f.Wait()
}
