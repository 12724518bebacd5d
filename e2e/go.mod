module github.com/sessionkit/sessionkit/e2e

go 1.26.0

require go.uber.org/goleak v1.3.0

replace (
	github.com/sessionkit/sessionkit => ../
	github.com/sessionkit/sessionkit/devoidc => ../devoidc
)
