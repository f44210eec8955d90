//go:build unix

package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A small PromQL evaluator, enough for the alerting rules of
// docs/targets/pushgateway.md: instant vector selectors with = and !=
// matchers, number literals, time(), parentheses, + - * /, the comparison
// operators without bool (filters), and, or, unless; one-to-one matching
// on all labels but the metric name, as Prometheus does without on() or
// ignoring(). Precedence and associativity are PromQL's. Anything else is
// an error, so the docs cannot drift into syntax this test does not check.
// It evaluates at one instant over one scrape, which is what an alerting
// rule without a `for:` does.

// pqSample is one series of an instant vector; labels include __name__.
type pqSample struct {
	labels map[string]string
	value  float64
}

// pqValue is a scalar or an instant vector.
type pqValue struct {
	isScalar bool
	scalar   float64
	vector   []pqSample
}

// pqExpr evaluates at the instant now (Unix seconds) over a scrape.
type pqExpr func(scrape []pqSample, now float64) (pqValue, error)

// pqEval parses and evaluates expr.
func pqEval(expr string, scrape []pqSample, now float64) ([]pqSample, error) {
	p := &pqParser{toks: pqTokenize(expr)}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	v, err := e(scrape, now)
	if err != nil {
		return nil, err
	}
	if v.isScalar {
		return nil, fmt.Errorf("expression is a scalar, not a vector")
	}
	return v.vector, nil
}

func pqTokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			toks = append(toks, s[i:min(j+1, len(s))])
			i = j + 1
		case pqIsIdentStart(c):
			j := i
			for j < len(s) && (pqIsIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || (s[j] == '+' || s[j] == '-') && j > i && s[j-1] == 'e') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case i+1 < len(s) && slices.Contains([]string{">=", "<=", "==", "!="}, s[i:i+2]):
			toks = append(toks, s[i:i+2])
			i += 2
		default:
			toks = append(toks, string(c))
			i++
		}
	}
	return toks
}

func pqIsIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type pqParser struct {
	toks []string
	pos  int
}

func (p *pqParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *pqParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *pqParser) expect(tok string) error {
	if got := p.next(); got != tok {
		return fmt.Errorf("expected %q, got %q", tok, got)
	}
	return nil
}

// binaryLevel parses operands joined by the operators of one precedence
// level, left-associative.
func (p *pqParser) binaryLevel(ops []string, operand func() (pqExpr, error)) (pqExpr, error) {
	lhs, err := operand()
	if err != nil {
		return nil, err
	}
	for slices.Contains(ops, p.peek()) {
		op := p.next()
		if p.peek() == "bool" || p.peek() == "on" || p.peek() == "ignoring" || p.peek() == "group_left" || p.peek() == "group_right" {
			return nil, fmt.Errorf("%s modifiers are not supported by this evaluator", p.peek())
		}
		rhs, err := operand()
		if err != nil {
			return nil, err
		}
		lhs = pqBinary(op, lhs, rhs)
	}
	return lhs, nil
}

func (p *pqParser) parseOr() (pqExpr, error) {
	return p.binaryLevel([]string{"or"}, p.parseAnd)
}

func (p *pqParser) parseAnd() (pqExpr, error) {
	return p.binaryLevel([]string{"and", "unless"}, p.parseCmp)
}

func (p *pqParser) parseCmp() (pqExpr, error) {
	return p.binaryLevel([]string{"==", "!=", ">", "<", ">=", "<="}, p.parseAdd)
}

func (p *pqParser) parseAdd() (pqExpr, error) {
	return p.binaryLevel([]string{"+", "-"}, p.parseMul)
}

func (p *pqParser) parseMul() (pqExpr, error) {
	return p.binaryLevel([]string{"*", "/"}, p.parsePrimary)
}

func (p *pqParser) parsePrimary() (pqExpr, error) {
	tok := p.next()
	switch {
	case tok == "(":
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	case tok == "time":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return func(_ []pqSample, now float64) (pqValue, error) { return pqValue{isScalar: true, scalar: now}, nil }, nil
	case tok != "" && (tok[0] >= '0' && tok[0] <= '9' || tok[0] == '.'):
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", tok)
		}
		return func([]pqSample, float64) (pqValue, error) { return pqValue{isScalar: true, scalar: f}, nil }, nil
	case tok != "" && pqIsIdentStart(tok[0]):
		if p.peek() == "(" {
			return nil, fmt.Errorf("function %s() is not supported by this evaluator", tok)
		}
		return p.selector(tok)
	}
	return nil, fmt.Errorf("unexpected %q", tok)
}

// selector parses name{label="v",label!="v"} (the name already read).
func (p *pqParser) selector(name string) (pqExpr, error) {
	type matcher struct {
		name, op, value string
	}
	matchers := []matcher{{"__name__", "=", name}}
	if p.peek() == "{" {
		p.next()
		for p.peek() != "}" {
			ln := p.next()
			op := p.next()
			if op != "=" && op != "!=" {
				return nil, fmt.Errorf("matcher %q not supported", op)
			}
			v, err := strconv.Unquote(p.next())
			if err != nil {
				return nil, fmt.Errorf("bad label value in selector of %s", name)
			}
			matchers = append(matchers, matcher{ln, op, v})
			if p.peek() == "," {
				p.next()
			}
			if p.peek() == "" {
				return nil, fmt.Errorf("unterminated selector of %s", name)
			}
		}
		p.next()
	}
	if p.peek() == "[" {
		return nil, fmt.Errorf("range vectors are not supported by this evaluator")
	}
	return func(scrape []pqSample, _ float64) (pqValue, error) {
		var out []pqSample
	series:
		for _, s := range scrape {
			for _, m := range matchers {
				if (s.labels[m.name] == m.value) != (m.op == "=") {
					continue series
				}
			}
			out = append(out, s)
		}
		return pqValue{vector: out}, nil
	}, nil
}

