module github.com/sessionkit/sessionkit/bench

go 1.26.0

require (
	github.com/MicahParks/keyfunc/v3 v3.9.2
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/auth0/go-jwt-middleware/v2 v2.3.1
	github.com/clerk/clerk-sdk-go/v2 v2.4.2
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/sessionkit/sessionkit v0.0.0-00010101000000-000000000000
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/redis/rueidis v1.0.79 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

require (
	github.com/MicahParks/jwkset v0.11.5 // indirect
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	github.com/sessionkit/sessionkit/redisstore v0.0.0-00010101000000-000000000000
	golang.org/x/crypto v0.45.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	gopkg.in/go-jose/go-jose.v2 v2.6.3 // indirect
)

replace github.com/sessionkit/sessionkit => ../

replace github.com/sessionkit/sessionkit/redisstore => ../redisstore
