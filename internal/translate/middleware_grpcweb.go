package translate

import (
	"fmt"
	"net/url"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// grpcWeb compiles Traefik's grpcWeb. Each origin is "*" or scheme://host[:port], the
// form a browser sends in Origin; anything else could never match and is refused. An
// empty list allows no browser origin (as in Traefik), which is served with a Warning.
func grpcWeb(rep *report, k nsName, g *bhv1.GrpcWeb) *snapshot.GrpcWeb {
	out := &snapshot.GrpcWeb{}
	for i, o := range g.AllowOrigins {
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.grpcWeb.allowOrigins[%d] %q is not an origin as browsers send it; write scheme://host[:port] without a path, such as https://app.example.com, or * for any", k, i, o))
				continue
			}
		}
		out.AllowOrigins = append(out.AllowOrigins, o)
	}
	if len(g.AllowOrigins) == 0 {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.grpcWeb.allowOrigins is empty, so no browser page may call through it (CORS); non-browser gRPC-Web clients still work. List the pages' origins, such as https://app.example.com, or * for any", k))
	}
	return out
}
