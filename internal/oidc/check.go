package oidc

import (
	"regexp"

	"github.com/sessionkit/sessionkit/internal/fielderr"
	"github.com/sessionkit/sessionkit/internal/jwtverify"
)

var providerID = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// CheckProvider checks a provider's configuration, in this order: its id
// (1 to 32 characters of a-z, 0-9, '-' and '_'), a client ID, its
// endpoints (Endpoints.Check), its userinfo mode (ValidUserInfoMode) and
// its ID token algorithms, each asymmetric. Its Field is the name of the
// Provider field at fault.
func CheckProvider(id, clientID string, e Endpoints, userInfo string, idTokenAlgs []string) *fielderr.Error {
	if !providerID.MatchString(id) {
		return fielderr.New("ID", "%q must be 1 to 32 characters of a-z, 0-9, '-' and '_'", id)
	}
	if clientID == "" {
		return fielderr.New("ClientID", "is required")
	}
	if fe := e.Check(); fe != nil {
		return fe
	}
	if !ValidUserInfoMode(userInfo) {
		return fielderr.New("UserInfo", `%q must be "", "always" or "never"`, userInfo)
	}
	for _, alg := range idTokenAlgs {
		if f := jwtverify.AlgFamily(alg); f == "" || f == jwtverify.FamilyOct {
			return fielderr.New("IDTokenAlgorithms", "%q is not an asymmetric JWS algorithm", alg)
		}
	}
	return nil
}
