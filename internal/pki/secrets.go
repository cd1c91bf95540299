package pki

import (
	"fmt"
	"strings"
)

// Secret is a Secret to write as YAML for the demos (quickstart, run-cluster).
type Secret struct {
	Name, Type string
	// Data holds PEM under the keys ca.crt, tls.crt and tls.key.
	Data map[string][]byte
}

// SecretsYAML renders secrets as a multi-document YAML file in namespace, after a
// comment line saying where it came from.
func SecretsYAML(comment, namespace string, secrets ...Secret) []byte {
	var b strings.Builder
	b.WriteString("# " + comment + "\n")
	for _, s := range secrets {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: %s\nstringData:\n", s.Name, namespace, s.Type)
		for _, k := range []string{"ca.crt", "tls.crt", "tls.key"} {
			if v, ok := s.Data[k]; ok {
				fmt.Fprintf(&b, "  %s: |\n    %s\n", k, strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "\n    "))
			}
		}
	}
	return []byte(b.String())
}
