package ingressannotations

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// parseBool reads the boolean spellings these controllers accept.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "yes", "1":
		return true, true
	case "false", "off", "no", "0":
		return false, true
	}
	return false, false
}

func malformed(msg string) *Finding { return &Finding{Disposition: Malformed, Message: msg} }
func refused(msg string) *Finding   { return &Finding{Disposition: Refused, Message: msg} }

func boolProblem(v string) *Finding {
	return malformed(fmt.Sprintf("%q is not a boolean; write \"true\" or \"false\"", v))
}

func onOffProblem(v string) *Finding {
	return malformed(fmt.Sprintf("%q is neither \"on\" nor \"off\"; write one of them", v))
}

// secretPath reads NAMESPACE/NAME, or NAME (in the Ingress's namespace) when bareOK.
func secretPath(b *builder, v string, bareOK bool) (*secretRef, *Finding) {
	s := strings.TrimSpace(v)
	ns, name, found := strings.Cut(s, "/")
	if !found {
		if !bareOK {
			return nil, malformed(fmt.Sprintf("%q is not a Secret reference: write NAMESPACE/NAME (for example %s/%s)", v, b.ns, orExample(s)))
		}
		ns, name = b.ns, s
	}
	if len(validation.IsDNS1123Subdomain(name)) > 0 || len(validation.IsDNS1123Label(ns)) > 0 {
		form := "NAMESPACE/NAME"
		if bareOK {
			form = "NAME or NAMESPACE/NAME"
		}
		return nil, malformed(fmt.Sprintf("%q is not a Secret reference: write %s with lowercase DNS names", v, form))
	}
	return &secretRef{namespace: ns, name: name}, nil
}

func orExample(s string) string {
	if len(validation.IsDNS1123Subdomain(s)) == 0 {
		return s
	}
	return "my-secret"
}

func hostnameProblem(v string) *Finding {
	h := strings.TrimSpace(v)
	if h == "" || len(validation.IsDNS1123Subdomain(strings.ToLower(h))) > 0 {
		return malformed(fmt.Sprintf("%q is not a host name; write the DNS name the backend's certificate is valid for", v))
	}
	return nil
}

// cidrList reads a comma-separated list of addresses and CIDRs.
func cidrList(v string) ([]string, *Finding) {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			if _, err := netip.ParsePrefix(item); err != nil {
				return nil, malformed(fmt.Sprintf("%q in %q is not a CIDR; write addresses or CIDRs separated by commas, such as 10.0.0.0/8, 192.168.1.7", item, v))
			}
		} else if _, err := netip.ParseAddr(item); err != nil {
			return nil, malformed(fmt.Sprintf("%q in %q is not an IP address; write addresses or CIDRs separated by commas, such as 10.0.0.0/8, 192.168.1.7", item, v))
		}
		out = append(out, item)
	}
	if len(out) == 0 {
		return nil, malformed(fmt.Sprintf("%q lists no address; write addresses or CIDRs separated by commas (an empty allow-list would refuse everyone)", v))
	}
	return out, nil
}

func positiveInt(v string, maxV int) (int, *Finding) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > maxV {
		return 0, malformed(fmt.Sprintf("%q is not a whole number between 0 and %d; write one", v, maxV))
	}
	return n, nil
}

// rewriteForm classifies a path rewrite of the controllers' regex forms.
//
// A replacement without capture references replaces the whole path (nginx rewrites the
// whole URI when its location regex matches, HAProxy's one-argument path-rewrite sets the
// path). The prefix-stripping forms -- nginx path P(/|$)(.*) with target /$2, or P/(.*)
// with /$1 -- become stripPrefix P. Anything else needs regular expressions Bridgehead
// does not run.
type rewrite struct {
	replacePath string
	strip       []string
	// match maps regex paths to the prefix they match.
	match map[string]string
}

var (
	stripTwo = regexp.MustCompile(`^(/[A-Za-z0-9._~!$&'*+,;=:@%/-]*?)\(/\|\$\)\(\.\*\)$`)
	stripOne = regexp.MustCompile(`^(/[A-Za-z0-9._~!$&'*+,;=:@%/-]*?)/\(\.\*\)$`)
)

func captureFree(s string) bool { return !strings.ContainsAny(s, "$\\()[]*+?{}|^") }

// nginxRewrite reads rewrite-target against the Ingress's paths.
func nginxRewrite(paths []string, target string) (rewrite, *Finding) {
	t := strings.TrimSpace(target)
	if t == "" || !strings.HasPrefix(t, "/") {
		return rewrite{}, malformed(fmt.Sprintf("%q is not a path; write the path requests are rewritten to, starting with /", target))
	}
	if captureFree(t) {
		return rewrite{replacePath: t}, nil
	}
	var strip []string
	var match map[string]string
	for _, p := range paths {
		var m []string
		switch t {
		case "/$2":
			m = stripTwo.FindStringSubmatch(p)
		case "/$1":
			m = stripOne.FindStringSubmatch(p)
		}
		if m == nil {
			return rewrite{}, refused(fmt.Sprintf("rewrites with regular-expression captures are not run; only the prefix-stripping forms are (path /PREFIX(/|$)(.*) with rewrite-target /$2); path %q does not have that form: use a stripPrefix or addPrefix Middleware named by bridgehead.dev/middlewares and plain Prefix paths", p))
		}
		prefix := strings.TrimRight(m[1], "/")
		if prefix == "" {
			prefix = "/"
		}
		strip = append(strip, prefix)
		if match == nil {
			match = map[string]string{}
		}
		match[p] = prefix
	}
	if len(strip) == 0 {
		return rewrite{}, refused("the Ingress has no paths for the captures to refer to; remove the annotation")
	}
	return rewrite{strip: strip, match: match}, nil
}

// haproxyRewrite reads HAProxy's path-rewrite: "REPLACEMENT" sets the path, "REGEX
// REPLACEMENT" rewrites it; the prefix-stripping regex forms become stripPrefix.
func haproxyRewrite(v string) (rewrite, *Finding) {
	fields := strings.Fields(v)
	switch len(fields) {
	case 1:
		if !strings.HasPrefix(fields[0], "/") || !captureFree(fields[0]) {
			return rewrite{}, malformed(fmt.Sprintf("%q is neither a path nor \"REGEX REPLACEMENT\"; write the new path (starting with /) or a prefix form such as \"^/api/(.*) /\\1\"", v))
		}
		return rewrite{replacePath: fields[0]}, nil
	case 2:
		re, repl := strings.TrimPrefix(fields[0], "^"), fields[1]
		if m := stripOne.FindStringSubmatch(re); m != nil && repl == `/\1` {
			return rewrite{strip: []string{m[1]}}, nil
		}
		if m := stripTwo.FindStringSubmatch(re); m != nil && repl == `/\2` {
			return rewrite{strip: []string{m[1]}}, nil
		}
		if re == "(.*)" && strings.HasSuffix(repl, `\1`) && captureFree(strings.TrimSuffix(repl, `\1`)) {
			return rewrite{}, refused(fmt.Sprintf("adding a prefix with path-rewrite %q is not served here; use an addPrefix Middleware named by bridgehead.dev/middlewares", v))
		}
		return rewrite{}, refused(fmt.Sprintf("%q uses regular-expression captures, which are not run; only the prefix-stripping forms are (\"^/PREFIX/(.*) /\\1\"): use a stripPrefix Middleware named by bridgehead.dev/middlewares", v))
	}
	return rewrite{}, malformed(fmt.Sprintf("%q has %d words; write the new path, or \"REGEX REPLACEMENT\"", v, len(fields)))
}
