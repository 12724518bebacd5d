//go:build precache

package nonrefresh

import "github.com/sessionkit/sessionkit"

// configure leaves the configuration as it is: the core this file is
// built against (8b1f217) has neither a cache nor providers.
func configure(*sessionkit.Config) {}
