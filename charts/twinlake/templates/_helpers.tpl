{{/*
Every name, label, image reference and shared container fragment of the chart comes from here.
Component names are short and fixed (kafka, minio, versitygw, ...): the project's settings point at them
(TWINLAKE_KAFKA_BOOTSTRAP=kafka:9092, TWINLAKE_S3_ENDPOINT=http://minio:9000), and one release per namespace.
*/}}

{{- define "twinlake.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "twinlake.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every resource; call with (dict "ctx" $ "component" "kafka") */}}
{{- define "twinlake.labels" -}}
helm.sh/chart: {{ include "twinlake.chart" .ctx }}
{{ include "twinlake.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: twinlake
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "twinlake.selectorLabels" -}}
app.kubernetes.io/name: {{ include "twinlake.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod labels that the NetworkPolicies of Kafka and the store admit */}}
{{- define "twinlake.kafkaClientLabel" -}}
twinlake.dev/kafka-client: "true"
{{- end -}}
{{- define "twinlake.storeClientLabel" -}}
twinlake.dev/store-client: "true"
{{- end -}}

{{/* ---------- names ---------- */}}
{{- define "twinlake.kafka.name" -}}kafka{{- end -}}
{{/*
Jobs are immutable, so a Job's name ends with a hash of its rendered spec (call with the spec): an upgrade that
changes nothing keeps the Job as it is, and one that changes the Job makes a new one, which runs again.
*/}}
{{- define "twinlake.kafkaTopics.name" -}}kafka-topics-{{ . | sha256sum | trunc 10 }}{{- end -}}
{{- define "twinlake.store.name" -}}
{{- if not (has .Values.store.kind (list "minio" "versitygw")) -}}
{{- fail (printf "store.kind must be minio or versitygw, not %q" .Values.store.kind) -}}
{{- end -}}
{{- .Values.store.kind -}}
{{- end -}}
{{- define "twinlake.storeInit.name" -}}store-init-{{ . | sha256sum | trunc 10 }}{{- end -}}
{{- define "twinlake.pandas.name" -}}pandas-worker{{- end -}}
{{- define "twinlake.spark.name" -}}spark-engine{{- end -}}
{{- define "twinlake.dashboard.name" -}}dashboard{{- end -}}
{{- define "twinlake.spark.serviceAccount" -}}spark-engine{{- end -}}
{{- define "twinlake.benchmark.name" -}}benchmark{{- end -}}
{{- define "twinlake.retention.name" -}}retention{{- end -}}
{{- define "twinlake.networkPolicy.name" -}}{{ .component }}-ingress{{- end -}}
{{/* Credentials Secrets, one per store role (see templates/store/secrets.yaml) */}}
{{- define "twinlake.secret.name" -}}store-{{ . }}-credentials{{- end -}}
{{/* The store roles with an account of their own (twinlake/access.py DATA_ROLES); `root` is the store's admin */}}
{{- define "twinlake.dataRoles" -}}uploader engines dashboard benchmark{{- end -}}

{{/* ---------- endpoints ---------- */}}
{{- define "twinlake.kafka.bootstrap" -}}
{{ include "twinlake.kafka.name" . }}:{{ .Values.kafka.port }}
{{- end -}}
{{- define "twinlake.store.port" -}}
{{- if eq (include "twinlake.store.name" .) "minio" -}}{{ .Values.store.minio.port }}{{- else -}}{{ .Values.store.versitygw.port }}{{- end -}}
{{- end -}}
{{- define "twinlake.store.endpoint" -}}
http://{{ include "twinlake.store.name" . }}:{{ include "twinlake.store.port" . }}
{{- end -}}
{{- define "twinlake.spark.checkpoint" -}}
{{- default (printf "s3a://%s/_checkpoints/spark-engine/" .Values.buckets.gold) .Values.spark.checkpoint -}}
{{- end -}}

{{/* ---------- images ---------- */}}
{{- define "twinlake.image.tag" -}}
{{- $tag := required "image.tag is required: `make up` sets it to the git short sha" .Values.image.tag -}}
{{- if eq $tag "latest" -}}{{- fail "image.tag must not be latest: use a unique tag (make up uses the git short sha)" -}}{{- end -}}
{{- $tag -}}
{{- end -}}
{{- define "twinlake.image.python" -}}
{{ .Values.image.pythonRepository }}:{{ include "twinlake.image.tag" . }}
{{- end -}}
{{- define "twinlake.image.spark" -}}
{{ .Values.image.sparkRepository }}:{{ include "twinlake.image.tag" . }}
{{- end -}}
{{- define "twinlake.image.minio" -}}
{{- $m := .Values.store.minio -}}
{{ $m.repository }}:{{ $m.tag }}{{ with $m.digest }}@{{ . }}{{ end }}
{{- end -}}

{{/* ---------- security ---------- */}}
{{/* Pod securityContext; call with the uid */}}
{{- define "twinlake.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container securityContext; call with (dict "readOnlyRoot" true) */}}
{{- define "twinlake.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .readOnlyRoot }}
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* ---------- environment ---------- */}}
{{/*
TWINLAKE_* settings of an entrypoint (twinlake/settings.py): endpoints, topics, buckets, and the store credentials
of a role from its Secret. Call with (dict "ctx" $ "role" "engines").
*/}}
{{- define "twinlake.settingsEnv" -}}
{{- $v := .ctx.Values -}}
- name: TWINLAKE_S3_ENDPOINT
  value: {{ include "twinlake.store.endpoint" .ctx | quote }}
- name: TWINLAKE_S3_REGION
  value: {{ $v.store.region | quote }}
- name: TWINLAKE_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "twinlake.secret.name" .role }}
      key: accessKey
- name: TWINLAKE_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "twinlake.secret.name" .role }}
      key: secretKey
