// Package fielderr is the error a configuration check returns: the field
// at fault, by its path relative to what was checked, and why, so that the
// caller can report it under the field's full path.
package fielderr

import "fmt"

// Error reports a field that a check refuses.
type Error struct {
	// Field is the field's path, such as "Algorithms[1]" or "Keys[0].ID".
	Field string
	// Reason says what is wrong, for a person.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// New returns an Error for field with a formatted reason.
func New(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error for field with a reason and its cause.
func Wrap(field, reason string, err error) *Error {
	return &Error{Field: field, Reason: reason, Err: err}
}

// Error names the field and the reason.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return e.Field + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
