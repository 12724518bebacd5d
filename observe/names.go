package observe

// name returns names[i], or "unknown" past its end.
func name(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return "unknown"
}

// The names, one for each value: arrays of each enumeration's count, so
// that a name too many does not compile; TestEveryValueIsNamed finds one
// missing.
var (
	outcomeNames = [Outcomes]string{"none", "active", "expired", "invalid", "store_unavailable"}
	sourceNames  = [Sources]string{"none", "cookie", "bearer", "jwt_cookie"}
	refreshNames = [RefreshOutcomes]string{"refreshed", "shared", "failed_transient", "failed_dead"}
	eventNames   = [Events]string{"sign_in", "sign_out", "backchannel_logout", "theft_detected", "ticket_redeemed",
		"token_minted", "successor_grace", "unknown_key_refetch"}
	storeOpNames = [StoreOps]string{"load", "save", "delete", "list_by_user", "list_by_provider_session", "lock", "unlock", "consume"}
	callNames    = [Calls]string{"other", "discovery", "jwks", "token", "refresh", "userinfo", "revocation", "introspection"}
)

// String returns o's snake-case name, as metric attributes carry it.
func (o Outcome) String() string { return name(outcomeNames[:], int(o)) }

// String returns s's snake-case name.
func (s Source) String() string { return name(sourceNames[:], int(s)) }

// String returns o's snake-case name.
func (o RefreshOutcome) String() string { return name(refreshNames[:], int(o)) }

// String returns e's snake-case name.
func (e Event) String() string { return name(eventNames[:], int(e)) }

// String returns op's snake-case name.
func (op StoreOp) String() string { return name(storeOpNames[:], int(op)) }

// String returns c's snake-case name.
func (c Call) String() string { return name(callNames[:], int(c)) }

// Outcomes, Sources, RefreshOutcomes, Events, StoreOps and Calls are the
// counts of each enumeration's values, for tables indexed by them.
const (
	Outcomes        = int(OutcomeStoreUnavailable) + 1
	Sources         = int(SourceJWTCookie) + 1
	RefreshOutcomes = int(RefreshFailedDead) + 1
	Events          = int(EventUnknownKey) + 1
	StoreOps        = int(StoreConsume) + 1
	Calls           = int(CallIntrospection) + 1
)
