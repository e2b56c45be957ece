package trigger

import "time"

// AccessTTL is how long an access review that allowed a Workflow's
// ServiceAccount to list or watch a trigger's objects is reused. Ready
// Workflows are reconciled at least this often, so a revoked permission stops
// the watch within about twice this time.
const AccessTTL = 5 * time.Minute

// ForbiddenRetry is how long a denial is reused, and how often a Forbidden
// Workflow looks again: a user who grants the missing permission sees the
// Workflow start watching within about this time.
const ForbiddenRetry = 15 * time.Second

// AccessFresh reports whether an access review answered at `at` (allowed or
// not) may still be reused at now, rather than asked again.
func AccessFresh(allowed bool, at, now time.Time) bool {
	age := now.Sub(at)
	if allowed {
		return age < AccessTTL
	}
	return age < ForbiddenRetry
}