- name: TWINLAKE_KAFKA_BOOTSTRAP
  value: {{ include "twinlake.kafka.bootstrap" .ctx | quote }}
- name: TWINLAKE_EVENTS_TOPIC
  value: {{ $v.topics.events | quote }}
- name: TWINLAKE_DEAD_LETTER_TOPIC
  value: {{ $v.topics.deadLetter | quote }}
- name: TWINLAKE_LANDING_BUCKET
  value: {{ $v.buckets.landing | quote }}
- name: TWINLAKE_BRONZE_BUCKET
  value: {{ $v.buckets.bronze | quote }}
- name: TWINLAKE_SILVER_BUCKET
  value: {{ $v.buckets.silver | quote }}
- name: TWINLAKE_GOLD_BUCKET
  value: {{ $v.buckets.gold | quote }}
{{- end -}}

{{/*
Init container that waits until the events topic exists (created by the kafka-topics Job): the store refuses or
delays notifications and the engines crash-loop without it. Uses the Kafka image's own CLI.
*/}}
{{- define "twinlake.waitForTopics" -}}
- name: wait-for-topics
  image: {{ .Values.kafka.image }}
  imagePullPolicy: {{ .Values.kafka.pullPolicy }}
  command:
    - /bin/bash
    - -c
    - |
      until /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --describe --topic "$TOPIC" >/dev/null 2>&1; do
        echo "waiting for topic $TOPIC on $BOOTSTRAP"; sleep 3
      done
  env:
    - name: BOOTSTRAP
      value: {{ include "twinlake.kafka.bootstrap" . | quote }}
    - name: TOPIC
      value: {{ .Values.topics.events | quote }}
    - name: LOG_DIR
      value: /tmp/kafka-logs
    - name: KAFKA_HEAP_OPTS
      value: "-Xmx128m"
  securityContext:
    {{- include "twinlake.containerSecurityContext" (dict "readOnlyRoot" true) | nindent 4 }}
  resources:
    requests: {cpu: 50m, memory: 192Mi}
    limits: {memory: 256Mi}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}
