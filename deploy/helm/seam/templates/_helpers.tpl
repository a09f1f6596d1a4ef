{{/* Names and labels. */}}
{{- define "seam.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "seam.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "seam.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "name" "normalize"). */}}
{{- define "seam.selectorLabels" -}}
app.kubernetes.io/name: {{ include "seam.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "seam.labels" -}}
{{ include "seam.selectorLabels" . }}
helm.sh/chart: {{ include "seam.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: seam
{{- end -}}

{{- define "seam.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* A component's service account name: (dict "root" $ "name" "normalize" "c" $component). */}}
{{- define "seam.serviceAccountName" -}}
{{- if .c.serviceAccount.create -}}
{{- default (printf "%s-%s" (include "seam.fullname" .root) .name) .c.serviceAccount.name -}}
{{- else -}}
{{- required (printf "%s.serviceAccount.name is required when serviceAccount.create is false" .name) .c.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Environment of every component: SEAM_CONFIG (the file it reads, also for `kubectl exec … seam dlq list`), the
Secret references (the global `secretEnv`, which every component gets, then the component's own `secretEnv`, which
only its pods get: a secret only one role needs, such as the deliver role's webhook secret, goes there), then the
plain variables. Everything else is in the ConfigMap's seam.yml; a SEAM_* variable set here overrides one field of
it (docs/config-reference.md, "Environment overrides").
*/}}
{{- define "seam.secretEnv" -}}
{{- range .list }}
- name: {{ required (printf "%s[].name is required" $.where) .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s[].secretName is required" $.where) .secretName }}
      key: {{ required (printf "%s[].key is required" $.where) .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{- define "seam.env" -}}
{{- $root := .root -}}
- name: SEAM_CONFIG
  value: {{ printf "/etc/seam/%s" (default "seam.yml" .configKey) }}
{{- include "seam.secretEnv" (dict "list" $root.Values.secretEnv "where" "secretEnv") }}
{{- include "seam.secretEnv" (dict "list" .c.secretEnv "where" (printf "%s.secretEnv" .name)) }}
{{- with $root.Values.env }}
{{ toYaml . }}
{{- end }}
{{- with .c.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The pod template of one component: (dict "root" $ "name" "normalize" "c" $component "args" (list ...)
"configKey" "collect.yml" (optional) "extraVolumes" list "extraMounts" list "ports" list "envExtra" list
"job" true (optional: a run-to-completion command such as `seam setup opensearch`, which serves no metrics: no
ports, no probes, restartPolicy Never)).
*/}}
{{- define "seam.podTemplate" -}}
{{- $root := .root -}}
{{- $c := .c -}}
metadata:
  labels:
    {{- include "seam.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: seam
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- with $c.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "seam.serviceAccountName" . }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- if .job }}
  # SIGTERM stops the run; the next one starts over (each run is idempotent).
  terminationGracePeriodSeconds: 60
  # A failed run is a new pod (the Job's backoffLimit), so its logs stay readable.
  restartPolicy: Never
  {{- else }}
  # SIGTERM drains: in-flight batches are finished and committed before exit.
  terminationGracePeriodSeconds: 60
  {{- end }}
  containers:
    - name: seam
      image: {{ include "seam.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command: ["node", "bin/seam.mjs"]
      args:
        {{- toYaml (concat .args $c.extraArgs) | nindent 8 }}
      env:
        {{- include "seam.env" . | nindent 8 }}
        {{- with .envExtra }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- if not .job }}
      ports:
        - name: metrics
          containerPort: {{ $root.Values.metrics.port }}
          protocol: TCP
        {{- with .ports }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet: { path: /healthz, port: metrics }
        {{- toYaml $root.Values.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet: { path: /healthz, port: metrics }
        {{- toYaml $root.Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet: { path: /readyz, port: metrics }
        {{- toYaml $root.Values.probes.readiness | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml $c.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - { name: config, mountPath: /etc/seam/seam.yml, subPath: seam.yml, readOnly: true }
        {{- with .configKey }}
        - { name: config, mountPath: {{ printf "/etc/seam/%s" . }}, subPath: {{ . }}, readOnly: true }
        {{- end }}
        - { name: tmp, mountPath: /tmp }
        {{- if $root.Values.awsIpRanges.configMap }}
        - { name: aws-ip-ranges, mountPath: /etc/seam/aws-ip-ranges, readOnly: true }
        {{- end }}
        {{- if $root.Values.identitySeeds.files }}
        - { name: identity-seeds, mountPath: /etc/seam/identity-seeds, readOnly: true }
        {{- end }}
        {{- range (concat $root.Values.secretFiles (default (list) $c.secretFiles)) }}
        - { name: {{ printf "secret-%s" .name }}, mountPath: {{ .mountPath }}, readOnly: true }
        {{- end }}
        {{- with .extraMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "seam.fullname" $root }}-config
    - name: tmp
      emptyDir: { sizeLimit: 256Mi }
    {{- with $root.Values.awsIpRanges }}{{ if .configMap }}
    - name: aws-ip-ranges
      configMap:
        name: {{ .configMap }}
        items: [{ key: {{ .key | quote }}, path: {{ .key | quote }} }]
    {{- end }}{{ end }}
    {{- with $root.Values.identitySeeds }}{{ if .files }}
    - name: identity-seeds
      {{- if .configMap }}
      configMap:
        name: {{ .configMap }}
      {{- else }}
      secret:
        secretName: {{ .secret }}
        defaultMode: 288   # 0440
      {{- end }}
        items:
          {{- range .files }}
          - { key: {{ .key | quote }}, path: {{ .key | quote }} }
          {{- end }}
    {{- end }}{{ end }}
    {{- range (concat $root.Values.secretFiles (default (list) $c.secretFiles)) }}
    - name: {{ printf "secret-%s" .name }}
      secret:
        secretName: {{ .secretName }}
        defaultMode: 288   # 0440
    {{- end }}
    {{- with .extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with (default $root.Values.nodeSelector $c.nodeSelector) }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (default $root.Values.tolerations $c.tolerations) }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (default $root.Values.affinity $c.affinity) }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* A PodDisruptionBudget for one component: (dict "root" $ "name" "normalize" "c" $component). */}}
{{- define "seam.pdb" -}}
{{- if and .c.pdb.enabled (gt (int .c.replicas) 1) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "seam.fullname" .root }}-{{ .name }}
  labels:
    {{- include "seam.labels" . | nindent 4 }}
spec:
  {{- if hasKey .c.pdb "minAvailable" }}
  minAvailable: {{ .c.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .c.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "seam.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* The metrics Service of one component (what the ServiceMonitor selects). */}}
{{- define "seam.metricsService" -}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "seam.fullname" .root }}-{{ .name }}-metrics
  labels:
    {{- include "seam.labels" . | nindent 4 }}
    seam.io/metrics: "true"
spec:
  {{- if .headless }}
  clusterIP: None
  publishNotReadyAddresses: true
  {{- end }}
  selector:
    {{- include "seam.selectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ .root.Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
{{- end -}}

{{/* A component's ServiceAccount. */}}
{{- define "seam.serviceAccount" -}}
{{- if .c.serviceAccount.create }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "seam.serviceAccountName" . }}
  labels:
    {{- include "seam.labels" . | nindent 4 }}
  {{- $ann := merge (dict) (default (dict) .c.serviceAccount.annotations) (default (dict) .root.Values.serviceAccounts.annotations) }}
  {{- if .c.serviceAccount.roleArn }}
  {{- $_ := set $ann "eks.amazonaws.com/role-arn" .c.serviceAccount.roleArn }}
  {{- end }}
  {{- with $ann }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# Seam calls no Kubernetes API: no token is mounted (IRSA's web-identity token is projected separately).
automountServiceAccountToken: false
{{- end }}
{{- end -}}
