{{/* Names: <release>-acapy-bridge (or the release name when it already says acapy-bridge). */}}
{{- define "acapy-bridge.fullname" -}}
{{- if contains "acapy-bridge" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-acapy-bridge" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "acapy-bridge.selectorLabels" -}}
app.kubernetes.io/name: acapy-bridge
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "acapy-bridge.labels" -}}
{{ include "acapy-bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The shape's check: a typo would otherwise render no bridge at all. */}}
{{- define "acapy-bridge.checkShape" -}}
{{- if not (has .Values.shape (list "separate" "combined")) -}}
{{- fail (printf "shape must be separate or combined, not %q" .Values.shape) -}}
{{- end -}}
{{- end -}}

{{/* ACAPY_BRIDGE_* variables every bridge container shares (the image already binds DIDComm and ops to 0.0.0.0). */}}
{{- define "acapy-bridge.commonEnv" -}}
- name: ACAPY_BRIDGE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.urlSecret.name }}
      key: {{ .Values.redis.urlSecret.urlKey }}
- name: ACAPY_BRIDGE_REDIS_CLUSTER
  value: {{ .Values.redis.cluster | quote }}
- name: ACAPY_BRIDGE_PREFIX
  value: {{ .Values.bridge.prefix | quote }}
- name: ACAPY_BRIDGE_INBOUND_PARTITIONS
  value: {{ .Values.bridge.partitions.inbound | quote }}
- name: ACAPY_BRIDGE_OUTBOUND_PARTITIONS
  value: {{ .Values.bridge.partitions.outbound | quote }}
- name: ACAPY_BRIDGE_EVENT_PARTITIONS
  value: {{ .Values.bridge.partitions.events | quote }}
- name: ACAPY_BRIDGE_ADMIN_PARTITIONS
  value: {{ .Values.bridge.partitions.admin | quote }}
- name: ACAPY_BRIDGE_LOG_LEVEL
  value: {{ .Values.bridge.logLevel | quote }}
- name: ACAPY_BRIDGE_HTTP_HOST
  value: "0.0.0.0"
- name: ACAPY_BRIDGE_HTTP_PORT
  value: {{ .Values.ports.didcomm | quote }}
- name: ACAPY_BRIDGE_OPS_HOST
  value: "0.0.0.0"
- name: ACAPY_BRIDGE_OPS_PORT
  value: {{ .Values.ports.ops | quote }}
- name: ACAPY_BRIDGE_GRPC_PORT
  value: {{ .Values.ports.control | quote }}
{{- if .Values.bridge.controlToken.secretName }}
- name: ACAPY_BRIDGE_GRPC_HOST
  value: "0.0.0.0"
- name: ACAPY_BRIDGE_CONTROL_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.bridge.controlToken.secretName }}
      key: {{ .Values.bridge.controlToken.key }}
{{- else }}
- name: ACAPY_BRIDGE_GRPC_HOST
  value: "127.0.0.1"
{{- end }}
{{- with .Values.bridge.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
One bridge Deployment: dict "root" $ "component" relay|deliverer|all "spec" <its values> "didcomm" <listens for DIDComm>.
Liveness never depends on Redis (a Redis outage must not restart every bridge); readiness does. The ops
listener opens once Redis first answered, so the startup probe waits for that before liveness counts.
*/}}
{{- define "acapy-bridge.bridgeDeployment" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "acapy-bridge.fullname" $root }}-{{ .component }}
  labels:
    {{- include "acapy-bridge.labels" . | nindent 4 }}
spec:
  replicas: {{ .spec.replicas }}
  selector:
    matchLabels:
      {{- include "acapy-bridge.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "acapy-bridge.selectorLabels" . | nindent 8 }}
        acapy-bridge/ops: "true"
    spec:
      {{- with $values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
        {{- toYaml $values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: "{{ $values.image.bridge.repository }}:{{ $values.image.bridge.tag }}"
          imagePullPolicy: {{ $values.image.bridge.pullPolicy }}
          args: [{{ .component | quote }}]
          env:
            {{- include "acapy-bridge.commonEnv" $root | nindent 12 }}
            {{- with .spec.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            {{- if .didcomm }}
            - name: didcomm
              containerPort: {{ $values.ports.didcomm }}
              protocol: TCP
            {{- end }}
            - name: ops
              containerPort: {{ $values.ports.ops }}
              protocol: TCP
          startupProbe:
            httpGet:
              path: /health/live
              port: ops
            periodSeconds: 5
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: /health/live
              port: ops
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /health/ready
              port: ops
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          lifecycle:
            preStop:
              # Endpoints are removed asynchronously: keep serving a moment so the load balancer stops
              # sending new connections before SIGTERM closes the listener.
              exec:
                command: ["sleep", "5"]
          resources:
            {{- toYaml .spec.resources | nindent 12 }}
          securityContext:
            {{- toYaml $values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A PodDisruptionBudget: dict "root" $ "component" <name> "spec" <values with .pdb>. */}}
{{- define "acapy-bridge.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "acapy-bridge.fullname" .root }}-{{ .component }}
  labels:
    {{- include "acapy-bridge.labels" . | nindent 4 }}
spec:
  {{- toYaml .spec.pdb | nindent 2 }}
  selector:
    matchLabels:
      {{- include "acapy-bridge.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* The Service load balancers send DIDComm to: dict "root" $ "component" <name> "spec" <values with .service>. */}}
{{- define "acapy-bridge.didcommService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "acapy-bridge.fullname" .root }}-{{ .component }}
  labels:
    {{- include "acapy-bridge.labels" . | nindent 4 }}
  {{- with .spec.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .spec.service.type }}
  selector:
    {{- include "acapy-bridge.selectorLabels" . | nindent 4 }}
  ports:
    - name: didcomm
      port: {{ .spec.service.port }}
      targetPort: didcomm
      protocol: TCP
{{- end -}}
