{{/* Chart name, overridable. */}}
{{- define "lpbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full resource name: <release>-<chart> unless the release already contains it. */}}
{{- define "lpbridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "lpbridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels selecting the bridge's pods. */}}
{{- define "lpbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lpbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "lpbridge.labels" -}}
helm.sh/chart: {{ include "lpbridge.chart" . }}
{{ include "lpbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: bridge
{{- end -}}

{{- define "lpbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lpbridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the agents file. */}}
{{- define "lpbridge.agentsSecretName" -}}
{{- default (printf "%s-agents" (include "lpbridge.fullname" .)) .Values.agents.secretName -}}
{{- end -}}

{{/* Demo mode: no LivePerson account, the bridge runs its embedded simulator. */}}
{{- define "lpbridge.demo" -}}
{{- if not .Values.config.BRIDGE_LP_ACCOUNT -}}true{{- end -}}
{{- end -}}

{{/*
Seconds of a Go duration ("20s", "1m30s", "500ms", "0"), as a number in a
string; fails naming the value. Called with (list "name" value).
*/}}
{{- define "lpbridge.seconds" -}}
{{- $name := index . 0 -}}
{{- $d := index . 1 | toString | trim -}}
{{- $number := "([0-9]+([.][0-9]*)?|[.][0-9]+)" -}}
{{- $units := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- if eq $d "0" -}}
0
{{- else -}}
{{- if not (regexMatch (printf "^(%s(ns|us|µs|ms|s|m|h))+$" $number) $d) -}}
{{- fail (printf "%s %q is not a duration like 20s, 1m30s or 500ms" $name $d) -}}
{{- end -}}
{{- $total := 0.0 -}}
{{- range regexFindAll (printf "%s(ns|us|µs|ms|s|m|h)" $number) $d -1 -}}
{{- $n := regexFind (printf "^%s" $number) . -}}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) -}}
{{- end -}}
{{- $total -}}
{{- end -}}
{{- end -}}

{{/* The bridge's shutdown bound: config.BRIDGE_SHUTDOWN_TIMEOUT, else its default. */}}
{{- define "lpbridge.shutdownTimeout" -}}
{{- .Values.config.BRIDGE_SHUTDOWN_TIMEOUT | default "20s" | toString -}}
{{- end -}}

{{/* Leases on: leaseTTL is not zero. */}}
{{- define "lpbridge.leaseOn" -}}
{{- if gt (float64 (include "lpbridge.seconds" (list "leaseTTL" .Values.leaseTTL))) 0.0 -}}true{{- end -}}
{{- end -}}

{{/*
Pods may share agents: leases are on and live in a NATS all pods use (an
embedded NATS is each pod's own, so its leases keep no other pod out).
*/}}
{{- define "lpbridge.shared" -}}
{{- if and (include "lpbridge.leaseOn" .) .Values.config.BRIDGE_NATS_URL -}}true{{- end -}}
{{- end -}}

{{/* The Deployment strategy: strategy when set, else chosen by lpbridge.shared. */}}
{{- define "lpbridge.strategy" -}}
{{- if .Values.strategy -}}
{{- toYaml .Values.strategy -}}
{{- else if include "lpbridge.shared" . -}}
type: RollingUpdate
rollingUpdate:
  maxSurge: 1
  maxUnavailable: 0
{{- else -}}
type: Recreate
{{- end -}}
{{- end -}}

{{/* Variables holding secrets: never a plain value in config or extraEnv. */}}
{{- define "lpbridge.secretNamePattern" -}}
(PASSWORD|TOKEN|SECRET|APP_KEY|CLIENT_ID|NKEY_SEED|OTLP_HEADERS|OTLP_TRACES_HEADERS)$
{{- end -}}

{{/*
Refuse values that would break the bridge's promises: several pods polling
the same agents (no lease, or leases each pod keeps in its own embedded
NATS), a grace period the shutdown does not fit in, and secrets in the
ConfigMap (they would sit there in plain text).
*/}}
{{- define "lpbridge.validate" -}}
{{- $shared := include "lpbridge.shared" . -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not (include "lpbridge.leaseOn" .) -}}
{{- fail (printf "replicaCount %v needs the ownership lease: leaseTTL is %q, and without it two replicas would log every agent in twice" .Values.replicaCount (toString .Values.leaseTTL)) -}}
{{- end -}}
{{- if not .Values.config.BRIDGE_NATS_URL -}}
{{- fail (printf "replicaCount %v needs config.BRIDGE_NATS_URL: the ownership lease lives in NATS KV, and each pod's embedded NATS would keep its own, so every agent would be logged in once per pod" .Values.replicaCount) -}}
{{- end -}}
{{- end -}}
{{- if and (eq (toString (get (.Values.strategy | default dict) "type")) "RollingUpdate") (not $shared) -}}
{{- fail "strategy RollingUpdate runs the old and the new pod side by side: it needs the ownership lease (leaseTTL not 0) in a shared NATS (config.BRIDGE_NATS_URL); use Recreate" -}}
{{- end -}}
{{- $shutdown := include "lpbridge.seconds" (list "config.BRIDGE_SHUTDOWN_TIMEOUT" (include "lpbridge.shutdownTimeout" .)) | float64 -}}
{{- if le (float64 .Values.terminationGracePeriodSeconds) $shutdown -}}
{{- fail (printf "terminationGracePeriodSeconds %v must be larger than config.BRIDGE_SHUTDOWN_TIMEOUT %s, or Kubernetes kills the bridge before its graceful shutdown ends" .Values.terminationGracePeriodSeconds (include "lpbridge.shutdownTimeout" .)) -}}
{{- end -}}
{{- $secretName := include "lpbridge.secretNamePattern" . -}}
{{- range $key, $value := .Values.config -}}
{{- if not (hasPrefix "BRIDGE_" $key) -}}
{{- fail (printf "config.%s: only BRIDGE_* variables belong in config (use extraEnv for others)" $key) -}}
{{- end -}}
{{- if regexMatch $secretName $key -}}
{{- fail (printf "config.%s looks like a secret and would be stored in plain text in a ConfigMap: put it in a Secret and reference it (nats.authSecret, agents.secretName, extraEnv valueFrom)" $key) -}}
{{- end -}}
{{- end -}}
{{- if regexMatch "[@?#]" (toString .Values.config.BRIDGE_OTLP_ENDPOINT) -}}
{{- fail "config.BRIDGE_OTLP_ENDPOINT must not carry credentials or a query (the ConfigMap is plain text): put the collector's auth headers in tracing.headersSecret" -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if and (regexMatch $secretName (toString .name)) (hasKey . "value") -}}
{{- fail (printf "extraEnv %s looks like a secret: use valueFrom.secretKeyRef, not a plain value" .name) -}}
{{- end -}}
{{- end -}}
{{- if hasKey .Values.config "BRIDGE_HTTP_ADDR" -}}
{{- fail "config.BRIDGE_HTTP_ADDR is set by the chart from http.port" -}}
{{- end -}}
{{- if hasKey .Values.config "BRIDGE_AGENTS_FILE" -}}
{{- fail "config.BRIDGE_AGENTS_FILE is set by the chart: use agents.secretName" -}}
{{- end -}}
{{- if hasKey .Values.config "BRIDGE_LEASE_TTL" -}}
{{- fail "config.BRIDGE_LEASE_TTL is set by the chart from leaseTTL" -}}
{{- end -}}
{{- end -}}
