package controllers

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// The ports a Gateway listener may name are the Service's, each served by the entry point
// its targetPort reaches; a port that reaches none, or with the wrong protocol, is not one.
func TestServicePortsFollowTheTargetPorts(t *testing.T) {
	web := translate.ListenerEntryPoint{Name: "web", Kind: translate.EntryPointHTTP}
	websecure := translate.ListenerEntryPoint{Name: "websecure", Kind: translate.EntryPointTLS}
	dns := translate.ListenerEntryPoint{Name: "dns", Kind: "udp"}
	pg := translate.ListenerEntryPoint{Name: "pg", Kind: "tcp"}
	own := map[int32]translate.ListenerEntryPoint{8000: web, 8443: websecure, 5353: dns, 5432: pg}
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Port: 80, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
		{Port: 443, TargetPort: intstr.FromInt32(8443), Protocol: corev1.ProtocolTCP},
		{Port: 53, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolUDP},
		{Port: 5432, Protocol: corev1.ProtocolTCP}, // no targetPort: the same port
		{Port: 9000, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
		{Port: 5354, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolTCP},
		{Port: 8080, TargetPort: intstr.FromInt32(8001), Protocol: corev1.ProtocolTCP},
	}}}
	got := servicePorts(svc, own)
	want := map[int32]translate.ListenerEntryPoint{80: web, 443: websecure, 53: dns, 5432: pg}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("servicePorts = %v, want %v", got, want)
	}
}
