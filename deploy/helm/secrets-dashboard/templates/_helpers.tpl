{{/* The chart's name, or nameOverride. */}}
{{- define "secrets-dashboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name (63 characters at most, a DNS label). */}}
{{- define "secrets-dashboard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "secrets-dashboard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "secrets-dashboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "secrets-dashboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "secrets-dashboard.labels" -}}
helm.sh/chart: {{ include "secrets-dashboard.chart" . }}
{{ include "secrets-dashboard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret holding MASTER_KEY, NEXTAUTH_SECRET and DATABASE_URL: the chart's, or existingSecret. */}}
{{- define "secrets-dashboard.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "secrets-dashboard.fullname" . }}
{{- end }}
{{- end }}

{{- define "secrets-dashboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "secrets-dashboard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
