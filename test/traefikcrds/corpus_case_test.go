package traefikcrds

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// A corpus case is one file under cases/<topic>/: the Traefik manifests a user writes, then
// one last document of kind Case saying what must happen (the format is in
// /work/briefs/i18-corpus-format.md and in cases/README.md). The runner reads every case,
// strictly: a misspelt field of a Case fails that case rather than checking nothing.

// corpusCase is one case file.
type corpusCase struct {
	// path is "topic/NN-name", the subtest name.
	path string
	// docs are the manifests, in file order, as a user wrote them (apiVersion traefik.io).
	docs []map[string]any
	spec caseSpec
	// err is why the file could not be read: the case fails with it.
	err error
}

// caseSpec is the last document, kind Case.
type caseSpec struct {
	Kind        string        `json:"kind"`
	Description string        `json:"description"`
	Objects     []objectState `json:"objects,omitempty"`
	Requests    []caseRequest `json:"requests,omitempty"`
}

// objectState is the state one named object must reach.
type objectState struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Ready *bool  `json:"ready"`
	// Reason, when set, is the Ready condition's reason.
	Reason string `json:"reason,omitempty"`
	// MessageContains, when set, is a part of the Ready condition's message.
	MessageContains string `json:"messageContains,omitempty"`
}

func (o objectState) String() string {
	s := fmt.Sprintf("%s %s ready=%t", o.Kind, o.Name, *o.Ready)
	if o.Reason != "" {
		s += " reason=" + o.Reason
	}
	if o.MessageContains != "" {
		s += fmt.Sprintf(" message containing %q", o.MessageContains)
	}
	return s
}

// caseRequest is one HTTP request (URL set), TCP exchange or UDP exchange.
type caseRequest struct {
	URL        string            `json:"url,omitempty"`
	Method     string            `json:"method,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
	ClientCert string            `json:"clientCert,omitempty"`
	Repeat     int               `json:"repeat,omitempty"`
	Expect     *httpExpect       `json:"expect,omitempty"`
	TCP        *streamExchange   `json:"tcp,omitempty"`
	UDP        *streamExchange   `json:"udp,omitempty"`
}

// httpExpect is what every answer to an HTTP request must satisfy. Unset fields are not
// checked; Status 0 means the TLS handshake or the connection must fail.
type httpExpect struct {
	Status         *int              `json:"status"`
	Backend        *string           `json:"backend,omitempty"`
	BackendPath    *string           `json:"backendPath,omitempty"`
	BackendHeaders map[string]string `json:"backendHeaders,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	BodyContains   string            `json:"bodyContains,omitempty"`
}

// streamExchange is a TCP or UDP exchange: send, then read until what was read contains
// expect. An empty expect means nothing may come back: the connection is refused, closed
// or (UDP) the datagram gets no answer.
type streamExchange struct {
	EntryPoint string `json:"entryPoint"`
	SNI        string `json:"sni,omitempty"`
	TLS        bool   `json:"tls,omitempty"`
	Send       string `json:"send"`
	Expect     string `json:"expect"`
}

// maxRepeat bounds a request's repeat count (the format's promise, and the load's bound).
const maxRepeat = 200

// loadCases reads every case under root, sorted by path.
func loadCases(root string) ([]*corpusCase, error) {
	var out []*corpusCase
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(strings.TrimSuffix(strings.TrimSuffix(rel, ".yaml"), ".yml"))
		c, err := parseCase(name, data)
		if err != nil {
			// A broken case is a case that fails, not one that vanishes.
			c = &corpusCase{path: name, err: err}
		}
		out = append(out, c)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, err
}

func parseCase(path string, data []byte) (*corpusCase, error) {
	var raw [][]byte
	for _, part := range splitYAML(data) {
		if len(bytes.TrimSpace(stripComments(part))) > 0 {
			raw = append(raw, part)
		}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no documents", path)
	}
	c := &corpusCase{path: path}
	last := raw[len(raw)-1]
	if err := yaml.UnmarshalStrict(last, &c.spec); err != nil {
		hint := ""
		if strings.Contains(err.Error(), "did not find expected ',' or '}'") {
			hint = " (in a flow mapping {...}, quote a value that holds ?, :, # or a comma: backendPath: '/api?x=1')"
		}
		return nil, fmt.Errorf("%s: the last document (kind: Case): %w%s", path, err, hint)
	}
	if c.spec.Kind != "Case" {
		return nil, fmt.Errorf("%s: the last document must be kind: Case, is %q", path, c.spec.Kind)
	}
	for i, part := range raw[:len(raw)-1] {
		doc := map[string]any{}
		if err := yaml.Unmarshal(part, &doc); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		if doc["kind"] == "Case" {
			return nil, fmt.Errorf("%s: document %d: only the last document may be kind: Case", path, i+1)
		}
		c.docs = append(c.docs, doc)
	}
	return c, c.spec.check()
}

func (s *caseSpec) check() error {
	if s.Description == "" {
		return fmt.Errorf("the Case has no description")
	}
	for i, o := range s.Objects {
		if o.Kind == "" || o.Name == "" || o.Ready == nil {
			return fmt.Errorf("objects[%d]: kind, name and ready are required", i)
		}
	}
	for i, r := range s.Requests {
		set := 0
		for _, b := range []bool{r.URL != "", r.TCP != nil, r.UDP != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			return fmt.Errorf("requests[%d]: set exactly one of url, tcp and udp", i)
		}
		if r.Repeat < 0 || r.Repeat > maxRepeat {
			return fmt.Errorf("requests[%d]: repeat %d is outside 0..%d", i, r.Repeat, maxRepeat)
		}
		switch r.ClientCert {
		case "", "none", "good", "bad":
		default:
			return fmt.Errorf("requests[%d]: clientCert %q is none of none, good and bad", i, r.ClientCert)
		}
		if r.URL != "" && (r.Expect == nil || r.Expect.Status == nil) {
			return fmt.Errorf("requests[%d]: expect.status is required (0: the handshake or connection must fail)", i)
		}
		if r.TCP != nil && r.TCP.EntryPoint == "" || r.UDP != nil && r.UDP.EntryPoint == "" {
			return fmt.Errorf("requests[%d]: entryPoint is required", i)
		}
	}
	return nil
}

// splitYAML splits a stream at its --- lines.
func splitYAML(data []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			out = append(out, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(out, cur.Bytes())
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// The API groups every case runs in: as written, and rewritten to Traefik's older group.
const (
	groupTraefik       = "traefik.io"
	groupTraefikLegacy = "traefik.containo.us"
)

var corpusGroups = []string{groupTraefik, groupTraefikLegacy}

// manifests returns the case's documents in group: apiVersion traefik.io/... rewritten to
// group/..., everything else (core kinds, other groups) as written.
func (c *corpusCase) manifests(group string) []map[string]any {
	var out []map[string]any
	for _, d := range c.docs {
		cp := deepCopyMap(d)
		if v, _ := cp["apiVersion"].(string); strings.HasPrefix(v, groupTraefik+"/") {
			cp["apiVersion"] = group + strings.TrimPrefix(v, groupTraefik)
		}
		out = append(out, cp)
	}
	return out
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	default:
		return v
	}
}

// streamYAML renders documents as one YAML stream.
func streamYAML(docs []map[string]any) ([]byte, error) {
	var b bytes.Buffer
	for _, d := range docs {
		out, err := yaml.Marshal(d)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(out)
	}
	return b.Bytes(), nil
}
