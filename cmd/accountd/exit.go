package main

import (
	"errors"
	"fmt"
)

// Exit codes of the operator commands, as scripts expect them.
const (
	exitFailure  = 1 // failed, or what was named does not exist
	exitUsage    = 2 // the command line is wrong
	exitNotFound = exitFailure
)

// exitError is an error that asks main for a particular exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a wrong command line: exit 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode is the exit code main uses for err.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitFailure
}
