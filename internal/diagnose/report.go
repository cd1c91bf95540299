// Package diagnose walks one TLS path the way the gateway serves it and says, hop by hop,
// what works and what does not, with the cause and the fix in plain words.
//
// A route is followed from the IngressRoute to the edge (the certificate served for each
// host, the TLSOption and its client authentication), to each Service (port, scheme,
// endpoints), to its ServersTransport (roots, names checked, client certificate) and to
// each endpoint, where a real handshake and request are made with exactly the
// configuration the gateway uses (upstream.Pool). Static checks come first: translate's
// conditions on the route and on every object it references, plus the checks below that
// translate cannot make alone (for instance a TLSOption that trusts a serving certificate
// as a client CA, the classic mix-up of client mTLS with upstream trust).
//
// The same static checks, without handshakes, are the lint (see Lint), and URL checks
// the path as a client of the gateway sees it (see URL).
package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Verdict is the outcome of one hop.
type Verdict string

// Verdicts, from best to worst.
const (
	OK   Verdict = "OK"
	Warn Verdict = "WARN"
	Fail Verdict = "FAIL"
)

func (v Verdict) rank() int {
	switch v {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// worst returns the worse of two verdicts.
func worst(a, b Verdict) Verdict {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Hop is one step of a path: an object or a connection, and what was found there.
type Hop struct {
	// Kind is what the hop is: IngressRoute, TLS host, TLSOption, Service,
	// ServersTransport, Endpoint, Document, Handshake, Certificate, Request, ...
	Kind string `json:"kind"`
	// Object names it: namespace/name, a host name or an address.
	Object  string  `json:"object"`
	Verdict Verdict `json:"verdict"`
	// Reason is the typed cause (a condition reason or an upstream classification).
	Reason string `json:"reason,omitempty"`
	// Message says what was found: the summary of an OK hop, the cause of a broken one.
	Message string `json:"message"`
	// Fix says what to change, naming the object and the field.
	Fix string `json:"fix,omitempty"`
	// Facts are what the hop saw (certificate subject, SANs, roots, names checked...).
	Facts []string `json:"facts,omitempty"`
}

// Section is the walk of one target (a route, the manifests, a URL).
type Section struct {
	// Title names the target: "IngressRoute web/app".
	Title string `json:"target"`
	// Origin is where the object was read from, in standalone mode: "app.yaml#2".
	Origin  string  `json:"origin,omitempty"`
	Verdict Verdict `json:"verdict"`
	Hops    []Hop   `json:"hops"`
}

func (s *Section) add(h Hop) {
	if h.Verdict == "" {
		h.Verdict = OK
	}
	s.Hops = append(s.Hops, h)
	s.Verdict = worst(s.Verdict, h.Verdict)
}

// Report is the outcome of one diagnose run.
type Report struct {
	Verdict  Verdict   `json:"verdict"`
	Sections []Section `json:"sections"`
}

func (r *Report) addSection(s Section) {
	if s.Verdict == "" {
		s.Verdict = OK
	}
	if r.Verdict == "" {
		r.Verdict = OK
	}
	r.Sections = append(r.Sections, s)
	r.Verdict = worst(r.Verdict, s.Verdict)
}

// Broken reports whether some hop failed.
func (r *Report) Broken() bool { return r.Verdict == Fail }

// Counts returns the number of failed and warning hops.
func (r *Report) Counts() (failed, warnings int) {
	for _, s := range r.Sections {
		for _, h := range s.Hops {
			switch h.Verdict {
			case Fail:
				failed++
			case Warn:
				warnings++
			}
		}
	}
	return failed, warnings
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal: one verdict line per hop, then what it
// saw, the cause and the fix, indented under it.
func (r *Report) WriteText(w io.Writer) {
	for i, s := range r.Sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := s.Title
		if s.Origin != "" {
			title += " (" + s.Origin + ")"
		}
		fmt.Fprintln(w, title)
		for _, h := range s.Hops {
			writeHop(w, h)
		}
	}
	failed, warnings := r.Counts()
	fmt.Fprintf(w, "\nResult: %s (%s, %s)\n", r.Verdict, plural(failed, "broken hop", "broken hops"), plural(warnings, "warning", "warnings"))
}

const indent = "        "

func writeHop(w io.Writer, h Hop) {
	head := fmt.Sprintf("  %-4s  %s %s", h.Verdict, h.Kind, h.Object)
	if h.Reason != "" && h.Verdict != OK {
		head += ": " + h.Reason
	}
	fmt.Fprintln(w, strings.TrimRight(head, " "))
	for _, f := range h.Facts {
		fmt.Fprintln(w, indent+f)
	}
	if h.Message != "" {
		if h.Verdict == OK {
			fmt.Fprintln(w, indent+h.Message)
		} else {
			fmt.Fprintln(w, indent+"cause: "+h.Message)
		}
	}
	if h.Fix != "" {
		fmt.Fprintln(w, indent+"fix:   "+h.Fix)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
