package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

var _ = Describe("Middleware regex rewrites, contentType, compress and grpcWeb", func() {
	DescribeTable("values",
		func(name string, spec map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("transform-"+name, spec))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("replacePathRegex", "rpr", map[string]any{"replacePathRegex": map[string]any{"regex": "^/api/(.*)", "replacement": "/v2/$1"}}, ""),
		Entry("replacePathRegex without regex", "rpr-none", map[string]any{"replacePathRegex": map[string]any{"replacement": "/x"}}, "spec.replacePathRegex.regex: Required value"),
		Entry("stripPrefixRegex", "spr", map[string]any{"stripPrefixRegex": map[string]any{"regex": []any{"/api/v[0-9]+", "/t/[a-z]+"}}}, ""),
		Entry("stripPrefixRegex empty list", "spr-empty", map[string]any{"stripPrefixRegex": map[string]any{"regex": []any{}}}, "spec.stripPrefixRegex.regex"),
		Entry("stripPrefixRegex empty entry", "spr-blank", map[string]any{"stripPrefixRegex": map[string]any{"regex": []any{""}}}, "spec.stripPrefixRegex.regex[0]"),
		Entry("redirectRegex", "rr", map[string]any{"redirectRegex": map[string]any{"regex": "^http://a/(.*)", "replacement": "https://b/${1}", "permanent": true}}, ""),
		Entry("redirectRegex without replacement", "rr-none", map[string]any{"redirectRegex": map[string]any{"regex": "^http://a/(.*)"}}, "spec.redirectRegex.replacement: Required value"),
		Entry("contentType", "ct", map[string]any{"contentType": map[string]any{}}, ""),
		Entry("contentType autoDetect", "ct-auto", map[string]any{"contentType": map[string]any{"autoDetect": false}}, ""),
		Entry("compress with defaults", "c", map[string]any{"compress": map[string]any{}}, ""),
		Entry("compress tuned", "c-tuned", map[string]any{"compress": map[string]any{
			"excludedContentTypes": []any{"text/event-stream"}, "minResponseBodyBytes": int64(2048),
			"encodings": []any{"zstd", "gzip"}, "defaultEncoding": "gzip"}}, ""),
		Entry("compress with both type lists", "c-both", map[string]any{"compress": map[string]any{
			"excludedContentTypes": []any{"text/html"}, "includedContentTypes": []any{"text/plain"}}},
			"excludedContentTypes and includedContentTypes are mutually exclusive"),
		Entry("compress deflate", "c-deflate", map[string]any{"compress": map[string]any{"encodings": []any{"deflate"}}}, "spec.compress.encodings[0]: Unsupported value: \"deflate\""),
		Entry("compress negative minimum", "c-neg", map[string]any{"compress": map[string]any{"minResponseBodyBytes": int64(-1)}}, "spec.compress.minResponseBodyBytes"),
		Entry("grpcWeb", "gw", map[string]any{"grpcWeb": map[string]any{"allowOrigins": []any{"https://app.example.com", "*"}}}, ""),
		Entry("grpcWeb without origins", "gw-none", map[string]any{"grpcWeb": map[string]any{}}, ""),
		Entry("compress and another", "c-two", map[string]any{"compress": map[string]any{}, "contentType": map[string]any{}}, "set exactly one middleware"),
	)
})
