// Package route finds which endpoint of the session endpoints a request
// names: an action under the base path, with at most one argument
// ("signin/{id}"), and the handler of its method.
package route

import (
	"net/http"
	"strings"
)

// Endpoint serves one method of a route; arg is the path segment after the
// action ("/signin/{arg}"), empty for routes without one.
type Endpoint func(w http.ResponseWriter, r *http.Request, arg string)

// Route is what an action answers to.
type Route struct {
	Get, Post Endpoint
	Cookies   bool // needs cookie keys
}

// Outcome is how Match went.
type Outcome int

// Match's outcomes.
const (
	Found   Outcome = iota
	Outside         // the path is not under the base path
	Unknown         // no route has this action, or too many segments
)

// Match finds the route of path under base in routes, which maps each
// action, with "/*" appended for the actions that take an argument, to its
// route.
func Match(routes map[string]Route, base, path string) (rt Route, arg string, o Outcome) {
	rest, ok := strings.CutPrefix(path, base)
	if !ok || !strings.HasPrefix(rest, "/") {
		return Route{}, "", Outside
	}
	action, arg, _ := strings.Cut(rest[1:], "/")
	key := action
	if arg != "" {
		key += "/*"
	}
	rt, ok = routes[key]
	if !ok || strings.Contains(arg, "/") {
		return Route{}, "", Unknown
	}
	return rt, arg, Found
}

// For returns rt's endpoint for method (HEAD is served as GET), or nil and
// the value of the Allow header to answer 405 with.
func (rt Route) For(method string) (f Endpoint, allow string) {
	switch method {
	case http.MethodGet, http.MethodHead:
		f = rt.Get
	case http.MethodPost:
		f = rt.Post
	}
	if f != nil {
		return f, ""
	}
	methods := []string{}
	if rt.Get != nil {
		methods = append(methods, "GET", "HEAD")
	}
	if rt.Post != nil {
		methods = append(methods, "POST")
	}
	return nil, strings.Join(methods, ", ")
}
