package migrate

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/bridgehead/bridgehead/internal/ingressannotations"
)

// label is how a disposition reads in the report.
var label = map[ingressannotations.Disposition]string{
	ingressannotations.Served:            "served",
	ingressannotations.ServedInsecure:    "served, unverified",
	ingressannotations.ServedDifferently: "served differently",
	ingressannotations.Overridden:        "overridden",
	ingressannotations.Refused:           "refused",
	ingressannotations.Malformed:         "malformed",
	ingressannotations.Unsupported:       "not read",
}

// controllerName names the controller whose defaults applied, for the report.
func controllerName(c ingressannotations.Controller) string {
	switch c {
	case ingressannotations.ControllerNginx:
		return "ingress-nginx defaults"
	case ingressannotations.ControllerHAProxy:
		return "HAProxy defaults"
	}
	return "Bridgehead defaults"
}

// WriteReport prints, per Ingress, what Bridgehead does with each annotation and what it
// builds, then a summary line.
func WriteReport(w io.Writer, ms []*Ingress) error {
	var b bytes.Buffer
	same, differ, refused := 0, 0, 0
	for _, m := range ms {
		class := m.Class
		if class == "" {
			class = "(none)"
		}
		fmt.Fprintf(&b, "Ingress %s/%s (class %s, %s)\n", m.Namespace, m.Name, class, controllerName(m.Controller))
		for _, f := range m.Findings {
			fmt.Fprintf(&b, "  %-19s %s: %q\n  %-19s   %s\n", label[f.Disposition], f.Annotation, f.Value, "", f.Message)
		}
		for _, n := range m.Notes {
			fmt.Fprintf(&b, "  %-19s %s\n", label[n.Disposition], n.Message)
		}
		switch {
		case !m.Converted():
			refused++
			fmt.Fprintf(&b, "  => not converted\n\n")
		case m.ChangesBehaviour():
			differ++
			fmt.Fprintf(&b, "  => converted to %s; behaviour changes as listed above\n\n", kinds(m))
		default:
			same++
			fmt.Fprintf(&b, "  => converted to %s; served as written\n\n", kinds(m))
		}
	}
	noun := "Ingresses"
	if len(ms) == 1 {
		noun = "Ingress"
	}
	fmt.Fprintf(&b, "%d %s: %d served as written, %d served with differences, %d not converted\n", len(ms), noun, same, differ, refused)
	_, err := w.Write(b.Bytes())
	return err
}

// kinds summarizes the objects built: "2 IngressRoutes, 1 ServersTransport".
func kinds(m *Ingress) string {
	count := map[string]int{}
	var order []string
	for _, o := range m.Objects {
		k := o.GetObjectKind().GroupVersionKind().Kind
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		s := ""
		if count[k] > 1 {
			s = "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s%s", count[k], k, s))
	}
	return strings.Join(parts, ", ")
}

// WriteYAML prints the objects of every converted Ingress as one YAML stream, each group
// headed by a comment naming its Ingress; an Ingress not converted is named in a comment
// with the reason, so that nothing goes missing silently.
func WriteYAML(w io.Writer, ms []*Ingress) error {
	var b bytes.Buffer
	for _, m := range ms {
		if !m.Converted() {
			fmt.Fprintf(&b, "# Ingress %s/%s is not converted:\n", m.Namespace, m.Name)
			for _, n := range m.Notes {
				if n.Disposition.Blocking() {
					fmt.Fprintf(&b, "#   %s\n", n.Message)
				}
			}
			for _, f := range m.Findings {
				if f.Disposition.Blocking() {
					fmt.Fprintf(&b, "#   %s %q: %s\n", f.Annotation, f.Value, f.Message)
				}
			}
			continue
		}
		for i, o := range m.Objects {
			b.WriteString("---\n")
			if i == 0 {
				fmt.Fprintf(&b, "# From Ingress %s/%s (%s).\n", m.Namespace, m.Name, controllerName(m.Controller))
			}
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err)
			}
			delete(u, "status")
			if meta, ok := u["metadata"].(map[string]any); ok {
				delete(meta, "creationTimestamp")
			}
			data, err := yaml.Marshal(u)
			if err != nil {
				return err
			}
			b.Write(data)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
