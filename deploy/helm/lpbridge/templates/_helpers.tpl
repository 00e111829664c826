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
Refuse values that would break the bridge's promises: more than one replica
(no ownership lease yet) and secrets in the ConfigMap (they would sit there in
plain text).
*/}}
{{- define "lpbridge.validate" -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- fail "replicaCount must be 1: the ownership lease that lets replicas share agents is not built yet, two replicas would log every agent in twice" -}}
{{- end -}}
{{- range $key, $value := .Values.config -}}
{{- if not (hasPrefix "BRIDGE_" $key) -}}
{{- fail (printf "config.%s: only BRIDGE_* variables belong in config (use extraEnv for others)" $key) -}}
{{- end -}}
{{- if regexMatch "(PASSWORD|TOKEN|SECRET|APP_KEY|NKEY_SEED)$" $key -}}
{{- fail (printf "config.%s looks like a secret and would be stored in plain text in a ConfigMap: put it in a Secret and reference it (nats.authSecret, agents.secretName, extraEnv valueFrom)" $key) -}}
{{- end -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if and (regexMatch "(PASSWORD|TOKEN|SECRET|APP_KEY|NKEY_SEED)$" (toString .name)) (hasKey . "value") -}}
{{- fail (printf "extraEnv %s looks like a secret: use valueFrom.secretKeyRef, not a plain value" .name) -}}
{{- end -}}
{{- end -}}
{{- if hasKey .Values.config "BRIDGE_HTTP_ADDR" -}}
{{- fail "config.BRIDGE_HTTP_ADDR is set by the chart from http.port" -}}
{{- end -}}
{{- if hasKey .Values.config "BRIDGE_AGENTS_FILE" -}}
{{- fail "config.BRIDGE_AGENTS_FILE is set by the chart: use agents.secretName" -}}
{{- end -}}
{{- end -}}
