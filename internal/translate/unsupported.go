package translate

import (
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// refuseUnsupported makes an object that sets Traefik fields Bridgehead does not implement
// not Accepted (UnsupportedField), naming each field and what to do, and reports whether
// it did. The caller then leaves the object out of the snapshot: serving it without the
// fields would be serving something other than what the manifest says (a route without
// its parent's match, a transport without its SPIFFE identity check, ...).
func (t *translator) refuseUnsupported(rep *report, obj string) bool {
	fields := t.in.Unsupported[rep.key]
	if len(fields) == 0 {
		return false
	}
	var b strings.Builder
	b.WriteString(obj)
	b.WriteString(" sets Traefik fields Bridgehead does not implement, so it is not served (rather than served without them): ")
	for i, f := range fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Path)
		b.WriteString(": ")
		b.WriteString(f.Hint)
	}
	rep.invalidf(bhv1.ReasonUnsupportedField, b.String())
	return true
}
