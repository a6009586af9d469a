{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "pdm-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release name, plus the chart name unless it already contains it. */}}
{{- define "pdm-bot.fullname" -}}
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

{{- define "pdm-bot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pdm-bot.labels" -}}
helm.sh/chart: {{ include "pdm-bot.chart" . }}
{{ include "pdm-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "pdm-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pdm-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "web"). */}}
{{- define "pdm-bot.componentSelectorLabels" -}}
{{ include "pdm-bot.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pdm-bot.componentLabels" -}}
{{ include "pdm-bot.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pdm-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pdm-bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pdm-bot.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "pdm-bot.secretName" -}}
{{- default (include "pdm-bot.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "pdm-bot.redisName" -}}
{{- printf "%s-redis" (include "pdm-bot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when the pods need PDM_REDIS_PASSWORD from the Secret. */}}
{{- define "pdm-bot.redisAuth" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}true{{ end }}
{{- else if .Values.externalRedis.auth.enabled }}true
{{- end }}
{{- end }}

{{- define "pdm-bot.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- $auth := ternary ":$(PDM_REDIS_PASSWORD)@" "" .Values.redis.auth.enabled }}
{{- printf "redis://%s%s:6379/0" $auth (include "pdm-bot.redisName" .) }}
{{- else }}
{{- required "externalRedis.url is required when redis.enabled is false" .Values.externalRedis.url }}
{{- end }}
{{- end }}

{{/* Environment shared by the web, worker and cron containers. */}}
{{- define "pdm-bot.env" -}}
{{- $secret := include "pdm-bot.secretName" . }}
{{- $keys := .Values.secrets.keys }}
{{- if include "pdm-bot.redisAuth" . }}
- name: PDM_REDIS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.redisPassword }}}
{{- end }}
- name: PDM_REDIS_URL
  value: {{ include "pdm-bot.redisUrl" . | quote }}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.sentinel.hosts }}
- name: PDM_REDIS_SENTINELS
  value: {{ join "," .Values.externalRedis.sentinel.hosts | quote }}
- name: PDM_REDIS_SENTINEL_MASTER
  value: {{ .Values.externalRedis.sentinel.masterName | quote }}
{{- end }}
- name: PDM_SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.slackBotToken }}}
- name: PDM_SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.slackSigningSecret }}}
- name: PDM_GITLAB_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.gitlabToken }}}
- name: PDM_GITLAB_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.gitlabWebhookSecret }}}
- name: PDM_GRAFANA_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.grafanaToken }}, optional: true}
- name: PDM_PROMETHEUS_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.prometheusToken }}, optional: true}
- name: PDM_SLACK_CHANNEL
  value: {{ .Values.config.slackChannel | quote }}
- name: PDM_SLACK_API_URL
  value: {{ .Values.config.slackApiUrl | quote }}
- name: PDM_GITLAB_URL
  value: {{ .Values.config.gitlabUrl | quote }}
- name: PDM_GITLAB_PROJECT
  value: {{ .Values.config.gitlabProject | quote }}
- name: PDM_GITLAB_PIPELINE_PROJECT
  value: {{ .Values.config.gitlabPipelineProject | quote }}
- name: PDM_GITLAB_PIPELINE_REF
  value: {{ .Values.config.gitlabPipelineRef | quote }}
- name: PDM_GRAFANA_URL
  value: {{ .Values.config.grafanaUrl | quote }}
- name: PDM_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: PDM_POLICY_FILE
  value: /etc/pdm-bot/policy.yaml
- name: PDM_PORT
  value: "3000"
{{- with .Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level pieces shared by the three pdm-bot Deployments. */}}
{{- define "pdm-bot.podCommon" -}}
serviceAccountName: {{ include "pdm-bot.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "pdm-bot.volumes" -}}
- name: policy
  configMap:
    name: {{ include "pdm-bot.fullname" . }}-policy
- name: tmp
  emptyDir: {}
{{- end }}

{{- define "pdm-bot.volumeMounts" -}}
- name: policy
  mountPath: /etc/pdm-bot
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Annotations that roll the pods when the policy or a chart-made Secret changes. */}}
{{- define "pdm-bot.checksums" -}}
checksum/policy: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ toYaml .Values.secrets.values | sha256sum }}
{{- end }}
{{- end }}

{{/* Scheduling constraints of one component: call with its values block. */}}
{{- define "pdm-bot.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
