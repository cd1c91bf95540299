package manifests

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// coreDecoder decodes the core kinds strictly: unknown and duplicate fields are errors,
// as with kubectl's default --validate=strict.
var coreDecoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := discoveryv1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := networkingv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

var strictFieldError = regexp.MustCompile(`^(?:unknown|duplicate) field "(.*)"$`)

// core reads a Secret, ConfigMap, Service, Namespace, EndpointSlice, Ingress or
// IngressClass document, admitting its text once (admitOnce).
func (l *loader) core(d *doc, c *converted, obj map[string]any, gvk schema.GroupVersionKind) {
	l.admitOnce(d, c, func() *admission { return l.admitCore(d, jsonOf(c), decoded(c, obj), gvk) })
}

// admitCore admits a document of a core kind: data is its JSON, raw the same decoded.
func (l *loader) admitCore(d *doc, data []byte, raw map[string]any, gvk schema.GroupVersionKind) *admission {
	out := &admission{}
	if gvk.Kind == KindSecret {
		if errs := checkBase64(raw); len(errs) > 0 {
			l.fieldErrors(d, errs)
			return out
		}
	}
	obj, _, err := coreDecoder.Decode(data, nil, nil)
	if err != nil {
		strict, ok := runtime.AsStrictDecodingError(err)
		if !ok || obj == nil {
			f, msg := decodeError(err)
			l.problem(d, f, "%s", msg)
			return out
		}
		for _, e := range strict.Errors() {
			f := ""
			if m := strictFieldError.FindStringSubmatch(e.Error()); m != nil {
				f = m[1]
			}
			l.problem(d, f, "%s", e.Error())
		}
		return out
	}

	var meta *metav1.ObjectMeta
	var errs field.ErrorList
	switch o := obj.(type) {
	case *corev1.Secret:
		meta = &o.ObjectMeta
		errs = append(l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain), prepareSecret(o)...)
	case *corev1.ConfigMap:
		meta = &o.ObjectMeta
		errs = append(l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain), validateConfigMap(o)...)
	case *corev1.Service:
		meta = &o.ObjectMeta
		errs = append(l.prepareMeta(meta, apivalidation.NameIsDNS1035Label), prepareService(o)...)
	case *discoveryv1.EndpointSlice:
		meta = &o.ObjectMeta
		errs = append(l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain), prepareEndpointSlice(o)...)
		if len(errs) == 0 && o.Labels[discoveryv1.LabelServiceName] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "labels").Key(discoveryv1.LabelServiceName),
				"name the Service this EndpointSlice belongs to; without it no Service uses the slice"))
		}
	case *corev1.Namespace:
		meta = &o.ObjectMeta
		errs = l.prepareClusterMeta(meta, apivalidation.ValidateNamespaceName)
	case *networkingv1.Ingress:
		meta = &o.ObjectMeta
		errs = l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain)
	case *networkingv1.IngressClass:
		meta = &o.ObjectMeta
		errs = l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain)
	default:
		l.problem(d, "kind", "unexpected kind %s", gvk.Kind)
		return out
	}
	if len(errs) > 0 {
		l.fieldErrors(d, errs)
		return out
	}
	if v := l.contentVersion(d); v != "" {
		meta.ResourceVersion = v
	}
	out.admitted = true
	out.key = translate.Key{Kind: gvk.Kind, Namespace: meta.Namespace, Name: meta.Name}
	out.obj = obj.(translate.Object)
	return out
}