func pqArith(op string, a, b float64) (float64, bool) {
	switch op {
	case "+":
		return a + b, true
	case "-":
		return a - b, true
	case "*":
		return a * b, true
	case "/":
		return a / b, true
	}
	return 0, false
}

func pqCompare(op string, a, b float64) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case ">":
		return a > b
	case "<":
		return a < b
	case ">=":
		return a >= b
	}
	return a <= b
}

// pqSignature is a series' labels without its name: what one-to-one
// matching compares.
func pqSignature(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if k != "__name__" {
			fmt.Fprintf(&b, "%s=%q,", k, labels[k])
		}
	}
	return b.String()
}

func pqWithoutName(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	delete(out, "__name__")
	return out
}

func pqBinary(op string, lhsE, rhsE pqExpr) pqExpr {
	return func(scrape []pqSample, now float64) (pqValue, error) {
		lhs, err := lhsE(scrape, now)
		if err != nil {
			return pqValue{}, err
		}
		rhs, err := rhsE(scrape, now)
		if err != nil {
			return pqValue{}, err
		}
		setOp := op == "and" || op == "or" || op == "unless"
		_, arith := pqArith(op, 0, 0)
		switch {
		case setOp && (lhs.isScalar || rhs.isScalar):
			return pqValue{}, fmt.Errorf("set operator %s needs two vectors", op)
		case lhs.isScalar && rhs.isScalar:
			if !arith {
				return pqValue{}, fmt.Errorf("comparisons between scalars must use bool")
			}
			v, _ := pqArith(op, lhs.scalar, rhs.scalar)
			return pqValue{isScalar: true, scalar: v}, nil
		case lhs.isScalar || rhs.isScalar:
			var out []pqSample
			vec, sc := lhs.vector, rhs.scalar
			if lhs.isScalar {
				vec, sc = rhs.vector, lhs.scalar
			}
			for _, s := range vec {
				a, b := s.value, sc
				if lhs.isScalar {
					a, b = sc, s.value
				}
				if arith {
					v, _ := pqArith(op, a, b)
					out = append(out, pqSample{pqWithoutName(s.labels), v})
				} else if pqCompare(op, a, b) {
					out = append(out, s)
				}
			}
			return pqValue{vector: out}, nil
		}
		rhsBySig := map[string]pqSample{}
		for _, s := range rhs.vector {
			sig := pqSignature(s.labels)
			if _, dup := rhsBySig[sig]; dup && !setOp {
				return pqValue{}, fmt.Errorf("many-to-many matching not allowed: duplicate series %s on the right of %s", sig, op)
			}
			rhsBySig[sig] = s
		}
		var out []pqSample
		lhsSigs := map[string]bool{}
		for _, s := range lhs.vector {
			sig := pqSignature(s.labels)
			if lhsSigs[sig] && !setOp {
				return pqValue{}, fmt.Errorf("many-to-many matching not allowed: duplicate series %s on the left of %s", sig, op)
			}
			lhsSigs[sig] = true
			r, matched := rhsBySig[sig]
			switch {
			case op == "and":
				if matched {
					out = append(out, s)
				}
			case op == "unless":
				if !matched {
					out = append(out, s)
				}
			case op == "or":
				out = append(out, s)
			case !matched:
			case arith:
				v, _ := pqArith(op, s.value, r.value)
				out = append(out, pqSample{pqWithoutName(s.labels), v})
			case pqCompare(op, s.value, r.value):
				out = append(out, s)
			}
		}
		if op == "or" {
			for _, s := range rhs.vector {
				if !lhsSigs[pqSignature(s.labels)] {
					out = append(out, s)
				}
			}
		}
		return pqValue{vector: out}, nil
	}
}

// The evaluator itself, on series whose answers are known.
func TestPromQLSubset(t *testing.T) {
	series := func(name string, v float64, kv ...string) pqSample {
		l := map[string]string{"__name__": name}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return pqSample{l, v}
	}
	scrape := []pqSample{
		series("ok", 100, "hb", "a"), series("done", 100, "hb", "a"),
		series("ok", 100, "hb", "b"), series("done", 200, "hb", "b"),
		series("done", 300, "hb", "c"),
	}
	tests := []struct {
		expr string
		want []string // the hb labels of the result, in order
	}{
		{`ok`, []string{"a", "b"}},
		{`ok{hb="b"}`, []string{"b"}},
		{`ok{hb!="b"}`, []string{"a"}},
		{`done > ok`, []string{"b"}},
		{`done > ok or (done unless ok)`, []string{"b", "c"}},
		{`time() - ok > 3600 + 300`, nil},
		{`done > 150 and done < 250`, []string{"b"}},
		{`done - ok == 100`, []string{"b"}},
		{`2 * done / 2 >= 200`, []string{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := pqEval(tt.expr, scrape, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var hbs []string
			for _, s := range got {
				hbs = append(hbs, s.labels["hb"])
			}
			if !slices.Equal(hbs, tt.want) {
				t.Errorf("got %v, want %v", hbs, tt.want)
			}
		})
	}
	if got, _ := pqEval(`time() - ok > 800`, scrape, 1000); len(got) != 2 {
		t.Errorf("time() - ok > 800 at 1000: %v", got)
	}
	for _, bad := range []string{`rate(ok[5m])`, `ok > bool 1`, `1 > 2`, `ok and 1`, `ok{hb=~"a"}`, `ok +`, `(ok`} {
		if _, err := pqEval(bad, scrape, 1000); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
