{{/* The chart's name. */}}
{{- define "bridgehead.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name, prefixed with the chart's unless it contains it. */}}
{{- define "bridgehead.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "bridgehead.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" (include "bridgehead.name" .) .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "bridgehead.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bridgehead.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bridgehead.labels" -}}
{{ include "bridgehead.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "bridgehead.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bridgehead.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The watched namespaces, with the release namespace added; empty means all. */}}
{{- define "bridgehead.watchNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- append .Values.watchNamespaces .Release.Namespace | uniq | sortAlpha | join "," }}
{{- end }}
{{- end }}

{{/* The Lease name: one per release, so two releases in one namespace do not share it. */}}
{{- define "bridgehead.leaseName" -}}
{{- printf "%s-status-writer" (include "bridgehead.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
bridgehead.checkEntryPoint fails the render for an entryPoints item the gateway or the API
server would refuse, naming it.
*/}}
{{- define "bridgehead.checkEntryPoint" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$" (toString .name)) }}
{{- fail (printf "entryPoints: name %q must be at most 15 lowercase letters, digits and - (it is also the port's name)" (toString .name)) }}
{{- end }}
{{- if has (toString .name) (list "web" "websecure" "admin") }}
{{- fail (printf "entryPoints: %q is the chart's own port; choose another name" .name) }}
{{- end }}
{{- if not .port }}
{{- fail (printf "entryPoints: %s has no port" .name) }}
{{- end }}
{{- if not (has (upper (default "TCP" .protocol)) (list "TCP" "UDP" "TLS")) }}
{{- fail (printf "entryPoints: %s protocol %q is not TCP, UDP or TLS" .name .protocol) }}
{{- end }}
{{- end }}

{{/*
bridgehead.portProtocol is an entryPoints item's protocol as a container or Service port
has it: a TLS entry point terminates TLS over TCP.
*/}}
{{- define "bridgehead.portProtocol" -}}
{{- if eq (upper (default "TCP" .protocol)) "UDP" }}UDP{{ else }}TCP{{ end }}
{{- end }}
