package sdk

import (
	"errors"
	"fmt"
)

// Kind classifies a delivery error so the core knows whether to retry.
type Kind int

// Error kinds. The zero value is Temporary: unknown errors are retried.
const (
	// KindTemporary: network errors, timeouts, 5xx. Retried.
	KindTemporary Kind = iota
	// KindPermanent: bad settings or a request the tool rejects. Not retried.
	KindPermanent
	// KindNotFound: the monitoring tool does not know this check. Not retried.
	KindNotFound
	// KindRateLimited: the tool asks to slow down. Not retried before the next beat.
	KindRateLimited
	// KindNotConfigured: the plugin has no such instance (it restarted). The
	// core configures it again and retries.
	KindNotConfigured
)

func (k Kind) String() string {
	switch k {
	case KindPermanent:
		return "permanent"
	case KindNotFound:
		return "not_found"
	case KindRateLimited:
		return "rate_limited"
	case KindNotConfigured:
		return "not_configured"
	}
	return "temporary"
}

// Retryable reports whether retrying the same beat may succeed.
func (k Kind) Retryable() bool {
	return k == KindTemporary || k == KindNotConfigured
}

// kindError attaches a Kind to an error.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func withKind(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: k, err: err}
}

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return withKind(KindPermanent, err) }

// NotFound marks err as "the monitoring tool does not know this check".
func NotFound(err error) error { return withKind(KindNotFound, err) }

// RateLimited marks err as "the monitoring tool asks to slow down".
func RateLimited(err error) error { return withKind(KindRateLimited, err) }

// Temporary marks err as retryable (the default for unmarked errors).
func Temporary(err error) error { return withKind(KindTemporary, err) }

// KindOf returns the kind attached to err, KindTemporary when none.
func KindOf(err error) Kind {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	return KindTemporary
}

// Errorf formats an error of kind k.
func Errorf(k Kind, format string, args ...any) error {
	return withKind(k, fmt.Errorf(format, args...))
}
