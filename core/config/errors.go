package config

import (
	"fmt"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/core/suggest"
)

// Pos is a place in a config file.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is one problem in a config file: where, what, and how to fix it.
type Error struct {
	Pos Pos
	Msg string
	// Fix tells the user what to write instead; may be empty.
	Fix string
	// Detail is shown below the message, indented (e.g. a caret diagram).
	Detail string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Detail != "" {
		for _, line := range strings.Split(strings.TrimRight(e.Detail, "\n"), "\n") {
			b.WriteString("\n    ")
			b.WriteString(line)
		}
	}
	if e.Fix != "" {
		b.WriteString("\n  fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Errors is every problem found in one config file.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// maxErrors bounds the report on a badly broken file.
const maxErrors = 20

type errorList struct {
	errs Errors
}

func (l *errorList) add(pos Pos, fix, format string, args ...any) {
	if len(l.errs) >= maxErrors {
		return
	}
	l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func (l *errorList) addErr(e *Error) {
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, e)
	}
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs
}

// closestName returns the candidate closest to word, or "" when none is close.
func closestName(word string, candidates []string) string {
	best, bestDist := "", len(word)/2+2
	for _, c := range candidates {
		if d := suggest.Distance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
