package refresh

import "time"

// Due reports whether an access token expiring at expiry, issued at issued
// (zero when unknown), is due for a refresh at now: within leeway of its
// expiry, the leeway being at most half the token's lifetime so that a
// short-lived token is not refreshed on every request. A negative leeway
// never refreshes.
func Due(expiry, issued time.Time, leeway time.Duration, now time.Time) bool {
	at, ok := DueAt(expiry, issued, leeway)
	return ok && !now.Before(at)
}

// DueAt returns when Due becomes true for the token, and false when it
// never does.
func DueAt(expiry, issued time.Time, leeway time.Duration) (time.Time, bool) {
	if leeway < 0 || expiry.IsZero() {
		return time.Time{}, false
	}
	if !issued.IsZero() {
		leeway = min(leeway, max(expiry.Sub(issued)/2, 0))
	}
	return expiry.Add(-leeway), true
}
