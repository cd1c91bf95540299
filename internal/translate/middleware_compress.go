package translate

import (
	"fmt"
	"mime"
	"slices"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Traefik's compress defaults.
const defaultMinCompressBytes = 1024

// compressEncodings are the encodings the data plane provides: all three of Traefik
// v3's. An encoding outside this list is refused with the ones that are offered.
var compressEncodings = []string{"gzip", "br", "zstd"}

// compress compiles Traefik's compress: encodings default to gzip, br, zstd (that
// order of preference), minResponseBodyBytes to 1024; media types are parsed as Traefik
// parses them (parameters dropped), so a type it would refuse is refused here.
func compress(rep *report, k nsName, c *bhv1.Compress) *snapshot.Compress {
	out := &snapshot.Compress{MinResponseBodyBytes: defaultMinCompressBytes, Encodings: compressEncodings}
	if len(c.ExcludedContentTypes) > 0 && len(c.IncludedContentTypes) > 0 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.compress sets both excludedContentTypes and includedContentTypes, which are mutually exclusive (as in Traefik); keep one", k))
	}
	out.ExcludedContentTypes = mediaTypes(rep, k, "spec.compress.excludedContentTypes", c.ExcludedContentTypes)
	out.IncludedContentTypes = mediaTypes(rep, k, "spec.compress.includedContentTypes", c.IncludedContentTypes)
	if m := c.MinResponseBodyBytes; m != nil {
		switch {
		case *m < 0:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.compress.minResponseBodyBytes %d is negative; set the smallest body to compress, such as 1024", k, *m))
		case *m > 0:
			// 0 keeps the default, as in Traefik.
			out.MinResponseBodyBytes = *m
		}
	}
	if c.Encodings != nil {
		if len(c.Encodings) == 0 {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.compress.encodings is empty, so nothing could be compressed; list at least one of gzip, br, zstd, or remove the field for all three", k))
		}
		var encs []string
		for i, e := range c.Encodings {
			switch {
			case !slices.Contains(compressEncodings, e):
				rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf("Middleware %s: spec.compress.encodings[%d] %q is not an encoding the gateway provides; use gzip, br or zstd", k, i, e))
			case slices.Contains(encs, e):
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.compress.encodings[%d] %q is listed twice; list each encoding once, in order of preference", k, i, e))
			default:
				encs = append(encs, e)
			}
		}
		out.Encodings = encs
	}
	if d := c.DefaultEncoding; d != "" {
		if !slices.Contains(out.Encodings, d) {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.compress.defaultEncoding %q is not among spec.compress.encodings %v (Traefik refuses it too); add it there or choose one of them", k, d, out.Encodings))
		}
		out.DefaultEncoding = d
	}
	return out
}

// mediaTypes parses each entry as Traefik does (mime.ParseMediaType: lower case,
// parameters dropped).
func mediaTypes(rep *report, k nsName, field string, in []string) []string {
	var out []string
	for i, v := range in {
		mt, _, err := mime.ParseMediaType(v)
		if err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s[%d] %q is not a media type (%v); write one such as text/event-stream", k, field, i, v, err))
			continue
		}
		if !slices.Contains(out, mt) { // already lower case, parameters dropped
			out = append(out, mt)
		}
	}
	return out
}