var jsonFieldError = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.([^ ]+) of type`)

// decodeError turns a JSON decoding error into a field path (when the error names one)
// and a message.
func decodeError(err error) (string, string) {
	msg := err.Error()
	if m := jsonFieldError.FindStringSubmatch(msg); m != nil {
		return m[1], msg
	}
	return "", msg
}

// checkBase64 checks a Secret's data values before decoding, to name the bad key.
func checkBase64(raw map[string]any) field.ErrorList {
	data, ok := raw["data"].(map[string]any)
	if !ok {
		return nil
	}
	var errs field.ErrorList
	for _, k := range sortedKeys(data) {
		p := field.NewPath("data").Key(k)
		switch v := data[k].(type) {
		case nil:
		case string:
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				errs = append(errs, field.Invalid(p, "<redacted>", fmt.Sprintf("must be base64-encoded (use stringData for plain text): %v", err)))
			}
		default:
			errs = append(errs, field.TypeInvalid(p, "<redacted>", "must be a base64-encoded string"))
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prepareSecret merges stringData into data and defaults the type, as the API server
// does, and checks what the API server checks that matters here.
func prepareSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(s.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
	}
	for _, k := range sortedKeys(s.StringData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("stringData").Key(k), k, msg))
		}
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	size := 0
	for _, v := range s.Data {
		size += len(v)
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", corev1.MaxSecretSize))
	}
	if s.Type == corev1.SecretTypeTLS {
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if _, ok := s.Data[k]; !ok {
				errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
			}
		}
	}
	return errs
}

func validateConfigMap(c *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(c.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		if _, dup := c.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
	}
	for _, k := range sortedKeys(c.BinaryData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, msg))
		}
	}
	return errs
}

// prepareService sets the API server's defaults that a reader of the Service may rely on
// (type, port protocol, targetPort) and checks the ports.
func prepareService(s *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &s.Spec
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if len(spec.Ports) == 0 && spec.ClusterIP != corev1.ClusterIPNone {
			errs = append(errs, field.Required(field.NewPath("spec", "ports"), ""))
		}
	case corev1.ServiceTypeExternalName:
		if spec.ExternalName == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "externalName"), ""))
		}
	default:
		errs = append(errs, field.NotSupported(field.NewPath("spec", "type"), spec.Type, []corev1.ServiceType{
			corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}))
	}
	names := map[string]bool{}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		path := field.NewPath("spec", "ports").Index(i)
		if len(spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(path.Child("name"), ""))
		} else if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
			}
			if names[p.Name] {
				errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
			}
			names[p.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port, msg))
		}
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (intstr.IntOrString{}) {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	return errs
}

// prepareEndpointSlice checks the slice's addresses and ports. Unlike the API server,
// standalone mode accepts loopback and link-local addresses: a folder may well point at a
// backend on the same machine.
func prepareEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	supported := []discoveryv1.AddressType{discoveryv1.AddressTypeFQDN, discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
	switch es.AddressType {
	case "":
		errs = append(errs, field.Required(field.NewPath("addressType"), ""))
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), es.AddressType, supported))
	}
	for i, ep := range es.Endpoints {
		path := field.NewPath("endpoints").Index(i).Child("addresses")
		if len(ep.Addresses) == 0 {
			errs = append(errs, field.Required(path, "must contain at least 1 address"))
		}
		for j, a := range ep.Addresses {
			if msg := checkAddress(es.AddressType, a); msg != "" {
				errs = append(errs, field.Invalid(path.Index(j), a, msg))
			}
		}
	}
	for i := range es.Ports {
		p := &es.Ports[i]
		path := field.NewPath("ports").Index(i)
		if p.Port != nil {
			for _, msg := range validation.IsValidPortNum(int(*p.Port)) {
				errs = append(errs, field.Invalid(path.Child("port"), *p.Port, msg))
			}
		}
		if p.Protocol == nil {
			tcp := corev1.ProtocolTCP
			p.Protocol = &tcp
		}
	}
	return errs
}

func checkAddress(t discoveryv1.AddressType, a string) string {
	switch t {
	case discoveryv1.AddressTypeIPv4:
		if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
			return "must be a valid IPv4 address"
		}
	case discoveryv1.AddressTypeIPv6:
		if ip, err := netip.ParseAddr(a); err != nil || !ip.Is6() || ip.Is4In6() {
			return "must be a valid IPv6 address"
		}
	case discoveryv1.AddressTypeFQDN:
		if msgs := validation.IsDNS1123Subdomain(a); len(msgs) > 0 {
			return msgs[0]
		}
	}
	return ""
}
